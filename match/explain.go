package match

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"safetynet/store"
)

// Explanation says how a record was linked to its person: the method, and
// for links not made by an exact ID the probability and the weight each
// comparison added (a waterfall a person can follow).
type Explanation struct {
	Method  string
	Score   float64 // match probability; 1 for ID links
	Problem string  // what was wrong with the ID, or who decided
	Terms   []Term
}

// Explain returns the explanation of a record's link, or sql.ErrNoRows.
func Explain(ctx context.Context, db *store.DB, source, recordKey string) (*Explanation, error) {
	var e Explanation
	var score sql.NullFloat64
	var problem, weights sql.NullString
	err := db.QueryRowContext(ctx, `SELECT method, score, problem, weights FROM match_links WHERE source = ? AND record_key = ?`, source, recordKey).
		Scan(&e.Method, &score, &problem, &weights)
	if err != nil {
		return nil, err
	}
	e.Score, e.Problem = 1, problem.String
	if score.Valid {
		e.Score = score.Float64
	}
	if weights.Valid {
		if err := json.Unmarshal([]byte(weights.String), &e.Terms); err != nil {
			return nil, fmt.Errorf("match: weights of %s:%s: %w", source, recordKey, err)
		}
	}
	return &e, nil
}

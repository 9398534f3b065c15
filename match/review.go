package match

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"safetynet/store"
)

// Side is one record of a pair under review.
type Side struct {
	Source, Key string
	Name, Sex   string
	Birth       string
	IDNumber    string // masked
	Household   string
	Region      string // the household's region code (registry side)
}

// ReviewItem is a pair the model was unsure of: a department record and
// the registry person it most resembles, with each comparison's weight.
type ReviewItem struct {
	Record, Candidate Side
	Score             float64
	Terms             []Term
	// ContradictsID: the model did not send the pair; the record's exact
	// ID is the candidate's, but its name or sex is someone else's. Reason
	// says so in a sentence.
	ContradictsID bool
	Reason        string
}

const reviewQueue = `SELECT l.source, l.record_key, coalesce(s.name, ''), coalesce(s.sex, ''), coalesce(CAST(s.birth_date AS VARCHAR), ''),
	coalesce(s.id_number, ''), l.candidate, coalesce(p.name, ''), coalesce(p.sex, ''), coalesce(CAST(p.birth_date AS VARCHAR), ''),
	coalesce(p.household_id, ''), coalesce(p.region_code, ''), coalesce(l.score, 0), coalesce(l.weights, '[]'),
	CASE WHEN l.weights IS NULL THEN coalesce(l.problem, '') ELSE '' END
	FROM match_links l JOIN (%s) s ON s.source = l.source AND s.record_key = l.record_key
	LEFT JOIN (SELECT * FROM registry_persons WHERE id_number IN (SELECT candidate FROM match_links WHERE method = 'review')
		QUALIFY row_number() OVER (PARTITION BY id_number ORDER BY household_id) = 1) p ON p.id_number = l.candidate
	WHERE l.method = 'review' %s ORDER BY l.score DESC, l.source, l.record_key`

// ReviewFilter selects pairs under review; zero fields select all.
type ReviewFilter struct {
	Source, Key  string // one source, one record
	RegionPrefix string // the registry person lives here
	Limit        int
}

// ReviewQueue lists the pairs waiting for a decision, likeliest first.
func ReviewQueue(ctx context.Context, db *store.DB, f ReviewFilter) ([]ReviewItem, error) {
	where, args := "", []any{}
	if f.Source != "" {
		where, args = where+" AND l.source = ?", append(args, f.Source)
	}
	if f.Key != "" {
		where, args = where+" AND l.record_key = ?", append(args, f.Key)
	}
	if f.RegionPrefix != "" {
		where, args = where+" AND starts_with(coalesce(p.region_code, ''), ?)", append(args, f.RegionPrefix)
	}
	q := fmt.Sprintf(reviewQueue, unionSources("record_key, id_number, name, sex, birth_date"), where)
	if f.Limit > 0 {
		q += fmt.Sprintf(" LIMIT %d", f.Limit)
	}
	rows, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("match: review queue: %w", err)
	}
	defer rows.Close()
	var out []ReviewItem
	for rows.Next() {
		var it ReviewItem
		var weights string
		r, c := &it.Record, &it.Candidate
		if err := rows.Scan(&r.Source, &r.Key, &r.Name, &r.Sex, &r.Birth, &r.IDNumber, &c.IDNumber, &c.Name, &c.Sex, &c.Birth,
			&c.Household, &c.Region, &it.Score, &weights, &it.Reason); err != nil {
			return nil, err
		}
		r.IDNumber, c.IDNumber = Mask(Clean(r.IDNumber)), Mask(c.IDNumber)
		c.Source, c.Key = "registry", c.Household
		it.ContradictsID = it.Reason != ""
		if err := json.Unmarshal([]byte(weights), &it.Terms); err != nil {
			return nil, fmt.Errorf("match: weights of %s:%s: %w", r.Source, r.Key, err)
		}
		out = append(out, it)
	}
	return out, rows.Err()
}

// ErrNotInReview is Decide on a record that has no pair waiting.
var ErrNotInReview = errors.New("no pair of this record is waiting for review")

// Decide records a person's decision on a record's pair under review:
// link or reject. It is applied at once and again on every later run.
func Decide(ctx context.Context, db *store.DB, source, key string, link bool, by, note string) error {
	if strings.TrimSpace(by) == "" {
		return errors.New("match: a decision needs the name of who made it")
	}
	return db.Tx(ctx, func(conn *sql.Conn) error {
		var candidate string
		var household sql.NullString
		err := conn.QueryRowContext(ctx, `SELECT l.candidate, (SELECT min(household_id) FROM registry_persons p WHERE p.id_number = l.candidate AND p.household_status = 'active')
			FROM match_links l WHERE l.source = ? AND l.record_key = ? AND l.method = 'review'`, source, key).Scan(&candidate, &household)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("match: %s:%s: %w", source, key, ErrNotInReview)
		}
		if err != nil {
			return err
		}
		decision := "reject"
		if link {
			decision = "link"
		}
		now := time.Now()
		if _, err := conn.ExecContext(ctx, `INSERT INTO match_decisions VALUES (?, ?, ?, ?, ?, ?, ?)`, source, key, candidate, decision, by, now, nullIf(note)); err != nil {
			return err
		}
		return applyDecision(ctx, conn, source, key, candidate, household, decision, by, now)
	})
}

func applyDecision(ctx context.Context, conn *sql.Conn, source, key, candidate string, household sql.NullString, decision, by string, at time.Time) error {
	var err error
	if decision == "link" {
		_, err = conn.ExecContext(ctx, `UPDATE match_links SET method = 'reviewed', id_number = ?, household_id = ?, problem = ?, linked_at = ?
			WHERE source = ? AND record_key = ?`, candidate, household, "linked by "+by, at, source, key)
	} else {
		_, err = conn.ExecContext(ctx, `UPDATE match_links SET method = 'unlinked', id_number = NULL, household_id = NULL, problem = ?, linked_at = ?
			WHERE source = ? AND record_key = ?`, "not "+Mask(candidate)+", decided by "+by, at, source, key)
	}
	return err
}

// applyDecisions re-applies every decision still relevant: the latest per
// record and candidate, where the run again proposes that candidate.
func applyDecisions(ctx context.Context, conn *sql.Conn, at time.Time) error {
	rows, err := conn.QueryContext(ctx, `WITH d AS (
			SELECT d.* FROM match_decisions d JOIN match_links l ON l.source = d.source AND l.record_key = d.record_key AND l.candidate = d.candidate
			WHERE l.method IN ('review', 'probabilistic')
			QUALIFY row_number() OVER (PARTITION BY d.source, d.record_key, d.candidate ORDER BY d.decided_at DESC) = 1),
		h AS (SELECT id_number, min(household_id) AS household_id FROM registry_persons
			WHERE household_status = 'active' AND id_number IN (SELECT candidate FROM d) GROUP BY id_number)
		SELECT d.source, d.record_key, d.candidate, d.decision, d.decided_by, h.household_id FROM d LEFT JOIN h ON h.id_number = d.candidate`)
	if err != nil {
		return fmt.Errorf("match: decisions: %w", err)
	}
	type dec struct {
		source, key, candidate, decision, by string
		household                            sql.NullString
	}
	var ds []dec
	for rows.Next() {
		var d dec
		if err := rows.Scan(&d.source, &d.key, &d.candidate, &d.decision, &d.by, &d.household); err != nil {
			rows.Close()
			return err
		}
		ds = append(ds, d)
	}
	rows.Close()
	for _, d := range ds {
		if err := applyDecision(ctx, conn, d.source, d.key, d.candidate, d.household, d.decision, d.by, at); err != nil {
			return err
		}
	}
	return nil
}

package match

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// kept is a trained model as stored: the levels of each comparison (so a
// model of other comparisons is not applied), m and the prior.
type kept struct {
	Levels map[string][]string  `json:"levels"`
	M      map[string][]float64 `json:"m"`
	Lambda float64              `json:"lambda"`
}

// loadModel returns the stage's last trained model, or nil.
func loadModel(ctx context.Context, conn *sql.Conn, stage string) (*kept, error) {
	var text string
	err := conn.QueryRowContext(ctx, `SELECT model FROM match_model WHERE stage = ?`, stage).Scan(&text)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("match: the kept %s model: %w", stage, err)
	}
	var k kept
	if err := json.Unmarshal([]byte(text), &k); err != nil {
		return nil, fmt.Errorf("match: the kept %s model: %w", stage, err)
	}
	return &k, nil
}

// saveModel keeps a model trained on pairs candidate pairs as the stage's.
func saveModel(ctx context.Context, conn *sql.Conn, stage string, m *Model, pairs int, at time.Time) error {
	k := kept{Levels: map[string][]string{}, M: map[string][]float64{}, Lambda: m.Lambda}
	for c, cmp := range m.Comparisons {
		k.Levels[cmp.Name], k.M[cmp.Name] = cmp.Levels, m.M[c]
	}
	b, err := json.Marshal(k)
	if err != nil {
		return err
	}
	if _, err := conn.ExecContext(ctx, `DELETE FROM match_model WHERE stage = ?`, stage); err != nil {
		return err
	}
	_, err = conn.ExecContext(ctx, `INSERT INTO match_model (stage, trained_at, pairs, model) VALUES (?, ?, ?, ?)`, stage, at, pairs, string(b))
	return err
}

// use starts m from a kept model: each comparison whose levels are the
// same takes the kept m, and the prior is the kept one.
func (k *kept) use(m *Model) {
	if k == nil {
		return
	}
	for c, cmp := range m.Comparisons {
		if levels, ok := k.Levels[cmp.Name]; ok && equalStrings(levels, cmp.Levels) && len(k.M[cmp.Name]) == len(m.M[c]) {
			copy(m.M[c], k.M[cmp.Name])
		}
	}
	if k.Lambda > 0 && k.Lambda < 1 {
		m.Lambda, m.keptPrior = k.Lambda, true
	}
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

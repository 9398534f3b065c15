package analytics

import (
	"context"
	"database/sql"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"safetynet/store"
)

//go:embed schema/*.sql
var schemaFS embed.FS

// Migrations are analytics' tables: the saved cohorts.
func Migrations() store.MigrationSet { return store.Migrations("analytics", schemaFS, "schema") }

// Cohort is one version of a saved cohort.
type Cohort struct {
	ID         int64
	Version    int
	Name       string
	Definition Definition
	CreatedBy  string
	CreatedAt  time.Time
}

// ErrNoCohort is a cohort or version that does not exist.
var ErrNoCohort = errors.New("analytics: no such cohort")

// SaveCohort stores a definition as a new cohort (id 0) or as the next
// version of cohort id; the earlier versions stay as they were.
func SaveCohort(ctx context.Context, db *store.DB, id int64, name string, d Definition, by string, now time.Time) (*Cohort, error) {
	name = strings.TrimSpace(name)
	if name == "" || len([]rune(name)) > 100 {
		return nil, errors.New("analytics: a cohort needs a name of 1 to 100 characters")
	}
	if err := d.Check(); err != nil {
		return nil, err
	}
	raw, err := json.Marshal(d)
	if err != nil {
		return nil, err
	}
	c := &Cohort{ID: id, Name: name, Definition: d, CreatedBy: by, CreatedAt: now}
	err = db.Tx(ctx, func(conn *sql.Conn) error {
		if id == 0 {
			if err := conn.QueryRowContext(ctx, `SELECT nextval('analytics_cohort_seq')`).Scan(&c.ID); err != nil {
				return err
			}
		}
		if err := conn.QueryRowContext(ctx, `SELECT coalesce(max(version), 0) + 1 FROM analytics_cohorts WHERE cohort_id = ?`, c.ID).Scan(&c.Version); err != nil {
			return err
		}
		if id != 0 && c.Version == 1 {
			return fmt.Errorf("cohort %d: %w", id, ErrNoCohort)
		}
		_, err := conn.ExecContext(ctx, `INSERT INTO analytics_cohorts (cohort_id, version, name, definition, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
			c.ID, c.Version, c.Name, string(raw), c.CreatedBy, c.CreatedAt)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("analytics: save cohort: %w", err)
	}
	return c, nil
}

// Cohorts are the latest version of every saved cohort, newest first.
func Cohorts(ctx context.Context, db *store.DB) ([]Cohort, error) {
	return queryCohorts(ctx, db, `SELECT cohort_id, version, name, definition, created_by, created_at FROM analytics_cohorts
		QUALIFY version = max(version) OVER (PARTITION BY cohort_id) ORDER BY created_at DESC, cohort_id DESC`)
}

// CohortVersions are every version of one cohort, the latest first.
func CohortVersions(ctx context.Context, db *store.DB, id int64) ([]Cohort, error) {
	out, err := queryCohorts(ctx, db, `SELECT cohort_id, version, name, definition, created_by, created_at FROM analytics_cohorts
		WHERE cohort_id = ? ORDER BY version DESC`, id)
	if err == nil && len(out) == 0 {
		err = fmt.Errorf("cohort %d: %w", id, ErrNoCohort)
	}
	return out, err
}

// GetCohort is one version of a cohort (version 0: the latest).
func GetCohort(ctx context.Context, db *store.DB, id int64, version int) (*Cohort, error) {
	out, err := queryCohorts(ctx, db, `SELECT cohort_id, version, name, definition, created_by, created_at FROM analytics_cohorts
		WHERE cohort_id = ? AND (version = ? OR ? = 0) ORDER BY version DESC LIMIT 1`, id, version, version)
	if err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("cohort %d version %d: %w", id, version, ErrNoCohort)
	}
	return &out[0], nil
}

func queryCohorts(ctx context.Context, db *store.DB, q string, args ...any) ([]Cohort, error) {
	rows, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("analytics: cohorts: %w", err)
	}
	defer rows.Close()
	var out []Cohort
	for rows.Next() {
		var c Cohort
		var raw string
		if err := rows.Scan(&c.ID, &c.Version, &c.Name, &raw, &c.CreatedBy, &c.CreatedAt); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(raw), &c.Definition); err != nil {
			return nil, fmt.Errorf("analytics: cohort %d v%d: %w", c.ID, c.Version, err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

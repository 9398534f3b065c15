package jobs

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"safetynet/store"
)

// RunInfo is one run of the chain as job_runs has it.
type RunInfo struct {
	ID                   int64
	Job, Trigger, Status string // status: running, ok, partial, failed
	Stage                string // where a running run is
	AsOf                 string
	Started              time.Time
	Finished             *time.Time
	Files                int
	Stored, Quarantined  int64
	Raised               int
	Error                string
}

// Runs lists the newest runs first.
func Runs(ctx context.Context, db *store.DB, limit int) ([]RunInfo, error) {
	rows, err := db.QueryContext(ctx, `SELECT run_id, job, trigger, status, coalesce(stage, ''), strftime(as_of, '%Y-%m-%d'), started_at, finished_at,
		coalesce(files, 0), coalesce(rows_stored, 0), coalesce(rows_quarantined, 0), coalesce(alerts_raised, 0), coalesce(error, '')
		FROM job_runs ORDER BY run_id DESC LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("jobs: runs: %w", err)
	}
	defer rows.Close()
	var out []RunInfo
	for rows.Next() {
		var r RunInfo
		var fin sql.NullTime
		if err := rows.Scan(&r.ID, &r.Job, &r.Trigger, &r.Status, &r.Stage, &r.AsOf, &r.Started, &fin,
			&r.Files, &r.Stored, &r.Quarantined, &r.Raised, &r.Error); err != nil {
			return nil, err
		}
		if fin.Valid {
			r.Finished = &fin.Time
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

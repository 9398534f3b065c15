package ingest

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"safetynet/i18n"
	"safetynet/store"
)

// SourceState is how a source's deliveries stand: what arrived last, when
// it last got through, what was refused, and whether it has gone quiet
// for longer than its schedule allows.
type SourceState struct {
	Source       string
	LastFile     string    // the newest delivery's file (or pull)
	LastDelivery time.Time // when it was stored; zero if none ever was
	LastSuccess  time.Time // the newest stored delivery or complete pull
	Batches      int
	Quarantined  int // rows waiting for the department to fix them
	Kept         int // values of stored rows left unknown, listed with them
	Rejected     int // files refused whole
	PullError    string
	Drift        []Drift // column changes in the newest delivery
	StaleAfter   time.Duration
	Stale        bool // nothing got through for longer than StaleAfter
}

// Rejection is a file refused whole, and why.
type Rejection struct {
	Source, File, MovedTo, Reason string // Reason in English
	Why                           i18n.Message
	At                            time.Time
}

// SourceStates says how each of the sources stands at now; staleAfter
// gives each source's allowance (0: never stale).
func SourceStates(ctx context.Context, db *store.DB, sources []string, staleAfter map[string]time.Duration, now time.Time) ([]SourceState, error) {
	out := make([]SourceState, 0, len(sources))
	for _, s := range sources {
		st := SourceState{Source: s, StaleAfter: staleAfter[s]}
		var file sql.NullString
		var last, success sql.NullTime
		var batch sql.NullInt64
		err := db.QueryRowContext(ctx, `SELECT
			(SELECT parse_filename(file_name) FROM ingest_batches WHERE source = $1 ORDER BY batch_id DESC LIMIT 1),
			(SELECT max(finished_at) FROM ingest_batches WHERE source = $1),
			(SELECT max(t) FROM (SELECT finished_at AS t FROM ingest_batches WHERE source = $1
			                     UNION ALL SELECT last_success FROM ingest_pulls WHERE source = $1)),
			(SELECT count(*) FROM ingest_batches WHERE source = $1),
			(SELECT count(*) FILTER (NOT coalesce(kept, false)) FROM ingest_quarantine WHERE source = $1 AND released_by IS NULL),
			(SELECT count(*) FILTER (kept) FROM ingest_quarantine WHERE source = $1 AND released_by IS NULL),
			(SELECT count(*) FROM ingest_rejections WHERE source = $1),
			coalesce((SELECT last_error FROM ingest_pulls WHERE source = $1), ''),
			(SELECT max(batch_id) FROM ingest_batches WHERE source = $1)`, s).
			Scan(&file, &last, &success, &st.Batches, &st.Quarantined, &st.Kept, &st.Rejected, &st.PullError, &batch)
		if err != nil && err != sql.ErrNoRows {
			return nil, fmt.Errorf("ingest: state of %s: %w", s, err)
		}
		st.LastFile, st.LastDelivery, st.LastSuccess = file.String, last.Time, success.Time
		if batch.Valid {
			if st.Drift, err = batchDrift(ctx, db, batch.Int64); err != nil {
				return nil, err
			}
		}
		st.Stale = stale(st.LastSuccess, st.StaleAfter, now)
		out = append(out, st)
	}
	return out, nil
}

// stale: nothing got through for longer than the allowance (0: never
// stale), or nothing ever did.
func stale(lastSuccess time.Time, allowance time.Duration, now time.Time) bool {
	return allowance > 0 && (lastSuccess.IsZero() || now.Sub(lastSuccess) > allowance)
}

func batchDrift(ctx context.Context, db *store.DB, batch int64) ([]Drift, error) {
	rows, err := db.QueryContext(ctx, `SELECT table_name, kind, coalesce(col, ''), coalesce(was, ''), coalesce(now, '') FROM ingest_drift WHERE batch_id = ?`, batch)
	if err != nil {
		return nil, fmt.Errorf("ingest: drift of batch %d: %w", batch, err)
	}
	defer rows.Close()
	var out []Drift
	for rows.Next() {
		var d Drift
		if err := rows.Scan(&d.Table, &d.Kind, &d.Col, &d.Was, &d.Now); err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// Rejections lists the files refused whole, newest first.
func Rejections(ctx context.Context, db *store.DB, limit int) ([]Rejection, error) {
	rows, err := db.QueryContext(ctx, `SELECT source, file_name, moved_to, reason, rejected_at, coalesce(problem, '{}') FROM ingest_rejections
		ORDER BY rejected_at DESC LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("ingest: rejections: %w", err)
	}
	defer rows.Close()
	var out []Rejection
	for rows.Next() {
		var r Rejection
		var problem string
		if err := rows.Scan(&r.Source, &r.File, &r.MovedTo, &r.Reason, &r.At, &problem); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(problem), &r.Why); err != nil {
			return nil, fmt.Errorf("ingest: rejection of %s: %w", r.File, err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

package analytics

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Watermark is how far the store had gone when a snapshot was taken, for
// the next publish to find what changed since (View.Changed).
type Watermark struct {
	Batch int64 `json:"batch"` // the last batch stored
	// Versions counts the record versions of the batches up to Batch: a
	// batch numbered before it that commits later moves the count, and
	// the view is then computed whole.
	Versions int64     `json:"versions"`
	Linked   time.Time `json:"linked"`   // the last link made
	Registry time.Time `json:"registry"` // the registry's last version
}

// watermark is the store's Watermark now.
func watermark(ctx context.Context, conn *sql.Conn) (Watermark, error) {
	var w Watermark
	var linked, registry sql.NullTime
	err := conn.QueryRowContext(ctx, `SELECT
		(SELECT coalesce(max(batch_id), 0) FROM record_versions),
		(SELECT count(*) FROM record_versions),
		(SELECT linked_at FROM links_through),
		(SELECT max(greatest(valid_from, coalesce(valid_to, valid_from))) FROM household_versions)`).Scan(&w.Batch, &w.Versions, &linked, &registry)
	if err != nil {
		return w, fmt.Errorf("analytics: what the store holds: %w", err)
	}
	w.Linked, w.Registry = linked.Time, registry.Time
	return w, nil
}

// unchanged says which month partitions of a view with Changed the new
// snapshot may take from the previous one, and which months it computes:
// those of the previous snapshot's month on, and the earlier ones
// Changed names. Anything it cannot vouch for (no previous snapshot,
// another key, window, query or rule pack, a registry that changed, a
// batch committed out of order, files gone) computes the view whole: the
// zero Span.
func (v View) unchanged(ctx context.Context, conn *sql.Conn, opt Options, prev *previous, now Watermark) ([]string, Span, error) {
	if prev == nil || opt.Now.Before(prev.man.CreatedAt) {
		return nil, Span{}, nil
	}
	noted, ok := prev.man.Marks[v.Name]
	if !ok || noted.Since == nil || noted.Fingerprint != v.fingerprint(opt) || !noted.Since.Registry.Equal(now.Registry) {
		return nil, Span{}, nil
	}
	since := *noted.Since
	var versions int64
	if err := conn.QueryRowContext(ctx, `SELECT count(*) FROM record_versions WHERE batch_id <= ?`, since.Batch).Scan(&versions); err != nil {
		return nil, Span{}, fmt.Errorf("analytics: changes to %s: %w", v.Name, err)
	}
	if versions != since.Versions {
		return nil, Span{}, nil
	}
	if whole, err := wholeView(ctx, conn, prev, v.Name); err != nil || !whole {
		return nil, Span{}, err
	}
	changed, err := v.changedMonths(ctx, conn, since, prev.man.CreatedAt)
	if err != nil {
		return nil, Span{}, err
	}
	var first, until string // the months that may be taken are [first, until)
	if err := conn.QueryRowContext(ctx, `SELECT
		strftime(date_trunc('month', ?::TIMESTAMPTZ) - to_months(?), '%Y-%m'), strftime(date_trunc('month', ?::TIMESTAMPTZ), '%Y-%m')`,
		opt.Now.UTC().Format(time.RFC3339Nano), opt.Months-1+v.Lookback, prev.man.CreatedAt.UTC().Format(time.RFC3339Nano)).Scan(&first, &until); err != nil {
		return nil, Span{}, fmt.Errorf("analytics: months of %s: %w", v.Name, err)
	}
	span := Span{From: prev.man.CreatedAt}
	for _, m := range changed {
		if m >= first && m < until {
			span.Also = append(span.Also, m)
		}
	}
	parts, err := prev.partitions(v.Name, func(m string) bool { return m >= first && m < until && !slices.Contains(changed, m) })
	return parts, span, err
}

// changedMonths runs the view's Changed query against what the previous
// snapshot noted and its time.
func (v View) changedMonths(ctx context.Context, conn *sql.Conn, since Watermark, then time.Time) ([]string, error) {
	q := strings.NewReplacer("{{batch}}", strconv.FormatInt(since.Batch, 10), "{{linked}}", sqlTime(since.Linked),
		"{{then}}", sqlTime(then)).Replace(v.Changed)
	rows, err := conn.QueryContext(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("analytics: changed months of %s: %w", v.Name, err)
	}
	defer rows.Close()
	var months []string
	for rows.Next() {
		var m string
		if err := rows.Scan(&m); err != nil {
			return nil, err
		}
		months = append(months, m)
	}
	return months, rows.Err()
}

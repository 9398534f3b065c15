package analytics

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// ViewMark is what a snapshot notes of a view with a Mark, for the next
// publish to judge whether it may take this one's settled months.
type ViewMark struct {
	// Fingerprint names what the view's files hang on besides the store:
	// the pseudonym key, the window and the queries.
	Fingerprint string `json:"fingerprint"`
	Mark        string `json:"mark,omitempty"` // the view's Mark as of the snapshot's time
	// Since is what the store held at the snapshot's time, for a view
	// with Changed.
	Since *Watermark `json:"since,omitempty"`
	Taken int        `json:"taken"` // month partitions taken from the snapshot before
}

// previous is the snapshot a publish may take settled months from.
type previous struct {
	dir string
	man *Manifest
}

// previousSnapshot is the current snapshot, or nil when there is none
// that can be read: then every view is computed whole.
func previousSnapshot(dir string) *previous {
	snap, man, err := Current(dir)
	if err != nil {
		return nil
	}
	return &previous{dir: snap, man: man}
}

func (v View) fingerprint(opt Options) string {
	h := sha256.Sum256([]byte(strings.Join([]string{opt.Key, strconv.Itoa(opt.Months), v.SQL, v.Mark, v.Changed, opt.Prepared}, "\x00")))
	return hex.EncodeToString(h[:16])
}

// mark is the view's Mark as of at.
func (v View) mark(ctx context.Context, conn *sql.Conn, at time.Time) (string, error) {
	var m string
	if err := conn.QueryRowContext(ctx, strings.ReplaceAll(v.Mark, "{{at}}", sqlTime(at))).Scan(&m); err != nil {
		return "", fmt.Errorf("analytics: mark of %s: %w", v.Name, err)
	}
	return m, nil
}

// settled says which month partitions (region=…/month=…) of the view the
// previous snapshot holds that the new one may take as they are, and
// the first month the new one must compute: the months of both windows
// before the previous snapshot's own month, when the key, window and
// queries are the same and the view's mark as of the previous snapshot's
// time still reads what that snapshot noted. Anything else (no previous
// snapshot, another key, a store restored to an older backup, a version
// back-dated before it) computes the view whole: from is the zero time.
func (v View) settled(ctx context.Context, conn *sql.Conn, opt Options, prev *previous) (parts []string, from time.Time, err error) {
	if prev == nil || opt.Now.Before(prev.man.CreatedAt) {
		return nil, time.Time{}, nil
	}
	noted, ok := prev.man.Marks[v.Name]
	if !ok || noted.Fingerprint != v.fingerprint(opt) {
		return nil, time.Time{}, nil
	}
	then, err := v.mark(ctx, conn, prev.man.CreatedAt)
	if err != nil || then != noted.Mark {
		return nil, time.Time{}, err
	}
	var first, until string // the months to take are [first, until)
	if err := conn.QueryRowContext(ctx, `SELECT
		strftime(greatest(date_trunc('month', ?::TIMESTAMPTZ) - to_months(?), date_trunc('month', ?::TIMESTAMPTZ) - to_months(?)), '%Y-%m'),
		strftime(date_trunc('month', ?::TIMESTAMPTZ), '%Y-%m')`,
		opt.Now.UTC().Format(time.RFC3339Nano), opt.Months-1, prev.man.CreatedAt.UTC().Format(time.RFC3339Nano), prev.man.Months-1,
		prev.man.CreatedAt.UTC().Format(time.RFC3339Nano)).Scan(&first, &until); err != nil {
		return nil, time.Time{}, fmt.Errorf("analytics: settled months of %s: %w", v.Name, err)
	}
	if whole, err := wholeView(ctx, conn, prev, v.Name); err != nil || !whole {
		return nil, time.Time{}, err // files gone from the previous snapshot: computed whole, not taken short
	}
	parts, err = prev.partitions(v.Name, func(m string) bool { return m >= first && m < until })
	return parts, prev.man.CreatedAt, err
}

// partitions are the previous snapshot's month partitions of a view
// (region=…/month=…, relative to the view's directory) whose month take
// accepts.
func (prev *previous) partitions(view string, take func(month string) bool) ([]string, error) {
	dirs, err := filepath.Glob(filepath.Join(prev.dir, view, "region=*", "month=*"))
	if err != nil {
		return nil, err
	}
	var parts []string
	for _, d := range dirs {
		if !take(strings.TrimPrefix(filepath.Base(d), "month=")) {
			continue
		}
		rel, err := filepath.Rel(filepath.Join(prev.dir, view), d)
		if err != nil {
			return nil, err
		}
		parts = append(parts, rel)
	}
	return parts, nil
}

// wholeView says whether the previous snapshot's files of a view still
// hold the rows its manifest counted.
func wholeView(ctx context.Context, conn *sql.Conn, prev *previous, view string) (bool, error) {
	files, err := filepath.Glob(filepath.Join(prev.dir, view, "region=*", "month=*", "*.parquet"))
	if err != nil || len(files) == 0 {
		return prev.man.Views[view] == 0, err
	}
	var n int64
	if err := conn.QueryRowContext(ctx, `SELECT coalesce(sum(num_rows), 0) FROM parquet_file_metadata(`+sqlList(files)+`)`).Scan(&n); err != nil {
		return false, nil // a file that cannot be read: not whole
	}
	return n == prev.man.Views[view], nil
}

// take links the previous snapshot's partitions of the view into out: a
// snapshot's files are never written again, so both can share them, and
// pruning the old snapshot leaves the new one's links whole.
func take(prev *previous, view string, parts []string, out string) error {
	for _, part := range parts {
		files, err := filepath.Glob(filepath.Join(prev.dir, view, part, "*.parquet"))
		if err != nil {
			return err
		}
		if err := os.MkdirAll(filepath.Join(out, part), 0o750); err != nil {
			return fmt.Errorf("analytics: %w", err)
		}
		for _, f := range files {
			if err := os.Link(f, filepath.Join(out, part, filepath.Base(f))); err != nil {
				return fmt.Errorf("analytics: take %s from the previous snapshot: %w", part, err)
			}
		}
	}
	return nil
}

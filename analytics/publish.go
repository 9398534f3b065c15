package analytics

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	"safetynet/store"
)

// Options say where and how a snapshot is published.
type Options struct {
	Dir    string    // the analytics directory: snapshots/ and CURRENT live here
	Key    string    // the pseudonym key, from the environment
	Months int       // how many month ends back the monthly views go
	Now    time.Time // the snapshot's time
	Keep   int       // how many snapshots to keep, the current one among them (3 when unset)
	Views  []View    // the views to publish; Views when nil
	// Prepare defines, on the connection that publishes, the views of
	// other packages the analyst views read (the rule pack's
	// hardship_signals); nil when the views need none.
	Prepare func(ctx context.Context, conn *sql.Conn) error
	// Prepared names what Prepare defines (the rule pack's views and
	// lists, not the time): when it changes, no month is taken from the
	// previous snapshot.
	Prepared string
}

// Manifest describes a published snapshot; it is written beside its views.
type Manifest struct {
	Name      string            `json:"name"`
	CreatedAt time.Time         `json:"created_at"`
	Months    int               `json:"months"`
	Views     map[string]int64  `json:"views"` // rows per view
	Docs      map[string]string `json:"docs"`
	// Marks are noted for the views whose months settle (View.Mark).
	Marks map[string]ViewMark `json:"marks,omitempty"`
	// Seconds each view took to write, and "prepare" the views of other
	// packages they read: where a snapshot's time goes.
	Seconds map[string]float64 `json:"seconds,omitempty"`
}

// ErrNoKey is why nothing is published when the pseudonym key is unset.
var ErrNoKey = errors.New("analytics: no pseudonym key: set the environment variable the config names (analytics.pseudonym_key_env) to a secret of at least 16 characters")

// keyForm is what a key may hold, so that it can stand in SQL as a literal.
var keyForm = regexp.MustCompile(`^[A-Za-z0-9+/=_.-]{16,256}$`)

// Publish writes every view as Parquet into a new snapshot directory and
// makes it current only when all of it is written. A failure leaves the
// previous snapshot current and removes what was half written.
func Publish(ctx context.Context, db *store.DB, opt Options) (*Manifest, error) {
	if opt.Key == "" {
		return nil, ErrNoKey
	}
	if !keyForm.MatchString(opt.Key) {
		return nil, errors.New("analytics: the pseudonym key must be 16 to 256 letters, digits or +/=_.- (a base64 or hex secret)")
	}
	if opt.Views == nil {
		opt.Views = Views
	}
	opt.Months = max(opt.Months, 1)
	name := opt.Now.UTC().Format("20060102T150405.000000Z")
	snapshots := filepath.Join(opt.Dir, "snapshots")
	tmp := filepath.Join(snapshots, ".publishing-"+name)
	if err := os.MkdirAll(tmp, 0o750); err != nil {
		return nil, fmt.Errorf("analytics: %w", err)
	}
	man := &Manifest{Name: name, CreatedAt: opt.Now, Months: opt.Months, Views: map[string]int64{}, Docs: map[string]string{}, Marks: map[string]ViewMark{},
		Seconds: map[string]float64{}}
	if err := writeViews(ctx, db, tmp, opt, previousSnapshot(opt.Dir), man); err != nil {
		os.RemoveAll(tmp)
		return nil, err
	}
	if err := writeJSON(filepath.Join(tmp, "manifest.json"), man); err != nil {
		os.RemoveAll(tmp)
		return nil, err
	}
	final := filepath.Join(snapshots, name)
	if err := os.Rename(tmp, final); err != nil {
		os.RemoveAll(tmp)
		return nil, fmt.Errorf("analytics: %w", err)
	}
	if err := setCurrent(opt.Dir, name); err != nil {
		return nil, err
	}
	keep := opt.Keep
	if keep < 2 {
		keep = 3 // the current one, and the ones queries may still be reading
	}
	return man, prune(snapshots, name, keep)
}

// writeViews copies every view in one transaction on one connection, so
// that all of them show the store at the same moment.
func writeViews(ctx context.Context, db *store.DB, dir string, opt Options, prev *previous, man *Manifest) error {
	conn, err := db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("analytics: %w", err)
	}
	defer conn.Close()
	if opt.Prepare != nil {
		t := time.Now()
		if err := opt.Prepare(ctx, conn); err != nil {
			return fmt.Errorf("analytics: %w", err)
		}
		man.Seconds["prepare"] = time.Since(t).Seconds()
	}
	return store.InTx(ctx, conn, func(conn *sql.Conn) error {
		for _, v := range opt.Views {
			t := time.Now()
			if err := writeView(ctx, conn, dir, v, opt, prev, man); err != nil {
				return err
			}
			man.Seconds[v.Name] = time.Since(t).Seconds()
		}
		return nil
	})
}

func writeView(ctx context.Context, db *sql.Conn, dir string, v View, opt Options, prev *previous, man *Manifest) error {
	var parts []string // taken from the previous snapshot
	var span Span      // the months computed; zero: all of them
	switch {
	case v.Mark != "":
		mark, err := v.mark(ctx, db, opt.Now)
		if err != nil {
			return err
		}
		if parts, span.From, err = v.settled(ctx, db, opt, prev); err != nil {
			return err
		}
		man.Marks[v.Name] = ViewMark{Fingerprint: v.fingerprint(opt), Mark: mark, Taken: len(parts)}
	case v.Changed != "":
		now, err := watermark(ctx, db)
		if err != nil {
			return err
		}
		if parts, span, err = v.unchanged(ctx, db, opt, prev, now); err != nil {
			return err
		}
		man.Marks[v.Name] = ViewMark{Fingerprint: v.fingerprint(opt), Since: &now, Taken: len(parts)}
	}
	q := v.Render(opt.Key, opt.Months, opt.Now, span)
	out := filepath.Join(dir, v.Name)
	if err := copyPartitioned(ctx, db, q, out); err != nil {
		return fmt.Errorf("analytics: publish %s: %w", v.Name, err)
	}
	if err := take(prev, v.Name, parts, out); err != nil {
		return err
	}
	files, err := filepath.Glob(filepath.Join(out, "region=*", "month=*", "*.parquet"))
	if err != nil {
		return err
	}
	var n int64
	if len(files) > 0 { // the row count from the files' footers, not a second pass over the view
		if err := db.QueryRowContext(ctx, `SELECT sum(num_rows) FROM parquet_file_metadata(`+sqlList(files)+`)`).Scan(&n); err != nil {
			return fmt.Errorf("analytics: count %s: %w", v.Name, err)
		}
	} else { // an empty view still has its columns, for queries to name
		if err := os.MkdirAll(out, 0o750); err != nil {
			return err
		}
		if _, err := db.ExecContext(ctx, fmt.Sprintf(`COPY (SELECT * FROM (%s) LIMIT 0) TO %s (FORMAT parquet)`, q,
			sqlString(filepath.Join(out, "empty.parquet")))); err != nil {
			return fmt.Errorf("analytics: publish %s: %w", v.Name, err)
		}
	}
	man.Views[v.Name], man.Docs[v.Name] = n, v.Doc
	return nil
}

// partitionsPerCopy bounds the partitions one COPY writes: DuckDB keeps a
// buffer (a 256 KiB block at least) for every partition a COPY has open
// until it ends, so 7,000 partitions (300 townships × 24 months) ran a
// 2 GB database out of memory on 173,000 rows (measured).
const partitionsPerCopy = 600

// copyPartitioned writes a query as Hive partitions region=…/month=…: the
// rows are first kept in a temporary table in region order, then copied
// a batch of regions at a time, each COPY reading only its regions' row
// groups.
func copyPartitioned(ctx context.Context, db *sql.Conn, q, out string) error {
	if _, err := db.ExecContext(ctx, `CREATE OR REPLACE TEMP TABLE _publish AS SELECT * FROM (`+q+`) ORDER BY region, month`); err != nil {
		return err
	}
	defer db.ExecContext(context.WithoutCancel(ctx), `DROP TABLE IF EXISTS _publish`)
	rows, err := db.QueryContext(ctx, `SELECT region, count(DISTINCT month) FROM _publish GROUP BY region ORDER BY region`)
	if err != nil {
		return err
	}
	type batch struct{ from, to string }
	var batches []batch
	n := 0
	for rows.Next() {
		var region string
		var months int
		if err := rows.Scan(&region, &months); err != nil {
			rows.Close()
			return err
		}
		if len(batches) == 0 || n+months > partitionsPerCopy {
			batches = append(batches, batch{from: region})
			n = 0
		}
		batches[len(batches)-1].to = region
		n += months
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, b := range batches {
		stmt := fmt.Sprintf(`COPY (SELECT * FROM _publish WHERE region BETWEEN %s AND %s) TO %s (FORMAT parquet, PARTITION_BY (region, month), OVERWRITE_OR_IGNORE)`,
			sqlString(b.from), sqlString(b.to), sqlString(out))
		if _, err := db.ExecContext(ctx, stmt); err != nil {
			return err
		}
	}
	return nil
}

// setCurrent points CURRENT at a snapshot, by renaming a file written
// aside: readers see the old name or the new one, never half of one.
func setCurrent(dir, name string) error {
	tmp := filepath.Join(dir, "CURRENT.tmp")
	if err := os.WriteFile(tmp, []byte(name+"\n"), 0o640); err != nil {
		return fmt.Errorf("analytics: %w", err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, "CURRENT")); err != nil {
		return fmt.Errorf("analytics: %w", err)
	}
	return nil
}

// CurrentName is the current snapshot's name, from the pointer alone.
func CurrentName(dir string) (string, error) {
	b, err := os.ReadFile(filepath.Join(dir, "CURRENT"))
	if errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("analytics: no snapshot published in %s yet: a run publishes one when the pseudonym key is set", dir)
	}
	if err != nil {
		return "", fmt.Errorf("analytics: %w", err)
	}
	return strings.TrimSpace(string(b)), nil
}

// Current is the current snapshot's directory and manifest.
func Current(dir string) (string, *Manifest, error) {
	b, err := os.ReadFile(filepath.Join(dir, "CURRENT"))
	if errors.Is(err, os.ErrNotExist) {
		return "", nil, fmt.Errorf("analytics: no snapshot published in %s yet: a run publishes one when the pseudonym key is set", dir)
	}
	if err != nil {
		return "", nil, fmt.Errorf("analytics: %w", err)
	}
	snap := filepath.Join(dir, "snapshots", strings.TrimSpace(string(b)))
	var man Manifest
	raw, err := os.ReadFile(filepath.Join(snap, "manifest.json"))
	if err == nil {
		err = json.Unmarshal(raw, &man)
	}
	if err != nil {
		return "", nil, fmt.Errorf("analytics: snapshot %s: %w", snap, err)
	}
	return snap, &man, nil
}

// prune removes the oldest snapshots beyond keep, never the current one,
// and anything a publish that died left behind.
func prune(snapshots, current string, keep int) error {
	entries, err := os.ReadDir(snapshots)
	if err != nil {
		return fmt.Errorf("analytics: %w", err)
	}
	var names []string
	for _, e := range entries {
		switch {
		case strings.HasPrefix(e.Name(), ".publishing-"):
			os.RemoveAll(filepath.Join(snapshots, e.Name()))
		case e.IsDir():
			names = append(names, e.Name())
		}
	}
	sort.Sort(sort.Reverse(sort.StringSlice(names)))
	for i, n := range names {
		if i >= keep && n != current {
			if err := os.RemoveAll(filepath.Join(snapshots, n)); err != nil {
				return fmt.Errorf("analytics: prune %s: %w", n, err)
			}
		}
	}
	return nil
}

func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o640)
}

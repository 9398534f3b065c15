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

	"github.com/duckdb/duckdb-go/v2"
)

// Limits bound one analyst query.
type Limits struct {
	Rows    int           // rows returned at most (the result says when more were left out)
	Timeout time.Duration // the query is stopped past it
	Memory  string        // DuckDB's memory_limit for the query's database
}

// DefaultLimits are what Open uses when it is given zero Limits.
var DefaultLimits = Limits{Rows: 10_000, Timeout: 30 * time.Second, Memory: "256MB"}

// Querier runs analyst queries over one snapshot, for one region scope.
type Querier struct {
	db       *sql.DB
	spool    string // where Records' results are written and read back
	Snapshot string
	Manifest *Manifest
	limits   Limits
	counts   once[unitCounts]             // cohorts counted by month and village
	funnels  once[map[string][]FunnelRow] // the funnel by every grouping
}

// Result is what a query returned.
type Result struct {
	Columns   []string
	Rows      [][]string
	Truncated bool // more rows than Limits.Rows: the rest were left out
}

// regionForm is a scope: none, or a region-code prefix.
var regionForm = regexp.MustCompile(`^([0-9]{2,12})?$`)

// ErrNotSelect is a statement that is not one SELECT.
var ErrNotSelect = errors.New("analytics: only a single SELECT over the analyst views can run here")

// Open prepares a querier over the current snapshot in dir, for the
// regions under regionPrefix ("" for all). For a county or wider, only
// the scope's county partitions are attached and readable; for a
// township or village, its rows are copied out of its county's files
// into the querier's own memory and no file is readable at all. Then the
// database is locked before any query runs.
func Open(ctx context.Context, dir, regionPrefix string, lim Limits) (*Querier, error) {
	if !regionForm.MatchString(regionPrefix) {
		return nil, fmt.Errorf("analytics: region %q is not a region-code prefix (2 to 12 digits, e.g. 330110)", regionPrefix)
	}
	snap, man, err := Current(dir)
	if err != nil {
		return nil, err
	}
	connector, err := duckdb.NewConnector("", nil)
	if err != nil {
		return nil, fmt.Errorf("analytics: %w", err)
	}
	db := sql.OpenDB(connector)
	db.SetMaxOpenConns(1) // one connection: the settings below hold for every query
	if lim == (Limits{}) {
		lim = DefaultLimits
	}
	spool, err := os.MkdirTemp("", "safetynet-query-")
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("analytics: %w", err)
	}
	q := &Querier{db: db, spool: spool, Snapshot: snap, Manifest: man, limits: lim,
		counts: once[unitCounts]{max: maxCachedCohorts}, funnels: once[map[string][]FunnelRow]{max: 1}}
	if err := q.attach(ctx, snap, regionPrefix); err != nil {
		q.Close()
		return nil, err
	}
	return q, nil
}

// attach defines each view over the partitions in scope, then allows
// reading those directories only and locks the configuration.
func (q *Querier) attach(ctx context.Context, snap, regionPrefix string) error {
	allowed := []string{}
	names := make([]string, 0, len(q.Manifest.Views))
	for v := range q.Manifest.Views {
		names = append(names, v)
	}
	sort.Strings(names)
	// An in-memory database spills to .tmp in the working directory unless
	// told otherwise: the system's temporary directory instead.
	for _, set := range []string{"SET memory_limit = " + sqlString(q.limits.Memory),
		"SET temp_directory = " + sqlString(filepath.Join(os.TempDir(), "safetynet-analytics"))} {
		if _, err := q.db.ExecContext(ctx, set); err != nil {
			return fmt.Errorf("analytics: %w", err)
		}
	}
	within := len(regionPrefix) > countyDigits // finer than a partition: copy its rows in
	for _, v := range names {
		files, dirs, err := partitions(filepath.Join(snap, v), regionPrefix)
		if err != nil {
			return err
		}
		src := fmt.Sprintf("read_parquet(%s, hive_partitioning = true, hive_types = {'region': VARCHAR, 'month': VARCHAR})", sqlList(files))
		cond := ""
		if len(files) == 0 { // nothing in scope: the view's columns, no rows
			src, cond = fmt.Sprintf("read_parquet(%s)", sqlString(anyFile(filepath.Join(snap, v)))), " WHERE false"
			dirs = []string{filepath.Join(snap, v)}
		} else if within {
			cond = " WHERE starts_with(village, " + sqlString(regionPrefix) + ")"
		}
		kind := "VIEW"
		if within || len(files) == 0 {
			kind = "TABLE" // read now, while files may be read; nothing is left to read later
		} else {
			allowed = append(allowed, dirs...)
		}
		if _, err := q.db.ExecContext(ctx, fmt.Sprintf(`CREATE %s %s AS SELECT * FROM %s%s`, kind, v, src, cond)); err != nil {
			return fmt.Errorf("analytics: view %s: %w", v, err)
		}
	}
	settings := []string{
		"SET threads = 2",
		// Rows come in any order unless the query says ORDER BY (which
		// DuckDB keeps either way): COPY then writes on every thread.
		"SET preserve_insertion_order = false",
		"SET parquet_metadata_cache = true",                              // many partition files: read each footer once
		"SET allowed_directories = " + sqlList(append(allowed, q.spool)), // the spool: Records' own COPY
		"SET enable_external_access = false",
		"SET lock_configuration = true",
	}
	for _, s := range settings {
		if _, err := q.db.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("analytics: %s: %w", s, err)
		}
	}
	return nil
}

// countyDigits is the partition's region: the county.
const countyDigits = 6

// partitions lists a view's Parquet files and their directories in the
// counties under prefix (a province, a city or a county), or the county
// of a longer prefix (a township or a village).
func partitions(viewDir, prefix string) (files, dirs []string, err error) {
	regions, err := os.ReadDir(viewDir)
	if err != nil {
		return nil, nil, fmt.Errorf("analytics: %w", err)
	}
	for _, r := range regions {
		region, ok := strings.CutPrefix(r.Name(), "region=")
		if !ok || !r.IsDir() || !(strings.HasPrefix(region, prefix) || len(prefix) > countyDigits && strings.HasPrefix(prefix, region)) {
			continue
		}
		d := filepath.Join(viewDir, r.Name())
		found, err := filepath.Glob(filepath.Join(d, "month=*", "*.parquet"))
		if err != nil {
			return nil, nil, err
		}
		files = append(files, found...)
		dirs = append(dirs, d)
	}
	return files, dirs, nil
}

// anyFile is one Parquet file of a view, for its columns.
func anyFile(viewDir string) string {
	found, _ := filepath.Glob(filepath.Join(viewDir, "region=*", "month=*", "*.parquet"))
	if len(found) > 0 {
		return found[0]
	}
	return filepath.Join(viewDir, "empty.parquet")
}

// Query runs one SELECT within the limits.
func (q *Querier) Query(ctx context.Context, text string) (*Result, error) {
	if err := q.selectOnly(ctx, text); err != nil {
		return nil, err
	}
	// The limit inside the query: the driver materialises what a query
	// returns before the first row is read.
	return q.run(ctx, fmt.Sprintf("SELECT * FROM (%s\n) LIMIT %d", text, q.limits.Rows+1), q.limits.Rows)
}

// run runs a query within the time limit and returns at most maxRows
// rows (0: all), for Query and the queries of this package's own.
func (q *Querier) run(ctx context.Context, text string, maxRows int) (*Result, error) {
	ctx, cancel := context.WithTimeout(ctx, q.limits.Timeout)
	defer cancel()
	rows, err := q.db.QueryContext(ctx, text)
	if err != nil {
		return nil, q.explain(ctx, err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	res := &Result{Columns: cols}
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if maxRows > 0 && len(res.Rows) == maxRows {
			res.Truncated = true
			break
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		row := make([]string, len(vals))
		for i, v := range vals {
			row[i] = cellText(v)
		}
		res.Rows = append(res.Rows, row)
	}
	if err := rows.Err(); err != nil {
		return nil, q.explain(ctx, err)
	}
	return res, nil
}

// selectOnly asks DuckDB's parser, which serialises SELECT statements only.
func (q *Querier) selectOnly(ctx context.Context, text string) error {
	var tree string
	if err := q.db.QueryRowContext(ctx, `SELECT CAST(json_serialize_sql(?::VARCHAR) AS VARCHAR)`, text).Scan(&tree); err != nil {
		return fmt.Errorf("%w: %v", ErrNotSelect, err)
	}
	var parsed struct {
		Error      bool              `json:"error"`
		Message    string            `json:"error_message"`
		Statements []json.RawMessage `json:"statements"`
	}
	if err := json.Unmarshal([]byte(tree), &parsed); err != nil {
		return fmt.Errorf("analytics: %w", err)
	}
	if parsed.Error {
		return fmt.Errorf("%w (%s)", ErrNotSelect, parsed.Message)
	}
	if len(parsed.Statements) != 1 {
		return fmt.Errorf("%w (%d statements)", ErrNotSelect, len(parsed.Statements))
	}
	return nil
}

// explain says why a query failed in words an analyst can act on.
func (q *Querier) explain(ctx context.Context, err error) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("analytics: the query ran longer than %s and was stopped: narrow it (a region, fewer months) or aggregate", q.limits.Timeout)
	}
	return fmt.Errorf("analytics: %w", err)
}

// Limits are the bounds the querier's queries run within.
func (q *Querier) Limits() Limits { return q.limits }

// Close ends the querier's database and removes its spool.
func (q *Querier) Close() error {
	err := q.db.Close()
	os.RemoveAll(q.spool)
	return err
}

func cellText(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case time.Time:
		return x.Format(time.RFC3339)
	case []byte:
		return string(x)
	}
	return fmt.Sprint(v)
}

func sqlString(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

func sqlList(items []string) string {
	quoted := make([]string, len(items))
	for i, s := range items {
		quoted[i] = sqlString(s)
	}
	return "[" + strings.Join(quoted, ", ") + "]"
}

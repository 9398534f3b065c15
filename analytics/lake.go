package analytics

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/duckdb/duckdb-go/v2"

	"safetynet/config"
)

// The lake is what leaves an instance for the province's or the
// country's analysts: the saved cohorts' counts by township and month,
// small cells suppressed here, never a person's row. Every instance
// writes the same Hive layout into the shared folder,
//
//	<lake>/cohort_counts/region=<county>/month=<YYYY-MM>/<instance>.parquet
//
// so Spark, Trino or DuckDB read the union of all of them with Hive
// partitioning and prune by county and month. An instance writes only
// files of its own name: two never overwrite each other's.

// LakeOptions says where an instance exports and as whom.
type LakeOptions struct {
	Dir      string // the lake: a folder on storage the instances share
	Instance string // this instance's name (config instance), the files' name
	K        int    // counts from 1 to K−1 are suppressed (analytics.small_cell)
}

// LakeExport is what one export wrote.
type LakeExport struct {
	Snapshot   string
	Files      int // partitions written
	Rows       int // counts, townships' and counties'
	Suppressed int // of them, counts withheld (Small or Hidden)
	Removed    int // files of this instance no longer current (a month or county without counts now)
}

// lakeRow is one count as the lake holds it.
type lakeRow struct {
	county, month, cohort, unit, code, level string
	version                                  int
	count                                    int // or Small or Hidden
}

var countyForm = regexp.MustCompile(`^[0-9]{6}$`)

// ExportCounts writes the cohorts' counts over q's snapshot to the lake:
// for every month of each cohort's period, its townships' counts and
// their county's total, suppressed as an aggregates-only analyst sees
// them (SuppressRegions: the total is shown, so the secondary rule
// holds within each county). Each partition is written aside and renamed
// into place; this instance's files that the snapshot no longer has
// counts for are removed.
func ExportCounts(ctx context.Context, q *Querier, cohorts []Cohort, opt LakeOptions) (*LakeExport, error) {
	if opt.Dir == "" || !config.InstanceName(opt.Instance) {
		return nil, fmt.Errorf("analytics: the lake needs a folder and an instance name, not %q and %q", opt.Dir, opt.Instance)
	}
	var rows []lakeRow
	for _, c := range cohorts {
		rs, err := q.lakeRows(ctx, c, opt.K)
		if err != nil {
			return nil, fmt.Errorf("analytics: cohort %q: %w", c.Name, err)
		}
		rows = append(rows, rs...)
	}
	out := &LakeExport{Snapshot: q.Manifest.Name, Rows: len(rows)}
	for _, r := range rows {
		if r.count < 0 {
			out.Suppressed++
		}
	}
	written, err := writeLake(ctx, rows, opt, q.Manifest.Name)
	if err != nil {
		return nil, err
	}
	out.Files = len(written)
	out.Removed, err = removeStale(opt, written)
	return out, err
}

// lakeRows counts one cohort by township in each month of its period,
// and suppresses each county's table.
func (q *Querier) lakeRows(ctx context.Context, c Cohort, k int) ([]lakeRow, error) {
	d := c.Definition
	months := d.Period.Months(q.Latest())
	counts, err := q.unitCounts(ctx, &d, months)
	if err != nil {
		return nil, err
	}
	var out []lakeRow
	for _, m := range months {
		out = append(out, countyTables(c, m, counts[m], k)...)
	}
	return out, nil
}

// countyTables are one month's counts of a cohort by township, with
// each county's total, suppressed county by county.
func countyTables(c Cohort, month string, villages []villageCount, k int) []lakeRow {
	towns := map[string]map[string]int{} // county → township → count
	for _, v := range villages {
		if len(v.village) < 9 || !countyForm.MatchString(v.village[:6]) {
			continue // a place without a township cannot be shown apart from its county's others
		}
		county := v.village[:6]
		if towns[county] == nil {
			towns[county] = map[string]int{}
		}
		towns[county][v.village[:9]] += v.n
	}
	var out []lakeRow
	for _, county := range slices.Sorted(maps.Keys(towns)) {
		t := &RegionTable{Month: month, Level: 9}
		for _, code := range slices.Sorted(maps.Keys(towns[county])) {
			t.Rows = append(t.Rows, RegionCount{Code: code, Count: towns[county][code]})
			t.Total += towns[county][code]
		}
		SuppressRegions(t, k)
		row := lakeRow{county: county, month: month, cohort: c.Name, version: c.Version, unit: string(c.Definition.Unit)}
		for _, r := range t.Rows {
			row.code, row.level, row.count = r.Code, "township", r.Count
			out = append(out, row)
		}
		row.code, row.level, row.count = county, "county", t.Total
		out = append(out, row)
	}
	return out
}

// lakeSchema is the lake's table. count is NULL where it is withheld;
// shown is what an aggregates-only analyst reads ("12", "<5", "×").
const lakeSchema = `CREATE TABLE lake (
	region VARCHAR, month VARCHAR, cohort VARCHAR, cohort_version INTEGER, unit VARCHAR,
	region_code VARCHAR, region_level VARCHAR, count BIGINT, shown VARCHAR,
	small_cell INTEGER, snapshot VARCHAR, instance VARCHAR)`

// writeLake writes the rows, one Parquet file per county and month, and
// returns the files written.
func writeLake(ctx context.Context, rows []lakeRow, opt LakeOptions, snapshot string) (map[string]bool, error) {
	connector, err := duckdb.NewConnector("", nil)
	if err != nil {
		return nil, fmt.Errorf("analytics: lake: %w", err)
	}
	db := sql.OpenDB(connector)
	defer db.Close()
	db.SetMaxOpenConns(1)
	if _, err := db.ExecContext(ctx, lakeSchema); err != nil {
		return nil, fmt.Errorf("analytics: lake: %w", err)
	}
	ins, err := db.PrepareContext(ctx, `INSERT INTO lake (region, month, cohort, cohort_version, unit, region_code, region_level, count, shown, small_cell, snapshot, instance)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return nil, fmt.Errorf("analytics: lake: %w", err)
	}
	defer ins.Close()
	parts := map[[2]string]bool{}
	for _, r := range rows {
		var count any
		if r.count >= 0 {
			count = r.count
		}
		if _, err := ins.ExecContext(ctx, r.county, r.month, r.cohort, r.version, r.unit, r.code, r.level, count, ShowCount(r.count, opt.K), opt.K, snapshot, opt.Instance); err != nil {
			return nil, fmt.Errorf("analytics: lake: %w", err)
		}
		parts[[2]string{r.county, r.month}] = true
	}
	written := map[string]bool{}
	byPlace := func(a, b [2]string) int { return cmp.Or(strings.Compare(a[0], b[0]), strings.Compare(a[1], b[1])) }
	for _, p := range slices.SortedFunc(maps.Keys(parts), byPlace) {
		dir := filepath.Join(opt.Dir, "cohort_counts", "region="+p[0], "month="+p[1])
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("analytics: lake: %w", err)
		}
		final := filepath.Join(dir, opt.Instance+".parquet")
		tmp := filepath.Join(dir, "."+opt.Instance+".parquet.tmp")
		stmt := fmt.Sprintf(`COPY (SELECT * EXCLUDE (region, month) FROM lake WHERE region = %s AND month = %s ORDER BY cohort, region_level DESC, region_code)
			TO %s (FORMAT parquet)`, sqlString(p[0]), sqlString(p[1]), sqlString(tmp))
		if _, err := db.ExecContext(ctx, stmt); err != nil {
			return nil, fmt.Errorf("analytics: lake: %s: %w", final, err)
		}
		if err := os.Rename(tmp, final); err != nil { // readers see the old file or the new one
			return nil, fmt.Errorf("analytics: lake: %w", err)
		}
		written[final] = true
	}
	return written, nil
}

// removeStale removes this instance's files the export did not write:
// counts of a month or county the snapshot no longer has.
func removeStale(opt LakeOptions, written map[string]bool) (int, error) {
	old, err := filepath.Glob(filepath.Join(opt.Dir, "cohort_counts", "region=*", "month=*", opt.Instance+".parquet"))
	if err != nil {
		return 0, fmt.Errorf("analytics: lake: %w", err)
	}
	n := 0
	for _, f := range old {
		if written[f] {
			continue
		}
		if err := os.Remove(f); err != nil && !errors.Is(err, os.ErrNotExist) {
			return n, fmt.Errorf("analytics: lake: %w", err)
		}
		n++
	}
	return n, nil
}

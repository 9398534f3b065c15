package analytics_test

import (
	"context"
	"database/sql"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"safetynet/analytics"
	"safetynet/config"
	"safetynet/jobs"
)

// lakeCohorts are cohorts any county has, from large (registry members
// by tier) to small (deaths, the very old), so the lake holds counts
// shown and counts withheld.
func lakeCohorts() map[string]analytics.Definition {
	eighty := 80
	return map[string]analytics.Definition{
		"低保人员":       {Unit: analytics.Persons, Membership: analytics.InRegistry, Region: "33", Tiers: []string{"dibao"}, Period: analytics.Period{Last: 3}},
		"全部户":        {Unit: analytics.Households, Membership: analytics.Both, Region: "33", Period: analytics.Period{Last: 2}},
		"八十岁以上女性":    {Unit: analytics.Persons, Membership: analytics.Both, Region: "33", Sex: "female", AgeMin: &eighty, Period: analytics.Period{Last: 2}},
		"有重病或残疾信号的户": {Unit: analytics.Households, Membership: analytics.Both, Region: "33", Signals: []string{"serious_illness", "severe_disability"}, Period: analytics.Period{Last: 2}},
	}
}

// lakeRow is a row of the lake as Trino or Spark would read it.
type lakeRow struct {
	region, month, instance, cohort, code, level, shown string
	count                                               sql.NullInt64
	k                                                   int
}

// readLake reads every instance's files with Hive partitioning.
func readLake(t *testing.T, lake string) []lakeRow {
	t.Helper()
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(fmt.Sprintf(`SELECT region, month, instance, cohort, region_code, region_level, shown, count, small_cell
		FROM read_parquet('%s/cohort_counts/*/*/*.parquet', hive_partitioning = true) ORDER BY ALL`, lake))
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []lakeRow
	for rows.Next() {
		var r lakeRow
		if err := rows.Scan(&r.region, &r.month, &r.instance, &r.cohort, &r.code, &r.level, &r.shown, &r.count, &r.k); err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	return out
}

// TestLakeHoldsSuppressedCountsOfEveryInstance: two counties, each its
// own instance with its own store and snapshot, export their saved
// cohorts to one shared folder after publishing. Read back as the
// province's engine would (all files, Hive partitions), the lake holds
// both counties under their own names, every count that is shown is the
// instance's exact count, none is from 1 to k−1, and no withheld count
// can be worked out from its county's total. A later export with fewer
// months removes that instance's files no longer current and leaves the
// other's alone.
func TestLakeHoldsSuppressedCountsOfEveryInstance(t *testing.T) {
	ctx := context.Background()
	lake := t.TempDir()
	const k = 5
	counties := map[string]string{"county-a": "330110", "county-b": "330106"}
	exact := map[string]map[string]int{} // instance → cohort|month|code → exact count
	chains := map[string]*jobs.Chain{}
	for _, name := range slices.Sorted(maps.Keys(counties)) {
		chain, _ := siteOf(t, counties[name], func(c *config.Config) {
			c.Instance, c.Analytics.Lake, c.Analytics.SmallCell = name, lake, k
		})
		for cname, d := range lakeCohorts() {
			if _, err := analytics.SaveCohort(ctx, chain.DB, 0, cname, d, "analyst", time.Now()); err != nil {
				t.Fatal(err)
			}
		}
		// The run published before the cohorts were saved; publishing
		// again exports them, as every run after this one will.
		if err := chain.Publish(ctx, time.Now()); err != nil {
			t.Fatal(err)
		}
		exact[name] = exactCounts(t, chain.Cfg.Analytics.Dir, counties[name])
		chains[name] = chain
	}

	rows := readLake(t, lake)
	shown, withheld := 0, 0
	tables := map[string][]lakeRow{} // region|month|cohort → its townships and total
	for _, r := range rows {
		if counties[r.instance] != r.region || r.code[:6] != r.region || r.k != k {
			t.Fatalf("%+v: a row of another county, or another k", r)
		}
		want, ok := exact[r.instance][r.cohort+"|"+r.month+"|"+r.code]
		switch {
		case !ok:
			t.Fatalf("%+v: no such count in the instance's own snapshot", r)
		case r.count.Valid && (int(r.count.Int64) != want || r.shown != strconv.Itoa(want)):
			t.Fatalf("%+v: shown, but the instance counts %d", r, want)
		case r.count.Valid && want > 0 && want < k:
			t.Fatalf("%+v: a count below %d left the instance", r, k)
		case !r.count.Valid && r.shown != "<5" && r.shown != "×":
			t.Fatalf("%+v: withheld, but shown as %q", r, r.shown)
		case !r.count.Valid && r.shown == "<5" && (want < 1 || want >= k):
			t.Fatalf("%+v: shown as <5, but the count is %d", r, want)
		}
		if r.count.Valid {
			shown++
		} else {
			withheld++
		}
		key := r.region + "|" + r.month + "|" + r.cohort
		tables[key] = append(tables[key], r)
	}
	for key, tbl := range tables {
		var total lakeRow
		hidden, hiddenSum := 0, 0
		for _, r := range tbl {
			switch {
			case r.level == "county":
				total = r
			case !r.count.Valid:
				hidden++
				hiddenSum += exact[r.instance][r.cohort+"|"+r.month+"|"+r.code]
			}
		}
		if total.count.Valid && (hidden == 1 || (hidden > 1 && hiddenSum < k)) {
			t.Errorf("%s: %d townships withheld (%d in all) under a shown total of %d: the total gives them away", key, hidden, hiddenSum, total.count.Int64)
		}
	}
	if shown == 0 || withheld == 0 || len(tables) < 8 {
		t.Fatalf("%d counts shown, %d withheld, %d tables: the test needs both kinds", shown, withheld, len(tables))
	}
	t.Logf("%d rows in %d tables: %d shown, %d withheld", len(rows), len(tables), shown, withheld)

	// County A's cohorts counted over the last month only: its earlier
	// months go, B's files stay.
	before := lakeFiles(t, lake)
	a := chains["county-a"]
	saved, err := analytics.Cohorts(ctx, a.DB)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range saved {
		c.Definition.Period = analytics.Period{Last: 1}
		if _, err := analytics.SaveCohort(ctx, a.DB, c.ID, c.Name, c.Definition, "analyst", time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	exp, err := a.ExportLake(ctx)
	if err != nil {
		t.Fatal(err)
	}
	after := lakeFiles(t, lake)
	aBefore := 0
	for _, f := range before {
		if filepath.Base(f) == "county-a.parquet" {
			aBefore++
		}
	}
	if aBefore < 2 || exp.Files != 1 || exp.Removed != aBefore-1 || len(after) != len(before)-exp.Removed {
		t.Fatalf("re-export: %+v; %d files before (county-a's %d), %d after: want county-a's earlier months removed", exp, len(before), aBefore, len(after))
	}
	for _, f := range before {
		if filepath.Base(f) == "county-b.parquet" && !slices.Contains(after, f) {
			t.Fatalf("county-a's export removed %s", f)
		}
	}

	// A lake that cannot be written (a file where its folder should be):
	// the snapshot is still published, and the run says why the counts
	// did not leave.
	blocked := filepath.Join(t.TempDir(), "not-a-folder")
	os.WriteFile(blocked, []byte("x"), 0o644)
	a.Cfg.Analytics.Lake = blocked
	err = a.Publish(ctx, time.Now().Add(time.Minute))
	if err == nil || !strings.Contains(err.Error(), "did not reach the lake "+blocked) {
		t.Fatalf("publishing into a blocked lake: %v", err)
	}
	if _, man, err := analytics.Current(a.Cfg.Analytics.Dir); err != nil || man.Name == exp.Snapshot {
		t.Fatalf("the snapshot was not published beside the failed export: %v %v", man, err)
	}
	// /metrics says so: the lake's failure counted, its last success and
	// the snapshot's noted.
	reg := prometheus.NewRegistry()
	reg.MustRegister(jobs.Collectors()...)
	got := map[string]float64{}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "step" {
					got[mf.GetName()+"/"+l.GetValue()] = m.GetCounter().GetValue() + m.GetGauge().GetValue()
				}
			}
		}
	}
	if got["safetynet_analytics_failures_total/lake"] < 1 || got["safetynet_analytics_last_success_timestamp_seconds/lake"] < float64(time.Now().Add(-time.Hour).Unix()) ||
		got["safetynet_analytics_last_success_timestamp_seconds/snapshot"] < float64(time.Now().Add(-time.Hour).Unix()) {
		t.Fatalf("metrics after a failed export: %v", got)
	}
}

// exactCounts are an instance's own counts of the lake's cohorts, by
// township and for the county, unsuppressed.
func exactCounts(t *testing.T, dir, county string) map[string]int {
	t.Helper()
	ctx := context.Background()
	q, err := analytics.Open(ctx, dir, "", analytics.DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	out := map[string]int{}
	for name, d := range lakeCohorts() {
		for _, m := range d.Period.Months(q.Latest()) {
			tbl, err := q.CountByRegion(ctx, &d, county, m)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range tbl.Rows {
				out[name+"|"+m+"|"+r.Code] = r.Count
			}
			out[name+"|"+m+"|"+county] = tbl.Total
		}
	}
	return out
}

func lakeFiles(t *testing.T, lake string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(lake, "cohort_counts", "region=*", "month=*", "*.parquet"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if _, err := os.Stat(f); err != nil {
			t.Fatal(err)
		}
	}
	return files
}

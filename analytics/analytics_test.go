package analytics_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"github.com/apache/arrow-go/v18/arrow/array"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	_ "github.com/duckdb/duckdb-go/v2"

	"safetynet/alerts"
	"safetynet/analytics"
	"safetynet/config"
	"safetynet/ingest"
	"safetynet/jobs"
	"safetynet/store"
	"safetynet/synth"
)

const key = "test-pseudonym-key-0123456789"

// site runs a synthetic county through the chain with the pseudonym key
// set, so the run publishes a snapshot.
func site(t *testing.T) (*jobs.Chain, *synth.County) {
	return siteOf(t, "", nil)
}

// siteOf is site for the county area (synth.DefaultArea when ""), with
// its config changed by edit first.
func siteOf(t *testing.T, area string, edit func(*config.Config)) (*jobs.Chain, *synth.County) {
	t.Helper()
	t.Setenv("SAFETYNET_PSEUDONYM_KEY", key)
	dir := t.TempDir()
	file, err := config.Init(dir)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(file)
	if err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		edit(cfg)
	}
	db, err := jobs.OpenStore(context.Background(), cfg.Database)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	pack, _ := alerts.LoadPack(nil)
	chain := &jobs.Chain{Cfg: cfg, DB: db, Pack: pack, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	asOf := time.Now()
	opt := synth.DefaultOptions(asOf)
	opt.Households, opt.Records, opt.Outsiders, opt.Area = 300, 3000, 300, area
	county, err := synth.Generate(opt)
	if err != nil {
		t.Fatal(err)
	}
	if err := county.Write(cfg.Inbox, dir); err != nil {
		t.Fatal(err)
	}
	rep, err := chain.Run(context.Background(), "test", time.Time{})
	if err != nil || rep.Analytics != "" {
		t.Fatalf("run: %v %s", err, rep.Analytics)
	}
	return chain, county
}

// TestSnapshotPublished: the views land as Hive-partitioned Parquet, the
// current month's registry count is the store's, and no name or ID is in
// any file: people are pseudonyms, the same ones on the next publish and
// other ones under another key.
func TestSnapshotPublished(t *testing.T) {
	ctx := context.Background()
	chain, _ := site(t)
	dir := chain.Cfg.Analytics.Dir
	snap, man, err := analytics.Current(dir)
	if err != nil {
		t.Fatal(err)
	}
	if man.Views["registry_months"] == 0 || man.Views["alerts"] == 0 {
		t.Fatalf("manifest: %+v", man.Views)
	}
	parts, _ := filepath.Glob(filepath.Join(snap, "registry_months", "region=*", "month=*", "*.parquet"))
	if len(parts) == 0 {
		t.Fatal("no region=…/month=… partitions")
	}
	for _, p := range parts {
		if !regexp.MustCompile(`region=\d{6}/month=\d{4}-\d{2}/`).MatchString(filepath.ToSlash(p)) {
			t.Errorf("partition path %s", p)
		}
	}
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	read := func(view string) string {
		return "read_parquet('" + filepath.Join(snap, view) + "/*/*/*.parquet', hive_partitioning = true)"
	}
	month := time.Now().UTC().Format("2006-01")
	var published, stored int
	db.QueryRow(`SELECT count(*) FROM ` + read("registry_months") + ` WHERE month = '` + month + `'`).Scan(&published)
	chain.DB.QueryRow(`SELECT count(*) FROM members m JOIN households h USING (household_id) WHERE coalesce(h.status, 'active') = 'active'`).Scan(&stored)
	if published != stored || stored == 0 {
		t.Errorf("registry members this month: %d published, %d in the store", published, stored)
	}
	// No personal data: no ID, no name, no phone of anyone in the store.
	var personal int
	for _, view := range []string{"registry_months", "alerts"} {
		var n int
		q := `WITH cells AS (SELECT unnest(map_values(map_from_entries(list_transform(json_keys(to_json(t)), k -> {'k': k, 'v': json_extract_string(to_json(t), k)})))) AS v FROM ` + read(view) + ` t)
			SELECT count(*) FROM cells WHERE regexp_matches(v, '^[0-9]{17}[0-9X]$') OR v IN (SELECT name FROM names)`
		names := make([]string, 0)
		rows, _ := chain.DB.Query(`SELECT DISTINCT name FROM members WHERE name IS NOT NULL UNION SELECT DISTINCT coalesce(phone, '') FROM members`)
		for rows.Next() {
			var s string
			rows.Scan(&s)
			names = append(names, s)
		}
		rows.Close()
		db.Exec(`CREATE OR REPLACE TABLE names (name VARCHAR)`)
		for _, n := range names {
			if n != "" {
				db.Exec(`INSERT INTO names VALUES (?)`, n)
			}
		}
		if err := db.QueryRow(q).Scan(&n); err != nil {
			t.Fatal(err)
		}
		personal += n
	}
	if personal != 0 {
		t.Errorf("%d cells of the snapshot hold an ID, a name or a phone", personal)
	}
	pseudonyms := func(snap string) map[string]bool {
		out := map[string]bool{}
		rows, err := db.Query(`SELECT DISTINCT person FROM read_parquet('` + filepath.Join(snap, "registry_months") + `/*/*/*.parquet')`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			var p string
			rows.Scan(&p)
			out[p] = true
		}
		return out
	}
	first := pseudonyms(snap)
	again, err := analytics.Publish(ctx, chain.DB, withSignals(chain.DB, analytics.Options{Dir: dir, Key: key, Months: 24, Now: time.Now()}))
	if err != nil {
		t.Fatal(err)
	}
	if second := pseudonyms(filepath.Join(dir, "snapshots", again.Name)); len(second) != len(first) || !sameKeys(first, second) {
		t.Errorf("pseudonyms changed between two publishes with one key")
	}
	otherDir := t.TempDir()
	other, err := analytics.Publish(ctx, chain.DB, withSignals(chain.DB, analytics.Options{Dir: otherDir, Key: "another-key-9876543210", Months: 24, Now: time.Now()}))
	if err != nil {
		t.Fatal(err)
	}
	for p := range pseudonyms(filepath.Join(otherDir, "snapshots", other.Name)) {
		if first[p] {
			t.Errorf("pseudonym %s is the same under another key", p)
			break
		}
	}
	if _, err := analytics.Publish(ctx, chain.DB, withSignals(chain.DB, analytics.Options{Dir: dir, Key: "", Now: time.Now()})); !errors.Is(err, analytics.ErrNoKey) {
		t.Errorf("publish without a key: %v", err)
	}
	// Two more: the last three are kept, the newest current.
	var last *analytics.Manifest
	for i := 0; i < 2; i++ {
		if last, err = analytics.Publish(ctx, chain.DB, withSignals(chain.DB, analytics.Options{Dir: dir, Key: key, Months: 24, Now: time.Now()})); err != nil {
			t.Fatal(err)
		}
	}
	kept, _ := filepath.Glob(filepath.Join(dir, "snapshots", "*"))
	cur, _, _ := analytics.Current(dir)
	if len(kept) != 3 || filepath.Base(cur) != last.Name {
		t.Errorf("%d snapshots kept (want 3), current %s (want %s)", len(kept), filepath.Base(cur), last.Name)
	}
}

// withSignals gives a publish the rule pack's views, as the chain does.
// deliverRegistry stores registry files (CSV texts, households before
// members), each a batch whose versions begin at `at`.
func deliverRegistry(t *testing.T, db *store.DB, at time.Time, files ...string) {
	t.Helper()
	dir := t.TempDir()
	for i, text := range files {
		p := filepath.Join(dir, fmt.Sprintf("registry-%d.csv", i))
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := ingest.IngestFile(context.Background(), db, "registry", p, ingest.Options{Now: func() time.Time { return at }}); err != nil {
			t.Fatal(err)
		}
	}
}

func withSignals(db *store.DB, opt analytics.Options) analytics.Options {
	pack, _ := alerts.LoadPack(nil)
	ev := &alerts.Evaluator{DB: db, Pack: pack, SeriousIllness: []string{"C00-C97", "I21", "N18.5"}}
	opt.Prepare = func(ctx context.Context, conn *sql.Conn) error { return ev.Prepare(ctx, conn, opt.Now) }
	opt.Prepared = ev.Prepared()
	return opt
}

func sameKeys(a, b map[string]bool) bool {
	for k := range a {
		if !b[k] {
			return false
		}
	}
	return true
}

// TestInterruptedPublishKeepsThePrevious: a view that fails half way
// leaves the previous snapshot current and nothing half written behind.
func TestInterruptedPublishKeepsThePrevious(t *testing.T) {
	chain, _ := site(t)
	dir := chain.Cfg.Analytics.Dir
	before, _, err := analytics.Current(dir)
	if err != nil {
		t.Fatal(err)
	}
	broken := append(append([]analytics.View(nil), analytics.Views...), analytics.View{Name: "broken", SQL: "SELECT * FROM no_such_view"})
	if _, err := analytics.Publish(context.Background(), chain.DB, withSignals(chain.DB, analytics.Options{Dir: dir, Key: key, Months: 24, Now: time.Now(), Views: broken})); err == nil {
		t.Fatal("a failing view published")
	}
	after, _, err := analytics.Current(dir)
	if err != nil || after != before {
		t.Errorf("current snapshot %s, want the previous %s (%v)", after, before, err)
	}
	left, _ := filepath.Glob(filepath.Join(dir, "snapshots", ".publishing-*"))
	if len(left) != 0 {
		t.Errorf("half-written snapshots left: %v", left)
	}
	if _, err := os.Stat(filepath.Join(before, "manifest.json")); err != nil {
		t.Errorf("the previous snapshot was damaged: %v", err)
	}
}

// TestQuerierScopeAndLimits: an analyst of one township sees its rows
// only, cannot read another's files, write, attach or change settings,
// and gets at most the rows and the time the limits allow.
func TestQuerierScopeAndLimits(t *testing.T) {
	ctx := context.Background()
	chain, _ := site(t)
	dir := chain.Cfg.Analytics.Dir
	var township string
	chain.DB.QueryRow(`SELECT left(region_code, 9) FROM households GROUP BY 1 ORDER BY count(*) DESC LIMIT 1`).Scan(&township)
	q, err := analytics.Open(ctx, dir, township, analytics.Limits{Rows: 5, Timeout: 2 * time.Second, Memory: "128MB"})
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	res, err := q.Query(ctx, `SELECT DISTINCT left(village, 9) FROM registry_months UNION SELECT DISTINCT left(village, 9) FROM alerts`)
	if err != nil || len(res.Rows) == 0 {
		t.Fatal(res, err)
	}
	for _, r := range res.Rows {
		if r[0] != township {
			t.Errorf("an analyst of %s sees township %s", township, r[0])
		}
	}
	res, err = q.Query(ctx, `SELECT person FROM registry_months`)
	if err != nil || len(res.Rows) != 5 || !res.Truncated {
		t.Errorf("row limit: %d rows, truncated %v, %v", len(res.Rows), res != nil && res.Truncated, err)
	}
	snap, _, _ := analytics.Current(dir)
	others, _ := filepath.Glob(filepath.Join(snap, "registry_months", "region=*"))
	for _, o := range others {
		if strings.HasSuffix(o, "region="+township) {
			continue
		}
		if _, err := q.Query(ctx, `SELECT count(*) FROM read_parquet('`+o+`/*/*.parquet')`); err == nil {
			t.Errorf("another township's files are readable: %s", o)
		}
		break
	}
	for _, stmt := range []string{
		`CREATE TABLE x AS SELECT 1`, `COPY registry_months TO '/tmp/out.csv'`, `ATTACH '/tmp/x.duckdb'`,
		`SET enable_external_access = true`, `SELECT 1; SELECT 2`, `INSERT INTO registry_months VALUES (1)`, `DROP VIEW alerts`,
	} {
		if _, err := q.Query(ctx, stmt); !errors.Is(err, analytics.ErrNotSelect) {
			t.Errorf("%q: %v, want it refused as not a SELECT", stmt, err)
		}
	}
	if _, err := analytics.Open(ctx, dir, "33' OR 1=1 --", analytics.DefaultLimits); err == nil || !strings.Contains(err.Error(), "not a region-code prefix") {
		t.Errorf("a scope that is not a region code: %v", err)
	}
	if _, err := q.Query(ctx, `SELECT count(*) FROM read_csv('/etc/passwd')`); err == nil {
		t.Error("a file outside the snapshot was read")
	}
	slow, err := analytics.Open(ctx, dir, "", analytics.Limits{Rows: 1, Timeout: time.Millisecond, Memory: "128MB"})
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	if _, err := slow.Query(ctx, `SELECT count(*) FROM range(100000000) a, range(100) b WHERE a.range * b.range % 7 = 3`); err == nil || !strings.Contains(err.Error(), "ran longer than") {
		t.Errorf("a query past its time limit: %v", err)
	}
}

// TestFunnel: raised → dispatched → visited → helped, then found in the
// data: a person discovery found outside the registry is a member a month
// later, and a household's benefit changes a month later. Each count is
// checked against the store.
func TestFunnel(t *testing.T) {
	ctx := context.Background()
	chain, _ := site(t)
	db, now := chain.DB, time.Now()
	all, err := alerts.List(ctx, db, alerts.Filter{Status: "open"})
	if err != nil || len(all) < 5 {
		t.Fatalf("alerts: %d %v", len(all), err)
	}
	var household, discovered string
	var changedWant int
	for _, a := range all {
		if a.RuleID == "discovery" && discovered == "" {
			discovered = a.IDNumber
		}
		if a.RuleID == "temporary_assistance" && household == "" {
			household = a.HouseholdID
		}
	}
	if discovered == "" || household == "" {
		t.Fatal("the county has no discovery or temporary_assistance alert")
	}
	for _, a := range all {
		if a.HouseholdID == household || (a.HouseholdID == "" && a.IDNumber == discovered) {
			changedWant++
		}
	}
	visited := 0
	for i, a := range all[:3] {
		if err := alerts.Act(ctx, db, alerts.Move{AlertID: a.AlertID, Action: alerts.Dispatch, Actor: "op", At: now}); err != nil {
			t.Fatal(err)
		}
		if i < 2 {
			if err := alerts.Act(ctx, db, alerts.Move{AlertID: a.AlertID, Action: alerts.Visit, Actor: "gw", Outcome: "assisted_application", At: now.Add(time.Hour)}); err != nil {
				t.Fatal(err)
			}
			visited++
		}
	}
	// A month later the registry enrolls the person and changes the household's benefit.
	later := now.AddDate(0, 1, 10)
	var region string
	db.QueryRow(`SELECT region_code FROM households WHERE household_id = ?`, household).Scan(&region)
	deliverRegistry(t, db, later,
		"户编号,保障类别,行政区划代码,家庭年收入,家庭人口,月保障金额,状态\n"+household+",低保,"+region+",1000,1,999,在保\nHNEW,低保,"+region+",1000,1,480,在保\n",
		"户编号,姓名,身份证号\nHNEW,新成员,"+discovered+"\n")
	adir := t.TempDir()
	if _, err := analytics.Publish(ctx, db, withSignals(db, analytics.Options{Dir: adir, Key: key, Months: 24, Now: later})); err != nil {
		t.Fatal(err)
	}
	q, err := analytics.Open(ctx, adir, "", analytics.DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	rows, err := q.Funnel(ctx, "all")
	if err != nil || len(rows) != 1 {
		t.Fatalf("funnel: %+v %v", rows, err)
	}
	var raised int
	db.QueryRow(`SELECT count(*) FROM alert_facts`).Scan(&raised)
	got := rows[0]
	if got.Raised != raised || got.Dispatched != 3 || got.Visited != visited || got.Helped != visited || got.InTime != visited || got.Changed != changedWant {
		t.Errorf("funnel %+v; want raised %d, dispatched 3, visited, helped and in time %d, changed %d", got, raised, visited, changedWant)
	}
	if got.MedianHoursToVisit < 0.9 || got.MedianHoursToVisit > 1.1 {
		t.Errorf("median hours to the visit %.2f, want 1", got.MedianHoursToVisit)
	}
	byRule, err := q.Funnel(ctx, "rule")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range byRule {
		if r.Group == "discovery" && r.Changed < 1 {
			t.Errorf("the discovered person enrolled a month later is not counted: %+v", r)
		}
	}
	if _, err := q.Funnel(ctx, "colour"); err == nil {
		t.Error("an unknown grouping was accepted")
	}
	funnelAgreesWithReference(t, q)
}

// funnelReference is the funnel as plain correlated SQL, what the joins
// of funnelSQL must count, grouped by %s.
const funnelReference = `SELECT %s AS grp, count(*), count(a.dispatched_at), count(a.visited_at), count(*) FILTER (a.visited_in_time),
       count(*) FILTER (a.outcome = 'assisted_application'),
       count(*) FILTER (CASE WHEN a.outside_registry
           THEN EXISTS (SELECT 1 FROM registry_months r WHERE r.person = a.person AND r.month > a.month)
           ELSE EXISTS (SELECT 1 FROM registry_months r WHERE r.household = a.household AND r.month > a.month
                AND (r.tier IS DISTINCT FROM (SELECT arg_max(b.tier, b.month) FROM registry_months b WHERE b.household = a.household AND b.month <= a.month)
                  OR r.monthly_benefit IS DISTINCT FROM (SELECT arg_max(b.monthly_benefit, b.month) FROM registry_months b WHERE b.household = a.household AND b.month <= a.month))
                AND EXISTS (SELECT 1 FROM registry_months b WHERE b.household = a.household AND b.month <= a.month)) END)
FROM alerts a GROUP BY grp ORDER BY grp`

// funnelAgreesWithReference compares every grouping of the funnel with
// funnelReference.
func funnelAgreesWithReference(t *testing.T, q *analytics.Querier) {
	t.Helper()
	ctx := context.Background()
	groups := map[string]string{"all": "'all'", "rule": "rule", "region": "left(village, 9)", "month": "month"}
	for _, by := range analytics.FunnelBy {
		got, err := q.Funnel(ctx, by)
		if err != nil {
			t.Fatal(err)
		}
		want, err := q.Query(ctx, fmt.Sprintf(funnelReference, groups[by]))
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(want.Rows) {
			t.Fatalf("funnel by %s: %d groups, the reference %d", by, len(got), len(want.Rows))
		}
		changed := 0
		for i, r := range want.Rows {
			g := got[i]
			line := fmt.Sprintf("%s %d %d %d %d %d %d", g.Group, g.Raised, g.Dispatched, g.Visited, g.InTime, g.Helped, g.Changed)
			if ref := strings.Join(r[:7], " "); line != ref {
				t.Errorf("funnel by %s: %s, the reference %s", by, line, ref)
			}
			changed += g.Changed
		}
		if changed == 0 {
			t.Errorf("funnel by %s: nothing changed, so the comparison says nothing", by)
		}
	}
}

// TestEmptyStore: a fresh installation publishes empty views that a
// query can still name.
func TestEmptyStore(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db, err := jobs.OpenStore(ctx, filepath.Join(dir, "e.duckdb"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	man, err := analytics.Publish(ctx, db, withSignals(db, analytics.Options{Dir: dir, Key: key, Months: 3, Now: time.Now()}))
	if err != nil {
		t.Fatal(err)
	}
	if man.Views["registry_months"] != 0 || man.Views["alerts"] != 0 {
		t.Errorf("rows in an empty store: %+v", man.Views)
	}
	q, err := analytics.Open(ctx, dir, "330110", analytics.DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	res, err := q.Query(ctx, `SELECT count(*) FROM registry_months JOIN alerts USING (region)`)
	if err != nil || len(res.Rows) != 1 || res.Rows[0][0] != "0" {
		t.Errorf("query over empty views: %+v %v", res, err)
	}
}

// TestRecordsKeepOrderBy: rows may come in any order unless the query
// says ORDER BY (the querier lets DuckDB write on every thread); with it,
// a result of millions of rows comes back in its order.
func TestRecordsKeepOrderBy(t *testing.T) {
	ctx := context.Background()
	chain, _ := site(t)
	q, err := analytics.Open(ctx, chain.Cfg.Analytics.Dir, "", analytics.Limits{Rows: 10, Timeout: time.Minute, Memory: "512MB"})
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	const n = 3_000_000
	var got int64
	prev := int64(n)
	err = q.Records(ctx, `SELECT range AS x, 'row ' || range AS label FROM range(3000000) ORDER BY x DESC`, func(rr array.RecordReader) error {
		for rr.Next() {
			col := rr.RecordBatch().Column(0).(*array.Int64)
			for i := 0; i < col.Len(); i++ {
				if v := col.Value(i); v != prev-1 {
					return fmt.Errorf("row %d: %d after %d", got, v, prev)
				} else {
					prev = v
				}
				got++
			}
		}
		return nil
	})
	if err != nil || got != n {
		t.Fatalf("%d of %d rows in order: %v", got, n, err)
	}
}

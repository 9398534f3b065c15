package analytics_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"safetynet/analytics"
	"safetynet/ingest"
	"safetynet/store"
)

// monthEnds are the instants the snapshot counts each month by: the last
// moment of the month, in the database's time zone.
func monthEnd(t *testing.T, db *store.DB, month string) time.Time {
	var end time.Time
	if err := db.QueryRow(`SELECT strptime(? || '-01', '%Y-%m-%d')::TIMESTAMPTZ + INTERVAL 1 MONTH - INTERVAL 1 MICROSECOND`, month).Scan(&end); err != nil {
		t.Fatal(err)
	}
	return end
}

// registryCount counts registry members (or households) straight from the
// registry's versions, as of a month's end: the independent answer.
func registryCount(t *testing.T, db *store.DB, end time.Time, where string, households bool) int {
	what := "coalesce(i.id_number, m.household_id || '|' || m.id_number)"
	if households {
		what = "h.household_id"
	}
	var n int
	q := fmt.Sprintf(`SELECT count(DISTINCT %s) FROM household_versions h
		JOIN member_versions m ON m.household_id = h.household_id AND m.valid_from <= $1 AND (m.valid_to IS NULL OR m.valid_to > $1)
		LEFT JOIN person_ids i ON i.id_raw = m.id_number
		WHERE h.valid_from <= $1 AND (h.valid_to IS NULL OR h.valid_to > $1) AND h.status = 'active' AND %s`, what, where)
	if err := db.QueryRow(q, end).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

// TestCohortCounts: cohorts counted by region and month agree with
// queries over the registry's own versions, including a household that
// left the registry in the second month; a cohort written as SQL agrees
// with the same cohort from the form; every version of a saved cohort is
// kept.
func TestCohortCounts(t *testing.T) {
	ctx := context.Background()
	chain, _ := site(t)
	db, now := chain.DB, time.Now()
	var leaving, township, tier string
	var size int
	db.QueryRow(`SELECT h.household_id, left(h.region_code, 9), h.tier, count(*) FROM households h JOIN members m USING (household_id)
		WHERE h.tier = 'dibao' GROUP BY ALL ORDER BY count(*) DESC, 1 LIMIT 1`).Scan(&leaving, &township, &tier, &size)
	// Next month the household leaves the registry (停保).
	left := time.Date(now.Year(), now.Month()+1, 12, 9, 0, 0, 0, time.Local)
	dir := t.TempDir()
	p := filepath.Join(dir, "h.csv")
	var region string
	db.QueryRow(`SELECT region_code FROM households WHERE household_id = ?`, leaving).Scan(&region)
	os.WriteFile(p, []byte("户编号,保障类别,行政区划代码,家庭年收入,家庭人口,月保障金额,状态\n"+leaving+",低保,"+region+",1000,"+fmt.Sprint(size)+",480,停保\n"), 0o644)
	if _, err := ingest.IngestFile(ctx, db, "registry", p, ingest.Options{Now: func() time.Time { return left }}); err != nil {
		t.Fatal(err)
	}
	at := now.AddDate(0, 3, 0)
	adir := t.TempDir()
	if _, err := analytics.Publish(ctx, db, withSignals(db, analytics.Options{Dir: adir, Key: key, Months: 24, Now: at})); err != nil {
		t.Fatal(err)
	}
	q, err := analytics.Open(ctx, adir, "", analytics.DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()

	dibao := analytics.Definition{Unit: analytics.Persons, Membership: analytics.InRegistry, Tiers: []string{"dibao"}, Region: township, Period: analytics.Period{Last: 4}}
	series, err := q.Series(ctx, &dibao, "")
	if err != nil || len(series) != 4 {
		t.Fatalf("series: %v %v", series, err)
	}
	t.Logf("series %v, household of %d left", series, size)
	for i, m := range series {
		want := registryCount(t, db, monthEnd(t, db, m.Month), "h.tier = 'dibao' AND left(h.region_code, 9) = '"+township+"'", false)
		if m.Count != want {
			t.Errorf("%s: %d dibao members in %s, want %d", m.Month, m.Count, township, want)
		}
		if i == 1 && series[0].Count-m.Count != size {
			t.Errorf("the household of %d that left in %s: %d before, %d after", size, m.Month, series[0].Count, m.Count)
		}
	}
	// By village in the month the household had left, and by township in the county.
	month := series[2].Month
	villages, err := q.CountByRegion(ctx, &dibao, township, month)
	if err != nil || villages.Level != 12 || len(villages.Rows) == 0 {
		t.Fatalf("by village: %+v %v", villages, err)
	}
	for _, r := range villages.Rows {
		want := registryCount(t, db, monthEnd(t, db, month), "h.tier = 'dibao' AND h.region_code = '"+r.Code+"'", false)
		if r.Count != want {
			t.Errorf("village %s: %d, want %d", r.Code, r.Count, want)
		}
	}
	if villages.Total != series[2].Count {
		t.Errorf("the villages add up to %d, the series says %d", villages.Total, series[2].Count)
	}
	county := township[:6]
	bigHouseholds := analytics.Definition{Unit: analytics.Households, Membership: analytics.InRegistry, Region: county, SizeMin: ptr(3), Period: analytics.Period{Last: 2}}
	towns, err := q.CountByRegion(ctx, &bigHouseholds, county, "")
	if err != nil || towns.Level != 9 || towns.Parent.Name == "" {
		t.Fatalf("by township: %+v %v", towns, err)
	}
	latest := monthEnd(t, db, q.Latest())
	for _, r := range towns.Rows {
		want := registryCount(t, db, latest, "h.member_count >= 3 AND left(h.region_code, 9) = '"+r.Code+"'", true)
		if r.Count != want || r.Name == "" {
			t.Errorf("township %s %s: %d households of 3 or more, want %d", r.Code, r.Name, r.Count, want)
		}
	}

	// Everyone, in the registry or not, who paid 5,000 yuan or more for
	// medical care in the 12 months to the latest month's end.
	oop := analytics.Definition{Unit: analytics.Persons, Membership: analytics.Both, OutOfPocket: 5000, Period: analytics.Period{Last: 1}}
	got, err := q.Series(ctx, &oop, "")
	if err != nil {
		t.Fatal(err)
	}
	var want int
	db.QueryRow(`SELECT count(*) FROM (SELECT person_id FROM linked_medins WHERE person_id IS NOT NULL AND settle_date < $1::DATE + 1 AND settle_date >= ($1::DATE + 1) - INTERVAL 12 MONTH
		GROUP BY person_id HAVING sum(out_of_pocket) >= 5000)`, latest).Scan(&want)
	t.Logf("out-of-pocket ≥ 5000: %d; villages %+v; towns %+v", want, villages.Rows, towns.Rows)
	if want == 0 || got[0].Count != want {
		t.Errorf("out-of-pocket ≥ 5000: %d, want %d", got[0].Count, want)
	}

	// The same cohort as SQL.
	asSQL := analytics.Definition{Unit: analytics.Persons, SQL: "SELECT month, village, person FROM registry_months WHERE tier = 'dibao' AND left(village, 9) = '" + township + "'", Period: analytics.Period{Last: 4}}
	if err := asSQL.Check(); err != nil {
		t.Fatal(err)
	}
	if err := q.CheckSQL(ctx, &asSQL); err != nil {
		t.Fatal(err)
	}
	again, err := q.Series(ctx, &asSQL, "")
	if err != nil || fmt.Sprint(again) != fmt.Sprint(series) {
		t.Errorf("the SQL cohort: %v, the form's: %v (%v)", again, series, err)
	}
	for _, bad := range []string{"SELECT month FROM registry_months", "DELETE FROM alerts", "SELECT 1 AS month, 2 AS village, 3 AS person) c; DROP VIEW alerts; SELECT * FROM (SELECT 1"} {
		d := analytics.Definition{Unit: analytics.Persons, SQL: bad, Period: analytics.Period{Last: 1}}
		if err := q.CheckSQL(ctx, &d); err == nil {
			t.Errorf("cohort SQL %q accepted", bad)
		}
	}

	// Saved, edited, every version kept.
	c1, err := analytics.SaveCohort(ctx, db, 0, "本乡镇低保人员", dibao, "ana", now)
	if err != nil {
		t.Fatal(err)
	}
	edited := dibao
	edited.AgeMin = ptr(60)
	c2, err := analytics.SaveCohort(ctx, db, c1.ID, "本乡镇60岁以上低保人员", edited, "ana", now.Add(time.Minute))
	if err != nil || c2.ID != c1.ID || c2.Version != 2 {
		t.Fatalf("edit: %+v %v", c2, err)
	}
	v1, err := analytics.GetCohort(ctx, db, c1.ID, 1)
	if err != nil || v1.Definition.AgeMin != nil || v1.Name != "本乡镇低保人员" {
		t.Errorf("version 1 after the edit: %+v %v", v1, err)
	}
	list, _ := analytics.Cohorts(ctx, db)
	if len(list) != 1 || list[0].Version != 2 {
		t.Errorf("saved cohorts: %+v", list)
	}
	if _, err := analytics.SaveCohort(ctx, db, 99, "x", dibao, "ana", now); !errors.Is(err, analytics.ErrNoCohort) {
		t.Errorf("a version of a cohort that does not exist: %v", err)
	}
	bad := dibao
	bad.Region, bad.Tiers = "33' OR 1=1", []string{"gold"}
	if _, err := analytics.SaveCohort(ctx, db, 0, "x", bad, "ana", now); err == nil {
		t.Error("a definition with a bad region and tier was saved")
	}
}

func ptr(n int) *int { return &n }

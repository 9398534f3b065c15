package analytics_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"safetynet/analytics"
)

// referenceSQL is a cohort as the plainest correlated SQL over the views:
// each look-back filter a subquery per row, compared by date. It is slow
// and obviously right, and the cohort's own SQL must count the same.
func referenceSQL(d analytics.Definition, months []string) string {
	in := "(" + quoted(months) + ")"
	end := func(m string) string {
		return fmt.Sprintf(`CAST(strptime(%s || '-01', '%%Y-%%m-%%d') + INTERVAL 1 MONTH AS DATE)`, m)
	}
	look := func(person, household, month string, persons bool) []string {
		var w []string
		e := end(month)
		if len(d.Signals) > 0 {
			w = append(w, fmt.Sprintf(`EXISTS (SELECT 1 FROM signals g WHERE g.person = %s AND g.signal IN (%s) AND g."on" < %s AND g."on" >= %s - INTERVAL 12 MONTH)`,
				person, quoted(d.Signals), e, e))
		}
		if d.OutOfPocket > 0 {
			who := "o.person = " + person
			if !persons {
				who = "coalesce(o.household, o.person) = " + household
			}
			w = append(w, fmt.Sprintf(`(SELECT coalesce(sum(o.amount), 0) FROM signals o WHERE %s AND o.signal = 'out_of_pocket' AND o."on" < %s AND o."on" >= %s - INTERVAL 12 MONTH) >= %v`,
				who, e, e, d.OutOfPocket))
		}
		if len(d.AlertRules) > 0 {
			w = append(w, fmt.Sprintf(`EXISTS (SELECT 1 FROM alerts a WHERE (a.person = %s OR a.household = %s) AND a.rule IN (%s) AND a.raised_at < %s)`,
				person, household, quoted(d.AlertRules), e))
		}
		return w
	}
	static := func(t string) []string {
		var w []string
		if d.Region != "" {
			w = append(w, fmt.Sprintf("starts_with(%s.village, '%s')", t, d.Region))
		}
		if d.Sex != "" {
			w = append(w, fmt.Sprintf("%s.sex = '%s'", t, d.Sex))
		}
		return w
	}
	col := "person"
	if d.Unit == analytics.Households {
		col = "household"
	}
	var parts []string
	if d.Membership != analytics.Outside {
		w := append([]string{"r.month IN " + in}, static("r")...)
		if d.AgeMin != nil {
			w = append(w, "r.age >= "+strconv.Itoa(*d.AgeMin))
		}
		if d.SizeMin != nil {
			w = append(w, "r.household_size >= "+strconv.Itoa(*d.SizeMin))
		}
		w = append(w, look("r.person", "r.household", "r.month", d.Unit == analytics.Persons)...)
		parts = append(parts, fmt.Sprintf("SELECT r.month, r.village, r.%s AS %s FROM registry_months r WHERE %s", col, col, strings.Join(w, " AND ")))
	}
	if d.Membership != analytics.InRegistry {
		e := end("m.month")
		w := append([]string{`s."on" < ` + e, `s."on" >= ` + e + ` - INTERVAL 12 MONTH`,
			`NOT EXISTS (SELECT 1 FROM registry_months r WHERE r.person = s.person AND r.month = m.month)`}, static("s")...)
		if d.AgeMin != nil {
			w = append(w, fmt.Sprintf("year(%s - INTERVAL 1 DAY) - s.birth_year >= %d", e, *d.AgeMin))
		}
		w = append(w, look("s.person", "NULL", "m.month", true)...)
		parts = append(parts, fmt.Sprintf(`SELECT m.month, min(s.village) AS village, s.person AS %s FROM unnest([%s]) m(month) JOIN signals s ON true
WHERE %s GROUP BY m.month, s.person`, col, quoted(months), strings.Join(w, " AND ")))
	}
	return strings.Join(parts, "\nUNION ALL\n")
}

func quoted(items []string) string {
	q := make([]string, len(items))
	for i, s := range items {
		q[i] = "'" + s + "'"
	}
	return strings.Join(q, ", ")
}

// TestCohortSQLAgreesWithReference: every kind of filter (signals,
// out-of-pocket costs, alerts, age, sex, region; in the registry, outside
// it and both; persons and households) counts, month by month and
// township by township, what the plain correlated SQL counts.
func TestCohortSQLAgreesWithReference(t *testing.T) {
	ctx := context.Background()
	chain, _ := site(t)
	adir := t.TempDir()
	if _, err := analytics.Publish(ctx, chain.DB, withSignals(chain.DB, analytics.Options{Dir: adir, Key: key, Months: 24, Now: time.Now()})); err != nil {
		t.Fatal(err)
	}
	q, err := analytics.Open(ctx, adir, "", analytics.DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	var county, rule string
	if err := chain.DB.QueryRow(`SELECT left(region_code, 6) FROM households GROUP BY 1 ORDER BY count(*) DESC LIMIT 1`).Scan(&county); err != nil {
		t.Fatal(err)
	}
	if err := chain.DB.QueryRow(`SELECT rule_id FROM alerts GROUP BY 1 ORDER BY count(*) DESC LIMIT 1`).Scan(&rule); err != nil {
		t.Fatal(err)
	}
	last := analytics.Period{Last: 14}
	cohorts := map[string]analytics.Definition{
		"signals, both":                 {Unit: analytics.Persons, Membership: analytics.Both, Signals: []string{"serious_illness", "severe_disability"}, Period: last},
		"signals, households":           {Unit: analytics.Households, Membership: analytics.InRegistry, Signals: []string{"severe_disability", "dropout_child", "death"}, Period: last},
		"out of pocket, households":     {Unit: analytics.Households, Membership: analytics.Both, OutOfPocket: 3000, Period: last},
		"out of pocket, outside":        {Unit: analytics.Persons, Membership: analytics.Outside, OutOfPocket: 2000, Period: last},
		"alerts of a rule":              {Unit: analytics.Households, Membership: analytics.Both, AlertRules: []string{rule}, Period: last},
		"outside, aged 60, women":       {Unit: analytics.Persons, Membership: analytics.Outside, AgeMin: ptr(60), Sex: "female", Period: last},
		"registry, county, size 3, 60+": {Unit: analytics.Persons, Membership: analytics.InRegistry, Region: county, SizeMin: ptr(3), AgeMin: ptr(60), Period: last},
		"everyone with a signal":        {Unit: analytics.Persons, Membership: analytics.Both, Period: last},
	}
	for name, d := range cohorts {
		months := d.Period.Months(q.Latest())
		ref := analytics.Definition{Unit: d.Unit, SQL: referenceSQL(d, months), Period: d.Period}
		got, err := q.Series(ctx, &d, "")
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		want, err := q.Series(ctx, &ref, "")
		if err != nil {
			t.Fatalf("%s, reference: %v\n%s", name, err, ref.SQL)
		}
		total := 0
		for i := range got {
			total += got[i].Count
			if got[i] != want[i] {
				t.Errorf("%s: %s counts %d, the reference %d", name, got[i].Month, got[i].Count, want[i].Count)
			}
		}
		if total == 0 {
			t.Errorf("%s: no one in any month; the comparison says nothing", name)
		}
		for _, m := range []string{months[0], months[len(months)-1]} {
			a, err := q.CountByRegion(ctx, &d, county, m)
			if err != nil {
				t.Fatal(err)
			}
			b, err := q.CountByRegion(ctx, &ref, county, m)
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(a.Rows) != fmt.Sprint(b.Rows) {
				t.Errorf("%s in %s by township: %v, the reference %v", name, m, a.Rows, b.Rows)
			}
		}
		t.Logf("%s: %v", name, got)
	}
}

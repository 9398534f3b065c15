package jobs

import (
	"context"
	"fmt"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"safetynet/alerts"
	"safetynet/synth"
)

// TestEndToEnd generates a county, runs the chain once, and compares the
// alerts with the ones synth planted: every planted case found with its
// severity, and no near miss alerted.
func TestEndToEnd(t *testing.T) {
	asOf := time.Date(2026, 6, 30, 0, 0, 0, 0, time.UTC)
	opt := synth.DefaultOptions(asOf)
	opt.Households, opt.Records, opt.Outsiders = 1500, 15000, 2000
	endToEnd(t, opt, "e2e")
}

// TestEndToEndVillage: the planted households alone (39, a village's
// worth), where the clinic and the school leave the ID out of seven
// records in ten about registry members: every case is still found by
// name, sex and birth date, and no near miss is alerted.
func TestEndToEndVillage(t *testing.T) {
	asOf := time.Date(2026, 6, 30, 0, 0, 0, 0, time.UTC)
	opt := synth.DefaultOptions(asOf)
	opt.Households, opt.Records, opt.Outsiders, opt.NoID = 0, 60, 10, 0.7
	endToEnd(t, opt, "e2e village")
}

func endToEnd(t *testing.T, opt synth.Options, label string) {
	ctx := context.Background()
	dir := t.TempDir()
	chain := newSite(t, dir)
	cfg, db := chain.Cfg, chain.DB
	asOf := opt.AsOf
	county, err := synth.Generate(opt)
	if err != nil {
		t.Fatal(err)
	}
	if err := county.Write(cfg.Inbox, dir); err != nil {
		t.Fatal(err)
	}
	rep, err := chain.Run(ctx, "test", asOf)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range rep.Alerts.Failed() {
		t.Errorf("rule failed: %v", f.Err)
	}
	if rep.Rejected != 0 || rep.Quarantined != 0 {
		t.Errorf("clean synthetic files: %d rejected, %d rows quarantined", rep.Rejected, rep.Quarantined)
	}
	got, err := alerts.List(ctx, db, alerts.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	raised := map[string]alerts.Alert{}
	for _, a := range got {
		key := a.RuleID + "|household:" + a.HouseholdID
		if a.HouseholdID == "" {
			key = a.RuleID + "|person:" + a.IDNumber
		}
		raised[key] = a
	}
	expected := map[string]synth.Expected{}
	for _, e := range county.Expected {
		expected[e.Key()] = e
	}
	tp := 0
	for key, e := range expected {
		a, ok := raised[key]
		switch {
		case !ok:
			t.Errorf("missed: %s (%s)", key, e.Note)
		case a.Severity != e.Severity:
			t.Errorf("%s: severity %s, want %s (%s)", key, a.Severity, e.Severity, e.Note)
			tp++
		default:
			tp++
		}
	}
	var extra []string
	for key, a := range raised {
		if _, ok := expected[key]; !ok {
			extra = append(extra, fmt.Sprintf("%s: %s", key, a.Reason))
		}
	}
	sort.Strings(extra)
	for _, x := range extra {
		t.Errorf("not planted: %s", x)
	}
	for _, m := range county.NearMisses {
		if _, ok := raised[m.Key()]; ok {
			t.Errorf("near miss alerted: %s (%s)", m.Key(), m.Note)
		}
	}
	methods := map[string]int{}
	rows, err := db.QueryContext(ctx, `SELECT method, count(*) FROM match_links WHERE source <> 'members' GROUP BY ALL`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var m string
		var n int
		rows.Scan(&m, &n)
		methods[m] = n
	}
	rows.Close()
	t.Logf("%s: department records by link method: %v", label, methods)
	if opt.NoID > 0 && methods["probabilistic"] < methods["id_exact"] {
		t.Errorf("with %.0f%% of member records sent without an ID, only %d linked without one (%d by ID)", opt.NoID*100, methods["probabilistic"], methods["id_exact"])
	}
	precision := float64(tp) / float64(max(len(raised), 1))
	recall := float64(tp) / float64(len(expected))
	t.Logf("end to end: %d planted, %d raised, precision %.3f, recall %.3f (%d registry persons, %d department rows)",
		len(expected), len(raised), precision, recall, county.Persons(), county.Rows())
	fmt.Printf("%s precision=%.3f recall=%.3f planted=%d raised=%d\n", label, precision, recall, len(expected), len(raised))

	// Running again adds nothing: the files are gone from the inbox and
	// every case refreshes its open alert.
	rep, err = chain.Run(ctx, "test", asOf)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Files != 0 || rep.Alerts.Raised != 0 || rep.Alerts.Refreshed != len(raised) {
		t.Errorf("second run: %d files, %d raised, %d refreshed (want 0, 0, %d)", rep.Files, rep.Alerts.Raised, rep.Alerts.Refreshed, len(raised))
	}
	if _, err := filepath.Glob(filepath.Join(cfg.Processed, "*", "*")); err != nil {
		t.Fatal(err)
	}
}

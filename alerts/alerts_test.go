package alerts

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"safetynet/config"
	"safetynet/ingest"
	"safetynet/match"
	"safetynet/store"
)

var asOf = time.Date(2026, 6, 30, 0, 0, 0, 0, time.UTC)

// fixture stores a small registry and settlements and links them.
func fixture(t *testing.T, files map[string]string) *store.DB {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	db, err := store.Open(ctx, filepath.Join(dir, "t.duckdb"), ingest.Migrations(), match.Migrations(), Migrations())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	i := 0
	for source, body := range files {
		for _, part := range strings.Split(body, "\n---\n") {
			i++
			p := filepath.Join(dir, source+string(rune('a'+i))+".csv")
			os.WriteFile(p, []byte(part), 0o644)
			if _, err := ingest.IngestFile(ctx, db, strings.TrimRight(source, "0123456789"), p, ingest.Options{}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := match.Link(ctx, db); err != nil {
		t.Fatal(err)
	}
	return db
}

const households = "户编号,保障类别,行政区划代码,家庭年收入,家庭人口,状态\n" +
	"H1,低保,330110001001,12000,3,在保\n" + // per capita 4000
	"H2,低保,110105001001,0,1,在保\n" + // no income
	"H3,低保边缘,330110001002,24000,2,在保\n" // per capita 12000

const members = "户编号,姓名,身份证号\n" +
	"H1,王芳,11010519491231002X\n" +
	"H2,李强,440524188001010014\n" +
	"H3,张伟,330110198001010011\n"

func evaluator(db *store.DB, pack *Pack) *Evaluator {
	return &Evaluator{DB: db, Pack: pack, Standards: config.Standards{DefaultMonthly: 480, ByRegion: map[string]float64{"330110": 1000}},
		SeriousIllness: []string{"C00-C97", "N18.5"}}
}

func TestTemporaryAssistanceDetails(t *testing.T) {
	db := fixture(t, map[string]string{"registry1": households, "registry2": members,
		"medins": "结算编号,身份证号,结算日期,个人自付\n" +
			"S1,11010519491231002X,2026-06-20,10000\n" + // H1: ratio 2.5
			"S2,440524188001010014,2026-06-25,300\n" + // H2: no income
			"S3,330110198001010011,2026-06-25,11000\n"}) // H3: ratio 0.92, no alert
	pack, err := LoadPack(nil)
	if err != nil {
		t.Fatal(err)
	}
	got, rep, err := evaluator(db, pack).DryRun(context.Background(), asOf)
	if err != nil || len(rep.Failed()) > 0 {
		t.Fatalf("%v %v", err, rep.Failed())
	}
	cases := map[string]Case{}
	for _, c := range got["temporary_assistance"] {
		cases[c.HouseholdID] = c
	}
	if len(cases) != 2 {
		t.Fatalf("want alerts for H1 and H2, got %+v", got["temporary_assistance"])
	}
	check := func(hh, sev string, want map[string]any) {
		c := cases[hh]
		var d map[string]any
		json.Unmarshal([]byte(c.Details), &d)
		if c.Severity != sev {
			t.Errorf("%s: severity %s, want %s", hh, c.Severity, sev)
		}
		for k, v := range want {
			if d[k] != v {
				t.Errorf("%s: details.%s = %v, want %v (%s)", hh, k, d[k], v, c.Details)
			}
		}
		if len(c.Evidence) != 1 || c.Evidence[0].Source != "medins" {
			t.Errorf("%s: evidence %+v", hh, c.Evidence)
		}
	}
	check("H1", "critical", map[string]any{"ratio": 2.5, "bracket": "3000_to_5000", "recommended_max": 5000.0, "approval": "county"})
	check("H2", "critical", map[string]any{"ratio": nil, "bracket": "joint_meeting", "recommended_max": nil, "approval": "county"})
	if cases["H1"].IDNumber != "11010519491231002X" {
		t.Errorf("H1 person: %q", cases["H1"].IDNumber)
	}
}

func TestBrokenRuleDoesNotStopOthers(t *testing.T) {
	db := fixture(t, map[string]string{"registry1": households, "registry2": members,
		"medins": "结算编号,身份证号,结算日期,个人自付\nS1,11010519491231002X,2026-06-20,10000\n"})
	pack, _ := LoadPack(nil)
	pack.Rules[0].SQL = "SELECT * FROM no_such_table"
	_, rep, err := evaluator(db, pack).DryRun(context.Background(), asOf)
	if err != nil {
		t.Fatal(err)
	}
	failed := rep.Failed()
	if len(failed) != 1 || failed[0].RuleID != pack.Rules[0].ID || !strings.Contains(failed[0].Err.Error(), "no_such_table") {
		t.Fatalf("failed rules: %+v", failed)
	}
	for _, r := range rep.Rules {
		if r.RuleID == "temporary_assistance" && r.Cases != 1 {
			t.Errorf("temporary_assistance found %d cases after another rule failed", r.Cases)
		}
	}
}

func TestLifecycleOneOpenAlertAndEvidence(t *testing.T) {
	ctx := context.Background()
	db := fixture(t, map[string]string{"registry1": households, "registry2": members,
		"medins": "结算编号,身份证号,结算日期,个人自付\nS1,11010519491231002X,2026-06-20,5000\n"})
	pack, _ := LoadPack(nil)
	ev := evaluator(db, pack)
	at := asOf.Add(12 * time.Hour)
	rep, err := ev.Run(ctx, asOf, at)
	if err != nil || rep.Raised != 1 {
		t.Fatalf("first run: %+v %v", rep, err)
	}
	a := mustOne(t, db)
	if a.Severity != "high" || !a.DueAt.Equal(at.Add(7*24*time.Hour)) {
		t.Errorf("severity %s due %v", a.Severity, a.DueAt)
	}
	// A second, larger bill: the same alert, more evidence, higher severity, earlier due.
	p := filepath.Join(t.TempDir(), "more.csv")
	os.WriteFile(p, []byte("结算编号,身份证号,结算日期,个人自付\nS9,11010519491231002X,2026-06-28,9000\n"), 0o644)
	if _, err := ingest.IngestFile(ctx, db, "medins", p, ingest.Options{}); err != nil {
		t.Fatal(err)
	}
	match.Link(ctx, db)
	rep, err = ev.Run(ctx, asOf, at.Add(time.Hour))
	if err != nil || rep.Raised != 0 || rep.Refreshed != 1 {
		t.Fatalf("second run: %+v %v", rep, err)
	}
	b := mustOne(t, db)
	if b.AlertID != a.AlertID || len(b.Evidence) != 2 || b.Severity != "critical" || !b.DueAt.Equal(at.Add(48*time.Hour)) || !b.LastSeen.Equal(at.Add(time.Hour)) {
		t.Errorf("refreshed alert: %+v", b)
	}
	// Closed with the same evidence: not raised again.
	db.Exec(`UPDATE alerts SET status = 'resolved', closed_at = ?`, at.Add(2*time.Hour))
	rep, err = ev.Run(ctx, asOf, at.Add(3*time.Hour))
	if err != nil || rep.Raised != 0 || rep.Kept != 1 {
		t.Fatalf("after resolution: %+v %v", rep, err)
	}
}

func mustOne(t *testing.T, db *store.DB) Alert {
	t.Helper()
	as, err := List(context.Background(), db, Filter{Rule: "temporary_assistance"})
	if err != nil || len(as) != 1 {
		t.Fatalf("want one alert, got %d: %v", len(as), err)
	}
	return as[0]
}

func TestStandardOfLongestPrefix(t *testing.T) {
	db := fixture(t, map[string]string{"registry1": households, "registry2": members})
	pack, _ := LoadPack(nil)
	ev := evaluator(db, pack)
	ev.Standards.ByRegion["33"] = 700
	conn, _ := db.Conn(context.Background())
	defer conn.Close()
	if err := ev.Prepare(context.Background(), conn, asOf); err != nil {
		t.Fatal(err)
	}
	for region, want := range map[string]float64{"330110001001": 1000, "330102001001": 700, "110105001001": 480} {
		var got float64
		if err := conn.QueryRowContext(context.Background(), "SELECT standard_of(?)", region).Scan(&got); err != nil || got != want {
			t.Errorf("standard_of(%s) = %v, %v; want %v", region, got, err, want)
		}
	}
}

func TestConfigOverrides(t *testing.T) {
	off := false
	p, err := LoadPack(map[string]config.RuleConf{"school_dropout": {Enabled: &off}, "temporary_assistance": {Params: map[string]any{"window_days": 60}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range p.Rules {
		if r.ID == "school_dropout" && r.Enabled {
			t.Error("school_dropout not switched off")
		}
		if r.ID == "temporary_assistance" && r.Params["window_days"] != 60 {
			t.Error("window_days not overridden")
		}
	}
	broken := func(conf map[string]config.RuleConf, id string) error {
		p, err := LoadPack(conf)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range p.Rules {
			if r.ID == id {
				return r.Err
			}
		}
		return nil
	}
	if err := broken(map[string]config.RuleConf{"no_such_rule": {}}, "no_such_rule"); err == nil || !strings.Contains(err.Error(), "rules.no_such_rule") {
		t.Errorf("unknown rule: %v", err)
	}
	if err := broken(map[string]config.RuleConf{"discovery": {Params: map[string]any{"nope": 1}}}, "discovery"); err == nil || !strings.Contains(err.Error(), "min_signals") {
		t.Errorf("unknown parameter: %v", err)
	}
}

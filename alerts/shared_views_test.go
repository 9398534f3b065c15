package alerts

import (
	"context"
	"fmt"
	"testing"
	"time"

	"safetynet/match"
)

// A view several rules read is computed once per evaluation, as far back
// as the longest window of its readers; the rules must find what they
// find reading the view itself, and the table must not outlive the
// evaluation. The outsider's bill 300 days back is inside discovery's
// 365 days and outside serious_illness's 90: a table cut at the shorter
// window loses discovery's case.
func TestSharedViewsFindWhatTheViewsFind(t *testing.T) {
	day := func(back int) string { return asOf.AddDate(0, 0, -back).Format("2006-01-02") }
	outsider := string(match.NewID("330110", time.Date(1970, 5, 5, 0, 0, 0, 0, time.UTC), 7))
	older := string(match.NewID("330110", time.Date(1971, 6, 6, 0, 0, 0, 0, time.UTC), 9))
	db := fixture(t, map[string]string{"registry1": households, "registry2": members,
		"medins": "结算编号,身份证号,结算日期,个人自付,诊断编码\n" +
			"S1,11010519491231002X," + day(10) + ",300,C34.1\n" + // H1: serious illness
			"S2,440524188001010014," + day(59) + ",100,N18.5\n" + // H2: serious illness
			fmt.Sprintf("S3,%s,%s,25000,C50.9\n", outsider, day(300)) + // outside: two kinds of hardship, 300 days back
			fmt.Sprintf("S4,%s,%s,25000,C50.9\n", older, day(400))}) // outside, past every window
	pack, err := LoadPack(nil)
	if err != nil {
		t.Fatal(err)
	}
	e := evaluator(db, pack)
	if got := e.sharedViews(); len(got) != 1 || got[0] != (sharedView{name: "hardship_signals", column: "event_date", days: 365}) {
		t.Fatalf("shared views %v, want hardship_signals by event_date, 365 days: three built-in rules read it", got)
	}
	ctx := context.Background()
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := e.Prepare(ctx, conn, asOf); err != nil {
		t.Fatal(err)
	}
	want := map[string]int{}
	for _, r := range pack.Rules {
		cs, err := e.cases(ctx, conn, r, asOf)
		if err != nil {
			t.Fatal(err)
		}
		want[r.ID] = len(cs)
	}
	if want["serious_illness"] != 2 || want["discovery"] != 1 {
		t.Fatalf("reading the view: %v; want 2 serious_illness and 1 discovery case", want)
	}
	found, rep := e.all(ctx, conn, asOf)
	for _, r := range pack.Rules {
		if len(found[r.ID]) != want[r.ID] {
			t.Errorf("rule %s: %d cases from the shared view, %d from the view", r.ID, len(found[r.ID]), want[r.ID])
		}
	}
	if len(rep.Failed()) > 0 {
		t.Fatalf("failed: %v", rep.Failed())
	}
	var left int
	if err := conn.QueryRowContext(ctx, `SELECT count(*) FROM duckdb_tables() WHERE table_name LIKE '_shared_%'`).Scan(&left); err != nil {
		t.Fatal(err)
	}
	var kind string
	if err := conn.QueryRowContext(ctx, `SELECT 'view' FROM duckdb_views() WHERE view_name = 'hardship_signals' AND sql NOT LIKE '%_shared_%'`).Scan(&kind); err != nil || left != 0 {
		t.Fatalf("after the evaluation: %d shared tables left, hardship_signals the pack's view: %v", left, err)
	}
}

// A view one of whose readers has no window_days stays a view: a rule
// of one's own may read every row of it.
func TestSharedViewNeedsEveryReadersWindow(t *testing.T) {
	pack, err := LoadPack(nil)
	if err != nil {
		t.Fatal(err)
	}
	pack.Rules = append(pack.Rules, &Rule{ID: "every_signal", Enabled: true, Params: map[string]any{},
		SQL: `SELECT household_id, NULL AS id_number FROM hardship_signals GROUP BY household_id`})
	if got := (&Evaluator{Pack: pack}).sharedViews(); len(got) != 0 {
		t.Fatalf("shared views %v, want none: every_signal reads the whole view", got)
	}
	pack.Rules[len(pack.Rules)-1].Params["window_days"] = 730
	if got := (&Evaluator{Pack: pack}).sharedViews(); len(got) != 1 || got[0].days != 730 {
		t.Fatalf("shared views %v, want hardship_signals as far back as 730 days", got)
	}
}

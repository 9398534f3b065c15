package alerts

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"safetynet/match"
)

// A view several rules read is computed once per evaluation; the rules
// must find what they find reading the view itself, and the table must
// not outlive the evaluation.
func TestSharedViewsFindWhatTheViewsFind(t *testing.T) {
	outsider := string(match.NewID("330110", time.Date(1970, 5, 5, 0, 0, 0, 0, time.UTC), 7))
	db := fixture(t, map[string]string{"registry1": households, "registry2": members,
		"medins": "结算编号,身份证号,结算日期,个人自付,诊断编码\n" +
			"S1,11010519491231002X,2026-06-20,300,C34.1\n" + // H1: serious illness
			"S2,440524188001010014,2026-05-02,100,N18.5\n" + // H2: serious illness
			fmt.Sprintf("S3,%s,2026-04-01,25000,C50.9\n", outsider)}) // outside: two kinds of hardship
	pack, err := LoadPack(nil)
	if err != nil {
		t.Fatal(err)
	}
	e := evaluator(db, pack)
	if got := e.sharedViews(); !slices.Equal(got, []string{"hardship_signals"}) {
		t.Fatalf("shared views %v, want [hardship_signals]: three built-in rules read it", got)
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

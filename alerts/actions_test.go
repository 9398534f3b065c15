package alerts

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"safetynet/ingest"
	"safetynet/match"
)

// The lifecycle of RULES.md on a real DuckDB: new → dispatched (a task for
// the household's grid) → visited (an outcome) → resolved; dismissal needs
// a reason and keeps the alert quiet until other evidence; reopening; every
// change in the history with who, from, to and why.
func TestActionsAndHistory(t *testing.T) {
	ctx := context.Background()
	hh := strings.Replace(households, "户编号,保障类别,行政区划代码,家庭年收入,家庭人口,状态\n", "户编号,保障类别,行政区划代码,家庭年收入,家庭人口,状态,网格编号\n", 1)
	hh = strings.Replace(hh, "在保\n", "在保,G7\n", 1) // H1 is in grid G7
	hh = strings.ReplaceAll(hh, "在保\n", "在保,\n")
	db := fixture(t, map[string]string{"registry1": hh, "registry2": members,
		"medins": "结算编号,身份证号,结算日期,个人自付\nS1,11010519491231002X,2026-06-20,5000\n"})
	pack, _ := LoadPack(nil)
	ev := evaluator(db, pack)
	at := asOf.Add(12 * time.Hour)
	if _, err := ev.Run(ctx, asOf, at); err != nil {
		t.Fatal(err)
	}
	a := mustOne(t, db)
	now := at.Add(time.Hour)
	step := func(action Action, outcome, note string) error {
		now = now.Add(time.Minute)
		return Act(ctx, db, Move{AlertID: a.AlertID, Action: action, Actor: "op1", Outcome: outcome, Note: note, At: now})
	}
	if err := step(Resolve, "", ""); !errors.Is(err, ErrTransition) {
		t.Errorf("resolving a new alert: %v", err)
	}
	if err := step(Dismiss, "", "  "); err == nil {
		t.Error("a dismissal without a reason was accepted")
	}
	if err := step(Dispatch, "", ""); err != nil {
		t.Fatal(err)
	}
	var grid, taskStatus string
	db.QueryRow(`SELECT coalesce(grid_code, ''), status FROM tasks WHERE alert_id = ?`, a.AlertID).Scan(&grid, &taskStatus)
	if grid != "G7" || taskStatus != "open" {
		t.Errorf("task: grid %q status %q", grid, taskStatus)
	}
	if err := step(Visit, "other", ""); err == nil {
		t.Error("outcome other without a note was accepted")
	}
	if err := step(Visit, "assisted_application", "helped fill in the 临时救助 form"); err != nil {
		t.Fatal(err)
	}
	if err := step(Resolve, "", ""); err != nil {
		t.Fatal(err)
	}
	if got := mustOne(t, db); got.Status != StatusResolved {
		t.Errorf("status %s", got.Status)
	}
	if err := step(Reopen, "", "the family wrote again"); err != nil {
		t.Fatal(err)
	}
	if err := step(Dismiss, "", "already receiving 临时救助 from the township"); err != nil {
		t.Fatal(err)
	}
	// Dismissed: the same evidence does not raise it again; evidence of another kind does.
	if rep, err := ev.Run(ctx, asOf, now.Add(time.Hour)); err != nil || rep.Raised != 0 {
		t.Errorf("after dismissal: %+v %v", rep, err)
	}
	hist, err := History(ctx, db, a.AlertID)
	if err != nil {
		t.Fatal(err)
	}
	var path []string
	visitNote := ""
	for _, c := range hist {
		path = append(path, c.From+">"+c.To)
		if c.Actor != "op1" && c.Actor != "system" {
			t.Errorf("history actor %q", c.Actor)
		}
		if c.To == StatusVisited {
			visitNote = fmt.Sprint(c.Event, c.Args[:1], " ", c.Note)
		}
	}
	want := "new>dispatched visited>resolved dispatched>visited resolved>new new>dismissed"
	got := strings.Join(path, " ")
	for _, p := range strings.Fields(want) {
		if !strings.Contains(got, p) {
			t.Errorf("history %q lacks %s", got, p)
		}
	}
	if visitNote != "visited[assisted_application] helped fill in the 临时救助 form" {
		t.Errorf("visit note %q", visitNote)
	}
	// Reopening while another open alert exists for the same rule and subject is refused.
	p := filepath.Join(t.TempDir(), "other.csv")
	os.WriteFile(p, []byte("病案号,身份证号,类型,日期,诊断编码\nH9,11010519491231002X,住院,2026-06-25,C34.1\n"), 0o644)
	ingest.IngestFile(ctx, db, "health", p, ingest.Options{})
	os.WriteFile(p, []byte("结算编号,身份证号,结算日期,个人自付\nS7,11010519491231002X,2026-06-29,20000\n"), 0o644)
	ingest.IngestFile(ctx, db, "medins", p, ingest.Options{})
	match.Link(ctx, db)
	if rep, err := ev.Run(ctx, asOf, now.Add(2*time.Hour)); err != nil || rep.Raised == 0 {
		t.Fatalf("higher severity after dismissal should raise: %+v %v", rep, err)
	}
	if err := step(Reopen, "", ""); !errors.Is(err, ErrOpenTwin) {
		t.Errorf("reopening beside an open alert of the same rule: %v", err)
	}
}

package alerts

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

// An open alert past its SLA goes to the county queue once, with a history
// row and a count; a closed one does not; reopening starts the SLA again.
func TestOverdueEscalatesToCountyQueue(t *testing.T) {
	ctx := context.Background()
	db := fixture(t, map[string]string{"registry1": households, "registry2": members,
		"medins": "结算编号,身份证号,结算日期,个人自付\nS1,11010519491231002X,2026-06-20,10000\nS2,440524188001010014,2026-06-21,800\n"})
	pack, _ := LoadPack(nil)
	at := asOf.Add(12 * time.Hour)
	if _, err := evaluator(db, pack).Run(ctx, asOf, at); err != nil {
		t.Fatal(err)
	}
	all, err := List(ctx, db, Filter{})
	if err != nil || len(all) < 2 {
		t.Fatalf("alerts: %d %v", len(all), err)
	}
	// Close one; the rest stay open.
	closed := all[len(all)-1].AlertID
	if err := Act(ctx, db, Move{AlertID: closed, Action: Dismiss, Actor: "op1", Note: "moved away", At: at.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	before := testutil.ToFloat64(escalated.WithLabelValues(all[0].RuleID))

	// Not yet due: nothing moves.
	if n, err := Escalate(ctx, db, at.Add(time.Hour)); err != nil || n != 0 {
		t.Fatalf("escalated %d before anything was due (%v)", n, err)
	}
	late := at.Add(100 * 24 * time.Hour) // past every SLA
	n, err := Escalate(ctx, db, late)
	if err != nil {
		t.Fatal(err)
	}
	if n != len(all)-1 {
		t.Fatalf("escalated %d, want the %d open alerts", n, len(all)-1)
	}
	if n, _ := Escalate(ctx, db, late.Add(time.Hour)); n != 0 {
		t.Errorf("escalated %d again", n)
	}
	queue, err := List(ctx, db, Filter{Queue: "county"})
	if err != nil || len(queue) != len(all)-1 {
		t.Fatalf("county queue: %d %v", len(queue), err)
	}
	for _, a := range queue {
		if a.EscalatedAt == nil || !a.EscalatedAt.Equal(late) || a.AlertID == closed {
			t.Errorf("alert %d in the queue: escalated %v", a.AlertID, a.EscalatedAt)
		}
	}
	h, _ := History(ctx, db, queue[0].AlertID)
	if last := h[len(h)-1]; last.Event != EventEscalated || last.Note != "" || last.Actor != "system" || last.From != last.To {
		t.Errorf("history: %+v", last)
	}
	if got := testutil.ToFloat64(escalated.WithLabelValues(queue[0].RuleID)) - before; got < 1 {
		t.Errorf("safetynet_alerts_escalated_total{rule=%s} rose by %v", queue[0].RuleID, got)
	}

	// Reopening a closed alert starts its SLA again, out of the queue.
	if err := Act(ctx, db, Move{AlertID: closed, Action: Reopen, Actor: "op1", At: late}); err != nil {
		t.Fatal(err)
	}
	a, _ := Get(ctx, db, closed)
	if a.EscalatedAt != nil || !a.DueAt.After(late) {
		t.Errorf("reopened: escalated %v due %v", a.EscalatedAt, a.DueAt)
	}
}

// The inbox's filters and counts on a real DuckDB.
func TestFilterDueAndCounts(t *testing.T) {
	ctx := context.Background()
	db := fixture(t, map[string]string{"registry1": households, "registry2": members,
		"medins": "结算编号,身份证号,结算日期,个人自付\nS1,11010519491231002X,2026-06-20,10000\nS2,440524188001010014,2026-06-21,800\n"})
	pack, _ := LoadPack(nil)
	if _, err := evaluator(db, pack).Run(ctx, asOf, asOf); err != nil {
		t.Fatal(err)
	}
	all, _ := List(ctx, db, Filter{})
	// Alerts raised on 2026-06-30 are long overdue by now.
	overdue, _ := List(ctx, db, Filter{Due: "overdue"})
	if len(overdue) != len(all) || len(all) == 0 {
		t.Errorf("overdue %d of %d", len(overdue), len(all))
	}
	if len(all) > 1 {
		second, _ := List(ctx, db, Filter{Limit: 1, Offset: 1})
		if len(second) != 1 || second[0].AlertID != all[1].AlertID {
			t.Errorf("page 2 of 1 alert: %+v, want alert %d", second, all[1].AlertID)
		}
	}
	if open, _ := List(ctx, db, Filter{Status: StatusOpen}); len(open) != len(all) {
		t.Errorf("open: %d of %d new alerts", len(open), len(all))
	}
	if err := (Filter{Due: "tomorrow"}).Valid(); err == nil {
		t.Error("due=tomorrow accepted")
	}
	byRule, byRegion, err := Counts(ctx, db, Filter{})
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, c := range byRule {
		total += c.Total
		if c.Open != c.Total || c.Overdue != c.Total {
			t.Errorf("rule %s: %+v", c.Key, c)
		}
	}
	if total != len(all) {
		t.Errorf("counts by rule add up to %d, want %d", total, len(all))
	}
	regions := map[string]int{}
	for _, c := range byRegion {
		regions[c.Key] = c.Total
	}
	if regions["330110"] == 0 || regions["110105"] == 0 {
		t.Errorf("counts by county: %v", regions)
	}
	_, byTownship, _ := Counts(ctx, db, Filter{RegionPrefix: "330110"})
	if len(byTownship) != 1 || byTownship[0].Key != "330110001" {
		t.Errorf("counts below 330110: %+v", byTownship)
	}
}

// Cached counts follow every change this process makes at once.
func TestCachedCountsFollowChanges(t *testing.T) {
	ctx := context.Background()
	db := fixture(t, map[string]string{"registry1": households, "registry2": members,
		"medins": "结算编号,身份证号,结算日期,个人自付\nS1,11010519491231002X,2026-06-20,10000\n"})
	pack, _ := LoadPack(nil)
	if _, err := evaluator(db, pack).Run(ctx, asOf, asOf); err != nil {
		t.Fatal(err)
	}
	open := func() int {
		byRule, _, err := CachedCounts(ctx, db, Filter{Status: StatusOpen})
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, c := range byRule {
			n += c.Open
		}
		return n
	}
	before := open()
	if before == 0 {
		t.Fatal("no open alerts")
	}
	a := mustOne(t, db)
	if err := Act(ctx, db, Move{AlertID: a.AlertID, Action: Dismiss, Actor: "op1", Note: "not needed", At: asOf.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if after := open(); after != before-1 {
		t.Errorf("open alerts after a dismissal: %d, want %d", after, before-1)
	}
}

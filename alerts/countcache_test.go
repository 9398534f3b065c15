package alerts

import (
	"context"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"safetynet/ingest"
	"safetynet/match"
	"safetynet/store"
)

// TestCountsOutliveMovesTheyDoNotSee: cached counts are served across
// status moves their filter counts alike (a dispatch or a visit, for the
// open inbox) and counted again after one it does not (a dispatch for
// the new-only filter, a dismissal, a reopening); whatever is served
// equals Counts counted afresh.
func TestCountsOutliveMovesTheyDoNotSee(t *testing.T) {
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "c.duckdb"), ingest.Migrations(), match.Migrations(), Migrations())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, `INSERT INTO alerts (alert_id, rule_id, subject, severity, status, region_code, first_seen, last_seen, due_at, reason)
		SELECT nextval('alert_seq'), (['discovery', 'serious_illness'])[1 + i % 2], 'person:' || i, 'high', 'new',
		       '3301100010' || (10 + i % 3), now(), now(), now() + INTERVAL 3 DAY, 'r'
		FROM range(40) t(i)`); err != nil {
		t.Fatal(err)
	}
	open, onlyNew, all := Filter{Status: StatusOpen}, Filter{Status: StatusNew}, Filter{}
	check := func(what string, f Filter, counted bool) {
		t.Helper()
		before := countsComputed.Load()
		byRule, byRegion, err := CachedCounts(ctx, db, f)
		if err != nil {
			t.Fatal(err)
		}
		if got := countsComputed.Load() > before; got != counted {
			t.Errorf("%s, status %q: counted again %v, want %v", what, f.Status, got, counted)
		}
		wantRule, wantRegion, err := Counts(ctx, db, f)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(byRule, wantRule) || !reflect.DeepEqual(byRegion, wantRegion) {
			t.Errorf("%s, status %q: served %v %v, counted afresh %v %v", what, f.Status, byRule, byRegion, wantRule, wantRegion)
		}
	}
	act := func(id int64, a Action) {
		t.Helper()
		m := Move{AlertID: id, Action: a, Actor: "op", At: time.Now(), Note: "核实", Outcome: Outcomes[0]}
		if err := Act(ctx, db, m); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []Filter{open, onlyNew, all} {
		check("first", f, true)
		check("again", f, false)
	}
	act(1, Dispatch)
	check("after a dispatch", open, false)
	check("after a dispatch", all, false)
	check("after a dispatch", onlyNew, true)
	act(1, Visit)
	check("after a visit", open, false)
	check("after a visit", onlyNew, false)
	act(2, Dismiss)
	check("after a dismissal", open, true)
	check("after a dismissal", all, true)
	check("after a dismissal", onlyNew, true)
	act(2, Reopen)
	check("after a reopening", open, true)
	check("after a reopening", all, true)
	check("after a reopening", Filter{Status: StatusVisited}, true)
	act(3, Dispatch)
	check("a filter of the visited only, after a dispatch", Filter{Status: StatusVisited}, false)
}

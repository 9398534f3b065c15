package main

import (
	"context"
	"io"
	"log/slog"
	"testing"

	"safetynet/alerts"
	"safetynet/ingest"
	"safetynet/match"
)

// TestDemoShowsEverything: the demo's county holds what the README
// explains, for every role to find: alerts resting on an ID-exact, a
// repaired and a probabilistic link, a match waiting for review, several
// dispatched visits with one in the township queue for an operator to
// assign, a file refused whole and a delivery with rows to fix.
func TestDemoShowsEverything(t *testing.T) {
	ctx := context.Background()
	t.Setenv("SAFETYNET_PSEUDONYM_KEY", "")
	chain, grid, err := prepareDemo(ctx, slog.New(slog.NewTextHandler(io.Discard, nil)), t.TempDir(), "")
	if err != nil {
		t.Fatal(err)
	}
	defer chain.DB.Close()
	db := chain.DB
	list, err := alerts.List(ctx, db, alerts.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	methods := map[string]int{}
	for _, a := range list {
		for _, ev := range a.Evidence {
			if x, err := match.Explain(ctx, db, ev.Source, ev.RecordID); err == nil {
				methods[x.Method]++
			}
		}
	}
	for _, m := range []string{"id_exact", "id_repaired", "probabilistic"} {
		if methods[m] == 0 {
			t.Errorf("no alert rests on a %s link (%v)", m, methods)
		}
	}
	if review, err := match.ReviewQueue(ctx, db, match.ReviewFilter{Limit: 10}); err != nil || len(review) == 0 {
		t.Errorf("no match waits for review: %v", err)
	}
	tasks, err := alerts.QueueTasks(ctx, db, "")
	if err != nil {
		t.Fatal(err)
	}
	township, gridTasks := 0, 0
	for _, task := range tasks {
		switch task.GridCode {
		case "":
			township++
		case grid:
			gridTasks++
		}
	}
	if len(tasks) < 3 || township == 0 || gridTasks == 0 {
		t.Errorf("%d open visits, %d in the township queue, %d in the grid worker's grid %s", len(tasks), township, gridTasks, grid)
	}
	if rej, err := ingest.Rejections(ctx, db, 10); err != nil || len(rej) == 0 {
		t.Errorf("no file refused whole: %v", err)
	}
	if q, err := ingest.QuarantinedFiles(ctx, db, ingest.QuarantineFilter{}); err != nil || len(q) == 0 || q[0].Rows == 0 {
		t.Errorf("no delivery with rows to fix: %+v %v", q, err)
	}
}

package alerts

import (
	"context"
	"fmt"
	"io/fs"
	"path/filepath"
	"testing"
	"testing/fstest"

	"safetynet/ingest"
	"safetynet/match"
	"safetynet/store"
)

// TestHistoryMigrationReadsOldNotes: a history written before events
// existed (English notes the system wrote) reads as events afterwards,
// and what people wrote stays their note.
func TestHistoryMigrationReadsOldNotes(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "old.duckdb")
	db, err := store.Open(ctx, path, ingest.Migrations(), match.Migrations(), migrationsBefore(t, 6))
	if err != nil {
		t.Fatal(err)
	}
	for _, row := range [][]any{
		{1, "system", nil, "new", "raised by rule expenditure_hardship"},
		{1, "op1", "new", "dispatched", nil},
		{1, "op1", "dispatched", "dispatched", "task 7 assigned to wang"},
		{1, "system", "dispatched", "dispatched", "overdue: escalated to the county queue"},
		{1, "gw1", "dispatched", "visited", "assisted_application helped fill in the form"},
		{2, "op1", "new", "dismissed", "moved away"},
	} {
		if _, err := db.ExecContext(ctx, `INSERT INTO alert_history (alert_id, changed_at, actor, from_status, to_status, note) VALUES (?, now(), ?, ?, ?, ?)`, row...); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	db, err = store.Open(ctx, path, ingest.Migrations(), match.Migrations(), Migrations())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var got []string
	for _, id := range []int64{1, 2} {
		h, err := History(ctx, db, id)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range h {
			got = append(got, fmt.Sprintf("%s|%s|%v|%s", c.To, c.Event, c.Args, c.Note))
		}
	}
	want := []string{
		"new|raised|[expenditure_hardship]|", "dispatched||[]|", "dispatched|assigned|[7 wang]|", "dispatched|escalated|[]|",
		"visited|visited|[assisted_application]|helped fill in the form", "dismissed||[]|moved away",
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("history after the migration:\n got %q\nwant %q", got, want)
	}
}

// migrationsBefore is the alerts schema as a release before migration
// version had it.
func migrationsBefore(t *testing.T, version int) store.MigrationSet {
	t.Helper()
	names, err := fs.Glob(schemaFS, "schema/*.sql")
	if err != nil {
		t.Fatal(err)
	}
	old := fstest.MapFS{}
	for _, name := range names {
		var v int
		fmt.Sscanf(filepath.Base(name), "%d_", &v)
		if v >= version {
			continue
		}
		b, err := fs.ReadFile(schemaFS, name)
		if err != nil {
			t.Fatal(err)
		}
		old[filepath.Base(name)] = &fstest.MapFile{Data: b}
	}
	return store.MigrationSet{Component: "alerts", FS: old}
}

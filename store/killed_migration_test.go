package store

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"testing/fstest"
)

// TestMain lets the test binary play a process killed after a migration.
func TestMain(m *testing.M) {
	if path := os.Getenv("STORE_KILLED_AFTER"); path != "" {
		testHookMigrated = func(name string) {
			if name == "002_retype.sql" {
				os.Exit(0) // no Close, no checkpoint: as if killed here
			}
		}
		Open(context.Background(), path, retype)
		os.Exit(1)
	}
	os.Exit(m.Run())
}

var retype = MigrationSet{Component: "demo", FS: fstest.MapFS{
	"001_hash.sql":   {Data: []byte("CREATE TABLE rows (n INTEGER, row_hash VARCHAR); INSERT INTO rows VALUES (1, 'ff')")},
	"002_retype.sql": {Data: []byte("ALTER TABLE rows ALTER row_hash TYPE UBIGINT USING ('0x' || row_hash)::UBIGINT")},
}}

// TestMigrationKilledAfterItsCommit: a process killed just after a
// migration that changes a column's type commits leaves a store that opens,
// with that migration applied once. DuckDB cannot replay such a change from
// the WAL (duckdb/duckdb#20543), so it must not be there.
func TestMigrationKilledAfterItsCommit(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "k.duckdb")
	first := MigrationSet{Component: "demo", FS: fstest.MapFS{"001_hash.sql": retype.FS.(fstest.MapFS)["001_hash.sql"]}}
	db, err := Open(ctx, path, first)
	if err != nil {
		t.Fatal(err)
	}
	db.Close()

	child := exec.Command(os.Args[0], "-test.run=^$")
	child.Env = append(os.Environ(), "STORE_KILLED_AFTER="+path)
	if out, err := child.CombinedOutput(); err != nil {
		t.Fatalf("the child did not stop after the migration: %v\n%s", err, out)
	}

	db, err = Open(ctx, path, retype)
	if err != nil {
		t.Fatalf("the store after the kill: %v", err)
	}
	defer db.Close()
	var hash uint64
	var kind string
	var applied int
	if err := db.QueryRow(`SELECT row_hash, typeof(row_hash) FROM rows`).Scan(&hash, &kind); err != nil {
		t.Fatal(err)
	}
	db.QueryRow(`SELECT count(*) FROM schema_migrations WHERE version = 2`).Scan(&applied)
	if hash != 255 || kind != "UBIGINT" || applied != 1 {
		t.Errorf("after the kill: row_hash %d (%s), migration 2 recorded %d times; want 255 (UBIGINT), once", hash, kind, applied)
	}
	var threshold string
	db.QueryRow(`SELECT current_setting('checkpoint_threshold')`).Scan(&threshold)
	if threshold == "0 bytes" || threshold == "0b" || threshold == "" {
		t.Errorf("checkpoint_threshold left at %q after the migrations", threshold)
	}
}

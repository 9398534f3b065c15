package store

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
)

func TestMigrationsApplyOnceAndInOrder(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "m.duckdb")
	set := MigrationSet{Component: "demo", FS: fstest.MapFS{
		"002_more.sql":  {Data: []byte("INSERT INTO things VALUES (2)")},
		"001_first.sql": {Data: []byte("CREATE TABLE things (n INTEGER); INSERT INTO things VALUES (1)")},
	}}
	for i := 0; i < 2; i++ { // the second open finds both recorded and applies nothing
		db, err := Open(ctx, path, set)
		if err != nil {
			t.Fatal(err)
		}
		var n, sum int
		db.QueryRow(`SELECT count(*), sum(n) FROM things`).Scan(&n, &sum)
		if n != 2 || sum != 3 {
			t.Errorf("open %d: things has %d rows (sum %d)", i+1, n, sum)
		}
		db.Close()
	}
	// A broken migration fails with its name and leaves the ledger as it was.
	bad := MigrationSet{Component: "demo", FS: fstest.MapFS{
		"001_first.sql": set.FS.(fstest.MapFS)["001_first.sql"], "002_more.sql": set.FS.(fstest.MapFS)["002_more.sql"],
		"003_broken.sql": {Data: []byte("CREATE TABLE x (; ")},
	}}
	_, err := Open(ctx, path, bad)
	if err == nil || !strings.Contains(err.Error(), "demo/003_broken.sql") {
		t.Fatalf("broken migration: %v", err)
	}
	dup := MigrationSet{Component: "demo", FS: fstest.MapFS{"1_a.sql": {Data: []byte("")}, "01_b.sql": {Data: []byte("")}}}
	if _, err := Open(ctx, filepath.Join(t.TempDir(), "d.duckdb"), dup); err == nil || !strings.Contains(err.Error(), "share version 1") {
		t.Errorf("duplicate versions: %v", err)
	}
}

func TestTxRollsBackOnError(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "t.duckdb"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.Exec(`CREATE TABLE t (n INTEGER)`)
	boom := errors.New("boom")
	err = db.Tx(ctx, func(conn *sql.Conn) error {
		app, err := NewAppender(conn, "t")
		if err != nil {
			return err
		}
		for i := 0; i < 1000; i++ {
			app.AppendRow(int32(i))
		}
		if err := app.Close(); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Tx returned %v", err)
	}
	var n int
	db.QueryRow(`SELECT count(*) FROM t`).Scan(&n)
	if n != 0 {
		t.Errorf("%d appended rows survived a rolled-back transaction", n)
	}
}

// TestCheckpointBesideATransaction: a checkpoint empties the write-ahead
// log into the file, and one asked for while another connection holds
// an open write transaction neither fails nor loses that transaction.
func TestCheckpointBesideATransaction(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "c.duckdb")
	db, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`CREATE TABLE t AS SELECT range AS n FROM range(200000)`); err != nil {
		t.Fatal(err)
	}
	walSize := func() int64 {
		fi, err := os.Stat(path + ".wal")
		if err != nil {
			return 0
		}
		return fi.Size()
	}
	if walSize() == 0 {
		t.Fatal("nothing in the write-ahead log to checkpoint")
	}
	if err := db.Checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
	if n := walSize(); n != 0 {
		t.Errorf("the write-ahead log holds %d bytes after a checkpoint", n)
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for _, q := range []string{`BEGIN TRANSACTION`, `INSERT INTO t SELECT range + 200000 FROM range(1000)`} {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Checkpoint(ctx); err != nil {
		t.Errorf("a checkpoint beside an open transaction: %v", err)
	}
	if _, err := conn.ExecContext(ctx, `COMMIT`); err != nil {
		t.Fatal(err)
	}
	conn.Close()
	db.Close()
	db, err = Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	var n int
	db.QueryRow(`SELECT count(*) FROM t`).Scan(&n)
	if n != 201000 {
		t.Errorf("%d rows after reopening, want 201000", n)
	}
}

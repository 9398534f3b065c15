package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"io/fs"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"safetynet/alerts"
	"safetynet/config"
	"safetynet/jobs"
	"safetynet/store"
	"safetynet/synth"
	"safetynet/web"
)

// releaseDB is a small site's database as a release wrote it: a synthetic
// county run once, users, a dispatch, a visit and a dismissal. Written by
// `SAFETYNET_WRITE_RELEASE_DB=1 go test -run TestUpgrade ./cmd/safetynet`
// at a release; the test then opens it with every later one.
const releaseDB = "testdata/release-2026-12-01.duckdb.gz"

// TestUpgradeFromPreviousRelease: the database a previous release wrote
// opens with this one, every migration since applied, its alerts, history,
// links and users intact, and a run goes on from it; a migration that
// fails leaves it as it was.
func TestUpgradeFromPreviousRelease(t *testing.T) {
	ctx := context.Background()
	if os.Getenv("SAFETYNET_WRITE_RELEASE_DB") == "1" {
		writeReleaseDB(t)
	}
	path := unpack(t, releaseDB)
	before := tableSums(t, path)

	// A later release's migration that fails half-way leaves nothing of
	// what it began.
	broken := store.MigrationSet{Component: "zz_later", FS: fstest.MapFS{
		"001_half.sql": {Data: []byte("CREATE TABLE later_things (n INTEGER); INSERT INTO later_things VALUES (1); " +
			"UPDATE alerts SET status = 'gone'; DELETE FROM users; SELECT no_such_column FROM alerts")},
	}}
	if _, err := store.Open(ctx, path, broken); err == nil || !strings.Contains(err.Error(), "zz_later/001_half.sql") {
		t.Fatalf("a broken migration: %v", err)
	}
	if after := tableSums(t, path); !maps.Equal(after, before) {
		for table := range after {
			if after[table] != before[table] {
				t.Errorf("%s after a failed migration: %s, was %s", table, after[table], before[table])
			}
		}
	}

	db, err := jobs.OpenStore(ctx, path, web.Migrations())
	if err != nil {
		t.Fatalf("this release does not open the previous one's database: %v", err)
	}
	defer db.Close()
	pending, err := unapplied(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	if len(pending) > 0 {
		t.Errorf("migrations not applied: %v", pending)
	}
	var alertsN, history, links, users int
	db.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM alerts), (SELECT count(*) FROM alert_history), (SELECT count(*) FROM match_links), (SELECT count(*) FROM users)`).
		Scan(&alertsN, &history, &links, &users)
	for name, got := range map[string]int{"alerts": alertsN, "alert_history": history, "match_links": links, "users": users} {
		if want := rowsOf(before[name]); got < want || want == 0 {
			t.Errorf("%s: %d rows after the upgrade, %d before", name, got, want)
		}
	}
	// A run goes on from the old store: new alerts number after the old.
	cfgFile, err := config.Init(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(cfgFile)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Database = path
	pack, err := alerts.LoadPack(nil)
	if err != nil {
		t.Fatal(err)
	}
	chain := &jobs.Chain{Cfg: cfg, DB: db, Pack: pack, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if _, err := chain.Run(ctx, "test", time.Date(2026, 12, 31, 0, 0, 0, 0, time.UTC)); err != nil {
		t.Fatalf("a run on the upgraded store: %v", err)
	}
}

// unapplied lists the migrations of this release the ledger lacks.
func unapplied(ctx context.Context, db *store.DB) ([]string, error) {
	var missing []string
	for _, set := range jobs.AllMigrations(web.Migrations()) {
		names, err := fs.Glob(set.FS, "*.sql")
		if err != nil {
			return nil, err
		}
		for _, n := range names {
			var done bool
			if err := db.QueryRowContext(ctx, `SELECT count(*) > 0 FROM schema_migrations WHERE component = ? AND name = ?`, set.Component, n).Scan(&done); err != nil {
				return nil, err
			}
			if !done {
				missing = append(missing, set.Component+"/"+n)
			}
		}
	}
	return missing, nil
}

func rowsOf(sum string) int {
	var n int
	for _, c := range sum {
		if c < '0' || c > '9' {
			break
		}
		n = n*10 + int(c-'0')
	}
	return n
}

func unpack(t *testing.T, gz string) string {
	t.Helper()
	f, err := os.Open(gz)
	if err != nil {
		t.Fatalf("%v (write it with SAFETYNET_WRITE_RELEASE_DB=1)", err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "safetynet.duckdb")
	out, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, zr); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// writeReleaseDB makes releaseDB with this release's code.
func writeReleaseDB(t *testing.T) {
	ctx := context.Background()
	site := t.TempDir()
	cfgFile, err := config.Init(site)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(cfgFile)
	if err != nil {
		t.Fatal(err)
	}
	asOf := time.Date(2026, 6, 30, 0, 0, 0, 0, time.UTC)
	so := synth.DefaultOptions(asOf)
	so.Households, so.Records, so.Outsiders = 60, 300, 60
	county, err := synth.Generate(so)
	if err != nil {
		t.Fatal(err)
	}
	if err := county.Write(cfg.Inbox, site); err != nil {
		t.Fatal(err)
	}
	db, err := jobs.OpenStore(ctx, cfg.Database, web.Migrations())
	if err != nil {
		t.Fatal(err)
	}
	pack, _ := alerts.LoadPack(nil)
	chain := &jobs.Chain{Cfg: cfg, DB: db, Pack: pack, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Now: func() time.Time { return asOf.Add(26 * time.Hour) }}
	if _, err := chain.Run(ctx, "release", asOf); err != nil {
		t.Fatal(err)
	}
	for _, u := range []web.NewUser{{Name: "admin", Role: web.Admin}, {Name: "op", Role: web.Operator, Region: "330110"},
		{Name: "gw", Role: web.GridWorker, Grid: "330110001001-01"}} {
		u.Password = "release-password"
		if err := web.CreateUser(ctx, db, u); err != nil {
			t.Fatal(err)
		}
	}
	list, err := alerts.List(ctx, db, alerts.Filter{})
	if err != nil || len(list) < 3 {
		t.Fatalf("%d alerts: %v", len(list), err)
	}
	at := asOf.Add(30 * time.Hour)
	for _, m := range []alerts.Move{
		{AlertID: list[0].AlertID, Action: alerts.Dispatch, Actor: "op", At: at},
		{AlertID: list[0].AlertID, Action: alerts.Visit, Actor: "gw", Outcome: "assisted_application", At: at.Add(time.Hour)},
		{AlertID: list[1].AlertID, Action: alerts.Dismiss, Actor: "op", Note: "moved away", At: at},
		{AlertID: list[2].AlertID, Action: alerts.Dispatch, Actor: "op", At: at},
	} {
		if err := alerts.Act(ctx, db, m); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.ExecContext(ctx, `CHECKPOINT`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	raw, err := os.ReadFile(cfg.Database)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	zw.Write(raw)
	zw.Close()
	if err := os.MkdirAll(filepath.Dir(releaseDB), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(releaseDB, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %s: %d bytes (%d unpacked)", releaseDB, buf.Len(), len(raw))
}

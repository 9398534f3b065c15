package ingest

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"safetynet/config"
	"safetynet/store"
)

// killedPull is the pull the child runs until it is killed: pages of 100,
// a batch every 500 records, slowly enough to be killed in the middle.
func killedPull(url, paging string) HTTPPull {
	return HTTPPull{Source: "medins", HTTP: config.HTTP{
		URL: url + "/api/settlements?region=330110", TokenEnv: "TEST_MEDINS_TOKEN", Records: "data", Pagination: paging,
		PageSize: 100, CommitEvery: 500, RateLimit: 40, Timeout: 2 * time.Second, Retries: 3,
	}, Backoff: 5 * time.Millisecond}
}

// pullChild pulls into the database until the parent kills it.
func pullChild(dbPath, url, paging string) {
	ctx := context.Background()
	db, err := store.Open(ctx, dbPath, Migrations())
	if err != nil {
		fmt.Println("ERR", err)
		os.Exit(3)
	}
	if _, err := killedPull(url, paging).Run(ctx, db, slog.New(slog.NewTextHandler(io.Discard, nil))); err != nil {
		fmt.Println("ERR", err)
		os.Exit(4)
	}
	fmt.Println("FINISHED")
	os.Exit(5)
}

// TestPullKilledMidway: a pull from a department's API killed with SIGKILL
// part way, then run again, leaves the store holding exactly the API's
// records, each once, as an unbroken pull does.
func TestPullKilledMidway(t *testing.T) {
	for _, paging := range []string{"page", "cursor"} {
		t.Run(paging, func(t *testing.T) {
			a, srv := newAPIServer(t, 4000)
			t.Setenv("TEST_MEDINS_TOKEN", "s3cret")
			dbPath := filepath.Join(t.TempDir(), "pull.duckdb")
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), "TMPDIR="+t.TempDir(), "SAFETYNET_PULL_DB="+dbPath, "SAFETYNET_PULL_URL="+srv.URL, "SAFETYNET_PULL_PAGING="+paging)
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			// Killed after a dozen pages: two batches committed, a third begun.
			for deadline := time.Now().Add(30 * time.Second); a.count() < 13 && time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
			}
			cmd.Process.Kill()
			cmd.Wait()
			pulled := a.count()

			db, err := store.Open(context.Background(), dbPath, Migrations())
			if err != nil {
				t.Fatalf("the store after the kill: %v", err)
			}
			defer db.Close()
			var kept int
			db.QueryRow(`SELECT count(*) FROM canon_medins`).Scan(&kept)
			if kept%500 != 0 {
				t.Errorf("after the kill the store holds %d records: part of a batch", kept)
			}
			t.Logf("killed after %d requests; %d records were stored", pulled, kept)
			p := killedPull(srv.URL, paging)
			p.RateLimit = 1000
			if _, err := p.Run(context.Background(), db, discard()); err != nil {
				t.Fatal(err)
			}
			checkMirror(t, db, a)
			if n := count(t, db, `SELECT count(*) - count(DISTINCT record_key) FROM canon_medins WHERE valid_to IS NULL`); n != 0 {
				t.Errorf("%d records twice", n)
			}
		})
	}
}

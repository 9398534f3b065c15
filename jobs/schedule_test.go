package jobs

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestScheduleRunsTheChain: with a one-second schedule, a file dropped
// into the inbox is ingested, linked and evaluated by the scheduler
// itself, and the run is recorded.
func TestScheduleRunsTheChain(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "safetynet.yaml"), []byte("sources:\n  medins:\n    schedule: \"@every 1s\"\n  registry:\n    enabled: false\n  education:\n    enabled: false\n  health:\n    enabled: false\n  disability:\n    enabled: false\n"), 0o644)
	chain := newSite(t, dir)
	cfg, db := chain.Cfg, chain.DB
	os.WriteFile(filepath.Join(cfg.InboxDir("medins"), "s.csv"), []byte("结算编号,身份证号,结算日期,个人自付\nS1,11010519491231002X,2026-01-01,5\n"), 0o644)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cr, err := chain.Schedule(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { <-cr.Stop().Done() }()
	deadline := time.Now().Add(30 * time.Second) // a bound on waiting, not a speed check
	for {
		var job, status string
		var stored int
		err := db.QueryRow(`SELECT job, status, rows_stored FROM job_runs WHERE status <> 'running' ORDER BY run_id LIMIT 1`).Scan(&job, &status, &stored)
		if err == nil {
			if job != "medins" || status != "ok" || stored != 1 {
				t.Errorf("first scheduled run: job %s status %s rows %d", job, status, stored)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the schedule never ran the chain")
		}
		time.Sleep(100 * time.Millisecond)
	}
	var sources int
	db.QueryRow(`SELECT count(DISTINCT job) FROM job_runs`).Scan(&sources)
	if sources != 1 {
		t.Errorf("disabled sources were scheduled too (%d jobs)", sources)
	}
}

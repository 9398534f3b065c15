package jobs

import (
	"bufio"
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"safetynet/alerts"
	"safetynet/config"
	"safetynet/synth"
)

// TestMain lets the test binary play a run that is killed.
func TestMain(m *testing.M) {
	if site := os.Getenv("SAFETYNET_KILLED_RUN"); site != "" {
		killedRun(site)
		return
	}
	os.Exit(m.Run())
}

var killAsOf = time.Date(2026, 6, 30, 0, 0, 0, 0, time.UTC)

// killedRun runs the chain on the site's config, logging each stage to
// stdout, until it ends or is killed.
func killedRun(site string) {
	limitFileSize()
	cfg, err := config.Load(filepath.Join(site, "safetynet.yaml"))
	if err != nil {
		fmt.Println("ERR", err)
		os.Exit(3)
	}
	db, err := OpenStore(context.Background(), cfg.Database)
	if err != nil {
		fmt.Println("ERR", err)
		os.Exit(3)
	}
	pack, _ := alerts.LoadPack(cfg.Rules)
	chain := &Chain{Cfg: cfg, DB: db, Pack: pack, Log: slog.New(slog.NewTextHandler(os.Stdout, nil)),
		Now: func() time.Time { return killAsOf.Add(26 * time.Hour) }}
	fmt.Println("STARTED")
	if _, err := chain.Run(context.Background(), "test", killAsOf); err != nil {
		fmt.Println("ERR", err)
		os.Exit(4)
	}
	db.Close()
	fmt.Println("FINISHED")
}

// TestKilledRunsEndAsACleanRun: a run killed with SIGKILL at random points
// (reading the deliveries, linking, evaluating the rules, recording the
// alerts, publishing), then run again, leaves the store exactly as one
// clean run does: every record stored once, every link, every alert with
// its evidence and history, none lost, doubled or half made.
func TestKilledRunsEndAsACleanRun(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the chain a dozen times")
	}
	t.Setenv("SAFETYNET_PSEUDONYM_KEY", "kill-test-pseudonym-key-0123")
	_, newKillSite := copiedSites(t, 1200, 12000, 1500)

	// The reference: one clean run, timed in the child as the killed ones.
	refDir, refCfg := newKillSite()
	start := time.Now()
	if out, err := child(t, refDir, 0); err != nil || !strings.Contains(out, "FINISHED") {
		t.Fatalf("the clean run: %v\n%s", err, out)
	}
	clean := time.Since(start)
	want := storeDigest(t, refCfg.Database)
	if len(want["alerts"]) == 0 || len(want["links"]) == 0 {
		t.Fatalf("the clean run raised nothing: %v", want)
	}

	rng := rand.New(rand.NewPCG(7, 13))
	for trial := 0; trial < 6; trial++ {
		// Spread over the run: from just after the start to near its end.
		at := time.Duration(float64(clean) * (0.05 + 0.9*float64(trial)/5 + 0.05*rng.Float64()))
		t.Run(fmt.Sprintf("killed after %s", at.Round(time.Millisecond)), func(t *testing.T) {
			dir, cfg := newKillSite()
			out, _ := child(t, dir, at)
			if strings.Contains(out, "FINISHED") {
				t.Logf("the run finished before the kill; checked all the same")
			}
			t.Logf("last words: %s", lastLine(out))
			if out, err := child(t, dir, 0); err != nil || !strings.Contains(out, "FINISHED") {
				t.Fatalf("the run after the kill: %v\n%s", err, out)
			}
			got := storeDigest(t, cfg.Database)
			for part, w := range want {
				if g := got[part]; strings.Join(g, "\n") != strings.Join(w, "\n") {
					t.Errorf("%s differs from a clean run's: %d rows, want %d; first difference %s", part, len(g), len(w), firstDiff(g, w))
				}
			}
		})
	}
}

// copiedSites generates a county and writes its deliveries once (a second
// write of a county varies its noise); each call of the func it returns
// is a fresh site with a copy of them in its inbox.
func copiedSites(t *testing.T, households, records, outsiders int) (*synth.County, func() (string, *config.Config)) {
	t.Helper()
	opt := synth.DefaultOptions(killAsOf)
	opt.Households, opt.Records, opt.Outsiders = households, records, outsiders
	county, err := synth.Generate(opt)
	if err != nil {
		t.Fatal(err)
	}
	deliveries := t.TempDir()
	if err := county.Write(deliveries, t.TempDir()); err != nil {
		t.Fatal(err)
	}
	return county, func() (string, *config.Config) {
		dir := t.TempDir()
		file, err := config.Init(dir)
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := config.Load(file)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.CopyFS(cfg.Inbox, os.DirFS(deliveries)); err != nil {
			t.Fatal(err)
		}
		return dir, cfg
	}
}

// child runs the chain in a child process; after kill (0: never) it is
// killed with SIGKILL.
func child(t *testing.T, site string, kill time.Duration) (string, error) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "TMPDIR="+t.TempDir(), "SAFETYNET_KILLED_RUN="+site)
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	done := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			out.WriteString(sc.Text() + "\n")
		}
		close(done)
	}()
	if kill > 0 {
		timer := time.AfterFunc(kill, func() { cmd.Process.Kill() })
		defer timer.Stop()
	}
	err := cmd.Wait()
	<-done
	return out.String(), err
}

// storeDigest reads what a run leaves, without the numbers and times that
// differ between any two runs: records, links, alerts with evidence and
// history, quarantined rows, runs by outcome.
func storeDigest(t *testing.T, path string) map[string][]string {
	t.Helper()
	db, err := sql.Open("duckdb", path+"?access_mode=read_only")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	queries := map[string]string{
		"records": `SELECT 'medins', record_key, row_hash FROM canon_medins WHERE valid_to IS NULL
			UNION ALL SELECT 'health', record_key, row_hash FROM canon_health WHERE valid_to IS NULL
			UNION ALL SELECT 'education', record_key, row_hash FROM canon_education WHERE valid_to IS NULL
			UNION ALL SELECT 'disability', record_key, row_hash FROM canon_disability WHERE valid_to IS NULL
			UNION ALL SELECT 'members', record_key, row_hash FROM canon_members WHERE valid_to IS NULL
			UNION ALL SELECT 'households', record_key, row_hash FROM canon_households WHERE valid_to IS NULL`,
		"links":      `SELECT source, record_key, method, coalesce(id_number, ''), coalesce(household_id, '') FROM match_links`,
		"alerts":     `SELECT rule_id, subject, severity, status, reason, coalesce(details, '') FROM alerts`,
		"evidence":   `SELECT a.rule_id, a.subject, e.source, e.record_id FROM alert_evidence e JOIN alerts a USING (alert_id)`,
		"history":    `SELECT a.rule_id, a.subject, h.actor, h.to_status, coalesce(h.event, '') FROM alert_history h JOIN alerts a USING (alert_id)`,
		"orphans":    `SELECT 'evidence', alert_id FROM alert_evidence ANTI JOIN alerts USING (alert_id) UNION ALL SELECT 'task', alert_id FROM tasks ANTI JOIN alerts USING (alert_id)`,
		"quarantine": `SELECT source, parse_filename(file_name), line, reason FROM ingest_quarantine`,
		"batches":    `SELECT source, parse_filename(file_name), file_sha256 FROM ingest_batches`,
		"running":    `SELECT run_id FROM job_runs WHERE status = 'running'`,
	}
	out := map[string][]string{}
	for name, q := range queries {
		rows, err := db.Query(q)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		cols, _ := rows.Columns()
		out[name] = []string{} // present when empty, so that it is compared
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			rows.Scan(ptrs...)
			out[name] = append(out[name], fmt.Sprint(vals...))
		}
		rows.Close()
		sort.Strings(out[name])
	}
	return out
}

func firstDiff(got, want []string) string {
	for i := 0; i < len(got) || i < len(want); i++ {
		var g, w string
		if i < len(got) {
			g = got[i]
		}
		if i < len(want) {
			w = want[i]
		}
		if g != w {
			return fmt.Sprintf("at %d: %q, want %q", i, g, w)
		}
	}
	return "none"
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	l := lines[len(lines)-1]
	if len(l) > 200 {
		l = l[:200]
	}
	return l
}

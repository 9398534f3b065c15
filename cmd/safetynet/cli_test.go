package main

import (
	"bufio"
	"bytes"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"

	_ "github.com/duckdb/duckdb-go/v2"
	"github.com/xuri/excelize/v2"
)

// TestCommandLine drives the built binary the way scripts do.
func TestCommandLine(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	t.Setenv("SAFETYNET_PSEUDONYM_KEY", "cli-test-pseudonym-key-42") // runs publish the analytic snapshot
	dir := t.TempDir()
	bin := buildBinary(t, dir)
	run := func(wantOK bool, args ...string) string {
		t.Helper()
		cmd := exec.Command(bin, args...)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		if (err == nil) != wantOK {
			t.Fatalf("safetynet %s: %v\nstdout: %s\nstderr: %s", strings.Join(args, " "), err, stdout.String(), stderr.String())
		}
		return stdout.String() + stderr.String()
	}
	site := filepath.Join(dir, "site")
	cfg := filepath.Join(site, "safetynet.yaml")
	run(true, "init", "--dir", site)
	run(true, "synth", "--dir", site, "--as-of", "2026-06-30", "--households", "200", "--records", "1000", "--outsiders", "200")
	// A file nobody can read goes to rejected/ and does not fail the run.
	os.WriteFile(filepath.Join(site, "inbox", "health", "broken.csv"), []byte("\x00\x01garbage"), 0o644)
	out := run(true, "run", "--config", cfg, "--as-of", "2026-06-30")
	if !strings.Contains(out, "(1 rejected)") {
		t.Errorf("run output: %s", out)
	}
	if _, err := os.Stat(filepath.Join(site, "rejected", "health")); err != nil {
		t.Errorf("rejected/health: %v", err)
	}

	var expected int
	f, _ := os.Open(filepath.Join(site, "expected_alerts.jsonl"))
	for sc := bufio.NewScanner(f); sc.Scan(); {
		expected++
	}
	f.Close()

	jsonl := run(true, "alerts", "list", "--config", cfg, "--format", "jsonl")
	lines := strings.Split(strings.TrimSpace(jsonl), "\n")
	if len(lines) != expected {
		t.Errorf("alerts list printed %d alerts, synth planted %d", len(lines), expected)
	}
	for _, l := range lines {
		var a map[string]any
		if err := json.Unmarshal([]byte(l), &a); err != nil {
			t.Fatalf("not JSON: %s", l)
		}
		for _, k := range []string{"alert_id", "rule_id", "severity", "status", "household_id", "id_number", "region_code", "first_seen", "due_at", "reason", "details", "evidence"} {
			if _, ok := a[k]; !ok {
				t.Errorf("alert lacks %s: %s", k, l)
			}
		}
		if a["rule_id"] == "discovery" && (a["household_id"] != "" || len(a["id_number"].(string)) != 18) {
			t.Errorf("discovery alert: household %q id %q", a["household_id"], a["id_number"])
		}
		if ev, _ := a["evidence"].([]any); len(ev) == 0 && a["rule_id"] != "multiple_hardship" {
			t.Errorf("alert without evidence: %s", l)
		}
	}
	if csv := run(true, "alerts", "list", "--config", cfg, "--format", "csv"); !strings.HasPrefix(csv, "alert_id,rule_id,severity,status,household_id,id_number") {
		t.Errorf("csv header: %.80s", csv)
	}
	if table := run(true, "alerts", "list", "--config", cfg); !strings.Contains(table, "temporary_assistance") {
		t.Errorf("table: %.200s", table)
	}
	// The rule pack, and a dry run that agrees with what the run raised and writes nothing.
	if out := run(true, "rules", "list", "--config", cfg); strings.Count(out, " on ") < 8 || !strings.Contains(out, "temporary_assistance") {
		t.Errorf("rules list:\n%s", out)
	}
	dry := run(true, "rules", "test", "--config", cfg, "--as-of", "2026-06-30", "--sample", "1")
	perRule := map[string]int{}
	for _, l := range lines {
		var a struct {
			RuleID string `json:"rule_id"`
		}
		json.Unmarshal([]byte(l), &a)
		perRule[a.RuleID]++
	}
	for rule, n := range perRule {
		if !strings.Contains(dry, fmt.Sprintf("%s: %d\n", rule, n)) {
			t.Errorf("rules test does not find the %d %s alerts the run raised:\n%s", n, rule, dry)
		}
	}
	if again := run(true, "alerts", "list", "--config", cfg, "--format", "jsonl"); strings.Count(again, "\n") != len(lines) {
		t.Errorf("the dry run changed the alerts")
	}
	if out := run(false, "rules", "test", "--config", cfg, "no_such_rule"); !strings.Contains(out, "no rule") {
		t.Errorf("unknown rule: %s", out)
	}
	// Running again adds nothing.
	if out := run(true, "run", "--config", cfg, "--as-of", "2026-06-30"); !strings.Contains(out, "0 alerts raised") {
		t.Errorf("second run: %s", out)
	}
	// A department file with bad rows: listed, shown, exported for the
	// department, and released when the fixed file comes back.
	inbox := filepath.Join(site, "inbox", "medins", "march.csv")
	bad := "结算编号,身份证号,姓名,结算日期,个人自付\nQ1,11010519491231002X,王芳,2026-02-30,10\nQ2,11010519491231002X,王芳,2026-03-01,abc\nQ3,11010519491231002X,王芳,2026-03-01,5\n"
	os.WriteFile(inbox, []byte(bad), 0o644)
	run(true, "run", "--config", cfg, "--as-of", "2026-06-30")
	if out := run(true, "quarantine", "list", "--config", cfg); !strings.Contains(out, "march.csv") || !strings.Contains(out, "not a real date") {
		t.Errorf("quarantine list: %s", out)
	}
	if out := run(true, "quarantine", "show", "--config", cfg, "--file", "march.csv"); !strings.Contains(out, "settle_date") || !strings.Contains(out, "out_of_pocket") {
		t.Errorf("quarantine show: %s", out)
	}
	fix := filepath.Join(dir, "fix.xlsx")
	run(true, "quarantine", "export", "--config", cfg, "--file", "march.csv", "--out", fix)
	wb, err := excelize.OpenFile(fix)
	if err != nil {
		t.Fatal(err)
	}
	rows, _ := wb.GetRows("待修正")
	wb.Close()
	if len(rows) != 3 || rows[1][2] != "2" || rows[1][3] != "结算日期" || !strings.Contains(rows[2][5], "个人自付：\"abc\"不是金额") {
		t.Errorf("export read back: %q", rows)
	}
	// In English on request.
	run(true, "quarantine", "export", "--config", cfg, "--file", "march.csv", "--out", fix, "--lang", "en")
	if wb, err = excelize.OpenFile(fix); err != nil {
		t.Fatal(err)
	}
	rows, _ = wb.GetRows("to fix")
	wb.Close()
	if len(rows) != 3 || rows[0][5] != "problem" || !strings.Contains(rows[2][5], `out of pocket: "abc" is not an amount`) {
		t.Errorf("English export read back: %q", rows)
	}
	os.WriteFile(inbox, []byte(strings.NewReplacer("2026-02-30", "2026-02-28", "abc", "12").Replace(bad)), 0o644)
	run(true, "run", "--config", cfg, "--as-of", "2026-06-30")
	// The county's own kept values (an ID in Excel's number form, an income
	// of 不详) stay listed; the fixed file's rows are gone.
	if out := run(true, "quarantine", "list", "--config", cfg); strings.Contains(out, "march.csv") || !strings.Contains(out, "KEPT") {
		t.Errorf("after the fixed file: %s", out)
	}
	if out := run(true, "quarantine", "list", "--config", cfg, "--released"); !strings.Contains(out, "march.csv") {
		t.Errorf("released rows not listed: %s", out)
	}

	// Analysts' SQL over the snapshot: a SELECT answers with pseudonyms
	// only; anything else is refused; both are in the audit log.
	out = run(true, "sql", "--config", cfg, "--as", "analyst1", "SELECT tier, count(DISTINCT person) AS persons FROM registry_months GROUP BY ALL ORDER BY tier")
	if !strings.Contains(out, "persons") || !strings.Contains(out, "dibao") {
		t.Errorf("sql: %s", out)
	}
	if out := run(true, "sql", "--config", cfg, "--format", "csv", "SELECT person FROM registry_months LIMIT 3"); !regexp.MustCompile(`(?m)^p[0-9a-f]{16}$`).MatchString(out) {
		t.Errorf("sql --format csv: pseudonyms expected: %s", out)
	}
	if out := run(false, "sql", "--config", cfg, "--as", "analyst1", "DROP VIEW alerts"); !strings.Contains(out, "only a single SELECT") {
		t.Errorf("sql refusing a write: %s", out)
	}
	if out := run(true, "funnel", "--config", cfg, "--by", "rule", "--as", "analyst1"); !strings.Contains(out, "discovery") || !strings.Contains(out, "RAISED") ||
		!strings.Contains(out, "<5") || regexp.MustCompile(`\s[1-4]\s`).MatchString(out) {
		t.Errorf("funnel, suppressed (no count from 1 to 4 shown, some <5): %s", out)
	}
	if out := run(true, "funnel", "--config", cfg, "--by", "rule", "--suppress", "0"); strings.Contains(out, "<") || strings.Contains(out, "×") {
		t.Errorf("funnel --suppress 0: %s", out)
	}
	if out := run(false, "lake", "--config", cfg); !strings.Contains(out, "analytics.lake is not set") {
		t.Errorf("lake without a lake configured: %s", out)
	}
	if n := auditCount(t, filepath.Join(site, "safetynet.duckdb"), "analyst1", "sql"); n != 2 {
		t.Errorf("sql audited %d times for analyst1, want 2", n)
	}

	// The review queue answers; evaluation on FEBRL prints its figures.
	if out := run(true, "match", "review", "--config", cfg); !strings.Contains(out, "the ID is ") {
		t.Errorf("match review: %s", out)
	}
	febrl := filepath.Join("..", "..", "..", "shared", "data", "febrl")
	if out := run(true, "match", "eval", "--left", filepath.Join(febrl, "febrl4a.csv"), "--right", filepath.Join(febrl, "febrl4b.csv"), "--truth", "rec_id"); !strings.Contains(out, "F1 0.99") || !strings.Contains(out, "birth_date") {
		t.Errorf("match eval: %s", out)
	}

	// Users: add with a password from stdin or a printed one, list, disable, passwd.
	runIn := func(wantOK bool, stdin string, args ...string) string {
		t.Helper()
		cmd := exec.Command(bin, args...)
		cmd.Stdin = strings.NewReader(stdin)
		out, err := cmd.CombinedOutput()
		if (err == nil) != wantOK {
			t.Fatalf("safetynet %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	runIn(true, "s3cret-password\n", "users", "add", "--config", cfg, "--name", "op1", "--role", "operator", "--region", "330110", "--password-stdin")
	if out := runIn(true, "", "users", "add", "--config", cfg, "--name", "gw1", "--role", "gridworker", "--region", "330110001", "--grid", "G001"); !strings.Contains(out, "password: ") {
		t.Errorf("no password printed: %s", out)
	}
	if out := runIn(false, "", "users", "add", "--config", cfg, "--name", "op2", "--role", "operator"); !strings.Contains(out, "--region") {
		t.Errorf("an operator without a region: %s", out)
	}
	if out := runIn(false, "", "users", "add", "--config", cfg, "--name", "county-b", "--role", "peer"); !strings.Contains(out, "a peer instance needs --region") {
		t.Errorf("a peer without a region: %s", out)
	}
	runIn(true, "", "users", "add", "--config", cfg, "--name", "county-b", "--role", "peer", "--region", "330102")
	if out := runIn(true, "", "users", "token", "--config", cfg, "--name", "county-b"); !regexp.MustCompile(`\nsn_[0-9a-f]{48}\n`).MatchString(out) {
		t.Errorf("a peer's token: %s", out)
	}
	if out := runIn(false, "", "users", "add", "--config", cfg, "--name", "op1", "--role", "analyst"); !strings.Contains(out, "exists already") {
		t.Errorf("adding op1 twice: %s", out)
	}
	runIn(true, "", "users", "disable", "--config", cfg, "--name", "gw1")
	list := runIn(true, "", "users", "list", "--config", cfg)
	if !regexp.MustCompile(`op1\s+operator\s+330110\s+active`).MatchString(list) || !regexp.MustCompile(`gw1\s+gridworker\s+330110001\s+G001\s+disabled`).MatchString(list) {
		t.Errorf("users list:\n%s", list)
	}
	if out := runIn(true, "another-password\n", "users", "passwd", "--config", cfg, "--name", "gw1", "--password-stdin"); !strings.Contains(out, "changed") {
		t.Errorf("passwd: %s", out)
	}
	if out := runIn(false, "", "users", "passwd", "--config", cfg, "--name", "nobody"); !strings.Contains(out, "no such user") {
		t.Errorf("passwd of nobody: %s", out)
	}

	// While serve owns the database, the same commands print the same,
	// run inside the server.
	before := run(true, "alerts", "list", "--config", cfg, "--format", "csv")
	srv := startServe(t, bin, cfg)
	if out := run(true, "alerts", "list", "--config", cfg, "--format", "csv"); out != before {
		t.Errorf("alerts list while serving printed\n%s\nnot, as without a server,\n%s", out, before)
	}
	srv.stop(t)

	// A config error names the file, the line and the key, and fails.
	os.WriteFile(cfg, []byte("timezone: Asia/Shanghai\nsources:\n  medins:\n    schedule: sometimes\n"), 0o644)
	if out := run(false, "run", "--config", cfg); !strings.Contains(out, "safetynet.yaml:4: sources.medins.schedule") {
		t.Errorf("config error: %s", out)
	}
	run(false, "run", "--config", filepath.Join(dir, "missing.yaml"))
}

// auditCount opens the site's database (no server holds it) and counts
// the audit entries of one user and action.
func auditCount(t *testing.T, path, user, action string) int {
	t.Helper()
	db, err := sql.Open("duckdb", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM audit_log WHERE username = ? AND action = ?`, user, action).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// buildBinary builds safetynet into dir, for tests that drive it as
// scripts and operators do.
func buildBinary(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "safetynet")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	return bin
}

// server is a `safetynet serve` process the test started.
type server struct {
	cmd *exec.Cmd
	log *bytes.Buffer // what it logged up to "serving"
	url string        // where it serves
}

// startServe starts serve on a loopback port and waits until it serves.
func startServe(t *testing.T, bin, cfg string, flags ...string) *server {
	t.Helper()
	srv := exec.Command(bin, append([]string{"serve", "--config", cfg, "--addr", "127.0.0.1:0"}, flags...)...)
	stderr, _ := srv.StderrPipe()
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	log := &bytes.Buffer{}
	sc := bufio.NewScanner(stderr)
	for sc.Scan() && !strings.Contains(sc.Text(), "msg=serving") {
		fmt.Fprintln(log, sc.Text())
	}
	var url string
	if m := regexp.MustCompile(`url=(\S+)`).FindStringSubmatch(sc.Text()); m != nil {
		url = m[1]
	}
	go func() {
		for sc.Scan() {
		}
	}()
	return &server{cmd: srv, log: log, url: url}
}

// stop stops it as systemd does, and checks it stopped cleanly.
func (s *server) stop(t *testing.T) {
	t.Helper()
	s.cmd.Process.Signal(syscall.SIGTERM)
	if err := s.cmd.Wait(); err != nil {
		t.Errorf("serve did not stop cleanly on SIGTERM: %v\n%s", err, s.log)
	}
}

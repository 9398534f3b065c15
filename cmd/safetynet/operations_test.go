package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"database/sql"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestOperateWhileServing: with serve running, the CLI's commands run
// inside it (a password from stdin, a run, a mistake that must not stop
// it), a backup is taken without stopping it, and, serve stopped, the
// restore brings back exactly what the backup held: alerts, their
// history, links and the audit log, with what came after kept aside.
func TestOperateWhileServing(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	t.Setenv("SAFETYNET_PSEUDONYM_KEY", "ops-test-pseudonym-key-42")
	dir := t.TempDir()
	bin := buildBinary(t, dir)
	run := func(wantOK bool, stdin string, args ...string) string {
		t.Helper()
		cmd := exec.Command(bin, args...)
		cmd.Stdin = strings.NewReader(stdin)
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
	database := filepath.Join(site, "safetynet.duckdb")
	run(true, "", "init", "--dir", site)
	run(true, "", "synth", "--dir", site, "--as-of", "2026-06-30", "--households", "200", "--records", "1000", "--outsiders", "200")
	run(true, "", "run", "--config", cfg, "--as-of", "2026-06-30")
	rulesBefore := run(true, "", "rules", "list", "--config", cfg)

	srv := startServe(t, bin, cfg)
	if out := run(true, "", "rules", "list", "--config", cfg); out != rulesBefore {
		t.Errorf("rules list while serving:\n%s\nwithout a server:\n%s", out, rulesBefore)
	}
	run(true, "op-password-1\n", "users", "add", "--config", cfg, "--name", "op1", "--role", "operator", "--region", "330110", "--password-stdin")
	if out := run(true, "", "users", "list", "--config", cfg); !strings.Contains(out, "op1") {
		t.Errorf("the user added through the server is not listed: %s", out)
	}
	if out := run(false, "", "alerts", "list", "--config", cfg, "--no-such-flag"); !strings.Contains(out, "no-such-flag") {
		t.Errorf("a bad flag through the server: %s", out)
	}
	if out := run(true, "", "run", "--config", cfg, "--as-of", "2026-06-30"); !strings.Contains(out, "alerts raised") {
		t.Errorf("a run through the server: %s", out)
	}
	if out := run(false, "", "restore", "--config", cfg, "--from", filepath.Join(dir, "nowhere")); !strings.Contains(out, "stop it first") {
		t.Errorf("restore while serving: %s", out)
	}

	backups := filepath.Join(dir, "backups")
	out := run(true, "", "backup", "--config", cfg, "--to", backups)
	if !strings.Contains(out, "backup "+backups) {
		t.Fatalf("backup: %s", out)
	}
	copies, _ := filepath.Glob(filepath.Join(backups, "safetynet-*.duckdb"))
	if len(copies) != 1 {
		t.Fatalf("backups: %v", copies)
	}
	// After the backup: a user, a second run's audit entries.
	run(true, "op-password-2\n", "users", "add", "--config", cfg, "--name", "op2", "--role", "operator", "--region", "330110", "--password-stdin")
	srv.stop(t)
	after := tableSums(t, database)

	out = run(true, "", "restore", "--config", cfg, "--from", backups)
	if !strings.Contains(out, "kept as") {
		t.Errorf("restore: %s", out)
	}
	restored, backedUp := tableSums(t, database), tableSums(t, copies[0])
	for _, table := range []string{"alerts", "alert_history", "alert_evidence", "match_links", "audit_log", "users", "tasks"} {
		if restored[table] != backedUp[table] {
			t.Errorf("%s after the restore is not the backup's: %s, backup %s", table, restored[table], backedUp[table])
		}
	}
	if restored["users"] == after["users"] {
		t.Error("the user added after the backup survived the restore")
	}
	kept, _ := filepath.Glob(database + ".before-restore-*")
	if len(kept) != 1 || tableSums(t, kept[0])["users"] != after["users"] {
		t.Errorf("the replaced database was not kept whole: %v", kept)
	}
	if out := run(true, "", "check", "--config", cfg); !strings.Contains(out, "every block") {
		t.Errorf("check after the restore: %s", out)
	}
	// A restored site serves again.
	startServe(t, bin, cfg).stop(t)
}

// TestServeRefusesDamagedDatabase: serve on a database whose bytes are
// not DuckDB's stops with a message saying so and what to do, and leaves
// the file exactly as it found it.
func TestServeRefusesDamagedDatabase(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	dir := t.TempDir()
	bin := buildBinary(t, dir)
	site := filepath.Join(dir, "site")
	if out, err := exec.Command(bin, "init", "--dir", site).CombinedOutput(); err != nil {
		t.Fatalf("init: %v\n%s", err, out)
	}
	database := filepath.Join(site, "safetynet.duckdb")
	os.MkdirAll(filepath.Dir(database), 0o755)
	damaged := bytes.Repeat([]byte("not a database, a page of something else\n"), 5000)
	if err := os.WriteFile(database, damaged, 0o600); err != nil {
		t.Fatal(err)
	}
	// Should serve start after all, the deadline stops it and the test fails.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, "serve", "--config", filepath.Join(site, "safetynet.yaml"), "--addr", "127.0.0.1:0").CombinedOutput()
	if err == nil {
		t.Fatal("serve started on a damaged database")
	}
	for _, want := range []string{"damaged", database, "left exactly as it is", "safetynet restore"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("serve's message lacks %q: %s", want, out)
		}
	}
	if now, _ := os.ReadFile(database); !bytes.Equal(now, damaged) {
		t.Error("serve changed the damaged file")
	}
}

// tableSums fingerprints each table of a database file (no process may
// hold it): its rows and a hash over all of them.
func tableSums(t *testing.T, path string) map[string]string {
	t.Helper()
	db, err := sql.Open("duckdb", path+"?access_mode=read_only")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`SELECT table_name FROM duckdb_tables() WHERE NOT temporary`)
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var n string
		rows.Scan(&n)
		tables = append(tables, n)
	}
	rows.Close()
	out := map[string]string{}
	for _, table := range tables {
		var n int64
		var h any
		if err := db.QueryRow(fmt.Sprintf(`SELECT count(*), sum(hash(t::VARCHAR)) FROM %q t`, table)).Scan(&n, &h); err != nil {
			t.Fatal(err)
		}
		out[table] = fmt.Sprintf("%d rows, %v", n, h)
	}
	return out
}

// TestServeTLS: with --tls-cert and --tls-key serve speaks HTTPS only,
// and its session cookie is Secure.
func TestServeTLS(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	dir := t.TempDir()
	bin := buildBinary(t, dir)
	site := filepath.Join(dir, "site")
	if out, err := exec.Command(bin, "init", "--dir", site).CombinedOutput(); err != nil {
		t.Fatalf("init: %v\n%s", err, out)
	}
	certFile, keyFile, pool := selfSigned(t, dir)
	srv := startServe(t, bin, filepath.Join(site, "safetynet.yaml"), "--tls-cert", certFile, "--tls-key", keyFile)
	defer srv.stop(t)
	if !strings.HasPrefix(srv.url, "https://") {
		t.Fatalf("serve says it serves at %q", srv.url)
	}
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	resp, err := c.Get(srv.url + "/login")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Set-Cookie"), "Secure") || resp.Header.Get("Strict-Transport-Security") == "" {
		t.Errorf("HTTPS login page: %d, cookie %q", resp.StatusCode, resp.Header.Get("Set-Cookie"))
	}
	if resp, err := http.Get("http://" + strings.TrimPrefix(srv.url, "https://") + "/healthz"); err == nil {
		resp.Body.Close()
		if resp.StatusCode == 200 {
			t.Error("plain HTTP answered on the HTTPS port")
		}
	}
}

// selfSigned writes a certificate for 127.0.0.1 and its key.
func selfSigned(t *testing.T, dir string) (string, string, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "safetynet test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, _ := x509.MarshalECPrivateKey(key)
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600)
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

// TestKilledDuringABulkAction: serve killed with SIGKILL in the middle of
// a bulk dispatch leaves every alert either dispatched whole (its task,
// its history) or untouched: no task without its alert, no alert half
// dispatched; and the site serves again.
func TestKilledDuringABulkAction(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	dir := t.TempDir()
	bin := buildBinary(t, dir)
	site := filepath.Join(dir, "site")
	cfg := filepath.Join(site, "safetynet.yaml")
	database := filepath.Join(site, "safetynet.duckdb")
	for _, args := range [][]string{{"init", "--dir", site}, {"synth", "--dir", site, "--as-of", "2026-06-30", "--households", "300", "--records", "2000", "--outsiders", "300"},
		{"run", "--config", cfg, "--as-of", "2026-06-30"}} {
		if out, err := exec.Command(bin, args...).CombinedOutput(); err != nil {
			t.Fatalf("%v: %v\n%s", args, err, out)
		}
	}
	cmd := exec.Command(bin, "users", "add", "--config", cfg, "--name", "op1", "--role", "operator", "--region", "33", "--password-stdin")
	cmd.Stdin = strings.NewReader("op-password-1\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("users add: %v\n%s", err, out)
	}
	// Kills spread over the request (about half a second for 32 alerts on
	// the build machine); the checks hold wherever one lands.
	for trial, wait := range []time.Duration{100 * time.Millisecond, 250 * time.Millisecond, 350 * time.Millisecond, 450 * time.Millisecond, 0} {
		srv := startServe(t, bin, cfg)
		c := loginAs(t, srv.url, "op1", "op-password-1")
		page := getPage(t, c, srv.url+"/alerts?status=new")
		ids := regexp.MustCompile(`name="id" value="(\d+)"`).FindAllStringSubmatch(page, -1)
		if trial == 0 && len(ids) < 5 {
			t.Fatalf("%d new alerts on the page", len(ids))
		}
		if len(ids) == 0 { // an earlier kill came after the last of them
			srv.stop(t)
			break
		}
		form := url.Values{"csrf": {csrfOf(t, page)}, "action": {"dispatch"}}
		for _, m := range ids {
			form.Add("id", m[1])
		}
		if wait == 0 { // unkilled: the same request dispatches them all
			start := time.Now()
			resp, err := c.PostForm(srv.url+"/alerts/act", form)
			t.Logf("the bulk dispatch of %d alerts took %s", len(ids), time.Since(start))
			if err != nil || resp.StatusCode != http.StatusSeeOther {
				t.Fatalf("bulk dispatch: %v %v", resp, err)
			}
			resp.Body.Close()
		} else {
			go c.PostForm(srv.url+"/alerts/act", form)
			time.Sleep(wait)
		}
		srv.cmd.Process.Kill()
		srv.cmd.Wait()
		checkDispatches(t, database)
	}
	startServe(t, bin, cfg).stop(t)
}

// checkDispatches fails on an alert half dispatched or a task without its alert.
func checkDispatches(t *testing.T, path string) {
	t.Helper()
	db, err := sql.Open("duckdb", path+"?access_mode=read_only")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for what, q := range map[string]string{
		"tasks without their alert":           `SELECT count(*) FROM tasks ANTI JOIN alerts USING (alert_id)`,
		"dispatched alerts without one task":  `SELECT count(*) FROM alerts a WHERE status = 'dispatched' AND (SELECT count(*) FROM tasks t WHERE t.alert_id = a.alert_id) <> 1`,
		"dispatched alerts without a history": `SELECT count(*) FROM alerts a WHERE status = 'dispatched' AND NOT EXISTS (SELECT 1 FROM alert_history h WHERE h.alert_id = a.alert_id AND h.to_status = 'dispatched')`,
		"new alerts with a task":              `SELECT count(*) FROM alerts a WHERE status = 'new' AND EXISTS (SELECT 1 FROM tasks t WHERE t.alert_id = a.alert_id)`,
	} {
		var n int
		if err := db.QueryRow(q).Scan(&n); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if n != 0 {
			t.Errorf("after the kill: %d %s", n, what)
		}
	}
	var dispatched, open int
	db.QueryRow(`SELECT count(*) FILTER (status = 'dispatched'), count(*) FILTER (status = 'new') FROM alerts`).Scan(&dispatched, &open)
	t.Logf("after the kill: %d alerts dispatched, %d still new", dispatched, open)
}

func loginAs(t *testing.T, base, user, password string) *http.Client {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	page := getPage(t, c, base+"/login")
	resp, err := c.PostForm(base+"/login", url.Values{"username": {user}, "password": {password}, "csrf": {csrfOf(t, page)}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("login %s: %d", user, resp.StatusCode)
	}
	return c
}

func getPage(t *testing.T, c *http.Client, u string) string {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func csrfOf(t *testing.T, page string) string {
	t.Helper()
	m := regexp.MustCompile(`name="csrf" value="([0-9a-f]+)"`).FindStringSubmatch(page)
	if m == nil {
		t.Fatal("no CSRF token on the page")
	}
	return m[1]
}

// TestStopDuringARun: SIGTERM (systemctl stop) while a run stores a large
// delivery: serve stops cleanly, the run is recorded as failed rather
// than left running, nothing of its open batch is stored, and the next
// run stores the delivery whole.
func TestStopDuringARun(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	dir := t.TempDir()
	bin := buildBinary(t, dir)
	site := filepath.Join(dir, "site")
	cfg := filepath.Join(site, "safetynet.yaml")
	if out, err := exec.Command(bin, "init", "--dir", site).CombinedOutput(); err != nil {
		t.Fatalf("init: %v\n%s", err, out)
	}
	var b strings.Builder
	b.WriteString("结算编号,身份证号,结算日期,个人自付\n")
	const rows = 400_000
	for i := 0; i < rows; i++ {
		fmt.Fprintf(&b, "T%07d,11010519491231002X,2026-06-%02d,%d.00\n", i, 1+i%28, 100+i%900)
	}
	os.WriteFile(filepath.Join(site, "inbox", "medins", "large.csv"), []byte(b.String()), 0o644)
	srv := startServe(t, bin, cfg)
	run := exec.Command(bin, "run", "--config", cfg)
	var runOut bytes.Buffer
	run.Stdout, run.Stderr = &runOut, &runOut
	if err := run.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(700 * time.Millisecond) // inside the batch: 400,000 rows take seconds
	start := time.Now()
	srv.stop(t) // SIGTERM, and a clean exit
	t.Logf("serve stopped %s after SIGTERM", time.Since(start).Round(time.Millisecond))
	run.Wait()
	database := filepath.Join(site, "safetynet.duckdb")
	db, err := sql.Open("duckdb", database+"?access_mode=read_only")
	if err != nil {
		t.Fatal(err)
	}
	var status, stored string
	db.QueryRow(`SELECT status FROM job_runs ORDER BY run_id DESC LIMIT 1`).Scan(&status)
	db.QueryRow(`SELECT count(*)::VARCHAR FROM canon_medins`).Scan(&stored)
	db.Close()
	if status == "running" {
		t.Errorf("the stopped run is left running")
	}
	if stored != "0" && stored != fmt.Sprint(rows) {
		t.Errorf("after the stop %s of %d rows are stored: part of a batch", stored, rows)
	}
	t.Logf("the run was %s; %s rows stored; the CLI said: %s", status, stored, lastLineOf(runOut.String()))
	if out, err := exec.Command(bin, "run", "--config", cfg).CombinedOutput(); err != nil {
		t.Fatalf("the run after the stop: %v\n%s", err, out)
	}
	db, _ = sql.Open("duckdb", database+"?access_mode=read_only")
	defer db.Close()
	var n int
	db.QueryRow(`SELECT count(*) FROM canon_medins`).Scan(&n)
	if n != rows {
		t.Errorf("after the next run %d rows, want %d", n, rows)
	}
}

func lastLineOf(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

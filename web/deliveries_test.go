package web

import (
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
)

// TestDeliveriesPage: a file refused whole and a delivery with rows to
// fix show on the deliveries page, with the department's workbook (its
// reasons in Chinese) one click away; a source that went quiet past its
// allowance is stale on the page and in the metrics; an administrator
// starts a run from the page and sees it in the history; a grid worker
// never sees the page.
func TestDeliveriesPage(t *testing.T) {
	s := newSite(t)
	inbox := s.chain.Cfg.Inbox
	os.WriteFile(filepath.Join(inbox, "medins", "bad-amounts.csv"),
		[]byte("结算编号,身份证号,结算日期,个人自付\nQ1,11010519491231002X,2026-06-20,约三千\nQ2,11010519491231002X,2026-06-21,1200\n"), 0o644)
	os.WriteFile(filepath.Join(inbox, "health", "old.xls"), append([]byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}, make([]byte, 504)...), 0o644)
	if _, err := s.chain.Run(t.Context(), "test", time.Time{}); err != nil {
		t.Fatal(err)
	}
	s.server.StaleAfter["education"] = time.Nanosecond
	admin := s.login(t, "admin")
	code, page := get(t, admin, s.srv.URL+"/deliveries")
	if code != 200 {
		t.Fatalf("deliveries: %d\n%s", code, page)
	}
	for _, want := range []string{`id="stale-education"`, "old.xls", "bad-amounts.csv", `id="run-now"`, "不是金额", "个人自付", "医保"} {
		if !strings.Contains(page, want) {
			t.Errorf("the deliveries page lacks %q", want)
		}
	}
	if strings.Contains(page, `id="stale-medins"`) {
		t.Error("medins, delivered just now, is called stale")
	}
	if l := leaks(page); len(l) > 0 {
		t.Errorf("the deliveries page shows %v", l)
	}
	// The department's workbook: the row, its value, why, in Chinese.
	var batch string
	if err := s.chain.DB.QueryRow(`SELECT max(batch_id) FROM ingest_quarantine WHERE file_name LIKE '%bad-amounts.csv'`).Scan(&batch); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(page, `id="fix-`+batch+`"`) {
		t.Errorf("no workbook link for batch %s", batch)
	}
	code, book := get(t, admin, s.srv.URL+"/deliveries/quarantine.xlsx?batch="+batch)
	if code != 200 {
		t.Fatalf("workbook: %d", code)
	}
	f, err := excelize.OpenReader(strings.NewReader(book))
	if err != nil {
		t.Fatal(err)
	}
	rows, _ := f.GetRows("待修正")
	if len(rows) != 2 || rows[0][5] != "问题" || !strings.Contains(rows[1][5], "个人自付：\"约三千\"不是金额") || rows[1][3] != "个人自付" {
		t.Errorf("the workbook: %q", rows)
	}
	// The metric says the same.
	_, metrics := get(t, admin, s.srv.URL+"/metrics")
	if !strings.Contains(metrics, `safetynet_ingest_source_stale{source="education"} 1`) || !strings.Contains(metrics, `safetynet_ingest_source_stale{source="medins"} 0`) {
		t.Errorf("stale metric:\n%s", grepLines(metrics, "source_stale"))
	}
	// Run now: started, and in the history once done.
	resp, _ := postForm(t, admin, s.srv.URL+"/deliveries/run", url.Values{"csrf": {csrf(t, page)}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("run now: %d", resp.StatusCode)
	}
	var runs int
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		s.chain.DB.QueryRow(`SELECT count(*) FROM job_runs WHERE trigger = 'web:admin' AND status <> 'running'`).Scan(&runs)
		if runs == 1 {
			break
		}
	}
	if runs != 1 {
		t.Fatal("the run started from the page did not finish")
	}
	_, page = get(t, admin, s.srv.URL+"/deliveries")
	if !strings.Contains(page, "admin在网页上启动") {
		t.Error("the run history does not show the run started from the page")
	}
	// An operator reads the page; a grid worker is sent back to the tasks.
	if code, _ := get(t, s.login(t, "op-yuhang"), s.srv.URL+"/deliveries"); code != 200 {
		t.Errorf("an operator's deliveries page: %d", code)
	}
	if code, _ := get(t, s.login(t, "analyst"), s.srv.URL+"/deliveries"); code != http.StatusForbidden {
		t.Errorf("an analyst's deliveries page: %d", code)
	}
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

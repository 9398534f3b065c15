package web

import (
	"bytes"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"safetynet/alerts"
)

// wholeID is an 18-character resident ID shown in full.
var wholeID = regexp.MustCompile(`\b\d{17}[\dX]\b`)

// xlsxRows reads the first sheet of a workbook the server sent.
func xlsxRows(t *testing.T, body string) [][]string {
	t.Helper()
	f, err := excelize.OpenReader(strings.NewReader(body))
	if err != nil {
		t.Fatalf("not a workbook: %v", err)
	}
	defer f.Close()
	rows, err := f.GetRows(f.GetSheetName(0))
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// Every role against every page, export and API: a user never sees or
// changes anything outside their scope. Operators see their region only,
// analysts read with IDs masked, grid workers their grid's tasks only,
// the audit log is the administrator's.
func TestEveryRoleStaysInScope(t *testing.T) {
	s := newSite(t)
	task := dispatchedTask(t, s) // adds gw (the task's grid) and gw-other
	ctx := t.Context()
	var alertID int64
	if err := s.chain.DB.QueryRow(`SELECT alert_id FROM alerts WHERE status = 'new' AND starts_with(region_code, '330110') ORDER BY alert_id LIMIT 1`).Scan(&alertID); err != nil {
		t.Fatal(err)
	}
	all, _ := alerts.List(ctx, s.chain.DB, alerts.Filter{})
	outsideWholeID := false
	for _, a := range all {
		outsideWholeID = outsideWholeID || a.IDNumber != ""
	}
	if !outsideWholeID {
		t.Fatal("the county has no alert with an ID number to check masking on")
	}
	aid, tid := strconv.FormatInt(alertID, 10), strconv.FormatInt(task.TaskID, 10)

	clients := map[string]*http.Client{}
	tokens := map[string]string{}
	for _, u := range []string{"admin", "op-yuhang", "op-elsewhere", "analyst", "gw", "gw-other"} {
		clients[u] = s.login(t, u)
		home := "/alerts"
		if strings.HasPrefix(u, "gw") {
			home = "/tasks"
		}
		if u == "analyst" {
			home = "/analytics"
		}
		_, body := get(t, clients[u], s.srv.URL+home)
		tokens[u] = csrf(t, body)
	}

	type check func(t *testing.T, code int, body string)
	status := func(want int) check {
		return func(t *testing.T, code int, body string) {
			if code != want {
				t.Errorf("status %d, want %d", code, want)
			}
		}
	}
	// A grid worker sent to an operator's page goes back to their tasks.
	toTasks := status(http.StatusSeeOther)
	okAnd := func(f func(t *testing.T, body string)) check {
		return func(t *testing.T, code int, body string) {
			if code != http.StatusOK {
				t.Fatalf("status %d, want 200", code)
			}
			f(t, body)
		}
	}
	inboxRows := func(min, max int) check {
		return okAnd(func(t *testing.T, body string) {
			if n := len(rowRule.FindAllString(body, -1)); n < min || n > max {
				t.Errorf("%d inbox rows, want %d to %d", n, min, max)
			}
		})
	}
	xlsx := func(masked bool, wantRows bool, prefix string) check {
		return okAnd(func(t *testing.T, body string) {
			rows := xlsxRows(t, body)
			if got := len(rows) > 1; got != wantRows {
				t.Errorf("%d rows in the export", len(rows)-1)
			}
			for _, r := range rows[1:] {
				if r[5] != "" && wholeID.MatchString(r[5]) == masked {
					t.Errorf("ID %q (masked %t)", r[5], masked)
				}
				if !strings.HasPrefix(r[6], prefix) {
					t.Errorf("alert %s of region %s", r[0], r[6])
				}
			}
		})
	}
	api := func(masked bool, wantAny bool, prefix string) check {
		return okAnd(func(t *testing.T, body string) {
			var got struct{ Alerts []alerts.Alert }
			if err := json.Unmarshal([]byte(body), &got); err != nil {
				t.Fatal(err)
			}
			if (len(got.Alerts) > 0) != wantAny {
				t.Errorf("%d alerts", len(got.Alerts))
			}
			for _, a := range got.Alerts {
				if !strings.HasPrefix(a.RegionCode, prefix) {
					t.Errorf("alert %d of region %s", a.AlertID, a.RegionCode)
				}
				if a.IDNumber != "" && wholeID.MatchString(a.IDNumber) == masked {
					t.Errorf("ID %q (masked %t)", a.IDNumber, masked)
				}
			}
		})
	}
	contains := func(frag string, want bool) check {
		return okAnd(func(t *testing.T, body string) {
			if strings.Contains(body, frag) != want {
				t.Errorf("page contains %q: %t, want %t", frag, !want, want)
			}
		})
	}
	sheetTasks := func(want int) check {
		return okAnd(func(t *testing.T, body string) {
			if n := len(xlsxRows(t, body)) - 1; n != want {
				t.Errorf("%d tasks in the sheet, want %d", n, want)
			}
		})
	}
	noWholeIDs := okAnd(func(t *testing.T, body string) {
		if m := wholeID.FindString(body); m != "" {
			t.Errorf("a whole ID on the page: %s", m)
		}
	})

	gets := []struct {
		path string
		want map[string]check
	}{
		{"/alerts", map[string]check{"admin": inboxRows(1, 500), "op-yuhang": inboxRows(1, 500), "op-elsewhere": inboxRows(0, 0),
			"analyst": status(403), "gw": toTasks}},
		{"/alerts?region=11", map[string]check{"op-yuhang": contains(`value="330110"`, true)}},
		{"/alerts/" + aid, map[string]check{"admin": contains(`id="act-`, true), "op-yuhang": contains(`id="act-`, true), "op-elsewhere": status(404),
			"analyst": status(403), "gw": toTasks}},
		{"/alerts/" + aid + "?x", map[string]check{"op-yuhang": noWholeIDs}},
		{"/alerts.xlsx", map[string]check{"admin": xlsx(false, true, ""), "op-yuhang": xlsx(false, true, "330110"), "op-elsewhere": xlsx(false, false, ""),
			"analyst": status(403), "gw": status(403), "gw-other": status(403)}},
		{"/api/alerts?limit=5000", map[string]check{"admin": api(false, true, ""), "op-yuhang": api(false, true, "330110"),
			"op-elsewhere": api(false, false, "110105"), "analyst": status(403), "gw": status(403)}},
		{"/api/alerts?region=1", map[string]check{"op-yuhang": api(false, true, "330110")}},
		{"/review", map[string]check{"admin": status(200), "op-yuhang": status(200), "analyst": status(403), "gw": toTasks}},
		{"/queue", map[string]check{"admin": contains(`id="qtask-`+tid+`"`, true), "op-yuhang": contains(`id="qtask-`+tid+`"`, true),
			"op-elsewhere": contains(`id="qtask-`+tid+`"`, false), "analyst": status(403), "gw": toTasks}},
		{"/tasks/sheet.xlsx", map[string]check{"gw": sheetTasks(1), "gw-other": sheetTasks(0), "op-elsewhere": sheetTasks(0),
			"op-yuhang": sheetTasks(1), "analyst": status(403)}},
		{"/tasks/" + tid, map[string]check{"gw": status(200), "gw-other": status(404), "op-yuhang": status(404), "analyst": status(404)}},
		{"/tasks", map[string]check{"gw": contains(`id="task-`+tid+`"`, true), "gw-other": contains(`id="task-`+tid+`"`, false)}},
		{"/audit", map[string]check{"admin": contains("查看预警", true), "op-yuhang": status(403), "analyst": status(403), "gw": toTasks}},
		{"/audit.xlsx", map[string]check{"admin": okAnd(func(t *testing.T, body string) {
			if len(xlsxRows(t, body)) < 5 {
				t.Error("the audit export is nearly empty")
			}
		}), "op-yuhang": status(403), "analyst": status(403), "gw": status(403)}},
	}
	for _, g := range gets {
		for user, chk := range g.want {
			t.Run(user+" GET "+g.path, func(t *testing.T) {
				code, body := get(t, clients[user], s.srv.URL+g.path)
				chk(t, code, body)
			})
		}
	}

	post := func(user, path string, form url.Values) int {
		form.Set("csrf", tokens[user])
		resp, err := clients[user].PostForm(s.srv.URL+path, form)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	posts := []struct {
		user, path string
		form       url.Values
		want       int
	}{
		{"analyst", "/alerts/act", url.Values{"id": {aid}, "action": {"dismiss"}, "note": {"x"}}, 403},
		{"gw", "/alerts/act", url.Values{"id": {aid}, "action": {"dismiss"}, "note": {"x"}}, 403},
		{"op-elsewhere", "/alerts/act", url.Values{"id": {aid}, "action": {"dismiss"}, "note": {"x"}}, 404},
		{"op-elsewhere", "/queue/assign", url.Values{"task": {tid}, "worker": {"gw-other"}}, 404},
		{"analyst", "/queue/assign", url.Values{"task": {tid}, "worker": {"gw"}}, 404},
		{"gw-other", "/tasks/" + tid + "/outcome", url.Values{"outcome": {"refused"}}, 404},
		{"analyst", "/tasks/" + tid + "/outcome", url.Values{"outcome": {"refused"}}, 404},
		{"analyst", "/review/medins/x", url.Values{"decision": {"accept"}}, 403},
	}
	for _, p := range posts {
		if code := post(p.user, p.path, p.form); code != p.want {
			t.Errorf("%s POST %s: %d, want %d", p.user, p.path, code, p.want)
		}
	}
	// The bulk form with one alert of another region does nothing at all.
	var other int64
	s.chain.DB.QueryRow(`SELECT alert_id FROM alerts WHERE status = 'new' AND alert_id <> ? AND starts_with(region_code, '330110') ORDER BY alert_id LIMIT 1`, alertID).Scan(&other)
	s.chain.DB.Exec(`UPDATE alerts SET region_code = '110105000000' WHERE alert_id = ?`, other)
	if code := post("op-yuhang", "/alerts/act", url.Values{"id": {aid, strconv.FormatInt(other, 10)}, "action": {"dismiss"}, "note": {"bulk"}}); code != 404 {
		t.Errorf("bulk with an alert out of scope: %d", code)
	}
	if a, _ := alerts.Get(ctx, s.chain.DB, alertID); a.Status != alerts.StatusNew {
		t.Errorf("the in-scope alert of a refused bulk action moved to %s", a.Status)
	}

	// A filled sheet of gw's task sent by the other grid's worker records nothing.
	_, sheet := get(t, clients["gw"], s.srv.URL+"/tasks/sheet.xlsx")
	f, _ := excelize.OpenReader(strings.NewReader(sheet))
	f.SetCellValue("走访任务", "I2", "拒绝")
	var filled bytes.Buffer
	f.Write(&filled)
	upload := func(user string) (int, string) {
		var body bytes.Buffer
		mw := multipart.NewWriter(&body)
		mw.WriteField("csrf", tokens[user])
		fw, _ := mw.CreateFormFile("sheet", "filled.xlsx")
		fw.Write(filled.Bytes())
		mw.Close()
		resp, err := clients[user].Post(s.srv.URL+"/tasks/sheet", mw.FormDataContentType(), &body)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := upload("gw-other"); code != 200 || !strings.Contains(body, "您的任务中没有"+tid) {
		t.Errorf("gw-other uploading gw's sheet: %d", code)
	}
	if code, _ := upload("analyst"); code != 403 {
		t.Errorf("analyst uploading a sheet: %d", code)
	}
	if code, body := upload("gw"); code != 200 || !strings.Contains(body, `id="taken"`) || !strings.Contains(body, "r-taken") {
		t.Errorf("gw uploading their sheet: %d", code)
	}
	if a, _ := alerts.Get(ctx, s.chain.DB, task.AlertID); a.Status != alerts.StatusVisited {
		t.Errorf("after gw's sheet the alert is %s", a.Status)
	}
	// Every export above was audited.
	var n int
	s.chain.DB.QueryRow(`SELECT count(*) FROM audit_log WHERE action IN ('export_alerts', 'api_alerts', 'export_task_sheet', 'import_task_sheet', 'export_audit')`).Scan(&n)
	if n < 15 {
		t.Errorf("%d exports audited", n)
	}
}

package web

import (
	"fmt"
	"html"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	"safetynet/alerts"
	"safetynet/analytics"
)

var (
	// Code is left out: scripts, styles, what the page shows as code
	// (<code>, <pre>, an SQL text area).
	code = regexp.MustCompile(`(?is)<(script|style|code|pre|textarea)[^>]*>.*?</(script|style|code|pre|textarea)>`)
	tags = regexp.MustCompile(`(?s)<[^>]*>`)
	// asciiRun is a run of Latin letters, digits and the characters of
	// codes and masked IDs. One with a digit is an ID, a code or a number
	// (K80, 330110, 3302**********123X, 30s) and is left alone, and so is
	// a file's name (health.jsonl); the rest are words.
	asciiRun = regexp.MustCompile(`[A-Za-z0-9_*.-]+`)
	hasDigit = regexp.MustCompile(`[0-9]`)
	fileName = regexp.MustCompile(`^[\w-]+\.(csv|jsonl|json|xlsx|xls|txt|parquet)$`)
	letters  = regexp.MustCompile(`[A-Za-z]`)
)

// allowedASCII are the Latin words a Chinese page may show: names of
// formats and tools the user picks by that name, the language switch,
// and the user names of this site.
var allowedASCII = []string{"SQL", "XLSX", "CSV", "Parquet", "Arrow", "IPC", "Flight", "ECharts", "DuckDB", "English", "Excel", "WPS", "xls", "xlsx", "csv", "txt", "json", "jsonl", "parquet", // file extensions

	"SELECT", "FROM", "WHERE", "GROUP", "BY", "ORDER", "LIMIT", "count", "month", "village", "person", "household", // the SQL page's example
	"admin", "op-yuhang", "op-elsewhere", "analyst", "records", "analyst-yuhang", "gw", "gw-other"}

// leaks are the ASCII identifiers in a page body's text.
func leaks(body string) []string {
	text := html.UnescapeString(tags.ReplaceAllString(code.ReplaceAllString(body, " "), " "))
	var out []string
	for _, w := range asciiRun.FindAllString(text, -1) {
		w = strings.Trim(w, ".-*")
		if !letters.MatchString(w) || hasDigit.MatchString(w) || fileName.MatchString(w) || slices.Contains(allowedASCII, w) || slices.Contains(out, w) {
			continue
		}
		out = append(out, w)
	}
	return out
}

// TestEveryPageSpeaksChinese: every page of every role, with data on it
// (alerts of every rule, a task, a review, a cohort, error pages), shows
// no ASCII identifier in zh-CN that is not an ID, a code or a number.
func TestEveryPageSpeaksChinese(t *testing.T) {
	s := newSite(t)
	task := dispatchedTask(t, s)
	ctx := t.Context()
	db := s.chain.DB
	// Move one alert along its whole way, so its history has every event.
	alerts.Assign(ctx, db, task.TaskID, "gw", "admin", task.DueAt)
	if _, err := analytics.SaveCohort(ctx, db, 0, "重病家庭", analytics.Definition{Unit: analytics.Households, Membership: analytics.Both,
		Signals: []string{"serious_illness"}, Period: analytics.Period{Last: 3}}, "analyst", task.DueAt); err != nil {
		t.Fatal(err)
	}
	var alertPages []string
	rows, err := db.Query(`SELECT min(alert_id) FROM alerts GROUP BY rule_id`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id int64
		rows.Scan(&id)
		alertPages = append(alertPages, fmt.Sprintf("/alerts/%d", id))
	}
	rows.Close()
	alertPages = append(alertPages, fmt.Sprintf("/alerts/%d", task.AlertID))
	pages := map[string][]string{
		"admin": append([]string{"/alerts", "/alerts?status=", "/review", "/queue", "/audit", "/analytics", "/analytics/cohorts/new",
			"/analytics/cohorts/1", "/analytics/sql", "/nowhere", "/alerts/999999", "/analytics/cohorts/999"}, alertPages...),
		"op-yuhang": {"/alerts", "/review", "/queue"},
		"gw":        {"/tasks", fmt.Sprintf("/tasks/%d", task.TaskID), "/tasks/999999"},
		"analyst":   {"/analytics", "/analytics/cohorts/1", "/analytics/cohorts/new", "/analytics/sql"},
		"records":   {"/analytics/sql"},
	}
	checked := 0
	for user, paths := range pages {
		c := s.login(t, user)
		for _, p := range paths {
			resp, err := c.Get(s.srv.URL + p)
			if err != nil {
				t.Fatal(err)
			}
			var b strings.Builder
			buf := make([]byte, 32<<10)
			for {
				n, err := resp.Body.Read(buf)
				b.Write(buf[:n])
				if err != nil {
					break
				}
			}
			resp.Body.Close()
			if resp.StatusCode == http.StatusSeeOther {
				continue
			}
			checked++
			if l := leaks(b.String()); len(l) > 0 {
				t.Errorf("%s %s (%d): %s", user, p, resp.StatusCode, strings.Join(l, " "))
			}
		}
	}
	if checked < 25 {
		t.Errorf("only %d pages checked", checked)
	}
	// The login page and its refusals.
	resp, err := http.Get(s.srv.URL + "/login?expired=1")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b strings.Builder
	buf := make([]byte, 32<<10)
	n, _ := resp.Body.Read(buf)
	b.Write(buf[:n])
	if l := leaks(b.String()); len(l) > 0 {
		t.Errorf("login: %s", strings.Join(l, " "))
	}
}

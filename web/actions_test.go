package web

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"safetynet/alerts"
)

// Operators move alerts on from the alert page and in bulk from the inbox,
// within their region, with the form's token; analysts cannot.
func TestAlertActions(t *testing.T) {
	s := newSite(t)
	ctx := context.Background()
	list, err := alerts.List(ctx, s.chain.DB, alerts.Filter{Status: "new"})
	if err != nil || len(list) < 3 {
		t.Fatalf("want 3 new alerts: %d %v", len(list), err)
	}
	var yuhang []alerts.Alert
	for _, a := range list {
		if strings.HasPrefix(a.RegionCode, "330110") {
			yuhang = append(yuhang, a)
		}
	}
	op := s.login(t, "op-yuhang")
	_, page := get(t, op, s.srv.URL+"/alerts/"+itoa(yuhang[0].AlertID))
	if !strings.Contains(page, `id="act-dispatch"`) || !strings.Contains(page, `id="act-dismiss"`) || strings.Contains(page, `id="act-resolve"`) {
		t.Errorf("the alert page offers the wrong actions")
	}
	token := csrf(t, page)
	post := func(c *http.Client, v url.Values) int {
		t.Helper()
		resp, err := c.PostForm(s.srv.URL+"/alerts/act", v)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	id := strconv.FormatInt(yuhang[0].AlertID, 10)
	if code := post(op, url.Values{"action": {"dispatch"}, "id": {id}}); code != http.StatusForbidden {
		t.Errorf("without the token: %d", code)
	}
	if code := post(op, url.Values{"action": {"dispatch"}, "id": {id}, "csrf": {token}, "back": {"/alerts/" + id}}); code != http.StatusSeeOther {
		t.Fatalf("dispatch: %d", code)
	}
	if code := post(op, url.Values{"action": {"resolve"}, "id": {id}, "csrf": {token}}); code != http.StatusConflict {
		t.Errorf("resolving before the visit: %d", code)
	}
	// Bulk: dismiss two others with a reason.
	ids := []string{strconv.FormatInt(yuhang[1].AlertID, 10), strconv.FormatInt(yuhang[2].AlertID, 10)}
	if code := post(op, url.Values{"action": {"dismiss"}, "id": ids, "csrf": {token}}); code != http.StatusBadRequest {
		t.Errorf("a dismissal without a reason: %d", code)
	}
	if code := post(op, url.Values{"action": {"dismiss"}, "id": ids, "note": {"known to the township"}, "csrf": {token}}); code != http.StatusSeeOther {
		t.Fatalf("bulk dismiss: %d", code)
	}
	for _, a := range yuhang[1:3] {
		got, _ := alerts.Get(ctx, s.chain.DB, a.AlertID)
		if got.Status != alerts.StatusDismissed {
			t.Errorf("alert %d is %s after the bulk dismissal", a.AlertID, got.Status)
		}
	}
	// The history shows who did what.
	if _, page := get(t, op, s.srv.URL+"/alerts/"+id); !strings.Contains(page, "op-yuhang") || !strings.Contains(page, `class="history"`) {
		t.Error("the alert page does not show the history")
	}
	// Out of scope, and read-only roles.
	other := s.login(t, "op-elsewhere")
	_, otherPage := get(t, other, s.srv.URL+"/alerts")
	if code := post(other, url.Values{"action": {"reopen"}, "id": {ids[0]}, "note": {"x"}, "csrf": {csrf(t, otherPage)}}); code != http.StatusNotFound {
		t.Errorf("an operator of another region: %d", code)
	}
	an := s.login(t, "analyst")
	code, anPage := get(t, an, s.srv.URL+"/alerts/"+id)
	if code != http.StatusForbidden || strings.Contains(anPage, `id="act-`) {
		t.Errorf("an analyst reading an alert: %d", code)
	}
	if code := post(an, url.Values{"action": {"reopen"}, "id": {ids[0]}, "csrf": {csrf(t, anPage)}}); code != http.StatusForbidden {
		t.Errorf("an analyst acting: %d", code)
	}
	var n int
	s.chain.DB.QueryRow(`SELECT count(*) FROM audit_log WHERE username = 'op-yuhang' AND action IN ('alert_dispatch', 'alert_dismiss')`).Scan(&n)
	if n != 3 {
		t.Errorf("%d actions audited, want 3", n)
	}
}

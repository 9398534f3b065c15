package web

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"safetynet/alerts"
)

// dispatchedTask dispatches an alert of a household with a grid and adds a
// grid worker for that grid and one for another; it returns the task.
func dispatchedTask(t *testing.T, s *site) *alerts.Task {
	t.Helper()
	ctx := context.Background()
	db := s.chain.DB
	var alertID int64
	var grid string
	if err := db.QueryRow(`SELECT a.alert_id, h.grid_code FROM alerts a JOIN households h USING (household_id)
		WHERE a.status = 'new' AND h.grid_code IS NOT NULL ORDER BY a.alert_id LIMIT 1`).Scan(&alertID, &grid); err != nil {
		t.Fatal(err)
	}
	if err := alerts.Act(ctx, db, alerts.Move{AlertID: alertID, Action: alerts.Dispatch, Actor: "admin", At: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if err := CreateUser(ctx, db, NewUser{Name: "gw", Password: "password-gw", Role: GridWorker, Grid: grid}); err != nil {
		t.Fatal(err)
	}
	if err := CreateUser(ctx, db, NewUser{Name: "gw-other", Password: "password-gw-other", Role: GridWorker, Region: "110105001", Grid: "elsewhere-01"}); err != nil {
		t.Fatal(err)
	}
	var taskID int64
	db.QueryRow(`SELECT task_id FROM tasks WHERE alert_id = ?`, alertID).Scan(&taskID)
	task, err := alerts.GetTask(ctx, db, taskID)
	if err != nil {
		t.Fatal(err)
	}
	return task
}

// A grid worker sees their grid's tasks, the household card with masked
// IDs, and records the outcome, which moves the alert to visited; another
// grid's worker sees nothing of it; the inbox is not theirs.
func TestGridWorkerTasks(t *testing.T) {
	s := newSite(t)
	task := dispatchedTask(t, s)
	id := strconv.FormatInt(task.TaskID, 10)
	gw := s.login(t, "gw")
	if code, body := get(t, gw, s.srv.URL+"/tasks"); code != http.StatusOK || !strings.Contains(body, `id="task-`+id+`"`) {
		t.Fatalf("task list: %d", code)
	}
	code, card := get(t, gw, s.srv.URL+"/tasks/"+id)
	if code != http.StatusOK || !strings.Contains(card, task.HouseholdID) || !strings.Contains(card, `id="address"`) {
		t.Fatalf("task card: %d", code)
	}
	// A tap calls the household, another opens the address in the map.
	if !strings.Contains(card, `href="tel:`) || !strings.Contains(card, `href="geo:0,0?q=`) {
		t.Errorf("the task card has no call or map link:\n%s", card)
	}
	if regexp.MustCompile(`\d{17}[\dX]`).MatchString(card) {
		t.Error("the task card shows an unmasked ID number")
	}
	if code, _ := get(t, gw, s.srv.URL+"/alerts"); code != http.StatusSeeOther {
		t.Errorf("a grid worker's inbox: %d", code)
	}
	other := s.login(t, "gw-other")
	if code, _ := get(t, other, s.srv.URL+"/tasks/"+id); code != http.StatusNotFound {
		t.Errorf("another grid's worker opening the task: %d", code)
	}
	if _, body := get(t, other, s.srv.URL+"/tasks"); strings.Contains(body, `id="task-`+id+`"`) {
		t.Error("another grid's worker sees the task")
	}
	post := func(v url.Values) int {
		resp, err := gw.PostForm(s.srv.URL+"/tasks/"+id+"/outcome", v)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	token := csrf(t, card)
	if code := post(url.Values{"outcome": {"other"}, "csrf": {token}}); code != http.StatusBadRequest {
		t.Errorf("outcome other without a note: %d", code)
	}
	submission := regexp.MustCompile(`name="submission" value="([0-9a-f]+)"`).FindStringSubmatch(card)
	if submission == nil {
		t.Fatal("the outcome form carries no submission token")
	}
	form := url.Values{"outcome": {"not_eligible"}, "note": {"income above the line"}, "csrf": {token}, "submission": {submission[1]}}
	if code := post(form); code != http.StatusSeeOther {
		t.Fatalf("outcome: %d", code)
	}
	// The same form again (a phone resending what it saved offline) is
	// taken as sent and recorded once.
	if code := post(form); code != http.StatusSeeOther {
		t.Errorf("the same form sent again: %d", code)
	}
	visits := 0
	hist, _ := alerts.History(context.Background(), s.chain.DB, task.AlertID)
	for _, h := range hist {
		if h.Event == alerts.EventVisited {
			visits++
		}
	}
	if visits != 1 {
		t.Errorf("%d visits recorded from one form sent twice", visits)
	}
	a, _ := alerts.Get(context.Background(), s.chain.DB, task.AlertID)
	if a.Status != alerts.StatusVisited {
		t.Errorf("alert after the visit: %s", a.Status)
	}
	if code := post(url.Values{"outcome": {"refused"}, "csrf": {token}}); code != http.StatusConflict {
		t.Errorf("a second outcome for a closed task: %d", code)
	}
}

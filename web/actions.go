package web

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"safetynet/alerts"
)

// canAct: operators (in their region) and administrators move alerts on;
// analysts only read.
func canAct(u *User) bool { return u.Role.Acts() }

// act applies one action to the alerts the form names (one from the alert
// page, several from the inbox), each within the user's scope.
func (s *Server) act(w http.ResponseWriter, r *http.Request, u *User) {
	if !canAct(u) {
		s.fail(w, r, u, http.StatusForbidden, "e.operators_only")
		return
	}
	action := alerts.Action(r.PostFormValue("action"))
	var ids []int64
	for _, v := range r.PostForm["id"] {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			http.Error(w, "bad alert id", http.StatusBadRequest)
			return
		}
		ids = append(ids, id)
	}
	if len(ids) == 0 {
		http.Error(w, "no alert chosen", http.StatusBadRequest)
		return
	}
	f := alerts.Filter{}
	scope(u, &f)
	var failed []string
	// All of them in scope first: a bulk action with one alert outside
	// the user's region does nothing at all.
	for _, id := range ids {
		a, err := alerts.Get(r.Context(), s.DB, id)
		if err != nil || !strings.HasPrefix(a.RegionCode, f.RegionPrefix) {
			http.NotFound(w, r) // out of scope looks the same as missing
			return
		}
	}
	for _, id := range ids {
		err := alerts.Act(r.Context(), s.DB, alerts.Move{AlertID: id, Action: action, Actor: u.Name, Outcome: r.PostFormValue("outcome"), Note: r.PostFormValue("note"), At: time.Now()})
		if err != nil {
			failed = append(failed, strconv.FormatInt(id, 10)+": "+strings.TrimPrefix(err.Error(), "alerts: "))
			continue
		}
		s.audit(r.Context(), u.Name, "alert_"+string(action), "alert:"+strconv.FormatInt(id, 10), r.PostFormValue("note"))
	}
	if len(failed) > 0 {
		code := http.StatusBadRequest
		for _, f := range failed {
			if strings.Contains(f, alerts.ErrTransition.Error()) {
				code = http.StatusConflict
			}
		}
		http.Error(w, strings.Join(failed, "\n"), code)
		return
	}
	back := r.PostFormValue("back")
	if !strings.HasPrefix(back, "/") || strings.HasPrefix(back, "//") {
		back = "/alerts"
	}
	http.Redirect(w, r, back, http.StatusSeeOther)
}

package web

import (
	"cmp"
	"net/http"
	"strconv"
	"strings"
	"time"

	"safetynet/alerts"
	"safetynet/i18n"
)

// canAct: operators (in their region) and administrators move alerts on;
// analysts only read.
func canAct(u *User) bool { return u.Role.Acts() }

// act applies one action to the alerts the form names (one from the alert
// page, several from the inbox), each within the user's scope, and says
// what it did on the page it goes back to.
func (s *Server) act(w http.ResponseWriter, r *http.Request, u *User) {
	if !canAct(u) {
		s.fail(w, r, u, http.StatusForbidden, "e.operators_only")
		return
	}
	back := r.PostFormValue("back")
	if !localPath(back) {
		back = "/alerts"
	}
	action := alerts.Action(r.PostFormValue("action"))
	var ids []int64
	for _, v := range r.PostForm["id"] {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			s.failBack(w, r, u, http.StatusBadRequest, "e.bad_alert_id", back)
			return
		}
		ids = append(ids, id)
	}
	if len(ids) == 0 {
		s.failBack(w, r, u, http.StatusBadRequest, "e.no_alert_chosen", back)
		return
	}
	f := alerts.Filter{}
	scope(u, &f)
	// All of them in scope first: a bulk action with one alert outside
	// the user's region does nothing at all.
	for _, id := range ids {
		a, err := alerts.Get(r.Context(), s.DB, id)
		if err != nil || !strings.HasPrefix(a.RegionCode, f.RegionPrefix) {
			s.failBack(w, r, u, http.StatusNotFound, "not_found", back) // out of scope looks the same as missing
			return
		}
	}
	l := i18n.Parse(lang(w, r))
	var done []int64
	var failed []string
	var first error
	for _, id := range ids {
		err := alerts.Act(r.Context(), s.DB, alerts.Move{AlertID: id, Action: action, Actor: u.Name, Outcome: r.PostFormValue("outcome"), Note: r.PostFormValue("note"), At: time.Now()})
		if err != nil {
			if _, _, ok := refusal(err); !ok {
				s.internal(w, r, u, err)
				return
			}
			first = cmp.Or(first, err)
			failed = append(failed, refusalText(l, id, err))
			continue
		}
		done = append(done, id)
		s.audit(r.Context(), u.Name, "alert_"+string(action), "alert:"+strconv.FormatInt(id, 10), r.PostFormValue("note"))
	}
	if len(done) == 0 { // nothing happened: the form again, with why
		s.refuse(w, r, u, first, back)
		return
	}
	fl := flash{Msg: i18n.Msg("flash."+string(action), len(done))}
	if len(failed) > 0 {
		fl.Failed = append([]string{l.F("flash.failed", len(failed))}, failed...)
	}
	if action == alerts.Dismiss {
		fl.Undo = done
	}
	setFlash(w, r, fl)
	http.Redirect(w, r, back, http.StatusSeeOther)
}

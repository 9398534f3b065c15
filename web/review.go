package web

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"safetynet/alerts"
	"safetynet/match"
)

type reviewData struct {
	Items   []match.ReviewItem
	CanAct  bool
	Decided string
}

// reviewPage lists the pairs the model was unsure of, within the user's
// region, both records side by side with each comparison's weight.
func (s *Server) reviewPage(w http.ResponseWriter, r *http.Request, u *User) {
	f := alerts.Filter{}
	if !scope(u, &f) {
		s.fail(w, r, u, http.StatusForbidden, "e.operators_only")
		return
	}
	items, err := match.ReviewQueue(r.Context(), s.DB, match.ReviewFilter{RegionPrefix: f.RegionPrefix, Limit: 200})
	if err != nil {
		s.internal(w, r, u, fmt.Errorf("review queue: %w", err))
		return
	}
	s.audit(r.Context(), u.Name, "view_review", "", "")
	s.render(w, r, "review", u, http.StatusOK, reviewData{Items: items, CanAct: u.Role.Acts(), Decided: r.URL.Query().Get("decided")})
}

// reviewDecide records a decision on one pair: link or reject.
func (s *Server) reviewDecide(w http.ResponseWriter, r *http.Request, u *User) {
	if !u.Role.Acts() {
		s.fail(w, r, u, http.StatusForbidden, "e.operators_only")
		return
	}
	source, key := r.PathValue("source"), r.PathValue("key")
	// The pair must be within the user's region, as on the page.
	f := alerts.Filter{}
	scope(u, &f)
	items, err := match.ReviewQueue(r.Context(), s.DB, match.ReviewFilter{Source: source, Key: key, RegionPrefix: f.RegionPrefix})
	if err != nil {
		s.internal(w, r, u, fmt.Errorf("review queue: %w", err))
		return
	}
	if len(items) == 0 {
		s.failBack(w, r, u, http.StatusNotFound, "e.no_such_review", "/review")
		return
	}
	decision := r.PostFormValue("decision")
	if decision != "link" && decision != "reject" {
		s.failBack(w, r, u, http.StatusBadRequest, "e.bad_decision", "/review")
		return
	}
	note := strings.TrimSpace(r.PostFormValue("note"))
	err = match.Decide(r.Context(), s.DB, source, key, decision == "link", u.Name, note)
	if errors.Is(err, match.ErrNotInReview) {
		s.failBack(w, r, u, http.StatusNotFound, "e.no_such_review", "/review")
		return
	}
	if err != nil {
		s.internal(w, r, u, fmt.Errorf("review decision: %w", err))
		return
	}
	s.audit(r.Context(), u.Name, "match_"+decision, "record:"+source+":"+key, note)
	http.Redirect(w, r, "/review?decided="+source+":"+key, http.StatusSeeOther)
}

package web

import (
	"net/http"
	"strings"
)

// errorPage is what a refusal shows: what happened, what to do, and the
// way back to the user's own work.
type errorPage struct {
	Status  int
	Message string // from the catalogue
	Detail  string // what the package that refused said
	Home    string
}

// fail answers a refusal with a page in the site's layout and the user's
// language; key names the message in the catalogue.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, u *User, status int, key string, detail ...string) {
	t := translator(lang(w, r))
	home := "/login"
	if u != nil {
		home = u.Role.Home()
	}
	s.render(w, r, "error", u, status, errorPage{Status: status, Message: t(key), Detail: strings.Join(detail, "; "), Home: home})
}

// internal logs what failed and answers 500 with the error page.
func (s *Server) internal(w http.ResponseWriter, r *http.Request, u *User, err error) {
	s.Log.Error("request failed", "path", r.URL.Path, "err", err)
	s.fail(w, r, u, http.StatusInternalServerError, "e.internal")
}

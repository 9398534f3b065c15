package web

import (
	"net/http"
	"safetynet/i18n"
	"strings"
)

// errorPage is what a refusal shows: what happened, what to do, and the
// way back to the user's own work.
type errorPage struct {
	Status  int
	Message string // from the catalogue
	Detail  string // what the package that refused said
	Home    string
	Back    string // the form to go back to and correct, if any
}

// fail answers a refusal with a page in the site's layout and the user's
// language; key names the message in the catalogue.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, u *User, status int, key string, detail ...string) {
	s.failBack(w, r, u, status, key, "", detail...)
}

// failBack is fail with a link back to the form to correct (a path on
// this site, else none).
func (s *Server) failBack(w http.ResponseWriter, r *http.Request, u *User, status int, key, back string, detail ...string) {
	t := translator(lang(w, r))
	home := "/login"
	if u != nil {
		home = u.Role.Home()
	}
	if status == http.StatusForbidden && u != nil && u.Role == GridWorker && r.Method == http.MethodGet && isPage(r.URL.Path) {
		// A grid worker's work is their tasks: never an operator's page
		// or its refusal, back to the tasks with a word of why.
		setFlash(w, r, flash{Msg: i18n.Msg(key)})
		http.Redirect(w, r, home, http.StatusSeeOther)
		return
	}
	if !localPath(back) {
		back = ""
	}
	s.render(w, r, "error", u, status, errorPage{Status: status, Message: t(key), Detail: strings.Join(detail, "; "), Home: home, Back: back})
}

// localPath is a path on this site, never another's ("//host", "http:").
func localPath(p string) bool {
	return strings.HasPrefix(p, "/") && !strings.HasPrefix(p, "//") && !strings.HasPrefix(p, "/\\")
}

// internal logs what failed and answers 500 with the error page.
func (s *Server) internal(w http.ResponseWriter, r *http.Request, u *User, err error) {
	s.Log.Error("request failed", "path", r.URL.Path, "err", err)
	s.fail(w, r, u, http.StatusInternalServerError, "e.internal")
}

// isPage: a path a person opens in the browser, not a download or an API.
func isPage(path string) bool {
	return !strings.HasPrefix(path, "/api/") && !strings.HasSuffix(path, ".xlsx") && !strings.HasSuffix(path, "/export")
}

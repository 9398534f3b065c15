package web

import (
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestEveryStateChangeNeedsItsToken: every POST route the server has (read
// from the route table itself, so a new one is covered as it is added)
// refuses a logged-in user's request without the form's token, with 403,
// and changes nothing; logout too, so that another site cannot log a user
// out. The login form needs its own token.
func TestEveryStateChangeNeedsItsToken(t *testing.T) {
	src, err := os.ReadFile("server.go")
	if err != nil {
		t.Fatal(err)
	}
	routes := regexp.MustCompile(`"POST (/[^"]*)"`).FindAllStringSubmatch(string(src), -1)
	if len(routes) < 10 {
		t.Fatalf("found %d POST routes in server.go", len(routes))
	}
	s := newSite(t)
	admin := s.login(t, "admin")
	changes := func() string {
		var a, h, u, c, tk string
		s.chain.DB.QueryRow(`SELECT (SELECT count(*) || '/' || coalesce(sum(hash(status)), 0) FROM alerts), (SELECT count(*) FROM alert_history),
			(SELECT count(*) FROM sessions), (SELECT count(*) FROM analytics_cohorts), (SELECT count(*) FROM tasks)`).Scan(&a, &h, &u, &c, &tk)
		return strings.Join([]string{a, h, u, c, tk}, " ")
	}
	before := changes()
	for _, m := range routes {
		path := regexp.MustCompile(`\{[^}]+\}`).ReplaceAllString(m[1], "1")
		if path == "/login" {
			continue
		}
		for _, token := range []string{"", "0123456789abcdef0123456789abcdef"} {
			resp, _ := postForm(t, admin, s.srv.URL+path, url.Values{"csrf": {token}, "action": {"dismiss"}, "ids": {"1", "2"}, "note": {"x"}})
			if resp.StatusCode != http.StatusForbidden {
				t.Errorf("POST %s with token %q: %d, want 403", path, token, resp.StatusCode)
			}
		}
	}
	if after := changes(); after != before {
		t.Errorf("requests without their token changed the store: %s, was %s", after, before)
	}
	if code, _ := get(t, admin, s.srv.URL+"/alerts"); code != 200 {
		t.Errorf("a logout without its token logged the user out: %d", code)
	}
	// The login form: a post without the token its page set is refused.
	c := s.client(t)
	resp, _ := postForm(t, c, s.srv.URL+"/login", url.Values{"username": {"admin"}, "password": {"password-admin"}})
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("a login without its token: %d", resp.StatusCode)
	}
}

// TestSessionFixation: a session cookie a visitor arrives with (one an
// attacker planted) is never the one the login gives, and never opens a
// session; logging out ends the session on the server, not only in the
// browser.
func TestSessionFixation(t *testing.T) {
	s := newSite(t)
	planted := strings.Repeat("ab", 32)
	c := s.client(t)
	u, _ := url.Parse(s.srv.URL)
	c.Jar.SetCookies(u, []*http.Cookie{{Name: sessionCookie, Value: planted, Path: "/"}})
	_, page := get(t, c, s.srv.URL+"/login")
	resp, _ := postForm(t, c, s.srv.URL+"/login", url.Values{"username": {"admin"}, "password": {"password-admin"}, "csrf": {csrf(t, page)}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("login: %d", resp.StatusCode)
	}
	var given string
	for _, ck := range resp.Cookies() {
		if ck.Name == sessionCookie {
			given = ck.Value
		}
	}
	if given == "" || given == planted {
		t.Fatalf("the login gave the session %q (planted %q)", given, planted)
	}
	attacker := s.client(t)
	attacker.Jar.SetCookies(u, []*http.Cookie{{Name: sessionCookie, Value: planted, Path: "/"}})
	if code, _ := get(t, attacker, s.srv.URL+"/alerts"); code != http.StatusSeeOther {
		t.Errorf("the planted cookie opened a page: %d", code)
	}
	// Logged out, the old cookie is worth nothing, even sent again.
	_, page = get(t, c, s.srv.URL+"/alerts")
	postForm(t, c, s.srv.URL+"/logout", url.Values{"csrf": {csrf(t, page)}})
	replay := s.client(t)
	replay.Jar.SetCookies(u, []*http.Cookie{{Name: sessionCookie, Value: given, Path: "/"}})
	if code, _ := get(t, replay, s.srv.URL+"/alerts"); code != http.StatusSeeOther {
		t.Errorf("a logged-out session still opens pages: %d", code)
	}
}

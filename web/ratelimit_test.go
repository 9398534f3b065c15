package web

import (
	"net/http"
	"net/url"
	"strconv"
	"testing"
	"time"
)

func TestLoginLimiter(t *testing.T) {
	l := newLoginLimiter()
	now := time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)
	l.now = func() time.Time { return now }
	keys := []string{"user:admin", "addr:10.0.0.1"}
	for i := 0; i < loginMaxFails; i++ {
		if w := l.wait(keys); w != 0 {
			t.Fatalf("blocked after %d failures", i)
		}
		l.fail(keys)
		now = now.Add(time.Minute)
	}
	if w := l.wait(keys); w != loginWindow-loginMaxFails*time.Minute {
		t.Errorf("after %d failures: wait %v", loginMaxFails, w)
	}
	// Another user from the same address waits too; the same user elsewhere too.
	if l.wait([]string{"user:other", "addr:10.0.0.1"}) == 0 || l.wait([]string{"user:admin", "addr:10.9.9.9"}) == 0 {
		t.Error("the limit is not per user and per address")
	}
	now = now.Add(loginWindow)
	if w := l.wait(keys); w != 0 {
		t.Errorf("still blocked after the window: %v", w)
	}
	l.fail(keys)
	l.succeed(keys)
	if len(l.fails["user:admin"]) != 0 || len(l.fails["addr:10.0.0.1"]) != 1 {
		t.Errorf("success should forget the user's failures only: %v", l.fails)
	}
}

// Over HTTP: after five wrong passwords even the right one waits, with Retry-After.
func TestLoginRateLimited(t *testing.T) {
	s := newSite(t)
	c := s.client(t)
	try := func(pw string) *http.Response {
		_, page := get(t, c, s.srv.URL+"/login")
		resp, err := c.PostForm(s.srv.URL+"/login", url.Values{"username": {"admin"}, "password": {pw}, "csrf": {csrf(t, page)}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	for i := 0; i < loginMaxFails; i++ {
		if resp := try("wrong"); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("attempt %d: %d", i+1, resp.StatusCode)
		}
	}
	resp := try("password-admin")
	if resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("the sixth attempt: %d", resp.StatusCode)
	}
	if s, _ := strconv.Atoi(resp.Header.Get("Retry-After")); s < 60 {
		t.Errorf("Retry-After %q", resp.Header.Get("Retry-After"))
	}
	var failed, refused int
	s.chain.DB.QueryRow(`SELECT count(*) FILTER (action = 'login_failed'), count(*) FILTER (action = 'login_refused') FROM audit_log WHERE username = 'admin'`).Scan(&failed, &refused)
	if failed != loginMaxFails || refused != 1 {
		t.Errorf("audit: %d failed, %d refused", failed, refused)
	}
}

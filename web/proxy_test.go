package web

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"testing"
)

// TestBehindAProxy: behind a trusted reverse proxy the client's address
// and scheme come from its headers (the session cookie turns Secure, the
// login throttle counts the real client); from anyone else the same
// headers count for nothing, so a client cannot pass for HTTPS or change
// its address to slip the throttle.
func TestBehindAProxy(t *testing.T) {
	s := newSite(t)
	serve := func(p Proxies) string {
		s.server.Proxies = p
		h, err := s.server.Handler()
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(h)
		t.Cleanup(srv.Close)
		return srv.URL
	}
	// login posts a login with the given forwarding headers.
	login := func(base, user, password string, hdr map[string]string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest("GET", base+"/login", nil)
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		var page strings.Builder
		buf := make([]byte, 1<<16)
		for {
			n, err := resp.Body.Read(buf)
			page.Write(buf[:n])
			if err != nil {
				break
			}
		}
		resp.Body.Close()
		form := url.Values{"username": {user}, "password": {password}, "csrf": {csrf(t, page.String())}}
		req, _ = http.NewRequest("POST", base+"/login", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		for _, ck := range resp.Cookies() { // a Secure cookie goes back as a browser on HTTPS sends it
			req.AddCookie(&http.Cookie{Name: ck.Name, Value: ck.Value})
		}
		resp, err = http.DefaultTransport.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	loopback := Proxies{netip.MustParsePrefix("127.0.0.1/32"), netip.MustParsePrefix("::1/128")}
	proxied := serve(loopback)
	direct := serve(nil)

	https := map[string]string{"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.7"}
	resp := login(proxied, "admin", "password-admin", https)
	if cookie := resp.Header.Get("Set-Cookie"); resp.StatusCode != http.StatusSeeOther || !strings.Contains(cookie, "Secure") {
		t.Errorf("behind the proxy over HTTPS: %d, cookie %q", resp.StatusCode, cookie)
	}
	if resp.Header.Get("Strict-Transport-Security") == "" {
		t.Error("no HSTS over HTTPS")
	}
	resp = login(direct, "admin", "password-admin", https)
	if cookie := resp.Header.Get("Set-Cookie"); strings.Contains(cookie, "Secure") || resp.Header.Get("Strict-Transport-Security") != "" {
		t.Errorf("an untrusted peer passed for HTTPS: cookie %q", cookie)
	}

	// Behind the proxy, five failures from one client hold that client
	// (even when it prepends addresses of its own), not the next.
	for i := 0; i < loginMaxFails; i++ {
		hdr := map[string]string{"X-Forwarded-For": fmt.Sprintf("10.9.9.%d, 198.51.100.1", i)}
		if resp := login(proxied, fmt.Sprintf("nobody%d", i), "wrong", hdr); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("failure %d: %d", i+1, resp.StatusCode)
		}
	}
	if resp := login(proxied, "analyst", "password-analyst", map[string]string{"X-Forwarded-For": "198.51.100.1"}); resp.StatusCode != http.StatusTooManyRequests {
		t.Errorf("the client who failed five times: %d, want 429", resp.StatusCode)
	}
	if resp := login(proxied, "analyst", "password-analyst", map[string]string{"X-Forwarded-For": "198.51.100.2"}); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("another client behind the same proxy: %d, want a login", resp.StatusCode)
	}
	// Without trust, a forged X-Forwarded-For changes nothing: the peer's
	// own address failed five times.
	for i := 0; i < loginMaxFails; i++ {
		login(direct, fmt.Sprintf("ghost%d", i), "wrong", map[string]string{"X-Forwarded-For": fmt.Sprintf("192.0.2.%d", i)})
	}
	if resp := login(direct, "records", "password-records", map[string]string{"X-Forwarded-For": "192.0.2.200"}); resp.StatusCode != http.StatusTooManyRequests {
		t.Errorf("a forged X-Forwarded-For slipped the throttle: %d", resp.StatusCode)
	}
}

package web

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"net/http"
	"strings"
)

// CSRF tokens. A logged-in form carries a token derived from the session
// cookie, which another site can neither read nor guess; the login form,
// before there is a session, carries the value of a cookie set with it
// (double submit). Every POST is checked.

const csrfCookie = "safetynet_csrf"

// sessionCSRF is the form token of a session.
func sessionCSRF(cookieValue string) string {
	s := sha256.Sum256([]byte("csrf|" + cookieValue))
	return hex.EncodeToString(s[:16])
}

func sameToken(a, b string) bool {
	return a != "" && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// loginCSRF returns the token for the login form, setting its cookie.
func loginCSRF(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(csrfCookie); err == nil && len(c.Value) == 32 {
		return c.Value
	}
	v := randomHex(16)
	setCookie(w, r, &http.Cookie{Name: csrfCookie, Value: v, Path: "/login", HttpOnly: true, SameSite: http.SameSiteStrictMode})
	return v
}

// loginCSRFOK checks the login form's token against its cookie.
func loginCSRFOK(r *http.Request) bool {
	c, err := r.Cookie(csrfCookie)
	return err == nil && sameToken(r.PostFormValue("csrf"), c.Value)
}

// posted wraps a logged-in POST handler: the form's token must be the
// session's, or the request is refused.
func (s *Server) posted(h func(http.ResponseWriter, *http.Request, *User)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Context().Value(bodyLimitKey{}) == nil {
			// A form is small; a route that takes files says how large.
			r.Body = http.MaxBytesReader(w, r.Body, maxForm)
		}
		u := s.user(r)
		if u == nil {
			s.toLogin(w, r, "/")
			return
		}
		var tooLarge *http.MaxBytesError
		if err := parseForm(r); errors.As(err, &tooLarge) {
			s.fail(w, r, u, http.StatusRequestEntityTooLarge, "e.body_too_large")
			return
		}
		if !sameToken(r.PostFormValue("csrf"), u.CSRF) {
			s.fail(w, r, u, http.StatusForbidden, "e.form_expired")
			return
		}
		h(w, r, u)
	})
}

// parseForm reads a posted form, files and all, so that one too large is
// told apart from one without its token.
func parseForm(r *http.Request) error {
	if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") {
		return r.ParseMultipartForm(32 << 20)
	}
	return r.ParseForm()
}

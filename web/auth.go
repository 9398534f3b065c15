package web

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"net/http"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"

	"safetynet/store"
)

// User is someone who can log in.
type User struct {
	Name         string
	Role         Role
	RegionPrefix string // operators see alerts of this region-code prefix only
	Grid         string // grid workers see this grid's tasks only
	CSRF         string // the token this session's forms carry
}

const (
	sessionCookie = "safetynet_session"
	sessionTTL    = 12 * time.Hour
)

// CountUsers says how many users exist, so a fresh install can make the first.
func CountUsers(ctx context.Context, db *store.DB) (int, error) {
	var n int
	err := db.QueryRowContext(ctx, `SELECT count(*) FROM users`).Scan(&n)
	return n, err
}

// RandomPassword makes a password for a first administrator.
func RandomPassword() string { return randomHex(9) }

// NewFormToken is a form's own token: the outcome form sent twice is
// recorded once.
func NewFormToken() string { return randomHex(16) }

// randomHex is n random bytes in hex: tokens, passwords, form keys.
func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b) // never fails (crypto/rand since Go 1.24)
	return hex.EncodeToString(b)
}

func hashToken(t string) string {
	s := sha256.Sum256([]byte(t))
	return hex.EncodeToString(s[:])
}

// login checks a password and opens a session; the cookie holds a random
// token, the database only its hash.
func (s *Server) login(w http.ResponseWriter, r *http.Request, name, password string) error {
	ctx := r.Context()
	var hash string
	var disabled bool
	var role Role
	err := s.DB.QueryRowContext(ctx, `SELECT password_hash, disabled, role FROM users WHERE username = ?`, name).Scan(&hash, &disabled, &role)
	if errors.Is(err, sql.ErrNoRows) || disabled || role == Peer { // a peer instance pulls with its token; it has no pages
		bcrypt.CompareHashAndPassword(dummyHash(), []byte(password)) // take as long as a real check
		return errBadLogin
	}
	if err != nil {
		return err
	}
	if bcrypt.CompareHashAndPassword([]byte(hash), []byte(password)) != nil {
		return errBadLogin
	}
	token := randomHex(32)
	now := time.Now()
	if _, err := s.DB.ExecContext(ctx, `DELETE FROM sessions WHERE expires_at < ?`, now); err != nil {
		return err
	}
	if _, err := s.DB.ExecContext(ctx, `INSERT INTO sessions (token, username, created_at, expires_at) VALUES (?, ?, ?, ?)`, hashToken(token), name, now, now.Add(sessionTTL)); err != nil {
		return err
	}
	setCookie(w, r, &http.Cookie{Name: sessionCookie, Value: token, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode, MaxAge: int(sessionTTL.Seconds())})
	s.audit(ctx, name, "login", "", "")
	return nil
}

// dummyHash is compared against for unknown users, so that a wrong name
// and a wrong password take the same time.
var dummyHash = sync.OnceValue(func() []byte {
	h, _ := bcrypt.GenerateFromPassword([]byte("no such user"), bcrypt.DefaultCost)
	return h
})

var errBadLogin = errors.New("wrong user name or password")

// user returns the logged-in user of a request, or nil.
func (s *Server) user(r *http.Request) *User {
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" {
		return nil
	}
	u := &User{}
	err = s.DB.QueryRowContext(r.Context(), `SELECT u.username, u.role, u.region_prefix, coalesce(u.grid, '') FROM sessions s JOIN users u USING (username)
		WHERE s.token = ? AND s.expires_at > now() AND NOT u.disabled`, hashToken(c.Value)).Scan(&u.Name, &u.Role, &u.RegionPrefix, &u.Grid)
	if err != nil {
		return nil
	}
	u.CSRF = sessionCSRF(c.Value)
	return u
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(sessionCookie); err == nil {
		s.DB.ExecContext(r.Context(), `DELETE FROM sessions WHERE token = ?`, hashToken(c.Value))
	}
	setCookie(w, r, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode, MaxAge: -1})
}

// audit records who looked at or did what.
func (s *Server) audit(ctx context.Context, user, action, subject, detail string) {
	if err := Audit(ctx, s.DB, user, action, subject, detail); err != nil {
		s.Log.Error("audit log write failed", "err", err)
	}
}

// Audit writes one entry of the audit log: who looked at or did what,
// from the web or from the command line.
func Audit(ctx context.Context, db *store.DB, user, action, subject, detail string) error {
	_, err := db.ExecContext(ctx, `INSERT INTO audit_log (logged_at, username, action, subject, detail) VALUES (now(), ?, ?, ?, ?)`,
		user, action, subject, detail)
	return err
}

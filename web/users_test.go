package web

import (
	"context"
	"errors"
	"net/http"
	"testing"
)

// Disabling a user or changing their password ends their sessions at once.
func TestUserChangesEndSessions(t *testing.T) {
	s := newSite(t)
	ctx := context.Background()
	db := s.chain.DB
	loggedIn := func(c *http.Client) bool {
		code, _ := get(t, c, s.srv.URL+"/alerts")
		return code == http.StatusOK
	}
	op := s.login(t, "op-yuhang")
	if !loggedIn(op) {
		t.Fatal("not logged in")
	}
	if err := DisableUser(ctx, db, "op-yuhang"); err != nil {
		t.Fatal(err)
	}
	if loggedIn(op) {
		t.Error("a disabled user's session still works")
	}
	if err := SetPassword(ctx, db, "op-yuhang", "password-op-yuhang"); err != nil { // enables again
		t.Fatal(err)
	}
	op = s.login(t, "op-yuhang")
	if err := SetPassword(ctx, db, "op-yuhang", "a-new-password"); err != nil {
		t.Fatal(err)
	}
	if loggedIn(op) {
		t.Error("a session survived a password change")
	}
	if err := SetPassword(ctx, db, "nobody", "whatever-123"); !errors.Is(err, ErrNoUser) {
		t.Errorf("password of nobody: %v", err)
	}
	if err := CreateUser(ctx, db, "x", "short", "admin", "", ""); err == nil {
		t.Error("a one-letter name and a short password were accepted")
	}
	if err := CreateUser(ctx, db, "gw", "long-enough-pw", "gridworker", "", ""); err == nil {
		t.Error("a grid worker without a grid was accepted")
	}
}

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
	if err := CreateUser(ctx, db, NewUser{Name: "x", Password: "short", Role: Admin}); err == nil {
		t.Error("a one-letter name and a short password were accepted")
	}
	if err := CreateUser(ctx, db, NewUser{Name: "gw", Password: "long-enough-pw", Role: GridWorker}); err == nil {
		t.Error("a grid worker without a grid was accepted")
	}
	if err := CreateUser(ctx, db, NewUser{Name: "gw", Password: "long-enough-pw", Role: GridWorker, Grid: "东门-3"}); err == nil {
		t.Error("a grid worker with neither a region nor a grid code that names one was accepted")
	}
	// The region from the grid code: the village it starts with.
	if err := CreateUser(ctx, db, NewUser{Name: "gw-v", Password: "long-enough-pw", Role: GridWorker, Grid: "330110001002-03"}); err != nil {
		t.Fatal(err)
	}
	users, _ := ListUsers(ctx, db)
	for _, u := range users {
		if u.Name == "gw-v" && (u.RegionPrefix != "330110001002" || u.Grid != "330110001002-03") {
			t.Errorf("grid worker %+v: region from the grid code", u)
		}
	}
}

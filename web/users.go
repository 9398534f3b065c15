package web

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"time"

	"golang.org/x/crypto/bcrypt"

	"safetynet/store"
)

// UserInfo is a user as an administrator sees them.
type UserInfo struct {
	Name         string
	Role         Role
	RegionPrefix string
	Grid         string
	Disabled     bool
	Created      time.Time
	LastLogin    sql.NullTime
}

// ErrNoUser is an operation on a user that does not exist.
var ErrNoUser = errors.New("no such user")

var (
	userName  = regexp.MustCompile(`^[\p{L}\p{N}._-]{2,64}$`)
	digits    = regexp.MustCompile(`^[0-9]{2,12}$`)
	gridCode  = regexp.MustCompile(`^[\p{L}\p{N}._-]{1,64}$`)
	errWeakPw = errors.New("a password needs at least 8 characters")
)

// checkUser says what is wrong with a new user's role and scope.
func checkUser(name, role, regionPrefix, grid string) error {
	if !userName.MatchString(name) {
		return fmt.Errorf("user name %q: use 2 to 64 letters, digits, '.', '_' or '-'", name)
	}
	r, err := ParseRole(role)
	if err != nil {
		return err
	}
	switch r {
	case Admin, Analyst, RecordAnalyst:
		if regionPrefix != "" && !digits.MatchString(regionPrefix) {
			return fmt.Errorf("--region %q is not a region-code prefix (2 to 12 digits, e.g. 330110)", regionPrefix)
		}
	case Operator:
		if !digits.MatchString(regionPrefix) {
			return fmt.Errorf("an operator needs --region, the region-code prefix they work on (2 to 12 digits, e.g. 330110)")
		}
	case GridWorker:
		if !gridCode.MatchString(grid) {
			return fmt.Errorf("a grid worker needs --grid, the code of their grid (网格编号)")
		}
	}
	return nil
}

// CreateUser adds a user who does not exist yet.
func CreateUser(ctx context.Context, db *store.DB, name, password, role, regionPrefix, grid string) error {
	if err := checkUser(name, role, regionPrefix, grid); err != nil {
		return err
	}
	if len(password) < 8 {
		return errWeakPw
	}
	var n int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM users WHERE username = ?`, name).Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		return fmt.Errorf("user %q exists already (change the password with `safetynet users passwd`)", name)
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.DefaultCost)
	if err != nil {
		return err
	}
	_, err = db.ExecContext(ctx, `INSERT INTO users (username, password_hash, role, region_prefix, grid) VALUES (?, ?, ?, ?, ?)`,
		name, string(hash), role, regionPrefix, grid)
	return err
}

// ListUsers lists every user with their last login.
func ListUsers(ctx context.Context, db *store.DB) ([]UserInfo, error) {
	rows, err := db.QueryContext(ctx, `SELECT u.username, u.role, u.region_prefix, coalesce(u.grid, ''), u.disabled, u.created_at,
		(SELECT max(logged_at) FROM audit_log a WHERE a.username = u.username AND a.action = 'login')
		FROM users u ORDER BY u.username`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []UserInfo
	for rows.Next() {
		var u UserInfo
		if err := rows.Scan(&u.Name, &u.Role, &u.RegionPrefix, &u.Grid, &u.Disabled, &u.Created, &u.LastLogin); err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

// DisableUser stops a user from logging in and ends their sessions.
func DisableUser(ctx context.Context, db *store.DB, name string) error {
	return db.Tx(ctx, func(conn *sql.Conn) error {
		res, err := conn.ExecContext(ctx, `UPDATE users SET disabled = true WHERE username = ?`, name)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("%q: %w", name, ErrNoUser)
		}
		_, err = conn.ExecContext(ctx, `DELETE FROM sessions WHERE username = ?`, name)
		return err
	})
}

// SetPassword changes a user's password (and enables them again) and ends
// their sessions, so an old password stops working everywhere at once.
func SetPassword(ctx context.Context, db *store.DB, name, password string) error {
	if len(password) < 8 {
		return errWeakPw
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.DefaultCost)
	if err != nil {
		return err
	}
	return db.Tx(ctx, func(conn *sql.Conn) error {
		res, err := conn.ExecContext(ctx, `UPDATE users SET password_hash = ?, disabled = false WHERE username = ?`, string(hash), name)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("%q: %w", name, ErrNoUser)
		}
		_, err = conn.ExecContext(ctx, `DELETE FROM sessions WHERE username = ?`, name)
		return err
	})
}

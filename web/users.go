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
// NewUser is a user to create.
type NewUser struct {
	Name, Password string
	Role           Role
	// Region is the region-code prefix an operator works on and an
	// analyst reads; a grid worker's township or village, derived from
	// the grid code when that starts with one (330110001001-02).
	Region string
	Grid   string // a grid worker's grid (网格编号)
	// Replace a user of that name instead of refusing (the demo's fixed
	// users, a first administrator).
	Replace bool
}

// gridRegion is the division code a grid code starts with: a village's
// (12 digits) or a township's (9), else "".
var gridRegion = regexp.MustCompile(`^([0-9]{12}|[0-9]{9})`)

// check says what is wrong with a new user, in the words of the CLI's
// flags, and fills in a grid worker's region from their grid.
func (n *NewUser) check() error {
	if !userName.MatchString(n.Name) {
		return fmt.Errorf("user name %q: use 2 to 64 letters, digits, '.', '_' or '-'", n.Name)
	}
	if _, err := ParseRole(string(n.Role)); err != nil {
		return err
	}
	if len(n.Password) < 8 {
		return errWeakPw
	}
	switch n.Role {
	case Admin, Analyst, RecordAnalyst:
		if n.Region != "" && !digits.MatchString(n.Region) {
			return fmt.Errorf("--region %q is not a region-code prefix (2 to 12 digits, e.g. 330110)", n.Region)
		}
	case Operator:
		if !digits.MatchString(n.Region) {
			return fmt.Errorf("an operator needs --region, the region-code prefix they work on (2 to 12 digits, e.g. 330110)")
		}
	case Peer:
		if !digits.MatchString(n.Region) {
			return fmt.Errorf("a peer instance needs --region, the ID prefix of the people it answers for (2 to 12 digits, e.g. 330102)")
		}
	case GridWorker:
		if !gridCode.MatchString(n.Grid) {
			return fmt.Errorf("a grid worker needs --grid, the code of their grid (网格编号)")
		}
		if n.Region == "" {
			n.Region = gridRegion.FindString(n.Grid)
		}
		if !digits.MatchString(n.Region) || len(n.Region) < 9 {
			return fmt.Errorf("a grid worker needs --region, the township or village code they work in (9 or 12 digits), unless their grid code starts with it")
		}
	}
	return nil
}

// CreateUser adds a user who does not exist yet (or replaces one, if
// asked), with a bcrypt-hashed password.
func CreateUser(ctx context.Context, db *store.DB, n NewUser) error {
	if err := n.check(); err != nil {
		return err
	}
	var exists int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM users WHERE username = ?`, n.Name).Scan(&exists); err != nil {
		return err
	}
	if exists > 0 && !n.Replace {
		return fmt.Errorf("user %q exists already (change the password with `safetynet users passwd`)", n.Name)
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(n.Password), bcrypt.DefaultCost)
	if err != nil {
		return err
	}
	_, err = db.ExecContext(ctx, `INSERT OR REPLACE INTO users (username, password_hash, role, region_prefix, grid) VALUES (?, ?, ?, ?, ?)`,
		n.Name, string(hash), string(n.Role), n.Region, n.Grid)
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

package web

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"safetynet/store"
)

// ErrBadToken is a token that names no enabled record-level user.
var ErrBadToken = errors.New("the token is unknown, replaced or its user disabled: ask an administrator for a new one (safetynet users token NAME)")

// NewToken makes a Flight SQL token for a record-level analyst (or an
// administrator), replacing their earlier one. Only its hash is stored:
// the token is shown once.
func NewToken(ctx context.Context, db *store.DB, name string) (string, error) {
	var role Role
	var disabled bool
	err := db.QueryRowContext(ctx, `SELECT role, disabled FROM users WHERE username = ?`, name).Scan(&role, &disabled)
	if errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("%q: %w", name, ErrNoUser)
	}
	if err != nil {
		return "", err
	}
	if !(role.RecordLevel() || role == Peer) || disabled {
		return "", fmt.Errorf("%q is %s: tokens are for enabled record-level analysts (record_analyst) and administrators (Flight SQL), and peer instances (forwarded records)", name, role)
	}
	token := "sn_" + randomHex(24)
	err = db.Tx(ctx, func(conn *sql.Conn) error {
		if _, err := conn.ExecContext(ctx, `DELETE FROM api_tokens WHERE username = ?`, name); err != nil {
			return err
		}
		_, err := conn.ExecContext(ctx, `INSERT INTO api_tokens (token_hash, username, created_at) VALUES (?, ?, now())`, hashToken(token), name)
		return err
	})
	if err != nil {
		return "", fmt.Errorf("web: token: %w", err)
	}
	return token, nil
}

// UserByToken is the enabled record-level user a token belongs to.
func UserByToken(ctx context.Context, db *store.DB, token string) (*User, error) {
	return tokenUser(ctx, db, token, Role.RecordLevel)
}

// PeerByToken is the enabled peer instance a token belongs to.
func PeerByToken(ctx context.Context, db *store.DB, token string) (*User, error) {
	return tokenUser(ctx, db, token, func(r Role) bool { return r == Peer })
}

// tokenUser is the enabled user a token belongs to, when their role may
// use it.
func tokenUser(ctx context.Context, db *store.DB, token string, may func(Role) bool) (*User, error) {
	if token == "" {
		return nil, ErrBadToken
	}
	var u User
	err := db.QueryRowContext(ctx, `SELECT u.username, u.role, u.region_prefix, coalesce(u.grid, '') FROM api_tokens t JOIN users u USING (username)
		WHERE t.token_hash = ? AND NOT u.disabled`, hashToken(token)).Scan(&u.Name, &u.Role, &u.RegionPrefix, &u.Grid)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && !may(u.Role)) {
		return nil, ErrBadToken
	}
	if err != nil {
		return nil, err
	}
	return &u, nil
}

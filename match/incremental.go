package match

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// scope says which records a linking run (re)links: all of them, or only
// those in _todo, the records new or changed since the last run. A run is
// incremental while the registry and the review decisions are as the
// last run left them; a change to either can move any link, so the next
// run relinks everything.
type scope struct{ delta bool }

// only restricts the links aliased a to the records to link, when the
// run is incremental.
func (s scope) only(a string) string {
	if !s.delta {
		return ""
	}
	return fmt.Sprintf("SEMI JOIN _todo _t ON _t.source = %[1]s.source AND _t.record_key = %[1]s.record_key", a)
}

// linkState is what the links were made against.
type linkState struct{ registry, decisions string }

func currentState(ctx context.Context, conn *sql.Conn) (linkState, error) {
	var s linkState
	var err error
	if s.registry, err = registryVersion(ctx, conn); err != nil {
		return s, err
	}
	err = conn.QueryRowContext(ctx, `SELECT count(*) || '/' || coalesce(max(decided_at)::VARCHAR, '') FROM match_decisions`).Scan(&s.decisions)
	return s, err
}

func lastState(ctx context.Context, conn *sql.Conn) (linkState, bool, error) {
	var s linkState
	err := conn.QueryRowContext(ctx, `SELECT registry_version, decisions_version FROM match_state`).Scan(&s.registry, &s.decisions)
	if errors.Is(err, sql.ErrNoRows) {
		return s, false, nil
	}
	return s, err == nil, err
}

func saveState(ctx context.Context, conn *sql.Conn, s linkState, at time.Time) error {
	if _, err := conn.ExecContext(ctx, `DELETE FROM match_state`); err != nil {
		return err
	}
	_, err := conn.ExecContext(ctx, `INSERT INTO match_state (registry_version, decisions_version, linked_at) VALUES (?, ?, ?)`, s.registry, s.decisions, at)
	return err
}

// chooseScope decides between an incremental run and a whole one.
func chooseScope(ctx context.Context, conn *sql.Conn, force bool) (scope, linkState, error) {
	cur, err := currentState(ctx, conn)
	if err != nil {
		return scope{}, cur, fmt.Errorf("match: link state: %w", err)
	}
	last, ok, err := lastState(ctx, conn)
	if err != nil {
		return scope{}, cur, fmt.Errorf("match: link state: %w", err)
	}
	return scope{delta: ok && !force && last == cur}, cur, nil
}

// staleLinks are the links of records no longer current, or current in
// another version than the one linked.
const staleLinks = `DELETE FROM match_links WHERE NOT EXISTS (
	SELECT 1 FROM (%s) s WHERE s.source = match_links.source AND s.record_key = match_links.record_key AND s.batch_id = match_links.version)`

// recordsToLink are the current records without a link.
const recordsToLink = `CREATE OR REPLACE TEMP TABLE _todo AS
SELECT s.source, s.record_key FROM (%s) s ANTI JOIN match_links l ON l.source = s.source AND l.record_key = s.record_key`

// prepareDelta drops the stale links and lists the records to link.
func prepareDelta(ctx context.Context, conn *sql.Conn, st *Stats) error {
	current := unionSources("record_key, batch_id")
	if _, err := conn.ExecContext(ctx, fmt.Sprintf(staleLinks, current)); err != nil {
		return fmt.Errorf("match: drop stale links: %w", err)
	}
	if _, err := conn.ExecContext(ctx, fmt.Sprintf(recordsToLink, unionSources("record_key"))); err != nil {
		return fmt.Errorf("match: records to link: %w", err)
	}
	return conn.QueryRowContext(ctx, `SELECT count(*) FROM _todo`).Scan(&st.Relinked)
}

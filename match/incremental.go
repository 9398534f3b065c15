package match

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// scope says which records a linking run (re)links: all of them, or only
// those of the batches after the last run's. A run is incremental while
// the registry and the review decisions are as the last run left them
// and every current record older than those batches holds its link; a
// change to either can move any link, so the next run relinks everything.
type scope struct {
	delta bool
	after int64 // in an incremental run, the last batch the previous run linked
}

// sources is the current records the run links, as one relation (see
// unionSources): every one, or those of the batches after the last run's.
// A filter on batch_id costs little: the canonical tables are written in
// batch order, so DuckDB skips the row groups of earlier batches.
func (s scope) sources(columns string) string {
	if !s.delta {
		return unionSources(columns)
	}
	return unionSourcesWhere(columns, fmt.Sprintf("batch_id > %d", s.after))
}

// linkState is what the links were made against, and the last batch
// they cover.
type linkState struct {
	registry, decisions string
	through             sql.NullInt64
}

// sameInputs: the registry and the decisions are those of the other state.
func (s linkState) sameInputs(o linkState) bool {
	return s.registry == o.registry && s.decisions == o.decisions
}

func currentState(ctx context.Context, conn *sql.Conn) (linkState, error) {
	var s linkState
	var err error
	if s.registry, err = registryVersion(ctx, conn); err != nil {
		return s, err
	}
	err = conn.QueryRowContext(ctx, `SELECT count(*) || '/' || coalesce(max(decided_at)::VARCHAR, '') FROM match_decisions`).Scan(&s.decisions)
	if err != nil {
		return s, err
	}
	err = conn.QueryRowContext(ctx, fmt.Sprintf(`SELECT coalesce(max(batch_id), 0) FROM (%s)`, unionSources("batch_id"))).Scan(&s.through)
	return s, err
}

func lastState(ctx context.Context, conn *sql.Conn) (linkState, bool, error) {
	var s linkState
	err := conn.QueryRowContext(ctx, `SELECT registry_version, decisions_version, batch_through FROM match_state`).Scan(&s.registry, &s.decisions, &s.through)
	if errors.Is(err, sql.ErrNoRows) {
		return s, false, nil
	}
	return s, err == nil, err
}

func saveState(ctx context.Context, conn *sql.Conn, s linkState, at time.Time) error {
	if _, err := conn.ExecContext(ctx, `DELETE FROM match_state`); err != nil {
		return err
	}
	_, err := conn.ExecContext(ctx, `INSERT INTO match_state (registry_version, decisions_version, batch_through, linked_at) VALUES (?, ?, ?, ?)`,
		s.registry, s.decisions, s.through, at)
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
	if !ok || force || !last.sameInputs(cur) || !last.through.Valid {
		return scope{}, cur, nil
	}
	sc := scope{delta: true, after: last.through.Int64}
	held, err := linksHeld(ctx, conn, sc)
	if err != nil {
		return scope{}, cur, fmt.Errorf("match: link state: %w", err)
	}
	if !held {
		return scope{}, cur, nil
	}
	return sc, cur, nil
}

// linksHeld checks what an incremental run takes for granted: every
// current record of the batches the last run covered has its link, and no
// link is left of a record closed without a newer version. Records close
// that way only when the registry corrects a member (which makes the run
// a whole one anyway), and a batch numbered before the last run's could
// only appear if it committed after that run; either would show as links
// and records that no longer add up, and the run then relinks everything.
const heldCounts = `SELECT
	(SELECT count(*) FROM match_links) - (SELECT count(*) FROM match_links l SEMI JOIN (%[1]s) n ON n.source = l.source AND n.record_key = l.record_key)
	= (SELECT count(*) FROM (%[2]s)) - (SELECT count(*) FROM (%[1]s))`

func linksHeld(ctx context.Context, conn *sql.Conn, sc scope) (bool, error) {
	var held bool
	err := conn.QueryRowContext(ctx, fmt.Sprintf(heldCounts, sc.sources("record_key"), unionSources("record_key"))).Scan(&held)
	return held, err
}

// prepareDelta lists the records to link (those of the new batches) and
// drops the links of the versions they replace.
func prepareDelta(ctx context.Context, conn *sql.Conn, sc scope, st *Stats) error {
	if _, err := conn.ExecContext(ctx, fmt.Sprintf(`CREATE OR REPLACE TEMP TABLE _todo AS SELECT source, record_key FROM (%s)`, sc.sources("record_key"))); err != nil {
		return fmt.Errorf("match: records to link: %w", err)
	}
	// The IDs outside the registry the dropped links named: their persons' form may change (outside.go).
	if _, err := conn.ExecContext(ctx, `CREATE OR REPLACE TEMP TABLE _gone AS SELECT DISTINCT l.id_number FROM match_links l
		SEMI JOIN _todo t ON t.source = l.source AND t.record_key = l.record_key WHERE l.method = 'id_outside_registry'`); err != nil {
		return fmt.Errorf("match: records to link: %w", err)
	}
	if _, err := conn.ExecContext(ctx, `DELETE FROM match_links USING _todo t WHERE match_links.source = t.source AND match_links.record_key = t.record_key`); err != nil {
		return fmt.Errorf("match: drop the links of replaced versions: %w", err)
	}
	return conn.QueryRowContext(ctx, `SELECT count(*) FROM _todo`).Scan(&st.Relinked)
}

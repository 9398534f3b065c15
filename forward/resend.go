package forward

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"safetynet/config"
)

// A record linked before a peer's directory named its person went by the
// ID's region, to another county or to none, and is behind the peer's
// watermark when the directory comes: the pull would never serve it. So
// when a directory names people the last one did not (its first names
// everyone), the records about them become due to the peer again, as of
// the directory's arrival, and the peer's next pull takes them whatever
// its watermark. A record the peer already holds, it keeps as unchanged.

// outsidePeople keeps, in _outside, each person this instance holds
// records about that link to nobody in its registry, with the time of
// their last link: read once for both namedAnew and dueAgain.
func outsidePeople() string {
	var parts []string
	for _, s := range (config.Peer{}).PeerSources() {
		parts = append(parts, fmt.Sprintf(`SELECT person_id, linked_at FROM linked_%s WHERE link_method = 'id_outside_registry'`, s))
	}
	return `CREATE OR REPLACE TEMP TABLE _outside AS SELECT person_id, max(linked_at) AS last_linked FROM (` +
		strings.Join(parts, " UNION ALL ") + `) GROUP BY person_id`
}

// namedAnew are the people of _outside whose hash is in _anew, the
// people the peer's directory names and its last one did not. Argument:
// the pseudonym key.
func namedAnew() string {
	return fmt.Sprintf(`CREATE OR REPLACE TEMP TABLE _named_anew AS
SELECT o.person_id FROM _outside o SEMI JOIN _anew d ON d.person = %s`, hashSQL("$1", "o.person_id"))
}

// dueAgain is when the records of the people named anew are due: the
// directory's arrival, or any later time already served (a link's, or an
// earlier resend's), so that it is past the peer's watermark whatever
// clock the links were made by. Arguments: the arrival, the peer.
const dueAgain = `SELECT greatest($1::TIMESTAMPTZ, coalesce((SELECT max(last_linked) FROM _outside), $1::TIMESTAMPTZ),
	coalesce((SELECT max(due_at) FROM forward_resend WHERE peer = $2), $1::TIMESTAMPTZ))`

// keepBefore keeps the peer's directory as it was, in _before, before
// Receive replaces it; anewWhole then keeps in _anew the people the new
// one names that it did not.
func keepBefore(ctx context.Context, conn *sql.Conn, peer string) error {
	_, err := conn.ExecContext(ctx, `CREATE OR REPLACE TEMP TABLE _before AS SELECT person FROM forward_directory WHERE peer = ?`, peer)
	return err
}

func anewWhole(ctx context.Context, conn *sql.Conn, peer string) error {
	defer conn.ExecContext(ctx, `DROP TABLE IF EXISTS _before`)
	_, err := conn.ExecContext(ctx, `CREATE OR REPLACE TEMP TABLE _anew AS
SELECT person FROM forward_directory WHERE peer = ? EXCEPT SELECT person FROM _before`, peer)
	return err
}

// anewChange keeps in _anew the people a change adds that the peer's
// directory does not name yet; it runs before the change is applied.
func anewChange(ctx context.Context, conn *sql.Conn, peer string) error {
	_, err := conn.ExecContext(ctx, `CREATE OR REPLACE TEMP TABLE _anew AS
SELECT person FROM _change WHERE added EXCEPT SELECT person FROM forward_directory WHERE peer = ?`, peer)
	return err
}

// markResend notes the people in _anew whose records this instance
// holds, with when those records are due again, and says how many they
// are. It runs in Receive's or ReceiveChange's transaction.
func markResend(ctx context.Context, conn *sql.Conn, a Arrival) (int, error) {
	for _, t := range []string{"_anew", "_outside", "_named_anew"} {
		defer conn.ExecContext(ctx, `DROP TABLE IF EXISTS `+t)
	}
	var anew int
	if err := conn.QueryRowContext(ctx, `SELECT count(*) FROM _anew`).Scan(&anew); err != nil || anew == 0 {
		return 0, err
	}
	if _, err := conn.ExecContext(ctx, outsidePeople()); err != nil {
		return 0, fmt.Errorf("the people outside the registry: %w", err)
	}
	if _, err := conn.ExecContext(ctx, namedAnew(), a.Key); err != nil {
		return 0, fmt.Errorf("the people named anew: %w", err)
	}
	var n int
	if err := conn.QueryRowContext(ctx, `SELECT count(*) FROM _named_anew`).Scan(&n); err != nil || n == 0 {
		return 0, err
	}
	var due time.Time
	if err := conn.QueryRowContext(ctx, dueAgain, a.At, a.Peer).Scan(&due); err != nil {
		return 0, fmt.Errorf("when the records are due again: %w", err)
	}
	for _, q := range []string{
		`DELETE FROM forward_resend WHERE peer = $1 AND person_id IN (SELECT person_id FROM _named_anew)`,
		`INSERT INTO forward_resend (peer, person_id, due_at) SELECT $1, person_id, $2 FROM _named_anew`,
	} {
		if _, err := conn.ExecContext(ctx, q, a.Peer, due); err != nil {
			return 0, fmt.Errorf("the records due again: %w", err)
		}
	}
	return n, nil
}

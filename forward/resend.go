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

// namedAnew are the people of _outside whose hash the peer's directory
// names and _before, its last one, did not. Arguments: the peer, the
// pseudonym key.
func namedAnew() string {
	return fmt.Sprintf(`CREATE OR REPLACE TEMP TABLE _named_anew AS
SELECT o.person_id FROM _outside o
SEMI JOIN (SELECT person FROM forward_directory WHERE peer = $1 EXCEPT SELECT person FROM _before) d ON d.person = %s`,
		hashSQL("$2", "o.person_id"))
}

// dueAgain is when the records of the people named anew are due: the
// directory's arrival, or any later time already served (a link's, or an
// earlier resend's), so that it is past the peer's watermark whatever
// clock the links were made by. Arguments: the arrival, the peer.
const dueAgain = `SELECT greatest($1::TIMESTAMPTZ, coalesce((SELECT max(last_linked) FROM _outside), $1::TIMESTAMPTZ),
	coalesce((SELECT max(due_at) FROM forward_resend WHERE peer = $2), $1::TIMESTAMPTZ))`

// keepBefore keeps the peer's directory as it was, in _before, for
// markResend, before Receive replaces it.
func keepBefore(ctx context.Context, conn *sql.Conn, peer string) error {
	_, err := conn.ExecContext(ctx, `CREATE OR REPLACE TEMP TABLE _before AS SELECT person FROM forward_directory WHERE peer = ?`, peer)
	return err
}

// markResend notes the people the peer's new directory names anew whose
// records this instance holds, with when those records are due again,
// and says how many they are. It runs in Receive's transaction.
func markResend(ctx context.Context, conn *sql.Conn, a Arrival) (int, error) {
	for _, t := range []string{"_before", "_outside", "_named_anew"} {
		defer conn.ExecContext(ctx, `DROP TABLE IF EXISTS `+t)
	}
	if _, err := conn.ExecContext(ctx, outsidePeople()); err != nil {
		return 0, fmt.Errorf("the people outside the registry: %w", err)
	}
	if _, err := conn.ExecContext(ctx, namedAnew(), a.Peer, a.Key); err != nil {
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

package forward

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"safetynet/store"
)

// A directory is the people an instance is responsible for: the keyed
// hash of each resident ID in its registry. An instance sends it to each
// peer before pulling from that peer, and the peer forwards it the records
// of those people whatever county issued their IDs: a family that moved
// keeps the ID of the county it came from. A record about someone in no
// directory goes to the peer whose region the ID begins with.
//
// The hash is keyed with the pseudonym key the province's instances share
// (config analytics.pseudonym_key_env), so a directory names no one to a
// peer that does not already hold the ID.

// DirectoryPath is where a peer's directory is sent: under the
// forwarding endpoint, by PUT.
const DirectoryPath = "/directory"

// KeyCheckHeader carries the sender's hash of a fixed text, so that a
// receiver whose key differs refuses the directory instead of storing
// hashes that match nobody.
const KeyCheckHeader = "Safetynet-Key-Check"

// MaxDirectoryBytes bounds a directory sent: 17 bytes a person, so about
// 60 million people.
const MaxDirectoryBytes = 1 << 30

// ErrDirectory is a directory that cannot be read; it is refused whole.
var ErrDirectory = errors.New("forward: not a directory")

// ErrKeyMismatch is a directory hashed with another key than this
// instance's.
var ErrKeyMismatch = errors.New("forward: the directory was hashed with another pseudonym key than this instance's: give both instances the province's key")

// hashLen is how many hex digits of the SHA-256 a directory keeps.
const hashLen = 16

// hashSQL is the keyed hash of the ID expression id, with the key as the
// query parameter named by key; hashID is the same in Go.
func hashSQL(key, id string) string {
	return fmt.Sprintf("left(sha256(%s || '|directory|' || %s), %d)", key, id, hashLen)
}

func hashID(key, id string) string {
	sum := sha256.Sum256([]byte(key + "|directory|" + id))
	return hex.EncodeToString(sum[:])[:hashLen]
}

// KeyCheck is the value of KeyCheckHeader for a key.
func KeyCheck(key string) string { return hashID(key, "key-check") }

// Dir is this instance's directory, as it is sent: one hash a line, one
// line a person in the registry with an ID, in order, so that the same
// registry gives the same bytes and the same Digest.
type Dir struct {
	Body   []byte
	People int
	Digest string
}

// Directory is this instance's directory, hashed with key; a run makes it
// once and offers it to every peer.
func Directory(ctx context.Context, db *store.DB, key string) (Dir, error) {
	return directory(ctx, db, `SELECT DISTINCT `+hashSQL("$1", "id_number")+` AS h FROM members WHERE id_number IS NOT NULL ORDER BY h`, key)
}

// HubDirectory is what a hub offers every peer: the people the peers'
// directories name, so that each forwards the hub the records of the
// people the others register, which the hub forwards on; and the hub's
// own registry's, if it had one. The hashes are relayed as the counties
// made them: the hub needs no ID to do it. A county is offered its own
// people too, which is harmless (their records link to its registry and
// are never forwarded), and makes one directory for all, so that one is
// kept to send changes from (sent.go).
func HubDirectory(ctx context.Context, db *store.DB, key string) (Dir, error) {
	return directory(ctx, db, `SELECT `+hashSQL("$1", "id_number")+` AS h FROM members WHERE id_number IS NOT NULL
UNION SELECT person FROM forward_directory
ORDER BY h`, key)
}

func directory(ctx context.Context, db *store.DB, q string, args ...any) (Dir, error) {
	rows, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		return Dir{}, fmt.Errorf("forward: the directory: %w", err)
	}
	defer rows.Close()
	var people []string
	for rows.Next() {
		var h string
		if err := rows.Scan(&h); err != nil {
			return Dir{}, fmt.Errorf("forward: the directory: %w", err)
		}
		people = append(people, h)
	}
	if err := rows.Err(); err != nil {
		return Dir{}, fmt.Errorf("forward: the directory: %w", err)
	}
	body := lines(people)
	return Dir{Body: body, People: len(people), Digest: digest(body)}, nil
}

// lines is a directory's text: its hashes, sorted and without repeats,
// a line each.
func lines(people []string) []byte {
	var buf bytes.Buffer
	for _, p := range people {
		buf.WriteString(p)
		buf.WriteByte('\n')
	}
	return buf.Bytes()
}

// digest is a directory's fingerprint: the SHA-256 of its lines.
func digest(lines []byte) string {
	sum := sha256.Sum256(lines)
	return hex.EncodeToString(sum[:])
}

// Received is a peer's directory as this instance last received it.
type Received struct {
	Peer   string
	People int
	At     time.Time
	Digest string
}

// Arrival is a peer's directory as it arrives.
type Arrival struct {
	Peer string    // the peer that sent it
	Key  string    // this instance's pseudonym key, which the directory was checked against
	At   time.Time // when it came
}

// Receipt is what Receive or ReceiveChange kept of a directory.
type Receipt struct {
	People int `json:"people"` // the people it names
	Resent int `json:"resent"` // of whom people it did not name before, whose records go to the peer again (resend.go)
	// A change's people added and removed.
	Added   int `json:"added,omitempty"`
	Removed int `json:"removed,omitempty"`
	change  bool
}

// String is the receipt as the audit log notes it.
func (rc Receipt) String() string {
	s := fmt.Sprintf("people=%d resent=%d", rc.People, rc.Resent)
	if rc.change {
		s += fmt.Sprintf(" added=%d removed=%d", rc.Added, rc.Removed)
	}
	return s
}

// Receive replaces the directory of the peer with the one r holds, whole
// or not at all, and makes the records about the people it names anew due
// to the peer again.
func Receive(ctx context.Context, db *store.DB, a Arrival, r io.Reader) (Receipt, error) {
	people, err := readDirectory(r)
	if err != nil {
		return Receipt{}, err
	}
	rc := Receipt{People: len(people)}
	err = db.Tx(ctx, func(conn *sql.Conn) error {
		if err := keepBefore(ctx, conn, a.Peer); err != nil {
			return err
		}
		if _, err := conn.ExecContext(ctx, `DELETE FROM forward_directory WHERE peer = ?`, a.Peer); err != nil {
			return err
		}
		if err := appendDirectory(conn, a.Peer, people); err != nil {
			return err
		}
		if err := anewWhole(ctx, conn, a.Peer); err != nil {
			return err
		}
		if err := noteHeld(ctx, conn, a, len(people), digest(lines(people))); err != nil {
			return err
		}
		rc.Resent, err = markResend(ctx, conn, a)
		return err
	})
	if err != nil {
		return Receipt{}, fmt.Errorf("forward: the directory of %s: %w", a.Peer, err)
	}
	return rc, nil
}

// noteHeld notes the directory now held of the peer: how many it names,
// when it came, its digest.
func noteHeld(ctx context.Context, conn *sql.Conn, a Arrival, people int, digest string) error {
	_, err := conn.ExecContext(ctx, `INSERT OR REPLACE INTO forward_directories (peer, people, received_at, digest) VALUES (?, ?, ?, ?)`,
		a.Peer, people, a.At, digest)
	return err
}

// ErrStale is a change made from another directory than the one this
// instance holds of the peer, or that does not make the directory it
// says: the peer sends the directory whole instead.
var ErrStale = errors.New("forward: the change was not made from the directory held here, or does not give the one it names: send the directory whole")

// Change is a change of a peer's directory as it arrives: made from the
// directory of digest Base, it gives the one of digest Digest.
type Change struct {
	Base, Digest string
}

// ReceiveChange applies to the peer's directory the change r holds (a
// line "+hash" for each person added, "-hash" for each removed), whole or
// not at all, and makes the records about the people it adds due to the
// peer again. It refuses (ErrStale) a change made from another directory
// than the one held, or that does not give the directory it names.
func ReceiveChange(ctx context.Context, db *store.DB, a Arrival, c Change, r io.Reader) (Receipt, error) {
	added, removed, err := readChange(r)
	if err != nil {
		return Receipt{}, err
	}
	rc := Receipt{Added: len(added), Removed: len(removed), change: true}
	err = db.Tx(ctx, func(conn *sql.Conn) error {
		var held string
		err := conn.QueryRowContext(ctx, `SELECT coalesce(digest, '') FROM forward_directories WHERE peer = ?`, a.Peer).Scan(&held)
		if errors.Is(err, sql.ErrNoRows) || (err == nil && held != c.Base) {
			return ErrStale
		}
		if err != nil {
			return err
		}
		if err := applyChange(ctx, conn, a.Peer, added, removed); err != nil {
			return err
		}
		var got string
		if err := conn.QueryRowContext(ctx, `SELECT count(*), `+digestSQL+` FROM forward_directory WHERE peer = ?`, a.Peer).Scan(&rc.People, &got); err != nil {
			return err
		}
		if got != c.Digest {
			return ErrStale
		}
		if err := noteHeld(ctx, conn, a, rc.People, got); err != nil {
			return err
		}
		rc.Resent, err = markResend(ctx, conn, a)
		return err
	})
	if err != nil {
		return Receipt{}, fmt.Errorf("forward: the change of the directory of %s: %w", a.Peer, err)
	}
	return rc, nil
}

// digestSQL is digest in SQL, over the person column of the rows read.
const digestSQL = `sha256(coalesce(string_agg(person || chr(10), '' ORDER BY person), ''))`

// applyChange removes the people removed from the peer's directory and
// adds the people added that it does not name yet, keeping those in
// _anew for markResend.
func applyChange(ctx context.Context, conn *sql.Conn, peer string, added, removed []string) error {
	if _, err := conn.ExecContext(ctx, `CREATE OR REPLACE TEMP TABLE _change (person VARCHAR, added BOOLEAN)`); err != nil {
		return err
	}
	defer conn.ExecContext(ctx, `DROP TABLE IF EXISTS _change`)
	app, err := store.NewColumnAppender(conn, "_change", []string{"person", "added"})
	if err != nil {
		return err
	}
	for _, list := range []struct {
		people []string
		added  bool
	}{{added, true}, {removed, false}} {
		for _, p := range list.people {
			if err := app.AppendRow(p, list.added); err != nil {
				app.Close()
				return err
			}
		}
	}
	if err := app.Close(); err != nil {
		return err
	}
	if err := anewChange(ctx, conn, peer); err != nil {
		return err
	}
	for _, q := range []string{
		`DELETE FROM forward_directory WHERE peer = $1 AND person IN (SELECT person FROM _change WHERE NOT added)`,
		`INSERT INTO forward_directory (peer, person) SELECT $1, person FROM _change WHERE added
		 EXCEPT SELECT peer, person FROM forward_directory WHERE peer = $1`,
	} {
		if _, err := conn.ExecContext(ctx, q, peer); err != nil {
			return err
		}
	}
	return nil
}

// readChange reads a change: "+hash" or "-hash" a line; a line that is
// neither refuses the whole change, naming the line.
func readChange(r io.Reader) (added, removed []string, err error) {
	sc := bufio.NewScanner(r)
	for line := 1; sc.Scan(); line++ {
		l := strings.TrimSpace(sc.Text())
		switch {
		case l == "":
		case len(l) == hashLen+1 && l[0] == '+' && isHash(l[1:]):
			added = append(added, l[1:])
		case len(l) == hashLen+1 && l[0] == '-' && isHash(l[1:]):
			removed = append(removed, l[1:])
		default:
			return nil, nil, fmt.Errorf("%w: line %d holds %.40q, not + or - and %d hex digits", ErrDirectory, line, l, hashLen)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, nil, fmt.Errorf("%w: %v", ErrDirectory, err)
	}
	return added, removed, nil
}

// appendDirectory writes the peer's people to forward_directory.
func appendDirectory(conn *sql.Conn, peer string, people []string) error {
	app, err := store.NewColumnAppender(conn, "forward_directory", []string{"peer", "person"})
	if err != nil {
		return err
	}
	for _, p := range people {
		if err := app.AppendRow(peer, p); err != nil {
			app.Close()
			return err
		}
	}
	return app.Close()
}

// readDirectory reads one hash a line, and gives them sorted and without
// repeats (as Directory makes them); a line that is not one refuses the
// whole directory, naming the line.
func readDirectory(r io.Reader) ([]string, error) {
	sc := bufio.NewScanner(r)
	var people []string
	for line := 1; sc.Scan(); line++ {
		h := strings.TrimSpace(sc.Text())
		if h == "" {
			continue
		}
		if !isHash(h) {
			return nil, fmt.Errorf("%w: line %d holds %.40q, not %d hex digits", ErrDirectory, line, h, hashLen)
		}
		people = append(people, h)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrDirectory, err)
	}
	slices.Sort(people)
	return slices.Compact(people), nil
}

func isHash(h string) bool {
	if len(h) != hashLen {
		return false
	}
	for _, c := range h {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// Directories are the peers' directories this instance holds.
func Directories(ctx context.Context, db *store.DB) ([]Received, error) {
	return queryHeld(ctx, db, `SELECT peer, people, received_at, coalesce(digest, '') FROM forward_directories ORDER BY peer`)
}

// HeldOf is what this instance holds of peer's directory; none is Held{}.
func HeldOf(ctx context.Context, db *store.DB, peer string) (Held, error) {
	got, err := queryHeld(ctx, db, `SELECT peer, people, received_at, coalesce(digest, '') FROM forward_directories WHERE peer = ?`, peer)
	if err != nil || len(got) == 0 {
		return Held{}, err
	}
	return Held{People: got[0].People, Digest: got[0].Digest}, nil
}

func queryHeld(ctx context.Context, db *store.DB, q string, args ...any) ([]Received, error) {
	rows, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Received
	for rows.Next() {
		var d Received
		if err := rows.Scan(&d.Peer, &d.People, &d.At, &d.Digest); err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

package forward

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"net/http"
	"strings"
	"time"

	"safetynet/store"
)

// A directory changes by a few people a day and names up to millions, so
// after the first it goes as the change from the one the peer holds:
// this instance keeps the text of each directory it sent (forward_sent)
// while a peer holds it, and when the peer's digest is one of them, it sends the
// people added and removed since, with both digests. The peer applies the
// change only to the directory it was made from, and keeps the result
// only if it has the new digest; otherwise it refuses (409), and the
// directory goes whole.

// BaseHeader and DigestHeader carry a change's digests: of the directory
// it was made from, and of the directory it makes.
const (
	BaseHeader   = "Safetynet-Directory-Base"
	DigestHeader = "Safetynet-Directory-Digest"
)

// Offer is where and how this instance's directory goes to one peer.
type Offer struct {
	Peer  string // the peer's name here (config peers)
	URL   string // the peer's forwarding endpoint (config peers.*.url)
	Token string // the token the peer issued to this instance
	Key   string // the pseudonym key
}

// Held is what a peer answers for the directory it holds of this
// instance (GET on DirectoryPath).
type Held struct {
	People int    `json:"people"`
	Digest string `json:"digest"`
}

// Sent is what Send did: nothing (the peer held the directory), the
// directory whole, or the change of Added and Removed people.
type Sent struct {
	Whole          bool
	Added, Removed int
}

// Went says whether anything was sent.
func (s Sent) Went() bool { return s.Whole || s.Added+s.Removed > 0 }

// errRefused is a change the peer would not apply: it holds another
// directory than the one the change was made from.
var errRefused = errors.New("forward: the change was refused")

// Send sends the directory d to the peer unless the peer holds it
// already: as the change from the directory the peer holds when this
// instance sent that one and still keeps it, and whole otherwise.
func Send(ctx context.Context, db *store.DB, client *http.Client, o Offer, d Dir) (Sent, error) {
	url := strings.TrimSuffix(o.URL, "/") + DirectoryPath
	var held Held
	if err := o.do(ctx, client, request{method: http.MethodGet, url: url}, &held); err != nil {
		return Sent{}, err
	}
	if err := keepSent(ctx, db, d); err != nil {
		return Sent{}, err
	}
	if held.Digest == d.Digest {
		return Sent{}, noteSent(ctx, db, o.Peer, d.Digest)
	}
	body, sent, ok, err := change(ctx, db, held.Digest, d)
	if err != nil {
		return Sent{}, err
	}
	if ok {
		err := o.do(ctx, client, request{method: http.MethodPatch, url: url, body: body, base: held.Digest, digest: d.Digest}, nil)
		switch {
		case err == nil:
			return sent, noteSent(ctx, db, o.Peer, d.Digest)
		case !errors.Is(err, errRefused):
			return Sent{}, err
		}
	}
	if err := o.do(ctx, client, request{method: http.MethodPut, url: url, body: d.Body}, nil); err != nil {
		return Sent{}, err
	}
	return Sent{Whole: true}, noteSent(ctx, db, o.Peer, d.Digest)
}

// keepSent keeps d's text under its digest, unless it is kept.
func keepSent(ctx context.Context, db *store.DB, d Dir) error {
	var n int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM forward_sent WHERE digest = ?`, d.Digest).Scan(&n); err != nil || n > 0 {
		return err
	}
	_, err := db.ExecContext(ctx, `INSERT INTO forward_sent (digest, people, body, made_at) VALUES (?, ?, ?, ?)`,
		d.Digest, d.People, d.Body, time.Now())
	if err != nil {
		return fmt.Errorf("forward: the directory sent: %w", err)
	}
	return nil
}

// change is the change from the directory of digest base, if it is kept,
// to d: a line "+hash" for each person added and "-hash" for each
// removed. ok is false when base is not kept. Both texts are sorted, so
// one pass over them finds it.
func change(ctx context.Context, db *store.DB, base string, d Dir) (body []byte, s Sent, ok bool, err error) {
	var old []byte
	err = db.QueryRowContext(ctx, `SELECT body FROM forward_sent WHERE digest = ?`, base).Scan(&old)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, Sent{}, false, nil
	}
	if err != nil {
		return nil, Sent{}, false, fmt.Errorf("forward: the directory sent: %w", err)
	}
	var buf bytes.Buffer
	note := func(sign byte, line []byte) {
		buf.WriteByte(sign)
		buf.Write(line)
		if sign == '+' {
			s.Added++
		} else {
			s.Removed++
		}
	}
	next, stop := iter.Pull(bytes.Lines(d.Body))
	defer stop()
	add, more := next()
	for line := range bytes.Lines(old) {
		for more && bytes.Compare(add, line) < 0 {
			note('+', add)
			add, more = next()
		}
		if more && bytes.Equal(add, line) {
			add, more = next()
			continue
		}
		note('-', line)
	}
	for ; more; add, more = next() {
		note('+', add)
	}
	return buf.Bytes(), s, true, nil
}

// noteSent notes that the peer holds the directory of digest, and drops
// the directories kept that no peer holds.
func noteSent(ctx context.Context, db *store.DB, peer, digest string) error {
	return db.Tx(ctx, func(conn *sql.Conn) error {
		for _, q := range []string{
			`INSERT OR REPLACE INTO forward_sent_to (peer, digest, sent_at) VALUES ($1, $2, now())`,
			`DELETE FROM forward_sent WHERE digest NOT IN (SELECT digest FROM forward_sent_to)`,
		} {
			if _, err := conn.ExecContext(ctx, q, peer, digest); err != nil {
				return fmt.Errorf("forward: the directory sent: %w", err)
			}
		}
		return nil
	})
}

// request is one request of a peer's directory endpoint: base and digest
// go with a change.
type request struct {
	method, url  string
	body         []byte
	base, digest string
}

// do makes one request of the peer with this instance's token and key
// check, and reads a JSON answer into out when out is not nil. A change
// the peer refuses with 409 is errRefused.
func (o Offer) do(ctx context.Context, client *http.Client, r request, out any) error {
	req, err := http.NewRequestWithContext(ctx, r.method, r.url, bytes.NewReader(r.body))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+o.Token)
	req.Header.Set("Content-Type", "text/plain; charset=utf-8")
	req.Header.Set(KeyCheckHeader, KeyCheck(o.Key))
	if r.base != "" || r.digest != "" {
		req.Header.Set(BaseHeader, r.base)
		req.Header.Set(DigestHeader, r.digest)
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("forward: the directory at %s: %w", r.url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
		err := fmt.Errorf("forward: the directory at %s: %s %s: %s", r.url, r.method, resp.Status, strings.TrimSpace(string(msg)))
		// A peer holding another directory refuses a change (409); one of
		// an older version does not know changes (405).
		if r.method == http.MethodPatch && (resp.StatusCode == http.StatusConflict || resp.StatusCode == http.StatusMethodNotAllowed) {
			err = fmt.Errorf("%w: %w", errRefused, err)
		}
		return err
	}
	if out == nil {
		return nil
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(out); err != nil {
		return fmt.Errorf("forward: the directory at %s: %w", r.url, err)
	}
	return nil
}

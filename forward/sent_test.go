package forward

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"safetynet/ingest"
	"safetynet/match"
	"safetynet/store"
)

func openStore(t *testing.T, name string) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), filepath.Join(t.TempDir(), name+".duckdb"), ingest.Migrations(), match.Migrations(), Migrations())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// dirOf is the directory of the given hashes, as Directory makes one.
func dirOf(people []string) Dir {
	people = slices.Compact(slices.Sorted(slices.Values(people)))
	body := lines(people)
	return Dir{Body: body, People: len(people), Digest: digest(body)}
}

func randomHashes(r *rand.Rand, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%016x", r.Uint64())
	}
	return out
}

// TestDigestIsTheSameInGoAndSQL: a change is checked by the SQL digest of
// the directory it gives, against the Go digest the sender made.
func TestDigestIsTheSameInGoAndSQL(t *testing.T) {
	ctx := context.Background()
	db := openStore(t, "d")
	r := rand.New(rand.NewPCG(3, 4))
	for i, n := range []int{0, 1, 2, 7, 1000} {
		people := randomHashes(r, n)
		peer := fmt.Sprintf("peer-%d", i)
		if _, err := Receive(ctx, db, Arrival{Peer: peer, Key: "k", At: time.Now()}, strings.NewReader(strings.Join(people, "\n"))); err != nil {
			t.Fatal(err)
		}
		var got string
		if err := db.QueryRow(`SELECT `+digestSQL+` FROM forward_directory WHERE peer = ?`, peer).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if want := dirOf(people).Digest; got != want {
			t.Errorf("%d people: SQL digest %s, Go %s", n, got, want)
		}
	}
}

// peerEndpoint serves a directory endpoint over receiver's store with the
// functions the web's handlers call, and counts what it was sent.
type peerEndpoint struct {
	db       *store.DB
	puts     int
	patches  int
	noChange bool // answer a change 405, as a peer of an older version
}

func (p *peerEndpoint) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a := Arrival{Peer: "county-b", Key: "k", At: time.Now()}
	var err error
	switch r.Method {
	case http.MethodGet:
		held, err := HeldOf(r.Context(), p.db, a.Peer)
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		fmt.Fprintf(w, `{"people": %d, "digest": %q}`, held.People, held.Digest)
		return
	case http.MethodPut:
		p.puts++
		_, err = Receive(r.Context(), p.db, a, r.Body)
	case http.MethodPatch:
		if p.noChange {
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		p.patches++
		_, err = ReceiveChange(r.Context(), p.db, a, Change{Base: r.Header.Get(BaseHeader), Digest: r.Header.Get(DigestHeader)}, r.Body)
	}
	switch {
	case errors.Is(err, ErrStale):
		http.Error(w, err.Error(), http.StatusConflict)
	case err != nil:
		http.Error(w, err.Error(), 500)
	default:
		w.Write([]byte("{}"))
	}
}

// held is the receiver's directory of the sender, sorted.
func (p *peerEndpoint) held(t *testing.T) []string {
	t.Helper()
	rows, err := p.db.Query(`SELECT person FROM forward_directory WHERE peer = 'county-b' ORDER BY person`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var h string
		rows.Scan(&h)
		out = append(out, h)
	}
	return out
}

// TestDirectoryGoesAsItsChange: the first directory goes whole, the same
// one again not at all, and each later one as the change from the one
// the peer holds, which then holds exactly the new one; the directories
// kept are only those a peer holds. A peer whose directory is not one
// the sender kept, or that does not take changes, gets it whole.
func TestDirectoryGoesAsItsChange(t *testing.T) {
	ctx := context.Background()
	sender, peer := openStore(t, "sender"), &peerEndpoint{db: openStore(t, "peer")}
	srv := httptest.NewServer(peer)
	defer srv.Close()
	o := Offer{Peer: "county-a", URL: srv.URL, Key: "k"}
	r := rand.New(rand.NewPCG(5, 6))
	people := randomHashes(r, 2000)

	send := func(people []string) Sent {
		t.Helper()
		d := dirOf(people)
		s, err := Send(ctx, sender, http.DefaultClient, o, d)
		if err != nil {
			t.Fatal(err)
		}
		if got := peer.held(t); !slices.Equal(got, slices.Compact(slices.Sorted(slices.Values(people)))) {
			t.Fatalf("the peer holds %d people, not the %d sent", len(got), d.People)
		}
		return s
	}
	kept := func() int {
		var n int
		sender.QueryRow(`SELECT count(*) FROM forward_sent`).Scan(&n)
		return n
	}

	if s := send(people); !s.Whole {
		t.Errorf("the first directory went %+v, want whole", s)
	}
	if s := send(people); s.Went() {
		t.Errorf("the same directory again went %+v, want nothing", s)
	}
	next := append(slices.Clone(people[3:]), randomHashes(r, 5)...)
	if s := send(next); s.Whole || s.Added != 5 || s.Removed != 3 {
		t.Errorf("a directory 5 people more and 3 fewer went %+v, want the change", s)
	}
	if peer.puts != 1 || peer.patches != 1 || kept() != 1 {
		t.Errorf("%d sent whole, %d changes, %d directories kept; want 1, 1 and 1 (the one the peer holds)", peer.puts, peer.patches, kept())
	}

	// The peer restored from a backup: it holds a directory the sender no
	// longer keeps, so the next goes whole.
	if _, err := Receive(ctx, peer.db, Arrival{Peer: "county-b", Key: "k", At: time.Now()}, strings.NewReader(strings.Join(people[:10], "\n"))); err != nil {
		t.Fatal(err)
	}
	if s := send(append(next, randomHashes(r, 1)...)); !s.Whole {
		t.Errorf("to a peer holding a directory not kept: %+v, want whole", s)
	}
	peer.noChange = true
	if s := send(people); !s.Whole {
		t.Errorf("to a peer that takes no changes: %+v, want whole", s)
	}
}

// TestChangeRefused: a change made from another directory than the one
// held, or that does not give the one it names, or with a line that is
// not a change, is refused, and the directory held stays as it was.
func TestChangeRefused(t *testing.T) {
	ctx := context.Background()
	db := openStore(t, "peer")
	a := Arrival{Peer: "county-b", Key: "k", At: time.Now()}
	if _, err := Receive(ctx, db, a, strings.NewReader("aaaaaaaaaaaaaaaa\nbbbbbbbbbbbbbbbb\n")); err != nil {
		t.Fatal(err)
	}
	held := dirOf([]string{"aaaaaaaaaaaaaaaa", "bbbbbbbbbbbbbbbb"})
	after := dirOf([]string{"aaaaaaaaaaaaaaaa", "cccccccccccccccc"})
	for _, c := range []struct {
		name   string
		change Change
		body   string
		want   error
	}{
		{"another base", Change{Base: after.Digest, Digest: after.Digest}, "+cccccccccccccccc\n-bbbbbbbbbbbbbbbb\n", ErrStale},
		{"another result", Change{Base: held.Digest, Digest: held.Digest}, "+cccccccccccccccc\n-bbbbbbbbbbbbbbbb\n", ErrStale},
		{"a bad line", Change{Base: held.Digest, Digest: after.Digest}, "+cccccccccccccccc\nbbbbbbbbbbbbbbbb\n", ErrDirectory},
	} {
		_, err := ReceiveChange(ctx, db, a, c.change, strings.NewReader(c.body))
		if !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
		if got, _ := HeldOf(ctx, db, a.Peer); got.Digest != held.Digest || got.People != 2 {
			t.Errorf("%s: the peer's directory is now %+v, want it as it was", c.name, got)
		}
	}
	rc, err := ReceiveChange(ctx, db, a, Change{Base: held.Digest, Digest: after.Digest}, strings.NewReader("+cccccccccccccccc\n-bbbbbbbbbbbbbbbb\n"))
	if err != nil || rc.People != 2 || rc.Added != 1 || rc.Removed != 1 {
		t.Errorf("the change made from the directory held: %+v, %v", rc, err)
	}
	if got, _ := HeldOf(ctx, db, a.Peer); got.Digest != after.Digest {
		t.Errorf("after the change the peer holds %+v, want the directory of digest %s", got, after.Digest)
	}
}

// BenchmarkDirectoryChange: a directory of a million people sent whole,
// then a change of a thousand (500 in, 500 out), over loopback into a
// real store on each side; bytes/op is what went over the wire.
func BenchmarkDirectoryChange(b *testing.B) {
	ctx := context.Background()
	r := rand.New(rand.NewPCG(7, 8))
	people := randomHashes(r, 1_000_000)
	for _, kind := range []string{"whole", "change"} {
		b.Run(kind, func(b *testing.B) {
			dir := b.TempDir()
			sender, err := store.Open(ctx, filepath.Join(dir, "s.duckdb"), ingest.Migrations(), match.Migrations(), Migrations())
			if err != nil {
				b.Fatal(err)
			}
			defer sender.Close()
			pdb, err := store.Open(ctx, filepath.Join(dir, "p.duckdb"), ingest.Migrations(), match.Migrations(), Migrations())
			if err != nil {
				b.Fatal(err)
			}
			defer pdb.Close()
			srv := httptest.NewServer(&peerEndpoint{db: pdb})
			defer srv.Close()
			o := Offer{Peer: "county-a", URL: srv.URL, Key: "k"}
			cur := slices.Clone(people)
			if _, err := Send(ctx, sender, http.DefaultClient, o, dirOf(cur)); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for i := range b.N {
				b.StopTimer()
				cur = append(cur[500:], randomHashes(r, 500)...)
				d := dirOf(cur)
				if kind == "whole" {
					if _, err := pdb.Exec(`DELETE FROM forward_directories`); err != nil { // the peer holds nothing
						b.Fatal(err)
					}
				}
				b.StartTimer()
				s, err := Send(ctx, sender, http.DefaultClient, o, d)
				if err != nil {
					b.Fatal(err)
				}
				if i == 0 {
					b.SetBytes(int64(len(d.Body)))
					if s.Whole {
						b.ReportMetric(float64(len(d.Body)), "wire-bytes/op")
					} else {
						b.ReportMetric(float64(18*(s.Added+s.Removed)), "wire-bytes/op")
					}
				}
			}
		})
	}
}

// TestChangeGivesTheNewDirectory: on random pairs of directories, the
// change from the old applied to it gives the new, and counts its lines.
func TestChangeGivesTheNewDirectory(t *testing.T) {
	ctx := context.Background()
	db := openStore(t, "sender")
	r := rand.New(rand.NewPCG(9, 10))
	pool := randomHashes(r, 60)
	pick := func() []string {
		var out []string
		for _, h := range pool {
			if r.IntN(3) > 0 {
				out = append(out, h)
			}
		}
		return out[:r.IntN(len(out)+1)]
	}
	for range 300 {
		before, after := dirOf(pick()), dirOf(pick())
		if err := keepSent(ctx, db, before); err != nil {
			t.Fatal(err)
		}
		body, s, ok, err := change(ctx, db, before.Digest, after)
		if err != nil || !ok {
			t.Fatalf("change: %v, kept %v", err, ok)
		}
		held := map[string]bool{}
		for l := range strings.Lines(string(before.Body)) {
			held[strings.TrimSpace(l)] = true
		}
		added, removed := 0, 0
		for l := range strings.Lines(string(body)) {
			l = strings.TrimSpace(l)
			switch l[0] {
			case '+':
				added++
				held[l[1:]] = true
			case '-':
				removed++
				delete(held, l[1:])
			}
		}
		got := slices.Sorted(maps.Keys(held))
		if dirOf(got).Digest != after.Digest || s.Added != added || s.Removed != removed {
			t.Fatalf("from %q to %q the change %q gives %q (%+v)", before.Body, after.Body, body, got, s)
		}
	}
}

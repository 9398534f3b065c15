package forward

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"safetynet/store"
)

// TestHashIsTheSameInGoAndSQL: the receiver checks the sender's key with
// the Go hash and matches its records with the SQL one; they must agree.
func TestHashIsTheSameInGoAndSQL(t *testing.T) {
	db, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "h.duckdb"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 200 {
		key := fmt.Sprintf("key-%d-%x", i, r.Uint64())
		id := fmt.Sprintf("3301%02d19%06d%04d", r.IntN(99), r.IntN(1_000_000), r.IntN(10_000))
		if i%10 == 0 {
			id = id[:17] + "X"
		}
		var got string
		if err := db.QueryRow(`SELECT `+hashSQL("$1", "$2"), key, id).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if want := hashID(key, id); got != want || !isHash(got) {
			t.Fatalf("hash of %q with %q: SQL %q, Go %q", id, key, got, want)
		}
	}
}

// TestDirectoryLines: blank lines and a final newline are nothing; any
// other line that is not a hash refuses the directory, naming its line.
func TestDirectoryLines(t *testing.T) {
	got, err := readDirectory(strings.NewReader("0123456789abcdef\r\n\nfedcba9876543210"))
	if err != nil || len(got) != 2 {
		t.Errorf("two hashes: %q, %v", got, err)
	}
	for body, line := range map[string]string{
		"0123456789abcdef\n0123456789ABCDEF\n":  "line 2",
		"330101196003010011\n":                  "line 1",
		"0123456789abcdef\n\n0123456789abcde\n": "line 3",
	} {
		_, err := readDirectory(strings.NewReader(body))
		if !errors.Is(err, ErrDirectory) || !strings.Contains(err.Error(), line) {
			t.Errorf("%q: %v, want a refusal naming %s", body, err, line)
		}
	}
}

// TestDirectoryMetrics: each peer's directory shows in the metrics with
// its size and when it came; a directory sent again replaces the last.
func TestDirectoryMetrics(t *testing.T) {
	ctx := context.Background()
	db := openStore(t, "m")
	at := time.Date(2026, 12, 6, 8, 0, 0, 0, time.UTC)
	for _, d := range []struct {
		peer, body string
	}{{"county-b", "0123456789abcdef\n"}, {"county-c", "0123456789abcdef\nfedcba9876543210\n"}, {"county-b", "aaaaaaaaaaaaaaaa\nbbbbbbbbbbbbbbbb\ncccccccccccccccc\n"}} {
		if _, err := Receive(ctx, db, Arrival{Peer: d.peer, Key: "k", At: at}, strings.NewReader(d.body)); err != nil {
			t.Fatal(err)
		}
	}
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(Collectors(db)...)
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, f := range families {
		for _, m := range f.GetMetric() {
			got[f.GetName()+"/"+m.GetLabel()[0].GetValue()] = m.GetGauge().GetValue()
		}
	}
	want := map[string]float64{
		"safetynet_forward_directory_people/county-b":                     3,
		"safetynet_forward_directory_people/county-c":                     2,
		"safetynet_forward_directory_received_timestamp_seconds/county-b": float64(at.Unix()),
		"safetynet_forward_directory_received_timestamp_seconds/county-c": float64(at.Unix()),
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("metrics %v, want %v", got, want)
	}
	var rows int
	db.QueryRow(`SELECT count(*) FROM forward_directory`).Scan(&rows)
	if rows != 5 {
		t.Errorf("%d directory rows held, want 5 (county-b's second replaces its first)", rows)
	}
}

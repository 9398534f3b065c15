package forward

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

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

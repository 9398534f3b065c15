package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"testing/fstest"
)

// TestDamagedFileIsRefusedUntouched: a database file that is not DuckDB's,
// cut short or with its blocks overwritten is refused at Open with
// ErrDamaged, and not one byte of it changes.
func TestDamagedFileIsRefusedUntouched(t *testing.T) {
	ctx := context.Background()
	good := filepath.Join(t.TempDir(), "good.duckdb")
	set := MigrationSet{Component: "demo", FS: fstest.MapFS{
		"001_first.sql": {Data: []byte("CREATE TABLE things AS SELECT range AS n, 'x' || range AS s FROM range(200000)")},
	}}
	db, err := Open(ctx, good, set)
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	whole, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	noise := bytes.Repeat([]byte{0x5a, 0xa5, 0x13, 0x37}, 1<<12)
	damage := map[string][]byte{
		"not a database": noise,
		"cut short":      whole[:len(whole)/3],
		"header overwritten": func() []byte {
			b := bytes.Clone(whole)
			copy(b[4096:], noise[:8192])
			return b
		}(),
		"blocks overwritten": func() []byte {
			b := bytes.Clone(whole)
			for off := 3 * 4096; off+len(noise) < len(b); off += 2 * len(noise) {
				copy(b[off:], noise)
			}
			return b
		}(),
	}
	caught := 0 // blocks the check caught after Open had let them through
	for k := 0; 12288+k*262144+200 < len(whole); k++ {
		b := bytes.Clone(whole)
		copy(b[12288+k*262144+100:], noise[:64])
		damage[fmt.Sprintf("block %d overwritten", k)] = b
	}
	for name, content := range damage {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "store.duckdb")
			if err := os.WriteFile(path, content, 0o600); err != nil {
				t.Fatal(err)
			}
			db, err := Open(ctx, path, set)
			if err == nil {
				// Damage to a table's blocks shows only when they are read;
				// damage to a free block is no damage at all.
				var n, sum int64
				if _, err = db.Check(ctx); err == nil {
					db.QueryRow(`SELECT count(*), sum(n) FROM things`).Scan(&n, &sum)
				} else {
					caught++
				}
				db.Close()
				if err == nil && (n != 200000 || sum != 199999*200000/2) {
					t.Errorf("the check passed a file whose table reads %d rows summing to %d", n, sum)
				}
			}
			if err != nil && !errors.Is(err, ErrDamaged) {
				t.Errorf("not refused as damaged: %v", err)
			}
			after, _ := os.ReadFile(path)
			if !bytes.Equal(after, content) {
				t.Errorf("the damaged file changed (%d bytes, was %d)", len(after), len(content))
			}
		})
	}
	if caught == 0 {
		t.Error("no overwritten block opened and then failed the check: the test no longer reaches a table's blocks")
	}
}

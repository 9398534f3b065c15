package ingest

import (
	"os"
	"strings"
	"testing"
)

// The row hash changed from FNV-1a in Go to MD5 that SQL computes too;
// migration 009 hashes the stored rows again with rowHashSQL. Its text is
// made from the tables, and this test keeps the two the same.
func TestRowHashMigrationIsMadeFromTheTables(t *testing.T) {
	want := rowHashMigration()
	got, err := os.ReadFile("schema/009_md5_row_hash.sql")
	if os.Getenv("UPDATE_MIGRATION") != "" {
		if err := os.WriteFile("schema/009_md5_row_hash.sql", []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if err != nil || string(got) != want {
		t.Fatalf("schema/009_md5_row_hash.sql is not what the tables make (UPDATE_MIGRATION=1 go test -run %s ./ingest writes it):\n%s", t.Name(), want)
	}
}

func rowHashMigration() string {
	var b strings.Builder
	b.WriteString("-- The row hash is now the low half of an MD5 of the canonical values, which\n-- DuckDB computes as Go does, so the fast path can store rows in SQL.\n-- Made from the tables by TestRowHashMigrationIsMadeFromTheTables.\n")
	for _, t := range Tables {
		b.WriteString("UPDATE " + t.CanonTable() + " SET row_hash = " + rowHashSQL(t, func(c *Column) string { return c.Name }) + ";\n")
	}
	return b.String()
}

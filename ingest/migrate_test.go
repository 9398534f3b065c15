package ingest

import (
	"context"
	"path/filepath"
	"testing"
	"testing/fstest"

	"safetynet/store"
)

// A database made before row_hash became a number keeps its hashes: the
// same row sent again is still recognised as unchanged.
func TestRowHashMigration(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "old.duckdb")
	old := fstest.MapFS{}
	for _, name := range []string{"schema/001_canonical.sql", "schema/002_lineage_drift.sql"} {
		b, err := schemaFS.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		old[name] = &fstest.MapFile{Data: b}
	}
	db, err := store.Open(ctx, path, store.Migrations("ingest", old, "schema"))
	if err != nil {
		t.Fatal(err)
	}
	// What the earlier code stored: the hash as hex text.
	p := write(t, "m.csv", []byte(medinsCSV))
	if _, err := db.Exec(`INSERT INTO canon_medins (record_key, row_hash, batch_id, line, valid_from, record_id)
		VALUES ('S9', 'ffffffffffffff01', 1, 2, now(), 'S9')`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	db, err = store.Open(ctx, path, Migrations())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var h uint64
	if err := db.QueryRow(`SELECT row_hash FROM canon_medins WHERE record_key = 'S9'`).Scan(&h); err != nil || h != 0xffffffffffffff01 {
		t.Fatalf("migrated hash %x, %v", h, err)
	}
	res, err := IngestFile(ctx, db, "medins", p, Options{})
	if err != nil || res.New != 3 {
		t.Fatalf("%+v %v", res, err)
	}
	res, err = IngestFile(ctx, db, "medins", write(t, "again.csv", []byte(medinsCSV+"\n")), Options{})
	if err != nil || res.Unchanged != 3 {
		t.Fatalf("after the migration the same rows are not unchanged: %+v %v", res, err)
	}
}

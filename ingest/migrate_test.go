package ingest

import (
	"context"
	"path/filepath"
	"testing"
	"testing/fstest"

	"safetynet/store"
)

// oldSchema is ingest's migrations up to and including the numbered one.
func oldSchema(t *testing.T, upTo int) store.MigrationSet {
	t.Helper()
	old := fstest.MapFS{}
	entries, err := schemaFS.ReadDir("schema")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries[:upTo] {
		b, err := schemaFS.ReadFile("schema/" + e.Name())
		if err != nil {
			t.Fatal(err)
		}
		old["schema/"+e.Name()] = &fstest.MapFile{Data: b}
	}
	return store.Migrations("ingest", old, "schema")
}

// A database made before row_hash became a number (003), and before it
// became an MD5 that SQL computes too (009), keeps recognising its rows:
// the same row sent again is unchanged.
func TestRowHashMigration(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "old.duckdb")
	db, err := store.Open(ctx, path, oldSchema(t, 2))
	if err != nil {
		t.Fatal(err)
	}
	// What the earliest code stored: the hash as hex text.
	if _, err := db.Exec(`INSERT INTO canon_medins (record_key, row_hash, batch_id, line, valid_from, record_id)
		VALUES ('S9', 'ffffffffffffff01', 1, 2, now(), 'S9')`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if db, err = store.Open(ctx, path, oldSchema(t, 8)); err != nil {
		t.Fatal(err)
	}
	var h uint64
	if err := db.QueryRow(`SELECT row_hash FROM canon_medins WHERE record_key = 'S9'`).Scan(&h); err != nil || h != 0xffffffffffffff01 {
		t.Fatalf("migrated hash %x, %v", h, err)
	}
	// The rows the code before 009 stored: the values of today's, and a
	// hash of FNV-1a, which SQL cannot compute.
	refPath := filepath.Join(t.TempDir(), "ref.duckdb")
	ref, err := store.Open(ctx, refPath, Migrations())
	if err != nil {
		t.Fatal(err)
	}
	if res, err := IngestFile(ctx, ref, "medins", write(t, "m.csv", []byte(medinsCSV)), Options{}); err != nil || res.New != 3 {
		t.Fatalf("%+v %v", res, err)
	}
	ref.Close()
	if _, err := db.Exec(`ATTACH '` + refPath + `' AS ref (READ_ONLY)`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`INSERT INTO canon_medins BY NAME SELECT * REPLACE (hash(record_key) AS row_hash, 0 AS batch_id) FROM ref.canon_medins`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`DETACH ref`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if db, err = store.Open(ctx, path, Migrations()); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	res, err := IngestFile(ctx, db, "medins", write(t, "again.csv", []byte(medinsCSV+"\n")), Options{})
	if err != nil || res.Unchanged != 3 {
		t.Fatalf("after the migrations the same rows are not unchanged: %+v %v", res, err)
	}
}

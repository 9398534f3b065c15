package ingest

import (
	"context"
	"database/sql"
	"fmt"

	"safetynet/store"
)

// Field is one column of a stored record.
type Field struct {
	Name  string
	Value string
}

// Record is a stored department record with where it came from.
type Record struct {
	Source, RecordID string
	File             string
	Line             int64
	Fields           []Field
}

// FindRecord returns the current version of a record of a source's table,
// by record_id (or record_key), or sql.ErrNoRows.
func FindRecord(ctx context.Context, db *store.DB, table, recordID string) (*Record, error) {
	var t *Table
	for _, x := range Tables {
		if x.Name == table {
			t = x
		}
	}
	if t == nil {
		return nil, fmt.Errorf("ingest: no table %q", table)
	}
	cols := "b.file_name, r.line"
	for _, c := range t.Columns {
		cols += fmt.Sprintf(", CAST(r.%q AS VARCHAR)", c.Name)
	}
	where := "r.record_key = ?"
	if t.Column("record_id") != nil {
		where += " OR r.record_id = ?"
	}
	q := fmt.Sprintf(`SELECT %s FROM %s r JOIN ingest_batches b USING (batch_id) WHERE %s LIMIT 1`, cols, t.Name, where)
	rec := &Record{Source: table, RecordID: recordID}
	vals := make([]sql.NullString, len(t.Columns))
	dest := []any{&rec.File, &rec.Line}
	for i := range vals {
		dest = append(dest, &vals[i])
	}
	args := []any{recordID}
	if t.Column("record_id") != nil {
		args = append(args, recordID)
	}
	if err := db.QueryRowContext(ctx, q, args...).Scan(dest...); err != nil {
		return nil, err
	}
	for i, c := range t.Columns {
		if vals[i].Valid {
			rec.Fields = append(rec.Fields, Field{Name: c.Name, Value: vals[i].String})
		}
	}
	return rec, nil
}

//go:build !duckdb_arrow

package analytics

import (
	"context"
	"database/sql"

	"github.com/apache/arrow-go/v18/arrow/array"
)

// ArrowNative says whether records come from DuckDB's own Arrow
// interface (built with -tags duckdb_arrow, as the Makefile builds) or
// are assembled from rows, as here.
const ArrowNative = false

func records(ctx context.Context, conn *sql.Conn, text string, fn func(array.RecordReader) error) error {
	rows, err := conn.QueryContext(ctx, text)
	if err != nil {
		return err
	}
	defer rows.Close()
	rr, err := newRowRecords(rows)
	if err != nil {
		return err
	}
	defer rr.Release()
	if err := fn(rr); err != nil {
		return err
	}
	return rr.Err()
}

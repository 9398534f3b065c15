//go:build duckdb_arrow

package analytics

import (
	"context"
	"database/sql"
	"database/sql/driver"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/duckdb/duckdb-go/v2"
)

// ArrowNative says whether records come from DuckDB's own Arrow
// interface (built with -tags duckdb_arrow, as the Makefile builds) or
// are assembled from rows.
const ArrowNative = true

func records(ctx context.Context, conn *sql.Conn, text string, fn func(array.RecordReader) error) error {
	return conn.Raw(func(dc any) error {
		a, err := duckdb.NewArrowFromConn(dc.(driver.Conn))
		if err != nil {
			return err
		}
		rr, err := a.QueryContext(ctx, text)
		if err != nil {
			return err
		}
		defer rr.Release()
		if err := fn(rr); err != nil {
			return err
		}
		return rr.Err()
	})
}

package ingest

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"strings"

	"safetynet/store"
)

// parquetSource reads a Parquet file with DuckDB's own reader, every column
// as text, so its values go through the same parsing and quarantine as any
// other file's. Line numbers count the header as line 1, as in a sheet.
type parquetSource struct {
	rows   *sql.Rows
	cols   []string
	vals   []sql.NullString
	ptrs   []any
	line   int
	header bool
	path   string // for the fast path, which reads the file again
}

func newParquetSource(ctx context.Context, db *store.DB, path string) (*parquetSource, error) {
	rows, err := db.QueryContext(ctx, `SELECT COLUMNS(*)::VARCHAR FROM read_parquet(`+store.Quote(path)+`)`)
	if err != nil {
		msg := err.Error()
		if i := strings.Index(msg, "Error: "); i >= 0 {
			msg = msg[i+len("Error: "):]
		}
		return nil, fmt.Errorf("not a readable Parquet file: %s", msg)
	}
	cols, err := rows.Columns()
	if err != nil {
		rows.Close()
		return nil, err
	}
	s := &parquetSource{rows: rows, cols: cols, vals: make([]sql.NullString, len(cols)), ptrs: make([]any, len(cols)), path: path}
	for i := range s.vals {
		s.ptrs[i] = &s.vals[i]
	}
	return s, nil
}

func (s *parquetSource) Line() int { return s.line }

func (s *parquetSource) Next() ([]string, error) {
	s.line++
	if !s.header {
		s.header = true
		return append([]string(nil), s.cols...), nil
	}
	if !s.rows.Next() {
		if err := s.rows.Err(); err != nil {
			return nil, fmt.Errorf("row %d: %v", s.line, err)
		}
		return nil, io.EOF
	}
	if err := s.rows.Scan(s.ptrs...); err != nil {
		return nil, &rowError{line: s.line, reason: err.Error()}
	}
	out := make([]string, len(s.vals))
	for i, v := range s.vals {
		out[i] = v.String
	}
	return out, nil
}

func (s *parquetSource) Close() error { return s.rows.Close() }

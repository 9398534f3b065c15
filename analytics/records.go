package analytics

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// batchRows is how many rows one Arrow record batch holds.
const batchRows = 64 * 1024

// Records runs one SELECT and hands its result to fn as Arrow record
// batches, within the time limit and with no row limit: for Arrow IPC,
// Parquet and Flight SQL. The reader is valid during fn only.
func (q *Querier) Records(ctx context.Context, text string, fn func(array.RecordReader) error) error {
	if err := q.selectOnly(ctx, text); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, q.limits.Timeout)
	defer cancel()
	conn, err := q.db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("analytics: %w", err)
	}
	defer conn.Close()
	if err := records(ctx, conn, text, fn); err != nil {
		return q.explain(ctx, err)
	}
	return nil
}

// Schema is the Arrow schema a SELECT would return, without running it.
func (q *Querier) Schema(ctx context.Context, text string) (*arrow.Schema, error) {
	var schema *arrow.Schema
	err := q.Records(ctx, "SELECT * FROM ("+text+"\n) LIMIT 0", func(rr array.RecordReader) error {
		schema = rr.Schema()
		return nil
	})
	return schema, err
}

// rowRecords builds record batches from database/sql rows: the path when
// the DuckDB driver is built without its Arrow interface.
type rowRecords struct {
	rows   *sql.Rows
	schema *arrow.Schema
	kinds  []string
	cur    arrow.RecordBatch
	err    error
	refs   int64
}

func newRowRecords(rows *sql.Rows) (*rowRecords, error) {
	types, err := rows.ColumnTypes()
	if err != nil {
		return nil, err
	}
	fields := make([]arrow.Field, len(types))
	kinds := make([]string, len(types))
	for i, t := range types {
		kinds[i] = strings.ToUpper(t.DatabaseTypeName())
		fields[i] = arrow.Field{Name: t.Name(), Type: arrowType(kinds[i]), Nullable: true}
	}
	return &rowRecords{rows: rows, schema: arrow.NewSchema(fields, nil), kinds: kinds, refs: 1}, nil
}

// arrowType maps a DuckDB column type to Arrow; what has no plain
// counterpart travels as text.
func arrowType(kind string) arrow.DataType {
	switch {
	case kind == "BIGINT" || kind == "INTEGER" || kind == "SMALLINT" || kind == "TINYINT" || kind == "HUGEINT" || kind == "UBIGINT" || kind == "UINTEGER":
		return arrow.PrimitiveTypes.Int64
	case kind == "DOUBLE" || kind == "FLOAT" || strings.HasPrefix(kind, "DECIMAL"):
		return arrow.PrimitiveTypes.Float64
	case kind == "BOOLEAN":
		return arrow.FixedWidthTypes.Boolean
	case kind == "DATE":
		return arrow.FixedWidthTypes.Date32
	case strings.HasPrefix(kind, "TIMESTAMP"):
		return &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}
	}
	return arrow.BinaryTypes.String
}

func (r *rowRecords) Schema() *arrow.Schema          { return r.schema }
func (r *rowRecords) Record() arrow.RecordBatch      { return r.cur }
func (r *rowRecords) RecordBatch() arrow.RecordBatch { return r.cur }
func (r *rowRecords) Err() error                     { return r.err }
func (r *rowRecords) Retain()                        { r.refs++ }
func (r *rowRecords) Release() {
	if r.refs--; r.refs == 0 && r.cur != nil {
		r.cur.Release()
		r.cur = nil
	}
}

func (r *rowRecords) Next() bool {
	if r.cur != nil {
		r.cur.Release()
		r.cur = nil
	}
	if r.err != nil {
		return false
	}
	b := array.NewRecordBuilder(memory.DefaultAllocator, r.schema)
	defer b.Release()
	vals := make([]any, len(r.kinds))
	ptrs := make([]any, len(vals))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	n := 0
	for n < batchRows && r.rows.Next() {
		if err := r.rows.Scan(ptrs...); err != nil {
			r.err = err
			return false
		}
		for i, v := range vals {
			appendValue(b.Field(i), v)
		}
		n++
	}
	if err := r.rows.Err(); err != nil {
		r.err = err
		return false
	}
	if n == 0 {
		return false
	}
	r.cur = b.NewRecordBatch()
	return true
}

func appendValue(f array.Builder, v any) {
	if v == nil {
		f.AppendNull()
		return
	}
	switch b := f.(type) {
	case *array.Int64Builder:
		switch x := v.(type) {
		case int64:
			b.Append(x)
		case int32:
			b.Append(int64(x))
		default:
			var n int64
			fmt.Sscan(fmt.Sprint(v), &n)
			b.Append(n)
		}
	case *array.Float64Builder:
		switch x := v.(type) {
		case float64:
			b.Append(x)
		case float32:
			b.Append(float64(x))
		default:
			var n float64
			fmt.Sscan(cellText(v), &n)
			b.Append(n)
		}
	case *array.BooleanBuilder:
		x, _ := v.(bool)
		b.Append(x)
	case *array.Date32Builder:
		t, _ := v.(time.Time)
		b.Append(arrow.Date32FromTime(t))
	case *array.TimestampBuilder:
		t, _ := v.(time.Time)
		b.Append(arrow.Timestamp(t.UnixMicro()))
	case *array.StringBuilder:
		b.Append(cellText(v))
	default:
		f.AppendNull()
	}
}

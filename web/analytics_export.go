package web

import (
	"fmt"
	"io"
	"net/http"
	"strconv"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/xuri/excelize/v2"

	"safetynet/analytics"
	"safetynet/spreadsheet"
)

// sheetRows is how many data rows one XLSX sheet holds: Excel's
// 1,048,576 rows less the header. A larger export goes on in the next
// sheet, and its first sheet says so.
var sheetRows = 1_048_575

// exportFormats are the row exports' formats and their media types.
var exportFormats = map[string]string{
	"csv":     "text/csv; charset=utf-8",
	"xlsx":    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
	"parquet": "application/vnd.apache.parquet",
	"arrow":   "application/vnd.apache.arrow.stream",
}

// writeTable writes a small table (counts) as CSV or XLSX.
func writeTable(w http.ResponseWriter, format, name string, header []string, rows [][]string) error {
	w.Header().Set("Content-Type", exportFormats[format])
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s.%s"`, name, format))
	if format == "csv" {
		cw := spreadsheet.NewWriter(w)
		cw.Write(header)
		cw.WriteAll(rows)
		return cw.Error()
	}
	return streamXLSX(w, header, func(yield func([]string) error) error {
		for _, r := range rows {
			if err := yield(r); err != nil {
				return err
			}
		}
		return nil
	}, nil)
}

// streamXLSX writes rows with excelize's stream writer, a new sheet every
// sheetRows rows; onSplit learns how many sheets it took.
func streamXLSX(w io.Writer, header []string, rows func(yield func([]string) error) error, notes []string) error {
	f := excelize.NewFile()
	defer f.Close()
	sheet := 1
	name := func(i int) string { return "Sheet" + strconv.Itoa(i) }
	sw, err := f.NewStreamWriter(name(1))
	if err != nil {
		return err
	}
	head := make([]any, len(header))
	for i, h := range header {
		head[i] = h
	}
	sw.SetRow("A1", head)
	n, total := 0, 0
	err = rows(func(r []string) error {
		if n == sheetRows {
			if err := sw.Flush(); err != nil {
				return err
			}
			sheet++
			if _, err := f.NewSheet(name(sheet)); err != nil {
				return err
			}
			if sw, err = f.NewStreamWriter(name(sheet)); err != nil {
				return err
			}
			sw.SetRow("A1", head)
			n = 0
		}
		cells := make([]any, len(r))
		for i, v := range r {
			cells[i] = v
		}
		n++
		total++
		cell, _ := excelize.CoordinatesToCellName(1, n+1)
		return sw.SetRow(cell, cells)
	})
	if err != nil {
		return err
	}
	if err := sw.Flush(); err != nil {
		return err
	}
	if sheet > 1 {
		notes = append(notes, fmt.Sprintf("%d rows in %d sheets of at most %d rows (Excel's limit): Sheet1 to Sheet%d", total, sheet, sheetRows, sheet))
	}
	if len(notes) > 0 {
		idx, err := f.NewSheet("README")
		if err != nil {
			return err
		}
		for i, note := range notes {
			f.SetCellValue("README", "A"+strconv.Itoa(i+1), note)
		}
		f.SetActiveSheet(idx)
	}
	return f.Write(w)
}

// exportRows streams a record-level query in one of the row formats and
// returns how many rows went out.
func exportRows(w http.ResponseWriter, r *http.Request, q *analytics.Querier, text, format string) (int64, error) {
	w.Header().Set("Content-Type", exportFormats[format])
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="query.%s"`, format))
	var n int64
	err := q.Records(r.Context(), text, func(rr array.RecordReader) error {
		switch format {
		case "arrow":
			iw := ipc.NewWriter(w, ipc.WithSchema(rr.Schema()))
			for rr.Next() {
				n += rr.RecordBatch().NumRows()
				if err := iw.Write(rr.RecordBatch()); err != nil {
					return err
				}
			}
			return iw.Close()
		case "parquet":
			props := parquet.NewWriterProperties(parquet.WithCompression(compress.Codecs.Zstd))
			pw, err := pqarrow.NewFileWriter(rr.Schema(), w, props, pqarrow.DefaultWriterProps())
			if err != nil {
				return err
			}
			for rr.Next() {
				n += rr.RecordBatch().NumRows()
				if err := pw.WriteBuffered(rr.RecordBatch()); err != nil {
					return err
				}
			}
			return pw.Close()
		case "csv":
			cw := spreadsheet.NewWriter(w)
			cw.Write(fieldNames(rr.Schema()))
			err := eachRow(rr, func(row []string) error { n++; return cw.Write(row) })
			cw.Flush()
			return err
		}
		return streamXLSX(w, fieldNames(rr.Schema()), func(yield func([]string) error) error {
			return eachRow(rr, func(row []string) error { n++; return yield(row) })
		}, nil)
	})
	return n, err
}

func fieldNames(s *arrow.Schema) []string {
	out := make([]string, s.NumFields())
	for i, f := range s.Fields() {
		out[i] = f.Name
	}
	return out
}

// eachRow hands every row of the reader to fn as text.
func eachRow(rr array.RecordReader, fn func([]string) error) error {
	for rr.Next() {
		rec := rr.RecordBatch()
		cols := rec.Columns()
		for i := 0; i < int(rec.NumRows()); i++ {
			row := make([]string, len(cols))
			for j, c := range cols {
				if !c.IsNull(i) {
					row[j] = c.ValueStr(i)
				}
			}
			if err := fn(row); err != nil {
				return err
			}
		}
	}
	return nil
}

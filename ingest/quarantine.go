package ingest

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"

	"safetynet/store"
)

// QuarantineFilter selects quarantined rows. Zero fields select all;
// released rows (their file was sent again) only with Released.
type QuarantineFilter struct {
	Source   string
	Batch    int64
	File     string // the file's name as the department sent it
	Released bool
	Limit    int
}

// QuarantinedFile is one delivery with rows in quarantine.
type QuarantinedFile struct {
	Batch      int64
	Source     string
	File       string
	At         time.Time
	Rows       int // rows not stored
	Kept       int // values of stored rows that could not be read
	Released   int
	TopReasons []string // the commonest reasons, with counts
}

// QuarantinedRow is one row that could not be stored, and why.
type QuarantinedRow struct {
	Batch  int64
	Source string
	File   string
	Sheet  string
	Line   int64
	Col    string
	Raw    string
	RawRow string
	Reason string
	// Kept: the row was stored with this value unknown (or kept as sent,
	// with a warning); otherwise the row is in quarantine.
	Kept bool
	// ReleasedBy is the batch of the fixed file that settled the row, or 0.
	ReleasedBy int64
}

func (f QuarantineFilter) where() (string, []any) {
	var cond []string
	var args []any
	if f.Source != "" {
		cond = append(cond, "q.source = ?")
		args = append(args, f.Source)
	}
	if f.Batch > 0 {
		cond = append(cond, "q.batch_id = ?")
		args = append(args, f.Batch)
	}
	if f.File != "" {
		cond = append(cond, "parse_filename(q.file_name) = ?")
		args = append(args, f.File)
	}
	if !f.Released {
		cond = append(cond, "q.released_by IS NULL")
	}
	if len(cond) == 0 {
		return "", nil
	}
	return " WHERE " + strings.Join(cond, " AND "), args
}

// QuarantinedFiles lists the deliveries with quarantined rows, newest first.
func QuarantinedFiles(ctx context.Context, db *store.DB, f QuarantineFilter) ([]QuarantinedFile, error) {
	where, args := f.where()
	rows, err := db.QueryContext(ctx, `SELECT q.batch_id, q.source, parse_filename(q.file_name), b.finished_at,
		count(*) FILTER (NOT coalesce(q.kept, false)), count(*) FILTER (q.kept), count(q.released_by)
		FROM ingest_quarantine q JOIN ingest_batches b USING (batch_id)`+where+` GROUP BY ALL ORDER BY q.batch_id DESC`, args...)
	if err != nil {
		return nil, fmt.Errorf("ingest: list quarantine: %w", err)
	}
	var out []QuarantinedFile
	at := map[int64]int{}
	for rows.Next() {
		var q QuarantinedFile
		if err := rows.Scan(&q.Batch, &q.Source, &q.File, &q.At, &q.Rows, &q.Kept, &q.Released); err != nil {
			rows.Close()
			return nil, err
		}
		at[q.Batch] = len(out)
		out = append(out, q)
	}
	rows.Close()
	// The commonest reasons per delivery, the value each quotes, its digit
	// count and line folded, so that alike reasons count together and the
	// advice in them ("write it as 1234.50") stays readable.
	rows, err = db.QueryContext(ctx, `SELECT q.batch_id,
		regexp_replace(regexp_replace(regexp_replace(q.reason, '"[^"]*"', '"…"', 'g'), '[0-9]+ digits', 'N digits', 'g'), 'line [0-9]+', 'line N', 'g') AS kind,
		count(*) AS n
		FROM ingest_quarantine q`+where+` GROUP BY ALL ORDER BY n DESC, kind`, args...)
	if err != nil {
		return nil, fmt.Errorf("ingest: list quarantine: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var batch int64
		var kind string
		var n int
		if err := rows.Scan(&batch, &kind, &n); err != nil {
			return nil, err
		}
		if i, ok := at[batch]; ok && len(out[i].TopReasons) < 3 {
			out[i].TopReasons = append(out[i].TopReasons, fmt.Sprintf("%d× %s", n, kind))
		}
	}
	return out, rows.Err()
}

// QuarantinedRows returns the rows the filter selects, in file order.
func QuarantinedRows(ctx context.Context, db *store.DB, f QuarantineFilter) ([]QuarantinedRow, error) {
	where, args := f.where()
	q := `SELECT batch_id, source, parse_filename(file_name), coalesce(sheet, ''), line, coalesce(col, ''), coalesce(raw_value, ''),
		coalesce(raw_row, ''), reason, coalesce(kept, false), coalesce(released_by, 0) FROM ingest_quarantine q` + where + ` ORDER BY batch_id, sheet, line, col`
	if f.Limit > 0 {
		q += fmt.Sprintf(" LIMIT %d", f.Limit)
	}
	rows, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("ingest: read quarantine: %w", err)
	}
	defer rows.Close()
	var out []QuarantinedRow
	for rows.Next() {
		var r QuarantinedRow
		if err := rows.Scan(&r.Batch, &r.Source, &r.File, &r.Sheet, &r.Line, &r.Col, &r.Raw, &r.RawRow, &r.Reason, &r.Kept, &r.ReleasedBy); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// quarantineHeader is the export's header, in Chinese for the department
// that fixes the rows.
var quarantineHeader = []any{"文件 file", "工作表 sheet", "行号 line", "列 column", "原值 value", "问题 reason", "处理 outcome", "原始行 row as sent", "批次 batch"}

// Outcome says what became of a listed row: not stored, or stored with the value unknown.
func (r QuarantinedRow) Outcome() string {
	if r.Kept {
		return "行已入库，此值未知 row stored, value unknown"
	}
	return "行未入库 row not stored"
}

// WriteQuarantineXLSX writes rows as a workbook a department can fix its
// file from: where each row was, which value, why, and the row as sent.
func WriteQuarantineXLSX(w io.Writer, rows []QuarantinedRow) error {
	f := excelize.NewFile()
	defer f.Close()
	const sheet = "待修正"
	f.SetSheetName(f.GetSheetName(0), sheet)
	sw, err := f.NewStreamWriter(sheet)
	if err != nil {
		return err
	}
	sw.SetColWidth(1, 1, 28)
	sw.SetColWidth(5, 5, 24)
	sw.SetColWidth(6, 6, 60)
	sw.SetColWidth(7, 7, 24)
	sw.SetColWidth(8, 8, 80)
	if err := sw.SetRow("A1", quarantineHeader); err != nil {
		return err
	}
	for i, r := range rows {
		cell, _ := excelize.CoordinatesToCellName(1, i+2)
		// Values are written as text: an ID must not become a number.
		if err := sw.SetRow(cell, []any{r.File, r.Sheet, r.Line, r.Col, r.Raw, r.Reason, r.Outcome(), r.RawRow, r.Batch}); err != nil {
			return err
		}
	}
	if err := sw.Flush(); err != nil {
		return err
	}
	return f.Write(w)
}

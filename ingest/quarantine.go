package ingest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"

	"safetynet/i18n"
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
	TopReasons []string     // the commonest reasons, with counts, in English
	Kinds      []ReasonKind // the commonest problems, to say in any language
}

// ReasonKind is a kind of problem and how many rows of a delivery have it
// first: a column and the catalogue message, its values left out.
type ReasonKind struct {
	Col, Key string
	N        int
}

// In says the kind in language l: the column's label and the message,
// the values it would quote elided.
func (k ReasonKind) In(l i18n.Lang, label func(col string) string) string {
	return fmt.Sprintf("%d× %s%s%s", k.N, label(k.Col), l.T("col_sep"), l.Elided(k.Key))
}

// QuarantinedRow is one row that could not be stored, and why.
type QuarantinedRow struct {
	Batch    int64
	Source   string
	File     string
	Sheet    string
	Line     int64
	Col      string
	Raw      string
	RawRow   string
	Reason   string        // in English
	Problems i18n.Problems // the same, field by field, to say in any language; nil for rows stored before
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
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return out, quarantineKinds(ctx, db, where, args, out, at)
}

// quarantineKinds adds each delivery's commonest kinds of problem.
func quarantineKinds(ctx context.Context, db *store.DB, where string, args []any, out []QuarantinedFile, at map[int64]int) error {
	if where == "" {
		where = " WHERE true"
	}
	rows, err := db.QueryContext(ctx, `SELECT q.batch_id, json_extract_string(q.problems, '$[0].col') AS col,
		json_extract_string(q.problems, '$[0].msg.key') AS key, count(*) AS n
		FROM ingest_quarantine q`+where+` AND q.problems IS NOT NULL GROUP BY ALL ORDER BY n DESC, col, key`, args...)
	if err != nil {
		return fmt.Errorf("ingest: kinds of quarantine: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var batch int64
		var k ReasonKind
		if err := rows.Scan(&batch, &k.Col, &k.Key, &k.N); err != nil {
			return err
		}
		if i, ok := at[batch]; ok && len(out[i].Kinds) < 3 {
			out[i].Kinds = append(out[i].Kinds, k)
		}
	}
	return rows.Err()
}

// QuarantinedRows returns the rows the filter selects, in file order.
func QuarantinedRows(ctx context.Context, db *store.DB, f QuarantineFilter) ([]QuarantinedRow, error) {
	where, args := f.where()
	q := `SELECT batch_id, source, parse_filename(file_name), coalesce(sheet, ''), line, coalesce(col, ''), coalesce(raw_value, ''),
		coalesce(raw_row, ''), reason, coalesce(kept, false), coalesce(released_by, 0), coalesce(problems, 'null') FROM ingest_quarantine q` + where + ` ORDER BY batch_id, sheet, line, col`
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
		var problems string
		if err := rows.Scan(&r.Batch, &r.Source, &r.File, &r.Sheet, &r.Line, &r.Col, &r.Raw, &r.RawRow, &r.Reason, &r.Kept, &r.ReleasedBy, &problems); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(problems), &r.Problems); err != nil {
			return nil, fmt.Errorf("ingest: problems of batch %d line %d: %w", r.Batch, r.Line, err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// quarantineHeader are the export's column headers, as catalogue keys.
var quarantineHeader = []string{"qx.file", "qx.sheet", "qx.line", "qx.column", "qx.value", "qx.reason", "qx.outcome", "qx.row", "qx.batch"}

// Outcome says what became of a listed row, in language l: not stored,
// or stored with the value unknown.
func (r QuarantinedRow) Outcome(l i18n.Lang) string {
	if r.Kept {
		return l.T("qx.kept")
	}
	return l.T("qx.not_stored")
}

// Why is what is wrong with the row in language l (in English for a row
// stored before problems were kept field by field).
func (r QuarantinedRow) Why(l i18n.Lang) string {
	if len(r.Problems) == 0 {
		return r.Reason
	}
	return r.Problems.In(l, func(col string) string { return ColumnLabel(l, r.Source, col) })
}

// ColumnLabel is a column's name in language l: the catalogue's word for
// it in this source's tables, else its own name.
func ColumnLabel(l i18n.Lang, table, col string) string {
	for _, t := range append([]string{table}, tableNames(table)...) {
		if k := "f." + t + "." + col; l.Has(k) {
			return l.T(k)
		}
	}
	if k := "f." + col; l.Has(k) {
		return l.T(k)
	}
	return col
}

// tableNames are the tables that arrive in a source's inbox.
func tableNames(source string) []string {
	var out []string
	for _, t := range TablesOf(source) {
		out = append(out, t.Name)
	}
	return out
}

// WriteQuarantineXLSX writes rows as a workbook a department can fix its
// file from, in language l: where each row was, which value, why, and
// the row as sent.
func WriteQuarantineXLSX(w io.Writer, rows []QuarantinedRow, l i18n.Lang) error {
	f := excelize.NewFile()
	defer f.Close()
	sheet := l.T("qx.sheet_name")
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
	header := make([]any, len(quarantineHeader))
	for i, k := range quarantineHeader {
		header[i] = l.T(k)
	}
	if err := sw.SetRow("A1", header); err != nil {
		return err
	}
	for i, r := range rows {
		cell, _ := excelize.CoordinatesToCellName(1, i+2)
		// Values are written as text: an ID must not become a number.
		if err := sw.SetRow(cell, []any{r.File, r.Sheet, r.Line, ColumnLabel(l, r.Source, r.Col), r.Raw, r.Why(l), r.Outcome(l), r.RawRow, r.Batch}); err != nil {
			return err
		}
	}
	if err := sw.Flush(); err != nil {
		return err
	}
	return f.Write(w)
}

package ingest

import (
	"fmt"
	"io"
	"log/slog"
	"strings"

	"safetynet/store"
)

// Parquet on the fast path. DuckDB reads the file in parallel, every
// column as text, as the Go reader does (parquetSource); whether a row is
// plain, which Go decides for a text file's line (plainLine), SQL decides
// here, from the same data: the characters tidy would change
// (untidyASCII, untidyRanges), the empty marks and the totals words. The
// rows it leaves, Go reads from a temporary table of them alone.

// parquetFile is a Parquet file on the fast path.
type parquetFile struct {
	src      *parquetSource
	cells    string // the file's rows as (n, c), below the header
	slowRows bool   // _slow_rows is made
}

// input reads the file as rows numbered as the Go reader numbers them
// (the header is line 1). A file DuckDB cannot number (a column called
// file_row_number, say) is left to Go, which says what is wrong with it.
func (f *parquetFile) input(l *loader, headerLine, _ int) (fastInput, bool, error) {
	casts := make([]string, len(f.src.cols))
	vals := make([]string, len(f.src.cols))
	for i, c := range f.src.cols {
		casts[i] = fmt.Sprintf("CAST(%s AS VARCHAR) AS v%d", store.Ident(c), i)
		vals[i] = fmt.Sprintf("v%d", i)
	}
	texts := fmt.Sprintf(`SELECT file_row_number + %d AS n, %s FROM read_parquet(%s, file_row_number = true)`,
		headerLine+1, strings.Join(casts, ", "), store.Quote(f.src.path))
	row := "[" + strings.Join(vals, ", ") + "]"
	f.cells = fmt.Sprintf(`SELECT n, %s AS c FROM (%s)`, row, texts)
	var rows int
	if err := l.conn.QueryRowContext(l.ctx, `SELECT count(*) FROM (`+texts+`)`).Scan(&rows); err != nil {
		slog.Warn("ingest: the fast path cannot read the Parquet file; reading in Go", "file", l.file, "err", err)
		return fastInput{}, false, nil
	}
	if rows == 0 {
		return fastInput{}, false, nil
	}
	return fastInput{cells: fmt.Sprintf(`SELECT n, %s AS plain, %s AS c FROM (%s)`, plainCellsSQL(vals), row, texts),
		first: headerLine + 1, last: headerLine + rows, rows: rows, odd: -1}, true, nil
}

// left reads the page of rows from _slow_rows, the rows SQL left, which
// the first page makes: one more read of the file, whatever the pages.
func (f *parquetFile) left(l *loader, numbers []int64) (rowSource, error) {
	if !f.slowRows {
		q := `CREATE OR REPLACE TEMP TABLE _slow_rows AS SELECT r.n, r.c FROM (` + f.cells + `) r SEMI JOIN _slow s ON s.n = r.n`
		if _, err := l.conn.ExecContext(l.ctx, q); err != nil {
			return nil, err
		}
		f.slowRows = true
	}
	rows, err := l.conn.QueryContext(l.ctx, `SELECT n, c FROM _slow_rows WHERE n BETWEEN ? AND ? ORDER BY n`, numbers[0], numbers[len(numbers)-1])
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	page := &cellRows{}
	for rows.Next() {
		var n int
		var c []any
		if err := rows.Scan(&n, &c); err != nil {
			return nil, err
		}
		cells := make([]string, len(c))
		for i, v := range c {
			if v != nil {
				cells[i] = v.(string)
			}
		}
		page.lines = append(page.lines, n)
		page.cells = append(page.cells, cells)
	}
	return page, rows.Err()
}

func (f *parquetFile) close(l *loader) {
	if f.slowRows {
		l.conn.ExecContext(l.ctx, `DROP TABLE IF EXISTS _slow_rows`)
	}
}

// cellRows is a page of rows already split into cells, with their numbers.
type cellRows struct {
	lines []int
	cells [][]string
	next  int
}

func (p *cellRows) Line() int { return p.lines[p.next-1] }

func (p *cellRows) Next() ([]string, error) {
	if p.next == len(p.cells) {
		return nil, io.EOF
	}
	p.next++
	return p.cells[p.next-1], nil
}

// plainCellsSQL is plainLine for a row of cells (texts or NULL) in SQL:
// no cell with a character tidy would change, a space at either end or
// an empty mark (one regular expression a cell); something in it; and
// not a totals row: the first cell that is not empty, without the totals
// noise, is no totals word. Where that cell is nothing but noise SQL
// leaves the row to Go, which passes over it (isTotalsRow) only to read
// the next: a row exporters do not write, not worth SQL reading every
// cell's words for.
func plainCellsSQL(cells []string) string {
	untidy := `[\x00-\x1f\x7f` + regexpClassOf(untidyASCII)
	for _, r := range untidyRanges {
		untidy += fmt.Sprintf(`\x{%x}-\x{%x}`, r[0], r[1])
	}
	untidy += `]|^ | $|^` + reAlt(emptyMarkList) + `$`
	var plain, content, first []string
	for _, c := range cells {
		plain = append(plain, fmt.Sprintf("NOT regexp_matches(coalesce(%s, ''), %s)", c, store.Quote(untidy)))
		content = append(content, fmt.Sprintf("coalesce(%s, '') <> ''", c))
		first = append(first, fmt.Sprintf("nullif(%s, '')", c))
	}
	word := "coalesce(" + strings.Join(first, ", ") + ")"
	for _, n := range totalsNoiseChars {
		word = fmt.Sprintf("replace(%s, %s, '')", word, store.Quote(n))
	}
	return fmt.Sprintf("(%s AND (%s) AND coalesce(lower(%s) NOT IN ('', %s), true))",
		strings.Join(plain, " AND "), strings.Join(content, " OR "), word, sqlList(totalsWords))
}

// regexpClassOf is the characters of s, each as a regular expression's
// class writes it.
func regexpClassOf(s string) string {
	var b strings.Builder
	for _, r := range s {
		fmt.Fprintf(&b, `\x{%x}`, r)
	}
	return b.String()
}

package ingest

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The fast path: DuckDB reads a CSV file with its own parallel reader and
// the value rules run as SQL (fastsql.go); only the lines SQL does not
// read go through the Go parser, which stores, notes or quarantines them
// for their reasons as it does every row of other files. Everything else
// is unchanged: one batch in one transaction, the same keys, hashes,
// versions and lineage as the Go path gives, which the differential tests
// check row for row.

// maxFastLine is the longest line the fast path reads; a file with a
// longer one is read in Go.
const maxFastLine = 1 << 20

// slowPage is how many lines SQL did not read are parsed in Go at a time.
const slowPage = 8192

// fastSheet is what readFast needs of a sheet whose header was found.
type fastSheet struct {
	t          *Table
	m          mapping
	width      int
	csv        *csvSource
	headerLine int
	stage      *stage
}

// fastRun is a CSV sheet that SQL has read: the lines it left for Go wait
// in the temporary table _slow.
type fastRun struct {
	sheet fastSheet
	slow  int
	text  string // the UTF-8 file SQL read, removed when done if a copy
	copy  bool
}

// readFast stores every row SQL reads of a CSV sheet and leaves the others
// in _slow. It returns nil when the file must be read in Go throughout: a
// quoted cell that runs over lines, a bare carriage return, bytes that are
// not text, a line longer than maxFastLine.
func (l *loader) readFast(fs fastSheet) (*fastRun, error) {
	text, copied, err := utf8Text(fs.csv)
	if err != nil {
		return nil, fmt.Errorf("ingest %s: transcode for the fast path: %w", l.file, err)
	}
	run := &fastRun{sheet: fs, text: text, copy: copied}
	ok, err := linesAreRecords(text, fs.csv.r.Comma)
	if err != nil || !ok {
		run.close()
		return nil, err
	}
	q := fastQuery{t: fs.t, m: fs.m, path: text, skip: fs.headerLine, comma: fs.csv.r.Comma, width: fs.width,
		batch: l.batch, sqlNow: "TIMESTAMPTZ " + sqlString(l.now.UTC().Format("2006-01-02 15:04:05.999999Z07:00"))}
	res, err := l.conn.ExecContext(l.ctx, q.insert())
	if err != nil {
		run.close()
		return nil, fmt.Errorf("ingest %s: read with SQL: %w", l.file, err)
	}
	stored, _ := res.RowsAffected()
	if err := l.conn.QueryRowContext(l.ctx, "CREATE OR REPLACE TEMP TABLE _slow AS "+q.slow()).Scan(&run.slow); err != nil {
		run.close()
		return nil, fmt.Errorf("ingest %s: lines to read in Go: %w", l.file, err)
	}
	fs.stage.rows += int(stored)
	fs.stage.sqlKeys = stored > 0
	l.byLine = true
	l.res.Read += int(stored)
	l.res.SQLRows += int(stored)
	if l.opt.Progress != nil {
		l.opt.Progress(l.res.Read)
	}
	return run, nil
}

// appendSlow parses the lines SQL left, a page at a time, and appends
// them as the Go path does.
func (l *loader) appendSlow(where string, t *Table, m mapping, width int, run *fastRun) error {
	defer run.close()
	defer l.conn.ExecContext(l.ctx, `DROP TABLE IF EXISTS _slow`)
	after := int64(-1)
	for {
		page, err := l.slowLines(after)
		if err != nil {
			return err
		}
		if len(page) == 0 {
			return nil
		}
		after = int64(page[len(page)-1].line)
		src := &linesSource{lines: page, comma: run.sheet.csv.r.Comma, enc: run.sheet.csv.enc}
		if err := l.appendRows(where, "", src, t, m, width, run.sheet.stage); err != nil {
			return err
		}
	}
}

func (l *loader) slowLines(after int64) ([]textLine, error) {
	rows, err := l.conn.QueryContext(l.ctx, `SELECT line, l FROM _slow WHERE line > ? ORDER BY line LIMIT ?`, after, slowPage)
	if err != nil {
		return nil, fmt.Errorf("ingest %s: lines to read in Go: %w", l.file, err)
	}
	defer rows.Close()
	var page []textLine
	for rows.Next() {
		var tl textLine
		if err := rows.Scan(&tl.line, &tl.text); err != nil {
			return nil, err
		}
		page = append(page, tl)
	}
	return page, rows.Err()
}

func (r *fastRun) close() {
	if r.copy {
		os.Remove(r.text)
	}
}

// utf8Text is a path to the sheet's file as UTF-8: the file itself, or a
// temporary copy transcoded from GB18030 or UTF-16.
func utf8Text(cs *csvSource) (string, bool, error) {
	switch cs.enc {
	case "utf-8", "utf-8-bom":
		return cs.path, false, nil
	}
	in, err := os.Open(cs.path)
	if err != nil {
		return "", false, err
	}
	defer in.Close()
	out, err := os.CreateTemp("", "safetynet-utf8-*.csv")
	if err != nil {
		return "", false, err
	}
	w := bufio.NewWriterSize(out, 1<<20)
	_, err = io.Copy(w, decode(in, cs.enc))
	if err == nil {
		err = w.Flush()
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(out.Name())
		return "", false, err
	}
	return out.Name(), true, nil
}

// linesAreRecords says whether each line of the file is one record, so
// that a line's number is its record's: no quoted cell runs over a line
// end, no carriage return stands without a line feed, every byte is
// UTF-8 text and no line is longer than maxFastLine. A line with a quote
// in it is left to Go (fastsql.go), so only the quote's reach matters.
func linesAreRecords(path string, comma rune) (bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return false, err
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, maxFastLine+2)
	for {
		line, err := r.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			return false, nil
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return false, err
		}
		last := errors.Is(err, io.EOF)
		line = bytes.TrimSuffix(bytes.TrimSuffix(line, []byte{'\n'}), []byte{'\r'})
		if bytes.IndexByte(line, '\r') >= 0 || bytes.IndexByte(line, 1) >= 0 || !utf8.Valid(line) {
			return false, nil
		}
		if bytes.IndexByte(line, '"') >= 0 && quoteRunsOn(line, comma) && !last {
			return false, nil
		}
		if last {
			return true, nil
		}
	}
}

// quoteRunsOn says whether encoding/csv (LazyQuotes, leading space
// trimmed unless the comma is a tab) would read past this line's end
// because a quoted cell is still open there.
func quoteRunsOn(line []byte, comma rune) bool {
	for {
		if comma != '\t' {
			line = bytes.TrimLeftFunc(line, unicode.IsSpace)
		}
		if len(line) == 0 || line[0] != '"' {
			i := bytes.IndexRune(line, comma)
			if i < 0 {
				return false
			}
			line = line[i+utf8.RuneLen(comma):]
			continue
		}
		line = line[1:]
		for {
			i := bytes.IndexByte(line, '"')
			if i < 0 {
				return true
			}
			line = line[i+1:]
			if len(line) == 0 {
				return false
			}
			r, n := utf8.DecodeRune(line)
			if r == '"' {
				line = line[1:]
				continue
			}
			if r == comma {
				line = line[n:]
				break
			}
		}
	}
}

// textLine is one line of a text file and its number.
type textLine struct {
	line int
	text string
}

// linesSource reads lines that are each one record as the CSV reader
// does, keeping their numbers.
type linesSource struct {
	lines []textLine
	next  int
	comma rune
	enc   string
	line  int
}

func (s *linesSource) Line() int { return s.line }

func (s *linesSource) Next() ([]string, error) {
	if s.next == len(s.lines) {
		return nil, io.EOF
	}
	tl := s.lines[s.next]
	s.next++
	s.line = tl.line
	one := &csvSource{r: csvReader(strings.NewReader(tl.text), s.comma), enc: s.enc}
	cells, err := one.Next()
	var re *rowError
	switch {
	case errors.As(err, &re):
		re.line = tl.line
		return nil, re
	case errors.Is(err, io.EOF): // a line of nothing but spaces reads as one empty cell
		return []string{""}, nil
	}
	return cells, err
}

// csvReader is encoding/csv as the ingest reads department files: any
// number of cells, quotes taken as they come, leading spaces trimmed
// unless the separator is a tab (a tab would count as leading space and
// eat empty cells).
func csvReader(r io.Reader, comma rune) *csv.Reader {
	cr := csv.NewReader(r)
	cr.Comma = comma
	cr.FieldsPerRecord = -1
	cr.LazyQuotes = true
	cr.TrimLeadingSpace = comma != '\t'
	cr.ReuseRecord = false // rows are handed to parsing goroutines
	return cr
}

package ingest

import (
	"bufio"
	"bytes"
	"database/sql"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"safetynet/store"
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

// slowPage is how many lines SQL did not read are parsed in Go at a time
// (a variable for the tests, which page by a few).
var slowPage = 8192

// fastSheet is what readFast needs of a sheet whose header was found.
type fastSheet struct {
	t          *Table
	m          mapping
	width      int
	file       fastFile
	headerLine int
	stage      *stage
}

// fastFile is a file the fast path can read: a text file, one record a
// line (textFile), or a Parquet file (parquetFile).
type fastFile interface {
	// input is what SQL reads of the rows below the header, or ok false
	// when the file is better read in Go throughout.
	input(l *loader, headerLine, width int) (in fastInput, ok bool, err error)
	// left reads the rows of the given numbers (ascending) that SQL left,
	// as the file's Go reader reads them.
	left(l *loader, numbers []int64) (rowSource, error)
	// close frees what input and left made.
	close(l *loader)
}

// fastInput is what SQL reads of a file: cells, a relation of (n, plain,
// c), each row's number, whether SQL may read it (no value tidy would
// change, not blank, not a totals row) and its cells as texts; and the
// numbers of the first and last row.
type fastInput struct {
	cells       string
	first, last int
	rows, odd   int // rows, and rows not plain, when known (for the log)
}

// fastFileOf is the sheet's file on the fast path, or nil if it takes
// none: a CSV, JSON Lines or Parquet file (not an API's pages, not a
// workbook).
func fastFileOf(src rowSource) fastFile {
	switch s := src.(type) {
	case *csvSource:
		if s.path != "" {
			return &textFile{layout: csvLines{src: s}}
		}
	case *objectSource:
		if s.path != "" {
			return &textFile{layout: newJSONLines(s)}
		}
	case *parquetSource:
		return &parquetFile{src: s}
	}
	return nil
}

// lineLayout is how the fast path reads the lines of a text file: CSV
// (csvLines) or JSON Lines (jsonLines).
type lineLayout interface {
	// origin is the file and its encoding.
	origin() (path, enc string)
	// sep is what SQL splits the texts of cells at.
	sep() rune
	// cells is the text SQL reads of one line, its cells separated by
	// sep, and whether SQL may read it (plain). ends is false for a line
	// that does not end its record, which leaves the whole file to Go.
	cells(line []byte, last bool, width int) (text []byte, plain, ends bool)
	// rows reads a page of the lines SQL left as Go's reader of the file
	// reads them.
	rows(page []textLine) rowSource
}

// csvLines is a CSV file on the fast path: SQL reads its lines as they are.
type csvLines struct{ src *csvSource }

func (c csvLines) origin() (string, string) { return c.src.path, c.src.enc }
func (c csvLines) sep() rune                { return c.src.r.Comma }

func (c csvLines) cells(line []byte, last bool, width int) ([]byte, bool, bool) {
	if bytes.IndexByte(line, '"') >= 0 && quoteRunsOn(line, c.src.r.Comma) && !last {
		return nil, false, false
	}
	return line, plainLine(line, string(c.src.r.Comma), width), true
}

func (c csvLines) rows(page []textLine) rowSource {
	return &linesSource{lines: page, comma: c.src.r.Comma, enc: c.src.enc}
}

// textFile is a text file on the fast path: Go numbers its lines into a
// copy (numberLines), which SQL reads in parallel and Go reads the lines
// SQL left from, forward, in the same order.
type textFile struct {
	layout lineLayout
	copy   string
	cp     *copyReader
}

// input numbers the lines. The file is left to Go when a record runs
// over lines, a carriage return stands alone, bytes are not text, a
// line is longer than maxFastLine, or more than a quarter of the lines
// are not plain.
func (f *textFile) input(l *loader, headerLine, width int) (fastInput, bool, error) {
	lines, err := numberLines(f.layout, headerLine, width)
	f.copy = lines.copy
	if err != nil {
		// The copy is only a means to speed (a full temporary folder, say):
		// the Go path reads the file as well, and says so if it cannot.
		slog.Warn("ingest: the fast path cannot number the lines; reading in Go", "file", l.file, "err", err)
		return fastInput{}, false, nil
	}
	if !lines.records || lines.special*4 > lines.below {
		slog.Debug("ingest: fast path not taken", "file", l.file, "one_record_a_line", lines.records, "lines", lines.below, "not_plain", lines.special)
		return fastInput{}, false, nil
	}
	cells := fmt.Sprintf(`SELECT n, plain, string_split(l, %s) AS c FROM read_csv(%s, header = false, columns = {'n': 'BIGINT', 'plain': 'BOOLEAN', 'l': 'VARCHAR'},
        delim = chr(1), quote = '', escape = '', comment = '', new_line = '\n', auto_detect = false, max_line_size = %d)`,
		store.Quote(string(f.layout.sep())), store.Quote(f.copy), maxFastLine+32)
	return fastInput{cells: cells, first: lines.first, last: lines.last, rows: lines.below, odd: lines.special}, true, nil
}

func (f *textFile) left(_ *loader, numbers []int64) (rowSource, error) {
	if f.cp == nil {
		cp, err := openCopy(f.copy)
		if err != nil {
			return nil, err
		}
		f.cp = cp
	}
	page, err := f.cp.lines(numbers)
	if err != nil {
		return nil, err
	}
	return f.layout.rows(page), nil
}

func (f *textFile) close(*loader) {
	if f.cp != nil {
		f.cp.Close()
	}
	if f.copy != "" {
		os.Remove(f.copy)
	}
}

// readFast stores every row SQL reads of the sheet and leaves the
// numbers of the others in _slow, for appendSlow. It returns false when
// the file is better read in Go throughout (fastFile.input).
func (l *loader) readFast(fs fastSheet) (bool, error) {
	start := time.Now()
	in, ok, err := fs.file.input(l, fs.headerLine, fs.width)
	if err != nil || !ok {
		fs.file.close(l)
		return false, err
	}
	q := fastQuery{t: fs.t, m: fs.m, cells: in.cells,
		batch: l.batch, sqlNow: "TIMESTAMPTZ " + store.Quote(l.now.UTC().Format("2006-01-02 15:04:05.999999Z07:00"))}
	prepared := time.Now()
	res, err := l.insertUnordered(q.insert())
	if err != nil {
		fs.file.close(l)
		return false, fmt.Errorf("ingest %s: read and store with SQL: %w", l.file, err)
	}
	stored, _ := res.RowsAffected()
	inserted := time.Now()
	if _, err := l.conn.ExecContext(l.ctx, q.slow(in.first, in.last)); err != nil {
		fs.file.close(l)
		return false, fmt.Errorf("ingest %s: lines left to Go: %w", l.file, err)
	}
	slog.Debug("ingest: fast path", "file", l.file, "rows", in.rows, "not_plain", in.odd, "stored", stored,
		"prepare_s", prepared.Sub(start).Seconds(), "store_s", inserted.Sub(prepared).Seconds(), "left_s", time.Since(inserted).Seconds())
	fs.stage.rows += int(stored)
	fs.stage.sqlKeys = stored > 0
	l.byLine = true
	l.res.Read += int(stored)
	l.res.SQLRows += int(stored)
	if l.opt.Progress != nil {
		l.opt.Progress(l.res.Read)
	}
	return true, nil
}

// insertUnordered runs an INSERT without keeping the rows in file order,
// which lets DuckDB write them with less memory: rows carry their line
// numbers, and the loader orders by those (loader.byLine).
func (l *loader) insertUnordered(query string) (sql.Result, error) {
	if _, err := l.conn.ExecContext(l.ctx, `SET preserve_insertion_order = false`); err != nil {
		return nil, err
	}
	res, err := l.conn.ExecContext(l.ctx, query)
	if _, rerr := l.conn.ExecContext(l.ctx, `RESET preserve_insertion_order`); err == nil {
		err = rerr
	}
	return res, err
}

// appendSlow parses the rows SQL left, a page at a time, and appends
// them as the Go path does. Their numbers are in _slow.
func (l *loader) appendSlow(where string, fs fastSheet) error {
	defer fs.file.close(l)
	defer l.conn.ExecContext(l.ctx, `DROP TABLE IF EXISTS _slow`)
	after := int64(0)
	for {
		numbers, err := l.slowNumbers(after)
		if err != nil {
			return err
		}
		if len(numbers) == 0 {
			return nil
		}
		after = numbers[len(numbers)-1]
		rows, err := fs.file.left(l, numbers)
		if err != nil {
			return fmt.Errorf("ingest %s: lines to read in Go: %w", l.file, err)
		}
		if err := l.appendRows(where, "", rows, fs.t, fs.m, fs.width, fs.stage); err != nil {
			return err
		}
	}
}

// slowNumbers is the next page of the numbers in _slow after after.
func (l *loader) slowNumbers(after int64) ([]int64, error) {
	rows, err := l.conn.QueryContext(l.ctx, `SELECT n FROM _slow WHERE n > ? ORDER BY n LIMIT ?`, after, slowPage)
	if err != nil {
		return nil, fmt.Errorf("ingest %s: lines to read in Go: %w", l.file, err)
	}
	defer rows.Close()
	var page []int64
	for rows.Next() {
		var n int64
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		page = append(page, n)
	}
	return page, rows.Err()
}

// copyReader reads the numbered copy numberLines wrote, forward only.
type copyReader struct {
	f *os.File
	r *bufio.Reader
}

func openCopy(path string) (*copyReader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	return &copyReader{f: f, r: bufio.NewReaderSize(f, maxFastLine+64)}, nil
}

func (c *copyReader) Close() error { return c.f.Close() }

// lines reads on to the lines of the copy with the given numbers, in
// order; a number the copy does not hold (a blank line) is passed over.
func (c *copyReader) lines(numbers []int64) ([]textLine, error) {
	var page []textLine
	for len(numbers) > 0 {
		line, err := c.r.ReadSlice('\n')
		if err != nil {
			if errors.Is(err, io.EOF) && len(line) == 0 {
				return page, nil
			}
			if !errors.Is(err, io.EOF) {
				return nil, err
			}
		}
		num, rest, _ := bytes.Cut(line, []byte{1})
		n, perr := strconv.ParseInt(string(num), 10, 64)
		if perr != nil {
			return nil, fmt.Errorf("the numbered copy: %w", perr)
		}
		for len(numbers) > 0 && numbers[0] < n {
			numbers = numbers[1:]
		}
		if len(numbers) > 0 && numbers[0] == n {
			plain, text, _ := bytes.Cut(rest, []byte{1})
			page = append(page, textLine{line: int(n), text: string(bytes.TrimSuffix(text, []byte{'\n'})), plain: string(plain) == "true"})
			numbers = numbers[1:]
		}
	}
	return page, nil
}

// fileLines is what numberLines found.
type fileLines struct {
	records     bool   // each line is one record
	below       int    // lines below the header, blank ones aside
	special     int    // of which not plain
	first, last int    // the numbers of the first and last of them
	copy        string // the numbered copy
	num         []byte // add's buffer for numbers
}

// numberLines reads the sheet's file once, as UTF-8 (GB18030 and UTF-16
// transcoded as they stream), and writes each line below the header to a
// temporary copy as its number, whether it is plain (SQL may read it) and
// the text of its cells (fastFile.cells), separated by 0x01: DuckDB then
// reads the lines in parallel with their numbers, which it has no way to
// count itself. Each line must be one record, so that a line's number is
// its record's: no record runs over a line end, no carriage return
// stands without a line feed, every byte is UTF-8 text and no line is
// longer than maxFastLine.
func numberLines(ff lineLayout, headerLine, width int) (fileLines, error) {
	var fl fileLines
	path, enc := ff.origin()
	in, err := os.Open(path)
	if err != nil {
		return fl, err
	}
	defer in.Close()
	out, err := os.CreateTemp("", "safetynet-lines-*.txt")
	if err != nil {
		return fl, err
	}
	fl.copy = out.Name()
	defer out.Close()
	w := bufio.NewWriterSize(out, 1<<20)
	r := bufio.NewReaderSize(decode(in, enc), maxFastLine+2)
	for n := 1; ; n++ {
		line, err := r.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			return fl, nil
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return fl, err
		}
		last := errors.Is(err, io.EOF)
		line = bytes.TrimSuffix(bytes.TrimSuffix(line, []byte{'\n'}), []byte{'\r'})
		if bytes.IndexByte(line, '\r') >= 0 || bytes.IndexByte(line, 1) >= 0 || !utf8.Valid(line) {
			return fl, nil
		}
		if len(line) > 0 {
			text, plain, ends := ff.cells(line, last, width)
			if !ends {
				return fl, nil
			}
			if n > headerLine {
				fl.add(w, n, text, plain, line)
			}
		}
		if last {
			fl.records = true
			return fl, w.Flush()
		}
	}
}

// add writes line n to the copy: its number, whether it is plain, and
// the text of its cells if it is, the line as it is if not.
func (fl *fileLines) add(w *bufio.Writer, n int, cells []byte, plain bool, line []byte) {
	if fl.below == 0 {
		fl.first = n
	}
	fl.last = n
	fl.below++
	if !plain {
		cells = line
		fl.special++
	}
	fl.num = strconv.AppendInt(fl.num[:0], int64(n), 10)
	w.Write(fl.num)
	w.WriteByte(1)
	w.WriteString(strconv.FormatBool(plain))
	w.WriteByte(1)
	w.Write(cells)
	w.WriteByte('\n')
}

// plainLine says whether SQL may read a line: no character tidy would
// change (quotes and Excel's escapes, whitespace other than the space,
// invisible and full-width characters, controls), no cell with a space
// at either end or an empty mark, cells enough for the header, something
// in it, and not a totals row.
func plainLine(line []byte, comma string, width int) bool {
	for i := 0; i < len(line); {
		switch c := byteClasses[line[i]]; c {
		case plainASCII:
			i++
		case notPlain:
			return false
		case tab:
			if comma != "\t" {
				return false
			}
			i++
		case decodeRune:
			r, size := utf8.DecodeRune(line[i:])
			if !plainRune(r) {
				return false
			}
			i += size
		default: // the lead byte of a character plainRune always allows
			i += int(c)
		}
	}
	cells := 0
	content, totals, decided := false, false, false
	for cell := range bytes.SplitSeq(line, []byte(comma)) {
		cells++
		if len(cell) == 0 {
			continue
		}
		if cell[0] == ' ' || cell[len(cell)-1] == ' ' || emptyMarks[string(cell)] {
			return false
		}
		content = true
		if !decided {
			// isTotalsRow, cell by cell, without a copy of a cell that
			// cannot start a totals word or its noise.
			totals, decided = false, true
			if mayBeTotals(cell) {
				totals, decided = totalsCell(string(cell))
			}
		}
	}
	return cells >= width && content && !totals
}

// mayBeTotals is false for a cell that cannot read as a totals word
// (isTotalsRow): one that starts with a letter or digit other than the
// first of every totals word. Most cells are, and so skip isTotalsRow's
// copies.
func mayBeTotals(cell []byte) bool {
	b := cell[0]
	return b >= utf8.RuneSelf || totalsFirstBytes[b]
}

// totalsFirstBytes are the ASCII bytes a totals word's cell may start
// with: the first byte of each word in either case, and what isTotalsRow
// drops before it (its noise, and the tab of its TrimSpace; a plain cell
// holds no other space).
var totalsFirstBytes = func() (set [utf8.RuneSelf]bool) {
	for _, w := range append(slices.Clone(totalsWords), totalsNoiseChars...) {
		if b := w[0]; b < utf8.RuneSelf {
			set[b] = true
			set[unicode.ToUpper(rune(b))] = true
			set[unicode.ToLower(rune(b))] = true
		}
	}
	set['\t'] = true
	return set
}()

// What plainLine does with a byte of a line (byteClasses); a class of
// 2 to 4 is the length of a character plainRune always allows.
const (
	plainASCII = iota + 5
	notPlain
	tab
	decodeRune
)

// byteClasses classes every byte for plainLine, so a line of Chinese
// text is checked a character at a time without decoding it: only the
// lead bytes of the ranges plainRune refuses characters in (U+0080–00BF,
// U+1000–3FFF and U+F000–FFFF) are decoded.
var byteClasses = func() (cls [256]byte) {
	for b := range 256 {
		switch {
		case b == '\t':
			cls[b] = tab
		case b < 0x20 || b == 0x7f || strings.IndexByte(untidyASCII, byte(b)) >= 0:
			cls[b] = notPlain
		case b < utf8.RuneSelf:
			cls[b] = plainASCII
		case b == 0xc2 || b == 0xe1 || b == 0xe2 || b == 0xe3 || b == 0xef, b < 0xc2, b > 0xf4:
			cls[b] = decodeRune
		case b < 0xe0:
			cls[b] = 2
		case b < 0xf0:
			cls[b] = 3
		default:
			cls[b] = 4
		}
	}
	return cls
}()

// untidyASCII and untidyRanges are the characters a plain value holds
// none of: those tidy drops, folds, unescapes or takes as space, besides
// the ASCII controls. plainLine reads them through byteClasses and
// plainRune, the SQL of a Parquet row through plainCellsSQL.
const untidyASCII = `"'=`

var untidyRanges = [][2]rune{
	{0x85, 0x85}, {0xa0, 0xa0}, {0xad, 0xad}, {0x1680, 0x1680}, {0x2000, 0x200f}, {0x2028, 0x202f},
	{0x205f, 0x2060}, {0x3000, 0x3000}, {0xfeff, 0xfeff}, {0xff01, 0xff5e}, {0xffe0, 0xffee}, {utf8.RuneError, utf8.RuneError},
}

// plainRune is false for the characters of untidyRanges.
func plainRune(r rune) bool {
	for _, u := range untidyRanges {
		if r >= u[0] && r <= u[1] {
			return false
		}
	}
	return true
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

// textLine is one line of a text file and its number; plain says the
// text is the cells the fast path made of the line (fastFile.cells).
type textLine struct {
	line  int
	text  string
	plain bool
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

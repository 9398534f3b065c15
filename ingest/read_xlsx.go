package ingest

import (
	"archive/zip"
	"bufio"
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strconv"
	"strings"

	"github.com/klauspost/compress/flate"
)

// An XLSX workbook is read with the standard library: the workbook and
// shared-strings parts through encoding/xml, and each sheet through a
// small streaming scanner of its <row>/<c> elements. Cells come back as
// their stored values (dates as serial numbers, numbers unformatted),
// which is what the value parsers expect, at several times the speed of
// a general XML decoder.

type workbook struct {
	zr     *zip.Reader
	sheets []sheetRef
	shared []string
}

type sheetRef struct{ name, part string }

func openXLSX(f *os.File) (*workbook, error) {
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	zr, err := zip.NewReader(f, fi.Size())
	if err != nil {
		return nil, fmt.Errorf("not a readable XLSX workbook (%v): is the file complete?", err)
	}
	// klauspost's inflate is about 30% faster than the standard one, and
	// every sheet is inflated twice (mergedDown, then its rows).
	zr.RegisterDecompressor(zip.Deflate, func(r io.Reader) io.ReadCloser { return flate.NewReader(r) })
	wb := &workbook{zr: zr}
	var book struct {
		Sheets []struct {
			Name string `xml:"name,attr"`
			RID  string `xml:"http://schemas.openxmlformats.org/officeDocument/2006/relationships id,attr"`
		} `xml:"sheets>sheet"`
	}
	if err := wb.decode("xl/workbook.xml", &book); err != nil {
		return nil, err
	}
	var rels struct {
		Rel []struct {
			ID     string `xml:"Id,attr"`
			Target string `xml:"Target,attr"`
		} `xml:"Relationship"`
	}
	if err := wb.decode("xl/_rels/workbook.xml.rels", &rels); err != nil {
		return nil, err
	}
	target := map[string]string{}
	for _, r := range rels.Rel {
		t := r.Target
		if strings.HasPrefix(t, "/") {
			t = strings.TrimPrefix(t, "/")
		} else {
			t = path.Join("xl", t)
		}
		target[r.ID] = t
	}
	for _, s := range book.Sheets {
		if p, ok := target[s.RID]; ok {
			wb.sheets = append(wb.sheets, sheetRef{name: s.Name, part: p})
		}
	}
	if len(wb.sheets) == 0 {
		return nil, errors.New("the workbook has no worksheets")
	}
	if err := wb.readShared(); err != nil {
		return nil, err
	}
	return wb, nil
}

// Limits no workbook Excel or WPS writes comes near, so that a hostile
// one (a zip bomb, a row of a billion empty cells, a cell of a gigabyte)
// is refused with its reason instead of filling memory or the disk.
const (
	// maxPartRatio is the most a part may expand, once it is larger than
	// bombFrom: sheet XML compresses 5–50×, a zip bomb 1000× and more.
	maxPartRatio = 200
	bombFrom     = 64 << 20
	maxPartBytes = 8 << 30 // uncompressed, any one part
	// maxSharedBytes caps the shared-strings table held in memory.
	maxSharedBytes = 512 << 20
	// maxCellBytes is four times Excel's 32,767 characters of UTF-8.
	maxCellBytes = 4 * 32767 * 3
	maxRowCells  = 16384 // Excel's columns
)

func (wb *workbook) open(name string) (io.ReadCloser, error) {
	for _, f := range wb.zr.File {
		if !strings.EqualFold(f.Name, name) {
			continue
		}
		size, packed := f.UncompressedSize64, max(f.CompressedSize64, 1)
		if size > maxPartBytes || (size > bombFrom && size/packed > maxPartRatio) {
			return nil, fmt.Errorf("not a workbook Excel or WPS writes: its part %s would expand from %d bytes to %d (a zip bomb?)", f.Name, packed, size)
		}
		// archive/zip fails a part that expands past its declared size.
		return f.Open()
	}
	return nil, os.ErrNotExist
}

func (wb *workbook) decode(name string, v any) error {
	r, err := wb.open(name)
	if err != nil {
		return fmt.Errorf("not a readable XLSX workbook: %s: %v", name, err)
	}
	defer r.Close()
	if err := xml.NewDecoder(r).Decode(v); err != nil {
		return fmt.Errorf("not a readable XLSX workbook: %s: %v", name, err)
	}
	return nil
}

// readShared loads the shared-strings table: the text of each <si>,
// rich-text runs joined, phonetic hints (<rPh>) left out.
func (wb *workbook) readShared() error {
	r, err := wb.open("xl/sharedStrings.xml")
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer r.Close()
	dec := xml.NewDecoder(bufio.NewReaderSize(r, 1<<16))
	var cur strings.Builder
	inSI, inT, phonetic, held := false, false, 0, 0
	for {
		tok, err := dec.RawToken()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("not a readable XLSX workbook: shared strings: %v", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			switch t.Name.Local {
			case "si":
				inSI = true
				cur.Reset()
			case "t":
				inT = true
			case "rPh":
				phonetic++
			}
		case xml.EndElement:
			switch t.Name.Local {
			case "si":
				inSI = false
				wb.shared = append(wb.shared, cur.String())
				if held += cur.Len(); held > maxSharedBytes {
					return fmt.Errorf("not a workbook Excel or WPS writes: its shared strings pass %d MiB", maxSharedBytes>>20)
				}
			case "t":
				inT = false
			case "rPh":
				phonetic--
			}
		case xml.CharData:
			if inSI && inT && phonetic == 0 {
				cur.Write(t)
			}
		}
	}
}

// xlsxSheet streams one worksheet's rows.
type xlsxSheet struct {
	wb   *workbook
	name string
	rc   io.ReadCloser
	sc   *sheetScanner
	line int
	done bool
	// merged are the ranges merged down over several rows: a 户编号
	// merged over a household's members is read on every member's row.
	merged []mergedRange
}

// mergedRange is a merged cell range: its first column (0-based) and its
// rows (1-based), with the value its top cell holds once that row is read.
type mergedRange struct {
	col, top, bottom int
	value            string
}

func (wb *workbook) sheet(ref sheetRef) (*xlsxSheet, error) {
	merged, err := wb.mergedDown(ref.part)
	if err != nil {
		return nil, fmt.Errorf("sheet %q: %v", ref.name, err)
	}
	rc, err := wb.open(ref.part)
	if err != nil {
		return nil, fmt.Errorf("sheet %q: %v", ref.name, err)
	}
	return &xlsxSheet{wb: wb, name: ref.name, rc: rc, sc: newSheetScanner(rc, scanWindow), merged: merged}, nil
}

// mergedDown lists a sheet's ranges merged over more than one row. They
// are written after the rows, so the sheet is read once for them first,
// in large chunks searched for the element.
func (wb *workbook) mergedDown(part string) ([]mergedRange, error) {
	rc, err := wb.open(part)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	var out []mergedRange
	buf := make([]byte, 1<<20)
	keep := 0 // bytes carried over from the last chunk: a tag cut by the chunk's end
	for {
		n, err := io.ReadFull(rc, buf[keep:])
		chunk := buf[:keep+n]
		last := 0
		for {
			i := indexMergeCell(chunk[last:])
			if i < 0 {
				break
			}
			start := last + i
			end := bytes.IndexByte(chunk[start:], '>')
			if end < 0 {
				break // cut: take it with the next chunk
			}
			if r, ok := parseRange(string(attr(chunk[start+len(mergeCellTag)-1:start+end], "ref"))); ok && r.bottom > r.top {
				out = append(out, r)
			}
			last = start + end
		}
		if err != nil { // io.EOF or io.ErrUnexpectedEOF: the part is read
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				return out, nil
			}
			return nil, err
		}
		// Carry over the tail that may hold the start of a cut tag.
		tail := max(last, len(chunk)-256)
		keep = copy(buf, chunk[tail:])
	}
}

const mergeCellTag = "<mergeCell "

// indexMergeCell is bytes.Index(b, mergeCellTag), found by its 'g': in
// sheet XML '<' is every few bytes, and bytes.Index then compared at
// each of them, a third of the time of the pass that looks for merges.
func indexMergeCell(b []byte) int {
	const g = 4 // mergeCellTag[g] == 'g'
	for from := 0; ; {
		i := bytes.IndexByte(b[from:], 'g')
		if i < 0 {
			return -1
		}
		at := from + i - g
		if at >= 0 && at+len(mergeCellTag) <= len(b) && string(b[at:at+len(mergeCellTag)]) == mergeCellTag {
			return at
		}
		from += i + 1
	}
}

// parseRange reads "A3:A5" as its first column and its rows.
func parseRange(ref string) (mergedRange, bool) {
	a, b, ok := strings.Cut(ref, ":")
	if !ok {
		return mergedRange{}, false
	}
	top, ok1 := rowOf(a)
	bottom, ok2 := rowOf(b)
	return mergedRange{col: column(a), top: top, bottom: bottom}, ok1 && ok2 && column(a) >= 0
}

func rowOf(ref string) (int, bool) {
	i := strings.IndexAny(ref, "0123456789")
	if i < 0 {
		return 0, false
	}
	n, err := strconv.Atoi(ref[i:])
	return n, err == nil
}

// fillMerged gives the cells of a row inside a range merged down the
// value of the range's top cell (Excel keeps it there only).
func (s *xlsxSheet) fillMerged(cells []string) []string {
	for i := range s.merged {
		m := &s.merged[i]
		switch {
		case s.line == m.top:
			if m.col < len(cells) {
				m.value = cells[m.col]
			}
		case s.line > m.top && s.line <= m.bottom && m.value != "":
			if m.col >= len(cells) || strings.TrimSpace(cells[m.col]) == "" {
				for len(cells) <= m.col {
					cells = append(cells, "")
				}
				cells[m.col] = m.value
			}
		}
	}
	return cells
}

func (s *xlsxSheet) Line() int { return s.line }

// attr returns the value of the attribute name among a tag's attributes,
// nil if it has none. The bytes are the tag's own.
func attr(attrs []byte, name string) []byte {
	for from := 0; ; {
		i := bytes.Index(attrs[from:], []byte(name))
		if i < 0 {
			return nil
		}
		at := from + i
		from = at + len(name)
		if at > 0 && !isXMLSpace(attrs[at-1]) {
			continue // the end of a longer name: "ref" in "xref"
		}
		rest := attrs[from:]
		if len(rest) < 2 || rest[0] != '=' || (rest[1] != '"' && rest[1] != '\'') {
			continue
		}
		if j := bytes.IndexByte(rest[2:], rest[1]); j >= 0 {
			return rest[2 : 2+j]
		}
		return nil
	}
}

func isXMLSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// column turns a cell reference's letters into a 0-based column index.
func column[T ~string | ~[]byte](ref T) int {
	n := 0
	for i := 0; i < len(ref); i++ {
		c := ref[i]
		if c < 'A' || c > 'Z' {
			break
		}
		n = n*26 + int(c-'A'+1)
	}
	return n - 1
}

// Next returns the next row's cells, laid out by column.
func (s *xlsxSheet) Next() ([]string, error) {
	if s.done {
		return nil, io.EOF
	}
	var cells []string
	inRow := false
	col, typ := -1, cellNumber
	var value, inline string
	inIS, phonetic := false, 0
	for {
		raw, err := s.sc.tag()
		if errors.Is(err, io.EOF) {
			if inRow {
				return nil, fmt.Errorf("sheet %q ends inside row %d: the file is cut short", s.name, s.line)
			}
			return nil, s.end()
		}
		if err != nil {
			return nil, fmt.Errorf("sheet %q after row %d: the file is cut short (%v)", s.name, s.line, err)
		}
		name, attrs, self := element(raw)
		switch string(name) {
		case "row":
			inRow, cells = true, cells[:0]
			if r, ok := atoiBytes(attr(attrs, "r")); ok {
				s.line = r
			} else {
				s.line++
			}
			if self {
				return s.fillMerged(cells), nil
			}
		case "/row":
			return s.fillMerged(cells), nil
		case "c":
			col, typ, value, inline = -1, cellTypeOf(attr(attrs, "t")), "", ""
			if ref := attr(attrs, "r"); ref != nil {
				col = column(ref)
			}
			if self {
				cells = s.put(cells, col, "")
			} else if text, inIs, ok := s.sc.simpleCell(); ok {
				if inIs {
					inline = unescapeXML(text)
				} else {
					value = unescapeXML(text)
				}
				v, err := s.cellValue(typ, value, inline, col)
				if err != nil {
					return nil, err
				}
				cells = s.put(cells, col, v)
			}
			if len(cells) > maxRowCells {
				return nil, fmt.Errorf("sheet %q row %d: %w", s.name, s.line, errTooManyCells)
			}
		case "v":
			if !self {
				if value, err = s.text(); err != nil {
					return nil, err
				}
			}
		case "is":
			inIS = true
		case "/is":
			inIS = false
		case "rPh":
			phonetic++
		case "/rPh":
			phonetic--
		case "t":
			if inIS && !self {
				t, err := s.text()
				if err != nil {
					return nil, err
				}
				if phonetic == 0 {
					inline += t
				}
			}
		case "/c":
			v, err := s.cellValue(typ, value, inline, col)
			if err != nil {
				return nil, err
			}
			cells = s.put(cells, col, v)
		case "/sheetData":
			return nil, s.end()
		}
	}
}

// end closes the sheet once its rows are read.
func (s *xlsxSheet) end() error {
	s.done = true
	s.rc.Close()
	return io.EOF
}

// text reads a cell's text, unescaped.
func (s *xlsxSheet) text() (string, error) {
	t, err := s.sc.text()
	if errors.Is(err, errCellTooLong) {
		return "", fmt.Errorf("sheet %q row %d: %w", s.name, s.line, err)
	}
	if err != nil {
		return "", fmt.Errorf("sheet %q row %d: the file is cut short (%v)", s.name, s.line, err)
	}
	return unescapeXML(t), nil
}

// cellType is a cell's t attribute, as far as reading it goes.
type cellType uint8

const (
	cellNumber cellType = iota // no t, or t="n": unformatted number
	cellShared                 // t="s": an index into the shared strings
	cellInline                 // t="inlineStr": the text of <is>
	cellOther                  // t="str", "b", "e", "d": the value as stored
)

func cellTypeOf(t []byte) cellType {
	switch string(t) {
	case "", "n":
		return cellNumber
	case "s":
		return cellShared
	case "inlineStr":
		return cellInline
	}
	return cellOther
}

// cellValue is the value a cell holds, as the value parsers expect it.
func (s *xlsxSheet) cellValue(typ cellType, value, inline string, col int) (string, error) {
	switch typ {
	case cellShared:
		i, err := strconv.Atoi(value)
		if err != nil || i < 0 || i >= len(s.wb.shared) {
			return "", &rowError{line: s.line, reason: fmt.Sprintf("cell %s points to shared string %q, which the workbook lacks", cellName(col, s.line), value)}
		}
		return s.wb.shared[i], nil
	case cellInline:
		return inline, nil
	case cellNumber:
		return excelShown(value), nil
	}
	return value, nil
}

// cellName writes a cell's reference (C7) from its 0-based column and row.
func cellName(col, row int) string {
	if col < 0 {
		return "in row " + strconv.Itoa(row)
	}
	var letters []byte
	for n := col + 1; n > 0; n = (n - 1) / 26 {
		letters = append([]byte{byte('A' + (n-1)%26)}, letters...)
	}
	return string(letters) + strconv.Itoa(row)
}

// atoiBytes reads a row number without making a string of it.
func atoiBytes(b []byte) (int, bool) {
	if len(b) == 0 || len(b) > 9 {
		return 0, false
	}
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// excelShown turns a number cell too long for a double's 15 significant
// digits into the form Excel shows (3.20812197503151E+17): an ID typed
// into a number cell has lost its last digits, and the ID reader says so.
func excelShown(v string) string {
	if len(v) < 16 {
		return v
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f < 1e15 {
		return v
	}
	return strconv.FormatFloat(f, 'E', 14, 64)
}

// put stores a value at its column (-1: after the last), filling gaps.
func (s *xlsxSheet) put(cells []string, col int, v string) []string {
	if col < 0 || col > 16383 {
		col = len(cells)
	}
	for len(cells) < col {
		cells = append(cells, "")
	}
	if col < len(cells) {
		cells[col] = v
		return cells
	}
	return append(cells, v)
}

// errTooManyCells is a row wider than Excel's 16,384 columns.
var errTooManyCells = fmt.Errorf("a row of more than %d cells, wider than Excel allows: not a workbook Excel or WPS writes", maxRowCells)

var xmlEntities = strings.NewReplacer("&lt;", "<", "&gt;", ">", "&quot;", `"`, "&apos;", "'", "&amp;", "&")

// unescapeXML returns b's text with its entity and character references
// replaced; b itself is not kept.
func unescapeXML(b []byte) string {
	if bytes.IndexByte(b, '&') < 0 {
		return string(b)
	}
	s := string(b)
	if strings.Contains(s, "&#") {
		var out strings.Builder
		for {
			i := strings.Index(s, "&#")
			if i < 0 {
				break
			}
			j := strings.IndexByte(s[i:], ';')
			if j < 0 {
				break
			}
			out.WriteString(s[:i])
			num := s[i+2 : i+j]
			var r int64
			var err error
			if strings.HasPrefix(num, "x") || strings.HasPrefix(num, "X") {
				r, err = strconv.ParseInt(num[1:], 16, 32)
			} else {
				r, err = strconv.ParseInt(num, 10, 32)
			}
			if err != nil {
				out.WriteString(s[i : i+j+1])
			} else {
				out.WriteRune(rune(r))
			}
			s = s[i+j+1:]
		}
		out.WriteString(s)
		s = out.String()
	}
	return xmlEntities.Replace(s)
}

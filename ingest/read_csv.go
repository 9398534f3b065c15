package ingest

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"
)

// rowSource yields the rows of one sheet of a file. Next returns io.EOF at
// the end and a *rowError for one row that could not be read, after which
// it can go on.
type rowSource interface {
	Next() ([]string, error)
	Line() int // line (text files) or row number (spreadsheets) of the last row, from 1
}

// rowError is a row that could not be split into cells.
type rowError struct {
	line   int
	raw    string
	reason string
}

func (e *rowError) Error() string { return fmt.Sprintf("line %d: %s", e.line, e.reason) }

const sniffBytes = 64 << 10

// sniffEncoding decides how a text file is encoded from its first bytes.
func sniffEncoding(head []byte) string {
	switch {
	case bytes.HasPrefix(head, []byte{0xEF, 0xBB, 0xBF}):
		return "utf-8-bom"
	case bytes.HasPrefix(head, []byte{0xFF, 0xFE}):
		return "utf-16le"
	case bytes.HasPrefix(head, []byte{0xFE, 0xFF}):
		return "utf-16be"
	case utf16Zeros(head, 1):
		return "utf-16le" // no BOM, but ASCII header text with a NUL after each byte
	case utf16Zeros(head, 0):
		return "utf-16be"
	}
	// Mostly UTF-8 with a stray line in another encoding is UTF-8: the stray
	// rows go to quarantine one by one. GB18030 text read as UTF-8 makes
	// almost no valid multi-byte sequences.
	valid, invalid := 0, 0
	for i := 0; i < len(head); {
		r, n := utf8.DecodeRune(head[i:])
		switch {
		case r == utf8.RuneError && n <= 1:
			if len(head)-i < utf8.UTFMax && !utf8.FullRune(head[i:]) {
				i = len(head) // a rune cut at the end of the sample
				continue
			}
			invalid++
		case n > 1:
			valid++
		}
		i += n
	}
	if invalid == 0 || valid > 4*invalid {
		return "utf-8"
	}
	return "gb18030"
}

// decode wraps r so it yields UTF-8.
func decode(r io.Reader, enc string) io.Reader {
	switch enc {
	case "utf-8-bom":
		return transform.NewReader(r, unicode.BOMOverride(unicode.UTF8.NewDecoder()))
	case "utf-16le": // with or without its BOM
		return transform.NewReader(r, unicode.UTF16(unicode.LittleEndian, unicode.UseBOM).NewDecoder())
	case "utf-16be":
		return transform.NewReader(r, unicode.UTF16(unicode.BigEndian, unicode.UseBOM).NewDecoder())
	case "gb18030", "gbk":
		return transform.NewReader(r, gb18030Decoder{})
	}
	return r
}

// Delimiter reads a configured delimiter: one character, or "tab".
func Delimiter(s string) rune {
	switch strings.ToLower(s) {
	case "tab", "\\t", "\t":
		return '\t'
	}
	r, _ := utf8.DecodeRuneInString(s)
	return r
}

// sniffDelimiter picks the separator that splits the first lines most evenly.
func sniffDelimiter(head []byte) rune {
	lines := strings.SplitN(string(head), "\n", 6)
	if len(lines) > 5 {
		lines = lines[:5]
	}
	best, bestN := ',', 0
	for _, d := range []rune{',', '\t', ';', '|'} {
		n := 0
		for _, l := range lines {
			n += strings.Count(l, string(d))
		}
		if n > bestN {
			best, bestN = d, n
		}
	}
	return best
}

type csvSource struct {
	r    *csv.Reader
	enc  string
	line int
	path string // the file, when there is one: the fast path reads it again
}

// newCSVSource reads delimited text. encoding and delimiter force what is
// otherwise detected from the first 64 KiB ("" detects).
func newCSVSource(r io.Reader, encoding, delimiter string) (*csvSource, error) {
	br := bufio.NewReaderSize(r, sniffBytes)
	head, err := br.Peek(sniffBytes)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		return nil, err
	}
	if len(bytes.TrimSpace(head)) == 0 {
		return nil, errors.New("the file is empty")
	}
	if looksBinary(head) && !strings.HasPrefix(encoding, "utf-16") {
		return nil, errors.New("the file is not text (binary content; is it a spreadsheet or an archive with the wrong name?)")
	}
	enc := sniffEncoding(head)
	if encoding == "gbk" {
		encoding = "gb18030" // a superset, and what GBK files decode as
	}
	if encoding != "" {
		enc = encoding
		if enc == "utf-8" && bytes.HasPrefix(head, []byte{0xEF, 0xBB, 0xBF}) {
			enc = "utf-8-bom"
		}
	}
	comma := sniffDelimiter(head)
	if enc == "utf-16le" || enc == "utf-16be" {
		// Sniff on the decoded text: in UTF-16 every other byte is NUL.
		dec, _ := io.ReadAll(io.LimitReader(decode(bytes.NewReader(head), enc), sniffBytes))
		comma = sniffDelimiter(dec)
	}
	if delimiter != "" {
		comma = Delimiter(delimiter)
	}
	return &csvSource{r: csvReader(decode(br, enc), comma), enc: enc}, nil
}

// utf16Zeros reports whether the sample looks like UTF-16 without a BOM:
// text never holds NUL bytes, but UTF-16 has one in every ASCII character,
// all at odd offsets (little-endian, parity 1) or all at even ones.
func utf16Zeros(head []byte, parity int) bool {
	n := len(head) &^ 1
	if n < 8 {
		return false
	}
	ours, theirs := 0, 0
	for i := 0; i < n; i++ {
		if head[i] == 0 {
			if i%2 == parity {
				ours++
			} else {
				theirs++
			}
		}
	}
	return ours >= n/20 && theirs*50 <= ours // a tenth of the characters ASCII, and NULs on one side only
}

func looksBinary(head []byte) bool {
	if bytes.HasPrefix(head, []byte{0xFF, 0xFE}) || bytes.HasPrefix(head, []byte{0xFE, 0xFF}) || utf16Zeros(head, 0) || utf16Zeros(head, 1) {
		return false // UTF-16 has NULs by nature
	}
	return bytes.IndexByte(head, 0) >= 0 || bytes.HasPrefix(head, []byte("PK\x03\x04"))
}

func (s *csvSource) Line() int { return s.line }

func (s *csvSource) Next() ([]string, error) {
	rec, err := s.r.Read()
	if err != nil {
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			s.line = pe.StartLine
			return nil, &rowError{line: pe.StartLine, reason: pe.Err.Error()}
		}
		return nil, err
	}
	s.line, _ = s.r.FieldPos(0)
	for _, f := range rec {
		if !utf8.ValidString(f) || strings.ContainsRune(f, utf8.RuneError) {
			return nil, &rowError{line: s.line, raw: strings.ToValidUTF8(strings.Join(rec, string(s.r.Comma)), "?"),
				reason: fmt.Sprintf("bytes that are not valid %s: save the file as UTF-8 or GB18030 and send it again", s.enc)}
		}
	}
	return rec, nil
}

package ingest

import (
	"bytes"
	"io"
	"strings"
)

// JSON Lines on the fast path. Go still reads each line once, to number
// it (DuckDB cannot), and while it does it lays a flat record out as the
// header's cells, separated by tabs: SQL then reads the values as it
// reads a CSV file's, in parallel, with the same value rules. Only what
// objectSource.cells would make of the line byte for byte is laid out:
// an object of keys the header has, whose values are strings
// without escapes, numbers, true, false or null. Any other line (an
// escape, a nested value, a key first seen late, a line that is not an
// object) is decoded in Go as newJSONLSource decodes it, for its reasons.

// jsonLines is a JSON Lines file on the fast path.
type jsonLines struct {
	src  *objectSource
	vals [][]byte // a line's values by header position
	buf  []byte
}

func newJSONLines(src *objectSource) *jsonLines {
	return &jsonLines{src: src, vals: make([][]byte, len(src.keys))}
}

func (j *jsonLines) origin() (string, string) { return j.src.path, j.src.enc }
func (j *jsonLines) sep() rune                { return '\t' }

// cells lays the line out as the header's cells (a tab cannot be in a
// value: JSON escapes it), and says it is plain if the record is flat
// and its cells are plain (plainLine).
func (j *jsonLines) cells(line []byte, _ bool, width int) ([]byte, bool, bool) {
	if !j.flat(line) {
		return nil, false, true
	}
	j.buf = j.buf[:0]
	for i, v := range j.vals {
		if i > 0 {
			j.buf = append(j.buf, '\t')
		}
		j.buf = append(j.buf, v...)
	}
	return j.buf, plainLine(j.buf, "\t", width), true
}

// flat reads the line into j.vals if it is one object of known keys
// with values as jsonText gives them: a string without escapes or
// control characters as it is, a number as written, true, false, and
// null as nothing. A key given twice keeps its last value, as in Go.
func (j *jsonLines) flat(line []byte) bool {
	clear(j.vals)
	s := jsonScan{b: line}
	if !s.byte('{') {
		return false
	}
	if s.byte('}') {
		return s.end()
	}
	for {
		key, ok := s.str()
		if !ok {
			return false
		}
		i, known := j.src.pos[string(key)]
		if !known || !s.byte(':') {
			return false
		}
		if j.vals[i], ok = s.value(); !ok {
			return false
		}
		if s.byte('}') {
			return s.end()
		}
		if !s.byte(',') {
			return false
		}
	}
}

// jsonScan reads a line of JSON from the start, passing over spaces.
type jsonScan struct {
	b []byte
	i int
}

func (s *jsonScan) space() {
	for s.i < len(s.b) && isXMLSpace(s.b[s.i]) { // JSON's white space is XML's
		s.i++
	}
}

// byte reads c, if it comes next.
func (s *jsonScan) byte(c byte) bool {
	s.space()
	if s.i < len(s.b) && s.b[s.i] == c {
		s.i++
		return true
	}
	return false
}

// end says nothing but spaces is left.
func (s *jsonScan) end() bool {
	s.space()
	return s.i == len(s.b)
}

// str reads a string without escapes or control characters.
func (s *jsonScan) str() ([]byte, bool) {
	if !s.byte('"') {
		return nil, false
	}
	start := s.i
	for ; s.i < len(s.b); s.i++ {
		switch c := s.b[s.i]; {
		case c == '"':
			s.i++
			return s.b[start : s.i-1], true
		case c == '\\' || c < 0x20:
			return nil, false
		}
	}
	return nil, false
}

// value reads a string, a number, true, false or null as jsonText
// gives it; an object or an array is not read.
func (s *jsonScan) value() ([]byte, bool) {
	s.space()
	if s.i == len(s.b) {
		return nil, false
	}
	switch c := s.b[s.i]; {
	case c == '"':
		return s.str()
	case c == '-' || (c >= '0' && c <= '9'):
		return s.number()
	}
	for _, lit := range [...]string{"true", "false", "null"} {
		if bytes.HasPrefix(s.b[s.i:], []byte(lit)) {
			s.i += len(lit)
			if lit == "null" {
				return nil, true
			}
			return s.b[s.i-len(lit) : s.i], true
		}
	}
	return nil, false
}

// number reads a number of JSON's grammar, as written:
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (s *jsonScan) number() ([]byte, bool) {
	start := s.i
	if s.b[s.i] == '-' {
		s.i++
	}
	switch {
	case s.i < len(s.b) && s.b[s.i] == '0':
		s.i++
	case s.digits() == 0:
		return nil, false
	}
	if s.i < len(s.b) && s.b[s.i] == '.' {
		s.i++
		if s.digits() == 0 {
			return nil, false
		}
	}
	if s.i < len(s.b) && (s.b[s.i] == 'e' || s.b[s.i] == 'E') {
		s.i++
		if s.i < len(s.b) && (s.b[s.i] == '+' || s.b[s.i] == '-') {
			s.i++
		}
		if s.digits() == 0 {
			return nil, false
		}
	}
	return s.b[start:s.i], true
}

func (s *jsonScan) digits() int {
	start := s.i
	for s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' {
		s.i++
	}
	return s.i - start
}

// rows reads the lines SQL left: a line laid out as cells is split at
// its tabs, any other decoded as newJSONLSource decodes it (keys first
// seen late are noted in the source, as there).
func (j *jsonLines) rows(page []textLine) rowSource {
	return &jsonLinesLeft{src: j.src, lines: page}
}

// jsonLinesLeft reads the lines of a JSON Lines file SQL left.
type jsonLinesLeft struct {
	src   *objectSource
	lines []textLine
	next  int
	line  int
}

func (s *jsonLinesLeft) Line() int { return s.line }

func (s *jsonLinesLeft) Next() ([]string, error) {
	for s.next < len(s.lines) {
		tl := s.lines[s.next]
		s.next++
		s.line = tl.line
		if tl.plain {
			return strings.Split(tl.text, "\t"), nil
		}
		b := bytes.TrimSpace([]byte(tl.text))
		if len(b) == 0 {
			continue
		}
		_, obj, err := decodeRecord(b, false, tl.line)
		if err != nil {
			return nil, err
		}
		return s.src.cells(obj), nil
	}
	return nil, io.EOF
}

package ingest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
)

// sheetScanner reads a worksheet's XML through a window of bytes, finding
// each '<' and '>' with bytes.IndexByte. A sheet is tens of megabytes of
// short tags; reading it a byte at a time cost more than inflating it.
type sheetScanner struct {
	r        io.Reader
	buf      []byte
	pos, end int
	err      error // from r, once it has returned one; set whenever fill reports false
}

const scanWindow = 256 << 10

// errTagTooLong is a tag no worksheet holds.
var errTagTooLong = fmt.Errorf("a tag of more than %d bytes", maxCellBytes)

// errCellTooLong is a cell's text past what Excel allows.
var errCellTooLong = fmt.Errorf("a cell of more than %d bytes, longer than Excel allows: not a workbook Excel or WPS writes", maxCellBytes)

// newSheetScanner reads r through a window of size bytes (scanWindow;
// tests use a few bytes, to cut every tag and text at a window's end).
func newSheetScanner(r io.Reader, size int) *sheetScanner {
	return &sheetScanner{r: r, buf: make([]byte, size)}
}

// fill moves the unread bytes to the front of the window and reads more
// after them, growing the window when they fill it (a token is at most
// maxCellBytes, so it grows at most once or twice). It reports whether
// any byte was read.
func (sc *sheetScanner) fill() bool {
	if sc.err != nil {
		return false
	}
	if sc.pos > 0 {
		sc.end = copy(sc.buf, sc.buf[sc.pos:sc.end])
		sc.pos = 0
	}
	if sc.end == len(sc.buf) {
		sc.buf = append(sc.buf, make([]byte, len(sc.buf))...)
	}
	for {
		n, err := sc.r.Read(sc.buf[sc.end:])
		sc.end += n
		if err != nil {
			sc.err = err
		}
		if n > 0 || err != nil {
			return n > 0
		}
	}
}

// tag skips to the next '<' and returns what stands between it and its
// '>' (a '>' inside a quoted attribute value does not end it). The bytes
// are valid until the next call. At the end of the input it returns
// io.EOF; a tag cut short returns io.ErrUnexpectedEOF.
func (sc *sheetScanner) tag() ([]byte, error) {
	for {
		if i := bytes.IndexByte(sc.buf[sc.pos:sc.end], '<'); i >= 0 {
			sc.pos += i + 1
			break
		}
		sc.pos = sc.end
		if !sc.fill() {
			return nil, sc.err // io.EOF at the part's end
		}
	}
	var quote byte
	for k := 0; ; {
		for j, c := range sc.buf[sc.pos+k : sc.end] {
			switch {
			case quote != 0:
				if c == quote {
					quote = 0
				}
			case c == '"' || c == '\'':
				quote = c
			case c == '>':
				t := sc.buf[sc.pos : sc.pos+k+j]
				sc.pos += k + j + 1
				return t, nil
			}
		}
		var err error
		if k, err = sc.extend(errTagTooLong); err != nil {
			return nil, err
		}
	}
}

// text returns the character data up to the next '<', left unread. The
// bytes are valid until the next call.
func (sc *sheetScanner) text() ([]byte, error) {
	for k := 0; ; {
		if i := bytes.IndexByte(sc.buf[sc.pos+k:sc.end], '<'); i >= 0 {
			t := sc.buf[sc.pos : sc.pos+k+i]
			sc.pos += k + i
			return t, nil
		}
		var err error
		if k, err = sc.extend(errCellTooLong); err != nil {
			return nil, err
		}
	}
}

// extend reads more of a token that runs past the window's end, and
// says how much of it is already scanned. A token longer than
// maxCellBytes is tooLong; one the input cuts short, io.ErrUnexpectedEOF.
func (sc *sheetScanner) extend(tooLong error) (int, error) {
	k := sc.end - sc.pos
	if k > maxCellBytes {
		return 0, tooLong
	}
	if !sc.fill() {
		if errors.Is(sc.err, io.EOF) {
			return 0, io.ErrUnexpectedEOF
		}
		return 0, sc.err
	}
	return k, nil
}

// simpleCell reads the rest of a cell written the common way,
// <v>text</v></c> or <is><t>text</t></is></c>, when the window holds it
// whole, and says whether it did; otherwise it reads nothing and the
// cell's tags are read one by one. A sheet is mostly such cells, and
// reading their five tags one at a time was most of reading it.
func (sc *sheetScanner) simpleCell() (text []byte, inline, ok bool) {
	b := sc.buf[sc.pos:sc.end]
	var open, end string
	switch {
	case bytes.HasPrefix(b, []byte("<v>")):
		open, end = "<v>", "</v></c>"
	case bytes.HasPrefix(b, []byte("<is><t>")):
		open, end, inline = "<is><t>", "</t></is></c>", true
	default:
		return nil, false, false
	}
	rest := b[len(open):]
	i := bytes.IndexByte(rest, '<')
	if i < 0 || !bytes.HasPrefix(rest[i:], []byte(end)) {
		return nil, false, false
	}
	sc.pos += len(open) + i + len(end)
	return rest[:i], inline, true
}

// element splits a tag's bytes into its local name (a leading '/' kept
// for an end tag, any namespace prefix dropped), its attributes, and
// whether it closes itself.
func element(b []byte) (name, attrs []byte, selfClosing bool) {
	if n := len(b); n > 0 && b[n-1] == '/' {
		selfClosing = true
		b = b[:n-1]
	}
	end := 0
	for end < len(b) && !isXMLSpace(b[end]) {
		end++
	}
	name, attrs = b[:end], b[end:]
	closing := len(name) > 0 && name[0] == '/'
	if i := bytes.IndexByte(name, ':'); i >= 0 {
		name = name[i+1:]
		if closing {
			// "/x:row": keep the slash before the local name.
			name = append([]byte{'/'}, name...)
		}
	}
	return name, attrs, selfClosing
}

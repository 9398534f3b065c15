package ingest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// newJSONArraySource reads a JSON document holding an array of objects:
// the array itself, or the first array of objects inside a top-level
// object (as in {"total": 2, "data": [...]}). Elements are decoded one at
// a time, so the file is never held whole.
func newJSONArraySource(r io.Reader) (*objectSource, error) {
	lc := &lineCounter{r: bufio.NewReaderSize(r, 64<<10)}
	dec := json.NewDecoder(lc)
	dec.UseNumber()
	if err := seekArray(dec); err != nil {
		return nil, err
	}
	return newObjectSource(func() (int, []byte, error) {
		if !dec.More() {
			return lc.lineAt(dec), nil, io.EOF
		}
		line := lc.lineAt(dec)
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			// The stream cannot be followed past broken JSON: the file as a whole is unreadable.
			return line, nil, fmt.Errorf("line %d: broken JSON (%v): nothing after it can be read; is the file cut short?", line, err)
		}
		return line, raw, nil
	})
}

// seekArray moves dec to just inside the array of records.
func seekArray(dec *json.Decoder) error {
	tok, err := dec.Token()
	if err != nil {
		return fmt.Errorf("not JSON: %v", err)
	}
	switch tok {
	case json.Delim('['):
		return nil
	case json.Delim('{'):
		for dec.More() {
			if _, err := dec.Token(); err != nil { // key
				return fmt.Errorf("broken JSON: %v", err)
			}
			if dec.More() {
				t, err := dec.Token()
				if err != nil {
					return fmt.Errorf("broken JSON: %v", err)
				}
				if t == json.Delim('[') {
					return nil
				}
				if d, ok := t.(json.Delim); ok && d == '{' {
					if err := skipRest(dec); err != nil {
						return err
					}
				}
			}
		}
	}
	return errors.New("no array of records in the JSON document (want [ {...}, ... ] or {\"data\": [ {...} ]})")
}

// skipRest skips to the end of the object or array just opened.
func skipRest(dec *json.Decoder) error {
	for depth := 1; depth > 0; {
		t, err := dec.Token()
		if err != nil {
			return fmt.Errorf("broken JSON: %v", err)
		}
		switch t {
		case json.Delim('{'), json.Delim('['):
			depth++
		case json.Delim('}'), json.Delim(']'):
			depth--
		}
	}
	return nil
}

// lineCounter counts the lines read through it, so the line a decoder is
// at can be told from what it has not consumed yet.
type lineCounter struct {
	r     io.Reader
	lines int
}

func (c *lineCounter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.lines += bytes.Count(p[:n], []byte{'\n'})
	return n, err
}

// lineAt is the line of the next value dec will decode.
func (c *lineCounter) lineAt(dec *json.Decoder) int {
	rest, _ := io.ReadAll(dec.Buffered())
	ahead := bytes.Count(rest, []byte{'\n'})
	// The value starts after separators and white space.
	skip := bytes.IndexFunc(rest, func(r rune) bool { return r != ',' && r != ' ' && r != '\t' && r != '\n' && r != '\r' })
	if skip < 0 {
		skip = len(rest)
	}
	return c.lines - ahead + bytes.Count(rest[:skip], []byte{'\n'}) + 1
}

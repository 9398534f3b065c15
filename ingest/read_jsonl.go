package ingest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"unicode/utf8"
)

// lookahead is how many objects are read before the header is settled, so
// that a key left out of the first objects (a null omitted) still gets
// its column.
const lookahead = 1000

// orderedObjects is how many of the first objects give the header its order.
const orderedObjects = 20

// nextObject yields the records of a JSON stream as their bytes, with
// the line each starts on; they are decoded by the objectSource. It
// returns io.EOF at the end, and an error when the stream cannot be
// read further.
type nextObject func() (line int, raw []byte, err error)

// objectSource lays JSON objects out as rows. The header is the union of
// the keys of the first objects in the order first seen; keys first seen
// later are counted in late and reported.
type objectSource struct {
	next   nextObject
	keys   []string
	pos    map[string]int
	ahead  []aheadObject
	header bool
	line   int
	late   map[string]bool
	// flat lays a flat record out without decoding it (fastjson.go).
	flat *jsonLines
	// watch, when set, hears the text of the field watchKey in each
	// record read (an HTTP pull's watermark).
	watchKey string
	watch    func(string)
	// path and enc are a JSON Lines file's, for the fast path to read it
	// again ("" for other sources).
	path, enc string
}

type aheadObject struct {
	line int
	obj  map[string]any
	err  error
}

func newObjectSource(next nextObject) (*objectSource, error) {
	s := &objectSource{next: next, pos: map[string]int{}, late: map[string]bool{}}
	for len(s.ahead) < lookahead {
		line, raw, err := next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		// Key order (for a readable header) from the first objects; decoding
		// in order is slow, so later ones only add the keys they bring.
		ordered := len(s.ahead) < orderedObjects
		keys, obj, err := decodeRecord(raw, ordered, line)
		if !ordered {
			keys = keys[:0]
			for k := range obj {
				if _, ok := s.pos[k]; !ok {
					keys = append(keys, k)
				}
			}
			sort.Strings(keys)
		}
		for _, k := range keys {
			if _, ok := s.pos[k]; !ok {
				s.pos[k] = len(s.keys)
				s.keys = append(s.keys, k)
			}
		}
		s.ahead = append(s.ahead, aheadObject{line: line, obj: obj, err: err})
	}
	if len(s.keys) == 0 {
		if len(s.ahead) > 0 && s.ahead[0].err != nil {
			return nil, s.ahead[0].err
		}
		return nil, errors.New("no records (an empty file, or no JSON objects in it)")
	}
	s.flat = newJSONLines(s)
	return s, nil
}

func (s *objectSource) Line() int { return s.line }

func (s *objectSource) Next() ([]string, error) {
	if !s.header {
		s.header = true
		return append([]string(nil), s.keys...), nil
	}
	if len(s.ahead) > 0 {
		a := s.ahead[0]
		s.ahead = s.ahead[1:]
		s.line = a.line
		if a.err != nil {
			return nil, a.err
		}
		return s.cells(a.obj), nil
	}
	line, raw, err := s.next()
	s.line = line
	if err != nil {
		return nil, err
	}
	if cells, ok := s.flatCells(raw); ok {
		return cells, nil
	}
	_, obj, err := decodeRecord(raw, false, line)
	if err != nil {
		return nil, err
	}
	return s.cells(obj), nil
}

func (s *objectSource) cells(obj map[string]any) []string {
	out := make([]string, len(s.keys))
	for k, v := range obj {
		i, ok := s.pos[k]
		if !ok {
			s.late[k] = true
			continue
		}
		out[i] = jsonText(v)
	}
	if s.watch != nil {
		if v := jsonText(obj[s.watchKey]); v != "" {
			s.watch(v)
		}
	}
	return out
}

// flatCells lays out a record that is flat (jsonLines.flat) and valid
// UTF-8 straight from its bytes, as cells would after decoding it: most
// records are, and decoding each into a map was most of a pull's time.
func (s *objectSource) flatCells(raw []byte) ([]string, bool) {
	if !utf8.Valid(raw) || !s.flat.flat(raw) {
		return nil, false
	}
	n := 0
	for _, v := range s.flat.vals {
		n += len(v)
	}
	buf := make([]byte, 0, n)
	for _, v := range s.flat.vals {
		buf = append(buf, v...)
	}
	all := string(buf) // one string for the row, cut into its cells
	out := make([]string, len(s.flat.vals))
	at := 0
	for i, v := range s.flat.vals {
		out[i] = all[at : at+len(v)]
		at += len(v)
	}
	if i, ok := s.pos[s.watchKey]; ok && s.watch != nil && out[i] != "" {
		s.watch(out[i])
	}
	return out, true
}

// Late lists keys first seen after the lookahead; their values were not read.
func (s *objectSource) Late() []string {
	var out []string
	for k := range s.late {
		out = append(out, k)
	}
	return out
}

// newJSONLSource reads JSON Lines: one object a line.
func newJSONLSource(r io.Reader) (*objectSource, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	line := 0
	return newObjectSource(func() (int, []byte, error) {
		for sc.Scan() {
			line++
			if b := bytes.TrimSpace(sc.Bytes()); len(b) > 0 {
				return line, b, nil
			}
		}
		if err := sc.Err(); err != nil {
			return line + 1, nil, fmt.Errorf("line %d: %v", line+1, err)
		}
		return line, nil, io.EOF
	})
}

// decodeRecord decodes one record of a JSON source, with its keys in order
// when asked (slower); one that is not an object is a *rowError.
func decodeRecord(raw []byte, ordered bool, line int) ([]string, map[string]any, error) {
	var keys []string
	var obj map[string]any
	var err error
	if ordered {
		keys, obj, err = decodeObject(raw)
		if err != nil {
			// Worded as decodeMap words it, so that a line reads the same
			// reason wherever it is in the file (and on the fast path).
			if _, merr := decodeMap(raw); merr != nil {
				err = merr
			}
		}
	} else {
		obj, err = decodeMap(raw)
	}
	if err != nil {
		return nil, nil, &rowError{line: line, raw: string(raw), reason: "not a JSON object: " + err.Error()}
	}
	return keys, obj, nil
}

// decodeObject reads one object keeping its key order.
func decodeObject(b []byte) ([]string, map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return nil, nil, err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, nil, fmt.Errorf("not an object")
	}
	var keys []string
	obj := map[string]any{}
	for dec.More() {
		kt, err := dec.Token()
		if err != nil {
			return nil, nil, err
		}
		k := kt.(string)
		var v any
		if err := dec.Decode(&v); err != nil {
			return nil, nil, err
		}
		keys = append(keys, k)
		obj[k] = v
	}
	if _, err := dec.Token(); err != nil {
		return nil, nil, err
	}
	if dec.More() {
		return nil, nil, fmt.Errorf("text after the object")
	}
	return keys, obj, nil
}

// decodeMap reads one object when its key order no longer matters.
func decodeMap(b []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var obj map[string]any
	if err := dec.Decode(&obj); err != nil {
		return nil, err
	}
	if obj == nil {
		return nil, fmt.Errorf("not an object")
	}
	if dec.More() {
		return nil, fmt.Errorf("text after the object")
	}
	return obj, nil
}

func jsonText(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case json.Number:
		return x.String()
	case bool:
		return strconv.FormatBool(x)
	default:
		b, _ := json.Marshal(x)
		return string(b)
	}
}

package ingest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
)

// jsonlSource reads JSON Lines: one object a line. The keys of the first
// object are its header; later objects are laid out in that order, and
// keys first seen later are listed in extra.
type jsonlSource struct {
	sc     *bufio.Scanner
	keys   []string
	pos    map[string]int
	line   int
	header bool // the header row has been returned
	first  map[string]any
	extra  map[string]bool
}

func newJSONLSource(r io.Reader) (*jsonlSource, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	s := &jsonlSource{sc: sc, pos: map[string]int{}, extra: map[string]bool{}}
	for sc.Scan() {
		s.line++
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		keys, obj, err := decodeObject(b)
		if err != nil {
			return nil, fmt.Errorf("line %d is not a JSON object (%v): the header is taken from the first line", s.line, err)
		}
		s.keys = keys
		for i, k := range keys {
			s.pos[k] = i
		}
		s.first = obj
		return s, nil
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return nil, fmt.Errorf("the file is empty")
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

func (s *jsonlSource) Line() int { return s.line }

func (s *jsonlSource) Next() ([]string, error) {
	if !s.header {
		s.header = true
		return append([]string(nil), s.keys...), nil
	}
	if s.first != nil {
		obj := s.first
		s.first = nil
		return s.cells(obj), nil
	}
	for s.sc.Scan() {
		s.line++
		b := bytes.TrimSpace(s.sc.Bytes())
		if len(b) == 0 {
			continue
		}
		obj, err := decodeMap(b)
		if err != nil {
			return nil, &rowError{line: s.line, raw: string(b), reason: "not a JSON object: " + err.Error()}
		}
		return s.cells(obj), nil
	}
	if err := s.sc.Err(); err != nil {
		return nil, fmt.Errorf("line %d: %v", s.line+1, err)
	}
	return nil, io.EOF
}

func (s *jsonlSource) cells(obj map[string]any) []string {
	out := make([]string, len(s.keys))
	for k, v := range obj {
		i, ok := s.pos[k]
		if !ok {
			s.extra[k] = true
			continue
		}
		out[i] = jsonText(v)
	}
	return out
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

package ingest

import (
	"bytes"
	"encoding/json"
	"strings"
)

// An API's page is checked once with json.Valid; its records are then
// found by their brackets, not decoded: decoding the page into a map and
// its array into raw messages went over every byte twice more, and cost
// as much as decoding the records themselves. Every function here takes
// valid JSON.

// dig follows a dotted path into the JSON object b; nil if a step is
// missing or not an object.
func dig(b []byte, path string) json.RawMessage {
	for _, k := range strings.Split(path, ".") {
		v, ok := member(b, k)
		if !ok {
			return nil
		}
		b = v
	}
	return b
}

// member returns the value of key in the JSON object b: the last if the
// key is given twice, as encoding/json keeps it.
func member(b []byte, key string) (json.RawMessage, bool) {
	i := skipSpace(b, 0)
	if i == len(b) || b[i] != '{' {
		return nil, false
	}
	var found json.RawMessage
	ok := false
	for i = skipSpace(b, i+1); b[i] != '}'; {
		end := skipString(b, i)
		k := b[i:end]
		i = skipSpace(b, skipSpace(b, end)+1) // past the ':'
		vend := skipValue(b, i)
		if keyIs(k, key) {
			found, ok = b[i:vend], true
		}
		if i = skipSpace(b, vend); b[i] == ',' {
			i = skipSpace(b, i+1)
		}
	}
	return found, ok
}

// elements lists the elements of the JSON array b, or says b is not one.
// They are b's own bytes.
func elements(b []byte) ([]json.RawMessage, bool) {
	i := skipSpace(b, 0)
	if i == len(b) || b[i] != '[' {
		return nil, false
	}
	var out []json.RawMessage
	for i = skipSpace(b, i+1); b[i] != ']'; {
		end := skipValue(b, i)
		out = append(out, b[i:end])
		if i = skipSpace(b, end); b[i] == ',' {
			i = skipSpace(b, i+1)
		}
	}
	return out, true
}

// keyIs says whether the quoted key k is key, escapes read.
func keyIs(k []byte, key string) bool {
	if bytes.IndexByte(k, '\\') < 0 {
		return string(k[1:len(k)-1]) == key
	}
	var s string
	return json.Unmarshal(k, &s) == nil && s == key
}

// skipValue returns where the value that starts at b[i] ends.
func skipValue(b []byte, i int) int {
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		for depth := 0; ; i++ {
			switch b[i] {
			case '"':
				i = skipString(b, i) - 1
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return i + 1
				}
			}
		}
	}
	for i < len(b) && b[i] != ',' && b[i] != '}' && b[i] != ']' && !isXMLSpace(b[i]) {
		i++ // a number, true, false or null
	}
	return i
}

// skipString returns where the string that starts at b[i] ends, after
// its closing quote.
func skipString(b []byte, i int) int {
	open := i
	for i++; ; i++ {
		i += bytes.IndexByte(b[i:], '"')
		k := i // a quote after an odd run of backslashes is escaped
		for k > open+1 && b[k-1] == '\\' {
			k--
		}
		if (i-k)%2 == 0 {
			return i + 1
		}
	}
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && isXMLSpace(b[i]) { // JSON's white space is XML's
		i++
	}
	return i
}

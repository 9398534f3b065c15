package ingest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// randomJSON writes a JSON value as APIs send them and as they should
// not: nesting, keys given twice or escaped ("d\u0061ta" is "data"),
// strings ending in backslashes, brackets inside strings, white space
// of every kind between the tokens.
func randomJSON(r *rand.Rand, depth int) string {
	sp := func() string { return []string{"", " ", "\n", "\r\n  ", "\t"}[r.IntN(5)] }
	k := r.IntN(10)
	if depth > 3 {
		k = 5 + r.IntN(5)
	}
	switch {
	case k < 3:
		var parts []string
		for range r.IntN(5) {
			key := []string{`"data"`, `"d\u0061ta"`, `"a"`, `"next"`, `"da\"ta"`, `"数据"`, `""`}[r.IntN(7)]
			parts = append(parts, sp()+key+sp()+":"+sp()+randomJSON(r, depth+1)+sp())
		}
		return "{" + strings.Join(parts, ",") + sp() + "}"
	case k < 5:
		var parts []string
		for range r.IntN(5) {
			parts = append(parts, sp()+randomJSON(r, depth+1)+sp())
		}
		return "[" + strings.Join(parts, ",") + sp() + "]"
	case k < 8:
		return []string{`"x"`, `"a\\"`, `"a\\\\"`, `"\"]}"`, `"{["`, `"\\\""`, `"中文"`, `""`, `"\u0022"`}[r.IntN(9)]
	}
	return []string{"0", "-1.5e3", "true", "false", "null", "12"}[r.IntN(6)]
}

// checkPage compares what elements, member and dig find in b with what
// encoding/json decodes, for b valid JSON.
func checkPage(t *testing.T, b []byte) {
	t.Helper()
	var arr []json.RawMessage
	wantArr := json.Unmarshal(b, &arr) == nil && !bytes.Equal(bytes.TrimSpace(b), []byte("null"))
	got, ok := elements(b)
	if ok != wantArr || fmt.Sprintf("%q", got) != fmt.Sprintf("%q", arr) && ok {
		t.Fatalf("%q: elements %q (%v), encoding/json %q (%v)", b, got, ok, arr, wantArr)
	}
	var obj map[string]json.RawMessage
	isObj := json.Unmarshal(b, &obj) == nil && obj != nil
	for _, key := range []string{"data", "a", `da"ta`, "数据", ""} {
		want, found := obj[key]
		v, ok := member(b, key)
		if ok != (isObj && found) || !bytes.Equal(v, want) {
			t.Fatalf("%q: member %q = %q (%v), encoding/json %q (%v)", b, key, v, ok, want, found)
		}
	}
	var inner map[string]json.RawMessage
	want := json.RawMessage(nil)
	if json.Unmarshal(obj["a"], &inner) == nil && inner != nil {
		want = inner["data"]
	}
	if got := dig(b, "a.data"); !bytes.Equal(got, want) {
		t.Fatalf("%q: dig a.data = %q, encoding/json %q", b, got, want)
	}
}

// TestPageIsReadAsJSONReadsIt: on thousands of random documents, the
// records and members found by their brackets are the bytes
// encoding/json decodes.
func TestPageIsReadAsJSONReadsIt(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 12))
	for range 20000 {
		b := []byte(randomJSON(r, 0))
		if !json.Valid(b) {
			t.Fatalf("the generator wrote invalid JSON: %q", b)
		}
		checkPage(t, b)
	}
}

func FuzzPage(f *testing.F) {
	for _, s := range []string{`{"data": [{"a": 1}, {"b": "]"}]}`, `[1, "2", {"x": [3]}]`, `{"a": {"data": null}}`,
		`{"data": 1, "data": [2]}`, `{"d\u0061ta": ["\\"]}`, ` [ ] `, `"x"`, `null`, `{"a":"\\\""}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if json.Valid(b) {
			checkPage(t, b)
		}
	})
}

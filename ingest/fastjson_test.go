package ingest

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// jsonlRows makes a JSON Lines file of a table's columns, row by row
// random, with what exchange systems write: keys in any order, values as
// numbers, null, true, left out, escaped or nested; spaces and tabs
// between the tokens; keys the header does not have, early and after
// the lookahead; a key twice; lines that are not objects; blank lines;
// repeated records and a totals row.
func jsonlRows(r *rand.Rand, tbl *Table, n int) string {
	var b strings.Builder
	var earlier []string
	for i := range n {
		keys := make([]string, 0, len(tbl.Columns))
		vals := make([]string, 0, len(tbl.Columns))
		for j := range tbl.Columns {
			c := &tbl.Columns[j]
			if r.IntN(30) == 0 {
				continue // left out
			}
			v := goodValue(r, c)
			if r.IntN(80) == 0 {
				v = randomValue(r, c)
			}
			if c.Name == "record_id" || c.Name == "household_id" {
				v = fmt.Sprintf("R%d", i)
			}
			keys = append(keys, c.Aliases[0])
			vals = append(vals, jsonValue(r, v))
		}
		r.Shuffle(len(keys), func(a, b int) {
			keys[a], keys[b] = keys[b], keys[a]
			vals[a], vals[b] = vals[b], vals[a]
		})
		switch k := r.IntN(80); {
		case k == 0 && i > 0:
			keys, vals = append(keys, "备注"), append(vals, `"多出来的键"`) // not in the header (early: in it)
		case k == 1 && len(keys) > 0:
			keys, vals = append(keys, keys[0]), append(vals, `"again"`)
		case k == 2 && i > 1100:
			keys, vals = append(keys, "late_key"), append(vals, `"1"`)
		}
		spaces := []string{"", " ", "\t", "  "}
		sp := func() string { return spaces[r.IntN(len(spaces))] }
		parts := make([]string, len(keys))
		for j := range keys {
			parts[j] = fmt.Sprintf("%s%q%s:%s%s", sp(), keys[j], sp(), sp(), vals[j])
		}
		line := "{" + strings.Join(parts, ",") + sp() + "}"
		switch k := r.IntN(120); {
		case k == 0:
			line = ""
		case k == 1:
			line = "   "
		case k == 2:
			line = `[1, 2]`
		case k == 3:
			line = `{"病人姓名": "王芳"` // cut off
		case k == 4:
			line = "null"
		case k == 5 && len(earlier) > 0:
			line = earlier[r.IntN(len(earlier))]
		case k == 6:
			line += " x"
		case k == 7:
			line = "{}"
		}
		earlier = append(earlier, line)
		b.WriteString(line + []string{"\n", "\r\n"}[r.IntN(2)])
	}
	fmt.Fprintf(&b, "{%q: \"合计\"}\n", tbl.Columns[0].Aliases[0])
	return b.String()
}

// jsonValue writes v as a JSON value, in one of the ways systems do:
// mostly a string, a number where it is one, now and then something Go
// must read (an escape, a nested value, a number outside JSON's grammar).
func jsonValue(r *rand.Rand, v string) string {
	switch k := r.IntN(600); {
	case k < 4:
		return "null"
	case k == 4:
		return "true"
	case k == 5:
		return `{"v": ` + fmt.Sprintf("%q", v) + `}`
	case k == 6:
		return `[` + fmt.Sprintf("%q", v) + `]`
	case k == 7:
		return strings.ReplaceAll(fmt.Sprintf("%q", v), "1", `\u0031`) // an escape
	case k == 8:
		return []string{"-0", "1e5", "1.50", "-12.5E-3", "01", "1.", "-"}[r.IntN(7)]
	case k < 200 && v != "" && strings.Trim(v, "0123456789.") == "":
		return v // a number, if it is one (JSON's grammar or not: 01, 1.)
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// TestFastPathStoresWhatGoStoresJSONL is TestFastPathStoresWhatGoStores
// for JSON Lines: the same random files through the fast path and Go
// alone, two deliveries, in UTF-8, with a BOM and in UTF-16.
func TestFastPathStoresWhatGoStoresJSONL(t *testing.T) {
	r := rand.New(rand.NewPCG(14, 7))
	for _, name := range []string{"health", "medins", "disability"} {
		tbl := TableNamed(name)
		for _, enc := range []string{"utf-8", "utf-8-bom", "utf-16le"} {
			t.Run(name+"/"+enc, func(t *testing.T) {
				fast, slow := openDB(t), openDB(t)
				for delivery := range 2 {
					data := encoded(t, jsonlRows(r, tbl, 1500), enc)
					path := filepath.Join(t.TempDir(), fmt.Sprintf("%s-%d.jsonl", name, delivery))
					if err := os.WriteFile(path, data, 0o644); err != nil {
						t.Fatal(err)
					}
					got := ingestBoth(t, fast, slow, tbl, path, time.Date(2026, 12, 7, 8, delivery, 0, 0, time.UTC))
					if got.SQLRows < got.Read/2 || got.SQLRows == got.Read {
						t.Errorf("delivery %d: SQL read %d of %d rows: want most, not all", delivery, got.SQLRows, got.Read)
					}
				}
			})
		}
	}
}

// TestFastPathJSONLNotesLateKeys: a key first seen after the lookahead
// is noted as the Go reader notes it, and the line's other values are
// stored.
func TestFastPathJSONLNotesLateKeys(t *testing.T) {
	var b strings.Builder
	for i := range lookahead + 10 {
		fmt.Fprintf(&b, `{"记录编号": "R%d", "身份证号": "110105194912310021", "姓名": "王芳", "类型": "住院", "日期": "2024-03-0%d"`, i, 1+i%9)
		if i == lookahead+5 {
			b.WriteString(`, "新字段": "x"`)
		}
		b.WriteString("}\n")
	}
	path := write(t, "health.jsonl", []byte(b.String()))
	for _, noFast := range []bool{false, true} {
		res, err := IngestFile(t.Context(), openDB(t), "health", path, Options{NoFastPath: noFast})
		if err != nil {
			t.Fatal(err)
		}
		if res.New != lookahead+10 || !strings.Contains(strings.Join(res.Notes, "\n"), "新字段") {
			t.Errorf("NoFastPath %v: %d new, notes %q; want %d and the late key noted", noFast, res.New, res.Notes, lookahead+10)
		}
		if !noFast && res.SQLRows != lookahead+9 {
			t.Errorf("SQL read %d rows, want all but the line with the late key", res.SQLRows)
		}
	}
}

// FuzzJSONLine: a line laid out as cells without decoding it (the fast
// path's tab-separated line, and the Go reader's flatCells) is one Go
// decodes into the same cells (objectSource.cells), with the same
// watermark heard, whatever the line.
func FuzzJSONLine(f *testing.F) {
	for _, s := range []string{
		`{"a": "1", "b": 2, "c": null}`, `{"b":true,"a":"x"}`, `{}`, `{"a": "1",}`, `{"a": 01}`, `{"a": -0.5e+3}`,
		`{"a": "\u4e2d"}`, `{"a": "x", "a": "y"}`, `{"a": [1]}`, `{"a": {"b": 1}}`, `{"a": "1"} x`, `{"a": 1.}`,
		"{\"a\": \"\t\"}", `{"a": tru}`, `{"a": nulls}`, `{"z": "1"}`, ` { "a" : "中文" , "b" : -1 } `, `{"a": "1"`,
		"{\n  \"a\": \"1\",\r\n  \"b\": \"2024-03-05T08:00:00\"\n}", "{\"a\": \"\xff\"}", `{"b": ""}`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		var heard, goHeard []string
		src := &objectSource{keys: []string{"a", "b", "c"}, pos: map[string]int{"a": 0, "b": 1, "c": 2}, late: map[string]bool{},
			watchKey: "b", watch: func(v string) { heard = append(heard, v) }}
		src.flat = newJSONLines(src)
		got, ok := src.flatCells([]byte(line))
		if !ok {
			return
		}
		_, obj, err := decodeRecord([]byte(line), false, 1)
		if err != nil {
			t.Fatalf("laid out %q, which Go does not decode: %v", line, err)
		}
		src.watch = func(v string) { goHeard = append(goHeard, v) }
		want := src.cells(obj)
		if !reflect.DeepEqual(got, want) || len(src.late) > 0 {
			t.Fatalf("%q: laid out %q, Go reads %q (late keys %v)", line, got, want, src.late)
		}
		if !reflect.DeepEqual(heard, goHeard) {
			t.Fatalf("%q: the watermark heard %q, from Go's decoding %q", line, heard, goHeard)
		}
	})
}

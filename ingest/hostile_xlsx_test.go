package ingest

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// hostileWorkbook writes an XLSX of the given parts (the workbook and its
// relationships pointing at xl/worksheets/sheet1.xml unless given).
func hostileWorkbook(t *testing.T, parts map[string]func(io.Writer)) string {
	t.Helper()
	std := map[string]func(io.Writer){
		"xl/workbook.xml": func(w io.Writer) {
			io.WriteString(w, `<workbook xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="S" sheetId="1" r:id="rId1"/></sheets></workbook>`)
		},
		"xl/_rels/workbook.xml.rels": func(w io.Writer) {
			io.WriteString(w, `<Relationships><Relationship Id="rId1" Target="worksheets/sheet1.xml"/></Relationships>`)
		},
	}
	for k, v := range parts {
		std[k] = v
	}
	p := filepath.Join(t.TempDir(), "hostile.xlsx")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	zw := zip.NewWriter(f)
	for name, write := range std {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		write(w)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	return p
}

const hostileHeader = `<worksheet><sheetData><row r="1"><c t="inlineStr"><is><t>结算编号</t></is></c><c t="inlineStr"><is><t>身份证号</t></is></c><c t="inlineStr"><is><t>个人自付</t></is></c></row>`

// TestHostileWorkbooks: a zip bomb, a billion-laughs entity, a row of a
// hundred thousand cells, a cell of megabytes and a relationship into the
// file system are each refused whole, naming the file and why, with
// nothing stored and memory never near what the bomb would take.
func TestHostileWorkbooks(t *testing.T) {
	cases := []struct {
		name  string
		parts map[string]func(io.Writer)
		want  string
	}{
		{"zip bomb", map[string]func(io.Writer){"xl/worksheets/sheet1.xml": func(w io.Writer) {
			io.WriteString(w, hostileHeader+`<row r="2">`)
			chunk := bytes.Repeat([]byte(`<c/>`), 1<<18)
			for i := 0; i < 300; i++ { // 300 MiB that deflate to well under one
				w.Write(chunk)
			}
			io.WriteString(w, `</row></sheetData></worksheet>`)
		}}, "zip bomb"},
		{"billion laughs", map[string]func(io.Writer){
			"xl/sharedStrings.xml": func(w io.Writer) {
				io.WriteString(w, `<?xml version="1.0"?><!DOCTYPE sst [<!ENTITY a "aaaaaaaaaa">`)
				prev := "a"
				for _, e := range []string{"b", "c", "d", "e", "f", "g", "h", "i", "j"} {
					io.WriteString(w, `<!ENTITY `+e+` "`+strings.Repeat("&"+prev+";", 10)+`">`)
					prev = e
				}
				io.WriteString(w, `]><sst><si><t>&j;</t></si></sst>`)
			},
			"xl/worksheets/sheet1.xml": func(w io.Writer) { io.WriteString(w, hostileHeader+`</sheetData></worksheet>`) },
		}, "shared strings"},
		{"row wider than Excel", map[string]func(io.Writer){"xl/worksheets/sheet1.xml": func(w io.Writer) {
			io.WriteString(w, hostileHeader+`<row r="2">`+strings.Repeat(`<c/>`, 100_000)+`</row></sheetData></worksheet>`)
		}}, "wider than Excel allows"},
		{"cell of megabytes", map[string]func(io.Writer){"xl/worksheets/sheet1.xml": func(w io.Writer) {
			io.WriteString(w, hostileHeader+`<row r="2"><c t="inlineStr"><is><t>`+strings.Repeat("长", 2<<20)+`</t></is></c></row></sheetData></worksheet>`)
		}}, "longer than Excel allows"},
		{"relationship out of the workbook", map[string]func(io.Writer){"xl/_rels/workbook.xml.rels": func(w io.Writer) {
			io.WriteString(w, `<Relationships><Relationship Id="rId1" Target="../../../../../../etc/passwd"/></Relationships>`)
		}}, "hostile.xlsx"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := hostileWorkbook(t, c.parts)
			db := openDB(t)
			runtime.GC()
			var before runtime.MemStats
			runtime.ReadMemStats(&before)
			_, err := IngestFile(context.Background(), db, "medins", path, Options{})
			var after runtime.MemStats
			runtime.ReadMemStats(&after)
			var fe *FileError
			if !errors.As(err, &fe) || !strings.Contains(fe.Error(), c.want) || !strings.Contains(fe.Error(), "hostile.xlsx") {
				t.Fatalf("want the file refused saying %q, got %v", c.want, err)
			}
			if n := count(t, db, `SELECT count(*) FROM canon_medins`) + count(t, db, `SELECT count(*) FROM ingest_quarantine`); n != 0 {
				t.Errorf("a refused workbook left %d rows", n)
			}
			if grew := int64(after.TotalAlloc - before.TotalAlloc); grew > 256<<20 {
				t.Errorf("reading it allocated %d MiB", grew>>20)
			}
		})
	}
}

package ingest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
)

// sheetXML holds what a worksheet part can hold that the scanner must
// get right wherever a window ends: namespace prefixes, a '>' inside a
// quoted attribute, entities, shared and inline strings, phonetic runs,
// self-closing cells and rows, gaps, and text after the rows.
const sheetXML = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<x:worksheet xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><x:sheetData>
<x:row r="1"><x:c note="x>y" r="A1" t="s"><x:v>0</x:v></x:c><x:c r="C1" t="inlineStr"><x:is><x:t>王&amp;芳</x:t><x:rPh><x:t>ワン</x:t></x:rPh></x:is></x:c></x:row>
<x:row r="3" spans="1:4"><x:c r="A3" s="2" note="a>b" t="n"><x:v>320812197503151234</x:v></x:c><x:c r="B3"/><x:c r="D3" t='str'><x:v>&lt;1&gt; &#20320;&#x597D;</x:v></x:c></x:row>
<x:row r="4"/>
<x:row r="5"><x:c t="s"><x:v>1</x:v></x:c><x:c><x:v>12.5</x:v></x:c></x:row>
<x:row r="6"><x:c r="A6"><x:f>1+1</x:f><x:v>2</x:v></x:c><x:c r="B6" t="inlineStr"><x:is><x:t xml:space="preserve"> 空 格 </x:t></x:is></x:c><x:c r="C6"><x:v></x:v></x:c><x:c r="D6" t="inlineStr"><x:is><x:t>a&lt;b</x:t></x:is></x:c><x:c r="E6" t="s"><x:is><x:t>0</x:t></x:is><x:v>1</x:v></x:c></x:row>
</x:sheetData><x:mergeCells count="0"/></x:worksheet>`

func scanRows(t *testing.T, xml string, window int) []string {
	t.Helper()
	s := &xlsxSheet{
		wb:   &workbook{shared: []string{"身份证号", "李 强"}},
		name: "S",
		rc:   io.NopCloser(strings.NewReader(xml)),
		sc:   newSheetScanner(strings.NewReader(xml), window),
	}
	var rows []string
	for {
		cells, err := s.Next()
		if errors.Is(err, io.EOF) {
			return rows
		}
		if err != nil {
			t.Fatalf("window %d: %v", window, err)
		}
		rows = append(rows, fmt.Sprintf("%d:%q", s.Line(), cells))
	}
}

// TestSheetScannerWindows reads one sheet through windows of every size
// from one byte up, so that every tag, attribute and text is cut at a
// window's end somewhere, and wants the rows a large window reads. The
// sheet is read as written (prefixed, so every tag is read one by one)
// and without prefixes, as Excel, WPS and excelize write it, where most
// cells are read whole (simpleCell).
func TestSheetScannerWindows(t *testing.T) {
	want := []string{
		`1:["身份证号" "" "王&芳"]`,
		`3:["3.20812197503151E+17" "" "" "<1> 你好"]`,
		`4:[]`,
		`5:["李 强" "12.5"]`,
		`6:["2" " 空 格 " "" "a<b" "李 强"]`,
	}
	plain := strings.NewReplacer("<x:", "<", "</x:", "</").Replace(sheetXML)
	for _, xml := range []string{sheetXML, plain} {
		if got := scanRows(t, xml, scanWindow); strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Fatalf("rows:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		for w := 1; w <= 96; w++ {
			if got := scanRows(t, xml, w); strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Fatalf("window %d:\n%s\nwant:\n%s", w, strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
		}
	}
}

// TestIndexMergeCell: the tag found by its 'g' is where bytes.Index
// finds it, on random sheet-like text.
func TestIndexMergeCell(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 9))
	parts := []string{"<", "g", "<mergeCell ", "<mergeCells>", "mer", "ge", "Cell ", "<c r=\"A1\">", "customHeight", " "}
	for range 20000 {
		var b strings.Builder
		for range r.IntN(12) {
			b.WriteString(parts[r.IntN(len(parts))])
		}
		s := []byte(b.String())
		if got, want := indexMergeCell(s), bytes.Index(s, []byte(mergeCellTag)); got != want {
			t.Fatalf("%q: %d, bytes.Index %d", s, got, want)
		}
	}
}

// TestSheetScannerCutShort: a sheet that stops inside a tag, inside a
// cell's text or inside a row is an error naming the row, never rows.
func TestSheetScannerCutShort(t *testing.T) {
	for _, cut := range []string{`<x:row r="3" spans`, `<x:row r="3" spans="1:4"><x:c r="A3" s="2" note="a>b" t="n"><x:v>3208`, `<x:row r="4"/>` + "\n" + `<x:row r="5"><x:c t="s">`} {
		xml := sheetXML[:strings.Index(sheetXML, cut)+len(cut)]
		for _, w := range []int{3, scanWindow} {
			s := &xlsxSheet{wb: &workbook{shared: []string{"a", "b"}}, name: "S", rc: io.NopCloser(nil), sc: newSheetScanner(strings.NewReader(xml), w)}
			var err error
			for err == nil {
				_, err = s.Next()
			}
			if errors.Is(err, io.EOF) || !strings.Contains(err.Error(), `sheet "S"`) || !strings.Contains(err.Error(), "cut short") {
				t.Errorf("cut after %q, window %d: %v", cut, w, err)
			}
		}
	}
}

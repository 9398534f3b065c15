package ingest

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
)

// readAll reads every sheet with the package's reader.
func readAll(t *testing.T, path string) map[string][][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	wb, err := openXLSX(f)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][][]string{}
	for _, ref := range wb.sheets {
		s, err := wb.sheet(ref)
		if err != nil {
			t.Fatal(err)
		}
		for {
			cells, err := s.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			for len(out[ref.name]) < s.Line()-1 {
				out[ref.name] = append(out[ref.name], nil)
			}
			out[ref.name] = append(out[ref.name], append([]string(nil), cells...))
		}
	}
	return out
}

// TestXLSXReaderAgreesWithExcelize reads workbooks from two producers (a
// third-party surname table, and excelize's own writers with shared and
// inline strings, dates, numbers, gaps and escapes) and compares every
// cell with excelize's raw values.
func TestXLSXReaderAgreesWithExcelize(t *testing.T) {
	dir := t.TempDir()
	f := excelize.NewFile()
	sh := f.GetSheetName(0)
	f.SetSheetRow(sh, "A1", &[]any{"标题 & <说明>", nil, "x\"y'z"})
	f.SetSheetRow(sh, "B3", &[]any{"gap before", 12.5, time.Date(2024, 3, 5, 0, 0, 0, 0, time.UTC), true})
	f.NewSheet("第二页")
	sw, _ := f.NewStreamWriter("第二页")
	sw.SetRow("A1", []any{"户编号", "姓名", "金额"})
	sw.SetRow("A2", []any{"H1", "王芳", 1234.5})
	sw.SetRow("A5", []any{"H2", "李\t强", -3})
	sw.Flush()
	written := filepath.Join(dir, "w.xlsx")
	if err := f.SaveAs(written); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{filepath.Join("testdata", "surnames.xlsx"), written} {
		got := readAll(t, path)
		x, err := excelize.OpenFile(path, excelize.Options{RawCellValue: true})
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range x.GetSheetList() {
			want, _ := x.GetRows(name, excelize.Options{RawCellValue: true})
			g := got[name]
			if len(want) == 0 || len(trimRows(g)) != len(trimRows(want)) {
				t.Fatalf("%s %s: %d rows, excelize %d", filepath.Base(path), name, len(trimRows(g)), len(trimRows(want)))
			}
			for i := range want {
				if strings.Join(trimCells(g[i]), "|") != strings.Join(trimCells(want[i]), "|") {
					t.Errorf("%s %s row %d: %q, excelize %q", filepath.Base(path), name, i+1, g[i], want[i])
				}
			}
		}
		x.Close()
	}
}

func trimCells(c []string) []string {
	for len(c) > 0 && c[len(c)-1] == "" {
		c = c[:len(c)-1]
	}
	return c
}

func trimRows(r [][]string) [][]string {
	for len(r) > 0 && len(trimCells(r[len(r)-1])) == 0 {
		r = r[:len(r)-1]
	}
	return r
}

func TestXLSXCutShort(t *testing.T) {
	f := excelize.NewFile()
	sw, _ := f.NewStreamWriter(f.GetSheetName(0))
	for i := 1; i <= 2000; i++ {
		cell, _ := excelize.CoordinatesToCellName(1, i)
		sw.SetRow(cell, []any{"row", i, "some text to make the sheet longer than one block"})
	}
	sw.Flush()
	p := filepath.Join(t.TempDir(), "cut.xlsx")
	f.SaveAs(p)
	b, _ := os.ReadFile(p)
	os.WriteFile(p, b[:len(b)*2/3], 0o644)
	fh, _ := os.Open(p)
	defer fh.Close()
	if _, err := openXLSX(fh); err == nil || !strings.Contains(err.Error(), "not a readable XLSX") {
		t.Errorf("a cut workbook: %v", err)
	}
}

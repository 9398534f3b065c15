package ingest

import (
	"bytes"
	"errors"
	"io"
	"math"
	"strings"
	"testing"
	"unicode/utf8"
)

// The fuzz targets check properties that hold for any input: no panic,
// and what a parser accepts it accepts again in its canonical form. Seeds
// are in testdata/fuzz/<target>; `make test` runs each briefly.

func FuzzParseDate(f *testing.F) {
	for _, s := range []string{"2024-03-05", "2024/3/5", "20240305", "2024年3月5日", "2024.03.05", "45356", "2024-03-05 14:30:00", "2026-02-30", "", "0", "99999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := parseDate(s)
		if err != nil {
			return
		}
		if d.Year() < 1880 || d.Year() > 2200 {
			t.Errorf("%q read as %v, outside 1880–2200", s, d)
		}
		again, err := parseDate(d.Format("2006-01-02"))
		if err != nil || !again.Equal(d) {
			t.Errorf("%q read as %v, which reads back as %v (%v)", s, d, again, err)
		}
	})
}

func FuzzParseMoney(f *testing.F) {
	for _, s := range []string{"1234.5", "1,234.50", "¥1234", "1234元", "-5", "abc", "1e400", "NaN", "０.５", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := parseMoney(s)
		if err != nil {
			return
		}
		if v < 0 || math.IsNaN(v) || math.IsInf(v, 0) || v >= 1e12 {
			t.Errorf("%q read as %v", s, v)
		}
	})
}

func FuzzCheckID(f *testing.F) {
	for _, s := range []string{"11010519491231002X", "110105491231002", "１１０１０５１９４９１２３１００２Ｘ", "110105-19491231-002x", "1.10105E+17", "身份证", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		id, err := checkID(s)
		if err != nil {
			return
		}
		digits := 0
		for _, r := range fold(id) {
			if r >= '0' && r <= '9' {
				digits++
			}
		}
		if digits < 14 || digits > 18 {
			t.Errorf("%q accepted with %d digits", s, digits)
		}
	})
}

// FuzzHeader: a header row of any cells maps each canonical column to at
// most one cell that exists, and two columns never to one cell.
func FuzzHeader(f *testing.F) {
	f.Add("结算编号,身份证号,姓名,结算日期,个人自付")
	f.Add("结算编号,个人自付,自付金额")
	f.Add("（元）个人自付,【结算日期】, ID Number ,")
	f.Add("")
	tables := TablesOf("medins")
	f.Fuzz(func(t *testing.T, row string) {
		cells := strings.Split(row, ",")
		for _, tb := range tables {
			m, _, err := mapHeader(tb, newAliasIndex(tb, nil), cells)
			if err != nil {
				continue
			}
			used := map[int]bool{}
			for _, c := range m.cols {
				if c < 0 {
					continue
				}
				if c >= len(cells) || used[c] {
					t.Fatalf("cell %d mapped twice or out of range in %q", c, row)
				}
				used[c] = true
			}
		}
		isTotalsRow(cells)
		normHeader(row)
		stripBracketed(row)
	})
}

// FuzzCSV: any bytes read to the end without a panic or an endless loop,
// lines never go backwards, and every cell is valid UTF-8.
func FuzzCSV(f *testing.F) {
	f.Add([]byte(medinsCSV))
	f.Add([]byte("a;b\n\"x\ny\";2\n"))
	f.Add([]byte{0xFF, 0xFE, 'a', 0, ',', 0, 'b', 0, '\n', 0})
	f.Add([]byte("\xef\xbb\xbf结算编号\t姓名\n1\t\"王\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		src, err := newCSVSource(bytes.NewReader(data), "", "")
		if err != nil {
			return
		}
		last := 0
		for i := 0; i <= len(data)+1; i++ {
			cells, err := src.Next()
			if errors.Is(err, io.EOF) {
				return
			}
			var re *rowError
			if err != nil && !errors.As(err, &re) {
				return // a read error ends the file
			}
			if src.Line() < last {
				t.Fatalf("line went back from %d to %d", last, src.Line())
			}
			last = src.Line()
			for _, c := range cells {
				if !utf8.ValidString(c) {
					t.Fatalf("invalid UTF-8 cell %q", c)
				}
			}
		}
		t.Fatalf("more rows than bytes: the reader does not end")
	})
}

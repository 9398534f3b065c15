package ingest

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"
)

// badInput is one way a department's file goes wrong, and what ingest
// must make of it: the whole file rejected with a reason, or every row
// accounted for (stored, quarantined with a reason, or skipped).
type badInput struct {
	name   string
	file   string
	data   func(t *testing.T) []byte
	reject string // the file is rejected and the reason says this
	// otherwise:
	stored, quarantined, skipped int
	noted                        int      // values of stored rows left unknown or kept with a warning
	reasons                      []string // each must appear among the quarantine reasons
}

const header = "结算编号,身份证号,姓名,结算日期,个人自付\n"

func text(s string) func(*testing.T) []byte { return func(*testing.T) []byte { return []byte(s) } }

func rowsCSV(rows ...string) func(*testing.T) []byte {
	return text(header + strings.Join(rows, "\n") + "\n")
}

func xlsx(rows ...[]any) func(t *testing.T) []byte {
	return func(t *testing.T) []byte {
		f := excelize.NewFile()
		for i, r := range rows {
			cell, _ := excelize.CoordinatesToCellName(1, i+1)
			f.SetSheetRow("Sheet1", cell, &r)
		}
		f.NewSheet("空表")
		var b bytes.Buffer
		if err := f.Write(&b); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
}

var badInputs = []badInput{
	{name: "truncated CSV (cut in a quoted field)", file: "cut.csv",
		data:   text(header + "S1,11010519491231002X,王芳,2024-03-05,10\nS2,11010519491231002X,\"王"),
		stored: 1, quarantined: 1, reasons: []string{"a cut line"}},
	{name: "truncated XLSX", file: "cut.xlsx", data: func(t *testing.T) []byte {
		b := xlsx([]any{"结算编号", "结算日期", "个人自付"}, []any{"S1", "2024-03-05", 1})(t)
		return b[:len(b)/2]
	}, reject: "zip"},
	{name: "wrong encoding (GB18030 sent where UTF-8 began)", file: "mixed.csv", data: func(t *testing.T) []byte {
		return append([]byte(header+"S1,11010519491231002X,王芳,2024-03-05,10\n"), gb(t, "S2,11010519491231002X,李强,2024-03-05,10\n")...)
	}, stored: 1, quarantined: 1, reasons: []string{"bytes that are not valid"}},
	{name: "binary garbage", file: "garbage.csv", data: text("\x7fELF\x02\x01\x01\x00\x00\x00garbage"), reject: "not text"},
	{name: "empty file", file: "empty.csv", data: text(""), reject: "empty"},
	{name: "header only", file: "header.csv", data: text(header)},
	{name: "duplicate headers", file: "dup.csv", data: text("结算编号,个人自付,自付金额,结算日期\nS1,1,2,2024-03-05\n"), reject: "are both out of pocket"},
	{name: "unknown headers", file: "unknown.csv", data: text("编号,金额,日期\n1,2,3\n"), reject: "missing out_of_pocket"},
	{name: "100,000-character field", file: "long.csv", data: rowsCSV("S1,11010519491231002X," + strings.Repeat("王", 100_000) + ",2024-03-05,10"),
		stored: 1},
	{name: "100,000-character ID", file: "longid.csv", data: rowsCSV("S1," + strings.Repeat("1", 100_000) + ",王芳,2024-03-05,10"),
		stored: 1, noted: 1, reasons: []string{"an ID number has 18"}},
	{name: "dates in every form", file: "dates.csv", data: rowsCSV(
		"D1,,王芳,2024-03-05,1", "D2,,王芳,2024/3/5,1", "D3,,王芳,20240305,1", "D4,,王芳,2024年3月5日,1", "D5,,王芳,2024.03.05,1",
		"D6,,王芳,45356,1", "D7,,王芳,2024-03-05 14:30:00,1", "D8,,王芳,2024-03-05T14:30:00+08:00,1", "D9,,王芳,２０２４－０３－０５,1"),
		stored: 9},
	{name: "impossible dates", file: "baddates.csv", data: rowsCSV(
		"D1,,王芳,2026-02-30,1", "D2,,王芳,2024-13-01,1", "D3,,王芳,2024年2月30日,1", "D4,,王芳,00000000,1", "D5,,王芳,yesterday,1", "D6,,王芳,1800-01-01,1"),
		quarantined: 6, reasons: []string{"not a real date", "not a date"}},
	{name: "money in every form", file: "money.csv", data: rowsCSV(
		"M1,,王芳,2024-03-05,1234.5", "M2,,王芳,2024-03-05,\"1,234.50\"", "M3,,王芳,2024-03-05,¥1234", "M4,,王芳,2024-03-05,1234元", "M5,,王芳,2024-03-05,０"),
		stored: 5},
	{name: "negative and non-numeric money", file: "badmoney.csv", data: rowsCSV(
		"M1,,王芳,2024-03-05,-5", "M2,,王芳,2024-03-05,abc", "M3,,王芳,2024-03-05,1.2.3", "M4,,王芳,2024-03-05,NaN", "M5,,王芳,2024-03-05,1e400"),
		quarantined: 5, reasons: []string{"negative", "not an amount"}},
	{name: "IDs in every accepted form", file: "ids.csv", data: rowsCSV(
		"I1,11010519491231002X,王芳,2024-03-05,1", "I2,11010519491231002x,王芳,2024-03-05,1", "I3,110105491231002,王芳,2024-03-05,1",
		"I4,１１０１０５１９４９１２３１００２Ｘ,王芳,2024-03-05,1", "I5,110105 19491231 002X,王芳,2024-03-05,1", "I6,110105-19491231-002X,王芳,2024-03-05,1",
		"I7,'11010519491231002X,王芳,2024-03-05,1", "I8,110105194912310021,王芳,2024-03-05,1"),
		stored: 8}, // a wrong check character (I8) is stored as sent: linking decides what it is
	{name: "IDs in broken forms", file: "badids.csv", data: rowsCSV(
		"I1,1101051949,王芳,2024-03-05,1", "I2,11010519491231002X1234,王芳,2024-03-05,1", "I3,11010519491231002?,王芳,2024-03-05,1",
		"I4,1.10105E+17,王芳,2024-03-05,1", "I5,身份证,王芳,2024-03-05,1", "I6,3.20812197503151E+17,王芳,2024-03-05,1"),
		// The ID is not required: each row is kept with its ID unknown (or,
		// in Excel's number form, as sent) and the department is told.
		stored: 6, noted: 6, reasons: []string{"has 10 digits", "characters an ID number cannot have", "Excel stored this ID as a number"}},
	{name: "IDs as Excel and WPS users escape them", file: "escapedids.csv", data: rowsCSV(
		`E1,"=""11010519491231002X""",王芳,2024-03-05,1`, "E2,'11010519491231002X,王芳,2024-03-05,1", "E3,\t11010519491231002X,王芳,2024-03-05,1",
		"E4,\u00a011010519491231002X\u00a0,王芳,2024-03-05,1", "E5,\u300011010519491231002X,王芳,2024-03-05,1",
		"E6,110105\u200b19491231002X,王芳,2024-03-05,1", `E7,"""11010519491231002X""",王芳,2024-03-05,1`,
		"E8,１１０１０５１９４９１２３１００２Ｘ,王芳,2024-03-05,1", "E9,“11010519491231002x”,王芳,2024-03-05,1"),
		stored: 9},
	{name: "amounts in ten thousands and placeholders", file: "wan.csv", data: rowsCSV(
		"W1,,王芳,2024-03-05,1.2万", "W2,,王芳,2024-03-05,3万元", "W3,,王芳,2024-03-05,１，２３４．５", "W4,,王芳,2024-03-05,-"),
		stored: 3, quarantined: 1, reasons: []string{"empty but required"}},
	{name: "date-times from exchange systems", file: "datetimes.csv", data: rowsCSV(
		"T1,,王芳,20240305143000,1", "T2,,王芳,2024-03-05 14:30:59,1", "T3,,王芳,2024/3/5 8:00:00,1", "T4,,王芳,202403051430,1", "T5,,王芳,=\"2024-03-05\",1"),
		stored: 5},
	{name: "totals row and blank lines", file: "totals.csv", data: rowsCSV("S1,,王芳,2024-03-05,10", "", ",,,,", "合计,,,,10"), stored: 1, skipped: 1},
	{name: "duplicate records", file: "dups.csv", data: rowsCSV("S1,,王芳,2024-03-05,10", "S1,,王芳,2024-03-05,10", "S1,,王芳,2024-03-05,11"),
		stored: 1, quarantined: 1, skipped: 1, reasons: []string{"appears again with other values (first on line 2)"}},
	{name: "XLSX with an empty sheet and a totals row", file: "sheets.xlsx", data: xlsx(
		[]any{"医保结算表"}, []any{"结算编号", "身份证号", "姓名", "结算日期", "个人自付"},
		[]any{"S1", "11010519491231002X", "王芳", "2024-03-05", 10}, []any{"合计", "", "", "", 10}),
		stored: 1, skipped: 1},
	{name: "XLSX whose only sheet is empty", file: "blank.xlsx", data: func(t *testing.T) []byte {
		f := excelize.NewFile()
		var b bytes.Buffer
		f.Write(&b)
		return b.Bytes()
	}, reject: "is empty"},
}

func TestBadInputs(t *testing.T) {
	for _, c := range badInputs {
		t.Run(c.name, func(t *testing.T) {
			db := openDB(t)
			res, err := IngestFile(context.Background(), db, "medins", write(t, c.file, c.data(t)), Options{})
			if c.reject != "" {
				var fe *FileError
				if !errors.As(err, &fe) || !strings.Contains(fe.Error(), c.reject) || !strings.Contains(fe.Error(), c.file) {
					t.Fatalf("want the file rejected naming it and saying %q, got %v", c.reject, err)
				}
				if n := count(t, db, `SELECT count(*) FROM canon_medins`) + count(t, db, `SELECT count(*) FROM ingest_quarantine`); n != 0 {
					t.Errorf("a rejected file left %d rows", n)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if res.New != c.stored || res.Quarantined != c.quarantined || res.Skipped != c.skipped || res.Noted != c.noted {
				t.Errorf("stored %d quarantined %d skipped %d noted %d, want %d %d %d %d", res.New, res.Quarantined, res.Skipped, res.Noted,
					c.stored, c.quarantined, c.skipped, c.noted)
			}
			// Nothing lost: every data row read is stored, quarantined or skipped.
			if res.Read != res.New+res.Changed+res.Unchanged+res.Quarantined+res.Skipped {
				t.Errorf("read %d rows but accounted for %d", res.Read, res.New+res.Quarantined+res.Skipped)
			}
			var all strings.Builder
			rows, _ := db.Query(`SELECT reason, line FROM ingest_quarantine`)
			for rows.Next() {
				var r string
				var line int
				rows.Scan(&r, &line)
				if line < 2 {
					t.Errorf("quarantined row without its line: %d %s", line, r)
				}
				all.WriteString(r + "\n")
			}
			rows.Close()
			for _, want := range c.reasons {
				if !strings.Contains(all.String(), want) {
					t.Errorf("no quarantine reason says %q:\n%s", want, all.String())
				}
			}
		})
	}
}

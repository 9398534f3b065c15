package ingest

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/unicode"
)

func utf16le(t *testing.T, s string, bom bool) []byte {
	t.Helper()
	policy := unicode.IgnoreBOM
	if bom {
		policy = unicode.UseBOM
	}
	b, err := unicode.UTF16(unicode.LittleEndian, policy).NewEncoder().Bytes([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestIngestParquet(t *testing.T) {
	db := openDB(t)
	p := filepath.Join(t.TempDir(), "settlements.parquet")
	// A real Parquet file with typed columns, written by DuckDB.
	_, err := db.Exec(`COPY (SELECT * FROM (VALUES
		('S1', '11010519491231002X', '王芳', DATE '2024-03-05', 12000.00::DECIMAL(12,2), 4000.5::DOUBLE),
		('S2', '110105491231002',   '王芳', DATE '2024-03-06', 300.00, 100),
		('S3', 'bad-id',            '李强', NULL,              50.00, 50)) v(结算编号, 身份证号, 姓名, 结算日期, 医疗总费用, 个人自付))
		TO ` + quoteSQL(p) + ` (FORMAT parquet)`)
	if err != nil {
		t.Fatal(err)
	}
	res, err := IngestFile(context.Background(), db, "medins", p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Encoding != "parquet" || res.New != 2 || res.Quarantined != 1 {
		t.Fatalf("got %+v", res)
	}
	var oop float64
	var date string
	if err := db.QueryRow(`SELECT out_of_pocket, CAST(settle_date AS VARCHAR) FROM medins WHERE record_id = 'S1'`).Scan(&oop, &date); err != nil {
		t.Fatal(err)
	}
	if oop != 4000.5 || date != "2024-03-05" {
		t.Errorf("S1: %v %s", oop, date)
	}
	var line int
	db.QueryRow(`SELECT line FROM ingest_quarantine`).Scan(&line)
	if line != 4 {
		t.Errorf("the third row is line %d, want 4 (the header counts as line 1)", line)
	}
}

func TestIngestParquetCorrupt(t *testing.T) {
	db := openDB(t)
	_, err := IngestFile(context.Background(), db, "medins", write(t, "cut.parquet", []byte("PAR1 not really")), Options{})
	if err == nil || !strings.Contains(err.Error(), "Parquet") {
		t.Fatalf("want a Parquet error, got %v", err)
	}
}

func TestIngestJSONArray(t *testing.T) {
	for name, doc := range map[string]string{
		"bare.json": `[
  {"病案号":"H1","身份证号":"11010519491231002X","姓名":"王芳","类型":"死亡","日期":"2024-03-05"},
  {"病案号":"H2","身份证号":"11010519491231002X","姓名":"王芳","类型":"住院","日期":20240301,"诊断编码":"C34.1"},
  "not an object",
  {"病案号":"H3","身份证号":"11010519491231002X","姓名":"王芳","类型":"住院","日期":"2024-13-01"}
]`,
		"wrapped.json": `{"code": 0, "meta": {"page": 1, "tags": ["a"]}, "data": [
  {"病案号":"H1","身份证号":"11010519491231002X","姓名":"王芳","类型":"死亡","日期":"2024-03-05"},
  {"病案号":"H2","身份证号":"11010519491231002X","姓名":"王芳","类型":"住院","日期":20240301,"诊断编码":"C34.1"},
  "not an object",
  {"病案号":"H3","身份证号":"11010519491231002X","姓名":"王芳","类型":"住院","日期":"2024-13-01"}
]}`,
	} {
		t.Run(name, func(t *testing.T) {
			db := openDB(t)
			res, err := IngestFile(context.Background(), db, "health", write(t, name, []byte(doc)), Options{})
			if err != nil {
				t.Fatal(err)
			}
			if res.New != 2 || res.Quarantined != 2 {
				t.Fatalf("got %+v", res)
			}
			// The diagnosis key is absent from the first object and still read.
			if n := count(t, db, `SELECT count(*) FROM health WHERE diagnosis_code = 'C34.1'`); n != 1 {
				t.Errorf("a key missing from the first object was lost")
			}
			lines := map[int]bool{}
			rows, _ := db.Query(`SELECT line FROM ingest_quarantine`)
			for rows.Next() {
				var l int
				rows.Scan(&l)
				lines[l] = true
			}
			rows.Close()
			if !lines[4] || !lines[5] {
				t.Errorf("quarantined lines %v, want 4 and 5", lines)
			}
		})
	}
}

func TestIngestJSONArrayTruncated(t *testing.T) {
	db := openDB(t)
	doc := `[{"病案号":"H1","身份证号":"11010519491231002X","姓名":"王芳","类型":"死亡","日期":"2024-03-05"},
{"病案号":"H2","身份证`
	_, err := IngestFile(context.Background(), db, "health", write(t, "cut.json", []byte(doc)), Options{})
	if err == nil || !strings.Contains(err.Error(), "line 2") || !strings.Contains(err.Error(), "cut short") {
		t.Fatalf("want a file error naming line 2, got %v", err)
	}
	if n := count(t, db, `SELECT count(*) FROM canon_health`); n != 0 {
		t.Errorf("a cut file stored %d rows", n)
	}
}

// Excel's "Unicode text" export: UTF-16LE with a BOM, tab-separated; and
// the same without the BOM.
func TestIngestUTF16(t *testing.T) {
	text := strings.ReplaceAll(strings.ReplaceAll(medinsCSV, `"12,000.00"`, "12000"), ",", "\t")
	for _, bom := range []bool{true, false} {
		db := openDB(t)
		res, err := IngestFile(context.Background(), db, "medins", write(t, "unicode.txt", utf16le(t, text, bom)), Options{})
		if err != nil {
			t.Fatalf("bom %v: %v", bom, err)
		}
		if res.Encoding != "utf-16le" || res.New != 3 || res.Quarantined != 0 {
			t.Fatalf("bom %v: %+v", bom, res)
		}
		if n := count(t, db, `SELECT count(*) FROM medins WHERE name = '王芳'`); n != 2 {
			t.Errorf("bom %v: Chinese text not read", bom)
		}
	}
}

// Quoted fields may hold the delimiter, quotes and line breaks; the line
// of every later row is still the line it starts on.
func TestIngestCSVQuotedNewlines(t *testing.T) {
	db := openDB(t)
	data := "结算编号;姓名;诊断编码;结算日期;个人自付\n" +
		"S1;\"王\n芳\";\"C34;1\";2024-03-05;10\n" +
		"S2;\"李 \"\"强\"\"\";C34;2024-03-05;10\n" +
		"S3;赵敏;C34;2024-02-30;10\n"
	res, err := IngestFile(context.Background(), db, "medins", write(t, "semi.csv", []byte(data)), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res.New != 2 || res.Quarantined != 1 {
		t.Fatalf("got %+v", res)
	}
	var line int
	db.QueryRow(`SELECT line FROM ingest_quarantine`).Scan(&line)
	if line != 5 {
		t.Errorf("S3 starts on line 5, quarantine says %d", line)
	}
	if n := count(t, db, `SELECT count(*) FROM medins WHERE name = '王'||chr(10)||'芳' AND diagnosis_code = 'C34;1'`); n != 1 {
		t.Errorf("quoted newline or delimiter not kept")
	}
	if n := count(t, db, `SELECT count(*) FROM medins WHERE record_id = 'S2' AND line = 4`); n != 1 {
		t.Errorf("S2's lineage line is not 4")
	}
}

// A GB18030 file whose first 64 KiB are ASCII fools the detection; the
// encoding forced in config reads it whole.
func TestIngestForcedEncodingAndDelimiter(t *testing.T) {
	var b bytes.Buffer
	b.WriteString("结算编号|姓名|结算日期|个人自付\n")
	for i := 0; b.Len() < 80<<10; i++ {
		b.WriteString("S" + itoa(i) + "|WANG|2024-03-05|10\n")
	}
	b.WriteString("LAST|李强|2024-03-05|10\n")
	raw := append(gb(t, "结算编号|姓名|结算日期|个人自付\n"), b.Bytes()[len("结算编号|姓名|结算日期|个人自付\n"):]...)
	raw = append(raw[:len(raw)-len("LAST|李强|2024-03-05|10\n")], gb(t, "LAST|李强|2024-03-05|10\n")...)

	db := openDB(t)
	res, err := IngestFile(context.Background(), db, "medins", write(t, "gbk.csv", raw), Options{Encoding: "gb18030", Delimiter: "|"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Encoding != "gb18030" || res.Quarantined != 0 {
		t.Fatalf("forced: %+v", res)
	}
	if n := count(t, db, `SELECT count(*) FROM medins WHERE record_id = 'LAST' AND name = '李强'`); n != 1 {
		t.Errorf("the GB18030 row at the end was not read")
	}
}

// A workbook with a sheet per month, a notes sheet and an empty sheet, and
// a two-row header made of merged cells.
func TestIngestXLSXSheetsAndMergedHeader(t *testing.T) {
	f := excelize.NewFile()
	months := []string{"1月", "2月", "3月"}
	for i, m := range months {
		sh := m
		if i == 0 {
			f.SetSheetName(f.GetSheetName(0), sh)
		} else {
			f.NewSheet(sh)
		}
		f.SetSheetRow(sh, "A1", &[]any{"2024年" + m + "医保结算明细"})
		f.MergeCell(sh, "A1", "F1")
		// Row 2: 结算编号 and 姓名 merged down over rows 2–3; 费用 merged across.
		f.SetSheetRow(sh, "A2", &[]any{"结算编号", "身份证号", "姓名", "结算日期", "费用", ""})
		f.MergeCell(sh, "A2", "A3")
		f.MergeCell(sh, "B2", "B3")
		f.MergeCell(sh, "C2", "C3")
		f.MergeCell(sh, "D2", "D3")
		f.MergeCell(sh, "E2", "F2")
		f.SetSheetRow(sh, "E3", &[]any{"医疗总费用", "个人自付"}) // the cells under the merges stay empty, as Excel leaves them
		f.SetSheetRow(sh, "A4", &[]any{"S" + itoa(i) + "a", "11010519491231002X", "王芳", "2024-0" + itoa(i+1) + "-05", 1000, 100})
		f.SetSheetRow(sh, "A5", &[]any{"S" + itoa(i) + "b", "11010519491231002X", "王芳", "2024-0" + itoa(i+1) + "-06", 2000, "两百"})
		f.SetSheetRow(sh, "A6", &[]any{"合计", "", "", "", 3000, 100})
	}
	f.NewSheet("填表说明")
	f.SetSheetRow("填表说明", "A1", &[]any{"本表由医保局每月导出。"})
	f.NewSheet("空白")
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		t.Fatal(err)
	}
	db := openDB(t)
	res, err := IngestFile(context.Background(), db, "medins", write(t, "2024Q1.xlsx", buf.Bytes()), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res.New != 3 || res.Quarantined != 3 || res.Skipped != 3 {
		t.Fatalf("got %+v", res)
	}
	if len(res.Notes) < 2 {
		t.Errorf("the notes and empty sheets should be noted as skipped: %v", res.Notes)
	}
	// Lineage names the sheet and the row.
	if n := count(t, db, `SELECT count(*) FROM medins WHERE record_id = 'S1a' AND sheet = '2月' AND line = 4 AND total_cost = 1000`); n != 1 {
		t.Errorf("S1a lineage or merged-header column wrong")
	}
	if n := count(t, db, `SELECT count(*) FROM ingest_quarantine WHERE sheet = '3月' AND line = 5 AND col = 'out_of_pocket' AND raw_value = '两百'`); n != 1 {
		t.Errorf("quarantine lineage wrong")
	}
}

func TestSchemaDriftAndRelease(t *testing.T) {
	db := openDB(t)
	ctx := context.Background()
	first := "结算编号,身份证号,姓名,结算日期,个人自付,医疗总费用\n" +
		"S1,11010519491231002X,王芳,2024-03-05,100,1000\n" +
		"S2,11010519491231002X,王芳,2024-02-30,100,1000\n"
	dir := t.TempDir()
	p := filepath.Join(dir, "settlements.csv")
	writeFile(t, p, first)
	res, err := IngestFile(ctx, db, "medins", p, Options{})
	if err != nil || res.Quarantined != 1 || len(res.Drift) != 0 {
		t.Fatalf("first: %+v %v", res, err)
	}
	// The department renames a column, drops another, adds one, and fixes S2.
	second := "结算编号,身份证号,姓名,结算时间,自付金额,备注\n" +
		"S1,11010519491231002X,王芳,2024-03-05,100,\n" +
		"S2,11010519491231002X,王芳,2024-03-01,100,改正\n"
	writeFile(t, p, second)
	res, err = IngestFile(ctx, db, "medins", p, Options{Aliases: map[string][]string{"settle_date": {"结算时间"}}})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, d := range res.Drift {
		got[d.Kind+" "+d.Col+" "+d.Now] = true
	}
	for _, w := range []string{"renamed settle_date 结算时间", "renamed out_of_pocket 自付金额", "missing total_cost ", "new  备注"} {
		if !got[w] {
			t.Errorf("drift %q not reported; got %v", w, res.Drift)
		}
	}
	if n := count(t, db, `SELECT count(*) FROM ingest_drift WHERE batch_id = ?`, res.BatchID); n != len(res.Drift) {
		t.Errorf("drift rows %d, reported %d", n, len(res.Drift))
	}
	if res.Released != 1 || res.New != 1 {
		t.Errorf("the fixed file should release S2's quarantined row and store it: %+v", res)
	}
	if n := count(t, db, `SELECT count(*) FROM ingest_quarantine WHERE released_by IS NULL`); n != 0 {
		t.Errorf("%d quarantined rows still open", n)
	}
}

func writeFile(t *testing.T, p, s string) {
	t.Helper()
	if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

func quoteSQL(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

package ingest

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/simplifiedchinese"

	"safetynet/store"
)

func openDB(t *testing.T) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "t.duckdb"), Migrations())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func write(t *testing.T, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func gb(t *testing.T, s string) []byte {
	b, err := simplifiedchinese.GB18030.NewEncoder().Bytes([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func count(t *testing.T, db *store.DB, q string, args ...any) int {
	t.Helper()
	var n int
	if err := db.QueryRow(q, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

const medinsCSV = "结算编号,身份证号,姓名,就诊类型,结算日期,医疗总费用（元）,统筹支付,个人自付\n" +
	"S1,11010519491231002X,王芳,住院,2024-03-05,\"12,000.00\",8000,¥4000\n" +
	"S2,110105491231002,王芳,门诊,2024/3/6,300,200,100元\n" +
	"S3,,李强,门诊,2024年3月7日,50,0,50\n"

func TestIngestCSVEncodings(t *testing.T) {
	for _, c := range []struct {
		name, enc string
		data      []byte
	}{
		{"utf8.csv", "utf-8", []byte(medinsCSV)},
		{"bom.csv", "utf-8-bom", append([]byte{0xEF, 0xBB, 0xBF}, medinsCSV...)},
		{"gbk.csv", "gb18030", gb(t, medinsCSV)},
		{"tabs.txt", "utf-8", []byte(strings.ReplaceAll(strings.ReplaceAll(medinsCSV, "\"12,000.00\"", "12000"), ",", "\t"))},
	} {
		t.Run(c.name, func(t *testing.T) {
			db := openDB(t)
			res, err := IngestFile(context.Background(), db, "medins", write(t, c.name, c.data), Options{})
			if err != nil {
				t.Fatal(err)
			}
			if res.Encoding != c.enc || res.New != 3 || res.Quarantined != 0 {
				t.Fatalf("got %+v", res)
			}
			var oop float64
			var date string
			if err := db.QueryRow(`SELECT out_of_pocket, CAST(settle_date AS VARCHAR) FROM medins WHERE record_id = 'S1'`).Scan(&oop, &date); err != nil {
				t.Fatal(err)
			}
			if oop != 4000 || date != "2024-03-05" {
				t.Errorf("S1: out_of_pocket %v, settle_date %s", oop, date)
			}
			if n := count(t, db, `SELECT count(*) FROM medins WHERE name = '王芳' AND visit_type = 'inpatient'`); n != 1 {
				t.Errorf("Chinese text or enum not read: %d", n)
			}
		})
	}
}

func TestIngestSameFileTwiceAddsNothing(t *testing.T) {
	db := openDB(t)
	ctx := context.Background()
	p := write(t, "m.csv", []byte(medinsCSV))
	if _, err := IngestFile(ctx, db, "medins", p, Options{}); err != nil {
		t.Fatal(err)
	}
	res, err := IngestFile(ctx, db, "medins", p, Options{})
	if err != nil || !res.AlreadyIngested {
		t.Fatalf("second ingest: %+v %v", res, err)
	}
	// The same rows in another file (other bytes) are recognised row by row.
	res, err = IngestFile(ctx, db, "medins", write(t, "m2.csv", []byte(medinsCSV+"\n")), Options{})
	if err != nil || res.New != 0 || res.Unchanged != 3 {
		t.Fatalf("same rows again: %+v %v", res, err)
	}
	if n := count(t, db, `SELECT count(*) FROM canon_medins`); n != 3 {
		t.Errorf("canon_medins has %d rows, want 3", n)
	}
	// A changed record keeps its earlier version.
	changed := strings.Replace(medinsCSV, "¥4000", "4100", 1)
	res, err = IngestFile(ctx, db, "medins", write(t, "m3.csv", []byte(changed)), Options{})
	if err != nil || res.Changed != 1 || res.Unchanged != 2 {
		t.Fatalf("changed record: %+v %v", res, err)
	}
	if n := count(t, db, `SELECT count(*) FROM canon_medins WHERE record_key = 'S1'`); n != 2 {
		t.Errorf("versions of S1: %d, want 2", n)
	}
	if n := count(t, db, `SELECT count(*) FROM medins WHERE record_id = 'S1' AND out_of_pocket = 4100`); n != 1 {
		t.Errorf("current S1 is not the new version")
	}
}

func TestIngestQuarantinesBadRows(t *testing.T) {
	db := openDB(t)
	data := "结算编号,身份证号,姓名,结算日期,个人自付\n" +
		"S1,11010519491231002X,王芳,2024-03-05,100\n" +
		"S2,11010519491231002X,王芳,2026-02-30,100\n" + // impossible date
		"S3,11010519491231002X,王芳,2024-03-05,-5\n" + // negative money
		"S4,not-an-id,王芳,2024-03-05,abc\n" + // bad ID and money
		"S5,11010519491231002X,王芳,,100\n" + // required date empty
		"S1,11010519491231002X,王芳,2024-03-05,999\n" + // duplicate key, other values
		"S1,11010519491231002X,王芳,2024-03-05,100\n" + // exact duplicate
		"S6,11010519491231002X\n" + // cut line
		"合计,,,,400\n"
	res, err := IngestFile(context.Background(), db, "medins", write(t, "bad.csv", []byte(data)), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res.New != 1 || res.Quarantined != 6 || res.Skipped != 2 {
		t.Fatalf("got %+v", res)
	}
	want := map[int]string{3: "not a real date", 4: "negative", 5: "characters an ID number cannot have", 6: "empty but required", 7: "appears again", 9: "fields"}
	rows, err := db.Query(`SELECT line, coalesce(col, ''), reason, file_name FROM ingest_quarantine ORDER BY line`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	seen := 0
	for rows.Next() {
		var line int
		var col, reason, file string
		rows.Scan(&line, &col, &reason, &file)
		if !strings.Contains(reason, want[line]) || filepath.Base(file) != "bad.csv" {
			t.Errorf("line %d (%s): reason %q, want it to say %q", line, col, reason, want[line])
		}
		seen++
	}
	if seen != 6 {
		t.Errorf("quarantine has %d rows", seen)
	}
}

func TestIngestXLSXWithTitleAndTotals(t *testing.T) {
	db := openDB(t)
	f := excelize.NewFile()
	sh := f.GetSheetName(0)
	f.SetSheetRow(sh, "A1", &[]any{"2024年第一季度残疾人证发放情况"})
	f.MergeCell(sh, "A1", "G1")
	f.SetSheetRow(sh, "A2", &[]any{"制表单位：区残联"})
	f.SetSheetRow(sh, "A3", &[]any{"残疾证号", "姓名", "身份证号", "残疾类别", "残疾等级", "发证日期", "变动类型"})
	f.SetSheetRow(sh, "A4", &[]any{"D1", "张伟", "11010519491231002X", "肢体", "一级", 45356, "新办"}) // 45356 = 2024-03-05
	f.SetSheetRow(sh, "A5", &[]any{"D2", "李娜", "110105194912310021", "视力", "3", "2024-03-06", "变更"})
	f.SetSheetRow(sh, "A6", &[]any{"D3", "赵敏", "", "精神", "五级", "2024-03-06", "新办"})
	f.SetSheetRow(sh, "A7", &[]any{"合计", "", "", "", "", "", ""})
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		t.Fatal(err)
	}
	res, err := IngestFile(context.Background(), db, "disability", write(t, "d.xlsx", buf.Bytes()), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res.New != 2 || res.Quarantined != 1 || res.Skipped != 1 {
		t.Fatalf("got %+v", res)
	}
	var issued string
	var level int
	db.QueryRow(`SELECT CAST(issued_on AS VARCHAR), level FROM disability WHERE record_id = 'D1'`).Scan(&issued, &level)
	if issued != "2024-03-05" || level != 1 {
		t.Errorf("D1: issued %s level %d", issued, level)
	}
	var line int
	db.QueryRow(`SELECT line FROM ingest_quarantine`).Scan(&line)
	if line != 6 {
		t.Errorf("quarantined row is on line %d, want 6", line)
	}
}

func TestIngestJSONL(t *testing.T) {
	db := openDB(t)
	data := `{"病案号":"H1","身份证号":"11010519491231002X","姓名":"王芳","类型":"死亡","日期":"2024-03-05"}
{"病案号":"H2","身份证号":"11010519491231002X","姓名":"王芳","类型":"住院","日期":20240301,"诊断编码":"C34.1"}
{"病案号":"H3","身份证号":
`
	res, err := IngestFile(context.Background(), db, "health", write(t, "h.jsonl", []byte(data)), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res.New != 2 || res.Quarantined != 1 {
		t.Fatalf("got %+v", res)
	}
	if n := count(t, db, `SELECT count(*) FROM health WHERE event_type = 'death'`); n != 1 {
		t.Errorf("death events: %d", n)
	}
}

func TestIngestRejectsUnreadableFiles(t *testing.T) {
	cases := map[string][]byte{
		"empty.csv":      {},
		"binary.csv":     {0x00, 0x01, 0x02, 0xff, 0x00},
		"noheader.csv":   []byte("a,b,c\n1,2,3\n"),
		"twice.csv":      []byte("结算编号,个人自付,自付金额,结算日期\n1,2,3,2024-01-01\n"),
		"truncated.xlsx": []byte("PK\x03\x04 this is not a whole zip"),
		"notes.pdf":      []byte("%PDF-1.4"),
	}
	for name, data := range cases {
		t.Run(name, func(t *testing.T) {
			db := openDB(t)
			_, err := IngestFile(context.Background(), db, "medins", write(t, name, data), Options{})
			var fe *FileError
			if !errors.As(err, &fe) {
				t.Fatalf("want a FileError, got %v", err)
			}
			t.Log(fe)
			if n := count(t, db, `SELECT count(*) FROM ingest_batches`); n != 0 {
				t.Errorf("a rejected file left %d batches", n)
			}
		})
	}
}

func TestDropMovesFiles(t *testing.T) {
	db := openDB(t)
	root := t.TempDir()
	d := Drop{Source: "medins", Inbox: filepath.Join(root, "inbox", "medins"), Processed: filepath.Join(root, "processed"), Rejected: filepath.Join(root, "rejected")}
	os.MkdirAll(d.Inbox, 0o755)
	os.WriteFile(filepath.Join(d.Inbox, "good.csv"), []byte(medinsCSV), 0o644)
	os.WriteFile(filepath.Join(d.Inbox, "bad.csv"), []byte("x,y\n1,2\n"), 0o644)
	os.WriteFile(filepath.Join(d.Inbox, "upload.csv.part"), []byte("x"), 0o644)
	res, rejected, err := d.Run(context.Background(), db, discard())
	if err != nil || len(res) != 1 || rejected != 1 {
		t.Fatalf("run: %v, %d rejected, %v", res, rejected, err)
	}
	left, _ := d.Pending()
	if len(left) != 0 {
		t.Errorf("still pending: %v", left)
	}
	reasons, _ := filepath.Glob(filepath.Join(root, "rejected", "medins", "*bad.csv.reason.txt"))
	processed, _ := filepath.Glob(filepath.Join(root, "processed", "medins", "*good.csv"))
	if len(reasons) != 1 || len(processed) != 1 {
		t.Errorf("reasons %v processed %v", reasons, processed)
	}
	if _, err := os.Stat(filepath.Join(d.Inbox, "upload.csv.part")); err != nil {
		t.Errorf("an upload in progress was touched: %v", err)
	}
}

func TestConfigAliases(t *testing.T) {
	db := openDB(t)
	data := "流水号,证件,结算时间,自费金额\nS1,11010519491231002X,2024-03-05,12.5\n"
	p := write(t, "alias.csv", []byte(data))
	if _, err := IngestFile(context.Background(), db, "medins", p, Options{}); err == nil {
		t.Fatal("unknown headers were accepted without aliases")
	} else if !strings.Contains(err.Error(), "out_of_pocket") || !strings.Contains(err.Error(), "aliases") {
		t.Errorf("the rejection does not say what is missing and how to fix it: %v", err)
	}
	aliases := map[string][]string{"record_id": {"流水号"}, "id_number": {"证件"}, "settle_date": {"结算时间"}, "out_of_pocket": {"自费金额（元）"}}
	res, err := IngestFile(context.Background(), db, "medins", p, Options{Aliases: aliases})
	if err != nil || res.New != 1 {
		t.Fatalf("with aliases: %+v %v", res, err)
	}
}

// TestIngestMixedEncoding: a file that starts as UTF-8 and later holds a
// row in GB18030 keeps every good row and quarantines the other with a
// reason that says what to do.
func TestIngestMixedEncoding(t *testing.T) {
	db := openDB(t)
	var b bytes.Buffer
	b.WriteString("结算编号,姓名,结算日期,个人自付\n")
	n := 0
	for b.Len() < 80<<10 { // past the part the encoding is guessed from
		n++
		b.WriteString("S" + strings.Repeat("0", 6-len(itoa(n))) + itoa(n) + ",王芳,2024-03-05,10\n")
	}
	b.Write(gb(t, "BAD1,李强,2024-03-05,10\n"))
	b.WriteString("LAST,赵敏,2024-03-05,10\n")
	res, err := IngestFile(context.Background(), db, "medins", write(t, "mixed.csv", b.Bytes()), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Encoding != "utf-8" || res.New != n+1 || res.Quarantined != 1 {
		t.Fatalf("got %+v (want %d new, 1 quarantined)", res, n+1)
	}
	var line int
	var reason string
	db.QueryRow(`SELECT line, reason FROM ingest_quarantine`).Scan(&line, &reason)
	if line != n+2 || !strings.Contains(reason, "UTF-8 or GB18030") {
		t.Errorf("quarantined line %d: %s", line, reason)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

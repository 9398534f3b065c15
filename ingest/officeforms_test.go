package ingest

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"safetynet/i18n"
	"strconv"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"
)

// TestRegistryAsOfficesWriteIt: a registry workbook the way a township
// keeps it in Excel: 户编号 merged down over each household's members, an
// ID typed into a number cell, income in 万, an income nobody can read.
// No household and no member is dropped; what could not be read is listed
// for the department, marked as kept.
func TestRegistryAsOfficesWriteIt(t *testing.T) {
	db := openDB(t)
	ctx := context.Background()

	hh := excelize.NewFile()
	sh := hh.GetSheetName(0)
	hh.SetSheetRow(sh, "A1", &[]any{"户编号", "保障类别", "行政区划代码", "家庭住址", "家庭年收入", "家庭人口", "月保障金额", "状态"})
	hh.SetSheetRow(sh, "A2", &[]any{"H1", "低保边缘", "330110005011", "五常街道1号", "6万", 3, "—", "在保"})
	hh.SetSheetRow(sh, "A3", &[]any{"H2", "低保", "330110005011", "五常街道2号", "约六万", 2, "480元", "在保"})
	hh.SetSheetRow(sh, "A4", &[]any{"H3", "特困", "330110005011", "五常街道3号", "1.2万元", 1, "无", "在保"})
	res, err := IngestFile(ctx, db, "registry", saveXLSX(t, hh, "households.xlsx"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res.New != 3 || res.Quarantined != 0 || res.Noted != 1 {
		t.Fatalf("households: %+v; want 3 stored, none quarantined, one value noted", res)
	}
	for id, want := range map[string]string{"H1": "60000.00", "H2": "unknown", "H3": "12000.00"} {
		var got string
		if err := db.QueryRow(`SELECT coalesce(CAST(annual_income AS VARCHAR), 'unknown') FROM households WHERE household_id = ?`, id).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("%s income %s, want %s", id, got, want)
		}
	}
	if n := count(t, db, `SELECT count(*) FROM households WHERE monthly_benefit IS NULL`); n != 2 {
		t.Errorf("%d benefits read as empty from — and 无, want 2", n)
	}

	mm := excelize.NewFile()
	sh = mm.GetSheetName(0)
	mm.SetSheetRow(sh, "A1", &[]any{"户编号", "姓名", "身份证号", "与户主关系"})
	mm.SetSheetRow(sh, "A2", &[]any{"H1", "陈淑华", "330110197503150023", "户主"})
	mm.SetSheetRow(sh, "A3", &[]any{nil, "王建国", int64(330110197201011234), "配偶"}) // a number cell: Excel keeps 15 digits
	mm.SetSheetRow(sh, "A4", &[]any{nil, "王小明", "'330110200501010011", "子女"})
	mm.SetSheetRow(sh, "A5", &[]any{"H2", "李芳", "330110196001010020", "户主"})
	mm.SetSheetRow(sh, "A6", &[]any{nil, "李强", `="330110198801010013"`, "子女"})
	if err := mm.MergeCell(sh, "A2", "A4"); err != nil {
		t.Fatal(err)
	}
	if err := mm.MergeCell(sh, "A5", "A6"); err != nil {
		t.Fatal(err)
	}
	res, err = IngestFile(ctx, db, "registry", saveXLSX(t, mm, "members.xlsx"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res.New != 5 || res.Quarantined != 0 || res.Noted != 1 {
		t.Fatalf("members: %+v; want 5 stored, none quarantined, the number-cell ID noted", res)
	}
	rows, err := db.Query(`SELECT name, household_id, id_number, line FROM members ORDER BY line`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	want := []string{"陈淑华 H1 330110197503150023 2", "王建国 H1 3.30110197201011E+17 3", "王小明 H1 330110200501010011 4",
		"李芳 H2 330110196001010020 5", "李强 H2 330110198801010013 6"}
	var got []string
	for rows.Next() {
		var name, hh, id string
		var line int
		rows.Scan(&name, &hh, &id, &line)
		got = append(got, strings.Join([]string{name, hh, id, strconv.Itoa(line)}, " "))
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("members (name, household filled down, ID, line):\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	q, err := QuarantinedRows(ctx, db, QuarantineFilter{Source: "registry"})
	if err != nil {
		t.Fatal(err)
	}
	var reasons []string
	for _, r := range q {
		if !r.Kept {
			t.Errorf("line %d listed as not stored: %s", r.Line, r.Reason)
		}
		reasons = append(reasons, r.File+":"+strconv.Itoa(int(r.Line))+":"+r.Col+": "+r.Reason)
	}
	all := strings.Join(reasons, "\n")
	for _, w := range []string{"households.xlsx:3:annual_income: annual_income: \"约六万\" is not an amount", "members.xlsx:3:id_number: id_number: Excel stored this ID as a number"} {
		if !strings.Contains(all, w) {
			t.Errorf("the department's list lacks %q:\n%s", w, all)
		}
	}
	var b bytes.Buffer
	if err := WriteQuarantineXLSX(&b, q, i18n.ZH); err != nil {
		t.Fatal(err)
	}
	back, err := excelize.OpenReader(&b)
	if err != nil {
		t.Fatal(err)
	}
	sheetRows, _ := back.GetRows("待修正")
	if len(sheetRows) != 3 || !strings.Contains(strings.Join(sheetRows[1], "|"), "行已入库") {
		t.Errorf("export rows: %q", sheetRows)
	}
}

// TestOldExcelRefused: an Excel 97–2003 workbook is set aside saying how
// to send it, whatever its name.
func TestOldExcelRefused(t *testing.T) {
	db := openDB(t)
	ole := append([]byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}, make([]byte, 504)...)
	for _, name := range []string{"members.xls", "members.xlsx"} {
		_, err := IngestFile(context.Background(), db, "registry", write(t, name, ole), Options{})
		if err == nil || !strings.Contains(err.Error(), "save it as .xlsx") || !strings.Contains(err.Error(), name) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func saveXLSX(t *testing.T, f *excelize.File, name string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := f.SaveAs(p); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(p); err != nil {
		t.Fatal(err)
	}
	return p
}

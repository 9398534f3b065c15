package ingest

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
)

func BenchmarkIngestXLSX(b *testing.B) {
	const n = 50_000
	f := excelize.NewFile()
	sw, _ := f.NewStreamWriter(f.GetSheetName(0))
	sw.SetRow("A1", []any{"学籍变动"})
	sw.SetRow("A2", []any{"学籍号", "姓名", "身份证号", "学籍状态", "变动日期", "资助金额"})
	day := time.Date(2026, 3, 5, 0, 0, 0, 0, time.UTC)
	for i := 0; i < n; i++ {
		cell, _ := excelize.CoordinatesToCellName(1, i+3)
		sw.SetRow(cell, []any{"XJ" + itoa6(i), "王芳", "11010519491231002X", "在校", day, 500})
	}
	sw.Flush()
	var buf bytes.Buffer
	f.Write(&buf)
	path := filepath.Join(b.TempDir(), "e.xlsx")
	os.WriteFile(path, buf.Bytes(), 0o644)
	benchIngest(b, "education", path, n)
}

func itoa6(i int) string {
	const d = "0123456789"
	b := []byte("000000")
	for k := 5; k >= 0; k-- {
		b[k] = d[i%10]
		i /= 10
	}
	return string(b)
}

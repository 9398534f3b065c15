package ingest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"safetynet/store"
)

// medinsFile writes n settlement rows in UTF-8.
func medinsFile(b *testing.B, n int) string {
	b.Helper()
	var sb strings.Builder
	sb.WriteString("结算流水号,身份证号,姓名,医疗类别,结算日期,医疗总费用,统筹支付,个人自付,诊断编码\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&sb, "JS%08d,33011019800101%04d,王芳,门诊,2026/%d/%d,%d.00,%d.00,¥%d.50,K29\n", i, i%10000, 1+i%12, 1+i%28, 400+i%300, 300, 100+i%200)
	}
	p := filepath.Join(b.TempDir(), "m.csv")
	if err := os.WriteFile(p, []byte(sb.String()), 0o644); err != nil {
		b.Fatal(err)
	}
	return p
}

func BenchmarkIngestCSV(b *testing.B) {
	const n = 100_000
	benchIngest(b, "medins", medinsFile(b, n), n)
}

// benchIngest stores the file into a fresh database each round and reports rows/s.
func benchIngest(b *testing.B, source, path string, n int) {
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		db, err := store.Open(context.Background(), filepath.Join(b.TempDir(), "b.duckdb"), Migrations())
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		res, err := IngestFile(context.Background(), db, source, path, Options{})
		if err != nil || res.New != n {
			b.Fatalf("%+v %v", res, err)
		}
		b.StopTimer()
		db.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "rows/s")
}

func BenchmarkParseDate(b *testing.B) {
	forms := []string{"2024-03-05", "2024/3/5", "20240305", "2024年3月5日", "2024.03.05", "45356", "2024-03-05 12:00:00"}
	for i := 0; i < b.N; i++ {
		if _, err := parseDate(forms[i%len(forms)]); err != nil {
			b.Fatal(err)
		}
	}
}

package ingest

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"safetynet/store"
)

// TestMain lets the test binary play the child that crashes mid-batch.
func TestMain(m *testing.M) {
	if db := os.Getenv("SAFETYNET_PULL_DB"); db != "" {
		pullChild(db, os.Getenv("SAFETYNET_PULL_URL"), os.Getenv("SAFETYNET_PULL_PAGING"))
		return
	}
	if db := os.Getenv("SAFETYNET_CRASH_DB"); db != "" {
		crashChild(db, os.Getenv("SAFETYNET_CRASH_FILE"))
		return
	}
	os.Exit(m.Run())
}

// crashChild ingests a file and, half way through, says so and waits to be killed.
func crashChild(dbPath, file string) {
	ctx := context.Background()
	db, err := store.Open(ctx, dbPath, Migrations())
	if err != nil {
		fmt.Println("ERR", err)
		os.Exit(3)
	}
	IngestFile(ctx, db, "medins", file, Options{Progress: func(n int) {
		if n >= 20_000 {
			fmt.Println("HALFWAY")
			time.Sleep(time.Hour)
		}
	}})
	fmt.Println("FINISHED")
	os.Exit(4)
}

// TestCrashMidBatchLeavesNothing kills a real process with SIGKILL while
// it stores a file; the database then holds no part of that batch, and
// the next run stores exactly the rows of a clean run.
func TestCrashMidBatchLeavesNothing(t *testing.T) {
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "crash.duckdb")
	var sb strings.Builder
	sb.WriteString("结算编号,身份证号,结算日期,个人自付\n")
	const n = 40_000
	for i := 0; i < n; i++ {
		fmt.Fprintf(&sb, "S%06d,11010519491231002X,2026-01-%02d,%d\n", i, 1+i%28, i%500)
	}
	file := filepath.Join(dir, "big.csv")
	os.WriteFile(file, []byte(sb.String()), 0o644)

	// A first, small batch that must survive the crash.
	db, err := store.Open(context.Background(), dbPath, Migrations())
	if err != nil {
		t.Fatal(err)
	}
	small := filepath.Join(dir, "small.csv")
	os.WriteFile(small, []byte("结算编号,身份证号,结算日期,个人自付\nX1,11010519491231002X,2026-01-01,5\n"), 0o644)
	if _, err := IngestFile(context.Background(), db, "medins", small, Options{}); err != nil {
		t.Fatal(err)
	}
	db.Close()

	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "TMPDIR="+t.TempDir(), "SAFETYNET_CRASH_DB="+dbPath, "SAFETYNET_CRASH_FILE="+file)
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, _ := bufio.NewReader(out).ReadString('\n')
	if strings.TrimSpace(line) != "HALFWAY" {
		cmd.Process.Kill()
		t.Fatalf("child said %q, want HALFWAY", line)
	}
	if err := cmd.Process.Kill(); err != nil { // SIGKILL
		t.Fatal(err)
	}
	cmd.Wait()

	db, err = store.Open(context.Background(), dbPath, Migrations())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	c := func(q string) int {
		var v int
		if err := db.QueryRow(q).Scan(&v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	if b, r := c(`SELECT count(*) FROM ingest_batches`), c(`SELECT count(*) FROM canon_medins`); b != 1 || r != 1 {
		t.Fatalf("after the crash: %d batches, %d rows; want only the first batch (1, 1)", b, r)
	}
	res, err := IngestFile(context.Background(), db, "medins", file, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res.New != n || c(`SELECT count(*) FROM canon_medins`) != n+1 || c(`SELECT count(DISTINCT record_key) FROM canon_medins`) != n+1 {
		t.Errorf("re-run stored %d new rows; table has %d", res.New, c(`SELECT count(*) FROM canon_medins`))
	}
}

//go:build linux

package jobs

import (
	"database/sql"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// limitFileSize makes this process's writes fail past n bytes of a file,
// as a full disk fails them: the child of TestDiskFullRollsBack.
func limitFileSize() {
	n, err := strconv.ParseUint(os.Getenv("SAFETYNET_FSIZE"), 10, 64)
	if err != nil || n == 0 {
		return
	}
	signal.Ignore(syscall.SIGXFSZ) // a write past the limit then fails with EFBIG instead
	if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &syscall.Rlimit{Cur: n, Max: n}); err != nil {
		fmt.Println("ERR", err)
		os.Exit(3)
	}
}

// TestDiskFullRollsBack: when the disk fills in the middle of a large
// delivery, the run fails saying so, nothing of that batch is stored, the
// file waits in the inbox, the database still opens, and once there is
// room the next run stores it whole, as a clean run would.
func TestDiskFullRollsBack(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the chain in child processes")
	}
	t.Setenv("SAFETYNET_PSEUDONYM_KEY", "disk-test-pseudonym-key-0123")
	county, newSite := copiedSites(t, 800, 4000, 800)
	site := func() (string, string) {
		dir, cfg := newSite()
		return dir, cfg.Database
	}
	bigFile := func(dir string) string {
		var b strings.Builder
		b.WriteString("结算编号,身份证号,结算日期,个人自付,诊断编码\n")
		for i := 0; i < 300_000; i++ {
			fmt.Fprintf(&b, "BIG%07d,11010519491231002X,2026-0%d-1%d,%d.50,J18.9\n", i, 1+i%6, i%9, 100+i%5000)
		}
		p := filepath.Join(dir, "inbox", "medins", "big.csv")
		os.WriteFile(p, []byte(b.String()), 0o644)
		// And the registry lists a newborn: the run relinks every record.
		os.WriteFile(filepath.Join(dir, "inbox", "registry", "newborn.csv"),
			[]byte("户编号,姓名,公民身份号码,性别,出生日期\n"+county.Households[0].ID+",王小宝,330110202512010051,男,20251201\n"), 0o644)
		return p
	}
	run := func(dir, what string) {
		t.Helper()
		if out, err := child(t, dir, 0); err != nil || !strings.Contains(out, "FINISHED") {
			t.Fatalf("%s: %v\n%s", what, err, out)
		}
	}
	// The reference: the small deliveries, then the large one, with room.
	refDir, refDB := site()
	run(refDir, "the first clean run")
	bigFile(refDir)
	run(refDir, "the clean run of the large delivery")
	want := storeDigest(t, refDB)

	// The disk fills while the batch is written (1 MiB of room), or later
	// in the run, while relinking (8 MiB).
	for _, room := range []int64{1 << 20, 8 << 20} {
		t.Run(fmt.Sprintf("%d MiB of room", room>>20), func(t *testing.T) {
			dir, db := site()
			run(dir, "the first run")
			big := bigFile(dir)
			fi, _ := os.Stat(db)
			t.Setenv("SAFETYNET_FSIZE", strconv.FormatInt(fi.Size()+room, 10))
			out, err := child(t, dir, 0)
			if err == nil || !strings.Contains(out, "ERR") || !strings.Contains(strings.ToLower(out), "file too large") {
				t.Fatalf("a run on a full disk: %v\n%s", err, lastLine(out))
			}
			t.Logf("the failed run said: %s", lastLine(out))
			t.Setenv("SAFETYNET_FSIZE", "")
			if status, why := lastRun(t, db); status != "failed" || !strings.Contains(why, "File too large") {
				t.Errorf("the run is recorded as %q (%q), want failed and why", status, why)
			}
			// Not stored: it waits in the inbox; stored before a later stage
			// failed: it is in processed/. Never refused as if unreadable.
			if rejected, _ := filepath.Glob(filepath.Join(dir, "rejected", "medins", "*big.csv")); len(rejected) > 0 {
				t.Fatalf("the delivery that did not fit was rejected as unreadable: %v", rejected)
			}
			_, waiting := os.Stat(big)
			t.Logf("after the failure the delivery is %s", map[bool]string{true: "still in the inbox", false: "in processed/, stored"}[waiting == nil])
			run(dir, "the run once there is room")
			got := storeDigest(t, db)
			for part, w := range want {
				if strings.Join(got[part], "\n") != strings.Join(w, "\n") {
					t.Errorf("%s differs from a clean run's: %d rows, want %d; %s", part, len(got[part]), len(w), firstDiff(got[part], w))
				}
			}
		})
	}
}

// lastRun is the status and error of the site's latest run.
func lastRun(t *testing.T, path string) (string, string) {
	t.Helper()
	db, err := sql.Open("duckdb", path+"?access_mode=read_only")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var status string
	var why sql.NullString
	if err := db.QueryRow(`SELECT status, error FROM job_runs ORDER BY run_id DESC LIMIT 1`).Scan(&status, &why); err != nil {
		t.Fatal(err)
	}
	return status, why.String
}

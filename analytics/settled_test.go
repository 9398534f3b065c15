package analytics_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"safetynet/analytics"
	"safetynet/store"
)

// TestSettledMonthsTaken: a publish takes the registry view's settled
// months from the previous snapshot and computes the rest, and what it
// publishes equals, row for row, the view computed whole: after monthly
// changes, a change in the middle of the previous snapshot's month, a
// version back-dated before the previous snapshot (taken nothing), and
// another pseudonym key (taken nothing).
func TestSettledMonthsTaken(t *testing.T) {
	ctx := context.Background()
	chain, _ := site(t)
	db, base := chain.DB, time.Now()
	var household, region string
	if err := db.QueryRow(`SELECT household_id, region_code FROM households ORDER BY household_id LIMIT 1`).Scan(&household, &region); err != nil {
		t.Fatal(err)
	}
	benefit := 600
	change := func(at time.Time) { // the household's benefit changes at `at`
		t.Helper()
		benefit += 10
		deliverRegistry(t, db, at, fmt.Sprintf("户编号,保障类别,行政区划代码,家庭年收入,家庭人口,月保障金额,状态\n%s,低保,%s,1000,1,%d,在保\n", household, region, benefit))
	}
	dir := t.TempDir()
	publish := func(dir, key string, at time.Time) *analytics.Manifest {
		t.Helper()
		man, err := analytics.Publish(ctx, db, withSignals(db, analytics.Options{Dir: dir, Key: key, Months: 24, Now: at}))
		if err != nil {
			t.Fatal(err)
		}
		return man
	}
	// checkAgainstWhole publishes at `at` and compares with the view
	// computed whole; it returns how many partitions were taken.
	checkAgainstWhole := func(what, key string, at time.Time) int {
		t.Helper()
		man := publish(dir, key, at)
		whole := t.TempDir()
		if m := publish(whole, key, at); m.Marks["registry_months"].Taken != 0 {
			t.Fatalf("%s: a first publish took %d partitions", what, m.Marks["registry_months"].Taken)
		}
		got, want := viewFiles(t, dir), viewFiles(t, whole)
		var rows, missing, extra int
		db.QueryRow(`SELECT count(*) FROM read_parquet(` + want + `, hive_partitioning = true)`).Scan(&rows)
		db.QueryRow(`SELECT count(*) FROM (SELECT * FROM read_parquet(` + want + `, hive_partitioning = true) EXCEPT ALL
			SELECT * FROM read_parquet(` + got + `, hive_partitioning = true))`).Scan(&missing)
		db.QueryRow(`SELECT count(*) FROM (SELECT * FROM read_parquet(` + got + `, hive_partitioning = true) EXCEPT ALL
			SELECT * FROM read_parquet(` + want + `, hive_partitioning = true))`).Scan(&extra)
		if rows == 0 || missing != 0 || extra != 0 || man.Views["registry_months"] != int64(rows) {
			t.Errorf("%s: the view computed whole has %d rows; the published one lacks %d of them, has %d more, counts %d",
				what, rows, missing, extra, man.Views["registry_months"])
		}
		return man.Marks["registry_months"].Taken
	}
	month := func(n int) time.Time { return base.AddDate(0, n, 0) }
	change(month(1))
	change(month(2))
	if n := checkAgainstWhole("the first publish", key, month(2).Add(5*24*time.Hour)); n != 0 {
		t.Errorf("the first publish took %d partitions from nothing", n)
	}
	change(month(2).Add(10 * 24 * time.Hour)) // after that snapshot, in its month
	change(month(3))
	if n := checkAgainstWhole("monthly changes", key, month(3).Add(5*24*time.Hour)); n == 0 {
		t.Error("nothing was taken from the previous snapshot")
	}
	if n := checkAgainstWhole("a quiet month", key, month(4)); n == 0 {
		t.Error("nothing was taken in a month without changes")
	}
	snap, _, err := analytics.Current(dir) // a partition lost from the previous snapshot
	if err != nil {
		t.Fatal(err)
	}
	lost, _ := filepath.Glob(filepath.Join(snap, "registry_months", "region=*", "month=*", "*.parquet"))
	if len(lost) < 2 {
		t.Fatalf("%d registry_months files", len(lost))
	}
	if err := os.Remove(lost[0]); err != nil {
		t.Fatal(err)
	}
	if n := checkAgainstWhole("a file lost from the previous snapshot", key, month(4).Add(10*24*time.Hour)); n != 0 {
		t.Errorf("%d partitions taken from a snapshot that lost a file", n)
	}
	change(month(3)) // back-dated: before the previous snapshot
	if n := checkAgainstWhole("a back-dated version", key, month(5)); n != 0 {
		t.Errorf("%d partitions taken after a version was back-dated before the snapshot they came from", n)
	}
	if n := checkAgainstWhole("another key", "another-pseudonym-key-0123", month(6)); n != 0 {
		t.Errorf("%d partitions taken under another key", n)
	}
}

// viewFiles is the current snapshot's registry_months files, as a list
// read_parquet takes.
func viewFiles(t *testing.T, dir string) string { return viewFilesOf(t, dir, "registry_months") }

func viewFilesOf(t *testing.T, dir, view string) string {
	t.Helper()
	snap, _, err := analytics.Current(dir)
	if err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob(filepath.Join(snap, view, "region=*", "month=*", "*.parquet"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no %s files in %s: %v", view, snap, err)
	}
	list := "["
	for i, f := range files {
		if i > 0 {
			list += ", "
		}
		list += store.Quote(f)
	}
	return list + "]"
}

// TestHouseholdSizeWithoutACount: a household the registry sends without
// its size (家庭人口 empty) counts its members in each month; one with a
// size keeps the registry's.
func TestHouseholdSizeWithoutACount(t *testing.T) {
	ctx := context.Background()
	chain, _ := site(t)
	db := chain.DB
	var region string
	if err := db.QueryRow(`SELECT region_code FROM households LIMIT 1`).Scan(&region); err != nil {
		t.Fatal(err)
	}
	at := time.Now().AddDate(0, 1, 0)
	deliverRegistry(t, db, at,
		"户编号,保障类别,行政区划代码,家庭年收入,家庭人口,月保障金额,状态\nHSIZE1,低保,"+region+",1000,,480,在保\nHSIZE2,低保,"+region+",1000,5,480,在保\n",
		"户编号,姓名,身份证号\nHSIZE1,甲,110105194912310021\nHSIZE1,乙,11010519491231004X\nHSIZE1,丙,110105194912310064\nHSIZE2,丁,110105194912310080\n")
	out := t.TempDir()
	if _, err := analytics.Publish(ctx, db, withSignals(db, analytics.Options{Dir: out, Key: key, Months: 3, Now: at})); err != nil {
		t.Fatal(err)
	}
	files2 := viewFiles(t, out)
	for household, want := range map[string]int{"HSIZE1": 3, "HSIZE2": 5} {
		var rows, size int
		hashed := `'h' || left(sha256('` + key + `' || '|household|' || '` + household + `'), 16)`
		if err := db.QueryRow(`SELECT count(*), coalesce(min(household_size), 0) FROM read_parquet(`+files2+`) WHERE household = `+hashed).Scan(&rows, &size); err != nil {
			t.Fatal(err)
		}
		if rows == 0 || size != want {
			t.Errorf("%s: %d rows, household size %d, want %d", household, rows, size, want)
		}
	}
}

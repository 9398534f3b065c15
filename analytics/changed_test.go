package analytics_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"safetynet/alerts"
	"safetynet/analytics"
	"safetynet/jobs"
)

// TestSignalsRecomputeOnlyChangedMonths: each run's snapshot takes the
// signals view's earlier months from the one before and computes only the
// months something touched, and what it publishes equals, row for row,
// the view computed whole: after a payment delivered late into an old
// month, a payment whose correction moved it to another old month, and a
// certificate revoked (the months of the certificates issued before the
// revocation change); after a household moved in the registry, nothing is taken.
func TestSignalsRecomputeOnlyChangedMonths(t *testing.T) {
	chain, _ := site(t)
	db := chain.DB
	now := time.Now()
	month := func(t time.Time) string { return t.UTC().Format("2006-01") }

	var person, name, sex string
	var born time.Time
	if err := db.QueryRow(`SELECT i.id_number, m.name, m.sex, i.birth_date FROM members m JOIN match_ids i ON i.id_raw = m.id_number
		WHERE i.id_number IS NOT NULL ORDER BY m.record_key LIMIT 1`).Scan(&person, &name, &sex, &born); err != nil {
		t.Fatal(err)
	}
	late := now.AddDate(0, -7, 0)
	var moved struct {
		id, person, name, sex, visit, code string
		born, on                           time.Time
		total, fund, own                   float64
	}
	if err := db.QueryRow(`SELECT record_id, id_number, name, sex, birth_date, visit_type, settle_date, total_cost, fund_paid, out_of_pocket, diagnosis_code
		FROM linked_medins WHERE person_id IS NOT NULL AND out_of_pocket > 0 AND settle_date < ?::DATE - INTERVAL 60 DAY
		AND record_id IS NOT NULL AND sex IS NOT NULL AND birth_date IS NOT NULL AND diagnosis_code IS NOT NULL ORDER BY record_id LIMIT 1`, now).Scan(
		&moved.id, &moved.person, &moved.name, &moved.sex, &moved.born, &moved.visit, &moved.on, &moved.total, &moved.fund, &moved.own, &moved.code); err != nil {
		t.Fatal(err)
	}
	movedTo := moved.on.AddDate(0, -3, 0)
	var cert struct {
		person, name, sex, kind string
		born, issued            time.Time
	}
	if err := db.QueryRow(`SELECT person_id, name, sex, birth_date, disability_type, issued_on FROM linked_disability
		WHERE person_id IS NOT NULL AND level <= 2 AND coalesce("change", 'new') <> 'revoked' AND issued_on < ?::DATE - INTERVAL 60 DAY
		AND name IS NOT NULL AND sex IS NOT NULL AND birth_date IS NOT NULL ORDER BY record_key LIMIT 1`, now).Scan(&cert.person, &cert.name, &cert.sex, &cert.born, &cert.kind, &cert.issued); err != nil {
		t.Skipf("the synthetic county has no severe-disability certificate two months old: %v", err)
	}
	sexWord := map[string]string{"male": "男", "female": "女"}
	deliver := func(source, file, text string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(chain.Cfg.Inbox, source, file), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	deliver("medins", "late.csv", fmt.Sprintf("结算流水号,身份证号,姓名,性别,出生日期,医疗类别,结算日期,医疗总费用,统筹支付,个人自付,诊断编码\n"+
		"JS-LATE-1,%s,%s,%s,%s,住院,%s,9000.00,6000.00,3000.00,K80\n"+
		"%s,%s,%s,%s,%s,%s,%s,%.2f,%.2f,%.2f,%s\n",
		person, name, sexWord[sex], born.Format("2006-01-02"), late.Format("2006-01-02"),
		moved.id, moved.person, moved.name, sexWord[moved.sex], moved.born.Format("2006-01-02"), visitWord(moved.visit), movedTo.Format("2006-01-02"),
		moved.total, moved.fund, moved.own, moved.code))
	revokedOn := now.AddDate(0, 0, -3)
	deliver("disability", "revoked.csv", fmt.Sprintf("残疾证号,姓名,身份证号,性别,出生日期,残疾类别,残疾等级,发证日期,变动类型\n"+
		"CJ-REVOKED-1,%s,%s,%s,%s,%s,一级,%s,注销\n",
		cert.name, cert.person, sexWord[cert.sex], cert.born.Format("2006-01-02"), cert.kind, revokedOn.Format("2006-01-02")))

	at := now.Add(24 * time.Hour)
	man := runAndCompare(t, chain, "a late payment, a corrected one and a revocation", at)
	taken := man.Marks["signals"].Taken
	if taken == 0 {
		t.Fatal("nothing was taken from the previous snapshot")
	}
	recomputed := map[string]bool{}
	snap, _, _ := analytics.Current(chain.Cfg.Analytics.Dir)
	files, _ := filepath.Glob(filepath.Join(snap, "signals", "region=*", "month=*", "*.parquet"))
	for _, f := range files {
		if st, err := os.Stat(f); err == nil && st.ModTime().After(now) && linkCount(t, f) == 1 {
			recomputed[filepath.Base(filepath.Dir(f))] = true
		}
	}
	for _, m := range []string{month(late), month(moved.on), month(movedTo), month(cert.issued)} {
		if !recomputed["month="+m] {
			t.Errorf("month %s was not computed again (computed: %v)", m, recomputed)
		}
	}

	man = runAndCompare(t, chain, "a quiet run", at.Add(24*time.Hour))
	if man.Marks["signals"].Taken == 0 {
		t.Error("a run without changes took nothing from the previous snapshot")
	}

	// A household moved in the registry, published before any run links
	// again: the view places signals where their household is now.
	var household, region string
	if err := db.QueryRow(`SELECT household_id, region_code FROM households WHERE household_id IN (SELECT household_id FROM linked_medins)
		ORDER BY household_id LIMIT 1`).Scan(&household, &region); err != nil {
		t.Fatal(err)
	}
	moveAt := at.Add(48 * time.Hour)
	deliverRegistry(t, db, moveAt, fmt.Sprintf("户编号,保障类别,行政区划代码,家庭年收入,家庭人口,月保障金额,状态\n%s,低保,%s,1000,1,650,在保\n", household, region[:9]+"999"))
	if err := chain.Publish(context.Background(), moveAt); err != nil {
		t.Fatal(err)
	}
	if man := compareWhole(t, chain, "a household moved", moveAt); man.Marks["signals"].Taken != 0 {
		t.Errorf("%d signals partitions taken after the registry changed", man.Marks["signals"].Taken)
	}
}

// runAndCompare runs the chain as of at and checks its snapshot.
func runAndCompare(t *testing.T, chain *jobs.Chain, what string, at time.Time) *analytics.Manifest {
	t.Helper()
	chain.Now = func() time.Time { return at }
	rep, err := chain.Run(context.Background(), "test", at)
	if err != nil || rep.Analytics != "" {
		t.Fatalf("%s: run: %v %s", what, err, rep.Analytics)
	}
	return compareWhole(t, chain, what, at)
}

// compareWhole checks that the current snapshot's signals view holds
// exactly the rows of the view computed whole at the same time.
func compareWhole(t *testing.T, chain *jobs.Chain, what string, at time.Time) *analytics.Manifest {
	t.Helper()
	ctx := context.Background()
	_, man, err := analytics.Current(chain.Cfg.Analytics.Dir)
	if err != nil {
		t.Fatal(err)
	}
	ev := &alerts.Evaluator{DB: chain.DB, Pack: chain.Pack, Standards: chain.Cfg.Standards, SeriousIllness: chain.Cfg.SeriousIllness}
	whole := t.TempDir()
	m, err := analytics.Publish(ctx, chain.DB, analytics.Options{Dir: whole, Key: key, Months: chain.Cfg.Analytics.Months, Now: at,
		Prepare: func(ctx context.Context, conn *sql.Conn) error { return ev.Prepare(ctx, conn, at) }, Prepared: ev.Prepared()})
	if err != nil {
		t.Fatal(err)
	}
	if m.Marks["signals"].Taken != 0 {
		t.Fatalf("%s: a first publish took %d partitions", what, m.Marks["signals"].Taken)
	}
	got, want := viewFilesOf(t, chain.Cfg.Analytics.Dir, "signals"), viewFilesOf(t, whole, "signals")
	var rows, missing, extra int
	db := chain.DB
	for _, c := range []struct {
		n *int
		q string
	}{
		{&rows, `SELECT count(*) FROM read_parquet(` + want + `, hive_partitioning = true)`},
		{&missing, `SELECT count(*) FROM (SELECT * FROM read_parquet(` + want + `, hive_partitioning = true) EXCEPT ALL
			SELECT * FROM read_parquet(` + got + `, hive_partitioning = true))`},
		{&extra, `SELECT count(*) FROM (SELECT * FROM read_parquet(` + got + `, hive_partitioning = true) EXCEPT ALL
			SELECT * FROM read_parquet(` + want + `, hive_partitioning = true))`},
	} {
		if err := db.QueryRow(c.q).Scan(c.n); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	if rows == 0 || missing != 0 || extra != 0 || man.Views["signals"] != int64(rows) {
		t.Errorf("%s: the signals view computed whole has %d rows; the published one lacks %d of them, has %d more, counts %d",
			what, rows, missing, extra, man.Views["signals"])
	}
	return man
}

func visitWord(v string) string {
	if v == "outpatient" {
		return "门诊"
	}
	return "住院"
}

// linkCount is how many names a file has: a partition taken from the
// previous snapshot is a second name of its file.
func linkCount(t *testing.T, path string) uint64 {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return uint64(st.Sys().(*syscall.Stat_t).Nlink)
}

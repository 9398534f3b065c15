package match

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"safetynet/store"
)

// An incremental run takes for granted that every record of the batches
// the last run covered holds its link. When links and records no longer
// add up (here a link lost), the run relinks everything instead, and the
// lost link is back.
func TestLinksThatDoNotAddUpRelinkEverything(t *testing.T) {
	ctx := context.Background()
	site := newTestSite(t, "H1,低保,110105001001,在保\n", "H1,王芳,11010519491231002X,\n")
	db := site.db
	site.ingest("medins", "s1.csv", "结算编号,身份证号,姓名,出生日期,结算日期,个人自付\nA1,11010519491231002X,王芳,,2024-01-01,1\nA2,,李四,1950-01-01,2024-01-01,1\n")
	if _, err := Link(ctx, db); err != nil {
		t.Fatal(err)
	}
	site.ingest("medins", "s2.csv", "结算编号,身份证号,姓名,出生日期,结算日期,个人自付\nA3,11010519491231002X,王芳,,2024-02-01,1\n")
	st, err := Link(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	if !st.Incremental || st.Relinked != 1 {
		t.Fatalf("a new batch: incremental %t, relinked %d; want true and 1", st.Incremental, st.Relinked)
	}
	if _, err := db.Exec(`DELETE FROM match_links WHERE record_key = 'A1'`); err != nil {
		t.Fatal(err)
	}
	site.ingest("medins", "s3.csv", "结算编号,身份证号,姓名,出生日期,结算日期,个人自付\nA4,11010519491231002X,王芳,,2024-03-01,1\n")
	if st, err = Link(ctx, db); err != nil {
		t.Fatal(err)
	}
	if st.Incremental {
		t.Error("links that do not add up: the run was incremental")
	}
	var method string
	db.QueryRow(`SELECT method FROM match_links WHERE record_key = 'A1'`).Scan(&method)
	if method != "id_exact" {
		t.Errorf("the lost link is %q after the run, want id_exact", method)
	}
	if st, _ = Link(ctx, db); !st.Incremental {
		t.Error("the run after the whole one was not incremental")
	}
}

// The people outside the registry kept between runs follow their
// records: a record corrected to another ID takes its person out when no
// other record names them, and what an incremental run keeps is what a
// whole one rebuilds.
func TestOutsidePeopleFollowTheirRecords(t *testing.T) {
	ctx := context.Background()
	site := newTestSite(t, "H1,低保,110105001001,在保\n", "H1,王芳,11010519491231002X,\n")
	db := site.db
	x, y := string(NewID("330110", time.Date(1970, 5, 5, 0, 0, 0, 0, time.UTC), 7)), string(NewID("330110", time.Date(1971, 6, 6, 0, 0, 0, 0, time.UTC), 9))
	site.ingest("medins", "s1.csv", "结算编号,身份证号,姓名,出生日期,结算日期,个人自付\nB1,"+x+",张三,,2024-01-01,1\n")
	if _, err := Link(ctx, db); err != nil {
		t.Fatal(err)
	}
	site.ingest("medins", "s2.csv", "结算编号,身份证号,姓名,出生日期,结算日期,个人自付\nB1,"+y+",张三,,2024-01-01,1\n")
	st, err := Link(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	if !st.Incremental {
		t.Fatal("the correction's run was not incremental")
	}
	kept := func() string {
		var s string
		db.QueryRow(`SELECT string_agg(id_number || ':' || name || ':' || birth || ':' || array_to_string(block_keys, ','), ' ' ORDER BY id_number) FROM match_outside_people`).Scan(&s)
		return s
	}
	incremental := kept()
	if strings.Contains(incremental, x) || !strings.Contains(incremental, y) {
		t.Errorf("after the correction the people outside the registry are %q: want %s and not %s", incremental, y, x)
	}
	if _, err := Relink(ctx, db, DefaultThresholds); err != nil {
		t.Fatal(err)
	}
	if whole := kept(); whole != incremental {
		t.Errorf("kept incrementally %q, rebuilt whole %q", incremental, whole)
	}
}

// A record left without a link that a later record's person outside the
// registry claims is linked to them, and later runs leave it be: it no
// longer counts among the records left over.
func TestLeftoverLinkedOutsideIsLeftBe(t *testing.T) {
	ctx := context.Background()
	site := newTestSite(t, "H1,低保,110105001001,在保\n", "H1,王芳,11010519491231002X,\n")
	db := site.db
	x := string(NewID("330110", time.Date(1970, 5, 5, 0, 0, 0, 0, time.UTC), 7))
	site.ingest("medins", "s1.csv", "结算编号,身份证号,姓名,出生日期,结算日期,个人自付\nW1,,欧阳娜娜,1970-05-05,2024-01-01,1\n")
	if _, err := Link(ctx, db); err != nil {
		t.Fatal(err)
	}
	site.ingest("medins", "s2.csv", "结算编号,身份证号,姓名,出生日期,结算日期,个人自付\nW2,"+x+",欧阳娜娜,,2024-02-01,1\n")
	if _, err := Link(ctx, db); err != nil {
		t.Fatal(err)
	}
	var method string
	var outside bool
	db.QueryRow(`SELECT l.method, r.linked_outside FROM match_links l JOIN match_resolved r USING (source, record_key) WHERE record_key = 'W1'`).Scan(&method, &outside)
	if method != "probabilistic_outside" || !outside {
		t.Fatalf("W1 is linked by %q (noted as linked outside: %t), want probabilistic_outside, noted", method, outside)
	}
	site.ingest("medins", "s3.csv", "结算编号,身份证号,姓名,出生日期,结算日期,个人自付\nW3,"+x+",欧阳娜娜,,2024-03-01,1\n")
	st, err := Link(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	if !st.Incremental || st.Reused != 0 {
		t.Errorf("next run: incremental %t, records left over %d; want true and 0", st.Incremental, st.Reused)
	}
}

// TestOutsidePeopleMergeAsTheyRebuild: an incremental run merges what its
// records say into the kept form of the people outside the registry they
// name, and rebuilds from all records the ones it cannot merge. After each
// delivery the form kept by incremental runs is the one a whole run
// builds: a first person, a record giving a name that sorts first, a
// birth date other than the ID's, a sex other than the ID's, another
// person, a record without a name.
func TestOutsidePeopleMergeAsTheyRebuild(t *testing.T) {
	ctx := context.Background()
	const hh, mm = "H1,低保,110105001001,在保\n", "H1,王芳,11010519491231002X,\n"
	incremental, whole := newTestSite(t, hh, mm), newTestSite(t, hh, mm)
	x := string(NewID("330110", time.Date(1970, 5, 5, 0, 0, 0, 0, time.UTC), 7)) // a man's ID
	y := string(NewID("330110", time.Date(1980, 8, 8, 0, 0, 0, 0, time.UTC), 8))
	const head = "结算编号,身份证号,姓名,性别,出生日期,结算日期,个人自付\n"
	deliveries := []string{
		"B1," + x + ",张三,,,2024-01-01,1\n",
		"B2," + x + ",张一,,,2024-02-01,1\n",           // a name that sorts first: merged
		"B3," + x + ",张三,,1971-02-02,2024-03-01,1\n", // a birth date the ID does not give: rebuilt
		"B4," + x + ",张三,女,,2024-04-01,1\n",          // a sex the ID does not give: rebuilt
		"B5," + y + ",李四,,,2024-05-01,1\nB6," + x + ",张五,,1971-02-02,2024-05-02,1\n",
		"B7," + y + ",,,,2024-06-01,1\n", // no name: not counted
		"B8," + x + ",张三,男,1970-05-05,2024-07-01,1\n",
	}
	kept := func(db *store.DB) string {
		var s string
		db.QueryRow(`SELECT string_agg(id_number || ':' || name || ':' || coalesce(sex, '') || ':' || birth || ':' || array_to_string(block_keys, ','), ' ' ORDER BY id_number)
			FROM match_outside_people`).Scan(&s)
		return s
	}
	for i, d := range deliveries {
		name := fmt.Sprintf("s%d.csv", i+1)
		incremental.ingest("medins", name, head+d)
		whole.ingest("medins", name, head+d)
		st, err := Link(ctx, incremental.db)
		if err != nil {
			t.Fatal(err)
		}
		if i > 0 && !st.Incremental {
			t.Fatalf("delivery %d: the run was not incremental", i+1)
		}
		if _, err := Relink(ctx, whole.db, DefaultThresholds); err != nil {
			t.Fatal(err)
		}
		if a, b := kept(incremental.db), kept(whole.db); a != b || a == "" {
			t.Errorf("after delivery %d the people outside the registry kept incrementally are\n%q\nand rebuilt whole\n%q", i+1, a, b)
		}
	}
	if got := kept(incremental.db); !strings.Contains(got, x+":张一:") {
		t.Errorf("the kept form %q does not take the name that sorts first", got)
	}
}

package match

import (
	"context"
	"testing"
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

package match

import (
	"context"
	"errors"
	"testing"
)

// With the link threshold out of reach every probabilistic pair waits for
// review; decisions link or reject, and hold on later runs.
func TestReviewDecisions(t *testing.T) {
	ctx := context.Background()
	site := newTestSite(t, "H1,低保,110105001001,在保\n", "H1,王芳,11010519491231002X,\n")
	db := site.db
	site.ingest("medins", "s.csv", "结算编号,身份证号,姓名,出生日期,结算日期,个人自付\nA1,,王芳,1949-12-31,2024-01-01,1\nA2,,王芳,1949-12-31,2024-02-01,1\n")
	unsure := Thresholds{Link: 2, Review: 0.5}
	if _, err := LinkWith(ctx, db, unsure); err != nil {
		t.Fatal(err)
	}
	items, err := ReviewQueue(ctx, db, ReviewFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 2 || items[0].Candidate.Household != "H1" || items[0].Record.Name != "王芳" || len(items[0].Terms) == 0 {
		t.Fatalf("review queue: %+v", items)
	}
	if err := Decide(ctx, db, "medins", "A1", true, "operator1", "same person, checked by phone"); err != nil {
		t.Fatal(err)
	}
	if err := Decide(ctx, db, "medins", "A2", false, "operator1", ""); err != nil {
		t.Fatal(err)
	}
	if err := Decide(ctx, db, "medins", "A2", true, "operator1", ""); !errors.Is(err, ErrNotInReview) {
		t.Errorf("deciding a settled pair again: %v", err)
	}
	check := func(when string) {
		t.Helper()
		for key, want := range map[string]string{"A1": "reviewed|H1", "A2": "unlinked|"} {
			var method, hh string
			db.QueryRow(`SELECT method, coalesce(household_id, '') FROM match_links WHERE record_key = ?`, key).Scan(&method, &hh)
			if method+"|"+hh != want {
				t.Errorf("%s: %s is %s|%s, want %s", when, key, method, hh, want)
			}
		}
	}
	check("after the decisions")
	if _, err := LinkWith(ctx, db, unsure); err != nil {
		t.Fatal(err)
	}
	check("on the next run")
	if items, _ := ReviewQueue(ctx, db, ReviewFilter{}); len(items) != 0 {
		t.Errorf("decided pairs still queued: %d", len(items))
	}
	var by string
	db.QueryRow(`SELECT decided_by FROM match_decisions WHERE record_key = 'A1'`).Scan(&by)
	if by != "operator1" {
		t.Errorf("decision not kept with its author: %q", by)
	}
}

// Incremental: a second run compares nothing new; a new record is the only
// one compared; a new registry delivery compares everything again, and a
// registry person whose birth date was corrected is linked.
func TestIncrementalResolution(t *testing.T) {
	ctx := context.Background()
	// The registry's birth date of 钱多多 is wrong by a day.
	site := newTestSite(t, "H1,低保,110105001001,在保\n", "H1,钱多多,11010519491231002X,1949-12-30\n")
	db, ingestText := site.db, site.ingest
	ingestText("medins", "s1.csv", "结算编号,身份证号,姓名,出生日期,结算日期,个人自付\nA1,,钱多多,1949-12-31,2024-01-01,1\nA2,,周伟伟,1950-01-01,2024-01-01,1\n")
	method := func(key string) string {
		var m string
		db.QueryRow(`SELECT method FROM match_links WHERE record_key = ?`, key).Scan(&m)
		return m
	}
	st, err := Link(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	if st.Scored != 2 || method("A1") == "probabilistic" {
		t.Fatalf("first run: scored %d, A1 %s (the registry says another birth date)", st.Scored, method("A1"))
	}
	// The second run links nothing anew: A1's link (in review) stands
	// untouched, and A2, still without one, keeps its earlier outcome.
	if st, _ = Link(ctx, db); st.Scored != 0 || st.Reused != 1 || !st.Incremental || st.Relinked != 0 {
		t.Errorf("second run: scored %d reused %d relinked %d (incremental %t), want 0, 1 and 0", st.Scored, st.Reused, st.Relinked, st.Incremental)
	}
	ingestText("medins", "s2.csv", "结算编号,身份证号,姓名,出生日期,结算日期,个人自付\nA3,,无此人,1980-01-01,2024-02-01,1\n")
	if st, _ = Link(ctx, db); st.Scored != 1 || st.Reused != 1 || st.Relinked != 1 {
		t.Errorf("after a new record: scored %d reused %d relinked %d, want 1, 1 and 1", st.Scored, st.Reused, st.Relinked)
	}
	// The registry corrects 钱多多's birth date: everything is compared again, and A1 links.
	ingestText("registry", "m2.csv", "户编号,姓名,身份证号,出生日期\nH1,钱多多,11010519491231002X,1949-12-31\n")
	st, err = Link(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	if st.Scored != 3 || method("A1") != "probabilistic" {
		t.Errorf("after the registry changed: scored %d, A1 %s", st.Scored, method("A1"))
	}
}

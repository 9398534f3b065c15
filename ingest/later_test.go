package ingest

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestRecordChangedDuringPullKeepsLatest: a record the department changes
// while a cursor pull runs comes again on a later page of the same
// batch; the later version is the one stored, nothing is quarantined.
func TestRecordChangedDuringPullKeepsLatest(t *testing.T) {
	t.Setenv("TEST_MEDINS_TOKEN", "s3cret")
	a, _ := newAPIServer(t, 250)
	served := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.ServeHTTP(w, r)
		if served++; served == 1 { // after the first page: R00000 changes and moves to the end
			a.change(func() { a.upsert("R00000", 999) })
		}
	}))
	t.Cleanup(srv.Close)
	db := openDB(t)
	res, err := pull(srv, "cursor").Run(context.Background(), db, discard())
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 1 || res[0].Quarantined != 0 || res[0].New != 250 || res[0].Skipped != 1 {
		t.Fatalf("batches %d %+v; want one batch of 250 records, the earlier R00000 skipped", len(res), *res[0])
	}
	var oop float64
	db.QueryRow(`SELECT out_of_pocket FROM medins WHERE record_id = 'R00000'`).Scan(&oop)
	if oop != 999 || count(t, db, `SELECT count(*) FROM canon_medins WHERE record_id = 'R00000'`) != 1 {
		t.Errorf("R00000: %v, want the latest 999 stored once", oop)
	}
}

// TestLaterDeliveries: a registry member whose ID, or whose name, a later
// delivery corrects stays one member; members a corrections file does
// not mention stay; a settlement sent again under its record id replaces
// the earlier amount, which stays as history.
func TestLaterDeliveries(t *testing.T) {
	db := openDB(t)
	ctx := context.Background()
	in := func(source, name, body string) *Result {
		t.Helper()
		res, err := IngestFile(ctx, db, source, write(t, name, []byte(body)), Options{})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	in("registry", "m1.csv", "户编号,姓名,身份证号\nH1,王芳,110105194912310021\nH1,李强,110105195001010017\nH2,张伟,330110198001010011\n")
	// A corrections file: 王芳's ID fixed, 张伟's name fixed to 张玮; 李强 is not mentioned.
	res := in("registry", "m2.csv", "户编号,姓名,身份证号\nH1,王芳,11010519491231002X\nH2,张玮,330110198001010011\n")
	if res.Removed != 2 || res.New != 2 {
		t.Errorf("corrections: %+v; want 2 new, 2 replaced", res)
	}
	rows, _ := db.Query(`SELECT household_id || ' ' || name || ' ' || id_number FROM members ORDER BY 1`)
	var got []string
	for rows.Next() {
		var s string
		rows.Scan(&s)
		got = append(got, s)
	}
	rows.Close()
	if want := "H1 李强 110105195001010017|H1 王芳 11010519491231002X|H2 张玮 330110198001010011"; strings.Join(got, "|") != want {
		t.Errorf("current members %q, want %s", got, want)
	}
	in("medins", "s1.csv", "结算编号,身份证号,结算日期,个人自付\nS1,11010519491231002X,2026-06-01,1000\n")
	in("medins", "s2.csv", "结算编号,身份证号,结算日期,个人自付\nS1,11010519491231002X,2026-06-01,9000\n")
	var oop float64
	db.QueryRow(`SELECT out_of_pocket FROM medins WHERE record_id = 'S1'`).Scan(&oop)
	if oop != 9000 || count(t, db, `SELECT count(*) FROM canon_medins WHERE record_id = 'S1' AND valid_to IS NOT NULL AND out_of_pocket = 1000`) != 1 {
		t.Errorf("S1 now %v; want 9000 with the 1,000 version kept as history", oop)
	}
}

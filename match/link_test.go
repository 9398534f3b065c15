package match

import (
	"context"
	"strings"
	"testing"
	"time"
)

func TestLinkByNormalisedID(t *testing.T) {
	ctx := context.Background()
	site := newTestSite(t, "H1,低保,110105001001,在保\nH2,低保边缘,110105001002,停保\n",
		"H1,王芳,11010519491231002X,\nH2,李强,440524188001010014,\n")
	db := site.db
	site.ingest("medins", "s.csv", "结算编号,身份证号,姓名,出生日期,结算日期,个人自付\n"+
		"S1,１１０１０５１９４９１２３１００２ｘ,王芳,,2024-01-01,1\n"+ // full-width, lowercase
		"S2,110105491231002,王芳,,2024-01-01,1\n"+ // legacy 15
		"S3,440524188001010014,李强,,2024-01-01,1\n"+ // terminated household
		"S4,110105194912310021,王芳,,2024-01-01,1\n"+ // bad check character, one typo from 王芳's
		"S6,110105194912310021,赵敏,,2024-01-01,1\n"+ // the same typo, another name: not repaired
		"S7,,王芳,1949-12-31,2024-01-01,1\n"+ // no ID: name and birth date
		"S8,,王芳,1985-06-01,2024-01-01,1\n"+ // no ID: a namesake born decades apart
		"S9,,王芳,,2024-01-01,1\n"+ // no ID, no birth date: a name alone never links
		"O1,"+string(NewID("330110", time.Date(1970, 5, 5, 0, 0, 0, 0, time.UTC), 7))+",欧阳娜娜,,2024-01-01,1\n"+ // outside the registry, with an ID
		"O2,,欧阳娜娜,1970-05-05,2024-01-02,1\n"+ // the same person elsewhere without one
		"O3,,欧阳娜娜,1975-05-05,2024-01-03,1\n"+ // a namesake born five years later
		"S5,,无名,,2024-01-01,1\n")
	st, err := Link(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"S1": "id_exact", "S2": "id_exact", "S3": "id_outside_registry", "S4": "id_repaired", "S5": "unlinked",
		"S6": "unlinked", "S7": "probabilistic", "S8": "unlinked", "S9": "unlinked",
		"O1": "id_outside_registry", "O2": "probabilistic_outside", "O3": "unlinked"}
	linked := map[string]bool{"id_exact": true, "id_repaired": true, "probabilistic": true}
	for key, method := range want {
		var got string
		var hh *string
		var score *float64
		var weights *string
		db.QueryRow(`SELECT method, household_id, score, weights FROM match_links WHERE source = 'medins' AND record_key = ?`, key).Scan(&got, &hh, &score, &weights)
		if got != method || linked[method] != (hh != nil && *hh == "H1") || (method == "probabilistic_outside" && hh != nil) {
			t.Errorf("%s: method %s household %v; want %s", key, got, hh, method)
		}
		if method == "probabilistic" && (score == nil || *score < DefaultThresholds.Link || weights == nil) {
			t.Errorf("%s: a probabilistic link without its score and weights: %v %v", key, score, weights)
		}
	}
	var o1, o2 string
	db.QueryRow(`SELECT id_number FROM match_links WHERE record_key = 'O1'`).Scan(&o1)
	db.QueryRow(`SELECT coalesce(id_number, '') FROM match_links WHERE record_key = 'O2'`).Scan(&o2)
	if o1 == "" || o1 != o2 {
		t.Errorf("the record without an ID is not the same outside person: %q vs %q", o2, o1)
	}
	// 440524 (潮阳县 until 2003) is not a current code: a warning, and the ID still links.
	var warning string
	db.QueryRow(`SELECT coalesce(warning, '') FROM match_ids WHERE id_number = '440524188001010014'`).Scan(&warning)
	if !strings.Contains(warning, "not a current division code") {
		t.Errorf("no warning for region 440524: %q", warning)
	}
	if st.Linked["id_exact"] != 2 {
		t.Errorf("stats: %+v", st)
	}
	// A second run finds no new IDs and the same links.
	st, err = Link(ctx, db)
	if err != nil || st.NewIDs != 0 || st.Linked["id_exact"] != 2 {
		t.Errorf("second run: %+v %v", st, err)
	}
}

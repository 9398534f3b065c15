package match

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"safetynet/ingest"
	"safetynet/store"
)

func TestLinkByNormalisedID(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db, err := store.Open(ctx, filepath.Join(dir, "t.duckdb"), ingest.Migrations(), Migrations())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	files := map[string]string{
		"registry/h.csv": "户编号,保障类别,行政区划代码,状态\nH1,低保,110105001001,在保\nH2,低保边缘,110105001002,停保\n",
		"registry/m.csv": "户编号,姓名,身份证号\nH1,王芳,11010519491231002X\nH2,李强,440524188001010014\n",
		"medins/s.csv": "结算编号,身份证号,姓名,结算日期,个人自付\n" +
			"S1,１１０１０５１９４９１２３１００２ｘ,王芳,2024-01-01,1\n" + // full-width, lowercase
			"S2,110105491231002,王芳,2024-01-01,1\n" + // legacy 15
			"S3,440524188001010014,李强,2024-01-01,1\n" + // terminated household
			"S4,110105194912310021,王芳,2024-01-01,1\n" + // bad check character
			"S5,,无名,2024-01-01,1\n",
	}
	for name, body := range files {
		p := filepath.Join(dir, filepath.Base(name))
		os.WriteFile(p, []byte(body), 0o644)
		if _, err := ingest.IngestFile(ctx, db, filepath.Dir(name), p, ingest.Options{}); err != nil {
			t.Fatal(err)
		}
	}
	st, err := Link(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"S1": "id_exact", "S2": "id_exact", "S3": "id_outside_registry", "S4": "unlinked", "S5": "unlinked"}
	for key, method := range want {
		var got string
		var hh *string
		db.QueryRow(`SELECT method, household_id FROM match_links WHERE source = 'medins' AND record_key = ?`, key).Scan(&got, &hh)
		if got != method || (method == "id_exact") != (hh != nil && *hh == "H1") {
			t.Errorf("%s: method %s household %v; want %s", key, got, hh, method)
		}
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

package match

import (
	"context"
	"database/sql"
	"testing"
)

// TestRegistryPeopleHoldWhatRecordsCarry: scoring reads of a registry
// person only what a record can agree on (registryColumns). Every
// comparison a department record can take part in, the registry person
// must be able to as well; reading a new record column without reading
// the registry's would leave that comparison missing on every pair. And a
// person in two active households is read once, in the first.
func TestRegistryPeopleHoldWhatRecordsCarry(t *testing.T) {
	ctx := context.Background()
	site := newTestSite(t, "H2,低保,110105001002,在保\nH1,低保,110105001001,在保\n",
		"H2,王芳,11010519491231002X,\nH1,王芳,11010519491231002X,\n")
	site.ingest("medins", "s.csv", "结算编号,身份证号,姓名,性别,出生日期,结算日期,个人自付\n"+
		"S1,,无名氏,男,1990-01-01,2024-01-01,1\n"+ // no ID: name, sex and birth date
		"S2,3.30110199E+17,佚名,女,,2024-01-01,1\n") // an ID Excel stored as a number
	if _, err := Link(ctx, site.db); err != nil {
		t.Fatal(err)
	}
	err := site.db.Tx(ctx, func(conn *sql.Conn) error {
		recs, err := loadUnlinked(ctx, conn, unionSources(unlinkedColumns))
		if err != nil {
			return err
		}
		if len(recs) != 2 {
			t.Fatalf("unlinked records: %d, want 2", len(recs))
		}
		people, households, err := registrySample(ctx, conn, registryTable)
		if err != nil {
			return err
		}
		var wang *Person
		for i := range people {
			if people[i].IDNumber == "11010519491231002X" {
				if wang != nil {
					t.Errorf("王芳 read twice")
				}
				wang = &people[i]
				if households[i] != "H1" {
					t.Errorf("王芳's household: %s, want the first, H1", households[i])
				}
			}
		}
		if wang == nil {
			t.Fatal("王芳 not read")
		}
		wang.prepare()
		for _, c := range Comparisons(false) {
			for i := range recs {
				r := recs[i].scoredForm()
				if c.Compare(&r, &r) != missing && c.Compare(wang, wang) == missing {
					t.Errorf("comparison %s: record %s has it, the registry person as scoring reads them does not", c.Name, recs[i].key)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

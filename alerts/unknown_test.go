package alerts

import (
	"context"
	"encoding/json"
	"testing"
)

// TestUnknownIsNotZero: a household whose income nobody could read stays
// in the registry with its income unknown; expenditure_hardship, which
// needs the income, does not fire on it, while a household whose income
// was written 6万 is assessed on 60,000. A settlement corrected in a later
// delivery under the same record id counts with its new amount only.
func TestUnknownIsNotZero(t *testing.T) {
	db := fixture(t, map[string]string{
		"registry1": households + "H4,低保边缘,330110001002,不详,2,在保\nH5,低保边缘,330110001002,6万,2,在保\n",
		"registry2": members + "H4,赵敏,33011019850202002X\nH5,钱多,330110198603030016\n",
		"medins": "结算编号,身份证号,结算日期,个人自付\n" +
			"S4,33011019850202002X,2026-05-01,40000\n" +
			"S5,330110198603030016,2026-05-01,40000\n" +
			"S1,11010519491231002X,2026-06-20,1000\n" + // H1 per capita 4000: no alert yet
			"\n---\n" +
			"结算编号,身份证号,结算日期,个人自付\nS1,11010519491231002X,2026-06-20,9000\n"}) // corrected: ratio 2.25
	pack, _ := LoadPack(nil)
	got, rep, err := evaluator(db, pack).DryRun(context.Background(), asOf)
	if err != nil || len(rep.Failed()) > 0 {
		t.Fatalf("%v %v", err, rep.Failed())
	}
	hardship := map[string]bool{}
	for _, c := range got["expenditure_hardship"] {
		hardship[c.HouseholdID] = true
	}
	if hardship["H4"] || !hardship["H5"] {
		t.Errorf("expenditure_hardship on %v; want H5 (income 6万) and not H4 (income unknown)", hardship)
	}
	var h1 *Case
	for i, c := range got["temporary_assistance"] {
		if c.HouseholdID == "H1" {
			h1 = &got["temporary_assistance"][i]
		}
	}
	if h1 == nil {
		t.Fatal("the corrected settlement raised nothing for H1")
	}
	var d map[string]any
	json.Unmarshal([]byte(h1.Details), &d)
	if d["ratio"] != 2.25 {
		t.Errorf("H1 ratio %v, want 2.25 from the corrected 9,000 (%s)", d["ratio"], h1.Details)
	}
}

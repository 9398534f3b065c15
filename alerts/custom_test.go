package alerts

import (
	"context"
	"strings"
	"testing"

	"safetynet/config"
)

// A rule of one's own from the config: SQL over the documented views,
// only the columns it needs, parameters like the built-in rules.
func TestCustomRuleFromConfig(t *testing.T) {
	ctx := context.Background()
	db := fixture(t, map[string]string{"registry1": households, "registry2": members,
		"medins": "结算编号,身份证号,结算日期,个人自付\nS1,11010519491231002X,2026-06-20,900\nS2,330110198001010011,2026-06-21,300\n"})
	off := false
	pack, err := LoadPack(map[string]config.RuleConf{
		"big_bill": {
			Title:  map[string]string{"zh": "大额自付", "en": "A big bill"},
			Params: map[string]any{"min_oop": 500},
			SQL: `SELECT m.household_id, h.region_code, list({'source': 'medins', 'record_id': m.record_key}) AS evidence
			      FROM linked_medins m JOIN households h USING (household_id)
			      WHERE m.out_of_pocket >= {{min_oop}} AND m.settle_date <= {{as_of}} GROUP BY ALL`,
		},
		"temporary_assistance": {Enabled: &off},
	})
	if err != nil {
		t.Fatal(err)
	}
	r := pack.Rules[len(pack.Rules)-1]
	if r.ID != "big_bill" || !r.Custom || r.Severity != "medium" || r.Err != nil {
		t.Fatalf("custom rule loaded as %+v", r)
	}
	rep, err := evaluator(db, pack).Run(ctx, asOf, asOf)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Failed()) != 0 {
		t.Fatalf("failed: %+v", rep.Failed())
	}
	list, err := List(ctx, db, Filter{Rule: "big_bill"})
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].HouseholdID != "H1" || list[0].Severity != "medium" || list[0].Reason != "大额自付" ||
		len(list[0].Evidence) != 1 || list[0].Evidence[0].Source != "medins" {
		t.Fatalf("big_bill alerts: %+v", list)
	}
	if got := pack.Title("big_bill", "en"); got != "A big bill" {
		t.Errorf("title: %q", got)
	}
	if n, _ := List(ctx, db, Filter{Rule: "temporary_assistance"}); len(n) != 0 {
		t.Errorf("a rule switched off raised %d alerts", len(n))
	}
}

// Every way the config can get a rule wrong is reported with the rule's
// id, and the other rules still run and record their alerts.
func TestBrokenCustomRulesReportedOthersRun(t *testing.T) {
	ctx := context.Background()
	db := fixture(t, map[string]string{"registry1": households, "registry2": members,
		"medins": "结算编号,身份证号,结算日期,个人自付\nS1,11010519491231002X,2026-06-20,10000\n"})
	pack, err := LoadPack(map[string]config.RuleConf{
		"no_sql":               {Title: map[string]string{"zh": "没有查询"}},
		"bad_sql":              {SQL: "SELEC household_id FROM households"},
		"bad_severity":         {Severity: "urgent", SQL: "SELECT household_id FROM households"},
		"bad_param":            {SQL: "SELECT household_id FROM households WHERE member_count > {{n}}"},
		"no_subject":           {SQL: "SELECT region_code FROM households"},
		"fails_running":        {SQL: "SELECT household_id FROM households WHERE CAST('x' || household_id AS INTEGER) > 0"},
		"Bad-ID":               {SQL: "SELECT household_id FROM households"},
		"expenditure_hardship": {Params: map[string]any{"no_such": 1}},
	})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := evaluator(db, pack).Run(ctx, asOf, asOf)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"no_sql":               "needs sql",
		"bad_sql":              "syntax error",
		"bad_severity":         "urgent",
		"bad_param":            "{{n}}",
		"no_subject":           "neither household_id nor id_number",
		"fails_running":        "Conversion Error",
		"Bad-ID":               "lower-case",
		"expenditure_hardship": "no_such",
	}
	got := map[string]string{}
	for _, f := range rep.Failed() {
		got[f.RuleID] = f.Err.Error()
	}
	for id, frag := range want {
		if !strings.Contains(got[id], frag) {
			t.Errorf("%s: error %q, want it to mention %q", id, got[id], frag)
		}
	}
	if len(got) != len(want) {
		t.Errorf("failed rules %v, want %d", got, len(want))
	}
	if rep.Raised != 1 {
		t.Errorf("temporary_assistance should still raise its alert: raised %d", rep.Raised)
	}
	if list, _ := List(ctx, db, Filter{Rule: "temporary_assistance"}); len(list) != 1 {
		t.Errorf("temporary_assistance alert not recorded after other rules failed: %+v", list)
	}
}

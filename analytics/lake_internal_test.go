package analytics

import "testing"

// TestCountyTables: a month's villages add up to their townships and
// counties; in a county with one small township under a shown total, the
// next smallest is withheld too, so the total does not give it away; a
// village code without a township stays out.
func TestCountyTables(t *testing.T) {
	villages := []villageCount{
		{"330110001001", 2}, {"330110001002", 1}, // township 001: 3, small
		{"330110002001", 40}, {"330110003001", 50},
		{"330106001001", 7}, {"330106002001", 9},
		{"3301", 99}, // no township
	}
	rows := countyTables(Cohort{Name: "c", Version: 2, Definition: Definition{Unit: Persons}}, "2026-11", villages, 5)
	got := map[string]int{}
	for _, r := range rows {
		got[r.code] = r.count
		if r.cohort != "c" || r.version != 2 || r.unit != "person" || r.month != "2026-11" || r.county != r.code[:6] {
			t.Errorf("%+v: not the cohort's, month's or county's row", r)
		}
	}
	want := map[string]int{
		"330110001": Small, "330110002": Hidden, "330110003": 50, "330110": 93,
		"330106001": 7, "330106002": 9, "330106": 16,
	}
	if len(got) != len(want) {
		t.Fatalf("rows %v, want %v", got, want)
	}
	for code, n := range want {
		if got[code] != n {
			t.Errorf("%s: %d, want %d (rows %v)", code, got[code], n, got)
		}
	}
}

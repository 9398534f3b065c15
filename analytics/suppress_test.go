package analytics

import (
	"math/rand/v2"
	"testing"
)

// attack tries to recover a hidden count of a suppressed funnel table the
// way an analyst could: a count shown below k; a column's total minus its
// shown cells pinning one hidden cell, or hidden cells adding up to less
// than k; a count and its stage both shown, differing by less than k.
func attack(t *testing.T, orig, shown []FunnelRow, k int) {
	t.Helper()
	col := func(r FunnelRow) []int {
		return []int{r.Raised, r.Dispatched, r.Visited, r.InTime, r.Helped, r.Changed}
	}
	parent := []int{-1, 0, 1, 2, 2, 0}
	last := len(shown) - 1
	for i := range shown {
		o, s := col(orig[i]), col(shown[i])
		for j := range s {
			if s[j] >= 1 && s[j] < k {
				t.Errorf("row %d column %d shows %d, below k", i, j, s[j])
			}
			if s[j] >= 0 && s[j] != o[j] {
				t.Errorf("row %d column %d shows %d, not its count %d", i, j, s[j], o[j])
			}
			for p := parent[j]; p >= 0; p = parent[p] {
				if s[j] >= 0 && s[p] >= 0 && s[p]-s[j] >= 1 && s[p]-s[j] < k {
					t.Errorf("row %d: column %d (%d) and the stage %d it is part of (%d) differ by less than k", i, j, s[j], p, s[p])
				}
			}
		}
	}
	for j := 0; j < 6; j++ {
		total := col(shown[last])[j]
		if total < 0 {
			continue
		}
		rest, hidden := total, 0
		for i := 0; i < last; i++ {
			if v := col(shown[i])[j]; v >= 0 {
				rest -= v
			} else {
				hidden++
			}
		}
		if hidden == 1 && rest > 0 {
			t.Errorf("column %d: the total minus the shown cells gives the hidden one: %d", j, rest)
		}
		if hidden > 0 && rest > 0 && rest < k {
			t.Errorf("column %d: the hidden cells add up to %d, below k: each of them is pinned down", j, rest)
		}
	}
}

func withTotal(rows []FunnelRow) []FunnelRow {
	var tot FunnelRow
	tot.Group = "all"
	for _, r := range rows {
		tot.Raised += r.Raised
		tot.Dispatched += r.Dispatched
		tot.Visited += r.Visited
		tot.InTime += r.InTime
		tot.Helped += r.Helped
		tot.Changed += r.Changed
	}
	return append(rows, tot)
}

func TestSuppressFunnel(t *testing.T) {
	rows := withTotal([]FunnelRow{
		{Group: "五常街道", Raised: 40, Dispatched: 30, Visited: 20, InTime: 18, Helped: 9, Changed: 6},
		{Group: "仓前街道", Raised: 3, Dispatched: 3, Visited: 2, InTime: 2, Helped: 1, Changed: 0}, // a township with three alerts
		{Group: "闲林街道", Raised: 25, Dispatched: 22, Visited: 21, InTime: 20, Helped: 12, Changed: 7},
	})
	orig := append([]FunnelRow(nil), rows...)
	SuppressFunnel(rows, 5)
	if rows[1].Raised != Small || rows[0].Raised < 0 && rows[2].Raised < 0 {
		t.Errorf("仓前街道's 3 alerts: %+v", rows[1])
	}
	if rows[0].Raised >= 0 && rows[2].Raised >= 0 {
		t.Errorf("the total of raised minus the two shown townships gives 仓前街道's 3: %+v", rows)
	}
	if rows[2].Dispatched >= 0 && rows[2].Raised >= 0 {
		t.Errorf("闲林街道: 25 raised and 22 dispatched both shown say 3 were not dispatched")
	}
	attack(t, orig, rows, 5)

	rng := rand.New(rand.NewPCG(5, 5))
	for n := 0; n < 2000; n++ {
		groups := make([]FunnelRow, 1+rng.IntN(6))
		for i := range groups {
			r := &groups[i]
			r.Raised = rng.IntN(30)
			r.Dispatched = rng.IntN(r.Raised + 1)
			r.Visited = rng.IntN(r.Dispatched + 1)
			r.InTime = rng.IntN(r.Visited + 1)
			r.Helped = rng.IntN(r.Visited + 1)
			r.Changed = rng.IntN(r.Raised + 1)
		}
		rows := withTotal(groups)
		orig := append([]FunnelRow(nil), rows...)
		SuppressFunnel(rows, 5)
		attack(t, orig, rows, 5)
		if t.Failed() {
			t.Fatalf("table %d: %+v → %+v", n, orig, rows)
		}
	}
}

// TestSuppressRegionsAttack: for 2,000 random region tables, nothing below
// k is shown, and the total less the shown rows never pins a hidden row
// (one hidden row, or hidden rows adding up to less than k).
func TestSuppressRegionsAttack(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	const k = 5
	for n := 0; n < 2000; n++ {
		tab := &RegionTable{}
		orig := []int{}
		for i := 0; i < 1+rng.IntN(12); i++ {
			c := rng.IntN(30)
			if rng.IntN(3) == 0 {
				c = rng.IntN(k)
			}
			tab.Rows = append(tab.Rows, RegionCount{Code: "33011000" + string(rune('0'+i%10)), Count: c})
			orig = append(orig, c)
			tab.Total += c
		}
		total := tab.Total
		SuppressRegions(tab, k)
		if tab.Total >= 0 && tab.Total != total {
			t.Fatalf("total shown %d, is %d", tab.Total, total)
		}
		rest, hidden, hiddenSum := tab.Total, 0, 0
		for i, r := range tab.Rows {
			switch {
			case r.Count >= 1 && r.Count < k:
				t.Fatalf("table %d row %d shows %d", n, i, r.Count)
			case r.Count >= 0 && r.Count != orig[i]:
				t.Fatalf("table %d row %d shows %d, is %d", n, i, r.Count, orig[i])
			case r.Count >= 0:
				rest -= r.Count
			default:
				hidden++
				hiddenSum += orig[i]
			}
		}
		if tab.Total >= 0 && hidden > 0 && (hidden == 1 || rest < k) {
			t.Fatalf("table %d: the total less the shown rows leaves %d for %d hidden rows: %v → %+v", n, rest, hidden, orig, tab.Rows)
		}
	}
}

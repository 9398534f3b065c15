package analytics

import (
	"sort"
	"strconv"
)

// Counts an aggregates-only analyst may not see: below k, shown as "<k";
// or hidden so that no other count can be worked out from the totals,
// shown as "×".
const (
	Small  = -1
	Hidden = -2
)

// ShowCount is a count as a reader sees it: the number, "<k" for Small
// or "×" for Hidden.
func ShowCount(n, k int) string {
	switch n {
	case Small:
		return "<" + strconv.Itoa(k)
	case Hidden:
		return "×"
	}
	return strconv.Itoa(n)
}

// ShowHours is a median of hours to one decimal, or "×" when hidden.
func ShowHours(h float64) string {
	if h < 0 {
		return "×"
	}
	return strconv.FormatFloat(h, 'f', 1, 64)
}

// SuppressFunnel hides the counts of a funnel table that could reveal
// fewer than k alerts, for analysts who see aggregates only:
//
//   - primary: a count from 1 to k−1;
//   - within a row, a count whose difference from a stage it is part of
//     (raised − dispatched: the alerts not dispatched; raised − visited)
//     is from 1 to k−1;
//   - secondary, within a column: the total row is shown, so while a
//     column has one hidden cell (the total minus the others gives it
//     away) or hidden cells adding up to less than k, the smallest
//     visible non-zero cell of the column is hidden too.
//
// The rows are changed in place; the last row must be the total of the
// others (Funnel by "all" appended to a grouped funnel).
func SuppressFunnel(rows []FunnelRow, k int) {
	if len(rows) == 0 || k <= 1 {
		return
	}
	cells := make([][]*int, len(rows))
	orig := make([][]int, len(rows))
	for i := range rows {
		r := &rows[i]
		cells[i] = []*int{&r.Raised, &r.Dispatched, &r.Visited, &r.InTime, &r.Helped, &r.Changed}
		orig[i] = make([]int, len(cells[i]))
		for j, c := range cells[i] {
			orig[i][j] = *c
		}
	}
	hidden := make([][]bool, len(rows))
	for i := range hidden {
		hidden[i] = make([]bool, 6)
	}
	small := func(n int) bool { return n >= 1 && n < k }
	// The stage each count is part of: dispatched ⊂ raised, visited ⊂
	// dispatched, in time ⊂ visited, helped ⊂ visited, changed ⊂ raised.
	parent := []int{-1, 0, 1, 2, 2, 0}
	for i := range rows {
		for j := range parent {
			if small(orig[i][j]) {
				hidden[i][j] = true
			}
			for a := parent[j]; a >= 0; a = parent[a] { // raised − visited counts people too, whatever lies between
				if small(orig[i][a] - orig[i][j]) {
					hidden[i][j] = true
				}
			}
		}
	}
	secondary(orig, hidden, k)
	for i := range rows {
		for j, c := range cells[i] {
			switch {
			case hidden[i][j] && small(orig[i][j]):
				*c = Small
			case hidden[i][j]:
				*c = Hidden
			}
		}
		if rows[i].Visited < 0 {
			rows[i].MedianHoursToVisit = Hidden // a median of a few visits describes those few
		}
	}
}

// secondary hides cells until no column gives a hidden cell away: the
// last row is the total of the others, so while a column has one hidden
// cell, or hidden cells adding up to less than k, the smallest visible
// non-zero cell of the column is hidden too (the total itself when no
// other is left).
func secondary(orig [][]int, hidden [][]bool, k int) {
	last := len(orig) - 1
	for changed := true; changed; {
		changed = false
		for j := range orig[0] {
			var shown []int
			sum, n := 0, 0
			for i := 0; i < last; i++ {
				switch {
				case hidden[i][j]:
					sum += orig[i][j]
					n++
				case orig[i][j] > 0:
					shown = append(shown, i)
				}
			}
			if n == 0 || (n >= 2 && sum >= k) || len(shown) == 0 {
				if n > 0 && len(shown) == 0 && (n == 1 || sum < k) && !hidden[last][j] {
					hidden[last][j], changed = true, true // nothing left to hide beside them: hide the total
				}
				continue
			}
			sort.Slice(shown, func(a, b int) bool { return orig[shown[a]][j] < orig[shown[b]][j] })
			hidden[shown[0]][j], changed = true, true
		}
	}
}

// SuppressRegions hides a region table's counts for aggregates-only
// analysts: counts from 1 to k−1 show as Small, and the secondary rule
// of SuppressFunnel holds for the rows against the total.
func SuppressRegions(t *RegionTable, k int) {
	if k <= 1 {
		return
	}
	orig := make([][]int, len(t.Rows)+1)
	hidden := make([][]bool, len(orig))
	for i, r := range t.Rows {
		orig[i], hidden[i] = []int{r.Count}, []bool{r.Count >= 1 && r.Count < k}
	}
	orig[len(t.Rows)], hidden[len(t.Rows)] = []int{t.Total}, []bool{t.Total >= 1 && t.Total < k}
	secondary(orig, hidden, k)
	show := func(n int, h bool) int {
		switch {
		case h && n >= 1 && n < k:
			return Small
		case h:
			return Hidden
		}
		return n
	}
	for i := range t.Rows {
		t.Rows[i].Count = show(t.Rows[i].Count, hidden[i][0])
	}
	t.Total = show(t.Total, hidden[len(t.Rows)][0])
}

// SuppressSeries shows a monthly series' counts from 1 to k−1 as Small.
// The months are not parts of a total, so nothing else needs hiding.
func SuppressSeries(s []MonthCount, k int) {
	for i := range s {
		if s[i].Count >= 1 && s[i].Count < k {
			s[i].Count = Small
		}
	}
}

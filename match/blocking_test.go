package match

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// Linkage blocking indexes only the records' keys; it must find the pairs
// grouping everyone finds, in the same order, rule by rule (training
// reads each rule's first maxTrainPairs, so the order is part of the
// result).
func TestLinkageBlockingAsGroupingEveryone(t *testing.T) {
	for _, latin := range []bool{false, true} {
		people := blockingPeople(3000, latin)
		left := 2400
		rules := BlockingRules(latin)
		got := block(people, left, rules)
		want := crossPairs(block(people, 0, rules), left)
		if len(want.pairs) < 1000 {
			t.Fatalf("latin=%v: %d pairs: the people share too few keys to test", latin, len(want.pairs))
		}
		if g, w := pairKeys(got.pairs, nil), pairKeys(want.pairs, nil); !slices.Equal(g, w) {
			t.Fatalf("latin=%v: %d pairs, want %d (first difference at %d)", latin, len(g), len(w), firstDiff(g, w))
		}
		for ri, r := range rules {
			if g, w := pairKeys(got.pairs, got.byRule[ri]), pairKeys(want.pairs, want.byRule[ri]); !slices.Equal(g, w) {
				t.Fatalf("latin=%v, rule %q: %d pairs, want %d (first difference at %d)", latin, r.Name, len(g), len(w), firstDiff(g, w))
			}
		}
	}
}

// blockingPeople are n people drawn from few names, dates and phones, so
// that keys are shared often; one birth date is shared by more than
// maxBlock of them.
func blockingPeople(n int, latin bool) []Person {
	rng := rand.New(rand.NewPCG(3, 4))
	surnames := []string{"王", "李", "張", "张", "陈", "陳", "欧阳"}
	given := []string{"芳", "强", "伟", "静", "娜娜"}
	out := make([]Person, n)
	for i := range out {
		p := Person{Key: fmt.Sprint(i), Birth: fmt.Sprintf("19%02d0%d1%d", 50+rng.IntN(5), 1+rng.IntN(3), rng.IntN(3)),
			Phone: fmt.Sprintf("1390000%04d", rng.IntN(400)), Region: fmt.Sprintf("33011%d", rng.IntN(3))}
		if i%5 == 0 {
			p.Birth = "19000101" // "unknown", past maxBlock
		}
		if latin {
			p.Given, p.Family, p.Locality = []string{"ann", "bob", "cy"}[rng.IntN(3)], []string{"lee", "li", "ng"}[rng.IntN(3)], "x"
		} else {
			p.Name = surnames[rng.IntN(len(surnames))] + given[rng.IntN(len(given))]
		}
		out[i] = p
	}
	for i := range out {
		out[i].prepare()
	}
	return out
}

// crossPairs keeps the pairs of a left person with a right one.
func crossPairs(b blocked, left int) blocked {
	out := blocked{byRule: make([][]int32, len(b.byRule))}
	at := map[int32]int32{}
	for i, p := range b.pairs {
		if p.A < left && p.B >= left {
			at[int32(i)] = int32(len(out.pairs))
			out.pairs = append(out.pairs, p)
		}
	}
	for ri, idx := range b.byRule {
		for _, i := range idx {
			if j, ok := at[i]; ok {
				out.byRule[ri] = append(out.byRule[ri], j)
			}
		}
	}
	return out
}

// pairKeys lists the pairs (those at idx, or all) as "A-B".
func pairKeys(pairs []Pair, idx []int32) []string {
	var out []string
	if idx == nil {
		for _, p := range pairs {
			out = append(out, fmt.Sprintf("%d-%d", p.A, p.B))
		}
		return out
	}
	for _, i := range idx {
		out = append(out, fmt.Sprintf("%d-%d", pairs[i].A, pairs[i].B))
	}
	return out
}

func firstDiff(a, b []string) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

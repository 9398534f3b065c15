package match

import "strings"

// registryTraining gathers what training reads (trainingPairs) from the
// parts registryScorer blocks one after another, as one blocking of every
// record would give it.
type registryTraining struct {
	rules  []BlockingRule
	limit  int
	pairs  int
	counts []int        // per rule, its pairs
	first  [][]rulePair // per rule trained on, its first limit pairs in blocking order
	all    patterns
}

// rulePair is a pair as a rule orders it: blocking takes a rule's keys in
// order, and a key's registry persons (by ID) each with its records (in
// their order).
type rulePair struct {
	key, id string
	record  int
	levels  []int8
}

func (a *rulePair) before(b *rulePair) bool {
	if c := strings.Compare(a.key, b.key); c != 0 {
		return c < 0
	}
	if a.id != b.id {
		return a.id < b.id
	}
	return a.record < b.record
}

func newRegistryTraining(rules []BlockingRule, limit int) *registryTraining {
	return &registryTraining{rules: rules, limit: limit, counts: make([]int, len(rules)), first: make([][]rulePair, len(rules)), all: patterns{}}
}

// add takes a part's compared pairs. A part's pairs of a rule come in the
// rule's order already, so the first limit of all the parts' are those of
// the merge of each part's first limit.
func (t *registryTraining) add(pt part) {
	t.pairs += len(pt.pairs)
	for _, p := range pt.pairs {
		t.all.add(p.Levels, nil, 1)
	}
	for ri, r := range t.rules {
		idx := pt.byRule[ri]
		t.counts[ri] += len(idx)
		if r.Wide {
			continue
		}
		idx = idx[:min(len(idx), t.limit)]
		mine := make([]rulePair, len(idx))
		for k, i := range idx {
			p := &pt.pairs[i]
			person := &pt.people[p.A]
			mine[k] = rulePair{key: r.Key(person), id: person.IDNumber, record: pt.records[p.B-pt.split], levels: p.Levels}
		}
		t.first[ri] = mergeFirst(t.first[ri], mine, t.limit)
	}
}

// mergeFirst merges two lists in rule order and keeps the first limit.
func mergeFirst(a, b []rulePair, limit int) []rulePair {
	out := make([]rulePair, 0, min(len(a)+len(b), limit))
	for len(out) < limit && (len(a) > 0 || len(b) > 0) {
		if len(b) == 0 || len(a) > 0 && !b[0].before(&a[0]) {
			out, a = append(out, a[0]), a[1:]
		} else {
			out, b = append(out, b[0]), b[1:]
		}
	}
	return out
}

func (t *registryTraining) ruleCount(ri int) int { return t.counts[ri] }

func (t *registryTraining) rulePatterns(ri, limit int, skip map[int]bool) patterns {
	ps := patterns{}
	for _, p := range t.first[ri][:min(len(t.first[ri]), limit)] {
		ps.add(p.levels, skip, 1)
	}
	return ps
}

func (t *registryTraining) allPatterns() patterns { return t.all }

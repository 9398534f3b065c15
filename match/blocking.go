package match

import (
	"maps"
	"slices"
)

// maxBlock bounds the pairs one key makes (a birth date of 1900-01-01
// standing for "unknown" would otherwise pair everyone).
const maxBlock = 500

// blocked is what blocking found: the candidate pairs, once each, and for
// each rule the pairs it makes in its own order (training reads them per
// rule, so they are found once, not again for each rule).
type blocked struct {
	pairs  []Pair
	byRule [][]int32 // per rule, indexes into pairs
}

func (b blocked) ruleCount(ri int) int { return len(b.byRule[ri]) }

// rulePatterns are the patterns of rule ri's first limit pairs, in its order.
func (b blocked) rulePatterns(ri, limit int, skip map[int]bool) patterns {
	idx := b.byRule[ri]
	if len(idx) > limit {
		idx = idx[:limit]
	}
	ps := patterns{}
	for _, i := range idx {
		ps.add(b.pairs[i].Levels, skip, 1)
	}
	return ps
}

func (b blocked) allPatterns() patterns { return patternsOf(b.pairs, nil) }

// block finds the pairs that share a key under any rule, once each. With
// left > 0, only pairs of a left record (index < left) with a right one
// are made (linkage); otherwise every pair within (deduplication). Within
// a rule, keys are taken in sorted order and a key's pairs by index, so
// the pairs come out in the same order on every run.
func block(people []Person, left int, rules []BlockingRule) blocked {
	if left > 0 {
		return blockLinkage(people, left, rules, nil)
	}
	b := blocked{byRule: make([][]int32, len(rules))}
	seen := map[[2]int32]int32{}
	for ri, r := range rules {
		groups := map[string][]int32{}
		for i := range people {
			if k := r.Key(&people[i]); k != "" {
				groups[k] = append(groups[k], int32(i))
			}
		}
		for _, k := range slices.Sorted(maps.Keys(groups)) {
			g := groups[k]
			if len(g) < 2 || len(g) > maxBlock {
				continue
			}
			for x := 0; x < len(g); x++ {
				for y := x + 1; y < len(g); y++ {
					key := [2]int32{g[x], g[y]}
					at, ok := seen[key]
					if !ok {
						at = int32(len(b.pairs))
						seen[key] = at
						b.pairs = append(b.pairs, Pair{A: int(g[x]), B: int(g[y])})
					}
					b.byRule[ri] = append(b.byRule[ri], at)
				}
			}
		}
	}
	return b
}

// linkGroup is one key's people of each side, by index.
type linkGroup struct{ lefts, rights []int32 }

// blockLinkage is block for linkage. The right side (a run's records) is
// small beside the left (the registry persons sharing some key with
// them), so only keys a right record has are kept, and a pair already
// found is looked for among its right record's few pairs rather than in
// a map of every pair. The pairs are those and in the order that
// grouping everyone would give: a key's lefts come before its rights.
// When the rights are a part of the records (registryScorer), rights
// says, per rule, how many of all the records have each key: a key too
// common to block on (maxBlock) is so whichever part it falls in.
func blockLinkage(people []Person, left int, rules []BlockingRule, rights []map[string]int) blocked {
	b := blocked{byRule: make([][]int32, len(rules))}
	ofRight := make([][]int32, len(people)-left) // per right record, its pairs
	for ri, r := range rules {
		groups := map[string]*linkGroup{}
		for i := left; i < len(people); i++ {
			if k := r.Key(&people[i]); k != "" {
				g := groups[k]
				if g == nil {
					g = &linkGroup{}
					groups[k] = g
				}
				g.rights = append(g.rights, int32(i))
			}
		}
		for i := range left {
			if k := r.Key(&people[i]); k != "" {
				if g := groups[k]; g != nil {
					g.lefts = append(g.lefts, int32(i))
				}
			}
		}
		for _, k := range slices.Sorted(maps.Keys(groups)) {
			g := groups[k]
			n := len(g.rights)
			if rights != nil {
				n = rights[ri][k]
			}
			if n += len(g.lefts); n < 2 || n > maxBlock {
				continue
			}
			for _, a := range g.lefts {
				for _, c := range g.rights {
					at := b.pairOf(ofRight, left, a, c)
					b.byRule[ri] = append(b.byRule[ri], at)
				}
			}
		}
	}
	return b
}

// pairOf is the index of the pair (a, c), added if it is new.
func (b *blocked) pairOf(ofRight [][]int32, left int, a, c int32) int32 {
	mine := &ofRight[int(c)-left]
	for _, at := range *mine {
		if b.pairs[at].A == int(a) {
			return at
		}
	}
	at := int32(len(b.pairs))
	b.pairs = append(b.pairs, Pair{A: int(a), B: int(c)})
	*mine = append(*mine, at)
	return at
}

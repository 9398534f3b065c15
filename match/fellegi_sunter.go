package match

import (
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
)

// Model is a Fellegi–Sunter model: for each comparison level, m (how often
// true matches agree at that level) and u (how often non-matches do), and
// the prior proportion of matches among candidate pairs. m and the prior
// are estimated by EM on the candidate pairs themselves; u from random
// pairs, which are almost all non-matches.
type Model struct {
	Comparisons []Comparison
	M, U        [][]float64
	Lambda      float64
	// Universe, when set, is the number of all possible pairs: the score's
	// prior is then the chance that two records taken at random match
	// (Splink's), not the share of matches among the candidate pairs,
	// whose agreement on the blocked fields the weights already count.
	Universe   float64
	candidates float64              // the pairs the last Fit scored
	keptPrior  bool                 // Lambda came from a model kept from a larger run
	tf         []map[string]float64 // per comparison with TF: value → share of records
}

// Pair is a candidate pair of records (indexes) with its comparison levels.
type Pair struct {
	A, B   int
	Levels []int8
	Weight float64 // match weight in bits: log2 of the odds
}

// Prob turns a match weight into a probability.
func Prob(w float64) float64 { return 1 / (1 + math.Exp2(-w)) }

// Term is one comparison's part of a pair's weight, for explanations.
type Term struct {
	Comparison string
	Level      string
	Weight     float64
}

const (
	minProb = 1e-6 // keeps m and u away from 0 and the weights finite
	emSteps = 40
)

// NewModel prepares people for comparison and estimates u from random
// pairs. For linkage, pairs are drawn across left and right.
func NewModel(cs []Comparison, people []Person, left int, rng *rand.Rand) *Model {
	for i := range people {
		people[i].prepare()
	}
	m := &Model{Comparisons: cs, Lambda: 0.01}
	m.M, m.U = make([][]float64, len(cs)), make([][]float64, len(cs))
	m.tf = make([]map[string]float64, len(cs))
	for c, cmp := range cs {
		n := len(cmp.Levels)
		m.M[c], m.U[c] = make([]float64, n), make([]float64, n)
		// Start m high for the closest levels.
		for l := 0; l < n; l++ {
			m.M[c][l] = math.Pow(0.5, float64(l+1))
		}
		normalise(m.M[c])
		if cmp.TF != nil {
			counts, total := map[string]float64{}, 0.0
			for i := range people {
				if v := cmp.TF(&people[i]); v != "" {
					counts[v]++
					total++
				}
			}
			for v := range counts {
				counts[v] /= total
			}
			m.tf[c] = counts
		}
	}
	// u from random pairs.
	const samples = 200_000
	counts := make([][]float64, len(cs))
	for c := range cs {
		counts[c] = make([]float64, len(cs[c].Levels))
		for l := range counts[c] {
			counts[c][l] = 1 // add-one, so a level never seen is rare, not impossible
		}
	}
	for s := 0; s < samples; s++ {
		var a, b int
		if left > 0 && left < len(people) {
			a, b = rng.IntN(left), left+rng.IntN(len(people)-left)
		} else {
			a, b = rng.IntN(len(people)), rng.IntN(len(people))
			if a == b {
				continue
			}
		}
		for c, cmp := range cs {
			if l := cmp.Compare(&people[a], &people[b]); l >= 0 {
				counts[c][l]++
			}
		}
	}
	for c := range cs {
		copy(m.U[c], counts[c])
		normalise(m.U[c])
	}
	return m
}

func normalise(p []float64) {
	s := 0.0
	for _, v := range p {
		s += v
	}
	for i := range p {
		p[i] = math.Max(p[i]/s, minProb)
	}
}

// Compare fills each pair's levels.
func (m *Model) Compare(people []Person, pairs []Pair) {
	for i := range pairs {
		p := &pairs[i]
		p.Levels = make([]int8, len(m.Comparisons))
		for c, cmp := range m.Comparisons {
			p.Levels[c] = int8(cmp.Compare(&people[p.A], &people[p.B]))
		}
	}
}

// trainingPairs is what training reads of the compared candidate pairs:
// how many each rule made, the levels of a rule's first pairs in its
// order, and every pair's levels. One blocking (blocked) gives them, or
// parts blocked one after another (registryTraining).
type trainingPairs interface {
	ruleCount(ri int) int
	// rulePatterns are the level patterns of rule ri's first limit
	// pairs, the comparisons in skip missing.
	rulePatterns(ri, limit int, skip map[int]bool) patterns
	allPatterns() patterns
}

// train estimates m the way Splink does: for each blocking rule, EM over
// the pairs that rule makes, leaving out the comparisons the rule itself
// forces to agree (pairs blocked on birth date agree on it whether they
// match or not); each comparison's m is the mean of the estimates of the
// rules that leave it free. The prior is then fitted over all candidates
// with m and u held.
func (m *Model) train(rules []BlockingRule, b trainingPairs) {
	sums := make([][]float64, len(m.M))
	n := make([]int, len(m.M))
	for c := range sums {
		sums[c] = make([]float64, len(m.M[c]))
	}
	for ri, r := range rules {
		if r.Wide || b.ruleCount(ri) < 10 {
			continue
		}
		skip := map[int]bool{}
		for c, cmp := range m.Comparisons {
			for _, u := range r.Uses {
				if u == cmp.Name {
					skip[c] = true
				}
			}
		}
		est := m.clone()
		est.em(b.rulePatterns(ri, maxTrainPairs, skip), skip, true)
		for c := range sums {
			if skip[c] {
				continue
			}
			for l := range sums[c] {
				sums[c][l] += est.M[c][l]
			}
			n[c]++
		}
	}
	for c := range sums {
		if n[c] == 0 {
			continue
		}
		for l := range sums[c] {
			m.M[c][l] = sums[c][l] / float64(n[c])
		}
		normalise(m.M[c])
	}
	m.em(b.allPatterns(), nil, false)
}

// minPriorPairs: below it not even the prior is fitted.
const minPriorPairs = 5

// maxTrainPairs bounds the pairs one rule trains on.
const maxTrainPairs = 500_000

func (m *Model) clone() *Model {
	c := *m
	c.M = make([][]float64, len(m.M))
	for i := range m.M {
		c.M[i] = append([]float64(nil), m.M[i]...)
	}
	return &c
}

// pattern is a combination of levels and how many pairs have it.
type pattern struct {
	levels []int8
	n      float64
}

// patterns are pairs' level patterns, by the patterns' bytes.
type patterns map[string]*pattern

// add counts n pairs of the levels, the comparisons in skip missing.
func (ps patterns) add(levels []int8, skip map[int]bool, n float64) {
	if len(skip) > 0 {
		levels = append([]int8(nil), levels...)
		for c := range skip {
			levels[c] = missing
		}
	}
	k := string(int8sToBytes(levels))
	if pt, ok := ps[k]; ok {
		pt.n += n
	} else {
		ps[k] = &pattern{levels: levels, n: n}
	}
}

func patternsOf(pairs []Pair, skip map[int]bool) patterns {
	ps := patterns{}
	for _, p := range pairs {
		ps.add(p.Levels, skip, 1)
	}
	return ps
}

// em runs expectation–maximisation over the pairs' level patterns (there
// are far fewer patterns than pairs), built with the comparisons in skip
// left out; with updateM false only the prior moves.
func (m *Model) em(byKey patterns, skip map[int]bool, updateM bool) {
	// In the patterns' order, not the map's: sums in another order differ
	// in the last bits, and a run is to be made again exactly.
	pats := make([]*pattern, 0, len(byKey))
	total := 0.0
	for _, k := range slices.Sorted(maps.Keys(byKey)) {
		pats = append(pats, byKey[k])
		total += byKey[k].n
	}
	if total == 0 {
		return
	}
	for step := 0; step < emSteps; step++ {
		mc := make([][]float64, len(m.M))
		for c := range mc {
			mc[c] = make([]float64, len(m.M[c]))
		}
		sumP := 0.0
		for _, pt := range pats {
			lm, lu := math.Log(m.Lambda), math.Log(1-m.Lambda)
			for c, l := range pt.levels {
				if l >= 0 {
					lm += math.Log(m.M[c][l])
					lu += math.Log(m.U[c][l])
				}
			}
			p := 1 / (1 + math.Exp(lu-lm))
			sumP += p * pt.n
			for c, l := range pt.levels {
				if l >= 0 {
					mc[c][l] += p * pt.n
				}
			}
		}
		m.Lambda = math.Min(math.Max(sumP/total, minProb), 1-minProb)
		if !updateM {
			continue
		}
		for c := range mc {
			if skip[c] {
				continue
			}
			for l := range mc[c] {
				mc[c][l] += 1e-3
			}
			normalise(mc[c])
			m.M[c] = mc[c]
		}
	}
}

func int8sToBytes(v []int8) []byte {
	b := make([]byte, len(v))
	for i, x := range v {
		b[i] = byte(x)
	}
	return b
}

// Fit finds the candidate pairs under the rules, compares them, trains
// the model on them (when there are at least minTrain) and scores them.
func (m *Model) Fit(people []Person, left int, rules []BlockingRule, minTrain int) []Pair {
	b := block(people, left, rules)
	m.Compare(people, b.pairs)
	m.learn(rules, b, len(b.pairs), minTrain)
	m.Score(people, b.pairs)
	return b.pairs
}

// learn trains the model on the pairs candidates (when there are at least
// minTrain) and notes how many there were, for the prior.
func (m *Model) learn(rules []BlockingRule, tp trainingPairs, pairs, minTrain int) {
	switch {
	case pairs >= minTrain:
		m.train(rules, tp)
	case !m.keptPrior && pairs >= minPriorPairs:
		// Too few pairs to learn m, but the prior is one number that a
		// few dozen pairs fit well: in a village almost every candidate
		// pair is the same person, and the starting 1% would make a clear
		// name-and-birth-date match look doubtful. So few pairs are not
		// trusted with more than even odds.
		m.em(tp.allPatterns(), nil, false)
		m.Lambda = math.Min(m.Lambda, 0.5)
	}
	m.candidates = float64(pairs)
}

// Prior is the match weight before any comparison, in bits.
func (m *Model) Prior() float64 {
	l := m.Lambda
	if m.Universe > 0 && m.candidates > 0 {
		l = math.Min(l*m.candidates/m.Universe, 1-minProb)
	}
	return math.Log2(l / (1 - l))
}

// Score sets each pair's match weight: the prior and each comparison's
// weight, as Explain lists them (a province scores millions of pairs, so
// without listing them).
func (m *Model) Score(people []Person, pairs []Pair) {
	prior := m.Prior()
	for i := range pairs {
		w := prior
		for c, l := range pairs[i].Levels {
			if l >= 0 {
				w += m.weight(people, &pairs[i], c)
			}
		}
		pairs[i].Weight = w
	}
}

// Explain lists each comparison's weight for a pair.
func (m *Model) Explain(people []Person, p *Pair) []Term {
	terms := make([]Term, 0, len(m.Comparisons))
	for c, cmp := range m.Comparisons {
		l := p.Levels[c]
		if l < 0 {
			terms = append(terms, Term{Comparison: cmp.Name, Level: "missing"})
			continue
		}
		terms = append(terms, Term{Comparison: cmp.Name, Level: cmp.Levels[l], Weight: m.weight(people, p, c)})
	}
	return terms
}

// weight is comparison c's weight for a pair, at its level (not missing):
// log2(m/u), with u of an exact match taken from the value's own
// frequency where the comparison asks for it.
func (m *Model) weight(people []Person, p *Pair, c int) float64 {
	l := p.Levels[c]
	u := m.U[c][l]
	if l == 0 && m.tf[c] != nil {
		if f := m.tf[c][m.Comparisons[c].TF(&people[p.A])]; f > 0 {
			// The chance that two random records share this value; the
			// average over values is what u[0] estimates.
			u = math.Max(f, minProb)
		}
	}
	return math.Log2(m.M[c][l] / u)
}

// BlockingRule gives a record's key for one rule; records sharing a key
// are compared. "" means the rule does not apply to the record.
type BlockingRule struct {
	Name string
	Key  func(p *Person) string
	Uses []string // the comparisons the key forces to agree, left out when training on its pairs
	// Wide: the rule only finds candidates; m is not estimated on its
	// pairs, most of which are strangers (Splink trains on a few tight
	// rules and predicts with many).
	Wide bool
}

// BlockingRules are unioned, so a pair missed by one (a typo in the birth
// date) is found by another (surname and birth year).
func BlockingRules(latin bool) []BlockingRule {
	birth := BlockingRule{"birth date", func(p *Person) string { return p.Birth }, []string{"birth_date"}, false}
	if !latin {
		// In a province, hundreds share a birth date: add the surname, by
		// its sound, so 陳/陈 and 张/章 still meet.
		birth = BlockingRule{"birth date and surname", func(p *Person) string {
			if p.Birth == "" || p.surnamePY == "" {
				return ""
			}
			return p.Birth + "|" + p.surnamePY
		}, []string{"birth_date"}, false}
	}
	rules := []BlockingRule{
		birth,
		{"phone", func(p *Person) string { return p.Phone }, []string{"phone"}, false},
		{"id number", func(p *Person) string { return p.IDNumber }, []string{"id_number"}, false},
		{"email", func(p *Person) string { return p.Email }, []string{"email"}, false},
		{"name and birth year", func(p *Person) string {
			if p.surname == "" || len(p.Birth) < 4 {
				return ""
			}
			if p.Name != "" && p.Given == "" {
				// Chinese: the whole name by its sound (a surname and a
				// year would pair hundreds of 王 born in 1960 in a province).
				return p.pinyin + "|" + p.Birth[:4]
			}
			return surnameKey(p) + "|" + p.Birth[:4]
		}, []string{"family_name", "name", "birth_date"}, false},
	}
	if latin {
		rules = append(rules,
			BlockingRule{"given and family name", func(p *Person) string {
				if p.Given == "" || p.Family == "" {
					return ""
				}
				return p.Given + "|" + p.Family
			}, []string{"given_name", "family_name"}, false},
			BlockingRule{"postcode and initials", func(p *Person) string {
				if p.Region == "" || p.Given == "" || p.Family == "" {
					return ""
				}
				return p.Region + "|" + p.Given[:1] + p.Family[:1]
			}, []string{"region", "given_name", "family_name"}, false},
			BlockingRule{"name beginnings", func(p *Person) string {
				if len(p.Given) < 2 || len(p.Family) < 2 {
					return ""
				}
				return prefix(p.Given, 3) + "|" + prefix(p.Family, 3)
			}, []string{"given_name", "family_name"}, false},
			BlockingRule{"given name and birth year", func(p *Person) string {
				if p.Given == "" || len(p.Birth) < 4 {
					return ""
				}
				return p.Given + "|" + p.Birth[:4]
			}, []string{"given_name", "birth_date"}, false},
			BlockingRule{"locality and given name", func(p *Person) string {
				if p.Locality == "" || p.Given == "" {
					return ""
				}
				return p.Locality + "|" + p.Given
			}, []string{"locality", "given_name"}, false},
			// Heavily corrupted data (Splink's fake people): a name missing,
			// given and family swapped, every other field with a typo.
			BlockingRule{"family name", func(p *Person) string { return p.Family }, []string{"family_name"}, true},
			BlockingRule{"given name", func(p *Person) string { return p.Given }, []string{"given_name"}, true},
			BlockingRule{"names in either order", func(p *Person) string {
				if p.Given == "" || p.Family == "" {
					return ""
				}
				return min(p.Given, p.Family) + "|" + max(p.Given, p.Family)
			}, []string{"given_name", "family_name"}, true},
			// A name in either column: the alphabetically first and last of
			// the names a record has (one, when the other is missing).
			BlockingRule{"first of the names", func(p *Person) string { return nameEnd(p, minString) }, []string{"given_name", "family_name"}, true},
			BlockingRule{"last of the names", func(p *Person) string { return nameEnd(p, maxString) }, []string{"given_name", "family_name"}, true},
			BlockingRule{"locality and birth month", func(p *Person) string {
				if p.Locality == "" || len(p.Birth) < 6 {
					return ""
				}
				return p.Locality + "|" + p.Birth[:6]
			}, []string{"locality", "birth_date"}, true},
			BlockingRule{"locality and birth year", func(p *Person) string {
				if p.Locality == "" || len(p.Birth) < 4 {
					return ""
				}
				return p.Locality + "|" + p.Birth[:4]
			}, []string{"locality", "birth_date"}, true},
			BlockingRule{"e-mail user's beginning", func(p *Person) string {
				if len(p.Email) < 6 || strings.IndexByte(p.Email, '@') < 5 {
					return ""
				}
				return p.Email[:5]
			}, []string{"email"}, true},
			BlockingRule{"e-mail user", func(p *Person) string {
				user, _, ok := strings.Cut(p.Email, "@")
				if !ok || len(user) < 3 {
					return ""
				}
				return user
			}, []string{"email"}, true},
		)
	} else {
		rules = append(rules, BlockingRule{"name and region", func(p *Person) string {
			if p.pinyin == "" || len(p.Region) < 6 {
				return ""
			}
			return p.pinyin + "|" + p.Region[:6]
		}, []string{"name", "region"}, false},
			// An ID Excel stored as a number still holds region and birth date.
			BlockingRule{"ID region and birth date", func(p *Person) string { return idHead(p) }, []string{"id_number"}, false})
	}
	return rules
}

// nameEnd is pick (min or max) of a record's given and family names,
// whichever it has.
func nameEnd(p *Person, pick func(x, y string) string) string {
	switch {
	case p.Given == "":
		return p.Family
	case p.Family == "":
		return p.Given
	}
	return pick(p.Given, p.Family)
}

func prefix(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

func surnameKey(p *Person) string {
	if p.Given == "" && hasHan(p.surname) {
		return hanPinyin(p.surname)
	}
	s := p.surname
	if len(s) > 3 {
		s = s[:3]
	}
	return s
}

func minString(x, y string) string { return min(x, y) }
func maxString(x, y string) string { return max(x, y) }

package match

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// partsSite is a registry crowded into a few weeks of 1960, and records
// without an ID naming its people, some with a typo in the name or the
// birth date: enough pairs to train on, spread over many parts. One key
// (王, 1960-01-15) has 480 registry persons and 30 records: over
// maxBlock together, under it within any part of a few records.
func partsSite(t *testing.T) *testSite {
	t.Helper()
	rng := rand.New(rand.NewPCG(3, 4))
	surnames, given := []rune("王李张刘陈"), []rune("伟芳娜敏静丽强磊军洋")
	var hh, mm, recs strings.Builder
	type person struct {
		name  string
		birth time.Time
	}
	var reg []person
	for i := range 1500 {
		birth := time.Date(1960, 1, 1+rng.IntN(30), 0, 0, 0, 0, time.UTC)
		name := string([]rune{surnames[rng.IntN(len(surnames))], given[rng.IntN(len(given))], given[rng.IntN(len(given))]})
		if i < 480 {
			birth, name = time.Date(1960, 1, 15, 0, 0, 0, 0, time.UTC), "王"+string(given[i%10])+string(given[i/10%10])
		}
		reg = append(reg, person{name, birth})
		fmt.Fprintf(&hh, "P%d,低保,110105001%03d,在保\n", i, i%50)
		fmt.Fprintf(&mm, "P%d,%s,%s,\n", i, name, NewID("110105", birth, i))
	}
	recs.WriteString("结算编号,身份证号,姓名,性别,出生日期,结算日期,个人自付\n")
	for i := range 400 {
		p := reg[rng.IntN(len(reg))]
		if i < 30 {
			p = reg[i]
		}
		name, birth := []rune(p.name), p.birth
		switch rng.IntN(5) {
		case 0:
			name[len(name)-1] = given[rng.IntN(len(given))]
		case 1:
			birth = birth.AddDate(0, 0, 1)
		}
		fmt.Fprintf(&recs, "R%03d,,%s,,%s,2024-01-01,1\n", i, string(name), birth.Format("2006-01-02"))
	}
	site := newTestSite(t, hh.String(), mm.String())
	site.ingest("medins", "s.csv", recs.String())
	return site
}

// TestRegistryPartsScoreAsOne: scoring the records a few at a time gives
// every record the outcome, candidate, score and weights that scoring
// them all at once gives, training included (a rule's first pairs, a key
// too common to block on counted over every record).
func TestRegistryPartsScoreAsOne(t *testing.T) {
	defer func(s struct{ part, trainPairs int }) { registrySizes = s }(registrySizes)
	ctx := context.Background()
	links := func(part int) ([]string, map[string]int) {
		registrySizes.part, registrySizes.trainPairs = part, 300
		site := partsSite(t)
		if _, err := Link(ctx, site.db); err != nil {
			t.Fatal(err)
		}
		rows, err := site.db.Query(`SELECT record_key, method, coalesce(id_number, ''), coalesce(household_id, ''), coalesce(score, 0), coalesce(weights, ''), coalesce(problem, '')
			FROM match_links WHERE source = 'medins' ORDER BY record_key`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var out []string
		methods := map[string]int{}
		for rows.Next() {
			var key, method, id, hh, weights, problem string
			var score float64
			if err := rows.Scan(&key, &method, &id, &hh, &score, &weights, &problem); err != nil {
				t.Fatal(err)
			}
			out = append(out, fmt.Sprintf("%s %s %s %s %.15g %s %s", key, method, id, hh, score, weights, problem))
			methods[method]++
		}
		// The model as trained: m, u and the prior over every pair.
		var model string
		if err := site.db.QueryRow(`SELECT model || ' ' || pairs FROM match_model WHERE stage = 'registry'`).Scan(&model); err != nil {
			t.Errorf("part %d: the registry model was not trained (%v): the test does not reach training", part, err)
		}
		return append(out, model), methods
	}
	whole, methods := links(1 << 30)
	if methods["probabilistic"] == 0 || methods["review"] == 0 {
		t.Fatalf("the records are not linked both ways, nothing to compare: %v", methods)
	}
	for _, part := range []int{7, 1} {
		parts, _ := links(part)
		if len(parts) != len(whole) {
			t.Fatalf("part %d: %d links, at once %d", part, len(parts), len(whole))
		}
		for i := range whole {
			if parts[i] != whole[i] {
				t.Errorf("part %d:\n got %s\nwant %s", part, parts[i], whole[i])
			}
		}
	}
	t.Logf("outcomes: %v", methods)
}

package match_test

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"safetynet/ingest"
	"safetynet/match"
	"safetynet/store"
	"safetynet/synth"
)

// TestIncrementalLinksEqualWholeOnes: a year of monthly deliveries, linked
// month by month incrementally (only the records new or changed), leaves
// every link exactly as relinking everything each month does: method,
// person, household, candidate, score and reason. A registry delivery
// midway makes the next run a whole one.
func TestIncrementalLinksEqualWholeOnes(t *testing.T) {
	ctx := context.Background()
	last := time.Date(2026, 6, 30, 0, 0, 0, 0, time.UTC)
	opt := synth.DefaultOptions(last)
	opt.Households, opt.Records, opt.Outsiders, opt.NoID, opt.Noise, opt.Days = 400, 6000, 600, 0.1, 0.05, 365
	county, err := synth.Generate(opt)
	if err != nil {
		t.Fatal(err)
	}
	dirs := [2]string{t.TempDir(), t.TempDir()}
	if err := county.WriteRegistry(dirs[0]); err != nil {
		t.Fatal(err)
	}
	if err := os.CopyFS(dirs[1], os.DirFS(dirs[0])); err != nil {
		t.Fatal(err)
	}
	var dbs [2]*store.DB
	for i, dir := range dirs {
		db, err := store.Open(ctx, filepath.Join(dir, "t.duckdb"), ingest.Migrations(), match.Migrations())
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		dbs[i] = db
		ingestAll(t, db, dir, "registry")
	}
	incremental, maxDrift := 0, 0.0
	for m, month := 0, time.Date(2025, 7, 1, 0, 0, 0, 0, time.UTC); !month.After(last); m, month = m+1, month.AddDate(0, 1, 0) {
		from := month
		if m == 0 {
			from = time.Time{}
		}
		// Written once, copied: a second write of a county varies its noise.
		stage := t.TempDir()
		if _, err := county.WriteDepartments(stage, from, month.AddDate(0, 1, 0), month.Format("2006-01")); err != nil {
			t.Fatal(err)
		}
		for _, dir := range dirs {
			if err := os.CopyFS(dir, os.DirFS(stage)); err != nil {
				t.Fatal(err)
			}
		}
		for i, dir := range dirs {
			if m == 6 { // a child born into a registry household, who the registry now lists
				id := match.NewID("330110", time.Date(2025, 12, 1, 0, 0, 0, 0, time.UTC), 5)
				os.WriteFile(filepath.Join(dir, "registry", "newborn.csv"),
					[]byte("户编号,姓名,公民身份号码,性别,出生日期\n"+county.Households[0].ID+",王小宝,"+string(id)+",男,20251201\n"), 0o644)
				ingestAll(t, dbs[i], dir, "registry")
			}
			// Someone outside the registry, first without an ID, months
			// later with one: the earlier record must then link to them.
			outsider := string(match.NewID("330110", time.Date(1970, 5, 5, 0, 0, 0, 0, time.UTC), 7))
			switch m {
			case 3:
				os.WriteFile(filepath.Join(dir, "medins", "walkin.csv"), []byte("结算编号,身份证号,姓名,出生日期,结算日期,个人自付\nW1,,欧阳娜娜,1970-05-05,2025-10-03,120\n"), 0o644)
			case 5:
				os.WriteFile(filepath.Join(dir, "medins", "walkin-id.csv"), []byte("结算编号,身份证号,姓名,出生日期,结算日期,个人自付\nW2,"+outsider+",欧阳娜娜,,2025-12-09,80\n"), 0o644)
			}
			for _, src := range []string{"medins", "health", "education", "disability"} {
				ingestAll(t, dbs[i], dir, src)
			}
		}
		st, err := match.Link(ctx, dbs[0])
		if err != nil {
			t.Fatal(err)
		}
		if st.Incremental {
			incremental++
		}
		if m > 0 && m != 6 && !st.Incremental {
			t.Errorf("month %d: a run with the registry unchanged relinked everything", m+1)
		}
		if _, err := match.Relink(ctx, dbs[1], match.DefaultThresholds); err != nil {
			t.Fatal(err)
		}
		a, b := links(t, dbs[0]), links(t, dbs[1])
		if strings.Join(a, "\n") != strings.Join(b, "\n") {
			t.Fatalf("month %s: incremental links differ from whole ones (%d and %d links): %s", month.Format("2006-01"), len(a), len(b), diff(a, b))
		}
		if a, b := outsidePeople(t, dbs[0]), outsidePeople(t, dbs[1]); strings.Join(a, "\n") != strings.Join(b, "\n") {
			t.Fatalf("month %s: the people outside the registry kept incrementally differ from those rebuilt whole (%d and %d): %s",
				month.Format("2006-01"), len(a), len(b), diff(a, b))
		}
		// The model is fitted on the records a run compares, so its
		// probabilities move in the sixth decimal; never a decision.
		var drift float64
		if drift = scoreDrift(t, dbs[0], dbs[1]); drift > 0.01 {
			t.Errorf("month %s: a probability moved by %.4f", month.Format("2006-01"), drift)
		}
		maxDrift = max(maxDrift, drift)
	}
	kept := len(outsidePeople(t, dbs[0]))
	t.Logf("%d of 12 runs incremental; probabilities moved by at most %.2g; %d people outside the registry kept", incremental, maxDrift, kept)
	if kept < 100 {
		t.Errorf("%d people outside the registry kept: too few for the comparison to say anything", kept)
	}
	var method string
	dbs[0].QueryRow(`SELECT method FROM match_links WHERE record_key LIKE '%W1%'`).Scan(&method)
	if method != "probabilistic_outside" {
		t.Errorf("the record without an ID links by %q to the outsider whose ID came later", method)
	}
	if incremental < 9 {
		t.Errorf("%d of 12 runs were incremental", incremental)
	}
}

// ingestAll stores every file of the source's folder not stored yet.
func ingestAll(t *testing.T, db *store.DB, dir, source string) {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, source, "*"))
	sort.Strings(files)
	for _, f := range files {
		if _, err := ingest.IngestFile(context.Background(), db, source, f, ingest.Options{}); err != nil {
			t.Fatal(err)
		}
	}
}

// outsidePeople is match_outside_people, a line a person.
func outsidePeople(t *testing.T, db *store.DB) []string {
	t.Helper()
	rows, err := db.Query(`SELECT id_number || '|' || coalesce(name, '') || '|' || coalesce(sex, '') || '|' || birth || '|' || array_to_string(block_keys, ',')
		FROM match_outside_people ORDER BY ALL`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

func links(t *testing.T, db *store.DB) []string {
	t.Helper()
	rows, err := db.Query(`SELECT source, record_key, method, coalesce(id_number, ''), coalesce(household_id, ''), coalesce(candidate, ''),
		(score IS NULL)::VARCHAR, coalesce(problem, '') FROM match_links ORDER BY ALL`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var f [8]string
		rows.Scan(&f[0], &f[1], &f[2], &f[3], &f[4], &f[5], &f[6], &f[7])
		out = append(out, strings.Join(f[:], "|"))
	}
	return out
}

func diff(a, b []string) string {
	in := map[string]bool{}
	for _, x := range b {
		in[x] = true
	}
	var only []string
	for _, x := range a {
		if !in[x] {
			only = append(only, x)
		}
	}
	inA := map[string]bool{}
	for _, x := range a {
		inA[x] = true
	}
	var onlyB []string
	for _, x := range b {
		if !inA[x] {
			onlyB = append(onlyB, x)
		}
	}
	return fmt.Sprintf("only incremental: %q; only whole: %q", only[:min(3, len(only))], onlyB[:min(3, len(onlyB))])
}

// scoreDrift is the largest difference between the two stores' match
// probabilities of the same record.
func scoreDrift(t *testing.T, a, b *store.DB) float64 {
	t.Helper()
	scores := func(db *store.DB) map[string]float64 {
		rows, err := db.Query(`SELECT source || '|' || record_key, score FROM match_links WHERE score IS NOT NULL`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		out := map[string]float64{}
		for rows.Next() {
			var k string
			var v float64
			rows.Scan(&k, &v)
			out[k] = v
		}
		return out
	}
	sa, sb := scores(a), scores(b)
	drift := 0.0
	for k, v := range sa {
		if w, ok := sb[k]; ok {
			drift = max(drift, math.Abs(v-w))
		}
	}
	return drift
}

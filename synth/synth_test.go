package synth

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"safetynet/match"
	"safetynet/regions"
)

func small(seed uint64) Options {
	o := DefaultOptions(time.Date(2026, 6, 30, 0, 0, 0, 0, time.UTC))
	o.Seed, o.Households, o.Records, o.Outsiders = seed, 500, 5000, 500
	return o
}

func TestSeededAndValid(t *testing.T) {
	a, err := Generate(small(7))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Generate(small(7))
	if !reflect.DeepEqual(a.Expected, b.Expected) || a.Rows() != b.Rows() || a.Households[10].Members[0].ID != b.Households[10].Members[0].ID {
		t.Error("the same seed gave another county")
	}
	c, _ := Generate(small(8))
	if a.Households[10].Members[0].ID == c.Households[10].Members[0].ID {
		t.Error("another seed gave the same people")
	}
	seen := map[match.IDNumber]bool{}
	for _, h := range a.Households {
		if len(h.Village) != 12 {
			t.Fatalf("village code %q is not 12 digits", h.Village)
		}
		for _, p := range h.Members {
			if _, err := match.ParseID(string(p.ID)); err != nil {
				t.Fatalf("invalid ID %s: %v", p.ID, err)
			}
			if seen[p.ID] {
				t.Fatalf("ID %s given twice", p.ID)
			}
			seen[p.ID] = true
			if (p.ID.Sex() == "male") != p.Male || !p.ID.BirthDate().Equal(p.Birth.Truncate(24*time.Hour)) {
				t.Fatalf("ID %s disagrees with sex %v or birth %v", p.ID, p.Male, p.Birth)
			}
		}
	}
	rules := map[string]bool{}
	for _, e := range a.Expected {
		rules[e.RuleID] = true
	}
	for _, r := range []string{"expenditure_hardship", "temporary_assistance", "severe_disability", "serious_illness", "school_dropout", "recipient_death", "discovery", "multiple_hardship"} {
		if !rules[r] {
			t.Errorf("no case planted for %s", r)
		}
	}
	if len(a.NearMisses) < 8 {
		t.Errorf("only %d near misses", len(a.NearMisses))
	}
}

func TestNoiseIsReadable(t *testing.T) {
	g, _ := Generate(small(3))
	p := g.Households[0].Members[0]
	noisy := 0
	const n = 20000
	for i := 0; i < n; i++ {
		s := g.idText(p, written{})
		if s != string(p.ID) {
			noisy++
			if id, err := match.ParseID(s); err != nil || id != p.ID {
				t.Fatalf("noisy %q does not normalise back to %s: %v", s, p.ID, err)
			}
		}
	}
	if share := float64(noisy) / n; share < 0.015 || share > 0.025 {
		t.Errorf("noisy share %.3f, want about 0.02", share)
	}
}

// TestWriteDepartmentsByMonth: monthly deliveries hold every department
// row exactly once, each file only its month's.
func TestWriteDepartmentsByMonth(t *testing.T) {
	asOf := time.Date(2026, 6, 30, 0, 0, 0, 0, time.UTC)
	opt := DefaultOptions(asOf)
	opt.Days = 365
	g, err := Generate(opt)
	if err != nil {
		t.Fatal(err)
	}
	inbox := t.TempDir()
	total := 0
	start := time.Date(2023, 7, 1, 0, 0, 0, 0, time.UTC) // planted cases reach further back than Days
	for m := start; !m.After(asOf); m = m.AddDate(0, 1, 0) {
		n, err := g.WriteDepartments(inbox, m, m.AddDate(0, 1, 0), m.Format("2006-01"))
		if err != nil {
			t.Fatal(err)
		}
		total += n
	}
	if total != g.Rows() {
		t.Errorf("months hold %d rows, the county %d", total, g.Rows())
	}
	b, err := os.ReadFile(filepath.Join(inbox, "medins", "settlements-2026-03.csv"))
	if err != nil {
		t.Fatal(err)
	}
	for i, line := range strings.Split(strings.TrimSpace(string(b)), "\n")[1:] {
		if !strings.Contains(line, ",2026/3/") {
			t.Fatalf("line %d of March's settlements is dated outside March: %s", i+2, line)
		}
	}
	if _, err := os.Stat(filepath.Join(inbox, "registry")); err == nil {
		t.Error("a department delivery wrote the registry")
	}
}

// Counties of one province are delivered side by side: nothing one
// county names (a person, a household, a department's record) may be
// another's.
func TestCountiesShareNoKey(t *testing.T) {
	asOf := time.Date(2026, 6, 30, 0, 0, 0, 0, time.UTC)
	keys := map[string]string{}
	for _, area := range []string{DefaultArea, "330106"} {
		opt := DefaultOptions(asOf)
		opt.Area = area
		g, err := Generate(opt)
		if err != nil {
			t.Fatal(err)
		}
		note := func(kind, key string) {
			if prev, ok := keys[kind+key]; ok && prev != area {
				t.Fatalf("%s %s is in county %s and in %s", kind, key, prev, area)
			}
			keys[kind+key] = area
		}
		for _, h := range g.Households {
			note("household ", h.ID)
			if !strings.HasPrefix(h.Address, regions.FullName(area)) {
				t.Errorf("household %s of %s lives at %s", h.ID, area, h.Address)
			}
			for _, p := range h.Members {
				note("person ", string(p.ID))
				if !strings.HasPrefix(string(p.ID), area) {
					t.Errorf("person %s of county %s", p.ID, area)
				}
			}
		}
		for _, r := range g.medins {
			note("settlement ", r.id)
		}
		for _, r := range g.health {
			note("health record ", r.id)
		}
		for _, r := range g.edu {
			note("school record ", r.id)
		}
		for _, r := range g.dis {
			note("certificate ", r.id)
		}
	}
	if _, err := Generate(Options{Area: "3301", AsOf: asOf}); err == nil {
		t.Error("a city code made a county")
	}
}

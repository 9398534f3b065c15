package match_test

import (
	"path/filepath"
	"testing"

	"safetynet/match"
	"safetynet/synth"
)

// Chinese data from synth: 5% of records with a typo in the ID, 5%
// without one, 3% in Excel's number form; names in traditional
// characters, with a space inside, or homophones; swapped day and month;
// and namesakes born years apart who must never be linked.
func TestSynthLinkage(t *testing.T) {
	dir := t.TempDir()
	if err := synth.WriteLinkage(dir, synth.DefaultLinkage()); err != nil {
		t.Fatal(err)
	}
	left, err := match.ReadDataset(filepath.Join(dir, synth.LinkageRegistry), "person_id", "record_id")
	if err != nil {
		t.Fatal(err)
	}
	right, err := match.ReadDataset(filepath.Join(dir, synth.LinkageRecords), "person_id", "record_id")
	if err != nil {
		t.Fatal(err)
	}
	excel, traditional := 0, 0
	for _, p := range right.People {
		if p.IDPrefix != "" {
			excel++
		}
		if p.Name != match.FoldName(p.Name) {
			traditional++
		}
	}
	if excel < 100 || traditional < 100 {
		t.Fatalf("%d Excel-number IDs and %d names needing a fold: the set lacks the forms it should test", excel, traditional)
	}
	ev := match.Evaluate(left, right, match.DefaultThresholds.Link, 1)
	t.Logf("synth: %d records, %d candidate pairs holding %d of %d true pairs; at %.2f: precision %.4f recall %.4f F1 %.4f",
		ev.Records, ev.Candidates, ev.Found, ev.TruePairs, ev.Threshold, ev.Precision, ev.Recall, ev.F1)
	for _, r := range ev.Table {
		t.Logf("  ≥ %.3f: %6d predicted, %6d right: P %.4f R %.4f F1 %.4f", r.Threshold, r.Predicted, r.TP, r.Precision, r.Recall, r.F1)
	}
	if ev.F1 < 0.995 {
		t.Errorf("F1 %.4f on synth at the default threshold, want ≥ 0.995", ev.F1)
	}
	namesakes := 0
	for _, p := range ev.Pairs {
		if a, b := ev.People[p.A], ev.People[p.B]; a.Name == b.Name && yearsApart(a.Birth, b.Birth) > 1 {
			namesakes++
		}
	}
	if namesakes < 50 {
		t.Errorf("only %d namesake pairs were even compared: the test does not test", namesakes)
	}
	for _, l := range ev.Links {
		a, b := ev.People[l.A], ev.People[l.B]
		if a.Name == b.Name && yearsApart(a.Birth, b.Birth) > 1 {
			t.Errorf("namesakes linked: %s %s ↔ %s %s (p=%.3f)", a.Key, a.Birth, b.Key, b.Birth, match.Prob(l.Weight))
		}
	}
}

func yearsApart(a, b string) int {
	if len(a) < 4 || len(b) < 4 {
		return 0
	}
	d := atoi(a[:4]) - atoi(b[:4])
	if d < 0 {
		d = -d
	}
	return d
}

func atoi(s string) int {
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	return n
}

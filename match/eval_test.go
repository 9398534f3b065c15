package match

import (
	"os"
	"path/filepath"
	"testing"
)

var sharedData = filepath.Join("..", "..", "shared", "data")

func dataset(t *testing.T, name, truth, id string) *Dataset {
	t.Helper()
	p := filepath.Join(sharedData, name)
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("%s: the shared data sets are expected beside the repository (../shared/data): %v", p, err)
	}
	ds, err := ReadDataset(p, truth, id)
	if err != nil {
		t.Fatal(err)
	}
	return ds
}

func logEval(t *testing.T, name string, ev *Eval) {
	t.Logf("%s: %d records, %d candidate pairs holding %d of %d true pairs; at %.2f: precision %.4f recall %.4f F1 %.4f (λ=%.4f)",
		name, ev.Records, ev.Candidates, ev.Found, ev.TruePairs, ev.Threshold, ev.Precision, ev.Recall, ev.F1, ev.Model.Lambda)
	for _, r := range ev.Table {
		t.Logf("  ≥ %.3f: %6d predicted, %6d right: P %.4f R %.4f F1 %.4f", r.Threshold, r.Predicted, r.TP, r.Precision, r.Recall, r.F1)
	}
}

func TestFEBRL4(t *testing.T) {
	a := dataset(t, "febrl/febrl4a.csv", "rec_id", "rec_id")
	b := dataset(t, "febrl/febrl4b.csv", "rec_id", "rec_id")
	ev := Evaluate(a, b, 0.9, 1)
	logEval(t, "febrl4", ev)
	if ev.TruePairs != 5000 {
		t.Errorf("true pairs %d, want 5000", ev.TruePairs)
	}
	if ev.F1 < 0.99 {
		t.Errorf("F1 %.4f on febrl4, want ≥ 0.99", ev.F1)
	}
}

func TestFEBRL3Dedupe(t *testing.T) {
	ev := Evaluate(dataset(t, "febrl/febrl3.csv", "rec_id", "rec_id"), nil, 0.9, 1)
	logEval(t, "febrl3", ev)
	if ev.TruePairs != 6538 {
		t.Errorf("true pairs %d, want 6538", ev.TruePairs)
	}
	if ev.F1 < 0.98 {
		t.Errorf("F1 %.4f on febrl3, want ≥ 0.98", ev.F1)
	}
}

func TestSplinkFake20000(t *testing.T) {
	ev := Evaluate(dataset(t, "splink/fake_20000.csv", "cluster", "unique_id"), nil, 0.9, 1)
	logEval(t, "fake_20000", ev)
	// A regression floor, not a target: heavy corruption defeats this model (see the README).
	if ev.F1 < 0.6 {
		t.Errorf("F1 %.4f on fake_20000 fell below its floor", ev.F1)
	}
}

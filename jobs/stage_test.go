package jobs

import (
	"context"
	"slices"
	"testing"
	"time"

	"safetynet/synth"
)

// TestStageHookHearsEachStage: the benchmarks measure each stage's peak
// memory between the hook's calls, so the hook must hear every stage, in
// the order the run takes them, and the run's end.
func TestStageHookHearsEachStage(t *testing.T) {
	dir := t.TempDir()
	chain := newSite(t, dir)
	asOf := time.Date(2026, 6, 30, 0, 0, 0, 0, time.UTC)
	opt := synth.DefaultOptions(asOf)
	opt.Households, opt.Records, opt.Outsiders = 100, 500, 50
	county, err := synth.Generate(opt)
	if err != nil {
		t.Fatal(err)
	}
	if err := county.Write(chain.Cfg.Inbox, dir); err != nil {
		t.Fatal(err)
	}
	var heard []string
	chain.Stage = func(stage string) { heard = append(heard, stage) }
	if _, err := chain.Run(context.Background(), "test", asOf); err != nil {
		t.Fatal(err)
	}
	want := []string{"ingest", "match", "alerts", "analytics", ""}
	if !slices.Equal(heard, want) {
		t.Errorf("the hook heard %q, want %q", heard, want)
	}
}

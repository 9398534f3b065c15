package jobs

import (
	"context"
	"testing"
	"time"

	"safetynet/alerts"
	"safetynet/synth"
)

// TestBackfillSLAFromNow: a month-old delivery run with --as-of in the
// past raises its alerts now, with the SLA from now: none is overdue or
// escalated at birth, and each says what day its evidence is as of.
func TestBackfillSLAFromNow(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	chain := newSite(t, dir)
	now := time.Date(2026, 7, 31, 9, 0, 0, 0, chain.Cfg.Location)
	chain.Now = func() time.Time { return now }
	asOf := time.Date(2026, 6, 30, 0, 0, 0, 0, time.UTC)
	opt := synth.DefaultOptions(asOf)
	opt.Households, opt.Records, opt.Outsiders = 300, 2000, 200
	county, err := synth.Generate(opt)
	if err != nil {
		t.Fatal(err)
	}
	if err := county.Write(chain.Cfg.Inbox, dir); err != nil {
		t.Fatal(err)
	}
	rep, err := chain.Run(ctx, "test", asOf)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Alerts.Raised == 0 {
		t.Fatal("no alerts raised")
	}
	if rep.Escalated != 0 {
		t.Errorf("%d alerts escalated at birth", rep.Escalated)
	}
	got, err := alerts.List(ctx, chain.DB, alerts.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range got {
		if !a.FirstSeen.Equal(now) || !a.DueAt.Equal(now.Add(alerts.SLA[a.Severity])) || a.EscalatedAt != nil {
			t.Errorf("alert %d (%s): first seen %v, due %v, escalated %v; want raised %v with its SLA from then",
				a.AlertID, a.RuleID, a.FirstSeen, a.DueAt, a.EscalatedAt, now)
		}
		if a.EvidenceAsOf != "2026-06-30" {
			t.Errorf("alert %d: evidence as of %q, want 2026-06-30", a.AlertID, a.EvidenceAsOf)
		}
	}
}

package web

import (
	"context"
	"testing"
	"time"

	"safetynet/analytics"
)

// TestWarmCohortsCountsAhead: after a publish, every saved cohort is
// counted for each analyst's scope before any analyst asks, and a
// page of it reads those counts.
func TestWarmCohortsCountsAhead(t *testing.T) {
	s := newSite(t)
	ctx := context.Background()
	d := analytics.Definition{Unit: analytics.Households, Membership: analytics.Both, OutOfPocket: 1000, Period: analytics.Period{Last: 6}}
	if _, err := analytics.SaveCohort(ctx, s.chain.DB, 0, "大额自付家庭", d, "analyst", time.Now()); err != nil {
		t.Fatal(err)
	}
	for _, scope := range []string{"", "330110"} {
		q, err := s.server.querier(ctx, &User{Role: Analyst, RegionPrefix: scope})
		if err != nil {
			t.Fatal(err)
		}
		if q.Counted(&d) {
			t.Fatalf("scope %q: counted before the warm-up", scope)
		}
	}
	s.server.WarmCohorts(ctx)
	for _, scope := range []string{"", "330110"} {
		q, err := s.server.querier(ctx, &User{Role: Analyst, RegionPrefix: scope})
		if err != nil {
			t.Fatal(err)
		}
		if !q.Counted(&d) {
			t.Errorf("scope %q (an analyst's): not counted ahead", scope)
		}
	}
	q, err := s.server.querier(ctx, &User{Role: Analyst, RegionPrefix: "110105"})
	if err != nil {
		t.Fatal(err)
	}
	if q.Counted(&d) {
		t.Error("a scope no analyst has was counted")
	}
}

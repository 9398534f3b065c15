package web

import (
	"context"
	"slices"
	"strings"

	"safetynet/analytics"
)

// WarmCohorts counts the latest version of every saved cohort on the
// current snapshot, for the scope of every analyst, so that the first
// page after a run shows at once instead of waiting for a pass over the
// snapshot. The chain calls it after each publish; it runs in the
// background and a failure only means that the first page counts.
func (s *Server) WarmCohorts(ctx context.Context) {
	users, err := ListUsers(ctx, s.DB)
	if err != nil {
		s.Log.Warn("cohorts not counted ahead", "err", err)
		return
	}
	cohorts, err := analytics.Cohorts(ctx, s.DB)
	if err != nil {
		s.Log.Warn("cohorts not counted ahead", "err", err)
		return
	}
	var scopes []string
	for _, u := range users {
		if !u.Disabled && Role(u.Role).Analyses() && !slices.Contains(scopes, u.RegionPrefix) {
			scopes = append(scopes, u.RegionPrefix)
		}
	}
	for _, scope := range scopes {
		u := &User{Name: "warm-up", Role: Analyst, RegionPrefix: scope}
		q, err := s.querier(ctx, u)
		if err != nil {
			s.Log.Warn("cohorts not counted ahead", "scope", scope, "err", err)
			return
		}
		for _, c := range cohorts {
			region := c.Definition.Region
			if !strings.HasPrefix(region, scope) {
				region = scope
			}
			if _, err := q.Series(ctx, &c.Definition, region); err != nil {
				s.Log.Warn("cohort not counted ahead", "cohort", c.ID, "version", c.Version, "scope", scope, "err", err)
			}
		}
	}
	s.Log.Info("cohorts counted ahead", "cohorts", len(cohorts), "scopes", len(scopes))
}

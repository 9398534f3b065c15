package analytics

import (
	"context"
	"fmt"
	"slices"
	"strconv"
)

// FunnelRow is how far the alerts of one group got: raised, dispatched,
// visited (and within the SLA), helped to apply, and then found in the
// data: a person outside the registry enrolled in a later month, or a
// household whose tier or benefit changed in a later month.
type FunnelRow struct {
	Group                               string
	Raised, Dispatched, Visited, InTime int
	Helped, Changed                     int
	MedianHoursToVisit                  float64 // 0 when none was visited
}

// FunnelBy are the groupings Funnel knows.
var FunnelBy = []string{"all", "rule", "region", "month"}

// funnelSQL follows each alert of the snapshot through the lifecycle and
// into the registry months after it, counted by every grouping at once
// (GROUPING SETS: one pass over the alerts, not one per grouping; g is
// GROUPING(rule, township, month), a bit set per column left out). What
// was found later is joins and aggregates, not a correlated EXISTS per
// alert: at a million alerts the correlated form cost a delim join per
// query, and five analysts running it at once crashed DuckDB in one.
const funnelSQL = `WITH a AS (
    SELECT alert_id, rule, left(village, 9) AS township, month, household, person, outside_registry,
           raised_at, dispatched_at, visited_at, visited_in_time, outcome
    FROM alerts),
base AS (  -- the household's tier and benefit in the alert's month, or the last month before it
    SELECT a.alert_id, arg_max(r.tier, r.month) AS tier, arg_max(r.monthly_benefit, r.month) AS benefit
    FROM a JOIN registry_months r ON r.household = a.household AND r.month <= a.month
    WHERE a.outside_registry IS NOT TRUE
    GROUP BY a.alert_id),
enrolled AS (  -- a person outside the registry, in it a later month
    SELECT DISTINCT a.alert_id
    FROM a JOIN registry_months r ON r.person = a.person AND r.month > a.month
    WHERE a.outside_registry),
moved AS (  -- a household whose tier or benefit changed a later month
    SELECT DISTINCT a.alert_id
    FROM a JOIN base b USING (alert_id) JOIN registry_months r ON r.household = a.household AND r.month > a.month
    WHERE r.tier IS DISTINCT FROM b.tier OR r.monthly_benefit IS DISTINCT FROM b.benefit)
SELECT GROUPING(a.rule, a.township, a.month) AS g, CASE GROUPING(a.rule, a.township, a.month) WHEN 3 THEN a.rule WHEN 5 THEN a.township WHEN 6 THEN a.month ELSE 'all' END,
       count(*), count(a.dispatched_at), count(a.visited_at), count(*) FILTER (a.visited_in_time),
       count(*) FILTER (a.outcome = 'assisted_application'),
       count(*) FILTER (e.alert_id IS NOT NULL OR m.alert_id IS NOT NULL),
       coalesce(median(date_diff('minute', a.raised_at, a.visited_at)) / 60.0, 0)
FROM a LEFT JOIN enrolled e USING (alert_id) LEFT JOIN moved m USING (alert_id)
GROUP BY GROUPING SETS ((), (a.rule), (a.township), (a.month))
ORDER BY 1, 2`

// funnelSets are the groupings by GROUPING(rule, township, month).
var funnelSets = map[string]string{"7": "all", "3": "rule", "5": "region", "6": "month"}

// Funnel counts the funnel of the snapshot's alerts, grouped by rule,
// region (township), month raised, or all together: every grouping once
// per querier, the rows copied for the caller to change.
func (q *Querier) Funnel(ctx context.Context, by string) ([]FunnelRow, error) {
	if !slices.Contains(FunnelBy, by) {
		return nil, fmt.Errorf("analytics: the funnel groups by one of %v, not %q", FunnelBy, by)
	}
	all, err := q.funnels.get(ctx, "funnel", q.funnel)
	return slices.Clone(all[by]), err
}

func (q *Querier) funnel(ctx context.Context) (map[string][]FunnelRow, error) {
	res, err := q.run(ctx, funnelSQL, 0)
	if err != nil {
		return nil, err
	}
	out := map[string][]FunnelRow{}
	for _, r := range res.Rows {
		by, ok := funnelSets[r[0]]
		if !ok {
			return nil, fmt.Errorf("analytics: the funnel gave grouping %q", r[0])
		}
		f := FunnelRow{Group: r[1]}
		for i, p := range []*int{&f.Raised, &f.Dispatched, &f.Visited, &f.InTime, &f.Helped, &f.Changed} {
			*p, _ = strconv.Atoi(r[i+2])
		}
		f.MedianHoursToVisit, _ = strconv.ParseFloat(r[8], 64)
		out[by] = append(out[by], f)
	}
	return out, nil
}

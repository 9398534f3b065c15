package analytics

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"safetynet/regions"
)

// RegionCount is one region's count of a cohort.
type RegionCount struct {
	Code, Name string
	Count      int // or Small or Hidden, once suppressed
}

// RegionTable is a cohort counted one level below a region in one month,
// with the region's own total.
type RegionTable struct {
	Month  string
	Parent regions.Region
	Level  int // the code length of the rows: 2, 4, 6, 9 or 12
	Rows   []RegionCount
	Total  int
}

// MonthCount is a cohort's count in one month.
type MonthCount struct {
	Month string
	Count int
}

// Latest is the snapshot's month, the last of every relative period.
func (q *Querier) Latest() string { return q.Manifest.CreatedAt.UTC().Format("2006-01") }

// CountByRegion counts the cohort in month (the period's last when "")
// by the regions one level below parent (a region-code prefix, "" for
// the whole scope), each named from the division codes.
func (q *Querier) CountByRegion(ctx context.Context, d *Definition, parent, month string) (*RegionTable, error) {
	if !regionForm.MatchString(parent) || len(parent) >= 12 {
		return nil, fmt.Errorf("analytics: region %q cannot be drilled into (a prefix of 2 to 9 digits)", parent)
	}
	if month == "" {
		ms := d.Period.Months(q.Latest())
		month = ms[len(ms)-1]
	}
	if !monthForm.MatchString(month) {
		return nil, fmt.Errorf("analytics: month %q is not YYYY-MM", month)
	}
	level := regions.Next(len(parent))
	if len(parent) >= 4 && level < 6 { // a city's rows are its counties
		level = 6
	}
	months := d.Period.Months(q.Latest())
	if !slices.Contains(months, month) {
		months = []string{month}
	}
	counts, err := q.unitCounts(ctx, d, months)
	if err != nil {
		return nil, err
	}
	byCode := map[string]int{}
	for _, v := range counts[month] {
		if strings.HasPrefix(v.village, parent) && len(v.village) >= level {
			byCode[v.village[:level]] += v.n
		}
	}
	t := &RegionTable{Month: month, Parent: regions.Region{Code: parent, Name: regions.Name(parent)}, Level: level}
	for _, code := range slices.Sorted(maps.Keys(byCode)) {
		t.Rows = append(t.Rows, RegionCount{Code: code, Name: regions.Name(code), Count: byCode[code]})
		t.Total += byCode[code]
	}
	return t, nil
}

// Series counts the cohort in every month of its period, within region.
func (q *Querier) Series(ctx context.Context, d *Definition, region string) ([]MonthCount, error) {
	if !regionForm.MatchString(region) {
		return nil, fmt.Errorf("analytics: region %q is not a region-code prefix", region)
	}
	months := d.Period.Months(q.Latest())
	counts, err := q.unitCounts(ctx, d, months)
	if err != nil {
		return nil, err
	}
	out := make([]MonthCount, 0, len(months))
	for _, m := range months {
		n := 0
		for _, v := range counts[m] {
			if strings.HasPrefix(v.village, region) {
				n += v.n
			}
		}
		out = append(out, MonthCount{Month: m, Count: n})
	}
	return out, nil
}

// CheckSQL runs a cohort's SQL once with no rows, so that a mistake is
// reported when it is saved and not when it is counted.
func (q *Querier) CheckSQL(ctx context.Context, d *Definition) error {
	if d.SQL == "" {
		return nil
	}
	_, err := q.runCohort(ctx, d, "SELECT * FROM ("+d.unitsSQL([]string{q.Latest()})+") LIMIT 0")
	if err != nil {
		return fmt.Errorf("%w (the query must return the columns month, village and %s)", err, d.Unit)
	}
	return nil
}

// runCohort runs a query made from a cohort; a cohort written as SQL must
// be one SELECT, and so must the query once it is wrapped in the count.
func (q *Querier) runCohort(ctx context.Context, d *Definition, text string) (*Result, error) {
	if d.SQL != "" {
		for _, t := range []string{d.SQL, text} {
			if err := q.selectOnly(ctx, t); err != nil {
				return nil, err
			}
		}
	}
	return q.run(ctx, text, 0)
}

package analytics

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// unitCounts is a cohort counted by month and village, each unit placed
// in one village a month (the smallest code when the data has it in
// two), so that the villages of any region add up to the region's count.
// It is all a drill-down or a series needs: a few numbers per village
// and month, where the cohort's rows are millions.
type unitCounts map[string][]villageCount // by month

type villageCount struct {
	village string
	n       int
}

// maxCachedCohorts bounds the kept counts: an entry is a few hundred
// thousand numbers at most (months × villages). An edit of a cohort is
// another definition and so another entry.
const maxCachedCohorts = 64

// unitCounts counts the cohort in months, once per querier.
func (q *Querier) unitCounts(ctx context.Context, d *Definition, months []string) (unitCounts, error) {
	key, err := countsKey(d, months)
	if err != nil {
		return nil, err
	}
	return q.counts.get(ctx, key, func(ctx context.Context) (unitCounts, error) { return q.countUnits(ctx, d, months) })
}

func countsKey(d *Definition, months []string) (string, error) {
	b, err := json.Marshal(d)
	if err != nil {
		return "", fmt.Errorf("analytics: %w", err)
	}
	h := sha256.Sum256(append(append(b, '|'), strings.Join(months, ",")...))
	return hex.EncodeToString(h[:]), nil
}

// countUnits counts the cohort month by month: a unit is distinct
// within a month, so each month's distinct units (millions at a
// province) are all one query holds, where the whole period's would be
// tens of millions and spill to disk. Each month reads its own
// partitions only.
func (q *Querier) countUnits(ctx context.Context, d *Definition, months []string) (unitCounts, error) {
	out := unitCounts{}
	for _, m := range months {
		text := fmt.Sprintf(`WITH c AS (%s),
u AS (SELECT unit, min(village) AS village FROM c WHERE unit IS NOT NULL GROUP BY unit)
SELECT village, count(*) FROM u GROUP BY village`, d.unitsSQL([]string{m}))
		res, err := q.runCohort(ctx, d, text)
		if err != nil {
			return nil, err
		}
		for _, r := range res.Rows {
			n, err := strconv.Atoi(r[1])
			if err != nil {
				return nil, fmt.Errorf("analytics: a count %q: %w", r[1], err)
			}
			out[m] = append(out[m], villageCount{village: r[0], n: n})
		}
	}
	return out, nil
}

// Counted says whether the cohort's counts over its period are kept, so
// that a page asking for them will not pass over the snapshot again.
func (q *Querier) Counted(d *Definition) bool {
	key, err := countsKey(d, d.Period.Months(q.Latest()))
	return err == nil && q.counts.kept(key)
}

package alerts

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"safetynet/store"
)

// generation moves whenever this process changes alerts: an evaluation,
// an action, an escalation, an assignment. The database file is held by
// one process at a time (the server, with its scheduler), so it sees
// every change there is.
var generation atomic.Int64

func changed() { generation.Add(1) }

// countsTTL bounds how stale cached counts may be: overdue counts move
// with the clock, not only with changes.
const countsTTL = time.Minute

type countsEntry struct {
	gen              int64
	at               time.Time
	byRule, byRegion []Count
}

var countsCache = struct {
	sync.Mutex
	m map[string]countsEntry
}{m: map[string]countsEntry{}}

// CachedCounts is Counts, remembered per filter until alerts change or a
// minute passes: the counts beside the inbox scan every alert the filter
// finds, which with a million alerts costs more than the page itself.
func CachedCounts(ctx context.Context, db *store.DB, f Filter) (byRule, byRegion []Count, err error) {
	f.Limit, f.Offset = 0, 0
	key := fmt.Sprintf("%p|%+v", db, f)
	gen := generation.Load()
	countsCache.Lock()
	e, ok := countsCache.m[key]
	countsCache.Unlock()
	if ok && e.gen == gen && time.Since(e.at) < countsTTL {
		return e.byRule, e.byRegion, nil
	}
	byRule, byRegion, err = Counts(ctx, db, f)
	if err != nil {
		return nil, nil, err
	}
	countsCache.Lock()
	if len(countsCache.m) > 1000 {
		countsCache.m = map[string]countsEntry{}
	}
	countsCache.m[key] = countsEntry{gen: gen, at: time.Now(), byRule: byRule, byRegion: byRegion}
	countsCache.Unlock()
	return byRule, byRegion, nil
}

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

// move is one alert's status moving from one state to another; the zero
// move is any other change, which every cached count must take in.
type move struct{ from, to string }

// loggedMove is a change and the generation it made.
type loggedMove struct {
	gen int64
	m   move
}

// moves are the last changes, oldest first: what a cached count checks
// to know whether they could have changed it.
var moves = struct {
	sync.Mutex
	log []loggedMove
}{}

// maxMoves bounds the log: a count older than its reach is counted again.
const maxMoves = 1024

// changed notes a change cached counts cannot reason about.
func changed() { logChange(move{}) }

// logChange notes a change: a move of one alert's status and nothing
// else of it, or (the zero move) anything.
func logChange(m move) {
	moves.Lock()
	defer moves.Unlock()
	moves.log = append(moves.log, loggedMove{gen: generation.Add(1), m: m})
	if len(moves.log) > maxMoves {
		moves.log = append(moves.log[:0], moves.log[len(moves.log)-maxMoves/2:]...)
	}
}

// unchangedFor says whether every change after generation since left
// what f counts as it was: the moves between two states f treats alike.
// With a dispatch or a visit a second, the open inbox's counts (every
// open state alike) then survive them, where any change dropped them.
func unchangedFor(f Filter, since int64) bool {
	moves.Lock()
	defer moves.Unlock()
	if n := len(moves.log); n == 0 || moves.log[n-1].gen <= since {
		return true // nothing since
	}
	if moves.log[0].gen > since+1 {
		return false // the log no longer reaches back that far
	}
	for _, c := range moves.log {
		if c.gen > since && !f.alike(c.m) {
			return false
		}
	}
	return true
}

// alike says whether f counts an alert the same before and after a move:
// open or not the same on both sides (what Open, Overdue and the due,
// queue and notable filters turn on), and the filter's own state on
// both sides or on neither.
func (f Filter) alike(m move) bool {
	if m.from == "" || isOpen(m.from) != isOpen(m.to) {
		return false
	}
	if f.Status == "" || f.Status == StatusOpen {
		return true
	}
	return (m.from == f.Status) == (m.to == f.Status)
}

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

// countsComputed counts the counts computed rather than served from the
// cache, for the tests.
var countsComputed atomic.Int64

// CachedCounts is Counts, remembered per filter until a change that
// could move them or a minute passes: the counts beside the inbox scan
// every alert the filter finds, which with a million alerts costs more
// than the page itself.
func CachedCounts(ctx context.Context, db *store.DB, f Filter) (byRule, byRegion []Count, err error) {
	f.Limit, f.Offset = 0, 0
	key := fmt.Sprintf("%p|%+v", db, f)
	gen := generation.Load()
	countsCache.Lock()
	e, ok := countsCache.m[key]
	countsCache.Unlock()
	if ok && time.Since(e.at) < countsTTL && unchangedFor(f, e.gen) {
		return e.byRule, e.byRegion, nil
	}
	countsComputed.Add(1)
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

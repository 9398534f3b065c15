package analytics

import (
	"context"
	"sync"
)

// once computes a value per key at most once at a time and keeps the
// last max of them: a request that asks while another computes the same
// key waits for that result instead of running the query again. Five
// analysts opening the same page after a new snapshot make one count,
// not five (five at once is also how DuckDB was seen to crash, in a
// delim join of the funnel's old correlated form). A querier's snapshot
// never changes, so a kept value is never stale. A failed computation is
// not kept: the next request tries again.
type once[V any] struct {
	mu      sync.Mutex
	entries map[string]*onceEntry[V]
	order   []string // oldest first
	max     int
}

type onceEntry[V any] struct {
	done chan struct{} // closed once v or err is set
	v    V
	err  error
}

// get returns key's value, computing it with compute when nobody has.
func (o *once[V]) get(ctx context.Context, key string, compute func(context.Context) (V, error)) (V, error) {
	o.mu.Lock()
	e, ok := o.entries[key]
	if !ok {
		e = &onceEntry[V]{done: make(chan struct{})}
		if o.entries == nil {
			o.entries = map[string]*onceEntry[V]{}
		}
		o.entries[key] = e
		o.order = append(o.order, key)
		if len(o.order) > o.max {
			delete(o.entries, o.order[0])
			o.order = o.order[1:]
		}
	}
	o.mu.Unlock()
	if ok {
		select {
		case <-e.done:
			return e.v, e.err
		case <-ctx.Done():
			var zero V
			return zero, ctx.Err()
		}
	}
	e.v, e.err = compute(ctx)
	close(e.done)
	if e.err != nil {
		o.mu.Lock()
		if o.entries[key] == e {
			delete(o.entries, key)
		}
		o.mu.Unlock()
	}
	return e.v, e.err
}

// kept says whether key's value is computed and kept.
func (o *once[V]) kept(key string) bool {
	o.mu.Lock()
	e, ok := o.entries[key]
	o.mu.Unlock()
	if !ok {
		return false
	}
	select {
	case <-e.done:
		return e.err == nil
	default:
		return false
	}
}

package alerts

import (
	"context"
	"database/sql"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"time"
)

// A pack's view is a query, not a table: each rule that reads it computes
// it again. hardship_signals joins every department's records with their
// links and three built-in rules read it, so at a province it was
// computed three times a run over tens of millions of rows. A view with a
// date column (view_windows) that two or more enabled rules read, each
// with a window_days, is computed once per evaluation into a temporary
// table, as far back as the longest of those windows: each reader keeps
// only its own window of the view, by that column, so none misses a row.
// Unbounded, the table would hold every signal up to the day, and past
// about two years of history cost more than the readers' own windows,
// which DuckDB pushes into the view.

// sharedView is a view computed once per evaluation, and how far back.
type sharedView struct {
	name, column string
	days         int
}

// sharedViews are the pack's windowed views that two or more enabled
// rules read, every one of them with a window_days. A view one reader of
// which has none stays a view: each reader computes it, as far back as
// it reads.
func (e *Evaluator) sharedViews() []sharedView {
	var out []sharedView
	for _, name := range slices.Sorted(maps.Keys(e.Pack.ViewWindows)) {
		word := regexp.MustCompile(`\b` + regexp.QuoteMeta(name) + `\b`)
		readers, days, bounded := 0, 0, true
		for _, r := range e.Pack.Rules {
			if !r.Enabled || r.Err != nil || !word.MatchString(r.SQL) {
				continue
			}
			readers++
			d, ok := windowDays(r.Params)
			bounded = bounded && ok
			days = max(days, d)
		}
		if readers >= 2 && bounded {
			out = append(out, sharedView{name: name, column: e.Pack.ViewWindows[name], days: days})
		}
	}
	return out
}

// windowDays is a rule's window_days parameter, a whole number of days.
func windowDays(params map[string]any) (int, bool) {
	switch v := params["window_days"].(type) {
	case int:
		return v, v >= 0
	case int64:
		return int(v), v >= 0
	case float64:
		return int(v), v >= 0 && v == float64(int(v))
	}
	return 0, false
}

// shareViews computes each shared view once, on conn (after Prepare), and
// returns those it computed. A view that fails to compute is left a view:
// the rules reading it then fail each with the view's error, as they
// would have.
func (e *Evaluator) shareViews(ctx context.Context, conn *sql.Conn, asOf time.Time) []string {
	var done []string
	for _, v := range e.sharedViews() {
		q, err := render(fmt.Sprintf(`CREATE OR REPLACE TEMP TABLE %s AS SELECT * FROM %s WHERE %s > {{as_of}} - INTERVAL %d DAY`,
			sharedTable(v.name), v.name, v.column, v.days), nil, asOf)
		if err != nil {
			continue
		}
		if _, err := conn.ExecContext(ctx, q); err != nil {
			continue
		}
		if _, err := conn.ExecContext(ctx, fmt.Sprintf(`CREATE OR REPLACE TEMP VIEW %s AS SELECT * FROM %s`, v.name, sharedTable(v.name))); err != nil {
			continue
		}
		done = append(done, v.name)
	}
	return done
}

// unshareViews makes the shared views views again and frees their tables:
// temporary tables live in the connection's memory, and the pool keeps
// connections.
func (e *Evaluator) unshareViews(ctx context.Context, conn *sql.Conn, shared []string, asOf time.Time) {
	for _, name := range shared {
		if q, err := e.viewStatement(name, asOf); err == nil {
			conn.ExecContext(ctx, q)
		}
		conn.ExecContext(ctx, `DROP TABLE IF EXISTS `+sharedTable(name))
	}
}

func sharedTable(view string) string { return "_shared_" + view }

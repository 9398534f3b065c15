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
// links, and three built-in rules read it, so at a province it was
// computed three times a run over tens of millions of rows. A view two or
// more enabled rules read is computed once per evaluation instead, into a
// temporary table the view then reads.

// sharedViews are the pack's views that two or more enabled rules read.
func (e *Evaluator) sharedViews() []string {
	var out []string
	for _, name := range slices.Sorted(maps.Keys(e.Pack.Views)) {
		word := regexp.MustCompile(`\b` + regexp.QuoteMeta(name) + `\b`)
		readers := 0
		for _, r := range e.Pack.Rules {
			if r.Enabled && word.MatchString(r.SQL) {
				readers++
			}
		}
		if readers >= 2 {
			out = append(out, name)
		}
	}
	return out
}

// shareViews computes each shared view once, on conn (after Prepare), and
// returns those it computed. A view that fails to compute is left a view:
// the rules reading it then fail each with the view's error, as they
// would have.
func (e *Evaluator) shareViews(ctx context.Context, conn *sql.Conn) []string {
	var done []string
	for _, name := range e.sharedViews() {
		if _, err := conn.ExecContext(ctx, fmt.Sprintf(`CREATE OR REPLACE TEMP TABLE %s AS SELECT * FROM %s`, sharedTable(name), name)); err != nil {
			continue
		}
		if _, err := conn.ExecContext(ctx, fmt.Sprintf(`CREATE OR REPLACE TEMP VIEW %s AS SELECT * FROM %s`, name, sharedTable(name))); err != nil {
			continue
		}
		done = append(done, name)
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

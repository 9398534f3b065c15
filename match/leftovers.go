package match

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"

	"safetynet/store"
)

// The records no run could link (no usable ID, no one in the registry)
// pile up over the years. An incremental run compares them only with the
// persons outside the registry that new records name, and reads only
// those sharing a blocking key with one of them: match_resolved keeps
// each such record's form and keys, so no department record is read again.

// blockKeys are the keys the model's blocking rules give p, each tagged
// with its rule: two people are compared when they share one.
func blockKeys(p *Person) []string {
	var out []string
	for i, r := range BlockingRules(false) {
		if k := r.Key(p); k != "" {
			out = append(out, strconv.Itoa(i)+":"+k)
		}
	}
	return out
}

// keyTable writes the blocking keys of the people into a temporary table
// of one column, block_key.
func keyTable(ctx context.Context, conn *sql.Conn, table string, people []Person) error {
	if _, err := conn.ExecContext(ctx, `CREATE OR REPLACE TEMP TABLE `+table+` (block_key VARCHAR)`); err != nil {
		return err
	}
	app, err := store.NewAppender(conn, table)
	if err != nil {
		return err
	}
	for i := range people {
		p := people[i]
		p.prepare()
		for _, k := range blockKeys(&p) {
			if err := app.AppendRow(k); err != nil {
				app.Close()
				return err
			}
		}
	}
	return app.Close()
}

// scoredForm is the record as scoring sees it: prepared, its ID cleaned.
func (r *unlinkedRecord) scoredForm() Person {
	r.prepare()
	p := r.Person
	p.IDNumber = Clean(p.IDNumber)
	return p
}

// keptLeftovers are the records still without a link whose registry
// outcome (none) stands: not linked outside the registry since, and no
// newer version among the run's records (_todo).
const keptLeftovers = `SELECT r.* FROM match_resolved r ANTI JOIN _todo t ON t.source = r.source AND t.record_key = r.record_key
    WHERE r.method = 'none' AND NOT r.linked_outside AND r.registry_version = ?`

// leftovers are those sharing a key with a person in _ok.
const leftovers = `WITH kept AS (` + keptLeftovers + `),
hit AS (SELECT DISTINCT k.source, k.record_key FROM (SELECT source, record_key, unnest(block_keys) AS block_key FROM kept) k
    SEMI JOIN _ok o ON o.block_key = k.block_key)
SELECT source, record_key, coalesce(raw_id, ''), coalesce(name, ''), coalesce(sex, ''), coalesce(birth, ''), version, coalesce(id_prefix, '')
FROM kept SEMI JOIN hit USING (source, record_key)
ORDER BY source, record_key`

// loadLeftovers reads the records left without a link that share a
// blocking key with one of the persons.
func loadLeftovers(ctx context.Context, conn *sql.Conn, persons []Person, regVersion string) ([]unlinkedRecord, error) {
	if err := keyTable(ctx, conn, "_ok", persons); err != nil {
		return nil, err
	}
	defer conn.ExecContext(ctx, `DROP TABLE IF EXISTS _ok`)
	rows, err := conn.QueryContext(ctx, leftovers, regVersion)
	if err != nil {
		return nil, fmt.Errorf("match: records left without a link: %w", err)
	}
	return scanUnlinked(rows)
}

// countLeftovers counts the records still without a link that the run
// did not read again: their earlier outcome stands.
func countLeftovers(ctx context.Context, conn *sql.Conn, regVersion string) (int, error) {
	var n int
	err := conn.QueryRowContext(ctx, `SELECT count(*) FROM (`+keptLeftovers+`)`, regVersion).Scan(&n)
	return n, err
}

// markLinkedOutside notes the records the outside stage linked, so that
// later runs leave them be.
func markLinkedOutside(ctx context.Context, conn *sql.Conn, rs []resolution) error {
	if _, err := conn.ExecContext(ctx, `CREATE OR REPLACE TEMP TABLE _outside (source VARCHAR, record_key VARCHAR)`); err != nil {
		return err
	}
	defer conn.ExecContext(ctx, `DROP TABLE IF EXISTS _outside`)
	app, err := store.NewAppender(conn, "_outside")
	if err != nil {
		return err
	}
	for _, r := range rs {
		if r.method != "probabilistic_outside" {
			continue
		}
		if err := app.AppendRow(r.source, r.key); err != nil {
			app.Close()
			return err
		}
	}
	if err := app.Close(); err != nil {
		return err
	}
	_, err = conn.ExecContext(ctx, `UPDATE match_resolved SET linked_outside = true FROM _outside o
		WHERE match_resolved.source = o.source AND match_resolved.record_key = o.record_key`)
	return err
}

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

// scoredForm is the record as scoring sees it: prepared, its ID cleaned.
func (r *unlinkedRecord) scoredForm() Person {
	r.prepare()
	p := r.Person
	p.IDNumber = Clean(p.IDNumber)
	return p
}

// leftovers are the records still without a link whose registry outcome
// (none) and version stand, sharing a key with a person in _ok.
const leftovers = `WITH kept AS (
    SELECT r.* FROM match_resolved r
    SEMI JOIN match_links l ON l.source = r.source AND l.record_key = r.record_key AND l.version = r.version AND l.method = 'unlinked'
    WHERE r.method = 'none' AND r.registry_version = ?),
hit AS (SELECT DISTINCT k.source, k.record_key FROM (SELECT source, record_key, unnest(block_keys) AS block_key FROM kept) k
    SEMI JOIN _ok o ON o.block_key = k.block_key)
SELECT source, record_key, coalesce(raw_id, ''), coalesce(name, ''), coalesce(sex, ''), coalesce(birth, ''), version, coalesce(id_prefix, '')
FROM kept SEMI JOIN hit USING (source, record_key)
ORDER BY source, record_key`

// loadLeftovers reads the records left without a link that share a
// blocking key with one of the persons.
func loadLeftovers(ctx context.Context, conn *sql.Conn, persons []Person, regVersion string) ([]unlinkedRecord, error) {
	if _, err := conn.ExecContext(ctx, `CREATE OR REPLACE TEMP TABLE _ok (block_key VARCHAR)`); err != nil {
		return nil, err
	}
	defer conn.ExecContext(ctx, `DROP TABLE IF EXISTS _ok`)
	app, err := store.NewAppender(conn, "_ok")
	if err != nil {
		return nil, err
	}
	for i := range persons {
		p := persons[i]
		p.prepare()
		for _, k := range blockKeys(&p) {
			if err := app.AppendRow(k); err != nil {
				app.Close()
				return nil, err
			}
		}
	}
	if err := app.Close(); err != nil {
		return nil, err
	}
	rows, err := conn.QueryContext(ctx, leftovers, regVersion)
	if err != nil {
		return nil, fmt.Errorf("match: records left without a link: %w", err)
	}
	return scanUnlinked(rows)
}

// countLeftovers counts the records still without a link that the run
// did not read again: their earlier outcome stands.
func countLeftovers(ctx context.Context, conn *sql.Conn) (int, error) {
	var n int
	err := conn.QueryRowContext(ctx, `SELECT count(*) FROM match_links l ANTI JOIN _todo t ON t.source = l.source AND t.record_key = l.record_key
		WHERE l.method = 'unlinked' AND l.source <> 'members'`).Scan(&n)
	return n, err
}

// countKept counts the records left without a link whose outcome was
// kept against this registry: none, and an incremental run has nothing
// to compare with the people new records name.
func countKept(ctx context.Context, conn *sql.Conn, regVersion string) (int, error) {
	var n int
	err := conn.QueryRowContext(ctx, `SELECT count(*) FROM match_resolved WHERE method = 'none' AND registry_version = ?`, regVersion).Scan(&n)
	return n, err
}

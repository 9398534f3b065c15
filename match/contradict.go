package match

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// An ID is not enough when everything else in the record disagrees: an
// ID typed into the wrong row links a stranger's hospital bill to a
// registry member. A record whose exact ID belongs to a registry person
// whose name it does not carry (not the same, not the same folded, not
// the same sound), or whose sex contradicts the ID, is not linked: it
// waits in review with the reason, and no rule counts it until a person
// decides. A record that gives no name or sex cannot contradict.
const contradictedIDs = `CREATE OR REPLACE TEMP TABLE _contra AS
SELECT l.source, l.record_key, l.id_number,
       'the ID is ' || coalesce(min(p.name), '?') || '''s; the record says ' || coalesce(any_value(s.name), '(no name)') ||
       coalesce(', ' || any_value(s.sex), '') AS reason
FROM match_links l
JOIN (%s) s ON s.source = l.source AND s.record_key = l.record_key
JOIN match_ids i ON i.id_raw = s.id_number
JOIN registry_persons p ON p.id_number = l.id_number AND p.household_id = l.household_id
LEFT JOIN match_names rn ON rn.name = s.name
LEFT JOIN match_names pn ON pn.name = p.name
WHERE l.method = 'id_exact' AND l.source <> 'members' AND l.linked_at = ?
GROUP BY l.source, l.record_key, l.id_number
HAVING bool_and(
    (rn.folded IS NOT NULL AND pn.folded IS NOT NULL AND rn.folded <> pn.folded AND rn.pinyin <> pn.pinyin)
    OR (s.sex IS NOT NULL AND i.sex IS NOT NULL AND s.sex <> i.sex))`

// holdContradictedIDs moves the exact-ID links the record contradicts to review.
//
// Only the links this run made are read (linked_at: every link in a whole
// run, the new records' in an incremental one): the links are written in
// run order, so DuckDB skips the row groups of earlier runs.
func holdContradictedIDs(ctx context.Context, conn *sql.Conn, sc scope, at time.Time) error {
	if _, err := conn.ExecContext(ctx, fmt.Sprintf(contradictedIDs, sc.sources("record_key, id_number, name, sex")), at); err != nil {
		return fmt.Errorf("match: IDs the record contradicts: %w", err)
	}
	if _, err := conn.ExecContext(ctx, `UPDATE match_links SET method = 'review', candidate = c.id_number, id_number = NULL, household_id = NULL,
		problem = c.reason, score = NULL, weights = NULL FROM _contra c WHERE match_links.source = c.source AND match_links.record_key = c.record_key`); err != nil {
		return fmt.Errorf("match: hold IDs the record contradicts: %w", err)
	}
	_, err := conn.ExecContext(ctx, `DROP TABLE _contra`)
	return err
}

package match

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// A registry member whose own ID Excel stored as a number has no usable
// ID, so a department record with her whole ID would look like someone
// outside the registry, and could even raise discovery for a registry
// member. The record completes the registry's ID: a valid ID held by no
// registry person, whose region and birth-date digits and folded name are
// those of exactly one active member with an ID in Excel's number form,
// is that member (id_completed).
const completedIDs = `CREATE OR REPLACE TEMP TABLE _completed AS
WITH excel AS (
    SELECT m.household_id, i.id_prefix, n.folded
    FROM members m
    JOIN match_ids i ON i.id_raw = m.id_number
    JOIN match_names n ON n.name = m.name
    JOIN households h ON h.household_id = m.household_id
    WHERE i.id_prefix IS NOT NULL AND coalesce(h.status, 'active') = 'active')
SELECT l.source, l.record_key, min(e.household_id) AS household_id
FROM match_links l
JOIN (%s) s ON s.source = l.source AND s.record_key = l.record_key
JOIN match_names rn ON rn.name = s.name
JOIN excel e ON e.id_prefix = left(l.id_number, 14) AND e.folded = rn.folded
WHERE l.method = 'id_outside_registry' AND l.source <> 'members' AND l.linked_at = ?
GROUP BY l.source, l.record_key
HAVING count(*) = 1`

// completeExcelIDs links the records that complete a registry ID Excel broke.
//
// Only the links this run made are read (linked_at: every link in a whole
// run, the new records' in an incremental one): the links are written in
// run order, so DuckDB skips the row groups of earlier runs.
func completeExcelIDs(ctx context.Context, conn *sql.Conn, sc scope, at time.Time) error {
	if _, err := conn.ExecContext(ctx, fmt.Sprintf(completedIDs, sc.sources("record_key, name")), at); err != nil {
		return fmt.Errorf("match: IDs Excel broke in the registry: %w", err)
	}
	if _, err := conn.ExecContext(ctx, `UPDATE match_links SET method = 'id_completed', household_id = c.household_id,
		problem = 'the registry holds this ID in Excel''s number form; its region and birth date digits and the name agree'
		FROM _completed c WHERE match_links.source = c.source AND match_links.record_key = c.record_key`); err != nil {
		return fmt.Errorf("match: link to registry IDs Excel broke: %w", err)
	}
	_, err := conn.ExecContext(ctx, `DROP TABLE _completed`)
	return err
}

package match

import (
	"context"
	"database/sql"
	"fmt"

	"safetynet/store"
)

// outsidePeople are the persons outside the registry known by a usable ID,
// with the name and birth date their records give.
const outsidePeople = `SELECT l.id_number, min(s.name), coalesce(min(s.sex), min(i.sex)), coalesce(strftime(coalesce(min(s.birth_date), min(i.birth_date)), '%%Y%%m%%d'), '')
	FROM match_links l JOIN (%s) s ON s.source = l.source AND s.record_key = l.record_key
	LEFT JOIN match_ids i ON i.id_raw = s.id_number
	WHERE l.method = 'id_outside_registry' AND l.source <> 'members' AND s.name IS NOT NULL %s GROUP BY l.id_number`

// outsideNew is, per ID outside the registry, what this run's records
// say of the person, each part apart: the stored form cannot tell a sex
// or birth date a record gave from one its ID gave, so a new record that
// says otherwise has the person rebuilt from all their records.
const outsideNew = `CREATE OR REPLACE TEMP TABLE _outside_new AS
	SELECT l.id_number, min(s.name) AS name, min(s.sex) AS rec_sex, min(i.sex) AS id_sex,
		strftime(min(s.birth_date), '%%Y%%m%%d') AS rec_birth, strftime(min(i.birth_date), '%%Y%%m%%d') AS id_birth
	FROM match_links l JOIN (%s) s ON s.source = l.source AND s.record_key = l.record_key
	LEFT JOIN match_ids i ON i.id_raw = s.id_number
	WHERE l.method = 'id_outside_registry' AND l.source <> 'members' AND s.name IS NOT NULL GROUP BY l.id_number`

// rebuiltIDs are the IDs whose form is rebuilt from all their records:
// those a dropped link named (_gone, prepareDelta), and those whose new
// records give a sex or birth date other than the one kept, or the first
// one.
const rebuiltIDs = `CREATE OR REPLACE TEMP TABLE _affected AS
	SELECT id_number FROM _gone
	UNION SELECT n.id_number FROM _outside_new n JOIN match_outside_people o USING (id_number)
	WHERE (n.rec_sex IS NOT NULL AND n.rec_sex IS DISTINCT FROM o.sex) OR (o.sex IS NULL AND n.id_sex IS NOT NULL)
	   OR (n.rec_birth IS NOT NULL AND n.rec_birth <> o.birth) OR (o.birth = '' AND n.id_birth IS NOT NULL)`

// outsideMerged are the other IDs the run's records name: a person new
// to the table, or one whose name (the least any record gives) the new
// records lower. Their sex and birth date stand, by rebuiltIDs.
const outsideMerged = `CREATE OR REPLACE TEMP TABLE _outside_merged AS
	SELECT n.id_number, n.name, coalesce(n.rec_sex, n.id_sex) AS sex, coalesce(n.rec_birth, n.id_birth, '') AS birth
	FROM _outside_new n ANTI JOIN match_outside_people o USING (id_number) ANTI JOIN _affected a USING (id_number)
	UNION ALL SELECT o.id_number, n.name, o.sex, o.birth
	FROM _outside_new n JOIN match_outside_people o USING (id_number) ANTI JOIN _affected a USING (id_number)
	WHERE n.name < o.name`

// keepOutsidePeople brings match_outside_people up to date: rewritten
// whole in a whole run. An incremental one merges what its records say
// into the kept form of each person they name, and rebuilds from all
// their records only the people it cannot merge (rebuiltIDs), so it reads
// the run's records and those few people's, not every record of everyone
// the run names.
func keepOutsidePeople(ctx context.Context, conn *sql.Conn, sc scope) error {
	if !sc.delta {
		people, err := queryOutside(ctx, conn, fmt.Sprintf(outsidePeople, unionSources(unlinkedColumns), ""))
		if err != nil {
			return err
		}
		if _, err := conn.ExecContext(ctx, `DELETE FROM match_outside_people`); err != nil {
			return fmt.Errorf("match: people outside the registry: %w", err)
		}
		return appendOutside(conn, people)
	}
	for _, q := range []string{fmt.Sprintf(outsideNew, sc.sources(unlinkedColumns)), rebuiltIDs, outsideMerged} {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("match: people outside the registry: %w", err)
		}
	}
	defer dropTemp(ctx, conn, "_outside_new", "_affected", "_outside_merged")
	rebuilt, err := queryOutside(ctx, conn, fmt.Sprintf(outsidePeople, unionSources(unlinkedColumns), "AND l.id_number IN (SELECT id_number FROM _affected)"))
	if err != nil {
		return err
	}
	merged, err := queryOutside(ctx, conn, `SELECT id_number, name, sex, birth FROM _outside_merged`)
	if err != nil {
		return err
	}
	if _, err := conn.ExecContext(ctx, `DELETE FROM match_outside_people
		WHERE id_number IN (SELECT id_number FROM _affected UNION ALL SELECT id_number FROM _outside_merged)`); err != nil {
		return fmt.Errorf("match: people outside the registry: %w", err)
	}
	return appendOutside(conn, append(rebuilt, merged...))
}

// dropTemp drops a step's temporary tables; one left behind is replaced
// by the next run's.
func dropTemp(ctx context.Context, conn *sql.Conn, tables ...string) {
	for _, t := range tables {
		conn.ExecContext(ctx, `DROP TABLE IF EXISTS `+t)
	}
}

// appendOutside stores people in match_outside_people with their
// blocking keys.
func appendOutside(conn *sql.Conn, people []Person) error {
	app, err := store.NewColumnAppender(conn, "match_outside_people", []string{"id_number", "name", "sex", "birth", "block_keys"})
	if err != nil {
		return err
	}
	for i := range people {
		p := people[i]
		p.prepare()
		if err := app.AppendRow(people[i].IDNumber, people[i].Name, nullIf(people[i].Sex), people[i].Birth, blockKeys(&p)); err != nil {
			app.Close()
			return fmt.Errorf("match: people outside the registry: %w", err)
		}
	}
	return app.Close()
}

// outsideSharingKeys are the persons outside the registry that share a
// blocking key with one of the records: the only ones scoring could pair
// them with.
func outsideSharingKeys(ctx context.Context, conn *sql.Conn, recs []unlinkedRecord) ([]Person, error) {
	people := make([]Person, len(recs))
	for i := range recs {
		people[i] = recs[i].scoredForm()
	}
	if err := keyTable(ctx, conn, "_rk2", people); err != nil {
		return nil, err
	}
	defer conn.ExecContext(ctx, `DROP TABLE IF EXISTS _rk2`)
	return queryOutside(ctx, conn, `SELECT o.id_number, o.name, o.sex, o.birth FROM match_outside_people o
		SEMI JOIN (SELECT DISTINCT id_number FROM (SELECT id_number, unnest(block_keys) AS block_key FROM match_outside_people) k
		           SEMI JOIN _rk2 r ON r.block_key = k.block_key) h ON h.id_number = o.id_number
		ORDER BY o.id_number`)
}

// outsideNamed are the persons outside the registry an incremental run's
// records name that share a blocking key with a record left over: only
// they can be paired with one. At a province a month's records name
// hundreds of thousands of people for a few thousand leftovers, and
// reading them all cost 100 s a month at 5,000,000 persons.
func outsideNamed(ctx context.Context, conn *sql.Conn, regVersion string) ([]Person, error) {
	return queryOutside(ctx, conn, `SELECT id_number, name, sex, birth FROM match_outside_people
		WHERE id_number IN (SELECT l.id_number FROM match_links l SEMI JOIN _todo t ON t.source = l.source AND t.record_key = l.record_key
		                    WHERE l.method = 'id_outside_registry')
		  AND id_number IN (SELECT k.id_number FROM (SELECT id_number, unnest(block_keys) AS block_key FROM match_outside_people) k
		                    SEMI JOIN (SELECT unnest(block_keys) AS block_key FROM (`+keptLeftovers+`)) lk ON lk.block_key = k.block_key)
		ORDER BY id_number`, regVersion)
}

func queryOutside(ctx context.Context, conn *sql.Conn, q string, args ...any) ([]Person, error) {
	rows, err := conn.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("match: persons outside the registry: %w", err)
	}
	defer rows.Close()
	var out []Person
	for rows.Next() {
		var p Person
		var sex sql.NullString
		if err := rows.Scan(&p.IDNumber, &p.Name, &sex, &p.Birth); err != nil {
			return nil, err
		}
		p.Sex, p.Key = sex.String, p.IDNumber
		out = append(out, p)
	}
	return out, rows.Err()
}

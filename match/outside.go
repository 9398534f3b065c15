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

// affectedIDs are the IDs an incremental run's records name, and those
// the links it dropped named (_gone, prepareDelta): only their rows of
// match_outside_people can have changed.
const affectedIDs = `CREATE OR REPLACE TEMP TABLE _affected AS
	SELECT DISTINCT l.id_number FROM match_links l SEMI JOIN _todo t ON t.source = l.source AND t.record_key = l.record_key
	WHERE l.id_number IS NOT NULL
	UNION SELECT id_number FROM _gone`

// keepOutsidePeople brings match_outside_people up to date: rewritten
// whole in a whole run, and for the IDs the new records touch in an
// incremental one.
func keepOutsidePeople(ctx context.Context, conn *sql.Conn, sc scope) error {
	only := ""
	if sc.delta {
		if _, err := conn.ExecContext(ctx, affectedIDs); err != nil {
			return fmt.Errorf("match: people outside the registry: %w", err)
		}
		defer conn.ExecContext(ctx, `DROP TABLE IF EXISTS _affected`)
		only = "AND l.id_number IN (SELECT id_number FROM _affected)"
	}
	people, err := queryOutside(ctx, conn, fmt.Sprintf(outsidePeople, unionSources(unlinkedColumns), only))
	if err != nil {
		return err
	}
	clear := `DELETE FROM match_outside_people`
	if sc.delta {
		clear += ` WHERE id_number IN (SELECT id_number FROM _affected)`
	}
	if _, err := conn.ExecContext(ctx, clear); err != nil {
		return fmt.Errorf("match: people outside the registry: %w", err)
	}
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
// records name.
func outsideNamed(ctx context.Context, conn *sql.Conn) ([]Person, error) {
	return queryOutside(ctx, conn, `SELECT id_number, name, sex, birth FROM match_outside_people
		WHERE id_number IN (SELECT l.id_number FROM match_links l SEMI JOIN _todo t ON t.source = l.source AND t.record_key = l.record_key
		                    WHERE l.method = 'id_outside_registry')
		ORDER BY id_number`)
}

func queryOutside(ctx context.Context, conn *sql.Conn, q string) ([]Person, error) {
	rows, err := conn.QueryContext(ctx, q)
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

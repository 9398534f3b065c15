package match

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"strings"
	"time"

	"safetynet/store"
)

//go:embed schema/*.sql
var schemaFS embed.FS

// Migrations are match's tables and views.
func Migrations() store.MigrationSet { return store.Migrations("match", schemaFS, "schema") }

// Sources are the tables whose records are linked to persons.
var Sources = []string{"members", "education", "health", "medins", "disability"}

// unionSources is the current records of every source as one relation:
// a source column, then the given columns of each view.
func unionSources(columns string) string {
	return unionSourcesWhere(columns, "true")
}

// unionSourcesWhere is unionSources of the records meeting cond, put in
// each part so that DuckDB filters each table's scan.
func unionSourcesWhere(columns, cond string) string {
	parts := make([]string, len(Sources))
	for i, s := range Sources {
		parts[i] = fmt.Sprintf("SELECT '%s' AS source, %s FROM %s WHERE %s", s, columns, s, cond)
	}
	return strings.Join(parts, " UNION ALL ")
}

// Stats says what a linking run did.
type Stats struct {
	NewIDs int            // raw ID texts normalised for the first time
	Linked map[string]int // per method
	Scored int            // records without a usable ID compared with the registry this run
	Reused int            // records without a usable ID whose earlier outcome still held
	// Incremental is a run that linked only the records new or changed
	// since the last (Relinked of them): the registry and the review
	// decisions were as that run left them.
	Incremental bool
	Relinked    int
	Duration    time.Duration
	Steps       []Step // what each step of the run took
}

// Step is one step of a linking run and its time.
type Step struct {
	Name string
	Took time.Duration
}

// linkExact links the records of the run's scope from their ID: every
// current record (the links rebuilt), or those in _todo.
func linkExact(ctx context.Context, conn *sql.Conn, at time.Time, sc scope) error {
	qs := []string{"DROP TABLE IF EXISTS _reg", registryIndex}
	if !sc.delta {
		qs = append(qs, "DELETE FROM match_links")
	}
	for _, q := range qs {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("match: %w", err)
		}
	}
	if _, err := conn.ExecContext(ctx, fmt.Sprintf(linkAll, sc.sources("record_key, id_number, batch_id")), at); err != nil {
		return fmt.Errorf("match: link: %w", err)
	}
	_, err := conn.ExecContext(ctx, "DROP TABLE _reg")
	return err
}

// countLinks fills st.Linked: department records by link method.
func countLinks(ctx context.Context, conn *sql.Conn, st *Stats) error {
	rows, err := conn.QueryContext(ctx, `SELECT method, count(*) FROM match_links WHERE source <> 'members' GROUP BY ALL`)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var m string
		var n int
		if err := rows.Scan(&m, &n); err != nil {
			return err
		}
		st.Linked[m] = n
	}
	return rows.Err()
}

const newRawIDs = `SELECT DISTINCT s.id_number FROM (%s) s
ANTI JOIN match_ids i ON i.id_raw = s.id_number
WHERE s.id_number IS NOT NULL`

// registryIndex is each usable ID's active household: the first (by
// household id) holding it. An aggregate, not a window, so it spills to
// disk within DuckDB's memory limit at province scale.
const registryIndex = `CREATE TEMP TABLE _reg AS
SELECT p.id_number, min(p.household_id) AS household_id FROM registry_persons p
WHERE p.id_number IS NOT NULL AND p.household_status = 'active'
GROUP BY p.id_number`

// linkAll links the current records of every source in one statement,
// so DuckDB plans one join over all of them.
const linkAll = `INSERT INTO match_links (source, record_key, id_number, household_id, method, problem, linked_at, version)
SELECT r.source, r.record_key, i.id_number, g.household_id,
       CASE WHEN g.household_id IS NOT NULL THEN 'id_exact'
            WHEN i.id_number IS NOT NULL THEN 'id_outside_registry'
            ELSE 'unlinked' END,
       CASE WHEN r.id_number IS NULL THEN 'no ID number' ELSE i.problem END,
       ?, r.batch_id
FROM (%s) r
LEFT JOIN match_ids i ON i.id_raw = r.id_number
LEFT JOIN _reg g ON g.id_number = i.id_number`

// Link is LinkWith at the default thresholds.
func Link(ctx context.Context, db *store.DB) (*Stats, error) {
	return LinkWith(ctx, db, DefaultThresholds)
}

// LinkWith normalises the ID texts not seen before and links every current
// record to its person and active household: by exact ID, by an ID one
// typo away with the same name, or by the probabilistic model at th. The
// whole linking table is rebuilt in one transaction, so readers never see
// half a run.
func LinkWith(ctx context.Context, db *store.DB, th Thresholds) (*Stats, error) {
	return link(ctx, db, th, false)
}

// Relink rebuilds every link, as a run after a registry delivery does.
func Relink(ctx context.Context, db *store.DB, th Thresholds) (*Stats, error) {
	return link(ctx, db, th, true)
}

func link(ctx context.Context, db *store.DB, th Thresholds, whole bool) (*Stats, error) {
	start := time.Now()
	st := &Stats{Linked: map[string]int{}}
	err := db.Tx(ctx, func(conn *sql.Conn) error {
		sc, state, err := chooseScope(ctx, conn, whole)
		if err != nil {
			return err
		}
		st.Incremental = sc.delta
		steps := []struct {
			name string
			run  func() error
		}{
			{"normalise new IDs", func() (err error) { st.NewIDs, err = normaliseNewIDs(ctx, conn, sc); return err }},
			{"fold new names", func() error { return foldNewNames(ctx, conn, sc) }},
			{"find the records to link", func() error {
				if !sc.delta {
					return nil
				}
				return prepareDelta(ctx, conn, sc, st)
			}},
			{"link exact IDs", func() error { return linkExact(ctx, conn, start, sc) }},
			{"complete registry IDs Excel broke", func() error { return completeExcelIDs(ctx, conn, sc, start) }},
			{"keep the people outside the registry", func() error { return keepOutsidePeople(ctx, conn, sc) }},
			{"repair and score the rest", func() error { return resolve(ctx, conn, th, start, st, sc) }},
			{"hold contradicted IDs", func() error { return holdContradictedIDs(ctx, conn, sc, start) }},
			{"apply decisions", func() error { return applyDecisions(ctx, conn, start) }},
			{"count", func() error { return countLinks(ctx, conn, st) }},
			{"note the state", func() error { return saveState(ctx, conn, state, start) }},
		}
		for _, step := range steps {
			t := time.Now()
			if err := step.run(); err != nil {
				return err
			}
			st.Steps = append(st.Steps, Step{Name: step.name, Took: time.Since(t)})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	st.Duration = time.Since(start)
	return st, nil
}

// normaliseNewIDs parses the raw ID texts not seen before into match_ids.
func normaliseNewIDs(ctx context.Context, conn *sql.Conn, sc scope) (int, error) {
	raws, err := queryStrings(ctx, conn, fmt.Sprintf(newRawIDs, sc.sources("id_number")))
	if err != nil {
		return 0, fmt.Errorf("match: read new IDs: %w", err)
	}
	app, err := store.NewColumnAppender(conn, "match_ids", []string{"id_raw", "id_number", "problem", "birth_date", "sex", "warning", "id_prefix"})
	if err != nil {
		return 0, err
	}
	for _, raw := range raws {
		id, perr := ParseID(raw)
		var idv, problem, birth, sex, warning, prefix any
		switch {
		case perr == nil:
			idv, birth, sex = string(id), id.BirthDate(), id.Sex()
			if !id.RegionKnown() {
				warning = "region " + string(id[:6]) + " is not a current division code (GB/T 2260): a historical code, or a typo"
			}
		case errors.Is(perr, ErrExcelNumber):
			problem = perr.Error()
			if p, _ := ExcelPrefix(raw); p != "" {
				prefix = p
				if t, ok := birthDate(p + "0000"); ok {
					birth = t
				}
			}
		default:
			problem = perr.Error()
		}
		if err := app.AppendRow(raw, idv, problem, birth, sex, warning, prefix); err != nil {
			app.Close()
			return 0, fmt.Errorf("match: store ID %q: %w", Mask(raw), err)
		}
	}
	return len(raws), app.Close()
}

const newNames = `SELECT DISTINCT s.name FROM (%s) s ANTI JOIN match_names n ON n.name = s.name WHERE s.name IS NOT NULL`

// foldNewNames folds the name texts not seen before into match_names.
func foldNewNames(ctx context.Context, conn *sql.Conn, sc scope) error {
	names, err := queryStrings(ctx, conn, fmt.Sprintf(newNames, sc.sources("name")))
	if err != nil {
		return fmt.Errorf("match: read new names: %w", err)
	}
	app, err := store.NewColumnAppender(conn, "match_names", []string{"name", "folded", "pinyin", "surname_pinyin"})
	if err != nil {
		return err
	}
	for _, n := range names {
		folded := FoldName(n)
		if err := app.AppendRow(n, folded, namePinyin(folded), namePinyin(surnameOf(folded))); err != nil {
			app.Close()
			return fmt.Errorf("match: store name: %w", err)
		}
	}
	return app.Close()
}

func queryStrings(ctx context.Context, conn *sql.Conn, q string, args ...any) ([]string, error) {
	rows, err := conn.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

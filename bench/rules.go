package bench

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"safetynet/alerts"
	"safetynet/config"
	"safetynet/ingest"
	"safetynet/jobs"
	"safetynet/match"
	"safetynet/store"
	"safetynet/web"
)

// RulesOptions size the rule-pack benchmark.
type RulesOptions struct {
	Dir     string
	Persons int // registry persons
	Rows    int // canonical department rows
	// MemoryLimit is DuckDB's for this benchmark: joining ten million
	// rows to their links does not fit the default 512MB.
	MemoryLimit string
	Out         io.Writer
}

// The department rows are written by SQL straight into the canonical
// tables and their links, each about a registry person: ingesting and
// linking ten million rows would take the benchmark many minutes and is
// measured by the other benchmarks; this one measures the rules. Shares:
// medical insurance 50%, health 20%, education 20%, disability 10%; dates
// over the two years before the evaluation day; a few in a hundred are
// hardship signals (serious diagnoses, deaths, dropouts, severe levels).
var rulesFill = []string{
	`CREATE OR REPLACE TABLE _people AS SELECT id_number, household_id FROM registry_persons WHERE id_number IS NOT NULL`,
	`INSERT INTO canon_medins BY NAME SELECT 'M' || i AS record_key, i::UBIGINT AS row_hash, 0 AS batch_id, i AS line, now() AS valid_from,
		'bench' AS sheet, 'M' || i AS record_id, p.id_number, CASE WHEN i % 3 = 0 THEN '住院' ELSE '门诊' END AS visit_type,
		DATE '2026-06-30' - CAST(i % 730 AS INTEGER) AS settle_date, ((i * 7919) % 60000)::DECIMAL(14,2) AS total_cost,
		((i * 7919) % 60000 * 0.6)::DECIMAL(14,2) AS fund_paid, ((i * 7919) % 60000 * 0.4)::DECIMAL(14,2) AS out_of_pocket,
		CASE WHEN i % 40 = 0 THEN 'C34.9' WHEN i % 97 = 0 THEN 'N18.5' ELSE 'J18.9' END AS diagnosis_code
		FROM range(0, ?) r(i) JOIN _people p ON p.rowid = (i * 7) % ?`,
	`INSERT INTO canon_health BY NAME SELECT 'H' || i AS record_key, i::UBIGINT AS row_hash, 0 AS batch_id, i AS line, now() AS valid_from,
		'bench' AS sheet, 'H' || i AS record_id, p.id_number,
		CASE WHEN i % 1000 = 0 THEN 'death' WHEN i % 500 = 1 THEN 'severe_mental_disorder' WHEN i % 2 = 0 THEN 'outpatient' ELSE 'admission' END AS event_type,
		DATE '2026-06-30' - CAST(i % 730 AS INTEGER) AS event_date,
		CASE WHEN i % 50 = 0 THEN 'C50.9' ELSE 'K35.8' END AS diagnosis_code, '医院' AS hospital
		FROM range(0, ?) r(i) JOIN _people p ON p.rowid = (i * 11) % ?`,
	`INSERT INTO canon_education BY NAME SELECT 'E' || i AS record_key, i::UBIGINT AS row_hash, 0 AS batch_id, i AS line, now() AS valid_from,
		'bench' AS sheet, 'E' || i AS record_id, p.id_number, DATE '2014-01-01' + CAST(i % 2000 AS INTEGER) AS birth_date,
		'实验小学' AS school, CASE WHEN i % 200 = 0 THEN 'dropped_out' ELSE 'enrolled' END AS status,
		DATE '2026-06-30' - CAST(i % 730 AS INTEGER) AS event_date
		FROM range(0, ?) r(i) JOIN _people p ON p.rowid = (i * 13) % ?`,
	`INSERT INTO canon_disability BY NAME SELECT 'D' || i AS record_key, i::UBIGINT AS row_hash, 0 AS batch_id, i AS line, now() AS valid_from,
		'bench' AS sheet, 'D' || i AS record_id, p.id_number, '肢体' AS disability_type, CAST(1 + i % 4 AS INTEGER) AS level,
		DATE '2026-06-30' - CAST(i % 730 AS INTEGER) AS issued_on, 'new' AS "change"
		FROM range(0, ?) r(i) JOIN _people p ON p.rowid = (i * 17) % ?`,
	`INSERT INTO match_links (source, record_key, id_number, household_id, method, problem, linked_at)
		SELECT s, r.record_key, p.id_number, p.household_id, 'id_exact', NULL, now()
		FROM (SELECT 'medins' AS s, record_key, id_number FROM canon_medins WHERE sheet = 'bench'
		      UNION ALL SELECT 'health', record_key, id_number FROM canon_health WHERE sheet = 'bench'
		      UNION ALL SELECT 'education', record_key, id_number FROM canon_education WHERE sheet = 'bench'
		      UNION ALL SELECT 'disability', record_key, id_number FROM canon_disability WHERE sheet = 'bench') r
		JOIN _people p USING (id_number)`,
	`DROP TABLE _people`,
}

// scaleStore makes a store in dir with a registry of opt.Persons, linked,
// and opt.Rows department rows about them written by SQL (rulesFill).
func scaleStore(ctx context.Context, dir string, opt RulesOptions) (*store.DB, int, int, error) {
	os.RemoveAll(dir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, 0, 0, err
	}
	files, err := writeMatchFiles(dir, MatchOptions{Persons: opt.Persons, Records: 1000})
	if err != nil {
		return nil, 0, 0, err
	}
	db, err := jobs.OpenStore(ctx, filepath.Join(dir, "store.duckdb"), web.Migrations())
	if err != nil {
		return nil, 0, 0, err
	}
	fail := func(err error) (*store.DB, int, int, error) {
		db.Close()
		return nil, 0, 0, err
	}
	if err := db.SetMemoryLimit(ctx, opt.MemoryLimit); err != nil {
		return fail(err)
	}
	for _, f := range files {
		if _, err := ingest.IngestFile(ctx, db, f[0], f[1], ingest.Options{}); err != nil {
			return fail(err)
		}
	}
	if _, err := match.Link(ctx, db); err != nil {
		return fail(err)
	}
	shares := []int{opt.Rows / 2, opt.Rows / 5, opt.Rows / 5, opt.Rows - opt.Rows/2 - 2*(opt.Rows/5)}
	for i, q := range rulesFill {
		var err error
		if i >= 1 && i <= 4 {
			_, err = db.ExecContext(ctx, q, shares[i-1], opt.Persons)
		} else {
			_, err = db.ExecContext(ctx, q)
		}
		if err != nil {
			return fail(fmt.Errorf("bench: rules data: %w", err))
		}
	}
	var rows, linked int
	if err := db.QueryRowContext(ctx, rulesBaseline).Scan(&rows, &linked); err != nil {
		return fail(err)
	}
	return db, rows, linked, nil
}

// rulesBaseline reads every department row with its link, as each rule
// must, and does nothing with it.
const rulesBaseline = `SELECT count(*), count(household_id) FROM (
	SELECT household_id FROM linked_medins UNION ALL SELECT household_id FROM linked_health
	UNION ALL SELECT household_id FROM linked_education UNION ALL SELECT household_id FROM linked_disability)`

// RunRules times the whole rule pack over Rows department rows and a
// registry of Persons, next to DuckDB reading the same linked rows.
func RunRules(ctx context.Context, opt RulesOptions) ([]Stage, error) {
	t := time.Now()
	db, rows, linked, err := scaleStore(ctx, filepath.Join(opt.Dir, "rules"), opt)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	cfg := config.Default()
	fmt.Fprintf(opt.Out, "\nrules at scale: %d registry persons, %d department rows (%d linked to a household), made in %s; DuckDB memory_limit %s\n",
		opt.Persons, rows, linked, time.Since(t).Round(time.Second), opt.MemoryLimit)

	var stages []Stage
	st, err := measureStage("baseline: DuckDB reads every linked row", func() (int, error) {
		var n, h int
		return n, db.QueryRowContext(ctx, rulesBaseline).Scan(&n, &h)
	})
	if err != nil {
		return nil, err
	}
	stages = append(stages, st)
	pack, err := alerts.LoadPack(nil)
	if err != nil {
		return nil, err
	}
	ev := &alerts.Evaluator{DB: db, Pack: pack, Standards: cfg.Standards, SeriousIllness: cfg.SeriousIllness}
	asOf := time.Date(2026, 6, 30, 0, 0, 0, 0, time.UTC)
	var rep *alerts.Report
	st, err = measureStage("rule pack: 8 rules, lifecycle, store", func() (int, error) {
		var err error
		rep, err = ev.Run(ctx, asOf, asOf.Add(12*time.Hour))
		return rows, err
	})
	if err != nil {
		return nil, err
	}
	stages = append(stages, st)
	if f := rep.Failed(); len(f) > 0 {
		return nil, fmt.Errorf("bench: rule %s failed: %v", f[0].RuleID, f[0].Err)
	}
	st, err = measureStage("rule pack again (refresh, nothing new)", func() (int, error) {
		_, err := ev.Run(ctx, asOf, asOf.Add(13*time.Hour))
		return rows, err
	})
	if err != nil {
		return nil, err
	}
	stages = append(stages, st)
	tw := newTable(opt.Out)
	for _, s := range stages {
		fmt.Fprintf(tw, "%s\t%d\t%.2f\t%.0f\t%.2f×\t%d\t\n", s.Name, s.Rows, s.Elapsed.Seconds(), s.rate(), stages[0].rate()/s.rate(), s.PeakRSS>>20)
	}
	tw.Flush()
	fmt.Fprintf(opt.Out, "cases by rule:")
	for _, r := range rep.Rules {
		fmt.Fprintf(opt.Out, " %s %d", r.RuleID, r.Cases)
	}
	fmt.Fprintf(opt.Out, "\nalerts raised %d\ntarget: the rule pack under 20 s\n", rep.Raised)
	return stages, nil
}

package match

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"safetynet/store"
)

// Thresholds decide what a probabilistic match does: at or above Link it
// links, at or above Review it waits for a person, below it is no link.
type Thresholds struct {
	Link, Review float64
}

// DefaultThresholds are used when the config says nothing.
var DefaultThresholds = Thresholds{Link: 0.95, Review: 0.5}

// candidate is the person a record is linked to or queued with: by ID,
// and in the registry by household too.
type candidate struct {
	id, household string
}

// unlinkedRecord is a department record whose ID did not link it.
type unlinkedRecord struct {
	source, key string
	rawID       string
	version     int64 // the batch of the record's current version
	Person
	// repairs are the valid IDs one typo from rawID (when its check
	// fails), found once for the SQL filter and the repair.
	repairs []string
}

// repairCandidates lists the valid IDs one substitution or one swap of
// neighbours away from a cleaned 18-character ID whose check fails.
func repairCandidates(s string) []string {
	if len(s) != 18 {
		return nil
	}
	var out []string
	try := func(c string) {
		if _, err := ParseID(c); err == nil && c != s {
			out = append(out, c)
		}
	}
	b := []byte(s)
	digits := "0123456789"
	for i := 0; i < 18; i++ {
		orig := b[i]
		alts := digits
		if i == 17 {
			alts = digits + "X"
		}
		for j := 0; j < len(alts); j++ {
			if alts[j] != orig {
				b[i] = alts[j]
				try(string(b))
			}
		}
		b[i] = orig
	}
	for i := 0; i < 17; i++ {
		if b[i] != b[i+1] {
			b[i], b[i+1] = b[i+1], b[i]
			try(string(b))
			b[i], b[i+1] = b[i+1], b[i]
		}
	}
	return out
}

// repairable: 18 characters whose check character or birth date is wrong
// (one typo can do either).
func repairable(raw string) bool {
	_, err := ParseID(raw)
	return errors.Is(err, ErrCheck) || errors.Is(err, ErrBirthDate)
}

// sameName: exactly, or by pinyin (a homophone written with another character).
func sameName(a, b *Person) bool {
	return a.Name != "" && (a.Name == b.Name || (a.pinyin != "" && a.pinyin == b.pinyin))
}

// unlinkedColumns are what unlinkedRecords reads of the sources.
const unlinkedColumns = "record_key, id_number, name, sex, birth_date, batch_id"

// unlinkedRecords: a record's birth date is its own, else what its ID
// (or what Excel left of it) says. In one order, as the model's u is
// drawn from the records by index: the same records score the same.
const unlinkedRecords = `SELECT l.source, l.record_key, coalesce(s.id_number, ''), coalesce(s.name, ''), coalesce(s.sex, ''),
	coalesce(strftime(coalesce(s.birth_date, i.birth_date), '%%Y%%m%%d'), ''), s.batch_id, coalesce(i.id_prefix, '')
	FROM match_links l JOIN (%s) s ON s.source = l.source AND s.record_key = l.record_key
	LEFT JOIN match_ids i ON i.id_raw = s.id_number
	WHERE l.method = 'unlinked' AND l.source <> 'members'
	ORDER BY l.source, l.record_key`

// registryPeople are the active registry members with a usable ID, their
// names folded, with the keys SQL blocks on.
const registryPeople = `SELECT p.id_number, p.household_id, coalesce(n.folded, p.name, '') AS name, coalesce(p.sex, '') AS sex,
	coalesce(strftime(p.birth_date, '%Y%m%d'), '') AS birth, coalesce(n.pinyin, '') AS pinyin, coalesce(n.surname_pinyin, '') AS surname_py,
	CAST(year(p.birth_date) AS VARCHAR) AS year, left(p.id_number, 14) AS head
	FROM registry_persons p LEFT JOIN match_names n ON n.name = p.name
	WHERE p.id_number IS NOT NULL AND p.household_status = 'active'`

// registryColumns are what scanRegistry reads of registryPeople (kept in
// match_registry_people, registry_people.go): what a department record
// can agree on. Records carry an ID, a name, a sex and a birth date
// (unlinkedRecords), so a registry person's phone and address would be
// millions of values in memory that no comparison ever meets.
const registryColumns = `id_number, household_id, name, sex, birth, pinyin, surname_py`

// resolve links the records the IDs could not: an ID one typo away from a
// registry person's that agrees on the name is repaired (id_repaired);
// the rest are scored against registry persons by the Fellegi–Sunter
// model and linked (probabilistic), queued for review, or left.
func resolve(ctx context.Context, conn *sql.Conn, th Thresholds, at time.Time, st *Stats, sc scope) error {
	all, err := loadUnlinked(ctx, conn, sc.sources(unlinkedColumns))
	if err != nil || (len(all) == 0 && !sc.delta) {
		return err
	}
	regVersion, err := registryVersion(ctx, conn)
	if err != nil {
		return err
	}
	rv := &resolver{ctx: ctx, conn: conn, th: th, outcome: map[string]resolution{}}
	// A record whose version and the registry's are those of the last
	// resolution keeps its outcome; only the others are compared. An
	// incremental run reads only records of new batches, none of them
	// resolved before.
	recs, again := all, []unlinkedRecord(nil)
	if !sc.delta {
		cached, err := loadResolved(ctx, conn, regVersion)
		if err != nil {
			return err
		}
		recs, again = rv.reuse(all, cached)
	}
	st.Scored, st.Reused = len(recs), len(all)-len(recs)
	leftovers := 0 // records earlier incremental runs left without a link
	if sc.delta {
		if leftovers, err = countLeftovers(ctx, conn, regVersion); err != nil {
			return err
		}
		st.Reused = leftovers
	}
	if err := rv.compare(recs, again, leftovers, regVersion); err != nil {
		return err
	}
	st.Steps = append(st.Steps, rv.steps...)
	if err := applyResolutions(ctx, conn, rv.results, at); err != nil {
		return err
	}
	if err := saveResolved(ctx, conn, all, rv.outcome, regVersion, sc); err != nil {
		return err
	}
	return markLinkedOutside(ctx, conn, rv.results)
}

// resolver holds what one resolution decides: the outcomes to link, and
// the registry stage's outcome per record, kept for the next run.
type resolver struct {
	ctx     context.Context
	conn    *sql.Conn
	th      Thresholds
	results []resolution
	outcome map[string]resolution // by source|key, what the registry stage decided
	sample  []Person              // registry persons for u, read once when first needed
	steps   []Step                // the parts of the comparison
}

// reuse splits the records into those to compare with the registry and
// those left unresolved by the last run (only the outside stage), and
// takes the other outcomes of the last run as they were.
func (rv *resolver) reuse(all []unlinkedRecord, cached map[string]resolution) (recs, again []unlinkedRecord) {
	for _, r := range all {
		c, ok := cached[r.source+"|"+r.key]
		switch {
		case !ok || c.version != r.version:
			recs = append(recs, r)
		case c.method == "none":
			again = append(again, r)
			rv.outcome[r.source+"|"+r.key] = c
		default:
			rv.results = append(rv.results, c)
			rv.outcome[r.source+"|"+r.key] = c
		}
	}
	return recs, again
}

// compare runs the stages: the registry (repair, then the model), then
// the persons outside the registry other records name with a usable ID
// (the same person at the hospital and at the disability federation),
// so discovery counts their signals together. The leftovers of earlier
// incremental runs are compared only with the people new records name.
func (rv *resolver) compare(recs, again []unlinkedRecord, leftovers int, regVersion string) error {
	if err := keepRegistryPeople(rv.ctx, rv.conn, regVersion); err != nil {
		return err
	}
	t := time.Now()
	pending, err := rv.resolveRegistry(recs)
	if err != nil {
		return err
	}
	t = rv.took("with the registry", t)
	var outside []Person
	if pending = append(pending, again...); len(pending) > 0 {
		if outside, err = outsideSharingKeys(rv.ctx, rv.conn, pending); err != nil {
			return err
		}
	}
	t = rv.took("read the people outside it", t)
	if err := rv.scoreOutside(outside, pending); err != nil {
		return err
	}
	t = rv.took("with the people outside it", t)
	if leftovers > 0 {
		if err := rv.linkLeftovers(regVersion); err != nil {
			return err
		}
	}
	rv.took("records left over, with people new records name", t)
	return nil
}

// took notes a part of the comparison, for the run's steps, and says when
// the next part starts.
func (rv *resolver) took(part string, since time.Time) time.Time {
	now := time.Now()
	rv.steps = append(rv.steps, Step{Name: "repair and score: " + part, Took: now.Sub(since)})
	return now
}

// linkLeftovers compares the records earlier runs left without a link
// with the persons outside the registry the new records name. Only the
// records sharing a blocking key with one of those persons are read, from
// the form match_resolved kept of them, so the run does not read every
// department record again.
func (rv *resolver) linkLeftovers(regVersion string) error {
	outside, err := outsideNamed(rv.ctx, rv.conn, regVersion)
	if err != nil || len(outside) == 0 {
		return err
	}
	left, err := loadLeftovers(rv.ctx, rv.conn, outside, regVersion)
	if err != nil {
		return err
	}
	return rv.scoreOutside(outside, left)
}

// samplePeople is a random sample of registry persons, for u: how often
// strangers agree. It is read once, when something is first scored.
func (rv *resolver) samplePeople() ([]Person, error) {
	if rv.sample != nil {
		return rv.sample, nil
	}
	var err error
	rv.sample, _, err = registrySample(rv.ctx, rv.conn, registryTable)
	return rv.sample, err
}

// update notes an outcome for a record.
func (rv *resolver) update(r *unlinkedRecord, method string, c candidate, score float64, terms []Term, problem string) {
	res := resolution{source: r.source, key: r.key, version: r.version, method: method, score: score, problem: problem}
	if terms != nil {
		b, _ := json.Marshal(terms)
		res.weights = string(b)
	}
	res.candidate = c.id
	if method != "review" { // nothing is linked until a person decides
		res.id, res.household = c.id, c.household
	}
	rv.results = append(rv.results, res)
	if method != "probabilistic_outside" {
		rv.outcome[r.source+"|"+r.key] = res
	}
}

// scoreOutside scores records against persons outside the registry and
// links those sure to be one of them.
func (rv *resolver) scoreOutside(outside []Person, pending []unlinkedRecord) error {
	if len(outside) == 0 || len(pending) == 0 {
		return nil
	}
	sample, err := rv.samplePeople()
	if err != nil {
		return err
	}
	sd := sides{people: append(make([]Person, 0, len(outside)+len(pending)), outside...), split: len(outside)}
	for k := range pending {
		sd.people = append(sd.people, pending[k].scoredForm())
	}
	found, err := scoreStage(rv.ctx, rv.conn, "outside", func(k *kept) ([]scored, fitted, error) {
		out, fit := scoreAgainst(sd, sample, scoring{kept: k})
		return out, fit, nil
	})
	if err != nil {
		return err
	}
	for _, m := range found {
		if m.prob >= rv.th.Link && m.sure && !m.ambiguous {
			rv.update(&pending[m.record], "probabilistic_outside", candidate{id: outside[m.person].IDNumber}, m.prob, m.terms, "")
		}
	}
	return nil
}

// resolveRegistry compares records with the registry: first repair (one
// typo away from a registry ID, and the same name), then the model. It
// returns the records it could not place.
func (rv *resolver) resolveRegistry(recs []unlinkedRecord) ([]unlinkedRecord, error) {
	if len(recs) == 0 {
		return nil, nil
	}
	rest, err := rv.repair(recs)
	if err != nil || len(rest) == 0 {
		return nil, err
	}

	// Fellegi–Sunter over the registry persons sharing a blocking key
	// with a record, each record to its best candidate, a part of the
	// records at a time (registry_parts.go).
	records := make([]Person, len(rest))
	for k, i := range rest {
		records[k] = recs[i].scoredForm()
	}
	names, err := registryNamesakes(rv.ctx, rv.conn, registryTable, records)
	if err != nil {
		return nil, err
	}
	sample, err := rv.samplePeople()
	if err != nil {
		return nil, err
	}
	rs := newRegistryScorer(rv.ctx, rv.conn, records)
	found, err := scoreStage(rv.ctx, rv.conn, "registry", func(k *kept) ([]registryMatch, fitted, error) {
		return rs.score(sample, names, k)
	})
	if err != nil {
		return nil, err
	}
	resolved := make([]bool, len(rest))
	for _, m := range found {
		r := &recs[rest[m.record]]
		switch {
		case m.prob >= rv.th.Link && m.sure && !m.ambiguous:
			rv.update(r, "probabilistic", m.candidate, m.prob, m.terms, "")
		case m.prob >= rv.th.Review:
			rv.update(r, "review", m.candidate, m.prob, m.terms, "")
		default:
			continue
		}
		resolved[m.record] = true
	}
	var pending []unlinkedRecord
	for k, done := range resolved {
		if !done {
			pending = append(pending, recs[rest[k]])
		}
	}
	return pending, nil
}

// repair links the records whose ID is one typo from exactly one registry
// person's of the same name (id_repaired), and returns the indexes of the
// others.
func (rv *resolver) repair(recs []unlinkedRecord) ([]int, error) {
	people, households, err := repairPeople(rv.ctx, rv.conn, registryTable, recs)
	if err != nil {
		return nil, err
	}
	byID := make(map[string]int, len(people))
	for i := range people {
		people[i].prepare()
		byID[people[i].IDNumber] = i
	}
	var rest []int
	for i := range recs {
		r := &recs[i]
		var hit candidate
		n := 0
		for _, c := range r.repairs {
			if j, ok := byID[c]; ok && sameName(&r.Person, &people[j]) {
				hit = candidate{id: people[j].IDNumber, household: households[j]}
				n++
			}
		}
		if n != 1 {
			rest = append(rest, i)
			continue
		}
		rv.update(r, "id_repaired", hit, 1, nil, "ID "+Mask(Clean(r.rawID))+" repaired to "+Mask(hit.id))
	}
	return rest, nil
}

// scored is a record's best candidate and how sure the model is.
type scored struct {
	record, person int // indexes into the records and the persons scored against
	prob           float64
	terms          []Term
	// sure: the name is the same (or sounds the same) and the birth date
	// is the same; a name or birth date only near (day and month swapped
	// too) is enough only beside an ID one character off. Never a name
	// alone: in a province, 曾强 and 曾静 born the same day, or namesakes
	// born the same month, are common.
	sure bool
	// ambiguous: a runner-up within ambiguousBits (twins in name and birth date).
	ambiguous bool
}

// scoring is what scoreAgainst needs beside the people: the registry's
// namesake counts (nil outside the registry) and the model the stage
// kept from an earlier run (nil when none).
type scoring struct {
	names *namesakes
	kept  *kept
}

// fitted is the model a scoring run used, and whether it trained it.
type fitted struct {
	model   *Model
	pairs   int
	trained bool
}

// namesakes says how common the records' names are in the whole
// registry: how many active persons have a name that sounds like each
// (homophones are as easy to confuse as namesakes), and over how many
// distinct birth dates the registry spreads.
type namesakes struct {
	count map[string]int
	dates float64
}

// commonLimit: a bare agreement on name and birth date links by itself
// only while the registry makes another person of that name born that
// day unlikely: 王伟 has hundreds of namesakes in a province, and one of
// them (or one of the many more outside the registry) shares a birthday
// far too often to send a grid worker on it without a person's look.
const commonLimit = 0.003

// common: a name of this sound is so frequent that a namesake born the
// same day is to be expected.
func (n *namesakes) common(pinyin string) bool {
	if n == nil || n.dates == 0 || pinyin == "" {
		return false
	}
	return float64(n.count[pinyin]-1)/n.dates > commonLimit
}

// registryNamesakes counts, over the whole active registry, the persons
// whose name sounds like each record's.
func registryNamesakes(ctx context.Context, conn *sql.Conn, registry string, recs []Person) (*namesakes, error) {
	if _, err := conn.ExecContext(ctx, `CREATE OR REPLACE TEMP TABLE _rn (pinyin VARCHAR)`); err != nil {
		return nil, err
	}
	app, err := store.NewAppender(conn, "_rn")
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	for i := range recs {
		recs[i].prepare()
		if n := recs[i].pinyin; n != "" && !seen[n] {
			seen[n] = true
			if err := app.AppendRow(n); err != nil {
				app.Close()
				return nil, err
			}
		}
	}
	if err := app.Close(); err != nil {
		return nil, err
	}
	defer conn.ExecContext(ctx, `DROP TABLE IF EXISTS _rn`)
	out := &namesakes{count: map[string]int{}}
	if err := conn.QueryRowContext(ctx, `SELECT count(DISTINCT birth) FROM `+registry+` r WHERE birth <> ''`).Scan(&out.dates); err != nil {
		return nil, fmt.Errorf("match: registry birth dates: %w", err)
	}
	rows, err := conn.QueryContext(ctx, `SELECT pinyin, count(*) FROM `+registry+` r WHERE pinyin IN (SELECT pinyin FROM _rn) GROUP BY pinyin`)
	if err != nil {
		return nil, fmt.Errorf("match: namesakes in the registry: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var name string
		var c int
		if err := rows.Scan(&name, &c); err != nil {
			return nil, err
		}
		out.count[name] = c
	}
	return out, rows.Err()
}

// sides is what a stage scores: the persons it links to, then the records.
type sides struct {
	people []Person
	split  int // people[:split] are the persons
}

func (sd sides) records() []Person { return sd.people[sd.split:] }

// scoreAgainst scores each record against the persons (u from the random
// sample against the records) and returns each record's best candidate.
func scoreAgainst(sd sides, sample []Person, sc scoring) ([]scored, fitted) {
	model := stageModel(sample, sd.records(), sc.kept)
	people, split := sd.people, sd.split
	for i := range people {
		people[i].prepare()
	}
	pairs := model.Fit(people, split, BlockingRules(false), minTrainPairs)
	fit := fitted{model: model, pairs: len(pairs), trained: len(pairs) >= minTrainPairs}
	return judge(model, people, split, sc.names, pairs), fit
}

// stageModel is a stage's model before its pairs: u from the random
// sample against the records (a seeded draw, so the same records give
// the same u), m and the prior from what an earlier run kept.
func stageModel(sample, records []Person, k *kept) *Model {
	forU := append(append(make([]Person, 0, len(sample)+len(records)), sample...), records...)
	model := NewModel(Comparisons(false), forU, len(sample), rand.New(rand.NewPCG(1, 2)))
	k.use(model)
	return model
}

// judge takes each record's best pair (the records are people[split:])
// and says how sure the model is of it. With names, a bare
// name-and-birth-date agreement on a common name is not sure without
// something more (phone, region, address).
func judge(model *Model, people []Person, split int, names *namesakes, pairs []Pair) []scored {
	nameAt, birthAt, idAt := comparisonIndex(model, "name"), comparisonIndex(model, "birth_date"), comparisonIndex(model, "id_number")
	phoneAt, regionAt, addrAt := comparisonIndex(model, "phone"), comparisonIndex(model, "region"), comparisonIndex(model, "address")
	best, second := rankPerRight(pairs)
	var out []scored
	for _, p := range best {
		name, birth, id := p.Levels[nameAt], p.Levels[birthAt], p.Levels[idAt]
		w2, ok := second[p.B]
		corroborated := p.Levels[phoneAt] == 0 || p.Levels[regionAt] == 0 || p.Levels[regionAt] == 1 || p.Levels[addrAt] == 0 ||
			p.Levels[idAt] == 3 // what Excel left of the ID agrees
		nameAndBirth := (name == 0 || name == 1) && birth == 0 && (corroborated || !names.common(people[p.B].pinyin))
		out = append(out, scored{
			record: p.B - split, person: p.A, prob: Prob(p.Weight), terms: model.Explain(people, &p),
			sure:      nameAndBirth || id == 1 && name >= 0 && name <= 2 && birth >= 0 && birth <= 4,
			ambiguous: ok && p.Weight-w2 < ambiguousBits,
		})
	}
	return out
}

// scoreStage scores records for one stage (registry or outside) with
// score, starting from the model the stage kept, and keeps the model
// again when this run had pairs enough to train it.
func scoreStage[T any](ctx context.Context, conn *sql.Conn, stage string, score func(*kept) ([]T, fitted, error)) ([]T, error) {
	k, err := loadModel(ctx, conn, stage)
	if err != nil {
		return nil, err
	}
	out, fit, err := score(k)
	if err != nil {
		return nil, err
	}
	if fit.trained {
		if err := saveModel(ctx, conn, stage, fit.model, fit.pairs, time.Now()); err != nil {
			return nil, fmt.Errorf("match: keep the %s model: %w", stage, err)
		}
	}
	return out, nil
}

func comparisonIndex(m *Model, name string) int {
	for i, c := range m.Comparisons {
		if c.Name == name {
			return i
		}
	}
	panic("match: no comparison " + name)
}

// resolution is what resolve decided for one record.
type resolution struct {
	version                  int64
	source, key, method      string
	id, household, candidate string
	score                    float64
	weights, problem         string
}

// applyResolutions writes the decisions in one statement through a
// temporary table (an UPDATE a record would take seconds per thousand).
func applyResolutions(ctx context.Context, conn *sql.Conn, rs []resolution, at time.Time) error {
	if len(rs) == 0 {
		return nil
	}
	if _, err := conn.ExecContext(ctx, `CREATE OR REPLACE TEMP TABLE _resolved (source VARCHAR, record_key VARCHAR, method VARCHAR,
		id_number VARCHAR, household_id VARCHAR, candidate VARCHAR, score DOUBLE, weights VARCHAR, problem VARCHAR)`); err != nil {
		return err
	}
	app, err := store.NewAppender(conn, "_resolved")
	if err != nil {
		return err
	}
	for _, r := range rs {
		if err := app.AppendRow(r.source, r.key, r.method, nullIf(r.id), nullIf(r.household), nullIf(r.candidate), r.score, nullIf(r.weights), nullIf(r.problem)); err != nil {
			app.Close()
			return err
		}
	}
	if err := app.Close(); err != nil {
		return err
	}
	_, err = conn.ExecContext(ctx, `UPDATE match_links SET method = r.method, id_number = r.id_number, household_id = r.household_id,
		candidate = r.candidate, score = r.score, weights = r.weights, problem = coalesce(r.problem, match_links.problem), linked_at = ?
		FROM _resolved r WHERE match_links.source = r.source AND match_links.record_key = r.record_key`, at)
	if err != nil {
		return fmt.Errorf("match: store resolutions: %w", err)
	}
	_, err = conn.ExecContext(ctx, `DROP TABLE _resolved`)
	return err
}

// ambiguousBits: a best candidate less than 8 times likelier than the
// runner-up is not linked without a person.
const ambiguousBits = 3

// minTrainPairs: below it the starting m values are kept rather than
// fitted to too few pairs.
const minTrainPairs = 2000

func nullIf(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func loadUnlinked(ctx context.Context, conn *sql.Conn, sources string) ([]unlinkedRecord, error) {
	rows, err := conn.QueryContext(ctx, fmt.Sprintf(unlinkedRecords, sources))
	if err != nil {
		return nil, fmt.Errorf("match: unlinked records: %w", err)
	}
	return scanUnlinked(rows)
}

// scanUnlinked reads records as unlinkedRecords and leftovers give them.
func scanUnlinked(rows *sql.Rows) ([]unlinkedRecord, error) {
	defer rows.Close()
	var out []unlinkedRecord
	for rows.Next() {
		var r unlinkedRecord
		if err := rows.Scan(&r.source, &r.key, &r.rawID, &r.Name, &r.Sex, &r.Birth, &r.version, &r.IDPrefix); err != nil {
			return nil, err
		}
		r.Key, r.IDNumber = r.source+":"+r.key, r.rawID
		if _, excel := ExcelPrefix(r.rawID); excel {
			r.IDNumber = "" // what is left of it is IDPrefix
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// repairPeople notes in each repairable record the valid IDs one typo
// from its own (unlinkedRecord.repairs) and reads the active registry
// persons holding one of them.
func repairPeople(ctx context.Context, conn *sql.Conn, registry string, recs []unlinkedRecord) ([]Person, []string, error) {
	if _, err := conn.ExecContext(ctx, `CREATE OR REPLACE TEMP TABLE _repairs (id VARCHAR)`); err != nil {
		return nil, nil, err
	}
	defer conn.ExecContext(ctx, `DROP TABLE IF EXISTS _repairs`)
	app, err := store.NewAppender(conn, "_repairs")
	if err != nil {
		return nil, nil, err
	}
	for i := range recs {
		r := &recs[i]
		r.prepare()
		if !repairable(r.rawID) {
			continue
		}
		r.repairs = repairCandidates(Clean(r.rawID))
		for _, c := range r.repairs {
			if err := app.AppendRow(c); err != nil {
				app.Close()
				return nil, nil, err
			}
		}
	}
	if err := app.Close(); err != nil {
		return nil, nil, err
	}
	return scanRegistry(ctx, conn, `SELECT `+registryColumns+` FROM `+registry+` SEMI JOIN _repairs ON id_number = id`, 0)
}

// registrySample is a random sample of registry persons, for u: the same
// on every run over the same registry (DuckDB's seeded reservoir is not,
// on more than one thread), so that a run's scores can be made again.
func registrySample(ctx context.Context, conn *sql.Conn, registry string) ([]Person, []string, error) {
	return scanRegistry(ctx, conn, `SELECT `+registryColumns+` FROM `+registry+` ORDER BY hash(id_number), id_number LIMIT 20000`, 0)
}

// scanRegistry reads the persons q selects (registryColumns) and their
// households, in ID order. A person in two active households belongs to
// the first (as in exact linking). They are counted first, so that the
// millions a province loads are read into one slice of the right size,
// with room for more, instead of one that grows and is copied.
func scanRegistry(ctx context.Context, conn *sql.Conn, q string, room int) ([]Person, []string, error) {
	if _, err := conn.ExecContext(ctx, `CREATE OR REPLACE TEMP TABLE _scanned AS
		SELECT DISTINCT ON (id_number) * FROM (`+q+`) ORDER BY id_number, household_id`); err != nil {
		return nil, nil, fmt.Errorf("match: registry persons: %w", err)
	}
	defer conn.ExecContext(ctx, `DROP TABLE IF EXISTS _scanned`)
	var n int
	if err := conn.QueryRowContext(ctx, `SELECT count(*) FROM _scanned`).Scan(&n); err != nil {
		return nil, nil, fmt.Errorf("match: registry persons: %w", err)
	}
	rows, err := conn.QueryContext(ctx, `SELECT `+registryColumns+` FROM _scanned ORDER BY id_number`)
	if err != nil {
		return nil, nil, fmt.Errorf("match: registry persons: %w", err)
	}
	defer rows.Close()
	people, households := make([]Person, 0, n+room), make([]string, 0, n)
	for rows.Next() {
		var p Person
		var household string
		if err := rows.Scan(&p.IDNumber, &household, &p.Name, &p.Sex, &p.Birth, &p.pinyin, &p.surnamePY); err != nil {
			return nil, nil, fmt.Errorf("match: registry persons: %w", err)
		}
		p.Key = p.IDNumber
		people, households = append(people, p), append(households, household)
	}
	return people, households, rows.Err()
}

// registryVersion changes whenever the registry does: a new delivery of
// households or members. Resolutions made against another version are
// made again, so a changed registry person re-links what they should.
func registryVersion(ctx context.Context, conn *sql.Conn) (string, error) {
	var v string
	err := conn.QueryRowContext(ctx, `SELECT (SELECT coalesce(max(batch_id), 0) || '/' || count(*) FROM members) || ':' ||
		(SELECT coalesce(max(batch_id), 0) || '/' || count(*) FROM households)`).Scan(&v)
	return v, err
}

// loadResolved reads the last run's outcomes made against this registry version.
func loadResolved(ctx context.Context, conn *sql.Conn, regVersion string) (map[string]resolution, error) {
	rows, err := conn.QueryContext(ctx, `SELECT source, record_key, version, method, coalesce(id_number, ''), coalesce(household_id, ''),
		coalesce(candidate, ''), coalesce(score, 0), coalesce(weights, ''), coalesce(problem, '') FROM match_resolved WHERE registry_version = ?`, regVersion)
	if err != nil {
		return nil, fmt.Errorf("match: earlier resolutions: %w", err)
	}
	defer rows.Close()
	out := map[string]resolution{}
	for rows.Next() {
		var r resolution
		if err := rows.Scan(&r.source, &r.key, &r.version, &r.method, &r.id, &r.household, &r.candidate, &r.score, &r.weights, &r.problem); err != nil {
			return nil, err
		}
		out[r.source+"|"+r.key] = r
	}
	return out, rows.Err()
}

// clearResolved drops the outcomes this run replaces: all of them, or,
// in an incremental run, those of the records it read, of the records
// it linked anew, and any made against another registry.
func clearResolved(ctx context.Context, conn *sql.Conn, all []unlinkedRecord, regVersion string, sc scope) error {
	if !sc.delta {
		_, err := conn.ExecContext(ctx, `DELETE FROM match_resolved`)
		return err
	}
	if _, err := conn.ExecContext(ctx, `CREATE OR REPLACE TEMP TABLE _read (source VARCHAR, record_key VARCHAR)`); err != nil {
		return err
	}
	app, err := store.NewAppender(conn, "_read")
	if err != nil {
		return err
	}
	for _, r := range all {
		if err := app.AppendRow(r.source, r.key); err != nil {
			app.Close()
			return err
		}
	}
	if err := app.Close(); err != nil {
		return err
	}
	_, err = conn.ExecContext(ctx, `DELETE FROM match_resolved WHERE registry_version <> ?
		OR (source, record_key) IN (SELECT source, record_key FROM _read)
		OR (source, record_key) IN (SELECT source, record_key FROM _todo)`, regVersion)
	return err
}

// saveResolved keeps this run's registry outcome for every record without
// a usable ID ("none" where the registry had no one for it).
func saveResolved(ctx context.Context, conn *sql.Conn, all []unlinkedRecord, outcome map[string]resolution, regVersion string, sc scope) error {
	// An incremental run read only the records of new batches: the
	// outcomes of the others stay.
	if err := clearResolved(ctx, conn, all, regVersion, sc); err != nil {
		return err
	}
	app, err := store.NewColumnAppender(conn, "match_resolved", []string{"source", "record_key", "version", "registry_version", "method",
		"id_number", "household_id", "candidate", "score", "weights", "problem", "raw_id", "name", "sex", "birth", "id_prefix", "block_keys"})
	if err != nil {
		return err
	}
	for i := range all {
		r := &all[i]
		o, ok := outcome[r.source+"|"+r.key]
		if !ok {
			o = resolution{method: "none"}
		}
		// A record the registry has no one for keeps its form and keys,
		// for later runs to compare with people new records name.
		var raw, name, sex, birth, prefix, keys any
		if o.method == "none" {
			p := r.scoredForm()
			raw, name, sex, birth, prefix, keys = r.rawID, r.Name, r.Sex, r.Birth, r.IDPrefix, blockKeys(&p)
		}
		if err := app.AppendRow(r.source, r.key, r.version, regVersion, o.method, nullIf(o.id), nullIf(o.household), nullIf(o.candidate),
			o.score, nullIf(o.weights), nullIf(o.problem), raw, name, sex, birth, prefix, keys); err != nil {
			app.Close()
			return err
		}
	}
	return app.Close()
}

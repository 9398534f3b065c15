package match

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"slices"
	"strings"

	"safetynet/store"
)

// The registry stage compares the records without a usable ID with the
// registry persons sharing a blocking key with them. At a province those
// persons are millions (1.54M for the 173,634 such records of one month
// of 5M persons): held at once they were most of the process's Go memory,
// and kept the collector running. So the records are scored a part at a
// time, each part with only its own candidates in memory, in two passes.
// The first blocks and compares each part and keeps only what training
// reads: level patterns, and each rule's first pairs in the order one
// blocking of every record would give them. The model is trained once.
// The second pass blocks each part again and scores it. The outcome is
// the one scoring every record at once gives.

// registryPart is how many records a part holds. A part is of records
// born near each other (every key the registry is read by holds the
// birth date or year), so that parts share few candidates. At a province
// a record has about nine: a part holds some 120,000 persons.
const registryPart = 12_500

// registrySizes are the part size and the pairs of a rule training reads;
// tests make them small.
var registrySizes = struct{ part, trainPairs int }{registryPart, maxTrainPairs}

// registryScorer scores records against the registry a part at a time.
type registryScorer struct {
	ctx      context.Context
	conn     *sql.Conn
	registry string   // the table of registry persons (registryTable)
	records  []Person // in their scoring form
	size     int      // records a part holds
	parts    [][]int  // each part's records, by index, in their order
	limit    int      // the pairs of a rule training reads (maxTrainPairs)
	rules    []BlockingRule
	rights   []map[string]int // per rule, how many of all the records have each key
}

// registryMatch is a record's best registry candidate and how sure the
// model is: the candidate by ID and household, as its part is gone.
type registryMatch struct {
	scored
	candidate
}

func newRegistryScorer(ctx context.Context, conn *sql.Conn, records []Person) *registryScorer {
	rs := &registryScorer{ctx: ctx, conn: conn, registry: registryTable, records: records, size: registrySizes.part,
		limit: registrySizes.trainPairs, rules: BlockingRules(false)}
	rs.countKeys()
	rs.split()
	return rs
}

// countKeys counts, per rule, how many of all the records have each key.
func (rs *registryScorer) countKeys() {
	rs.rights = make([]map[string]int, len(rs.rules))
	for ri, r := range rs.rules {
		rs.rights[ri] = map[string]int{}
		for i := range rs.records {
			if k := r.Key(&rs.records[i]); k != "" {
				rs.rights[ri][k]++
			}
		}
	}
}

// split makes the parts: the records by birth date, cut every rs.size,
// each part's records then in their own order.
func (rs *registryScorer) split() {
	byBirth := make([]int, len(rs.records))
	for i := range byBirth {
		byBirth[i] = i
	}
	slices.SortStableFunc(byBirth, func(a, b int) int { return strings.Compare(rs.records[a].Birth, rs.records[b].Birth) })
	for lo := 0; lo < len(byBirth); lo += rs.size {
		p := slices.Clone(byBirth[lo:min(lo+rs.size, len(byBirth))])
		slices.Sort(p)
		rs.parts = append(rs.parts, p)
	}
}

// score trains the model (from kept, when a run kept one) on every part's
// pairs, then scores each part, and returns each record's best candidate.
func (rs *registryScorer) score(sample []Person, names *namesakes, k *kept) ([]registryMatch, fitted, error) {
	model := stageModel(sample, rs.records, k)
	if err := rs.findCandidates(); err != nil {
		return nil, fitted{}, err
	}
	defer rs.conn.ExecContext(rs.ctx, `DROP TABLE IF EXISTS _cand`)
	tr := newRegistryTraining(rs.rules, rs.limit)
	var pt part
	var err error
	for p := range rs.parts {
		if pt, err = rs.block(model, p); err != nil {
			return nil, fitted{}, err
		}
		tr.add(pt)
	}
	model.learn(rs.rules, tr, tr.pairs, minTrainPairs)
	fit := fitted{model: model, pairs: tr.pairs, trained: tr.pairs >= minTrainPairs}
	var out []registryMatch
	for p := range rs.parts {
		// One part (a county's month) is scored as the first pass left it.
		if len(rs.parts) > 1 {
			if pt, err = rs.block(model, p); err != nil {
				return nil, fitted{}, err
			}
		}
		model.Score(pt.people, pt.pairs)
		for _, s := range judge(model, pt.people, pt.split, names, pt.pairs) {
			c := candidate{id: pt.people[s.person].IDNumber, household: pt.households[s.person]}
			s.record = pt.records[s.record]
			out = append(out, registryMatch{scored: s, candidate: c})
		}
	}
	slices.SortFunc(out, func(a, b registryMatch) int { return a.record - b.record })
	return out, fit, nil
}

// findCandidates writes, for each part, the IDs of the registry persons
// sharing a blocking key with one of its records to _cand (part, ID).
func (rs *registryScorer) findCandidates() error {
	if _, err := rs.conn.ExecContext(rs.ctx, `CREATE OR REPLACE TEMP TABLE _rk (part INTEGER, birth VARCHAR, surname_py VARCHAR, pinyin VARCHAR, year VARCHAR, head VARCHAR)`); err != nil {
		return fmt.Errorf("match: registry candidates: %w", err)
	}
	defer rs.conn.ExecContext(rs.ctx, `DROP TABLE IF EXISTS _rk`)
	app, err := store.NewAppender(rs.conn, "_rk")
	if err != nil {
		return err
	}
	for p, idx := range rs.parts {
		for _, i := range idx {
			if err := appendKeys(app, p, &rs.records[i]); err != nil {
				app.Close()
				return err
			}
		}
	}
	if err := app.Close(); err != nil {
		return err
	}
	// Only (part, ID): the persons' columns are read a part at a time,
	// as a sort of every candidate's would cost more than all the parts.
	_, err = rs.conn.ExecContext(rs.ctx, `CREATE OR REPLACE TEMP TABLE _cand AS
		SELECT DISTINCT part, id_number FROM (
			SELECT k.part, reg.id_number FROM `+rs.registry+` reg JOIN (SELECT DISTINCT part, birth, surname_py FROM _rk) k ON reg.birth = k.birth AND reg.surname_py = k.surname_py
			UNION ALL SELECT k.part, reg.id_number FROM `+rs.registry+` reg JOIN (SELECT DISTINCT part, pinyin, year FROM _rk) k ON reg.pinyin = k.pinyin AND reg.year = k.year
			UNION ALL SELECT k.part, reg.id_number FROM `+rs.registry+` reg JOIN (SELECT DISTINCT part, head FROM _rk) k ON reg.head = k.head)`)
	if err != nil {
		return fmt.Errorf("match: registry candidates: %w", err)
	}
	return nil
}

// appendKeys writes a record's keys for part p to _rk.
func appendKeys(app interface{ AppendRow(...driver.Value) error }, p int, r *Person) error {
	var year any
	if len(r.Birth) == 8 {
		year = r.Birth[:4]
	}
	return app.AppendRow(int32(p), nullIf(r.Birth), nullIf(r.surnamePY), nullIf(r.pinyin), year, nullIf(idHead(r)))
}

// part is one part's people (its registry candidates by ID, then its
// records), their pairs compared, and which records it holds.
type part struct {
	people     []Person
	households []string // of people[:split]
	split      int
	records    []int // its records' indexes among all the records
	blocked
}

// block reads part p's candidates, blocks them with its records and
// compares the pairs.
func (rs *registryScorer) block(model *Model, p int) (part, error) {
	idx := rs.parts[p]
	people, households, err := scanRegistry(rs.ctx, rs.conn, fmt.Sprintf(`SELECT %s FROM %s SEMI JOIN (SELECT id_number FROM _cand WHERE part = %d) c USING (id_number)`, registryColumns, rs.registry, p), len(idx))
	if err != nil {
		return part{}, err
	}
	split := len(people)
	for i := range people {
		people[i].prepare()
	}
	for _, i := range idx {
		people = append(people, rs.records[i])
	}
	b := blockLinkage(people, split, rs.rules, rs.rights)
	model.Compare(people, b.pairs)
	return part{people: people, households: households, split: split, records: idx, blocked: b}, nil
}

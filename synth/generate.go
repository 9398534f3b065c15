package synth

import (
	"fmt"
	"time"
)

// Options size and seed a county.
type Options struct {
	Seed       uint64
	AsOf       time.Time // the day the data is "as of"; rules are evaluated then
	Households int       // background registry households
	Records    int       // background department records, spread over the four departments
	Outsiders  int       // people outside the registry who appear in department data
	Noise      float64   // share of department IDs written in a noisy but readable form
	// NoID is the share of records about registry members that a
	// department sends without an ID (name, sex and birth date only), as in
	// a village where the clinic never asks for one.
	NoID float64
	UTF8 bool // write the medical-insurance CSV in UTF-8 instead of GB18030 (for benchmarks against DuckDB's reader)
	// Days is how many days before AsOf the background records spread
	// over: 700 when zero.
	Days int
	// Area is the county's 6-digit GB/T 2260 code: its people's IDs,
	// households, addresses and record numbers are its own, so counties of
	// one province can be delivered side by side. DefaultArea when empty.
	Area string
}

// DefaultArea is the county made when Options.Area is empty: 余杭区.
const DefaultArea = "330110"

// DefaultOptions is the demo's county: small enough to generate in a blink.
func DefaultOptions(asOf time.Time) Options {
	return Options{Seed: 20261122, AsOf: asOf, Households: 2000, Records: 20000, Outsiders: 3000, Noise: 0.02}
}

// Expected is one alert a correct pipeline raises (or, in near misses, must not).
type Expected struct {
	RuleID      string `json:"rule_id"`
	HouseholdID string `json:"household_id,omitempty"`
	IDNumber    string `json:"id_number,omitempty"`
	Severity    string `json:"severity,omitempty"`
	Note        string `json:"note"`
}

// Key identifies the alert: rule and subject.
func (e Expected) Key() string {
	if e.HouseholdID != "" {
		return e.RuleID + "|household:" + e.HouseholdID
	}
	return e.RuleID + "|person:" + e.IDNumber
}

// written is how a department wrote a record's person where a planted
// case needs it so: an ID in one of the forms offices send, or none; a
// name in other characters; another sex (an ID typed into the wrong row).
type written struct {
	idAs   string // the ID as written; "" writes the person's ID (now and then noisy)
	noID   bool   // no ID: name, sex and birth date only
	nameAs string
	sexAs  string // 男 or 女, when not the person's
}

type medinsRec struct {
	written
	id    string
	p     *person
	visit string
	date  time.Time
	total float64
	oop   float64
	diag  string
}

type healthRec struct {
	written
	id       string
	p        *person
	kind     string // 住院, 门诊, 死亡, 严重精神障碍
	date     time.Time
	diag     string
	diagName string
}

type eduRec struct {
	written
	id     string
	p      *person
	status string // 在校, 休学, 辍学, 毕业, 转出
	date   time.Time
	grade  string
}

type disRec struct {
	written
	id     string
	p      *person
	kind   string
	level  int
	issued time.Time
	change string // 新办, 变更, 注销
}

// County is a generated county, ready to be written.
type County struct {
	opt        Options
	c          *county
	Households []*household
	outsiders  []*person
	medins     []medinsRec
	health     []healthRec
	edu        []eduRec
	dis        []disRec
	disUpdate  []disRec // a later delivery: revocations
	Expected   []Expected
	NearMisses []Expected
	seq        int
	recSeq     int
}

// Generate builds a county in memory.
func Generate(opt Options) (*County, error) {
	if opt.Area == "" {
		opt.Area = DefaultArea
	}
	c, err := newCounty(opt.Seed, opt.Area)
	if err != nil {
		return nil, err
	}
	g := &County{opt: opt, c: c}
	g.plant()
	g.plantForms()
	g.background()
	return g, nil
}

func (g *County) day(ago int) time.Time { return g.opt.AsOf.AddDate(0, 0, -ago) }

func (g *County) nextRec(prefix string) string {
	g.recSeq++
	return fmt.Sprintf("%s%s%08d", prefix, g.c.area, g.recSeq)
}

// household adds a registry household; planted ones are kept away from background records.
func (g *County) household(tier string, n, kids int, planted bool) *household {
	g.seq++
	h := g.c.newHousehold(g.seq, tier, n, kids, g.opt.AsOf)
	h.planted = planted
	g.Households = append(g.Households, h)
	return h
}

func (g *County) outsider(minAge, maxAge int) *person {
	return g.c.person("", "", minAge, maxAge, g.opt.AsOf)
}

var commonDiag = [][2]string{{"J06", "急性上呼吸道感染"}, {"K29", "胃炎"}, {"M54", "背痛"}, {"E11", "2型糖尿病"}, {"I10", "原发性高血压"}, {"S52", "前臂骨折"}, {"J18", "肺炎"}, {"K80", "胆石症"}}

// background adds ordinary households and records that raise nothing.
func (g *County) background() {
	tiers := []string{"dibao", "dibao", "dibao", "dibao", "tekun", "edge", "edge", "expenditure", "monitor", "monitor"}
	var pool []*person
	for i := 0; i < g.opt.Households; i++ {
		tier := tiers[g.c.rng.IntN(len(tiers))]
		n := 1 + g.c.rng.IntN(5)
		if tier == "tekun" {
			n = 1
		}
		h := g.household(tier, n, 2, false)
		if g.c.rng.IntN(50) == 0 {
			h.Status = "terminated"
		}
		pool = append(pool, h.Members...)
	}
	for i := 0; i < g.opt.Outsiders; i++ {
		p := g.outsider(1, 85)
		g.outsiders = append(g.outsiders, p)
		pool = append(pool, p)
	}
	if len(pool) == 0 {
		return
	}
	days := g.opt.Days
	if days <= 0 {
		days = 700
	}
	for i := 0; i < g.opt.Records; i++ {
		p := pool[g.c.rng.IntN(len(pool))]
		date := g.day(g.c.rng.IntN(days))
		d := commonDiag[g.c.rng.IntN(len(commonDiag))]
		switch k := g.c.rng.IntN(10); {
		case k < 6: // medical settlements are the bulk
			oop := float64(10 + g.c.rng.IntN(290))
			visit := "门诊"
			if g.c.rng.IntN(5) == 0 {
				visit = "住院"
			}
			g.medins = append(g.medins, medinsRec{id: g.nextRec("JS"), p: p, visit: visit, date: date, total: oop * 4, oop: oop, diag: d[0]})
		case k < 8:
			kind := "门诊"
			if g.c.rng.IntN(3) == 0 {
				kind = "住院"
			}
			g.health = append(g.health, healthRec{id: g.nextRec("BA"), p: p, kind: kind, date: date, diag: d[0], diagName: d[1]})
		case k < 9:
			status := []string{"在校", "在校", "在校", "毕业", "转出"}[g.c.rng.IntN(5)]
			g.edu = append(g.edu, eduRec{id: g.nextRec("XJ"), p: p, status: status, date: date, grade: fmt.Sprintf("%d年级", 1+g.c.rng.IntN(9))})
		default:
			g.dis = append(g.dis, disRec{id: g.nextRec("CJ"), p: p, kind: []string{"视力", "听力", "肢体", "言语"}[g.c.rng.IntN(4)],
				level: 3 + g.c.rng.IntN(2), issued: date, change: "新办"})
		}
	}
}

func (g *County) expect(rule string, h *household, p *person, sev, note string) {
	e := Expected{RuleID: rule, Severity: sev, Note: note}
	if h != nil {
		e.HouseholdID = h.ID
	} else {
		e.IDNumber = string(p.ID)
	}
	g.Expected = append(g.Expected, e)
}

func (g *County) miss(rule string, h *household, p *person, note string) {
	e := Expected{RuleID: rule, Note: note}
	if h != nil {
		e.HouseholdID = h.ID
	} else {
		e.IDNumber = string(p.ID)
	}
	g.NearMisses = append(g.NearMisses, e)
}

// idText is how a department writes a person's ID: as the planted case
// says, else now and then noisy, and for registry members at the NoID
// share not at all.
func (g *County) idText(p *person, w written) string {
	switch {
	case w.noID:
		return ""
	case w.idAs != "":
		return w.idAs
	case p.Relation != "" && g.opt.NoID > 0 && g.c.rng.Float64() < g.opt.NoID:
		return ""
	case g.c.rng.Float64() < g.opt.Noise:
		return g.c.noisyID(p.ID)
	}
	return string(p.ID)
}

// nameText and sexText are the name and sex a record gives.
func nameText(p *person, w written) string {
	if w.nameAs != "" {
		return w.nameAs
	}
	return p.Name
}

func sexOf(p *person, w written) string {
	if w.sexAs != "" {
		return w.sexAs
	}
	return sexText(p.Male)
}

func perCapita(h *household) float64 { return h.Income / float64(len(h.Members)) }

package synth

import (
	"math"

	"github.com/longbridgeapp/opencc"
)

// plantForms adds the cases that rest on how offices really write their
// files: no ID, names in traditional characters, IDs Excel stored as
// numbers or escaped as text, an ID typed into a stranger's row, incomes
// in 万 or unreadable. Each one is found, or must not be, exactly as the
// cases written plainly.
func (g *County) plantForms() {
	trad := toTraditional()
	settle := func(p *person, w written, ago int, oop float64) {
		g.medins = append(g.medins, medinsRec{written: w, id: g.nextRec("JS"), p: p, visit: "住院", date: g.day(ago), total: oop * 3, oop: oop, diag: "S72"})
	}
	{ // no ID, the name in traditional characters: name, sex and birth date find her
		h := g.household("dibao", 3, 1, true)
		p := h.Members[1]
		settle(p, written{noID: true, nameAs: trad(p.Name)}, 8, math.Ceil(perCapita(h)*2.5))
		g.expect("temporary_assistance", h, nil, "critical", "a bill with no ID, the name in traditional characters")
	}
	{ // the ID went through a number cell: what Excel left, with the name, finds him
		h := g.household("dibao", 2, 0, true)
		p := h.Members[0]
		settle(p, written{idAs: ExcelNumber(string(p.ID))}, 12, math.Ceil(perCapita(h)*1.5))
		g.expect("temporary_assistance", h, nil, "high", "an ID in Excel's number form")
	}
	{ // escaped so that Excel keeps it as text
		h := g.household("edge", 2, 0, true)
		g.dis = append(g.dis, disRec{written: written{idAs: `="` + string(h.Members[0].ID) + `"`}, id: g.nextRec("CJ"), p: h.Members[0],
			kind: "肢体", level: 1, issued: g.day(20), change: "新办"})
		g.expect("severe_disability", h, nil, "high", `an ID written ="…"`)
	}
	{ // a member's exact ID typed into a stranger's row, under the stranger's name and sex
		h := g.household("edge", 2, 0, true)
		stranger := g.outsider(30, 60)
		sex := sexText(!h.Members[0].Male)
		for _, ago := range []int{10, 40} {
			settle(stranger, written{idAs: string(h.Members[0].ID), sexAs: sex}, ago, h.Income)
		}
		g.miss("temporary_assistance", h, nil, "a stranger's bills carry a member's ID")
		g.miss("expenditure_hardship", h, nil, "a stranger's bills carry a member's ID")
	}
	{ // income written in ten thousands: assessed on its value
		h := g.household("edge", 2, 0, true)
		h.Income = 36000
		h.IncomeText = "3.6万"
		for _, ago := range []int{60, 150, 250} {
			settle(h.Members[0], written{}, ago, math.Floor(perCapita(h)*0.6)) // under per-capita each; 1.8 × per-capita in all
		}
		g.expect("expenditure_hardship", h, nil, "high", "income written 3.6万")
	}
	{ // income nobody can read: the household stays, its income unknown, never read as zero
		h := g.household("edge", 2, 0, true)
		h.IncomeText = "不详"
		for _, ago := range []int{10, 150} {
			settle(h.Members[0], written{}, ago, 9000)
		}
		g.dis = append(g.dis, disRec{id: g.nextRec("CJ"), p: h.Members[1], kind: "视力", level: 2, issued: g.day(30), change: "新办"})
		g.expect("severe_disability", h, nil, "high", "a household whose income could not be read is still in the registry")
		g.expect("temporary_assistance", h, nil, "critical", "a large bill and an unknown income: the county decides (RULES.md)")
		g.miss("expenditure_hardship", h, nil, "income unknown, not zero")
	}
	{ // outside the registry: the second signal comes without an ID, in traditional characters
		p := g.outsider(30, 60)
		g.dis = append(g.dis, disRec{id: g.nextRec("CJ"), p: p, kind: "肢体", level: 1, issued: g.day(200), change: "新办"})
		g.health = append(g.health, healthRec{written: written{noID: true, nameAs: trad(p.Name)}, id: g.nextRec("BA"), p: p, kind: "住院",
			date: g.day(100), diag: "C34.1", diagName: "支气管和肺恶性肿瘤"})
		g.expect("discovery", nil, p, "high", "severe disability, and cancer reported without an ID")
	}
	{ // a namesake born years apart, without an ID: not the member
		h := g.household("dibao", 2, 0, true)
		twin := g.outsider(20, 25)
		twin.Name = h.Members[0].Name
		settle(twin, written{noID: true}, 5, math.Ceil(perCapita(h)*3))
		g.miss("temporary_assistance", h, nil, "a namesake without an ID, born years apart")
	}
}

// ExcelNumber is an ID as Excel shows it once it sits in a number cell.
func ExcelNumber(id string) string { return id[:1] + "." + id[1:15] + "E+17" }

// toTraditional writes simplified characters as traditional ones, with
// OpenCC's tables.
func toTraditional() func(string) string {
	cc, err := opencc.New("s2t")
	if err != nil {
		panic("synth: OpenCC's s2t tables do not load: " + err.Error())
	}
	return func(s string) string {
		out, err := cc.Convert(s)
		if err != nil {
			return s
		}
		return out
	}
}

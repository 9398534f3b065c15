package synth

import "math"

// plant adds the cases every rule must find and the near misses it must
// not alert on. Each case gets households of its own, so one case never
// feeds another rule by accident; where a case does raise a second rule
// on purpose, both alerts are expected.
func (g *County) plant() {
	line := 12 * standardMonthly
	settle := func(h *household, p *person, ago int, oop float64, diag string) {
		g.medins = append(g.medins, medinsRec{id: g.nextRec("JS"), p: p, visit: "住院", date: g.day(ago), total: oop * 3, oop: oop, diag: diag})
	}

	// expenditure_hardship: medical spending pushes an edge-type household below the line.
	for i, tier := range []string{"edge", "expenditure", "monitor", "edge"} {
		h := g.household(tier, 2+i%3, 1, true)
		n := float64(len(h.Members))
		need := h.Income - line*n*0.9 // after this much, per-capita is 90% of the line
		for k, part := range []float64{0.5, 0.3, 0.2} {
			oop := math.Ceil(need * part)
			if oop >= perCapita(h) { // keep each bill under per-capita income: not a temporary_assistance case
				oop = math.Floor(perCapita(h) * 0.9)
			}
			settle(h, h.Members[k%len(h.Members)], 60+k*90, oop, "K80")
			need -= oop
		}
		for need > 0 { // whatever the cap left over, in more small bills
			oop := math.Min(need, math.Floor(perCapita(h)*0.9))
			settle(h, h.Members[0], 100, oop, "K80")
			need -= oop
		}
		g.expect("expenditure_hardship", h, nil, "high", "medical spending below the line")
	}
	{ // just above the line
		h := g.household("edge", 3, 1, true)
		spend := h.Income - line*3*1.05
		for spend > 0 {
			oop := math.Min(spend, math.Floor(perCapita(h)*0.9))
			settle(h, h.Members[0], 120, oop, "K80")
			spend -= oop
		}
		g.miss("expenditure_hardship", h, nil, "5% above the line after medical spending")
	}
	{ // the spending was more than a year ago
		h := g.household("monitor", 2, 0, true)
		spend := h.Income
		for spend > 0 {
			oop := math.Min(spend, math.Floor(perCapita(h)*0.9))
			settle(h, h.Members[0], 400, oop, "K80")
			spend -= oop
		}
		g.miss("expenditure_hardship", h, nil, "spending outside the 365-day window")
	}
	{ // a dibao household is not assessed by this rule
		h := g.household("dibao", 2, 0, true)
		settle(h, h.Members[0], 100, math.Floor(perCapita(h)*0.9), "K80")
		g.miss("expenditure_hardship", h, nil, "tier dibao")
	}

	// temporary_assistance: one bill in the last 30 days at r × per-capita income.
	for _, c := range []struct {
		r   float64
		sev string
	}{{1.5, "high"}, {2.5, "critical"}, {3.5, "critical"}, {6, "critical"}} {
		h := g.household("dibao", 3, 1, true)
		settle(h, h.Members[1], 10, math.Ceil(perCapita(h)*c.r), "S72")
		g.expect("temporary_assistance", h, nil, c.sev, "one large bill")
	}
	{ // no income at all counts as ratio ≥ 4
		h := g.household("tekun", 1, 0, true)
		h.Income = 0
		settle(h, h.Members[0], 5, 800, "S72")
		g.expect("temporary_assistance", h, nil, "critical", "no income")
	}
	{ // just under per-capita income
		h := g.household("dibao", 2, 0, true)
		settle(h, h.Members[0], 10, math.Floor(perCapita(h)*0.95), "S72")
		g.miss("temporary_assistance", h, nil, "bill at 95% of per-capita income")
	}
	{ // large, but 45 days ago
		h := g.household("dibao", 2, 0, true)
		settle(h, h.Members[0], 45, math.Ceil(perCapita(h)*2), "S72")
		g.miss("temporary_assistance", h, nil, "bill outside the 30-day window")
	}
	{ // a namesake outside the registry runs up a bill: the household must not get it
		h := g.household("dibao", 2, 0, true)
		twin := g.outsider(20, 60)
		twin.Name = h.Members[0].Name
		g.medins = append(g.medins, medinsRec{id: g.nextRec("JS"), p: twin, visit: "住院", date: g.day(8), total: 30000, oop: 9000, diag: "S72"})
		g.miss("temporary_assistance", h, nil, "namesake outside the registry with a large bill")
		g.miss("discovery", nil, twin, "one signal only (bill under the threshold)")
	}

	// severe_disability: a new or changed level 1–2 certificate in the last 90 days.
	for _, c := range []struct {
		tier, sev, change string
		level             int
	}{{"edge", "high", "新办", 1}, {"monitor", "high", "变更", 2}, {"dibao", "medium", "新办", 2}, {"tekun", "medium", "新办", 1}} {
		n := 3
		if c.tier == "tekun" {
			n = 1
		}
		h := g.household(c.tier, n, 1, true)
		g.dis = append(g.dis, disRec{id: g.nextRec("CJ"), p: h.Members[0], kind: "肢体", level: c.level, issued: g.day(20), change: c.change})
		g.expect("severe_disability", h, nil, c.sev, "new severe disability")
	}
	{
		h := g.household("edge", 2, 0, true)
		g.dis = append(g.dis, disRec{id: g.nextRec("CJ"), p: h.Members[0], kind: "视力", level: 3, issued: g.day(20), change: "新办"})
		g.miss("severe_disability", h, nil, "level 3 is not severe")
	}
	{
		h := g.household("edge", 2, 0, true)
		g.dis = append(g.dis, disRec{id: g.nextRec("CJ"), p: h.Members[0], kind: "视力", level: 1, issued: g.day(120), change: "新办"})
		g.miss("severe_disability", h, nil, "issued 120 days ago")
	}
	{ // issued, then revoked in a later delivery
		h := g.household("edge", 2, 0, true)
		id := g.nextRec("CJ")
		g.dis = append(g.dis, disRec{id: id, p: h.Members[0], kind: "肢体", level: 1, issued: g.day(60), change: "新办"})
		g.disUpdate = append(g.disUpdate, disRec{id: id, p: h.Members[0], kind: "肢体", level: 1, issued: g.day(10), change: "注销"})
		g.miss("severe_disability", h, nil, "revoked since")
	}

	// serious_illness: a listed diagnosis in the last 90 days, from health or medical insurance.
	{
		h := g.household("dibao", 3, 1, true)
		g.health = append(g.health, healthRec{id: g.nextRec("BA"), p: h.Members[0], kind: "住院", date: g.day(30), diag: "C34.1", diagName: "支气管和肺恶性肿瘤"})
		g.expect("serious_illness", h, nil, "high", "lung cancer admission")
	}
	{
		h := g.household("dibao", 2, 0, true)
		g.medins = append(g.medins, medinsRec{id: g.nextRec("JS"), p: h.Members[1], visit: "住院", date: g.day(40), total: 900, oop: 100, diag: "I63.9"})
		g.expect("serious_illness", h, nil, "high", "stroke settlement")
	}
	{
		h := g.household("dibao", 2, 0, true)
		g.health = append(g.health, healthRec{id: g.nextRec("BA"), p: h.Members[0], kind: "住院", date: g.day(120), diag: "C50", diagName: "乳房恶性肿瘤"})
		g.miss("serious_illness", h, nil, "diagnosis 120 days ago")
	}
	{
		h := g.household("dibao", 2, 0, true)
		g.health = append(g.health, healthRec{id: g.nextRec("BA"), p: h.Members[0], kind: "住院", date: g.day(10), diag: "C98", diagName: "（不在目录）"})
		g.miss("serious_illness", h, nil, "code just outside C00–C97")
	}

	// school_dropout: a child aged 6–15 out of school in the last 180 days.
	child := func(h *household, age int, eventAgo int) *person {
		p := g.c.person(string([]rune(h.Members[0].Name)[:1]), "子女", 0, 0, g.opt.AsOf)
		p.Birth = g.day(eventAgo).AddDate(-age, 0, -30)
		p.ID = g.c.id(p.Birth, p.Male)
		h.Members = append(h.Members, p)
		return p
	}
	for _, c := range []struct {
		status, sev string
		age         int
	}{{"辍学", "high", 10}, {"辍学", "high", 15}, {"休学", "medium", 12}} {
		h := g.household("dibao", 2, 0, true)
		p := child(h, c.age, 30)
		g.edu = append(g.edu, eduRec{id: g.nextRec("XJ"), p: p, status: c.status, date: g.day(30), grade: "五年级"})
		g.expect("school_dropout", h, nil, c.sev, "child out of school")
	}
	{
		h := g.household("dibao", 2, 0, true)
		p := child(h, 16, 30)
		g.edu = append(g.edu, eduRec{id: g.nextRec("XJ"), p: p, status: "辍学", date: g.day(30), grade: "高一"})
		g.miss("school_dropout", h, nil, "aged 16")
	}
	{
		h := g.household("dibao", 2, 0, true)
		p := child(h, 11, 200)
		g.edu = append(g.edu, eduRec{id: g.nextRec("XJ"), p: p, status: "辍学", date: g.day(200), grade: "五年级"})
		g.miss("school_dropout", h, nil, "200 days ago")
	}

	// recipient_death: a death in a dibao or tekun household.
	{
		h := g.household("tekun", 1, 0, true)
		g.health = append(g.health, healthRec{id: g.nextRec("BA"), p: h.Members[0], kind: "死亡", date: g.day(15)})
		g.expect("recipient_death", h, nil, "high", "the only member died")
	}
	{
		h := g.household("dibao", 3, 1, true)
		g.health = append(g.health, healthRec{id: g.nextRec("BA"), p: h.Members[2], kind: "死亡", date: g.day(15)})
		g.expect("recipient_death", h, nil, "medium", "one of three died")
	}
	{
		h := g.household("edge", 2, 0, true)
		g.health = append(g.health, healthRec{id: g.nextRec("BA"), p: h.Members[0], kind: "死亡", date: g.day(15)})
		g.miss("recipient_death", h, nil, "tier edge")
	}
	{
		h := g.household("dibao", 2, 0, true)
		twin := g.outsider(50, 80)
		twin.Name = h.Members[0].Name
		g.health = append(g.health, healthRec{id: g.nextRec("BA"), p: twin, kind: "死亡", date: g.day(15)})
		g.miss("recipient_death", h, nil, "a namesake outside the registry died")
	}

	// discovery: someone outside the registry with two kinds of hardship.
	{
		p := g.outsider(30, 60)
		g.dis = append(g.dis, disRec{id: g.nextRec("CJ"), p: p, kind: "肢体", level: 1, issued: g.day(200), change: "新办"})
		g.health = append(g.health, healthRec{id: g.nextRec("BA"), p: p, kind: "住院", date: g.day(100), diag: "C50.9", diagName: "乳房恶性肿瘤"})
		g.expect("discovery", nil, p, "high", "severe disability and cancer")
	}
	{
		p := g.outsider(30, 60)
		for _, ago := range []int{20, 90, 150} {
			g.medins = append(g.medins, medinsRec{id: g.nextRec("JS"), p: p, visit: "住院", date: g.day(ago), total: 20000, oop: 7000, diag: "F20"})
		}
		g.health = append(g.health, healthRec{id: g.nextRec("BA"), p: p, kind: "严重精神障碍", date: g.day(60), diag: "F20", diagName: "精神分裂症"})
		g.expect("discovery", nil, p, "high", "high medical cost and severe mental disorder")
	}
	{
		p := g.outsider(8, 12) // a child: dropped out, and a severe disability
		p.Birth = g.day(30).AddDate(-10, 0, 0)
		p.ID = g.c.id(p.Birth, p.Male)
		g.edu = append(g.edu, eduRec{id: g.nextRec("XJ"), p: p, status: "辍学", date: g.day(30), grade: "四年级"})
		g.dis = append(g.dis, disRec{id: g.nextRec("CJ"), p: p, kind: "智力", level: 2, issued: g.day(50), change: "新办"})
		g.expect("discovery", nil, p, "high", "dropped-out child with a severe disability")
	}
	{
		p := g.outsider(30, 60)
		g.medins = append(g.medins, medinsRec{id: g.nextRec("JS"), p: p, visit: "住院", date: g.day(30), total: 90000, oop: 25000, diag: "S72"})
		g.miss("discovery", nil, p, "one signal only")
	}
	{
		p := g.outsider(30, 60)
		g.dis = append(g.dis, disRec{id: g.nextRec("CJ"), p: p, kind: "肢体", level: 1, issued: g.day(30), change: "新办"})
		g.health = append(g.health, healthRec{id: g.nextRec("BA"), p: p, kind: "住院", date: g.day(400), diag: "C34", diagName: "肺恶性肿瘤"})
		g.miss("discovery", nil, p, "second signal outside the 365-day window")
	}

	// multiple_hardship: two kinds of hardship in one household over the year.
	{
		h := g.household("dibao", 3, 1, true)
		g.dis = append(g.dis, disRec{id: g.nextRec("CJ"), p: h.Members[0], kind: "肢体", level: 2, issued: g.day(200), change: "新办"})
		g.health = append(g.health, healthRec{id: g.nextRec("BA"), p: h.Members[1], kind: "住院", date: g.day(150), diag: "N18.5", diagName: "慢性肾脏病5期"})
		g.expect("multiple_hardship", h, nil, "medium", "severe disability and serious illness")
	}
	{
		h := g.household("dibao", 5, 3, true)
		g.health = append(g.health, healthRec{id: g.nextRec("BA"), p: h.Members[0], kind: "严重精神障碍", date: g.day(100), diag: "F31", diagName: "双相情感障碍"})
		g.expect("multiple_hardship", h, nil, "medium", "three children and a severe mental disorder")
	}
	{
		h := g.household("dibao", 5, 3, true)
		g.miss("multiple_hardship", h, nil, "three children only")
	}
	{
		h := g.household("dibao", 2, 0, true)
		g.dis = append(g.dis, disRec{id: g.nextRec("CJ"), p: h.Members[0], kind: "肢体", level: 1, issued: g.day(200), change: "新办"})
		g.miss("multiple_hardship", h, nil, "severe disability only")
	}
}

// Package synth generates a synthetic county: a low-income registry and
// the files its departments would send, with cases planted for every rule
// of the pack, near misses beside them, and the alerts a correct pipeline
// must raise written next to the data. It is seeded: the same options
// give the same county. The demo, the end-to-end test and the benchmarks
// all run on it.
package synth

import (
	"bytes"
	_ "embed"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"

	"safetynet/match"
	"safetynet/regions"
)

//go:embed data/surnames.xlsx
var surnamesXLSX []byte

// givenChars are common characters of given names.
const givenChars = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国红梅玉兰志强文辉海燕晓东春梅金凤俊峰婷雪慧宇浩然子涵欣怡梓轩佳怡雨桐一诺思远博文嘉怡明轩"

type county struct {
	rng      *rand.Rand
	area     string   // 6-digit county code
	called   string   // the county's own name (余杭区), for its offices
	place    string   // its full name, province first (浙江省杭州市余杭区)
	streets  []string // 9-digit township codes
	names    []string // street names by code order
	surnames []string
	cum      []float64 // cumulative surname weights
	givens   []rune
	usedIDs  map[match.IDNumber]bool
}

func newCounty(seed uint64, area string) (*county, error) {
	c := &county{rng: rand.New(rand.NewPCG(seed, seed^0x5afe7e7)), usedIDs: map[match.IDNumber]bool{}, givens: []rune(givenChars),
		area: area, called: regions.Name(area), place: regions.FullName(area)}
	for _, st := range regions.Children(area) {
		c.streets = append(c.streets, st.Code)
		c.names = append(c.names, st.Name)
	}
	if len(area) != 6 || len(c.streets) == 0 {
		return nil, fmt.Errorf("synth: %q is not a county (6 digits) whose townships GB/T 2260 lists; try %s", area, DefaultArea)
	}
	f, err := excelize.OpenReader(bytes.NewReader(surnamesXLSX))
	if err != nil {
		return nil, fmt.Errorf("synth: surnames.xlsx: %w", err)
	}
	defer f.Close()
	sheet := f.GetSheetList()[0]
	cells, err := f.GetRows(sheet)
	if err != nil {
		return nil, fmt.Errorf("synth: surnames.xlsx: %w", err)
	}
	total := 0.0
	for _, r := range cells[1:] {
		if len(r) < 2 {
			continue
		}
		w, err := strconv.ParseFloat(r[1], 64)
		if err != nil || r[0] == "" {
			continue
		}
		total += w
		c.surnames = append(c.surnames, r[0])
		c.cum = append(c.cum, total)
	}
	if len(c.surnames) < 100 {
		return nil, fmt.Errorf("synth: surnames.xlsx has only %d surnames", len(c.surnames))
	}
	return c, nil
}

func (c *county) surname() string {
	x := c.rng.Float64() * c.cum[len(c.cum)-1]
	lo, hi := 0, len(c.cum)-1
	for lo < hi {
		mid := (lo + hi) / 2
		if c.cum[mid] < x {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	return c.surnames[lo]
}

func (c *county) name(surname string) string {
	if surname == "" {
		surname = c.surname()
	}
	n := 1 + c.rng.IntN(2)
	var b strings.Builder
	b.WriteString(surname)
	for i := 0; i < n; i++ {
		b.WriteRune(c.givens[c.rng.IntN(len(c.givens))])
	}
	return b.String()
}

// id makes a fresh valid ID for someone born in the county.
func (c *county) id(birth time.Time, male bool) match.IDNumber {
	for {
		seq := c.rng.IntN(500) * 2
		if male {
			seq++
		}
		id := match.NewID(c.area, birth, seq)
		if !c.usedIDs[id] {
			c.usedIDs[id] = true
			return id
		}
	}
}

func (c *county) village() string {
	return fmt.Sprintf("%s%03d", c.streets[c.rng.IntN(len(c.streets))], 1+c.rng.IntN(20))
}

func (c *county) phone() string {
	return fmt.Sprintf("1%d%09d", 3+c.rng.IntN(7), c.rng.IntN(1_000_000_000))
}

// person is one synthetic resident.
type person struct {
	ID       match.IDNumber
	Name     string
	Male     bool
	Birth    time.Time
	Relation string
	Phone    string
}

// household is one registry household.
type household struct {
	ID      string
	Tier    string
	Village string
	Grid    string
	Address string
	Income  float64 // annual, yuan
	// IncomeText, when set, is how the registry wrote the income (6万, 不详).
	IncomeText string
	Benefit    float64
	Status     string
	Enrolled   time.Time
	Members    []*person
	planted    bool // used by a planted case: background records stay away
}

func (c *county) person(surname, relation string, minAge, maxAge int, asOf time.Time) *person {
	age := minAge + c.rng.IntN(maxAge-minAge+1)
	birth := asOf.AddDate(-age, 0, -c.rng.IntN(365))
	male := c.rng.IntN(2) == 0
	switch relation {
	case "户主":
		male = c.rng.IntN(3) > 0
	case "配偶":
		male = false
	}
	return &person{ID: c.id(birth, male), Name: c.name(surname), Male: male, Birth: birth, Relation: relation, Phone: c.phone()}
}

// newHousehold makes a household of a tier with n members (n ≥ 1): a head,
// a spouse, then children under 18 (at most kids), then an elder.
func (c *county) newHousehold(seq int, tier string, n, kids int, asOf time.Time) *household {
	village := c.village()
	h := &household{
		ID: fmt.Sprintf("H%s%05d", c.area, seq), Tier: tier, Village: village,
		Grid: fmt.Sprintf("%s-%02d", village, 1+c.rng.IntN(4)), Status: "active",
		Enrolled: asOf.AddDate(-1-c.rng.IntN(5), -c.rng.IntN(12), 0),
	}
	h.Address = fmt.Sprintf("%s%s%d组%d号", c.place, c.streetName(village), 1+c.rng.IntN(12), 1+c.rng.IntN(90))
	surname := c.surname()
	h.Members = append(h.Members, c.person(surname, "户主", 30, 75, asOf))
	roles := []string{}
	if n >= 2 {
		roles = append(roles, "配偶")
	}
	for i := 0; len(roles) < n-1 && i < kids; i++ {
		roles = append(roles, "子女")
	}
	for len(roles) < n-1 {
		roles = append(roles, "父母")
	}
	for _, r := range roles {
		switch r {
		case "配偶":
			h.Members = append(h.Members, c.person("", r, 30, 70, asOf))
		case "子女":
			h.Members = append(h.Members, c.person(surname, r, 3, 17, asOf))
		default:
			h.Members = append(h.Members, c.person("", r, 75, 90, asOf))
		}
	}
	std := 12 * standardMonthly
	perCapita := 0.0
	switch tier {
	case "dibao":
		perCapita = std * (0.4 + 0.5*c.rng.Float64())
		h.Benefit = float64(len(h.Members)) * (standardMonthly - perCapita/12)
	case "tekun":
		perCapita = 2000 + 2000*c.rng.Float64()
		h.Benefit = 1.3 * standardMonthly
	default: // edge, expenditure, monitor: above the line with room to spare
		perCapita = 9000 + 6000*c.rng.Float64()
	}
	h.Income = float64(int(perCapita*float64(len(h.Members))/10)) * 10
	h.Benefit = float64(int(h.Benefit))
	return h
}

func (c *county) streetName(village string) string {
	for i, s := range c.streets {
		if strings.HasPrefix(village, s) {
			return c.names[i]
		}
	}
	return ""
}

// standardMonthly is the default monthly 低保 standard the county is built around.
const standardMonthly = 480.0

// noisyID writes an ID the way some departments do: full-width, 15-digit
// legacy, lowercase x, or with spaces.
func (c *county) noisyID(id match.IDNumber) string {
	s := string(id)
	switch c.rng.IntN(4) {
	case 0:
		var b strings.Builder
		for _, r := range s {
			if r >= '0' && r <= '9' {
				b.WriteRune('０' + (r - '0'))
			} else {
				b.WriteRune('Ｘ')
			}
		}
		return b.String()
	case 1:
		if s[6:8] == "19" {
			return s[:6] + s[8:17]
		}
	case 2:
		if s[17] == 'X' {
			return s[:17] + "x"
		}
	}
	return s[:6] + " " + s[6:14] + " " + s[14:]
}

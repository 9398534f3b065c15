package match

import (
	"sort"
	"strings"
	"time"
	"unicode"

	"github.com/mozillazg/go-pinyin"
)

// Person is what probabilistic linkage compares of a record. Latin-script
// data (FEBRL, Splink's) fills Given and Family; Chinese data fills Name,
// whose surname is its first character (two for compound surnames).
type Person struct {
	Key      string // the record's own id
	Given    string
	Family   string
	Name     string
	Birth    string // YYYYMMDD
	Sex      string
	Phone    string
	Region   string // 12-digit region code, or a postcode
	Locality string // suburb or city
	Address  string
	IDNumber string
	// IDPrefix is what is left of an ID Excel stored as a number: its
	// region and birth-date digits (IDNumber is then empty).
	IDPrefix string
	Email    string

	pinyin    string // Name in toneless pinyin, filled by prepare
	surname   string // Family, or Name's surname
	surnamePY string // the surname's pinyin
	tokens    []string
	// sortedAddress is the address tokens sorted and joined.
	sortedAddress string
	prepared      bool
}

// compoundSurnames are the two-character surnames (复姓) in common use.
var compoundSurnames = map[string]bool{"欧阳": true, "司马": true, "上官": true, "诸葛": true, "东方": true, "皇甫": true,
	"尉迟": true, "公孙": true, "慕容": true, "长孙": true, "宇文": true, "司徒": true, "夏侯": true, "令狐": true, "端木": true, "轩辕": true}

var pinyinArgs = pinyin.NewArgs()

// prepare normalises a person's fields and derives what comparisons need.
func (p *Person) prepare() {
	if p.prepared {
		return
	}
	p.prepared = true
	for _, f := range []*string{&p.Given, &p.Family, &p.Name, &p.Sex, &p.Region, &p.Locality, &p.Address, &p.Email} {
		*f = strings.ToLower(strings.Join(strings.Fields(*f), " "))
	}
	p.Birth = digitsOnly(p.Birth)
	p.Phone = digitsOnly(p.Phone)
	p.IDNumber = strings.ToUpper(strings.TrimSpace(p.IDNumber))
	p.surname = p.Family
	if p.Name != "" && p.Given == "" && p.pinyin != "" {
		p.surname = surnameOf(p.Name) // folded already, with its pinyin (from match_names)
	} else if p.Name != "" && p.Given == "" {
		p.Name = FoldName(p.Name)
		p.pinyin = namePinyin(p.Name)
		if hasHan(p.Name) {
			p.surname = surnameOf(p.Name)
		} else if f := strings.Fields(p.Name); len(f) > 0 {
			p.surname = f[0]
		}
		p.surnamePY = namePinyin(p.surname)
	}
	p.tokens = strings.FieldsFunc(p.Address, func(r rune) bool { return unicode.IsSpace(r) || r == ',' || r == '，' })
	sorted := append([]string(nil), p.tokens...)
	sort.Strings(sorted)
	p.sortedAddress = strings.Join(sorted, " ")
}

func hasHan(s string) bool {
	for _, r := range s {
		if unicode.Is(unicode.Han, r) {
			return true
		}
	}
	return false
}

func digitsOnly(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// Comparison scores one aspect of a pair as a level: 0 is the closest
// agreement, Levels-1 disagreement, -1 when either side is missing (it
// then counts for nothing).
type Comparison struct {
	Name    string
	Levels  []string // what each level means, for explanations
	Compare func(a, b *Person) int
	// TF, when set, gives the value whose frequency adjusts level 0: a
	// match on a common name counts for less than on a rare one.
	TF func(p *Person) string
}

const missing = -1

// nameComparison: exact, same pinyin, pinyin Jaro–Winkler ≥ 0.9, same surname only, else.
var nameComparison = Comparison{
	Name:   "name",
	Levels: []string{"exact", "same pinyin", "pinyin Jaro-Winkler ≥ 0.9", "surname only", "different"},
	Compare: func(a, b *Person) int {
		switch {
		case a.Name == "" || b.Name == "":
			return missing
		case a.Name == b.Name:
			return 0
		case a.pinyin == b.pinyin:
			return 1
		case jaroWinkler(a.pinyin, b.pinyin) >= 0.9:
			return 2
		case a.surname == b.surname:
			return 3
		}
		return 4
	},
	TF: func(p *Person) string { return p.Name },
}

func stringLevels(name string, field func(*Person) string) Comparison {
	return Comparison{
		Name:   name,
		Levels: []string{"exact", "Jaro-Winkler ≥ 0.92", "Jaro-Winkler ≥ 0.8", "different"},
		Compare: func(a, b *Person) int {
			x, y := field(a), field(b)
			switch {
			case x == "" || y == "":
				return missing
			case x == y:
				return 0
			}
			switch jw := jaroWinkler(x, y); {
			case jw >= 0.92:
				return 1
			case jw >= 0.8:
				return 2
			}
			return 3
		},
		TF: field,
	}
}

// swappable adds a level to a name comparison: the name equals the other
// record's other name (given and family names entered the wrong way round).
func swappable(c Comparison, field, other func(*Person) string) Comparison {
	inner := c.Compare
	last := len(c.Levels) - 1
	c.Levels = append(append(append([]string(nil), c.Levels[:last]...), "the other's other name"), c.Levels[last])
	c.Compare = func(a, b *Person) int {
		l := inner(a, b)
		switch {
		case l != last:
			return l
		case field(a) != "" && (field(a) == other(b) || field(b) == other(a)):
			return last
		}
		return last + 1
	}
	return c
}

// birthComparison: exact, year and month, day and month swapped, year ±1 (same month and day), one digit off, within a year, else.
var birthComparison = Comparison{
	Name:   "birth_date",
	Levels: []string{"exact", "same year and month", "day and month swapped", "year ±1", "one digit off", "within a year", "different"},
	Compare: func(a, b *Person) int {
		x, y := a.Birth, b.Birth
		switch {
		case len(x) != 8 || len(y) != 8:
			return missing
		case x == y:
			return 0
		case x[:6] == y[:6]:
			return 1
		case x[:4] == y[:4] && x[4:6] == y[6:8] && x[6:8] == y[4:6]:
			return 2
		case x[4:] == y[4:] && absDiff(atoi(x[:4]), atoi(y[:4])) == 1:
			return 3
		case oneEdit(x, y):
			return 4
		case withinDays(x, y, 366):
			return 5
		}
		return 6
	},
}

// withinDays says whether two YYYYMMDD dates are at most n days apart.
func withinDays(x, y string, n int) bool {
	a, err1 := time.Parse("20060102", x)
	b, err2 := time.Parse("20060102", y)
	if err1 != nil || err2 != nil {
		return false
	}
	d := a.Sub(b)
	return d <= time.Duration(n)*24*time.Hour && d >= -time.Duration(n)*24*time.Hour
}

func exactComparison(name string, field func(*Person) string) Comparison {
	return Comparison{
		Name:   name,
		Levels: []string{"exact", "different"},
		Compare: func(a, b *Person) int {
			x, y := field(a), field(b)
			switch {
			case x == "" || y == "":
				return missing
			case x == y:
				return 0
			}
			return 1
		},
	}
}

// phoneComparison: exact, same last 8 digits, else.
var phoneComparison = Comparison{
	Name:   "phone",
	Levels: []string{"exact", "same last 8 digits", "different"},
	Compare: func(a, b *Person) int {
		x, y := a.Phone, b.Phone
		switch {
		case len(x) < 7 || len(y) < 7:
			return missing
		case x == y:
			return 0
		case len(x) >= 8 && len(y) >= 8 && x[len(x)-8:] == y[len(y)-8:]:
			return 1
		}
		return 2
	},
}

// regionComparison: same village (12 digits), township (9), county (6), else;
// a shorter code (a postcode) is exact or not.
var regionComparison = Comparison{
	Name:   "region",
	Levels: []string{"same village", "same township", "same county", "different"},
	Compare: func(a, b *Person) int {
		x, y := a.Region, b.Region
		switch {
		case x == "" || y == "":
			return missing
		case x == y:
			return 0
		case len(x) == 12 && len(y) == 12 && x[:9] == y[:9]:
			return 1
		case len(x) == 12 && len(y) == 12 && x[:6] == y[:6]:
			return 2
		case len(x) == 12 && len(y) == 6 && x[:6] == y, len(y) == 12 && len(x) == 6 && y[:6] == x:
			return 2 // a county code (from an ID) beside a village code
		case len(x) < 12 && oneEdit(x, y):
			return 1 // a postcode one digit off
		}
		return 3
	},
}

// addressComparison: share of address tokens in common (Jaccard), or the
// sorted tokens alike letter by letter (a typo inside a word, words in
// another order).
var addressComparison = Comparison{
	Name:   "address",
	Levels: []string{"tokens ≥ 80% alike", "tokens ≥ 50% alike", "Jaro-Winkler ≥ 0.9", "different"},
	Compare: func(a, b *Person) int {
		if len(a.tokens) == 0 || len(b.tokens) == 0 {
			return missing
		}
		switch j := jaccard(a.tokens, b.tokens); {
		case j >= 0.8:
			return 0
		case j >= 0.5:
			return 1
		}
		if jaroWinkler(a.sortedAddress, b.sortedAddress) >= 0.9 {
			return 2
		}
		return 3
	},
}

// idComparison: the same number, one substitution or transposition
// apart, the same region and birth date where Excel lost the rest of
// one of them, else.
var idComparison = Comparison{
	Name:   "id_number",
	Levels: []string{"exact", "one character off", "two characters off", "same region and birth date (Excel lost the rest)", "different"},
	Compare: func(a, b *Person) int {
		x, y := a.IDNumber, b.IDNumber
		switch {
		case x != "" && y != "" && x == y:
			return 0
		case x != "" && y != "" && oneEdit(x, y):
			return 1
		case x != "" && y != "" && hamming(x, y) == 2:
			return 2
		case x != "" && y != "":
			return 4
		case a.IDPrefix == "" && b.IDPrefix == "":
			return missing
		}
		hx, hy := idHead(a), idHead(b)
		switch {
		case hx == "" || hy == "":
			return missing
		case hx == hy:
			return 3
		}
		return 4
	},
}

// hamming is the number of positions at which two strings of one length
// differ (-1 for lengths that differ).
func hamming(a, b string) int {
	if len(a) != len(b) {
		return -1
	}
	n := 0
	for i := 0; i < len(a); i++ {
		if a[i] != b[i] {
			n++
		}
	}
	return n
}

// idHead is an ID's region and birth-date digits: what survives of one
// that Excel stored as a number, or the first 14 characters of a whole one.
func idHead(p *Person) string {
	if p.IDPrefix != "" {
		return p.IDPrefix
	}
	if len(p.IDNumber) == 18 {
		return p.IDNumber[:14]
	}
	return ""
}

// Comparisons picks the comparisons for data of this shape: given and
// family names separately for Latin-script data, the whole name (and its
// pinyin) for Chinese.
func Comparisons(latin bool) []Comparison {
	cs := []Comparison{}
	if latin {
		given, family := func(p *Person) string { return p.Given }, func(p *Person) string { return p.Family }
		cs = append(cs, swappable(stringLevels("given_name", given), given, family), swappable(stringLevels("family_name", family), family, given))
	} else {
		cs = append(cs, nameComparison, exactComparison("sex", func(p *Person) string { return p.Sex }))
	}
	cs = append(cs, birthComparison, phoneComparison, regionComparison,
		stringLevels("locality", func(p *Person) string { return p.Locality }),
		addressComparison, idComparison, stringLevels("email", func(p *Person) string { return p.Email }))
	return cs
}

// oneEdit reports whether two strings of equal length differ by one
// substitution or one transposition of neighbours.
func oneEdit(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	var diff []int
	for i := 0; i < len(a); i++ {
		if a[i] != b[i] {
			diff = append(diff, i)
			if len(diff) > 2 {
				return false
			}
		}
	}
	switch len(diff) {
	case 1:
		return true
	case 2:
		i, j := diff[0], diff[1]
		return j == i+1 && a[i] == b[j] && a[j] == b[i]
	}
	return false
}

func jaccard(a, b []string) float64 {
	set := map[string]bool{}
	for _, t := range a {
		set[t] = true
	}
	inter, union := 0, len(set)
	seen := map[string]bool{}
	for _, t := range b {
		if seen[t] {
			continue
		}
		seen[t] = true
		if set[t] {
			inter++
		} else {
			union++
		}
	}
	if union == 0 {
		return 0
	}
	return float64(inter) / float64(union)
}

// jaroWinkler is the Jaro–Winkler similarity of two strings, by rune.
func jaroWinkler(s1, s2 string) float64 {
	a, b := []rune(s1), []rune(s2)
	if len(a) == 0 || len(b) == 0 {
		return 0
	}
	window := max(len(a), len(b))/2 - 1
	window = max(window, 0)
	ma, mb := make([]bool, len(a)), make([]bool, len(b))
	matches := 0
	for i := range a {
		lo, hi := max(0, i-window), min(len(b), i+window+1)
		for j := lo; j < hi; j++ {
			if !mb[j] && a[i] == b[j] {
				ma[i], mb[j] = true, true
				matches++
				break
			}
		}
	}
	if matches == 0 {
		return 0
	}
	t, k := 0, 0
	for i := range a {
		if !ma[i] {
			continue
		}
		for !mb[k] {
			k++
		}
		if a[i] != b[k] {
			t++
		}
		k++
	}
	m := float64(matches)
	jaro := (m/float64(len(a)) + m/float64(len(b)) + (m-float64(t)/2)/m) / 3
	prefix := 0
	for i := 0; i < min(4, len(a), len(b)) && a[i] == b[i]; i++ {
		prefix++
	}
	return jaro + float64(prefix)*0.1*(1-jaro)
}

func atoi(s string) int {
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	return n
}

func absDiff(a, b int) int {
	if a > b {
		return a - b
	}
	return b - a
}

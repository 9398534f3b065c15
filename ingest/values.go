package ingest

import (
	"errors"
	"math"
	"safetynet/i18n"
	"sort"
	"strconv"
	"strings"
	"time"

	"golang.org/x/text/width"
)

var (
	cjkDate    = strings.NewReplacer("年", "-", "月", "-", "日", "")
	moneyNoise = dropAll(append(append([]string(nil), moneyCurrency...), moneyGrouping...))
	emptyMarks = setOf(emptyMarkList)
)

// dropAll is a replacer that deletes each of words.
func dropAll(words []string) *strings.Replacer {
	var pairs []string
	for _, w := range words {
		pairs = append(pairs, w, "")
	}
	return strings.NewReplacer(pairs...)
}

func setOf(words []string) map[string]bool {
	m := make(map[string]bool, len(words))
	for _, w := range words {
		m[w] = true
	}
	return m
}

// invisible are characters Excel, WPS and web forms leave in cells that
// no reader can see: zero-width spaces and joiners, the byte-order mark,
// soft hyphens. They are dropped; no-break and other spaces become plain ones.
func invisible(r rune) bool {
	switch r {
	case '\u200b', '\u200c', '\u200d', '\u2060', '\ufeff', '\u00ad', '\u200e', '\u200f':
		return true
	}
	return false
}

// tidy is what every value goes through before its kind reads it: full-width
// forms folded, invisible characters dropped, odd spaces made plain, and the
// escapes Excel users type so that Excel keeps a value as text (="…", a
// leading apostrophe, quotes around it) taken off. An empty mark ("-", "无")
// reads as empty. Plain ASCII values pass through without a copy.
func tidy(s string) string {
	plain := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 0x80 || c == '\t' || c == '"' || c == '\'' || c == '=' {
			plain = false
			break
		}
	}
	if plain {
		s = strings.TrimSpace(s)
	} else {
		s = strings.Map(func(r rune) rune {
			switch {
			case invisible(r):
				return -1
			case r == '\u00a0' || r == '\t' || r == '\u2002' || r == '\u2003' || r == '\u2009' || r == '\u202f':
				return ' '
			}
			return r
		}, fold(s))
		s = strings.TrimSpace(s)
		s = unescapeExcel(s)
	}
	if emptyMarks[s] {
		return ""
	}
	return s
}

// unescapeExcel takes off ="…", a leading apostrophe and quotes around a
// value (straight or curly), as often as they are nested.
func unescapeExcel(s string) string {
	for {
		t := s
		switch {
		case strings.HasPrefix(t, "=\"") && strings.HasSuffix(t, "\"") && len(t) >= 3:
			t = t[2 : len(t)-1]
		case strings.HasPrefix(t, "'"):
			t = t[1:]
		case len(t) >= 2 && t[0] == '"' && t[len(t)-1] == '"':
			t = t[1 : len(t)-1]
		case strings.HasPrefix(t, "“") && strings.HasSuffix(t, "”") && len(t) > len("“”"):
			t = t[len("“") : len(t)-len("”")]
		}
		t = strings.TrimSpace(t)
		if t == s {
			return s
		}
		s = t
	}
}

// fold turns full-width forms into ASCII. Most values (ASCII, or Chinese
// text without full-width letters) pass through without a copy.
func fold(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x80 {
			continue
		}
		for _, r := range s[i:] {
			if (r >= 0xFF01 && r <= 0xFF5E) || r == 0x3000 || (r >= 0xFFE0 && r <= 0xFFEE) {
				return width.Fold.String(s)
			}
		}
		return s
	}
	return s
}

// parseDate reads the date forms of SOURCES.md; a date-time gives its date.
func parseDate(s string) (time.Time, error) {
	s = tidy(s)
	if s == "" {
		return time.Time{}, errBlank
	}
	if i := strings.IndexAny(s, " T"); i > 0 {
		s = s[:i]
	}
	if (len(s) == 14 || len(s) == 12) && allDigits(s) { // yyyymmddHHMMSS, yyyymmddHHMM from exchange systems
		s = s[:8]
	}
	var y, m, d int
	var err error
	switch {
	case strings.ContainsAny(s, "年月日"):
		s = cjkDate.Replace(s)
		y, m, d, err = ymd(s, "-")
	case strings.Contains(s, "-"):
		y, m, d, err = ymd(s, "-")
	case strings.Contains(s, "/"):
		y, m, d, err = ymd(s, "/")
	case strings.Contains(s, "."):
		if whole, _, _ := strings.Cut(s, "."); len(whole) <= 5 && allDigits(whole) {
			if f, ferr := strconv.ParseFloat(s, 64); ferr == nil {
				return excelSerial(f)
			}
		}
		y, m, d, err = ymd(s, ".")
	case len(s) == 8 && allDigits(s):
		y, _ = strconv.Atoi(s[:4])
		m, _ = strconv.Atoi(s[4:6])
		d, _ = strconv.Atoi(s[6:])
	case allDigits(s) && len(s) <= 5:
		f, _ := strconv.ParseFloat(s, 64)
		return excelSerial(f)
	default:
		err = errors.New("unknown form")
	}
	if err != nil {
		return time.Time{}, i18n.Msg("q.not_date", s)
	}
	t := time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC)
	if t.Year() != y || int(t.Month()) != m || t.Day() != d {
		return time.Time{}, i18n.Msg("q.not_real_date", s)
	}
	if y < minYear || y > maxYear {
		return time.Time{}, i18n.Msg("q.impossible_year", s)
	}
	return t, nil
}

func ymd(s, sep string) (y, m, d int, err error) {
	parts := strings.Split(s, sep)
	if len(parts) != 3 {
		return 0, 0, 0, errors.New("want three parts")
	}
	var v [3]int
	for i, p := range parts {
		if v[i], err = strconv.Atoi(p); err != nil {
			return 0, 0, 0, err
		}
	}
	return v[0], v[1], v[2], nil
}

// excelSerial converts an Excel date serial (1900 date system).
func excelSerial(f float64) (time.Time, error) {
	if f < 1000 || f > 100000 { // 1902 to 2173: a smaller number is a count, not a date
		return time.Time{}, i18n.Msg("q.excel_serial", f)
	}
	base := time.Date(1899, 12, 30, 0, 0, 0, 0, time.UTC)
	return base.AddDate(0, 0, int(math.Floor(f))), nil
}

// plainNumber says whether s has only digits and dots: no currency sign,
// separator or unit to strip.
func plainNumber(s string) bool {
	for i := 0; i < len(s); i++ {
		if (s[i] < '0' || s[i] > '9') && s[i] != '.' {
			return false
		}
	}
	return true
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

var errBlank = errors.New("blank")

// parseMoney reads yuan: 1234.5, 1,234.50, ¥1234, 1234元, and ten
// thousands: 6万, 1.2万元.
func parseMoney(s string) (float64, error) {
	t := tidy(s)
	if t == "" {
		return 0, errBlank
	}
	scale := 1.0
	if !plainNumber(t) {
		t = moneyNoise.Replace(t)
		for _, u := range moneyUnits {
			if w, ok := strings.CutSuffix(t, u.suffix); ok {
				t, scale = w, u.scale
				break
			}
		}
	}
	v, err := strconv.ParseFloat(t, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, i18n.Msg("q.not_amount", s)
	}
	v *= scale
	v += 0 // -0 reads as 0
	if v < 0 {
		return 0, i18n.Msg("q.negative_amount", s)
	}
	if v >= 1e12 { // DECIMAL(14,2)
		return 0, i18n.Msg("q.too_large_amount", s)
	}
	return math.Round(v*100) / 100, nil
}

func parseInt(s string) (int32, error) {
	t := tidy(s)
	if t == "" {
		return 0, errBlank
	}
	for _, suffix := range countSuffixes {
		t = strings.TrimSuffix(t, suffix)
	}
	if f, err := strconv.ParseFloat(t, 64); err == nil && f == math.Trunc(f) && f >= 0 && f < 1e6 {
		return int32(f), nil
	}
	return 0, i18n.Msg("q.not_whole_number", s)
}

// parseLevel reads a disability level: 1–4, 一级…四级, 1级.
func parseLevel(s string) (int32, error) {
	t := tidy(s)
	if t == "" {
		return 0, errBlank
	}
	t = strings.TrimSuffix(strings.TrimPrefix(t, levelPrefix), levelSuffix)
	if v, ok := levelForms[t]; ok {
		return v, nil
	}
	return 0, i18n.Msg("q.not_level", s)
}

// parseSex reads 男/女, M/F, 1/2 (GB/T 2261.1); 0 and 9 mean unknown.
func parseSex(s string) (string, error) {
	t := strings.ToLower(tidy(s))
	v, ok := sexForms[t]
	switch {
	case t == "" || ok && v == "":
		return "", errBlank
	case !ok:
		return "", i18n.Msg("q.not_sex", s)
	}
	return v, nil
}

func parseEnum(c *Column, s string) (string, error) {
	t := tidy(s)
	if t == "" {
		return "", errBlank
	}
	if v, ok := c.Values[t]; ok {
		return v, nil
	}
	if v, ok := c.Values[strings.ToLower(t)]; ok {
		return v, nil
	}
	return "", i18n.Msg("q.not_known", s, i18n.Msg("f."+c.Name), i18n.Words{Kind: c.Name, Values: canonicalValues(c)})
}

func canonicalValues(c *Column) []string {
	seen := map[string]bool{}
	var out []string
	for k, v := range c.Values {
		if k == v && !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	sort.Strings(out)
	return out
}

// A notice is a problem with a value that is kept anyway: the row is
// stored, and the department hears of it as of a quarantined value.
type notice struct{ msg i18n.Message }

func (n *notice) Error() string { return n.msg.Error() }

// ExcelNumberID is the reason given for an ID that Excel turned into a number.
var ExcelNumberID = i18n.Msg("q.excel_number_id")

// checkID lets through what could be an ID in any form departments send;
// whether it is a valid one is match's question. An ID in Excel's number
// form (3.20812197503151E+17) is kept as sent, with a notice: its first
// digits still place the person, but it can never link by itself.
func checkID(s string) (string, error) {
	t := tidy(s)
	if t == "" {
		return "", errBlank
	}
	if excelNumber(t) {
		return strings.ToUpper(t), &notice{ExcelNumberID}
	}
	digits := 0
	for _, r := range t {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case r == 'x', r == 'X', r == ' ', r == '-', r == '_':
		default:
			return "", i18n.Msg("q.id_chars", s)
		}
	}
	if digits < 14 || digits > 18 {
		return "", i18n.Msg("q.id_digits", s, digits)
	}
	return t, nil
}

// excelNumber: a mantissa and an exponent, the form Excel shows (and
// writes to CSV) for an ID kept in a number cell: 3.20812197503151E+17.
func excelNumber(s string) bool {
	mant, exp, ok := strings.Cut(strings.ToUpper(s), "E+")
	if !ok || len(exp) == 0 || len(exp) > 2 || !allDigits(exp) {
		return false
	}
	whole, frac, _ := strings.Cut(mant, ".")
	return len(whole) == 1 && allDigits(whole) && (frac == "" || allDigits(frac))
}

func parsePhone(s string) (string, error) {
	t := tidy(s)
	if t == "" {
		return "", errBlank
	}
	var b strings.Builder
	for _, r := range t {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case strings.ContainsRune(phoneNoise, r):
		default:
			return "", i18n.Msg("q.not_phone", s)
		}
	}
	p := strings.TrimPrefix(b.String(), phoneCountry)
	if len(p) < 7 || len(p) > 12 {
		return "", i18n.Msg("q.not_phone", s)
	}
	return p, nil
}

func cleanText(s string) string { return tidy(s) }

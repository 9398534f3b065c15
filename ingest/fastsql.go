package ingest

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	"safetynet/store"
)

// The fast path's SQL, made from the tables and the value forms of
// forms.go. SQL reads the forms below and nothing else; a row with any
// value outside them goes to the Go reader, which decides about it as it
// always did. So SQL need not know every form, only read the ones it
// knows exactly as Go does, which the differential tests check.

func sqlList(words []string) string {
	q := make([]string, len(words))
	for i, w := range words {
		q[i] = store.Quote(w)
	}
	return strings.Join(q, ", ")
}

func reAlt(words []string) string {
	q := make([]string, len(words))
	for i, w := range words {
		q[i] = regexp.QuoteMeta(w)
	}
	return "(?:" + strings.Join(q, "|") + ")"
}

// sortedKeys keeps the generated SQL the same from run to run.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// tidySQL is tidy for a cell of a plain line (plainLine): nothing to
// trim, fold or unescape, and no empty mark, so only an empty cell to
// read as nothing.
func tidySQL(cell string) string { return fmt.Sprintf("nullif(%s, '')", cell) }

// valueSQL is how SQL reads one column's texts (textsSQL): the value, or
// NULL where SQL does not read the form (knownSQL then says so, and the
// row goes to Go).
func valueSQL(c *Column, t, parts string) string {
	matched := func(form string) string { return fmt.Sprintf("regexp_full_match(%s, %s)", t, store.Quote(form)) }
	switch c.Kind {
	case ID:
		return fmt.Sprintf("CASE WHEN %s THEN %s END", matched(`[0-9]{14,18}|[0-9]{14,17}[Xx]`), t)
	case Date:
		return dateSQL(parts)
	case Money:
		return moneySQL(parts)
	case Int:
		var suffix strings.Builder // the suffixes, outermost last: 3口人
		for i := len(countSuffixes) - 1; i >= 0; i-- {
			suffix.WriteString("(?:" + regexp.QuoteMeta(countSuffixes[i]) + ")?")
		}
		return fmt.Sprintf("CASE WHEN %s THEN CAST(regexp_extract(%s, '^[0-9]+') AS INTEGER) END", matched(`[0-9]{1,6}`+suffix.String()), t)
	case Level:
		form := fmt.Sprintf(`^(?:%s)?(%s)(?:%s)?$`, regexp.QuoteMeta(levelPrefix), reAlt(sortedKeys(levelForms)), regexp.QuoteMeta(levelSuffix))
		var cases strings.Builder
		for _, k := range sortedKeys(levelForms) {
			fmt.Fprintf(&cases, " WHEN %s THEN %d", store.Quote(k), levelForms[k])
		}
		return fmt.Sprintf("CASE regexp_extract(%s, %s, 1)%s END", t, store.Quote(form), cases.String())
	case Sex:
		var cases strings.Builder
		for _, k := range sortedKeys(sexForms) {
			if v := sexForms[k]; v != "" {
				fmt.Fprintf(&cases, " WHEN %s THEN %s", store.Quote(k), store.Quote(v))
			}
		}
		return fmt.Sprintf("CASE lower(%s)%s END", t, cases.String())
	case Enum:
		return enumSQL(c, t)
	case Phone:
		digits := fmt.Sprintf("regexp_replace(%s, %s, '', 'g')", t, store.Quote("["+regexp.QuoteMeta(phoneNoise)+"]"))
		national := fmt.Sprintf("CASE WHEN starts_with(%[1]s, %[2]s) THEN %[1]s[%[3]d:] ELSE %[1]s END", digits, store.Quote(phoneCountry), len(phoneCountry)+1)
		return fmt.Sprintf("CASE WHEN regexp_full_match(%s, '[0-9]+') AND length(%s) BETWEEN 7 AND 12 THEN %s END", digits, national, national)
	}
	return t
}

// knownSQL says SQL read the tidied text t into the value v: a blank, or
// a value in a form SQL reads (for sex, the unknown forms read as blank).
func knownSQL(c *Column, t, v string) string {
	switch {
	case c.Required:
		return v + " IS NOT NULL"
	case c.Kind == Sex:
		return fmt.Sprintf("(%s IS NULL OR lower(%s) IN (%s))", t, t, sqlList(sortedKeys(sexForms)))
	}
	return fmt.Sprintf("(%s IS NULL OR %s IS NOT NULL)", t, v)
}

// cutSQL is the date of a date-time: the text before a space or a T.
func cutSQL(t string) string { return fmt.Sprintf("split_part(split_part(%s, ' ', 1), 'T', 1)", t) }

// dateForm is the dates SQL reads, cut from their time of day (cutSQL):
// 2024-09-15, 2024/9/15, 20240915 (and a time of day in digits after it)
// and 2024年9月15日, in one regular expression so a date is matched once.
// Each form has its own month and day groups: RE2 cannot say "the same
// separator again", and parseDate refuses 2024-9/15.
const dateForm = `^([0-9]{4})(?:-([0-9]{1,2})-([0-9]{1,2})|/([0-9]{1,2})/([0-9]{1,2})|([0-9]{2})([0-9]{2})(?:[0-9]{4}|[0-9]{6})?|年([0-9]{1,2})月([0-9]{1,2})日?)$`

// datePartsSQL splits a date's text into the groups of dateForm.
func datePartsSQL(day string) string {
	return fmt.Sprintf("regexp_extract(%s, %s, ['y', 'm1', 'd1', 'm2', 'd2', 'm3', 'd3', 'm4', 'd4'])", day, store.Quote(dateForm))
}

// dateSQL is the date of the parts datePartsSQL found, in the years
// parseDate accepts; a day the calendar does not have is left to Go.
func dateSQL(parts string) string {
	return fmt.Sprintf(`CASE WHEN %[1]s.y <> '' AND CAST(%[1]s.y AS INTEGER) BETWEEN %[2]d AND %[3]d THEN TRY(make_date(CAST(%[1]s.y AS INTEGER),
		CAST(%[1]s.m1 || %[1]s.m2 || %[1]s.m3 || %[1]s.m4 AS INTEGER), CAST(%[1]s.d1 || %[1]s.d2 || %[1]s.d3 || %[1]s.d4 AS INTEGER))) END`,
		parts, minYear, maxYear)
}

// moneyForm is the amount SQL reads, as parseMoney does: a currency
// sign or word before or after it, thousands separators and a unit
// (6万元). Its groups are the number and the unit.
func moneyForm() string {
	units := make([]string, len(moneyUnits))
	for i, u := range moneyUnits {
		units[i] = u.suffix
	}
	group := ""
	for _, g := range moneyGrouping {
		group += regexp.QuoteMeta(g)
	}
	return fmt.Sprintf(`^%[1]s?([0-9][0-9%[2]s]*(?:\.[0-9]+)?)(%[3]s?)%[1]s?$`, reAlt(moneyCurrency), group, reAlt(units))
}

// moneyPartsSQL splits an amount's text into the number and the unit
// once (regexp_extract of moneyForm), for moneySQL.
func moneyPartsSQL(t string) string {
	return fmt.Sprintf("regexp_extract(%s, %s, ['num', 'unit'])", t, store.Quote(moneyForm()))
}

// moneySQL is the amount of the parts moneyPartsSQL found: cents rounded
// from the same double parseMoney rounds them from.
func moneySQL(parts string) string {
	number := parts + ".num"
	for _, g := range moneyGrouping {
		number = fmt.Sprintf("replace(%s, %s, '')", number, store.Quote(g))
	}
	scale := "CASE " + parts + ".unit"
	for _, u := range moneyUnits {
		scale += fmt.Sprintf(" WHEN %s THEN %g", store.Quote(u.suffix), u.scale)
	}
	scale += " ELSE 1 END"
	// An amount DECIMAL(14,2) cannot hold is left to parseMoney to refuse.
	return fmt.Sprintf("CASE WHEN %s.num <> '' THEN TRY_CAST(round(CAST(%s AS DOUBLE) * %s * 100) / 100 AS DECIMAL(14,2)) END", parts, number, scale)
}

// textsSQL are a column's texts, for the layer below valueSQL: its tidied
// text as t (a date cut from its time of day) and, for a date or an
// amount, its parts as parts.
func textsSQL(c *Column, cell, t, parts string) []string {
	text := tidySQL(cell)
	switch c.Kind {
	case Date:
		return []string{cutSQL(text) + " AS " + t, datePartsSQL(cutSQL(text)) + " AS " + parts}
	case Money:
		return []string{text + " AS " + t, moneyPartsSQL(text) + " AS " + parts}
	}
	return []string{text + " AS " + t}
}

// enumSQL reads the column's values as written, then in lower case, as parseEnum does.
func enumSQL(c *Column, t string) string {
	var cases strings.Builder
	for _, k := range sortedKeys(c.Values) {
		fmt.Fprintf(&cases, " WHEN %s THEN %s", store.Quote(k), store.Quote(c.Values[k]))
	}
	return fmt.Sprintf("coalesce(CASE %[1]s%[2]s END, CASE lower(%[1]s)%[2]s END)", t, cases.String())
}

// rowHashSQL is rowHash over the canonical columns, each named by col.
func rowHashSQL(t *Table, col func(c *Column) string) string {
	parts := make([]string, len(t.Columns))
	for i := range t.Columns {
		parts[i] = fmt.Sprintf("coalesce(CAST(%s AS VARCHAR), '')", col(&t.Columns[i]))
	}
	return "md5_number_lower(concat(" + strings.Join(parts, ", chr(31), ") + ", chr(31)))"
}

// fastQuery is the SQL that reads one sheet below its header.
type fastQuery struct {
	t      *Table
	m      mapping
	cells  string // the rows as (n, plain, c): fastInput.cells
	batch  int64
	sqlNow string // valid_from, as a SQL literal
}

// rows is the SELECT of every row below the header, from q.cells, as n
// (its number), fast (SQL read all of it: never a row that is not
// plain), the record's key, hash and the canonical columns c0, c1, ….
func (q fastQuery) rows() string {
	var tidied, texts, values, known, cols []string
	for i := range q.t.Columns {
		c := &q.t.Columns[i]
		cell := "NULL"
		if ci := q.m.cols[i]; ci >= 0 {
			cell = fmt.Sprintf("c[%d]", ci+1)
		}
		t, v, parts := fmt.Sprintf("t%d", i), fmt.Sprintf("c%d", i), fmt.Sprintf("m%d", i)
		tidied = append(tidied, textsSQL(c, cell, t, parts)...)
		texts = append(texts, t)
		values = append(values, valueSQL(c, t, parts)+" AS "+v)
		known = append(known, knownSQL(c, t, v))
		cols = append(cols, v)
	}
	keys := q.t.Key
	if len(keys) == 0 {
		keys = []string{"record_id"}
	}
	var keyParts, keyPresent []string
	for _, k := range keys {
		i := q.t.columnIndex(k)
		keyParts = append(keyParts, fmt.Sprintf("coalesce(CAST(c%d AS VARCHAR), '')", i))
		keyPresent = append(keyPresent, fmt.Sprintf("c%d IS NOT NULL", i))
	}
	colRef := func(c *Column) string { return "c" + fmt.Sprint(q.t.columnIndex(c.Name)) }
	return fmt.Sprintf(`SELECT n, coalesce(plain AND %[1]s AND (%[2]s), false) AS fast,
	%[3]s AS record_key, %[4]s AS row_hash, %[5]s
FROM (SELECT n, plain, %[6]s, %[7]s
  FROM (SELECT n, plain, %[8]s
    FROM (%[9]s)))`,
		strings.Join(known, " AND "), strings.Join(keyPresent, " OR "),
		strings.Join(keyParts, " || '|' || "), rowHashSQL(q.t, colRef), strings.Join(cols, ", "),
		strings.Join(texts, ", "), strings.Join(values, ", "), strings.Join(tidied, ", "),
		q.cells)
}

// insert stores the rows SQL reads in the table's canonical table.
func (q fastQuery) insert() string {
	cols := []string{"record_key", "row_hash", "line"}
	sel := []string{"record_key", "row_hash", "n"}
	for i, c := range q.t.Columns {
		cols = append(cols, c.Name)
		sel = append(sel, fmt.Sprintf("c%d", i))
	}
	cols = append(cols, "batch_id", "valid_from", "sheet")
	sel = append(sel, fmt.Sprint(q.batch), q.sqlNow, "NULL")
	// Each row's values pass through UNNEST of a one-element list, which
	// DuckDB does not push the filter below: otherwise it inlines the
	// values into the filter and computes every value twice, once to test
	// fast and once to store (a third of the statement's time).
	return fmt.Sprintf("INSERT INTO %s (%s) SELECT %s FROM (SELECT unnest([r], max_depth := 2) FROM (%s) r) WHERE fast",
		q.t.CanonTable(), strings.Join(cols, ", "), strings.Join(sel, ", "), q.rows())
}

// slow keeps the numbers of the lines SQL did not store, from first to
// last, in _slow, for Go (a blank line's number too: the copy does not
// hold it, and appendSlow passes it over). Counting from the stored
// lines spares reading the copy a second time.
func (q fastQuery) slow(first, last int) string {
	return fmt.Sprintf(`CREATE OR REPLACE TEMP TABLE _slow AS SELECT n FROM range(%d, %d) t(n)
		ANTI JOIN (SELECT line FROM %s WHERE batch_id = %d) s ON s.line = t.n`, first, last+1, q.t.CanonTable(), q.batch)
}

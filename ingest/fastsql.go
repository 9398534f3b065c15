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

// sqlString quotes s as a SQL string literal.
func sqlString(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

func sqlList(words []string) string {
	q := make([]string, len(words))
	for i, w := range words {
		q[i] = sqlString(w)
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

// valueSQL is how SQL reads one column's tidied text t: the value, or
// NULL where SQL does not read the form (knownSQL then says so, and the
// row goes to Go).
func valueSQL(c *Column, t string) string {
	matched := func(form string) string { return fmt.Sprintf("regexp_full_match(%s, %s)", t, sqlString(form)) }
	switch c.Kind {
	case ID:
		return fmt.Sprintf("CASE WHEN %s THEN %s END", matched(`[0-9]{14,18}|[0-9]{14,17}[Xx]`), t)
	case Date:
		return dateSQL(t)
	case Money:
		return moneySQL(t)
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
			fmt.Fprintf(&cases, " WHEN %s THEN %d", sqlString(k), levelForms[k])
		}
		return fmt.Sprintf("CASE regexp_extract(%s, %s, 1)%s END", t, sqlString(form), cases.String())
	case Sex:
		var cases strings.Builder
		for _, k := range sortedKeys(sexForms) {
			if v := sexForms[k]; v != "" {
				fmt.Fprintf(&cases, " WHEN %s THEN %s", sqlString(k), sqlString(v))
			}
		}
		return fmt.Sprintf("CASE lower(%s)%s END", t, cases.String())
	case Enum:
		return enumSQL(c, t)
	case Phone:
		digits := fmt.Sprintf("regexp_replace(%s, %s, '', 'g')", t, sqlString("["+regexp.QuoteMeta(phoneNoise)+"]"))
		national := fmt.Sprintf("CASE WHEN starts_with(%[1]s, %[2]s) THEN %[1]s[%[3]d:] ELSE %[1]s END", digits, sqlString(phoneCountry), len(phoneCountry)+1)
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

// dateSQL reads the commonest date forms of a date cut from its time of
// day (cutSQL): 2024-09-15, 2024/9/15, 20240915 and 2024年9月15日, in the
// years parseDate accepts. Every form starts with the year.
func dateSQL(day string) string {
	forms := []struct{ form, iso string }{
		{`[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}`, day},
		{`[0-9]{4}/[0-9]{1,2}/[0-9]{1,2}`, fmt.Sprintf("replace(%s, '/', '-')", day)},
		{`[0-9]{8}(?:[0-9]{4}|[0-9]{6})?`, fmt.Sprintf("%[1]s[1:4] || '-' || %[1]s[5:6] || '-' || %[1]s[7:8]", day)},
		{`[0-9]{4}年[0-9]{1,2}月[0-9]{1,2}日?`, fmt.Sprintf("rtrim(translate(%s, '年月', '--'), '日')", day)},
	}
	var b strings.Builder
	fmt.Fprintf(&b, "CASE WHEN TRY_CAST(%s[1:4] AS INTEGER) BETWEEN %d AND %d THEN CASE", day, minYear, maxYear)
	for _, f := range forms {
		fmt.Fprintf(&b, " WHEN regexp_full_match(%s, %s) THEN TRY_CAST(%s AS DATE)", day, sqlString(f.form), f.iso)
	}
	b.WriteString(" END END")
	return b.String()
}

// moneySQL reads an amount with a currency sign or word before or after
// it, thousands separators and a unit (6万元), as parseMoney does: cents
// rounded from the same double.
func moneySQL(t string) string {
	units := make([]string, len(moneyUnits))
	for i, u := range moneyUnits {
		units[i] = u.suffix
	}
	group := ""
	for _, g := range moneyGrouping {
		group += regexp.QuoteMeta(g)
	}
	form := fmt.Sprintf(`%[1]s?[0-9][0-9%[2]s]*(?:\.[0-9]+)?%[3]s?%[1]s?`, reAlt(moneyCurrency), group, reAlt(units))
	number := t
	for _, w := range append(append([]string(nil), moneyCurrency...), moneyGrouping...) {
		number = fmt.Sprintf("replace(%s, %s, '')", number, sqlString(w))
	}
	amount := fmt.Sprintf("CAST(%s AS DOUBLE)", number)
	for _, u := range moneyUnits {
		amount = fmt.Sprintf("CASE WHEN ends_with(%[1]s, %[2]s) THEN CAST(regexp_replace(%[1]s, %[3]s, '') AS DOUBLE) * %[4]g ELSE %[5]s END",
			number, sqlString(u.suffix), sqlString(regexp.QuoteMeta(u.suffix)+"$"), u.scale, amount)
	}
	// An amount DECIMAL(14,2) cannot hold is left to parseMoney to refuse.
	return fmt.Sprintf("CASE WHEN regexp_full_match(%s, %s) THEN TRY_CAST(round(%s * 100) / 100 AS DECIMAL(14,2)) END",
		t, sqlString(form), amount)
}

// enumSQL reads the column's values as written, then in lower case, as parseEnum does.
func enumSQL(c *Column, t string) string {
	var exact, lower strings.Builder
	for _, k := range sortedKeys(c.Values) {
		fmt.Fprintf(&exact, " WHEN %s THEN %s", sqlString(k), sqlString(c.Values[k]))
		fmt.Fprintf(&lower, " WHEN %s THEN %s", sqlString(k), sqlString(c.Values[k]))
	}
	return fmt.Sprintf("coalesce(CASE %s%s END, CASE lower(%s)%s END)", t, exact.String(), t, lower.String())
}

// rowHashSQL is rowHash over the canonical columns, each named by col.
func rowHashSQL(t *Table, col func(c *Column) string) string {
	parts := make([]string, len(t.Columns))
	for i := range t.Columns {
		parts[i] = fmt.Sprintf("coalesce(CAST(%s AS VARCHAR), '')", col(&t.Columns[i]))
	}
	return "md5_number_lower(concat(" + strings.Join(parts, ", chr(31), ") + ", chr(31)))"
}

// fastQuery is the SQL that reads one CSV sheet below its header.
type fastQuery struct {
	t      *Table
	m      mapping
	path   string // the numbered copy of the lines below the header (numberLines)
	comma  rune
	batch  int64
	sqlNow string // valid_from, as a SQL literal
}

// rows is the SELECT of every line below the header, from the numbered
// copy numberLines wrote, as n (its number), l (its text), fast (SQL read
// all of it: never a line that is not plain), the record's key, hash and
// the canonical columns c0, c1, ….
func (q fastQuery) rows() string {
	var tidied, texts, values, known, cols []string
	for i := range q.t.Columns {
		c := &q.t.Columns[i]
		cell := "NULL"
		if ci := q.m.cols[i]; ci >= 0 {
			cell = fmt.Sprintf("c[%d]", ci+1)
		}
		text := tidySQL(cell)
		if c.Kind == Date {
			text = cutSQL(text)
		}
		t, v := fmt.Sprintf("t%d", i), fmt.Sprintf("c%d", i)
		tidied = append(tidied, text+" AS "+t)
		texts = append(texts, t)
		values = append(values, valueSQL(c, t)+" AS "+v)
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
	return fmt.Sprintf(`SELECT n, l, coalesce(plain AND %[1]s AND (%[2]s), false) AS fast,
	%[3]s AS record_key, %[4]s AS row_hash, %[5]s
FROM (SELECT n, l, plain, %[6]s, %[7]s
  FROM (SELECT n, l, plain, %[8]s
    FROM (SELECT n, l, plain, string_split(l, %[9]s) AS c
      FROM read_csv(%[10]s, header = false, columns = {'n': 'BIGINT', 'plain': 'BOOLEAN', 'l': 'VARCHAR'},
        delim = chr(1), quote = '', escape = '', comment = '', new_line = '\n', auto_detect = false, max_line_size = %[11]d))))`,
		strings.Join(known, " AND "), strings.Join(keyPresent, " OR "),
		strings.Join(keyParts, " || '|' || "), rowHashSQL(q.t, colRef), strings.Join(cols, ", "),
		strings.Join(texts, ", "), strings.Join(values, ", "), strings.Join(tidied, ", "),
		sqlString(string(q.comma)), store.Quote(q.path), maxFastLine+32)
}

// read keeps what SQL read in _read, the text only of the lines it did
// not, so the values are computed once for both the insert and Go.
func (q fastQuery) read() string {
	cols := make([]string, len(q.t.Columns))
	for i := range cols {
		cols[i] = fmt.Sprintf("c%d", i)
	}
	return fmt.Sprintf("CREATE OR REPLACE TEMP TABLE _read AS SELECT n, fast, CASE WHEN NOT fast THEN l END AS l, record_key, row_hash, %s FROM (%s)",
		strings.Join(cols, ", "), q.rows())
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
	return fmt.Sprintf("INSERT INTO %s (%s) SELECT %s FROM _read WHERE fast",
		q.t.CanonTable(), strings.Join(cols, ", "), strings.Join(sel, ", "))
}

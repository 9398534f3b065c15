package ingest

import (
	"fmt"
	"safetynet/i18n"
	"sort"
	"strings"

	"golang.org/x/text/width"
)

// headerScanRows is how many rows from the top may be titles above the header.
const headerScanRows = 10

// normHeader folds a header name for matching: full-width forms, case,
// spaces, underscores and brackets are ignored.
func normHeader(s string) string {
	s = strings.ToLower(width.Fold.String(s))
	return strings.Map(func(r rune) rune {
		switch r {
		case ' ', '\t', '\n', '\r', '_', '-', '(', ')', '[', ']', '{', '}', '【', '】', '〔', '〕', '<', '>', '《', '》', '*', ':', '：', '\u3000', '\ufeff':
			return -1
		}
		return r
	}, s)
}

// stripBracketed removes bracketed asides such as （元） or (yyyy-mm-dd).
func stripBracketed(s string) string {
	s = width.Fold.String(s)
	var b strings.Builder
	depth := 0
	for _, r := range s {
		switch r {
		case '(', '[', '【', '〔':
			depth++
			continue
		case ')', ']', '】', '〕':
			if depth > 0 {
				depth--
			}
			continue
		}
		if depth == 0 {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// aliasIndex maps folded header names to canonical column names for one table.
type aliasIndex map[string]string

func newAliasIndex(t *Table, extra map[string][]string) aliasIndex {
	idx := aliasIndex{}
	add := func(alias, col string) {
		idx[normHeader(alias)] = col
		idx[normHeader(stripBracketed(alias))] = col // an alias written with （元） matches a bare header too
	}
	for _, c := range t.Columns {
		add(c.Name, c.Name)
		for _, a := range c.Aliases {
			add(a, c.Name)
		}
		for _, a := range extra[c.Name] {
			add(a, c.Name)
		}
	}
	return idx
}

func (idx aliasIndex) lookup(header string) (string, bool) {
	if c, ok := idx[normHeader(header)]; ok {
		return c, true
	}
	c, ok := idx[normHeader(stripBracketed(header))]
	return c, ok
}

// mapping says which cell holds which canonical column.
type mapping struct {
	cols    []int    // canonical column index → cell index, -1 when absent
	ignored []string // headers that map to nothing
}

// mapHeader maps a header row; it fails when two cells claim one column.
func mapHeader(t *Table, idx aliasIndex, cells []string) (mapping, []string, error) {
	m := mapping{cols: make([]int, len(t.Columns))}
	for i := range m.cols {
		m.cols[i] = -1
	}
	pos := map[string]int{}
	for i, c := range t.Columns {
		pos[c.Name] = i
	}
	for cell, h := range cells {
		if strings.TrimSpace(h) == "" {
			continue
		}
		name, ok := idx.lookup(h)
		if !ok {
			m.ignored = append(m.ignored, h)
			continue
		}
		ci := pos[name]
		if prev := m.cols[ci]; prev >= 0 {
			return m, nil, i18n.Msg("fe.duplicate_columns", prev+1, cells[prev], cell+1, h, i18n.Msg("f."+name))
		}
		m.cols[ci] = cell
	}
	var missing []string
	for i, c := range t.Columns {
		if c.Required && m.cols[i] < 0 {
			missing = append(missing, c.Name)
		}
	}
	return m, missing, nil
}

// matched counts the canonical columns a mapping found.
func (m mapping) matched() int {
	n := 0
	for _, c := range m.cols {
		if c >= 0 {
			n++
		}
	}
	return n
}

// missingHeaderError explains what was looked for and what was found.
func missingHeaderError(t *Table, missing []string, seen [][]string) i18n.Message {
	var want []string
	for _, name := range missing {
		c := t.Column(name)
		want = append(want, fmt.Sprintf("%s (%s)", name, strings.Join(c.Aliases, ", ")))
	}
	sort.Strings(want)
	found := i18n.Msg("fe.nothing")
	for _, row := range seen {
		if nonEmpty(row) > 1 {
			found = i18n.Msg("q.other", strings.Join(row, " | "))
			break
		}
	}
	return i18n.Msg("fe.missing_header", headerScanRows, strings.Join(want, "; "), found)
}

func nonEmpty(row []string) int {
	n := 0
	for _, c := range row {
		if strings.TrimSpace(c) != "" {
			n++
		}
	}
	return n
}

var (
	totalsNoise = dropAll(totalsNoiseChars)
	totals      = setOf(totalsWords)
)

// isTotalsRow recognises the 合计 row at the bottom of Excel exports: its
// first non-empty cell says 合计 (or 总计, 小计, total).
func isTotalsRow(cells []string) bool {
	for _, c := range cells {
		if word, decided := totalsCell(c); decided {
			return word
		}
	}
	return false
}

// totalsCell reads one cell as isTotalsRow does: decided is false for a
// cell of nothing but spaces and totals noise (合计： is 合计, a lone ：
// nothing), which it passes over to the next.
func totalsCell(c string) (word, decided bool) {
	c = totalsNoise.Replace(strings.TrimSpace(c))
	if c == "" {
		return false, false
	}
	return totals[strings.ToLower(c)], true
}

package ingest

import (
	"database/sql"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"safetynet/store"
)

// TestPlainCellsSQLEveryCharacter: for every character between two
// others in a cell, the SQL that decides a Parquet row is plain says
// what the character-at-a-time definition says (plainChars), and for
// the cells plainLine decides by more than their characters (spaces at
// the ends, empty marks, blank rows, totals rows) it says what plainLine
// says.
func TestPlainCellsSQLEveryCharacter(t *testing.T) {
	db := openDB(t)
	rows, err := db.Query(`SELECT cp FROM (SELECT range AS cp FROM range(0, 55296) UNION ALL SELECT range FROM range(57344, 1114112))
		WHERE NOT ` + plainCellsSQL([]string{`'a' || chr(cp::INTEGER) || 'b'`, `'x'`}))
	if err != nil {
		t.Fatal(err)
	}
	refused := map[rune]bool{}
	for rows.Next() {
		var cp int
		if err := rows.Scan(&cp); err != nil {
			t.Fatal(err)
		}
		refused[rune(cp)] = true
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	bad := 0
	for r := rune(0); r <= utf8.MaxRune; r++ {
		if !utf8.ValidRune(r) {
			continue
		}
		if want := plainChars("a"+string(r)+"b", ","); refused[r] == want {
			t.Errorf("U+%04X: SQL plain %v, want %v", r, !refused[r], want)
			if bad++; bad > 20 {
				t.FailNow()
			}
		}
	}

	var cases []string
	for _, m := range emptyMarkList {
		cases = append(cases, m+",x")
	}
	for _, w := range totalsWords {
		cases = append(cases, w+",1", strings.ToUpper(w)+",1", ":,"+w, ","+w+":,2", "1,"+w)
	}
	noiseFirst := map[string]bool{":,9": true, ",:,x": true}
	cases = append(cases, " a,b", "a ,b", "a b,c", ",", "x,", ",y", "合 计,1", "总计金额,1", ":,9", ",:,x")
	for _, line := range cases {
		cells := strings.Split(line, ",")
		var lit []string
		for _, c := range cells {
			lit = append(lit, store.Quote(c))
		}
		var got bool
		if err := db.QueryRow(`SELECT ` + plainCellsSQL(lit)).Scan(&got); err != nil {
			t.Fatal(err)
		}
		want := plainLine([]byte(line), ",", len(cells))
		if noiseFirst[line] {
			want = false // left to Go, which passes over the noise (plainCellsSQL)
		}
		if got != want {
			t.Errorf("%q: SQL plain %v, want %v", line, got, want)
		}
	}
}

// parquetOf writes rows of a table's columns to a Parquet file, as
// fileRows makes them (random values, blank rows, a totals row, repeats),
// with NULL for a blank cell; typed, the dates, amounts (without ¥ and
// 元) and counts that read as DuckDB's DATE, DOUBLE and BIGINT are stored
// as those types and the others as NULL, as a database export holds them.
func parquetOf(t *testing.T, r *rand.Rand, tbl *Table, n int, typed bool) string {
	t.Helper()
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	var cols, sel []string
	for i, c := range tbl.Columns {
		cols = append(cols, fmt.Sprintf("v%d VARCHAR", i))
		expr := fmt.Sprintf("v%d", i)
		if typed {
			switch c.Kind {
			case Date:
				expr = fmt.Sprintf("TRY_CAST(v%d AS DATE)", i)
			case Money:
				expr = fmt.Sprintf("TRY_CAST(regexp_replace(v%d, '[¥元]', '', 'g') AS DOUBLE)", i)
			case Int:
				expr = fmt.Sprintf("TRY_CAST(v%d AS BIGINT)", i)
			}
		}
		sel = append(sel, expr+" AS "+store.Ident(c.Aliases[0]))
	}
	if _, err := db.Exec(`CREATE TABLE src (i INTEGER, ` + strings.Join(cols, ", ") + `)`); err != nil {
		t.Fatal(err)
	}
	marks := strings.Repeat(", ?", len(tbl.Columns))
	ins, err := db.Prepare(`INSERT INTO src VALUES (?` + marks + `)`)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(fileRows(r, tbl, n, "\x1f"), "\n"), "\n")[2:] // below the title and header
	for i, line := range lines {
		cells := strings.Split(strings.TrimSuffix(line, "\r"), "\x1f")
		args := []any{i}
		for j := range tbl.Columns {
			var v any
			if j < len(cells) && cells[j] != "" {
				v = strings.Trim(cells[j], `"`)
			}
			args = append(args, v)
		}
		if _, err := ins.Exec(args...); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(t.TempDir(), tbl.Name+".parquet")
	if _, err := db.Exec(`COPY (SELECT ` + strings.Join(sel, ", ") + ` FROM src ORDER BY i) TO ` + store.Quote(path) + ` (FORMAT parquet, ROW_GROUP_SIZE 512)`); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestFastPathStoresWhatGoStoresParquet: the same random Parquet files,
// of texts and of typed columns, in row groups of 512, through the fast
// path and through Go alone, two deliveries: the same counts, stored
// rows and quarantine.
func TestFastPathStoresWhatGoStoresParquet(t *testing.T) {
	r := rand.New(rand.NewPCG(14, 12))
	for _, name := range []string{"medins", "members", "disability"} {
		tbl := TableNamed(name)
		for _, typed := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/typed=%v", name, typed), func(t *testing.T) {
				fast, slow := openDB(t), openDB(t)
				for delivery := range 2 {
					path := parquetOf(t, r, tbl, 1500, typed)
					got := ingestBoth(t, fast, slow, tbl, path, time.Date(2026, 12, 7, 9, delivery, 0, 0, time.UTC))
					if got.SQLRows < got.Read/2 || got.SQLRows == got.Read {
						t.Errorf("delivery %d: SQL read %d of %d rows: want most, not all", delivery, got.SQLRows, got.Read)
					}
				}
			})
		}
	}
}

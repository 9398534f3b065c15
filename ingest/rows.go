package ingest

import (
	"crypto/md5"
	"database/sql/driver"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/big"
	"safetynet/i18n"
	"strconv"
	"strings"
	"time"

	"github.com/duckdb/duckdb-go/v2"
)

// driverValue is what the DuckDB appender takes for one column.
type driverValue = driver.Value

// parsedRow is one row turned into canonical values, ready to append.
type parsedRow struct {
	key    string
	hash   uint64
	line   int
	values []driverValue // record_key, row_hash, line, then Table.Columns in order; nil for absent
	// notes are the values of a stored row that could not be read (left
	// unknown) or were kept with a warning, for the department to fix.
	notes []fieldNote
}

// fieldNote is one value of a stored row the department should look at.
type fieldNote struct {
	col, raw string
	msg      i18n.Message
}

// parseRow maps cells through m and parses each value by its column's kind.
// A required value that cannot be read sends the row to quarantine: it
// returns the first bad column and every problem found. Any other value
// that cannot be read is left unknown and noted, and the row is kept: a
// household is not dropped from the registry for its income's spelling.
func parseRow(t *Table, m mapping, cells []string, line int) (parsedRow, string, string, error) {
	// Three spare places at the end for the batch id, valid_from and sheet the loader adds.
	row := parsedRow{line: line, values: make([]driverValue, 3+len(t.Columns), 6+len(t.Columns))}
	vals := row.values[3:]
	var problems i18n.Problems
	badCol, badRaw := "", ""
	var content []byte // the canonical values, each ended by 0x1f: what the row's hashes are of
	for i := range t.Columns {
		c := &t.Columns[i]
		raw := ""
		if ci := m.cols[i]; ci >= 0 && ci < len(cells) {
			raw = cells[ci]
		}
		v, err := parseValue(c, raw)
		var kept *notice
		switch {
		case errors.Is(err, errBlank):
			if c.Required {
				err = i18n.Msg("q.required")
			} else {
				err = nil
			}
			v = nil
		case errors.As(err, &kept):
			row.notes = append(row.notes, fieldNote{col: c.Name, raw: raw, msg: kept.msg})
			err = nil
		case err != nil && !c.Required:
			row.notes = append(row.notes, fieldNote{col: c.Name, raw: raw, msg: message(err)})
			err, v = nil, nil
		}
		if err != nil {
			if badCol == "" {
				badCol, badRaw = c.Name, raw
			}
			problems = append(problems, i18n.Problem{Col: c.Name, Msg: message(err)})
			continue
		}
		if v == nil {
			content = append(content, 0x1f)
			continue
		}
		content = appendValue(content, v)
		content = append(content, 0x1f)
		if f, ok := v.(float64); ok { // money goes into DECIMAL(14,2) columns as exact cents
			v = duckdb.Decimal{Width: 14, Scale: 2, Value: big.NewInt(int64(math.Round(f * 100)))}
		}
		vals[i] = v
	}
	if len(problems) > 0 {
		for _, n := range row.notes { // the row is not stored: say all that is wrong with it
			problems = append(problems, i18n.Problem{Col: n.col, Msg: n.msg})
		}
		return row, badCol, badRaw, problems
	}
	row.hash = rowHash(content)
	row.key = recordKey(t, vals, content)
	row.values[0], row.values[1], row.values[2] = row.key, row.hash, int64(line)
	return row, "", "", nil
}

func parseValue(c *Column, raw string) (any, error) {
	switch c.Kind {
	case ID:
		return checkID(raw)
	case Date:
		return parseDate(raw)
	case Money:
		return parseMoney(raw)
	case Int:
		return parseInt(raw)
	case Level:
		return parseLevel(raw)
	case Sex:
		return parseSex(raw)
	case Enum:
		return parseEnum(c, raw)
	case Phone:
		return parsePhone(raw)
	}
	s := cleanText(raw)
	if s == "" {
		return nil, errBlank
	}
	return s, nil
}

// appendValue appends the canonical text of a value, for hashing.
func appendValue(b []byte, v any) []byte {
	switch x := v.(type) {
	case nil:
		return b
	case string:
		return append(b, x...)
	case time.Time:
		return x.AppendFormat(b, "2006-01-02")
	case float64:
		return strconv.AppendFloat(b, x, 'f', 2, 64)
	case int32:
		return strconv.AppendInt(b, int64(x), 10)
	}
	return fmt.Append(b, v)
}

func valueText(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case time.Time:
		return x.Format("2006-01-02")
	case float64:
		return strconv.FormatFloat(x, 'f', 2, 64)
	case int32:
		return strconv.Itoa(int(x))
	}
	return fmt.Sprint(v)
}

// rowHash is what says whether a record changed: the low half of the MD5
// of its canonical values, as DuckDB's md5_number_lower computes it, so
// that rows the fast path stores in SQL hash alike (see rowHashSQL).
func rowHash(content []byte) uint64 {
	sum := md5.Sum(content)
	return binary.LittleEndian.Uint64(sum[8:])
}

// recordKey is the record_id (or the table's key columns); a row with none
// is keyed by its content, by FNV-1a as keys always were.
func recordKey(t *Table, vals []driverValue, content []byte) string {
	keys := t.Key
	if len(keys) == 0 {
		keys = []string{"record_id"}
	}
	var parts []string
	empty := true
	for _, k := range keys {
		for i := range t.Columns {
			if t.Columns[i].Name == k {
				s := valueText(vals[i])
				if s != "" {
					empty = false
				}
				parts = append(parts, s)
			}
		}
	}
	if empty {
		return "content:" + strconv.FormatUint(fnv64(string(content)), 16)
	}
	return strings.Join(parts, "|")
}

// message is a value's problem as a catalogue message; an error that is
// not one (none should be) is quoted as it is.
func message(err error) i18n.Message {
	var m i18n.Message
	if errors.As(err, &m) {
		return m
	}
	return i18n.Msg("q.other", err.Error())
}

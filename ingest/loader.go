package ingest

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/duckdb/duckdb-go/v2"

	"safetynet/i18n"
	"safetynet/store"
)

// loader stores the sheets of one file in one batch, inside a transaction.
type loader struct {
	ctx    context.Context
	conn   *sql.Conn
	batch  int64
	source string
	// feed is whose headers this batch's are compared with (drift): the
	// source, or source@peer for what a peer forwards.
	feed string
	file string
	size int64 // the delivery's bytes, 0 when unknown
	opt  Options
	res  *Result

	stages     map[*Table]*stage
	quarantine *duckdb.Appender
	sheetNames []string
	headers    map[*Table][]headerCell // the header each table was first read under
	headerLine int
	now        time.Time // valid_from of this batch's rows
	// keepLatest: a record repeated within the delivery keeps its last
	// version (an API sends a record again when it changed during the
	// pull); in a file a person must say which of two is right.
	keepLatest bool
	// byLine: rows were stored out of file order (the fast path stores
	// what SQL reads before what Go reads), so line numbers give the order.
	byLine bool
}

// progressEvery is how often Options.Progress hears of a file's progress.
const progressEvery = 10_000

// flushEvery is how many rows the appender gathers before writing them.
const flushEvery = 122_880 // 60 DuckDB vectors, a row group's worth

// stage appends a batch's rows to one canonical table.
type stage struct {
	app     *duckdb.Appender
	rows    int
	repeats *repeats
	sqlKeys bool // some rows were stored by SQL, so their keys are not in repeats
}

func (l *loader) loadSheet(tables []*Table, sh sheet) error {
	where := filepath.Base(l.file)
	if sh.name != "" {
		where += " sheet " + sh.name
	}
	// Find the header among the first rows, and which table it is.
	var top [][]string
	var t *Table
	var m mapping
	var header []string
	var bestMissing []string
	var bestTable *Table
	bestMatched := -1
	indexes := make([]aliasIndex, len(tables))
	for i, cand := range tables {
		indexes[i] = newAliasIndex(cand, l.opt.Aliases)
	}
	for len(top) < headerScanRows {
		cells, err := sh.src.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		var re *rowError
		if errors.As(err, &re) {
			top = append(top, nil)
			continue
		}
		if err != nil {
			return fileErr(l.file, unreadable(where, err))
		}
		cells = append([]string(nil), cells...)
		// A header of two rows, from merged cells: a column merged down
		// keeps its name in the upper row only, and a group title merged
		// across sits above the names. Read each cell, or the one above it.
		tries := [][]string{cells}
		if len(top) > 0 && top[len(top)-1] != nil {
			tries = append(tries, fillFromAbove(top[len(top)-1], cells))
		}
		top = append(top, cells)
		for _, try := range tries {
			for i, cand := range tables {
				cm, missing, err := mapHeader(cand, indexes[i], try)
				if err != nil {
					return fileErr(l.file, i18n.Msg("fe.at_line", where, sh.src.Line(), message(err)))
				}
				if len(missing) == 0 && cm.matched() >= 2 && (t == nil || cm.matched() > m.matched()) {
					t, m, header = cand, cm, try
				}
				if cm.matched() > bestMatched {
					bestMatched, bestMissing, bestTable = cm.matched(), missing, cand
				}
			}
		}
		if t != nil {
			l.headerLine = sh.src.Line()
			break
		}
	}
	if t == nil {
		if len(top) == 0 || allBlank(top) {
			return fileErr(l.file, i18n.Msg("fe.empty", where))
		}
		return fileErr(l.file, i18n.Msg("fe.where", where, missingHeaderError(bestTable, bestMissing, top)))
	}
	if len(m.ignored) > 0 {
		l.res.Notes = append(l.res.Notes, fmt.Sprintf("%s: columns not used: %s", where, strings.Join(m.ignored, ", ")))
	}
	l.noteHeader(t, header, m)
	l.res.Tables = appendUnique(l.res.Tables, t.Name)
	l.sheetNames = append(l.sheetNames, sh.name)
	st, err := l.stageFor(t)
	if err != nil {
		return err
	}
	width := 0
	for _, c := range m.cols {
		if c+1 > width {
			width = c + 1
		}
	}
	src := sh.src
	if err := l.readRows(where, sh.name, src, t, m, width, st); err != nil {
		return err
	}
	if o, ok := src.(*objectSource); ok {
		if late := o.Late(); len(late) > 0 {
			sort.Strings(late)
			l.res.Notes = append(l.res.Notes, fmt.Sprintf("%s: keys first seen after the first %d records were not read: %s", where, lookahead, strings.Join(late, ", ")))
		}
	}
	return nil
}

// readRows stores the rows of src below its header: on the fast path
// where the file takes it, in Go otherwise.
func (l *loader) readRows(where, sheetName string, src rowSource, t *Table, m mapping, width int, st *stage) error {
	if ff := fastFileOf(src); ff != nil && !l.opt.NoFastPath {
		fs := fastSheet{t: t, m: m, width: width, file: ff, headerLine: l.headerLine, stage: st}
		fast, err := l.readFast(fs)
		if err != nil {
			return err
		}
		if fast {
			return l.appendSlow(where, fs)
		}
	}
	return l.appendRows(where, sheetName, src, t, m, width, st)
}

// appendRows parses the rows of src on every core and appends them to the
// stage in file order; a row that cannot be read goes to quarantine.
func (l *loader) appendRows(where, sheetName string, src rowSource, t *Table, m mapping, width int, st *stage) error {
	var sheet driverValue
	if sheetName != "" {
		sheet = sheetName
	}
	_, isCSV := src.(*csvSource)
	_, isSlow := src.(*linesSource)
	rows, wait := parseAhead(src, t, m, width, isCSV || isSlow)
	defer wait()
	for r := range rows {
		if r.fatal != nil {
			return fileErr(l.file, i18n.Msg("fe.fatal", where, message(r.fatal)))
		}
		if r.blank {
			continue
		}
		l.res.Read++
		if r.totals {
			l.res.Skipped++
			continue
		}
		if l.opt.Progress != nil && l.res.Read%progressEvery == 0 {
			l.opt.Progress(l.res.Read)
		}
		if r.err != nil {
			if err := l.quarantineRow(sheetName, r.line, r.col, r.val, r.raw, r.err); err != nil {
				return err
			}
			continue
		}
		row := r.row
		for _, n := range row.notes {
			if err := l.noteValue(sheetName, r.line, n); err != nil {
				return err
			}
		}
		st.repeats.add(row.key)
		if err := st.app.AppendRow(append(row.values, l.batch, l.now, sheet)...); err != nil {
			return fmt.Errorf("ingest %s line %d: stage row: %w", l.file, r.line, err)
		}
		st.rows++
		if st.rows%flushEvery == 0 {
			// The appender holds rows until it flushes: flush as we go, so
			// memory stays flat and DuckDB writes while parsing goes on.
			if err := st.app.Flush(); err != nil {
				return fmt.Errorf("ingest %s line %d: store rows: %w", l.file, r.line, err)
			}
		}
	}
	return nil
}

// fillFromAbove lays the upper row of a two-row header under the gaps of
// the lower one.
func fillFromAbove(above, cells []string) []string {
	out := make([]string, max(len(above), len(cells)))
	for i := range out {
		if i < len(cells) && strings.TrimSpace(cells[i]) != "" {
			out[i] = cells[i]
		} else if i < len(above) {
			out[i] = above[i]
		}
	}
	return out
}

func allBlank(rows [][]string) bool {
	for _, r := range rows {
		if nonEmpty(r) > 0 {
			return false
		}
	}
	return true
}

func appendUnique(s []string, v string) []string {
	for _, x := range s {
		if x == v {
			return s
		}
	}
	return append(s, v)
}

// stageFor opens the appender of a canonical table on first use. Rows go
// straight into it, written once; merge then settles duplicates and
// versions in SQL, inside the batch's transaction.
func (l *loader) stageFor(t *Table) (*stage, error) {
	if st, ok := l.stages[t]; ok {
		return st, nil
	}
	cols := []string{"record_key", "row_hash", "line"}
	for _, c := range t.Columns {
		cols = append(cols, c.Name)
	}
	cols = append(cols, "batch_id", "valid_from", "sheet")
	app, err := store.NewColumnAppender(l.conn, t.CanonTable(), cols)
	if err != nil {
		return nil, err
	}
	st := &stage{app: app, repeats: newRepeats(l.size)}
	l.stages[t] = st
	return st, nil
}

func (l *loader) quarantineRow(sheet string, line int, col, raw, rawRow string, why error) error {
	l.res.Quarantined++
	problems, ok := why.(i18n.Problems)
	if !ok {
		problems = i18n.Problems{{Col: col, Msg: message(why)}}
	}
	return l.appendQuarantine(sheet, line, col, raw, rawRow, problems, false)
}

// noteValue lists a value of a stored row that the department should fix.
func (l *loader) noteValue(sheet string, line int, n fieldNote) error {
	l.res.Noted++
	return l.appendQuarantine(sheet, line, n.col, n.raw, "", i18n.Problems{{Col: n.col, Msg: n.msg}}, true)
}

func (l *loader) appendQuarantine(sheet string, line int, col, raw, rawRow string, problems i18n.Problems, kept bool) error {
	if l.quarantine == nil {
		app, err := store.NewColumnAppender(l.conn, "ingest_quarantine",
			[]string{"batch_id", "source", "file_name", "sheet", "line", "col", "raw_value", "raw_row", "reason", "kept", "problems"})
		if err != nil {
			return err
		}
		l.quarantine = app
	}
	if len(rawRow) > 4000 {
		rawRow = rawRow[:4000] + "…"
	}
	if len(raw) > 1000 {
		raw = raw[:1000] + "…"
	}
	js, err := json.Marshal(problems)
	if err != nil {
		return err
	}
	return l.quarantine.AppendRow(l.batch, l.source, l.file, nullable(sheet), int64(line), nullable(col), nullable(raw), nullable(rawRow),
		problems.Error(), kept, string(js))
}

func nullable(s string) driverValue {
	if s == "" {
		return nil
	}
	return s
}

// merge settles the batch's rows against the earlier versions: a row
// identical to the current version of its record changes nothing and is
// removed again; a record with new content closes its current version.
func (l *loader) merge() error {
	if l.quarantine != nil {
		if err := l.quarantine.Close(); err != nil {
			return fmt.Errorf("ingest %s: quarantine: %w", l.file, err)
		}
	}
	for t, st := range l.stages {
		if err := st.app.Close(); err != nil {
			return fmt.Errorf("ingest %s: store records: %w", l.file, err)
		}
		canon := t.CanonTable()
		if err := l.settleDuplicates(t, st); err != nil {
			return err
		}
		if t.Supersede != nil {
			if err := l.noteDelivered(t); err != nil {
				return err
			}
		}
		var earlier bool
		if err := l.conn.QueryRowContext(l.ctx, fmt.Sprintf(`SELECT EXISTS (SELECT 1 FROM %s WHERE valid_to IS NULL AND batch_id <> %d)`, canon, l.batch)).Scan(&earlier); err != nil {
			return err
		}
		if !earlier { // the table's first delivery: every row is new
			l.res.New += st.rows
			continue
		}
		unchanged, err := l.dropUnchanged(canon)
		if err != nil {
			return fmt.Errorf("ingest %s: drop unchanged records: %w", l.file, err)
		}
		res, err := l.conn.ExecContext(l.ctx, fmt.Sprintf(`UPDATE %[1]s SET valid_to = ? FROM (
			SELECT DISTINCT record_key FROM %[1]s WHERE batch_id = %[2]d) n
			WHERE %[1]s.valid_to IS NULL AND %[1]s.batch_id <> %[2]d AND %[1]s.record_key = n.record_key`, canon, l.batch), l.now)
		if err != nil {
			return fmt.Errorf("ingest %s: close changed records: %w", l.file, err)
		}
		changed, _ := res.RowsAffected()
		l.res.Unchanged += int(unchanged)
		l.res.Changed += int(changed)
		l.res.New += st.rows - int(unchanged) - int(changed)
		if t.Supersede != nil {
			if err := l.closeSuperseded(t); err != nil {
				return err
			}
		}
	}
	return nil
}

// dropUnchanged deletes the batch's rows that are the current version of
// their record already, and says how many there were. The batch's keys
// go into a temporary table first: inside the transaction its rows are
// not the table's yet, DuckDB cannot estimate how few they are, and it
// built its hash table on the whole history instead (8 s for a file of a
// million settlements against 35 million stored, at 5M persons; 0.7 s
// this way).
func (l *loader) dropUnchanged(canon string) (int64, error) {
	if _, err := l.conn.ExecContext(l.ctx, fmt.Sprintf(`CREATE OR REPLACE TEMP TABLE _batch AS
		SELECT rowid AS rid, record_key, row_hash FROM %s WHERE batch_id = %d`, canon, l.batch)); err != nil {
		return 0, err
	}
	defer l.conn.ExecContext(l.ctx, `DROP TABLE IF EXISTS _batch`)
	res, err := l.conn.ExecContext(l.ctx, fmt.Sprintf(`DELETE FROM %[1]s WHERE rowid IN (
		SELECT b.rid FROM _batch b JOIN %[1]s o ON o.record_key = b.record_key AND o.row_hash = b.row_hash
		WHERE o.batch_id <> %[2]d AND o.valid_to IS NULL)`, canon, l.batch))
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// noteDelivered keeps the delivered records' keys and the values they
// supersede by, before the batch's unchanged rows are dropped again.
func (l *loader) noteDelivered(t *Table) error {
	sp := t.Supersede
	_, err := l.conn.ExecContext(l.ctx, fmt.Sprintf(`CREATE OR REPLACE TEMP TABLE _delivered AS
		SELECT DISTINCT record_key, %s AS grp, %s FROM %s WHERE batch_id = %d`,
		sp.Group, strings.Join(sp.Same, ", "), t.CanonTable(), l.batch))
	if err != nil {
		return fmt.Errorf("ingest %s: note what the delivery holds: %w", l.file, err)
	}
	return nil
}

// closeSuperseded closes the current records that a delivered record of
// the same group replaces under another key (one of the Same columns
// agrees): the earlier version of a corrected member.
func (l *loader) closeSuperseded(t *Table) error {
	sp := t.Supersede
	var same []string
	for _, c := range sp.Same {
		same = append(same, fmt.Sprintf("(c.%[1]s IS NOT NULL AND c.%[1]s = d.%[1]s)", c))
	}
	res, err := l.conn.ExecContext(l.ctx, fmt.Sprintf(`UPDATE %[1]s c SET valid_to = ?
		WHERE c.valid_to IS NULL AND c.batch_id <> %[2]d
		AND c.record_key NOT IN (SELECT record_key FROM _delivered)
		AND EXISTS (SELECT 1 FROM _delivered d WHERE d.grp = c.%[3]s AND (%[4]s))`,
		t.CanonTable(), l.batch, sp.Group, strings.Join(same, " OR ")), l.now)
	if err != nil {
		return fmt.Errorf("ingest %s: close records a corrected one replaces: %w", l.file, err)
	}
	n, _ := res.RowsAffected()
	l.res.Removed += int(n)
	if n > 0 {
		l.res.Notes = append(l.res.Notes, fmt.Sprintf("%s: %d earlier records replaced by corrected ones (same %s and %s)", t.Name, n, sp.Group, strings.Join(sp.Same, " or ")))
	}
	_, err = l.conn.ExecContext(l.ctx, `DROP TABLE _delivered`)
	return err
}

// settleDuplicates handles a record that comes more than once in one
// delivery, in SQL so that memory does not grow with the file: the first
// occurrence (in file order, which is rowid order) stays; an exact repeat
// is skipped; a repeat with other values goes to quarantine, as a person
// must say which one is right.
func (l *loader) settleDuplicates(t *Table, st *stage) error {
	canon := t.CanonTable()
	if !st.repeats.maybe && !st.sqlKeys {
		return nil
	}
	if !st.repeats.maybe {
		var repeated bool
		if err := l.conn.QueryRowContext(l.ctx, fmt.Sprintf(`SELECT EXISTS (SELECT record_key FROM %s WHERE batch_id = %d GROUP BY record_key HAVING count(*) > 1)`, canon, l.batch)).
			Scan(&repeated); err != nil || !repeated {
			return err
		}
	}
	var cols []string
	for _, c := range t.Columns {
		cols = append(cols, fmt.Sprintf("coalesce(CAST(%s AS VARCHAR), '')", c.Name))
	}
	order := "rowid" // the first occurrence stays
	if l.byLine {
		order = "line"
	}
	if l.keepLatest {
		order = "rowid DESC" // the latest stays
	}
	_, err := l.conn.ExecContext(l.ctx, fmt.Sprintf(`CREATE OR REPLACE TEMP TABLE _dups AS
		SELECT rowid AS rid, record_key, row_hash, line, sheet, concat_ws(',', %[3]s) AS raw_row,
			first_value(row_hash) OVER w AS first_hash, first_value(line) OVER w AS first_line, row_number() OVER w AS k
		FROM %[1]s WHERE batch_id = %[2]d
		WINDOW w AS (PARTITION BY record_key ORDER BY %[4]s)
		QUALIFY count(*) OVER (PARTITION BY record_key) > 1`, canon, l.batch, strings.Join(cols, ", "), order))
	if err != nil {
		return fmt.Errorf("ingest %s: find repeated records: %w", l.file, err)
	}
	defer l.conn.ExecContext(l.ctx, `DROP TABLE IF EXISTS _dups`)
	var same, differ int
	if err := l.conn.QueryRowContext(l.ctx, `SELECT count(*) FILTER (k > 1 AND row_hash = first_hash), count(*) FILTER (k > 1 AND row_hash <> first_hash) FROM _dups`).
		Scan(&same, &differ); err != nil {
		return err
	}
	if same+differ == 0 {
		return nil
	}
	if l.keepLatest { // earlier versions within the pull are superseded, not in doubt
		same, differ = same+differ, 0
	}
	if differ > 0 {
		if _, err := l.conn.ExecContext(l.ctx, `INSERT INTO ingest_quarantine (batch_id, source, file_name, sheet, line, col, raw_value, raw_row, reason, problems)
		SELECT ?, ?, ?, sheet, line, 'record_id', record_key, raw_row,
			'record ' || record_key || ' appears again with other values (first on line ' || first_line || '): keep one and send it again',
			to_json([{'col': 'record_id', 'msg': {'key': 'q.repeat_differs', 'args': [to_json(record_key), to_json(first_line)]}}])::VARCHAR
		FROM _dups WHERE k > 1 AND row_hash <> first_hash ORDER BY rid`, l.batch, l.source, l.file); err != nil {
			return fmt.Errorf("ingest %s: quarantine repeated records: %w", l.file, err)
		}
	}
	if _, err := l.conn.ExecContext(l.ctx, fmt.Sprintf(`DELETE FROM %s WHERE rowid IN (SELECT rid FROM _dups WHERE k > 1)`, canon)); err != nil {
		return fmt.Errorf("ingest %s: drop repeated records: %w", l.file, err)
	}
	st.rows -= same + differ
	l.res.Skipped += same
	l.res.Quarantined += differ
	return nil
}

const insertBatch = `INSERT INTO ingest_batches (batch_id, source, table_name, file_name, file_sha256, file_bytes, encoding, sheet,
	header_line, started_at, finished_at, rows_read, rows_new, rows_changed, rows_unchanged, rows_quarantined, rows_skipped, notes, connector, rows_sql)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

func (l *loader) recordBatch(d delivery, started time.Time) error {
	r := l.res
	_, err := l.conn.ExecContext(l.ctx, insertBatch, l.batch, l.source, strings.Join(r.Tables, ","), l.file, d.sha256, d.bytes,
		r.Encoding, strings.Join(l.sheetNames, ","), l.headerLine, started, l.opt.Now(),
		r.Read, r.New, r.Changed, r.Unchanged, r.Quarantined, r.Skipped, strings.Join(r.Notes, "\n"), d.connector, r.SQLRows)
	return err
}

// releaseQuarantine marks the quarantined rows of earlier deliveries of the
// same file name as settled: the department sent the file again, fixed,
// and this batch holds what it says now (its own bad rows are quarantined
// afresh under this batch).
func (l *loader) releaseQuarantine() error {
	res, err := l.conn.ExecContext(l.ctx, `UPDATE ingest_quarantine SET released_by = ?, released_at = ?
		WHERE source = ? AND released_by IS NULL AND batch_id <> ? AND parse_filename(file_name) = parse_filename(?)`,
		l.batch, l.now, l.source, l.batch, l.file)
	if err != nil {
		return fmt.Errorf("ingest %s: release quarantined rows of the earlier delivery: %w", l.file, err)
	}
	if n, _ := res.RowsAffected(); n > 0 {
		l.res.Released = int(n)
		l.res.Notes = append(l.res.Notes, fmt.Sprintf("released %d quarantined rows of the earlier delivery of this file", n))
	}
	return nil
}

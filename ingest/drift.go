package ingest

import (
	"fmt"
	"strings"
)

// Drift is a change in a source's columns since its previous batch: a
// department added, dropped or renamed a column of its export.
type Drift struct {
	Table string
	Kind  string // new, missing, renamed
	Col   string // canonical column; "" for a new header safetynet does not use
	Was   string // the header in the previous batch
	Now   string // the header in this batch
}

func (d Drift) String() string {
	switch d.Kind {
	case "renamed":
		return fmt.Sprintf("%s.%s: header %q is now %q", d.Table, d.Col, d.Was, d.Now)
	case "missing":
		return fmt.Sprintf("%s.%s: column %q is no longer sent", d.Table, d.Col, d.Was)
	case "new":
		if d.Col == "" {
			return fmt.Sprintf("%s: new column %q (not used; map it under sources.<source>.aliases if it should be)", d.Table, d.Now)
		}
		return fmt.Sprintf("%s.%s: now sent, as %q", d.Table, d.Col, d.Now)
	}
	return d.Kind
}

type headerCell struct {
	position int
	header   string
	col      string // canonical column, "" when unused
}

// noteHeader keeps the header a table was first read under in this batch
// (later sheets of a workbook usually repeat it).
func (l *loader) noteHeader(t *Table, header []string, m mapping) {
	if l.headers == nil {
		l.headers = map[*Table][]headerCell{}
	}
	if _, ok := l.headers[t]; ok {
		return
	}
	byCell := map[int]string{}
	for ci, cell := range m.cols {
		if cell >= 0 {
			byCell[cell] = t.Columns[ci].Name
		}
	}
	var cells []headerCell
	for i, h := range header {
		if h = strings.TrimSpace(h); h != "" {
			cells = append(cells, headerCell{position: i + 1, header: h, col: byCell[i]})
		}
	}
	l.headers[t] = cells
}

// recordHeaders stores this batch's headers and what drifted since the
// source's previous batch of the same table.
func (l *loader) recordHeaders() error {
	for t, cells := range l.headers {
		var prevBatch int64
		err := l.conn.QueryRowContext(l.ctx, `SELECT coalesce(max(batch_id), 0) FROM ingest_headers WHERE source = ? AND table_name = ?`,
			l.feed, t.Name).Scan(&prevBatch)
		if err != nil {
			return fmt.Errorf("ingest %s: previous headers: %w", l.file, err)
		}
		var prev []headerCell
		if prevBatch > 0 {
			rows, err := l.conn.QueryContext(l.ctx, `SELECT position, header, coalesce(col, '') FROM ingest_headers WHERE batch_id = ? AND table_name = ? ORDER BY position`,
				prevBatch, t.Name)
			if err != nil {
				return fmt.Errorf("ingest %s: previous headers: %w", l.file, err)
			}
			for rows.Next() {
				var h headerCell
				if err := rows.Scan(&h.position, &h.header, &h.col); err != nil {
					rows.Close()
					return err
				}
				prev = append(prev, h)
			}
			rows.Close()
		}
		for _, c := range cells {
			if _, err := l.conn.ExecContext(l.ctx, `INSERT INTO ingest_headers VALUES (?, ?, ?, ?, ?, ?)`,
				l.batch, l.feed, t.Name, c.position, c.header, nullable(c.col)); err != nil {
				return err
			}
		}
		if prevBatch == 0 {
			continue
		}
		for _, d := range drift(t.Name, prev, cells) {
			l.res.Drift = append(l.res.Drift, d)
			if _, err := l.conn.ExecContext(l.ctx, `INSERT INTO ingest_drift VALUES (?, ?, ?, ?, ?, ?, ?)`,
				l.batch, l.feed, t.Name, d.Kind, nullable(d.Col), nullable(d.Was), nullable(d.Now)); err != nil {
				return err
			}
		}
	}
	return nil
}

// drift compares two headers of one table.
func drift(table string, prev, now []headerCell) []Drift {
	prevCol, nowCol := map[string]string{}, map[string]string{}
	prevHeaders := map[string]bool{}
	for _, h := range prev {
		prevHeaders[normHeader(h.header)] = true
		if h.col != "" {
			prevCol[h.col] = h.header
		}
	}
	for _, h := range now {
		if h.col != "" {
			nowCol[h.col] = h.header
		}
	}
	var out []Drift
	for _, h := range now {
		switch was, ok := prevCol[h.col]; {
		case h.col == "" && !prevHeaders[normHeader(h.header)]:
			out = append(out, Drift{Table: table, Kind: "new", Now: h.header})
		case h.col != "" && !ok:
			out = append(out, Drift{Table: table, Kind: "new", Col: h.col, Now: h.header})
		case h.col != "" && normHeader(was) != normHeader(h.header):
			out = append(out, Drift{Table: table, Kind: "renamed", Col: h.col, Was: was, Now: h.header})
		}
	}
	for _, h := range prev {
		if h.col != "" && nowCol[h.col] == "" {
			out = append(out, Drift{Table: table, Kind: "missing", Col: h.col, Was: h.header})
		}
	}
	return out
}

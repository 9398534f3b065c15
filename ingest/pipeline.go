package ingest

import (
	"errors"
	"io"
	"runtime"
	"strconv"
	"strings"
	"sync"
)

// readyRow is one data row after parsing, in file order.
type readyRow struct {
	line          int
	raw           string // the row's text, kept only when it goes to quarantine
	row           parsedRow
	col, val      string // the first bad column and its raw value
	err           error  // why the row goes to quarantine
	blank, totals bool
	fatal         error // the file cannot be read further
}

const chunkRows = 2048

type chunk struct {
	seq  int
	rows []readyRow
}

// parseAhead reads rows on one goroutine and parses them on the others,
// so that reading, parsing and appending to DuckDB overlap on every core.
// Rows come out in file order. wait stops the workers early if the
// consumer gives up.
func parseAhead(src rowSource, t *Table, m mapping, width int, strictWidth bool) (<-chan readyRow, func()) {
	workers := max(1, runtime.GOMAXPROCS(0))
	todo := make(chan chunk, workers*2)
	done := make(chan chunk, workers*2)
	out := make(chan readyRow, chunkRows)
	stop := make(chan struct{})
	var wg sync.WaitGroup

	go func() { // reader
		defer close(todo)
		seq := 0
		buf := make([]readyRow, 0, chunkRows)
		send := func() bool {
			select {
			case todo <- chunk{seq: seq, rows: buf}:
			case <-stop:
				return false
			}
			seq++
			buf = make([]readyRow, 0, chunkRows)
			return true
		}
		for {
			cells, err := src.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			var re *rowError
			switch {
			case errors.As(err, &re):
				buf = append(buf, readyRow{line: re.line, raw: re.raw, err: errors.New(re.reason)})
			case err != nil:
				buf = append(buf, readyRow{fatal: err})
				send()
				return
			default:
				buf = append(buf, readyRow{line: src.Line(), raw: "\x00", row: parsedRow{values: toValues(cells)}})
			}
			if len(buf) == chunkRows && !send() {
				return
			}
		}
		if len(buf) > 0 {
			send()
		}
	}()

	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for c := range todo {
				for i := range c.rows {
					parseReady(&c.rows[i], t, m, width, strictWidth)
				}
				select {
				case done <- c:
				case <-stop:
					return
				}
			}
		}()
	}
	go func() { wg.Wait(); close(done) }()

	go func() { // put chunks back in order
		defer close(out)
		next := 0
		pending := map[int]chunk{}
		for c := range done {
			pending[c.seq] = c
			for {
				p, ok := pending[next]
				if !ok {
					break
				}
				delete(pending, next)
				next++
				for _, r := range p.rows {
					select {
					case out <- r:
					case <-stop:
						return
					}
				}
			}
		}
	}()
	var once sync.Once
	return out, func() {
		once.Do(func() { close(stop) })
		for range out {
		}
	}
}

// toValues carries the raw cells to a worker in the values slot.
func toValues(cells []string) []driverValue { return []driverValue{cells} }

func parseReady(r *readyRow, t *Table, m mapping, width int, strictWidth bool) {
	if r.fatal != nil || r.raw != "\x00" {
		return // a fatal error, or a row that could not be split, stays as it is
	}
	cells := r.row.values[0].([]string)
	r.raw = ""
	r.row = parsedRow{}
	if nonEmpty(cells) == 0 {
		r.blank = true
		return
	}
	if isTotalsRow(cells) {
		r.totals = true
		return
	}
	if strictWidth && len(cells) < width {
		r.raw, r.err = strings.Join(cells, ","), errShort(len(cells), width)
		return
	}
	row, col, val, err := parseRow(t, m, cells, r.line)
	if err != nil {
		r.raw, r.col, r.val, r.err = strings.Join(cells, ","), col, val, err
		return
	}
	r.row = row
}

type shortRow struct{ got, want int }

func (e shortRow) Error() string {
	return "the line has " + strconv.Itoa(e.got) + " fields but the header needs " + strconv.Itoa(e.want) + ": a cut line or a missing delimiter"
}

func errShort(got, want int) error { return shortRow{got, want} }

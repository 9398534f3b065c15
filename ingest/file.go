package ingest

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"safetynet/store"
)

// Options tune how files are read.
type Options struct {
	Aliases map[string][]string // canonical column → extra header names (config)
	Now     func() time.Time
	// Progress, when set, is called every few thousand rows with the rows
	// read so far in the current file (for progress bars).
	Progress func(rows int)
}

// Result says what became of one file.
type Result struct {
	Source, File    string
	BatchID         int64
	Tables          []string
	Encoding        string
	Read            int // data rows read (not titles, header, blank or totals rows)
	New, Changed    int
	Unchanged       int
	Quarantined     int
	Skipped         int // blank, totals and exact duplicate rows
	AlreadyIngested bool
	Notes           []string
}

// FileError means the file as a whole could not be read; it is rejected.
type FileError struct {
	File   string
	Reason string
}

func (e *FileError) Error() string { return fmt.Sprintf("ingest %s: %s", e.File, e.Reason) }

func fileErr(path, format string, a ...any) error {
	return &FileError{File: path, Reason: fmt.Sprintf(format, a...)}
}

// sheet is one stream of rows in a file and where it came from.
type sheet struct {
	name string // "" for text files
	src  rowSource
}

// IngestFile reads one file of a source and stores it as one batch. A
// *FileError means the file cannot be read at all and nothing was stored;
// any other error is the database's.
func IngestFile(ctx context.Context, db *store.DB, source, path string, opt Options) (*Result, error) {
	if opt.Now == nil {
		opt.Now = time.Now
	}
	tables := TablesOf(source)
	if len(tables) == 0 {
		return nil, fmt.Errorf("ingest: unknown source %q", source)
	}
	res := &Result{Source: source, File: path}
	sum, size, err := fileHash(path)
	if err != nil {
		return nil, fileErr(path, "cannot read: %v", err)
	}
	var prior int64
	err = db.QueryRowContext(ctx, `SELECT coalesce(max(batch_id), 0) FROM ingest_batches WHERE source = ? AND file_sha256 = ?`, source, sum).Scan(&prior)
	if err != nil {
		return nil, fmt.Errorf("ingest: look up earlier batches: %w", err)
	}
	if prior > 0 {
		res.AlreadyIngested, res.BatchID = true, prior
		res.Notes = append(res.Notes, fmt.Sprintf("the same content was ingested as batch %d; nothing added", prior))
		return res, nil
	}

	f, err := os.Open(path)
	if err != nil {
		return nil, fileErr(path, "cannot open: %v", err)
	}
	defer f.Close()
	sheets, enc, closeFn, err := openSheets(f, path)
	if err != nil {
		return nil, fileErr(path, "%v", err)
	}
	defer closeFn()
	res.Encoding = enc

	started := opt.Now()
	err = db.Tx(ctx, func(conn *sql.Conn) error {
		var batch int64
		if err := conn.QueryRowContext(ctx, `SELECT nextval('ingest_batch_seq')`).Scan(&batch); err != nil {
			return err
		}
		res.BatchID = batch
		l := &loader{ctx: ctx, conn: conn, batch: batch, source: source, file: path, opt: opt, res: res, stages: map[*Table]*stage{}, now: started}
		var headerErrs []string
		for _, sh := range sheets {
			if err := l.loadSheet(tables, sh); err != nil {
				var fe *FileError
				if errors.As(err, &fe) {
					headerErrs = append(headerErrs, fe.Reason)
					continue
				}
				return err
			}
		}
		if len(l.stages) == 0 {
			return fileErr(path, "%s", strings.Join(headerErrs, "; "))
		}
		for _, msg := range headerErrs {
			res.Notes = append(res.Notes, "skipped: "+msg)
		}
		if err := l.merge(); err != nil {
			return err
		}
		return l.recordBatch(sum, size, started)
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

func fileHash(path string) (string, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return "", 0, err
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

// openSheets picks a reader by the file's name and opens its sheets.
func openSheets(f *os.File, path string) ([]sheet, string, func(), error) {
	noop := func() {}
	switch strings.ToLower(filepath.Ext(path)) {
	case ".xlsx", ".xlsm":
		wb, err := openXLSX(f)
		if err != nil {
			return nil, "", noop, err
		}
		var sheets []sheet
		for _, ref := range wb.sheets {
			s, err := wb.sheet(ref)
			if err != nil {
				return nil, "", noop, err
			}
			sheets = append(sheets, sheet{name: ref.name, src: s})
		}
		return sheets, "xlsx", noop, nil
	case ".jsonl", ".ndjson":
		s, err := newJSONLSource(f)
		if err != nil {
			return nil, "", noop, err
		}
		return []sheet{{src: s}}, "utf-8", noop, nil
	case ".csv", ".txt", ".tsv":
		s, err := newCSVSource(f)
		if err != nil {
			return nil, "", noop, err
		}
		return []sheet{{src: s}}, s.enc, noop, nil
	}
	return nil, "", noop, fmt.Errorf("%s files are not read (send .csv, .xlsx or .jsonl)", filepath.Ext(path))
}

package ingest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"safetynet/i18n"
	"safetynet/store"
)

// Options tune how files are read.
type Options struct {
	Aliases map[string][]string // canonical column → extra header names (config)
	// Encoding and Delimiter force how text files are read when the
	// department's files fool the detection ("" detects).
	Encoding  string // utf-8, gb18030, utf-16le, utf-16be
	Delimiter string // one of , ; | or "tab"
	Now       func() time.Time
	// Progress, when set, is called every few thousand rows with the rows
	// read so far in the current file (for progress bars).
	Progress func(rows int)
	// NoFastPath reads every row of a CSV file in Go, as other files are:
	// the reference the fast path is tested and measured against.
	NoFastPath bool
}

// Result says what became of one file.
type Result struct {
	Source, File string
	BatchID      int64
	Tables       []string
	Encoding     string
	// Read counts the rows below the header that are not blank; each is
	// stored (New, Changed, Unchanged), quarantined or skipped: none is lost.
	Read            int
	New, Changed    int
	Unchanged       int
	Quarantined     int
	Noted           int // values of stored rows left unknown or kept with a warning, listed with the quarantine
	Skipped         int // blank, totals and exact duplicate rows
	SQLRows         int // rows the fast path read in SQL (the others were read in Go)
	Released        int // quarantined rows of an earlier delivery of the same file, now settled
	Removed         int // current records that corrected ones replaced under another key (a member whose ID or name was corrected)
	Drift           []Drift
	AlreadyIngested bool
	Notes           []string
}

// FileError means the file as a whole could not be read; it is rejected.
type FileError struct {
	File   string
	Reason string       // in English
	Why    i18n.Message // the same, to say in the reader's language
}

func (e *FileError) Error() string { return fmt.Sprintf("ingest %s: %s", e.File, e.Reason) }

// fileErr refuses a file for why.
func fileErr(path string, why i18n.Message) error {
	return &FileError{File: path, Reason: why.Error(), Why: why}
}

// unreadable words an error from reading a file: a catalogue message as
// it is, anything else (a decoder's) quoted.
func unreadable(where string, err error) i18n.Message {
	var m i18n.Message
	if errors.As(err, &m) {
		if where == "" {
			return m
		}
		return i18n.Msg("fe.where", where, m)
	}
	if where == "" {
		return i18n.Msg("fe.unreadable_file", err.Error())
	}
	return i18n.Msg("fe.unreadable", where, err.Error())
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
	sum, size, err := fileHash(path)
	if err != nil {
		return nil, fileErr(path, i18n.Msg("fe.cannot_read", err.Error()))
	}
	var prior int64
	err = db.QueryRowContext(ctx, `SELECT coalesce(max(batch_id), 0) FROM ingest_batches WHERE source = ? AND file_sha256 = ?`, source, sum).Scan(&prior)
	if err != nil {
		return nil, fmt.Errorf("ingest: look up earlier batches: %w", err)
	}
	if prior > 0 {
		return &Result{Source: source, File: path, AlreadyIngested: true, BatchID: prior,
			Notes: []string{fmt.Sprintf("the same content was ingested as batch %d; nothing added", prior)}}, nil
	}

	f, err := os.Open(path)
	if err != nil {
		return nil, fileErr(path, i18n.Msg("fe.cannot_open", err.Error()))
	}
	defer f.Close()
	sheets, enc, closeFn, err := openSheets(ctx, db, f, path, opt)
	if err != nil {
		return nil, fileErr(path, unreadable("", err))
	}
	defer closeFn()
	return storeDelivery(ctx, db, source, delivery{name: path, connector: "file", sha256: sum, bytes: size, encoding: enc, sheets: sheets}, opt)
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

// openSheets picks a reader by the file's name and opens its sheets. The
// returned func closes what the readers hold open.
func openSheets(ctx context.Context, db *store.DB, f *os.File, path string, opt Options) ([]sheet, string, func(), error) {
	noop := func() {}
	if oleWorkbook(f) { // an Excel 97–2003 or WPS binary workbook, whatever its name says
		return nil, "", noop, oldExcel
	}
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
		enc := textEncoding(f, opt)
		s, err := newJSONLSource(decode(f, enc))
		if err != nil {
			return nil, "", noop, err
		}
		s.path, s.enc = path, enc
		return []sheet{{src: s}}, "utf-8", noop, nil
	case ".json":
		s, err := newJSONArraySource(decode(f, textEncoding(f, opt)))
		if err != nil {
			return nil, "", noop, err
		}
		return []sheet{{src: s}}, "utf-8", noop, nil
	case ".parquet":
		s, err := newParquetSource(ctx, db, path)
		if err != nil {
			return nil, "", noop, err
		}
		return []sheet{{src: s}}, "parquet", func() { s.Close() }, nil
	case ".csv", ".txt", ".tsv":
		s, err := newCSVSource(f, opt.Encoding, opt.Delimiter)
		if err != nil {
			return nil, "", noop, err
		}
		s.path = path
		return []sheet{{src: s}}, s.enc, noop, nil
	case ".xls", ".et":
		return nil, "", noop, oldExcel
	}
	return nil, "", noop, i18n.Msg("fe.extension", filepath.Ext(path))
}

// oldExcel is why an Excel 97–2003 (.xls) workbook is refused: no Go
// reader of that format is maintained well enough to trust with IDs.
var oldExcel = i18n.Msg("fe.old_excel")

// oleWorkbook says whether a file starts with the OLE2 compound-document
// signature of .xls (and .et, .doc) files.
func oleWorkbook(f *os.File) bool {
	head := make([]byte, 8)
	n, _ := f.ReadAt(head, 0)
	return n == 8 && bytes.Equal(head, []byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1})
}

// textEncoding is the configured encoding of a JSON file, or what its
// first bytes say; JSON is UTF-8 unless a BOM or the config says otherwise.
func textEncoding(f *os.File, opt Options) string {
	if opt.Encoding != "" {
		return opt.Encoding
	}
	head := make([]byte, 64)
	n, _ := f.ReadAt(head, 0)
	switch enc := sniffEncoding(head[:n]); enc {
	case "utf-8-bom", "utf-16le", "utf-16be":
		return enc
	}
	return "utf-8"
}

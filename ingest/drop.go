package ingest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"safetynet/i18n"
	"safetynet/store"
)

// Drop is the file-drop connector of one source: files land in Inbox and
// leave for Processed or Rejected once read.
type Drop struct {
	Source    string
	Inbox     string // the source's own inbox folder
	Processed string // processed/ (a folder per source is made below it)
	Rejected  string // rejected/ (likewise)
	Options
	// Progress, when set, hears the rows read so far in each file.
	Progress func(source, file string, rows int)
}

// Pending lists the files waiting in the inbox, oldest name first. Hidden
// files and uploads in progress (.part, .tmp) are left for later.
func (d Drop) Pending() ([]string, error) {
	entries, err := os.ReadDir(d.Inbox)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil
		}
		return nil, fmt.Errorf("ingest: read inbox: %w", err)
	}
	var files []string
	for _, e := range entries {
		n := e.Name()
		if e.IsDir() || strings.HasPrefix(n, ".") || strings.HasPrefix(n, "~$") || strings.HasSuffix(n, ".part") || strings.HasSuffix(n, ".tmp") {
			continue
		}
		files = append(files, filepath.Join(d.Inbox, n))
	}
	sort.Strings(files)
	return files, nil
}

// Run ingests every pending file and says how many it rejected. A file
// that cannot be read is moved to rejected/ and the run goes on; an error
// is returned only when the database fails, and then the file stays in
// the inbox for the next run.
func (d Drop) Run(ctx context.Context, db *store.DB, log *slog.Logger) (out []*Result, rejected int, err error) {
	files, err := d.Pending()
	if err != nil {
		return nil, 0, err
	}
	for _, path := range files {
		if err := ctx.Err(); err != nil {
			return out, rejected, err
		}
		opt := d.Options
		if d.Progress != nil {
			name := filepath.Base(path)
			opt.Progress = func(n int) { d.Progress(d.Source, name, n) }
		}
		res, err := IngestFile(ctx, db, d.Source, path, opt)
		var fe *FileError
		switch {
		case errors.As(err, &fe):
			moved, merr := d.reject(ctx, db, path, fe)
			if merr != nil {
				return out, rejected, merr
			}
			rejected++
			log.Warn("file rejected", "source", d.Source, "file", filepath.Base(path), "reason", fe.Reason, "moved_to", moved)
			continue
		case err != nil:
			return out, rejected, err
		}
		moved, err := d.move(path, d.Processed)
		if err != nil {
			return out, rejected, fmt.Errorf("ingest %s: stored as batch %d but could not move it to processed/: %w", path, res.BatchID, err)
		}
		log.Info("file ingested", "source", d.Source, "file", filepath.Base(path), "batch", res.BatchID,
			"tables", strings.Join(res.Tables, ","), "encoding", res.Encoding, "read", res.Read, "new", res.New, "changed", res.Changed,
			"unchanged", res.Unchanged, "quarantined", res.Quarantined, "skipped", res.Skipped, "already_ingested", res.AlreadyIngested, "moved_to", moved)
		out = append(out, res)
	}
	return out, rejected, nil
}

func (d Drop) move(path, root string) (string, error) {
	dir := filepath.Join(root, d.Source)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	dst := filepath.Join(dir, time.Now().Format("20060102T150405")+"_"+filepath.Base(path))
	for i := 1; ; i++ {
		if _, err := os.Stat(dst); errors.Is(err, os.ErrNotExist) {
			break
		}
		dst = filepath.Join(dir, fmt.Sprintf("%s_%d_%s", time.Now().Format("20060102T150405"), i, filepath.Base(path)))
	}
	return dst, os.Rename(path, dst)
}

func (d Drop) reject(ctx context.Context, db *store.DB, path string, fe *FileError) (string, error) {
	sum, _, _ := fileHash(path)
	dst, err := d.move(path, d.Rejected)
	if err != nil {
		return "", fmt.Errorf("ingest %s: could not move the unreadable file to rejected/: %w", path, err)
	}
	// The note beside the file is for the department: in Chinese first.
	var note strings.Builder
	for _, l := range []i18n.Lang{i18n.ZH, i18n.EN} {
		why := fe.Reason
		if fe.Why.Key != "" {
			why = fe.Why.In(l)
		}
		note.WriteString(l.F("fe.note", why, d.Source, filepath.Base(path), time.Now().Format(time.RFC3339)) + "\n\n")
	}
	if err := os.WriteFile(dst+".reason.txt", []byte(note.String()), 0o644); err != nil {
		return dst, err
	}
	var problem any
	if fe.Why.Key != "" {
		b, err := json.Marshal(fe.Why)
		if err != nil {
			return dst, err
		}
		problem = string(b)
	}
	_, err = db.ExecContext(ctx, `INSERT INTO ingest_rejections (source, file_name, file_sha256, moved_to, reason, rejected_at, problem) VALUES (?, ?, ?, ?, ?, now(), ?)`,
		d.Source, filepath.Base(path), sum, dst, fe.Reason, problem)
	return dst, err
}

package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// Backup is one copy of the database, written by (*DB).Backup.
type Backup struct {
	File    string           `json:"file"` // the copy's name, in the backup folder
	Taken   time.Time        `json:"taken"`
	From    string           `json:"from"`   // the database it copies
	SHA256  string           `json:"sha256"` // of File
	Bytes   int64            `json:"bytes"`
	Tables  map[string]int64 `json:"tables"` // rows per table, read back from the copy
	Elapsed time.Duration    `json:"elapsed_ns"`
}

// backupPrefix names the copies in a backup folder; their manifests share
// the name with .json.
const backupPrefix = "safetynet-"

// Backup copies the database into dir while it is in use: one
// transaction's snapshot (COPY FROM DATABASE), so a batch another
// connection is writing is in it whole or not at all. The copy is written
// under a temporary name, read back whole (every block's checksum), and
// only then given its name and manifest: a backup folder never holds half
// a copy under a backup's name.
func (db *DB) Backup(ctx context.Context, dir string, now time.Time) (*Backup, error) {
	if db.Path == "" {
		return nil, errors.New("store: an in-memory database has no backup")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("store: backup folder: %w", err)
	}
	start := time.Now()
	b := &Backup{File: backupPrefix + now.UTC().Format("20060102T150405Z") + ".duckdb", Taken: now, From: db.Path}
	final := filepath.Join(dir, b.File)
	if _, err := os.Stat(final); err == nil {
		return nil, fmt.Errorf("store: %s exists already", final)
	}
	tmp := final + ".partial"
	os.Remove(tmp)
	defer os.Remove(tmp)
	if err := db.copyTo(ctx, tmp); err != nil {
		return nil, err
	}
	copied, err := Open(ctx, tmp)
	if err != nil {
		return nil, fmt.Errorf("store: read the backup back: %w", err)
	}
	b.Tables, err = copied.rowsPerTable(ctx)
	copied.Close()
	if err != nil {
		return nil, fmt.Errorf("store: read the backup back: %w", err)
	}
	if b.SHA256, b.Bytes, err = fileSum(tmp); err != nil {
		return nil, err
	}
	if err := os.Rename(tmp, final); err != nil {
		return nil, err
	}
	b.Elapsed = time.Since(start)
	return b, writeManifest(strings.TrimSuffix(final, ".duckdb")+".json", b)
}

// copyTo writes the whole database, as one snapshot, to a new file.
func (db *DB) copyTo(ctx context.Context, path string) error {
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	var name string
	if err := conn.QueryRowContext(ctx, `SELECT current_database()`).Scan(&name); err != nil {
		return err
	}
	if _, err := conn.ExecContext(ctx, `ATTACH `+Quote(path)+` AS safetynet_backup`); err != nil {
		return fmt.Errorf("store: backup: %w", err)
	}
	defer conn.ExecContext(context.Background(), `DETACH safetynet_backup`)
	err = InTx(ctx, conn, func(conn *sql.Conn) error {
		_, err := conn.ExecContext(ctx, `COPY FROM DATABASE `+Ident(name)+` TO safetynet_backup`)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: backup: %w", err)
	}
	_, err = conn.ExecContext(ctx, `DETACH safetynet_backup`)
	return err
}

func fileSum(path string) (string, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	return hex.EncodeToString(h.Sum(nil)), n, err
}

func writeManifest(path string, b *Backup) error {
	j, err := json.MarshalIndent(b, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(j, '\n'), 0o600)
}

// LatestBackup finds the newest backup in dir (or dir itself, when it
// names a backup's .duckdb file) and its manifest.
func LatestBackup(dir string) (*Backup, string, error) {
	path := dir
	if fi, err := os.Stat(dir); err == nil && fi.IsDir() {
		names, err := filepath.Glob(filepath.Join(dir, backupPrefix+"*.duckdb"))
		if err != nil {
			return nil, "", err
		}
		if len(names) == 0 {
			return nil, "", fmt.Errorf("store: no backup (%s*.duckdb) in %s", backupPrefix, dir)
		}
		sort.Strings(names) // the names sort by time
		path = names[len(names)-1]
	}
	j, err := os.ReadFile(strings.TrimSuffix(path, ".duckdb") + ".json")
	if err != nil {
		return nil, "", fmt.Errorf("store: the manifest of %s: %w (a backup without one was not finished)", path, err)
	}
	var b Backup
	if err := json.Unmarshal(j, &b); err != nil {
		return nil, "", fmt.Errorf("store: the manifest of %s: %w", path, err)
	}
	return &b, path, nil
}

// Restore puts the backup at from in place of the database at path,
// which no process may have open. The backup is checked against its
// manifest (its checksum, then every table's rows, read whole) before
// anything is moved; the database it replaces is kept beside it as
// path.before-restore-TIME, never deleted. It returns that name.
func Restore(ctx context.Context, from, path string, now time.Time) (string, error) {
	b, file, err := LatestBackup(from)
	if err != nil {
		return "", err
	}
	sum, _, err := fileSum(file)
	if err != nil {
		return "", err
	}
	if sum != b.SHA256 {
		return "", fmt.Errorf("%w: %s does not match its manifest's checksum: it changed after the backup; use another", ErrDamaged, file)
	}
	staged := path + ".restoring"
	os.Remove(staged)
	defer os.Remove(staged)
	if err := copyFile(file, staged); err != nil {
		return "", err
	}
	db, err := Open(ctx, staged)
	if err != nil {
		return "", err
	}
	rows, err := db.rowsPerTable(ctx)
	db.Close()
	if err != nil {
		return "", err
	}
	for t, n := range b.Tables {
		if rows[t] != n {
			return "", fmt.Errorf("%w: table %s of %s holds %d rows, its manifest %d", ErrDamaged, t, file, rows[t], n)
		}
	}
	kept := ""
	if _, err := os.Stat(path); err == nil {
		kept = path + ".before-restore-" + now.UTC().Format("20060102T150405Z")
		if err := os.Rename(path, kept); err != nil {
			return "", err
		}
		if _, err := os.Stat(path + ".wal"); err == nil {
			if err := os.Rename(path+".wal", kept+".wal"); err != nil {
				return "", err
			}
		}
	}
	return kept, os.Rename(staged, path)
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

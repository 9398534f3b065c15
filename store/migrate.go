package store

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
)

// MigrationSet is one package's schema history: files named
// NNN_what.sql, applied in order and recorded under Component.
type MigrationSet struct {
	Component string
	FS        fs.FS // holds the .sql files at its root
}

const ledgerDDL = `CREATE TABLE IF NOT EXISTS schema_migrations (
	component VARCHAR NOT NULL,
	version   INTEGER NOT NULL,
	name      VARCHAR NOT NULL,
	applied_at TIMESTAMPTZ NOT NULL DEFAULT now(),
	PRIMARY KEY (component, version)
)`

// Migrations is a set read from the dir folder of an embedded file system
// (each package embeds its schema/*.sql).
func Migrations(component string, fsys fs.FS, dir string) MigrationSet {
	sub, err := fs.Sub(fsys, dir)
	if err != nil {
		panic(fmt.Sprintf("store: migrations of %s: %v", component, err))
	}
	return MigrationSet{Component: component, FS: sub}
}

type migration struct {
	version int
	name    string
	sql     string
}

// migrate applies what the ledger lacks and says how many it applied.
//
// A file's migrations commit straight into the file, not the WAL: DuckDB
// cannot replay some schema changes (ALTER … TYPE … USING) from the WAL of
// a process that was killed (duckdb/duckdb#20543), and a commit that
// checkpoints writes no WAL. With the threshold at zero every commit
// checkpoints; it is put back afterwards.
func (db *DB) migrate(ctx context.Context, sets []MigrationSet) (int, error) {
	if db.Path == "" {
		return db.applyMigrations(ctx, sets)
	}
	var threshold string
	if err := db.QueryRowContext(ctx, `SELECT current_setting('checkpoint_threshold')`).Scan(&threshold); err != nil {
		return 0, fmt.Errorf("store: read checkpoint_threshold: %w", err)
	}
	if _, err := db.ExecContext(ctx, `SET checkpoint_threshold = '0b'`); err != nil {
		return 0, fmt.Errorf("store: checkpoint each migration: %w", err)
	}
	applied, err := db.applyMigrations(ctx, sets)
	if _, rerr := db.ExecContext(context.WithoutCancel(ctx), `SET checkpoint_threshold = ?`, threshold); rerr != nil && err == nil {
		err = fmt.Errorf("store: put checkpoint_threshold back to %s: %w", threshold, rerr)
	}
	return applied, err
}

func (db *DB) applyMigrations(ctx context.Context, sets []MigrationSet) (int, error) {
	if _, err := db.ExecContext(ctx, ledgerDDL); err != nil {
		return 0, fmt.Errorf("store: migration ledger: %w", err)
	}
	applied := 0
	for _, set := range sets {
		ms, err := readMigrations(set)
		if err != nil {
			return applied, err
		}
		for _, m := range ms {
			var done bool
			err := db.QueryRowContext(ctx, `SELECT count(*) > 0 FROM schema_migrations WHERE component = ? AND version = ?`,
				set.Component, m.version).Scan(&done)
			if err != nil {
				return applied, fmt.Errorf("store: read migration ledger: %w", err)
			}
			if done {
				continue
			}
			err = db.Tx(ctx, func(conn *sql.Conn) error {
				if _, err := conn.ExecContext(ctx, m.sql); err != nil {
					return err
				}
				_, err := conn.ExecContext(ctx, `INSERT INTO schema_migrations (component, version, name) VALUES (?, ?, ?)`,
					set.Component, m.version, m.name)
				return err
			})
			if err != nil {
				return applied, fmt.Errorf("store: migration %s/%s: %w", set.Component, m.name, err)
			}
			applied++
			if testHookMigrated != nil {
				testHookMigrated(m.name)
			}
		}
	}
	return applied, nil
}

// testHookMigrated, when set by a test, is called after each migration
// commits: the test kills the process there.
var testHookMigrated func(name string)

func readMigrations(set MigrationSet) ([]migration, error) {
	names, err := fs.Glob(set.FS, "*.sql")
	if err != nil {
		return nil, err
	}
	var ms []migration
	seen := map[int]string{}
	for _, name := range names {
		num, _, ok := strings.Cut(name, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil {
			return nil, fmt.Errorf("store: migration %s/%s: name must start with a number and '_'", set.Component, name)
		}
		if prev, dup := seen[v]; dup {
			return nil, fmt.Errorf("store: migrations %s/%s and %s share version %d", set.Component, prev, name, v)
		}
		seen[v] = name
		body, err := fs.ReadFile(set.FS, name)
		if err != nil {
			return nil, err
		}
		ms = append(ms, migration{version: v, name: path.Base(name), sql: string(body)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	return ms, nil
}

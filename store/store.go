// Package store owns the DuckDB file: opening it as the one writer of this
// process, applying each package's versioned migrations, and running work
// in transactions. It knows no table but its own migration ledger: the
// packages that own tables hand their migrations to Open.
package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/duckdb/duckdb-go/v2"
)

// DB is an open safetynet database.
type DB struct {
	*sql.DB
	Path string
}

// Open opens (creating if needed) the DuckDB file at path and applies the
// given migrations that are not yet recorded. An empty path opens an
// in-memory database, for tests that need no file.
func Open(ctx context.Context, path string, sets ...MigrationSet) (*DB, error) {
	if path != "" {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return nil, fmt.Errorf("store: create folder for %s: %w", path, err)
		}
	}
	connector, err := duckdb.NewConnector(path, func(execer driver.ExecerContext) error {
		// Asia/Shanghai by default is config's business; DuckDB's own zone stays UTC
		// so that TIMESTAMPTZ values round-trip unchanged through the driver.
		_, err := execer.ExecContext(context.Background(), "SET TimeZone = 'UTC'", nil)
		return err
	})
	if err != nil {
		return nil, openError(path, err)
	}
	sqlDB := sql.OpenDB(connector)
	if err := sqlDB.PingContext(ctx); err != nil {
		sqlDB.Close()
		return nil, openError(path, err)
	}
	db := &DB{DB: sqlDB, Path: path}
	if _, err := db.migrate(ctx, sets); err != nil {
		db.Close()
		return nil, db.checkError(err)
	}
	return db, nil
}

func openError(path string, err error) error {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "Could not set lock"):
		return fmt.Errorf("store: %s is in use by another process (is `safetynet serve` running? stop it, or run the job from its web UI): %w", path, err)
	case strings.Contains(msg, "Failure while replaying WAL"):
		return fmt.Errorf("store: DuckDB cannot replay %s.wal, the changes since its last checkpoint (a DuckDB bug after a process is killed "+
			"during some schema changes, duckdb/duckdb#20543): move %s.wal aside and start again, losing those changes (a migration applies "+
			"itself again), or restore the last backup (`safetynet restore`); the database file itself is untouched: %w", path, path, err)
	case damaged(msg):
		return fmt.Errorf("%w: %s was left exactly as it is. Restore the last backup "+
			"(`safetynet restore --from DIR --config FILE`), or move the file aside to start an empty one. DuckDB said: %v", ErrDamaged, path, err)
	}
	return fmt.Errorf("store: open %s: %w", path, err)
}

// damaged says whether a DuckDB error is about the file's own bytes.
func damaged(msg string) bool {
	for _, s := range []string{"not a valid DuckDB database file", "Corrupt database file", "Could not read enough bytes", "checksum"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

// Tx runs fn in one transaction on one connection: all of it commits, or
// none of it does. fn may use conn for the driver-level Appender.
func (db *DB) Tx(ctx context.Context, fn func(conn *sql.Conn) error) error {
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	return InTx(ctx, conn, fn)
}

// InTx is Tx on a connection the caller holds, for work that prepares
// temporary tables or views on it first.
func InTx(ctx context.Context, conn *sql.Conn, fn func(conn *sql.Conn) error) (err error) {
	if _, err := conn.ExecContext(ctx, "BEGIN TRANSACTION"); err != nil {
		return err
	}
	defer func() {
		if p := recover(); p != nil {
			conn.ExecContext(context.Background(), "ROLLBACK")
			panic(p)
		}
		if err != nil {
			if _, rbErr := conn.ExecContext(context.Background(), "ROLLBACK"); rbErr != nil {
				err = errors.Join(err, fmt.Errorf("rollback: %w", rbErr))
			}
			return
		}
		if _, err = conn.ExecContext(ctx, "COMMIT"); err != nil {
			err = fmt.Errorf("commit: %w", err)
		}
	}()
	return fn(conn)
}

// Checkpoint writes what the write-ahead log holds into the database file.
// A run ends with one, so that DuckDB's own checkpoint (when the log
// passes its threshold) does not land inside the next run's batch, where
// it was a spike of seconds every few runs. DuckDB skips it while another
// connection writes; that one's commit checkpoints in its turn.
func (db *DB) Checkpoint(ctx context.Context) error {
	if _, err := db.ExecContext(ctx, "CHECKPOINT"); err != nil {
		return fmt.Errorf("store: checkpoint: %w", err)
	}
	return nil
}

// SetMemoryLimit caps the memory DuckDB uses for this database (e.g.
// "1GB"); beyond it, large transactions and joins spill to disk rather
// than grow with the data. Empty keeps DuckDB's default (80% of RAM).
func (db *DB) SetMemoryLimit(ctx context.Context, limit string) error {
	if limit == "" {
		return nil
	}
	if _, err := db.ExecContext(ctx, "SET memory_limit = "+Quote(limit)); err != nil {
		return fmt.Errorf("store: memory_limit %q: %w", limit, err)
	}
	return nil
}

// NewAppender returns a DuckDB appender on conn for table. Rows appended
// inside a Tx commit or roll back with it.
func NewAppender(conn *sql.Conn, table string) (*duckdb.Appender, error) {
	var app *duckdb.Appender
	err := conn.Raw(func(dc any) error {
		var err error
		app, err = duckdb.NewAppenderFromConn(dc.(driver.Conn), "", table)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("appender for %s: %w", table, err)
	}
	return app, nil
}

// NewColumnAppender is NewAppender for the named columns only, in that
// order; the others take their defaults.
func NewColumnAppender(conn *sql.Conn, table string, columns []string) (*duckdb.Appender, error) {
	var app *duckdb.Appender
	err := conn.Raw(func(dc any) error {
		var err error
		app, err = duckdb.NewAppenderWithColumns(dc.(driver.Conn), "", "", table, columns)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("appender for %s: %w", table, err)
	}
	return app, nil
}

// Quote returns s as a SQL string literal.
func Quote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// ErrDamaged is a database file DuckDB cannot read: not a DuckDB file, cut
// short, or with blocks that fail their checksums.
var ErrDamaged = errors.New("store: the database file is damaged")

// Check reads every column of every table, so that DuckDB verifies the
// checksum of each block it reads, and says how many rows it read. A
// checksum that fails is ErrDamaged.
func (db *DB) Check(ctx context.Context) (int64, error) {
	rows, err := db.rowsPerTable(ctx)
	var total int64
	for _, n := range rows {
		total += n
	}
	return total, err
}

// rowsPerTable reads every table whole (checkTable) and counts its rows.
func (db *DB) rowsPerTable(ctx context.Context) (map[string]int64, error) {
	tables, err := db.tables(ctx)
	if err != nil {
		return nil, db.checkError(err)
	}
	out := map[string]int64{}
	for _, t := range tables {
		n, err := db.checkTable(ctx, t[0], t[1])
		if err != nil {
			return out, fmt.Errorf("store: check %s.%s: %w", t[0], t[1], db.checkError(err))
		}
		out[t[1]] = n
	}
	return out, nil
}

// tables are the (schema, table) pairs of the database, temporary ones not.
func (db *DB) tables(ctx context.Context) ([][2]string, error) {
	rows, err := db.QueryContext(ctx, `SELECT schema_name, table_name FROM duckdb_tables()
		WHERE database_name = current_database() AND NOT temporary ORDER BY ALL`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var tables [][2]string
	for rows.Next() {
		var t [2]string
		if err := rows.Scan(&t[0], &t[1]); err != nil {
			return nil, err
		}
		tables = append(tables, t)
	}
	return tables, rows.Err()
}

// checkTable reads every column of one table: one aggregate per column
// makes DuckDB read them all, where count(*) alone reads none.
func (db *DB) checkTable(ctx context.Context, schema, table string) (int64, error) {
	rows, err := db.QueryContext(ctx, fmt.Sprintf(`SELECT count(*), bit_xor(hash(COLUMNS(*))) FROM %s.%s`, Ident(schema), Ident(table)))
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return 0, err
	}
	var n int64
	dest := make([]any, len(cols))
	dest[0] = &n
	for i := 1; i < len(dest); i++ {
		dest[i] = new(any)
	}
	if rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return 0, err
		}
	}
	return n, rows.Err()
}

func (db *DB) checkError(err error) error {
	if damaged(err.Error()) {
		return fmt.Errorf("%w: %s: %v", ErrDamaged, db.Path, err)
	}
	return err
}

// Ident quotes a SQL identifier.
func Ident(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

package ingest

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"regexp"
	"strings"

	"github.com/jackc/pgx/v5"

	"safetynet/config"
	"safetynet/store"
)

// PostgresPull is the connector of a source read from a query or view on
// a department's PostgreSQL (an exchange database, usually). With an
// incremental column it reads only rows at or past the highest value it
// stored, in that column's order, committing a batch every BatchRows rows
// with the value reached, so a pull that dies goes on from its last batch.
type PostgresPull struct {
	Source string
	config.Postgres
	Options
	// Progress, when set, hears the rows read so far in this pull.
	Progress func(source, file string, rows int)
}

var plainName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$`)

// Run reads what changed since the last pull and stores it.
func (p PostgresPull) Run(ctx context.Context, db *store.DB, log *slog.Logger) ([]*Result, error) {
	pc := p.Postgres.WithDefaults()
	fail := func(err error) ([]*Result, error) {
		db.ExecContext(context.WithoutCancel(ctx), `UPDATE ingest_pulls SET last_error = ? WHERE source = ?`, err.Error(), p.Source)
		return nil, &PullError{Source: p.Source, Err: err}
	}
	dsn := os.Getenv(pc.DSNEnv)
	if dsn == "" {
		return fail(fmt.Errorf("the connection string is read from $%s, which is not set: set it in the service's environment", pc.DSNEnv))
	}
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return fail(fmt.Errorf("$%s is not a PostgreSQL connection string: %v", pc.DSNEnv, err))
	}
	where := fmt.Sprintf("postgres://%s:%d/%s", cfg.Host, cfg.Port, url.PathEscape(cfg.Database))
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return fail(fmt.Errorf("connect to %s: %v", where, err))
	}
	defer conn.Close(context.WithoutCancel(ctx))

	query := strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(pc.Query), ";"))
	if plainName.MatchString(query) {
		query = "SELECT * FROM " + pgx.Identifier(strings.Split(query, ".")).Sanitize()
	}
	st, err := loadPull(ctx, db, p.Source)
	if err != nil {
		return nil, err
	}
	mark := st.watermark
	var args []any
	sqlText := query
	if inc := pc.Incremental; inc != "" {
		typ, err := columnType(ctx, conn, query, inc)
		if err != nil {
			return fail(err)
		}
		col := "q." + pgx.Identifier{inc}.Sanitize()
		// >= and not >: rows sharing the last value read come again and
		// are recognised as unchanged, so none that arrived since are missed.
		sqlText = fmt.Sprintf("SELECT * FROM (%s) q WHERE $1::text IS NULL OR %s >= $1::text::%s ORDER BY %s", query, col, typ, col)
		args = append(args, mark)
	}
	rows, err := conn.Query(ctx, sqlText, append([]any{pgx.QueryResultFormats{pgx.TextFormatCode}}, args...)...)
	if err != nil {
		return fail(fmt.Errorf("%s: %v", where, err))
	}
	defer rows.Close()
	var header []string
	incAt := -1
	for i, f := range rows.FieldDescriptions() {
		header = append(header, f.Name)
		if f.Name == pc.Incremental {
			incAt = i
		}
	}
	src := &pgSource{rows: rows, header: header, incAt: incAt, limit: pc.BatchRows}
	name := where + " " + oneLine(pc.Query)
	var out []*Result
	for {
		src.startChunk()
		res, err := storeDelivery(ctx, db, p.Source, delivery{name: name, connector: "postgres", encoding: "utf-8", sheets: []sheet{{src: src}},
			inTx: func(ctx context.Context, conn *sql.Conn, batch int64) error {
				if src.last.Valid {
					mark = src.last
				}
				return savePullConn(ctx, conn, p.Source, "postgres", mark, sql.NullString{}, sql.NullString{}, sql.NullString{}, 0, src.done)
			}}, p.Options)
		if err != nil {
			if src.err != nil {
				return out, &PullError{Source: p.Source, Err: fmt.Errorf("%s: %v (the pull goes on from the last batch next time)", where, src.err)}
			}
			return out, err
		}
		if res.BatchID != 0 {
			out = append(out, res)
			log.Info("rows pulled", "source", p.Source, "batch", res.BatchID, "read", res.Read, "new", res.New,
				"changed", res.Changed, "unchanged", res.Unchanged, "quarantined", res.Quarantined, "watermark", mark.String)
		}
		if p.Progress != nil {
			p.Progress(p.Source, where, src.line-1)
		}
		if src.done {
			return out, nil
		}
	}
}

// columnType is the SQL type of a column of the query, to compare the
// watermark with it in its own type.
func columnType(ctx context.Context, conn *pgx.Conn, query, col string) (string, error) {
	rows, err := conn.Query(ctx, "SELECT * FROM ("+query+") q LIMIT 0")
	if err != nil {
		return "", fmt.Errorf("the query fails: %v", err)
	}
	fields := rows.FieldDescriptions()
	rows.Close()
	for _, f := range fields {
		if f.Name == col {
			var typ string
			err := conn.QueryRow(ctx, "SELECT format_type($1, NULL)", f.DataTypeOID).Scan(&typ)
			return typ, err
		}
	}
	var names []string
	for _, f := range fields {
		names = append(names, f.Name)
	}
	return "", fmt.Errorf("the incremental column %q is not among the query's columns (%s)", col, strings.Join(names, ", "))
}

func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 120 {
		s = s[:120] + "…"
	}
	return s
}

// pgSource yields the rows of a query as text, a chunk of limit rows per
// batch, each chunk starting with the header.
type pgSource struct {
	rows   pgx.Rows
	header []string
	incAt  int
	limit  int

	sent       int // rows of this chunk
	headerSent bool
	line       int // rows read in this pull, the header counting as line 1
	last       sql.NullString
	done       bool
	err        error
}

func (s *pgSource) startChunk() { s.sent, s.headerSent = 0, false }

func (s *pgSource) Line() int { return s.line }

func (s *pgSource) Next() ([]string, error) {
	if !s.headerSent {
		s.headerSent = true
		if s.line == 0 {
			s.line = 1
		}
		return append([]string(nil), s.header...), nil
	}
	if s.done || s.sent >= s.limit {
		return nil, io.EOF
	}
	if !s.rows.Next() {
		s.done = true
		if err := s.rows.Err(); err != nil {
			s.err = err
			return nil, fmt.Errorf("after row %d: %v", s.line, err)
		}
		return nil, io.EOF
	}
	s.line++
	s.sent++
	raw := s.rows.RawValues()
	out := make([]string, len(raw))
	for i, v := range raw {
		out[i] = string(v)
	}
	if s.incAt >= 0 && raw[s.incAt] != nil {
		s.last = sql.NullString{String: out[s.incAt], Valid: true}
	}
	return out, nil
}

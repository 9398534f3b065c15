package ingest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"safetynet/config"
)

// startPostgres starts a throw-away PostgreSQL server from Debian's
// postgresql package on a loopback port, and returns its DSN. Outside CI a
// machine without the package skips; in CI (CI set) that is a failure.
func startPostgres(t *testing.T) string {
	t.Helper()
	bins, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(bins) == 0 {
		if os.Getenv("CI") != "" {
			t.Fatal("PostgreSQL server binaries not found under /usr/lib/postgresql: `make test` installs Debian's postgresql package")
		}
		t.Skip("PostgreSQL server binaries not found (Debian package postgresql; `make test` installs it)")
	}
	sort.Strings(bins)
	bin := filepath.Dir(bins[len(bins)-1])
	dir, err := os.MkdirTemp("", "safetynet-pg-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	// PostgreSQL will not run as root: run it as the package's postgres user.
	var cred *syscall.Credential
	if os.Getuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			t.Fatalf("running as root and there is no postgres user to run the server as: %v", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Fatal(err)
		}
	}
	run := func(name string, args ...string) *exec.Cmd {
		cmd := exec.Command(filepath.Join(bin, name), args...)
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
		cmd.Dir = dir
		return cmd
	}
	data := filepath.Join(dir, "data")
	if out, err := run("initdb", "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-locale").CombinedOutput(); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	srv := run("postgres", "-D", data, "-p", strconv.Itoa(port), "-k", dir, "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off")
	logf, _ := os.Create(filepath.Join(dir, "server.log"))
	srv.Stdout, srv.Stderr = logf, logf
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		srv.Process.Signal(syscall.SIGINT) // fast shutdown
		srv.Wait()
	})
	dsn := fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", port)
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := pgx.Connect(context.Background(), dsn)
		if err == nil {
			c.Close(context.Background())
			return dsn
		}
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(filepath.Join(dir, "server.log"))
			t.Fatalf("PostgreSQL did not start: %v\n%s", err, b)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func pgExec(t *testing.T, dsn string, stmts ...string) {
	t.Helper()
	c, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(context.Background())
	for _, s := range stmts {
		if _, err := c.Exec(context.Background(), s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

// A department's exchange view of disability certificates, read in
// batches by an incremental column, changed between pulls, with a bad row.
func TestPostgresPull(t *testing.T) {
	dsn := startPostgres(t)
	t.Setenv("TEST_DISABILITY_DSN", dsn)
	pgExec(t, dsn,
		`CREATE SCHEMA exchange`,
		`CREATE TABLE exchange.certs (
			cert_no text PRIMARY KEY, id_card text, full_name text, category text, grade text,
			issued date, change_kind text, updated_at timestamptz NOT NULL)`,
		`INSERT INTO exchange.certs
			SELECT 'D' || lpad(i::text, 5, '0'), '11010519491231002X', '张伟', '肢体', (1 + i % 4)::text,
				DATE '2024-01-01' + i % 300, '新办', TIMESTAMPTZ '2024-03-01 08:00:00+08' + (i / 3) * interval '1 second'
			FROM generate_series(1, 2500) i`,
		`UPDATE exchange.certs SET grade = '九级' WHERE cert_no = 'D00007'`,
		`CREATE VIEW exchange.disability_v AS
			SELECT cert_no AS 残疾证号, id_card AS 身份证号, full_name AS 姓名, category AS 残疾类别, grade AS 残疾等级,
				issued AS 发证日期, change_kind AS 变动类型, updated_at FROM exchange.certs`)
	db := openDB(t)
	p := PostgresPull{Source: "disability", Postgres: config.Postgres{DSNEnv: "TEST_DISABILITY_DSN", Query: "exchange.disability_v", Incremental: "updated_at", BatchRows: 1000}}
	res, err := p.Run(context.Background(), db, discard())
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 3 {
		t.Fatalf("%d batches, want 3 of at most 1000 rows", len(res))
	}
	stored, quarantined := 0, 0
	for _, r := range res {
		stored += r.New
		quarantined += r.Quarantined
	}
	if stored != 2499 || quarantined != 1 {
		t.Errorf("stored %d, quarantined %d", stored, quarantined)
	}
	var line int
	var rawRow string
	db.QueryRow(`SELECT line, raw_row FROM ingest_quarantine WHERE col = 'level' AND raw_value = '九级'`).Scan(&line, &rawRow)
	if line < 2 || !strings.HasPrefix(rawRow, "D00007,") {
		t.Errorf("the bad grade is not quarantined with its row: line %d, %q", line, rawRow)
	}
	if n := count(t, db, `SELECT count(*) FROM disability WHERE record_id = 'D00010' AND level = 3 AND issued_on = DATE '2024-01-11'`); n != 1 {
		t.Errorf("typed values not read from the text protocol")
	}
	var mark string
	db.QueryRow(`SELECT watermark FROM ingest_pulls WHERE source = 'disability'`).Scan(&mark)
	if !strings.HasPrefix(mark, "2024-03-01 00:13:53") { // 08:13:53+08, the last row's, as PostgreSQL prints it in UTC
		t.Errorf("watermark %q", mark)
	}

	// The department fixes D00007 and adds a certificate.
	pgExec(t, dsn,
		`UPDATE exchange.certs SET grade = '二级', updated_at = now() WHERE cert_no = 'D00007'`,
		`INSERT INTO exchange.certs VALUES ('D09999', '110105194912310021', '李娜', '视力', '1', '2024-05-01', '新办', now())`)
	res, err = p.Run(context.Background(), db, discard())
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 1 || res[0].New != 2 || res[0].Read > 5 {
		t.Fatalf("second pull: %+v", res)
	}
	if n := count(t, db, `SELECT count(*) FROM disability`); n != 2501 {
		t.Errorf("%d current certificates, want 2501", n)
	}
	// Nothing changed: no batch, but the pull counts as a success.
	res, err = p.Run(context.Background(), db, discard())
	if err != nil || len(res) != 0 {
		t.Fatalf("idle pull: %+v %v", res, err)
	}
	if n := count(t, db, `SELECT count(*) FROM ingest_pulls WHERE last_success > now() - INTERVAL 1 MINUTE`); n != 1 {
		t.Errorf("idle pull did not record its success")
	}
}

func TestPostgresPullErrors(t *testing.T) {
	dsn := startPostgres(t)
	db := openDB(t)
	p := PostgresPull{Source: "disability", Postgres: config.Postgres{DSNEnv: "TEST_DISABILITY_DSN", Query: "SELECT 1 AS x", Incremental: "updated_at"}}
	t.Setenv("TEST_DISABILITY_DSN", "")
	if _, err := p.Run(context.Background(), db, discard()); err == nil || !strings.Contains(err.Error(), "$TEST_DISABILITY_DSN") {
		t.Errorf("unset DSN: %v", err)
	}
	t.Setenv("TEST_DISABILITY_DSN", dsn)
	if _, err := p.Run(context.Background(), db, discard()); err == nil || !strings.Contains(err.Error(), `"updated_at" is not among the query's columns (x)`) {
		t.Errorf("missing incremental column: %v", err)
	}
	t.Setenv("TEST_DISABILITY_DSN", strings.Replace(dsn, "/postgres?", "/nosuchdb?", 1))
	_, err := p.Run(context.Background(), db, discard())
	if err == nil || strings.Contains(err.Error(), "password") {
		t.Errorf("bad database: %v", err)
	}
	var pe *PullError
	if !asPullError(err, &pe) {
		t.Errorf("want a PullError, got %T", err)
	}
}

func asPullError(err error, pe **PullError) bool { return errors.As(err, pe) }

package flight_test

import (
	"context"
	"database/sql"
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/flight/flightsql"
	_ "github.com/apache/arrow-go/v18/arrow/flight/flightsql/driver"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"

	"safetynet/alerts"
	"safetynet/config"
	"safetynet/flight"
	"safetynet/jobs"
	"safetynet/synth"
	"safetynet/web"
)

// TestFlightSQL: a record-level analyst of one township connects with
// their token through database/sql, reads its rows only, and is refused
// another township's files and any write; the same query read as Arrow
// batches by the Flight SQL client gives the same rows; no token, a
// wrong one or an aggregates-only analyst gets nothing; every query is
// audited with the rows it returned.
func TestFlightSQL(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	t.Setenv("SAFETYNET_PSEUDONYM_KEY", "flight-test-pseudonym-key-01")
	dir := t.TempDir()
	file, _ := config.Init(dir)
	cfg, _ := config.Load(file)
	db, err := jobs.OpenStore(ctx, cfg.Database, web.Migrations())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	pack, _ := alerts.LoadPack(nil)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	chain := &jobs.Chain{Cfg: cfg, DB: db, Pack: pack, Log: log}
	opt := synth.DefaultOptions(time.Now())
	opt.Households, opt.Records, opt.Outsiders = 300, 2000, 200
	county, _ := synth.Generate(opt)
	county.Write(cfg.Inbox, dir)
	if _, err := chain.Run(ctx, "test", time.Time{}); err != nil {
		t.Fatal(err)
	}
	var township string
	db.QueryRow(`SELECT left(region_code, 9) FROM households GROUP BY 1 ORDER BY count(*) DESC LIMIT 1`).Scan(&township)
	if err := web.CreateUser(ctx, db, web.NewUser{Name: "rec", Password: "password-rec", Role: web.RecordAnalyst, Region: township}); err != nil {
		t.Fatal(err)
	}
	if err := web.CreateUser(ctx, db, web.NewUser{Name: "agg", Password: "password-agg", Role: web.Analyst}); err != nil {
		t.Fatal(err)
	}
	token, err := web.NewToken(ctx, db, "rec")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := web.NewToken(ctx, db, "agg"); err == nil {
		t.Error("an aggregates-only analyst got a Flight SQL token")
	}
	srv := &flight.Server{DB: db, Dir: cfg.Analytics.Dir, Log: log}
	addrs := make(chan net.Addr, 1)
	go func() {
		if err := srv.Serve(ctx, "127.0.0.1:0", func(a net.Addr) { addrs <- a }); err != nil {
			t.Error(err)
		}
	}()
	addr := (<-addrs).String()

	conn, err := sql.Open("flightsql", "flightsql://"+addr+"?token="+token)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	rows, err := conn.QueryContext(ctx, `SELECT left(village, 9) AS township, person, tier FROM registry_months ORDER BY person, month`)
	if err != nil {
		t.Fatal(err)
	}
	var n int
	for rows.Next() {
		var region, person, tier string
		if err := rows.Scan(&region, &person, &tier); err != nil {
			t.Fatal(err)
		}
		if region != township || !strings.HasPrefix(person, "p") {
			t.Fatalf("row %s %s %s for an analyst of %s", region, person, tier, township)
		}
		n++
	}
	if err := rows.Err(); err != nil || n == 0 {
		t.Fatalf("%d rows, %v", n, err)
	}
	var want int
	db.QueryRow(`SELECT count(*) FROM members m JOIN households h USING (household_id) WHERE left(h.region_code, 9) = ? AND coalesce(h.status, 'active') = 'active'`, township).Scan(&want)
	if n < want {
		t.Errorf("%d rows, fewer than the %d members of %s this month", n, want, township)
	}
	for _, bad := range []string{`DROP VIEW registry_months`, `CREATE TABLE x AS SELECT 1`, `COPY registry_months TO '/tmp/x.csv'`,
		`SELECT * FROM read_parquet('` + cfg.Analytics.Dir + `/snapshots/*/registry_months/*/*/*.parquet')`} {
		if _, err := conn.ExecContext(ctx, bad); err == nil {
			t.Errorf("%q was run", bad)
		}
		if r, err := conn.QueryContext(ctx, bad); err == nil {
			for r.Next() {
			}
			if r.Err() == nil {
				t.Errorf("%q returned rows", bad)
			}
			r.Close()
		}
	}

	// The Flight SQL client: Arrow record batches.
	client, err := flightsql.NewClient(addr, nil, nil, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	authed := metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+token)
	info, err := client.Execute(authed, `SELECT region, person, tier FROM registry_months`)
	if err != nil {
		t.Fatal(err)
	}
	rd, err := client.DoGet(authed, info.Endpoint[0].Ticket)
	if err != nil {
		t.Fatal(err)
	}
	var batched int64
	for rd.Next() {
		batched += rd.RecordBatch().NumRows()
	}
	rd.Release()
	if batched != int64(n) || rd.Schema().Field(1).Name != "person" {
		t.Errorf("%d rows in Arrow batches, %d through database/sql", batched, n)
	}
	for _, tok := range []string{"", "sn_wrong"} {
		c := metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+tok)
		if _, err := client.Execute(c, `SELECT 1`); err == nil {
			t.Errorf("token %q accepted", tok)
		}
	}
	if _, err := client.Execute(ctx, `SELECT 1`); err == nil {
		t.Error("no token accepted")
	}
	// A disabled user's token stops working.
	web.DisableUser(ctx, db, "rec")
	if _, err := client.Execute(authed, `SELECT 1`); err == nil {
		t.Error("a disabled user's token still works")
	}
	var audited int
	db.QueryRow(`SELECT count(*) FROM audit_log WHERE username = 'rec' AND action = 'flight_sql' AND detail LIKE '%rows: SELECT % person, tier FROM registry_months%'`).Scan(&audited)
	if audited < 2 {
		t.Errorf("%d Flight SQL queries audited with their rows, want 2", audited)
	}
}

package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"safetynet/alerts"
	"safetynet/config"
	"safetynet/jobs"
	"safetynet/synth"
	"safetynet/web"
)

// Demo login, printed at start; the demo is for a laptop, not a server.
const (
	demoUser     = "admin"
	demoPassword = "safetynet-demo"
)

func cmdDemo(ctx context.Context, log *slog.Logger, args []string) error {
	fs := flag.NewFlagSet("demo", flag.ExitOnError)
	addr := fs.String("addr", ":8080", "listen address")
	dir := fs.String("dir", "demo", "folder for the demo's config, files and database")
	reset := fs.Bool("reset", false, "delete the folder and generate a new county")
	flightAddr := fs.String("flight", "127.0.0.1:8815", "Arrow Flight SQL listen address (empty: off)")
	fs.Parse(args)
	if *reset {
		if err := os.RemoveAll(*dir); err != nil {
			return err
		}
	}
	chain, grid, err := prepareDemo(ctx, log, *dir, *flightAddr)
	if err != nil {
		return err
	}
	defer chain.DB.Close()
	cfg := chain.Cfg
	abs, _ := filepath.Abs(*dir)
	return serve(ctx, log, chain, *addr, func(url string) {
		fmt.Printf("\n  safetynet demo is up: open %s and log in as %s / %s\n", url, demoUser, demoPassword)
		fmt.Printf("  the other roles, same password: operator (region 330110), gridworker (grid %s, on a phone),\n"+
			"    analyst (aggregates only: the funnel, cohorts, counts and charts, small counts suppressed), records (record-level analyst: SQL, row exports, Flight SQL)\n", grid)
		fmt.Printf("  analysts' SQL over the analytic snapshot (pseudonyms only), once the demo is stopped (the CLI opens the database itself):\n"+
			"    ./bin/safetynet sql --config %s \"SELECT tier, count(*) FROM registry_months GROUP BY ALL\"\n", filepath.Join(abs, "safetynet.yaml"))
		if token, err := web.NewToken(ctx, chain.DB, "records"); err == nil && cfg.Analytics.Flight != "" {
			fmt.Printf("  Arrow Flight SQL for the record-level analyst on %s, token %s, e.g. from Python (adbc-driver-flightsql):\n"+
				"    adbc_driver_flightsql.dbapi.connect(\"grpc://%s\", db_kwargs={\"adbc.flight.sql.authorization_header\": \"Bearer %s\"})\n",
				cfg.Analytics.Flight, token, cfg.Analytics.Flight, token)
		}
		fmt.Printf("  data and config: %s (Ctrl-C to stop)\n\n", abs)
	})
}

// prepareDemo makes (or reopens) the demo's county in dir, runs every
// job once and adds a user of every role with work waiting for each: what
// `safetynet demo` serves, and what its test checks the demo shows.
func prepareDemo(ctx context.Context, log *slog.Logger, dir, flightAddr string) (*jobs.Chain, string, error) {
	file, err := config.Init(dir)
	if err != nil {
		return nil, "", err
	}
	cfg, err := config.Load(file)
	if err != nil {
		return nil, "", err
	}
	if cfg.Analytics.Flight == "" {
		cfg.Analytics.Flight = flightAddr
	}
	_, statErr := os.Stat(cfg.Database)
	fresh := errors.Is(statErr, os.ErrNotExist)
	if fresh {
		asOf := time.Now().In(cfg.Location)
		county, err := synth.Generate(synth.DefaultOptions(asOf))
		if err != nil {
			return nil, "", err
		}
		if err := county.Write(cfg.Inbox, dir); err != nil {
			return nil, "", err
		}
		if err := demoDeliveries(cfg.Inbox, county, asOf); err != nil {
			return nil, "", err
		}
		fmt.Printf("demo: generated a synthetic county in %s: %d households, %d people, %d department rows, %d planted cases (see expected_alerts.jsonl)\n",
			dir, len(county.Households), county.Persons(), county.Rows(), len(county.Expected))
	} else {
		fmt.Printf("demo: re-using the demo in %s (run `safetynet demo --reset` or `make demo-reset` for a new county)\n", dir)
	}
	chain, err := openChain(ctx, log, file)
	if err != nil {
		return nil, "", err
	}
	chain.Cfg.Analytics.Flight = cfg.Analytics.Flight
	fail := func(err error) (*jobs.Chain, string, error) {
		chain.DB.Close()
		return nil, "", err
	}
	if err := demoPseudonymKey(dir, chain.Cfg.Analytics.PseudonymKeyEnv); err != nil {
		return fail(err)
	}
	rep, err := chain.Run(ctx, "demo", time.Time{})
	if err != nil {
		return fail(err)
	}
	fmt.Printf("demo: ran every job once: %d files, %d rows stored, %d alerts raised, %d refreshed\n",
		rep.Files, rep.Stored, rep.Alerts.Raised, rep.Alerts.Refreshed)
	if err := web.CreateUser(ctx, chain.DB, web.NewUser{Name: demoUser, Password: demoPassword, Role: web.Admin, Replace: true}); err != nil {
		return fail(err)
	}
	grid, err := demoRoles(ctx, chain)
	if err != nil {
		return fail(err)
	}
	if err := chain.Publish(ctx, time.Now()); err != nil { // the dispatches above, in the analysts' funnel
		return fail(err)
	}
	return chain, grid, nil
}

func cmdSynth(args []string) error {
	fs := flag.NewFlagSet("synth", flag.ExitOnError)
	dir := fs.String("dir", "", "folder to write inbox/<source>/ files and the expected alerts into (required)")
	asOfText := fs.String("as-of", "", "the county's 'today' (YYYY-MM-DD); today by default")
	opt := synth.DefaultOptions(time.Now())
	fs.IntVar(&opt.Households, "households", opt.Households, "background registry households")
	fs.IntVar(&opt.Records, "records", opt.Records, "background department records")
	fs.IntVar(&opt.Outsiders, "outsiders", opt.Outsiders, "people outside the registry")
	fs.Uint64Var(&opt.Seed, "seed", opt.Seed, "random seed")
	fs.Parse(args)
	if *dir == "" {
		return fmt.Errorf("--dir is required")
	}
	if *asOfText != "" {
		t, err := parseAsOf(*asOfText)
		if err != nil {
			return err
		}
		opt.AsOf = t
	}
	county, err := synth.Generate(opt)
	if err != nil {
		return err
	}
	if err := county.Write(filepath.Join(*dir, "inbox"), *dir); err != nil {
		return err
	}
	fmt.Printf("wrote %d households, %d people, %d department rows and %d expected alerts to %s\n",
		len(county.Households), county.Persons(), county.Rows(), len(county.Expected), *dir)
	return nil
}

// demoRoles adds a user of every other role, once: an operator of the
// county, an analyst, and a grid worker of the grid with the most alerts,
// three of whose alerts are dispatched so that their phone has visits;
// and a visit to a person outside the registry, in the township queue.
func demoRoles(ctx context.Context, chain *jobs.Chain) (string, error) {
	var grid string
	err := chain.DB.QueryRowContext(ctx, `SELECT h.grid_code FROM alerts a JOIN households h USING (household_id)
		WHERE h.grid_code IS NOT NULL AND a.status = 'new' GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1`).Scan(&grid)
	if err != nil {
		return "", fmt.Errorf("demo: no grid with alerts: %w", err)
	}
	users, err := web.ListUsers(ctx, chain.DB)
	if err != nil {
		return "", err
	}
	made := map[string]bool{}
	for _, u := range users {
		made[u.Name] = true
		if u.Name == "gridworker" {
			grid = u.Grid // made by an earlier demo
		}
	}
	for _, u := range [][4]string{{"operator", "operator", "330110", ""}, {"analyst", "analyst", "", ""}, {"records", "record_analyst", "", ""}, {"gridworker", "gridworker", "", grid}} {
		if made[u[0]] {
			continue
		}
		if err := web.CreateUser(ctx, chain.DB, web.NewUser{Name: u[0], Password: demoPassword, Role: web.Role(u[1]), Region: u[2], Grid: u[3]}); err != nil {
			return "", err
		}
	}
	if made["gridworker"] {
		return grid, nil // its visits were dispatched then
	}
	rows, err := chain.DB.QueryContext(ctx, `SELECT a.alert_id FROM alerts a JOIN households h USING (household_id)
		WHERE h.grid_code = ? AND a.status = 'new' ORDER BY a.alert_id LIMIT 3`, grid)
	if err != nil {
		return "", err
	}
	var ids []int64
	for rows.Next() {
		var id int64
		rows.Scan(&id)
		ids = append(ids, id)
	}
	rows.Close()
	// A person outside the registry has no grid: their visit goes to the
	// township queue, for the operator to assign from /queue.
	var outside int64
	if err := chain.DB.QueryRowContext(ctx, `SELECT min(alert_id) FROM alerts WHERE household_id IS NULL AND status = 'new' AND starts_with(region_code, '330110')`).Scan(&outside); err == nil && outside > 0 {
		ids = append(ids, outside)
	}
	for _, id := range ids {
		if err := alerts.Act(ctx, chain.DB, alerts.Move{AlertID: id, Action: alerts.Dispatch, Actor: demoUser, At: time.Now()}); err != nil {
			return "", err
		}
	}
	return grid, nil
}

// demoPseudonymKey gives the demo's runs a pseudonym key when the
// environment has none: a random one kept in the demo folder (a real
// deployment sets the variable from its secret store).
func demoPseudonymKey(dir, env string) error {
	if os.Getenv(env) != "" {
		return nil
	}
	path := filepath.Join(dir, "pseudonym.key")
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		raw := make([]byte, 24)
		if _, err := rand.Read(raw); err != nil {
			return err
		}
		b = []byte(hex.EncodeToString(raw))
		err = os.WriteFile(path, b, 0o600)
	}
	if err != nil {
		return fmt.Errorf("demo: pseudonym key: %w", err)
	}
	return os.Setenv(env, strings.TrimSpace(string(b)))
}

package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	"golang.org/x/term"

	"safetynet/alerts"
	"safetynet/config"
	"safetynet/jobs"
)

func cmdInit(c *cli, args []string) error {
	fs := c.flags("init")
	dir := fs.String("dir", "", "folder for the config, inboxes and database (required)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *dir == "" {
		return fmt.Errorf("--dir is required, e.g. safetynet init --dir /srv/safetynet")
	}
	file, err := config.Init(*dir)
	if err != nil {
		return err
	}
	fmt.Fprintf(c.out, "wrote %s and the folders inbox/{registry,education,health,medins,disability}, processed/, rejected/\n", file)
	fmt.Fprintf(c.out, "next: drop department files into the inbox folders and run: safetynet run --config %s\n", file)
	return nil
}

// isTerminal says whether w is a terminal, for progress lines.
func isTerminal(f *os.File) bool { return term.IsTerminal(int(f.Fd())) }

// openChain loads the config, opens the database and the rule pack.
func openChain(ctx context.Context, log *slog.Logger, file string) (*jobs.Chain, error) {
	if file == "" {
		return nil, fmt.Errorf("--config is required (create one with safetynet init --dir DIR)")
	}
	cfg, err := config.Load(file)
	if err != nil {
		return nil, err
	}
	pack, err := alerts.LoadPack(cfg.Rules)
	if err != nil {
		return nil, err
	}
	if err := cfg.MakeFolders(); err != nil {
		return nil, err
	}
	db, err := jobs.OpenStore(ctx, cfg.Database, webMigrations())
	if err != nil {
		return nil, err
	}
	if err := db.SetMemoryLimit(ctx, cfg.MemoryLimit); err != nil {
		db.Close()
		return nil, err
	}
	return &jobs.Chain{Cfg: cfg, DB: db, Pack: pack, Log: log}, nil
}

func parseAsOf(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		return t, fmt.Errorf("--as-of %q: want YYYY-MM-DD", s)
	}
	return t, nil
}

func cmdRun(c *cli, args []string) error {
	ctx := c.ctx
	fs := c.flags("run")
	file := fs.String("config", "", "safetynet.yaml")
	asOfText := fs.String("as-of", "", "evaluate the rules as of this date (YYYY-MM-DD); today by default")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the run to this file (go tool pprof reads it)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *cpuProfile != "" {
		stop, err := startCPUProfile(*cpuProfile)
		if err != nil {
			return err
		}
		defer stop()
	}
	asOf, err := parseAsOf(*asOfText)
	if err != nil {
		return err
	}
	chain, err := c.open(*file)
	if err != nil {
		return err
	}
	defer c.done(chain)
	tty := c.tty
	if tty { // a progress line; logs say the same per file when stdout is not a terminal
		chain.Progress = func(source, file string, rows int) {
			fmt.Fprintf(c.out, "\r\033[K  %-10s %-32s %10d rows", source, file, rows)
		}
	}
	rep, err := chain.Run(ctx, "cli", asOf)
	if tty {
		fmt.Fprint(c.out, "\r\033[K")
	}
	if err != nil {
		return err
	}
	out := c.out
	fmt.Fprintf(out, "run %d: %d files (%d rejected), %d rows stored, %d quarantined; %d alerts raised, %d refreshed (ingest %s, match %s, alerts %s)\n",
		rep.RunID, rep.Files, rep.Rejected, rep.Stored, rep.Quarantined, rep.Alerts.Raised, rep.Alerts.Refreshed,
		rep.Stages["ingest"].Round(time.Millisecond), rep.Stages["match"].Round(time.Millisecond), rep.Stages["alerts"].Round(time.Millisecond))
	for _, f := range rep.Alerts.Failed() {
		fmt.Fprintf(out, "rule failed: %v\n", f.Err)
	}
	return nil
}

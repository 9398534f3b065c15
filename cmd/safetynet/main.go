// Command safetynet is the one binary: it initialises a site, runs the
// pipeline once, lists alerts, serves the web UI with the scheduler, and
// runs the demo. Each subcommand only parses flags and calls the packages.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
)

const usage = `safetynet: the policy finds the people (政策找人)

Usage (while serve runs, the commands that use the database run inside it):
  safetynet init --dir DIR                          write a starter config and the inbox folders
  safetynet run --config FILE [--as-of YYYY-MM-DD]  ingest the inboxes, link, evaluate the rules, once
  safetynet alerts list --config FILE [--format table|jsonl|csv] [--rule R] [--status S]
  safetynet quarantine list|show|export --config FILE [--source S] [--batch N] [--file NAME] [--out FIX.xlsx]
                                                    rows that could not be stored, and a workbook to fix them
  safetynet match review --config FILE [--accept|--reject SOURCE:KEY]   pairs the model was unsure of
  safetynet match eval --left A.csv [--right B.csv] --truth COLUMN [--threshold 0.9]
                                                    precision, recall and F1 of probabilistic linkage on labelled data
  safetynet rules list|test --config FILE [--as-of D] [RULE...]   the rule pack, and a dry run of it
  safetynet users add|list|disable|passwd --config FILE [--name N] [--role R] [--region P] [--grid G]
                                                    who may log in, and as what
  safetynet sql --config FILE [--region P] "SELECT …"   a query over the analyst views of the analytic snapshot
  safetynet funnel --config FILE [--region P] [--by rule|region|month]   the 政策找人 funnel, from the snapshot
  safetynet lake --config FILE                      the saved cohorts' counts, suppressed, to the shared lake
  safetynet serve --config FILE [--addr :8080]      web UI, /metrics, and the schedules
  safetynet backup --config FILE --to DIR           a consistent copy of the database and photos, while serving too
  safetynet restore --config FILE --from DIR        put the newest backup in DIR back (serve stopped; the old file is kept)
  safetynet check --config FILE                     read the whole database back, verifying every block
  safetynet demo [--addr :8080] [--dir DIR] [--reset]
  safetynet synth --dir DIR [--as-of D] [--households N] [--records N]   write a synthetic county
  safetynet bench [--rows N] [--persons N] [--dir DIR]                   measure every stage
`

func main() {
	if os.Getenv("GOGC") == "" {
		// Ingest makes many short-lived values over a small live heap (most
		// data lives in DuckDB, outside it): collect less often.
		debug.SetGCPercent(400)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		// …but not past this, so the Go side stays small beside DuckDB's
		// memory_limit when files are large.
		debug.SetMemoryLimit(512 << 20)
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	args := os.Args[2:]
	var err error
	if cmd, ok := storeCommands[os.Args[1]]; ok {
		err = stdio(ctx, log).runStore(os.Args[1], cmd, args)
	} else {
		switch os.Args[1] {
		case "init":
			err = cmdInit(stdio(ctx, log), args)
		case "serve":
			err = cmdServe(ctx, log, args)
		case "restore":
			err = cmdRestore(stdio(ctx, log), args)
		case "demo":
			err = cmdDemo(ctx, log, args)
		case "synth":
			err = cmdSynth(args)
		case "bench":
			err = cmdBench(ctx, log, args)
		case "-h", "--help", "help":
			fmt.Print(usage)
			return
		default:
			fmt.Fprintf(os.Stderr, "safetynet: unknown command %q\n\n%s", os.Args[1], usage)
			os.Exit(2)
		}
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "safetynet %s: %v\n", os.Args[1], err)
		os.Exit(1)
	}
}

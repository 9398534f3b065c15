package main

import (
	"context"
	"flag"
	"log/slog"
	"os"
	"runtime/pprof"
	"time"

	"safetynet/bench"
)

// startCPUProfile profiles the process's CPU into file until stop.
func startCPUProfile(file string) (stop func(), err error) {
	f, err := os.Create(file)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}

func cmdBench(ctx context.Context, log *slog.Logger, args []string) error {
	fs := flag.NewFlagSet("bench", flag.ExitOnError)
	opt := bench.Options{Out: os.Stdout}
	fs.StringVar(&opt.Dir, "dir", "bench-data", "working folder (emptied first unless --ingest-only or --resume)")
	fs.IntVar(&opt.Rows, "rows", 1_000_000, "department rows")
	fs.IntVar(&opt.Persons, "persons", 300_000, "registry persons")
	ingestOnly := fs.Bool("ingest-only", false, "only the connector table, on the files a previous run left in --dir")
	httpRows := fs.Int("http-rows", 200_000, "records the loopback API serves")
	big := fs.Float64("big-gib", 0, "also ingest a CSV of this many GiB (peak memory must not grow with it)")
	matchOnly := fs.Bool("match", false, "only the match benchmark at scale")
	matchPersons := fs.Int("match-persons", 3_000_000, "registry persons for --match")
	matchRecords := fs.Int("match-records", 1_000_000, "department records for --match")
	inbox := fs.Bool("inbox", false, "only the inbox benchmark: the page's latency with --alerts alerts in the store")
	inboxAlerts := fs.Int("alerts", 1_000_000, "alerts for --inbox")
	rules := fs.Bool("rules", false, "only the rule-pack benchmark at scale")
	rulesRows := fs.Int("rules-rows", 10_000_000, "department rows for --rules")
	rulesMemory := fs.String("rules-memory", "2GB", "DuckDB memory_limit for --rules")
	analyticsOnly := fs.Bool("analytics", false, "only the analysts' benchmark: publishing, cohort queries and Flight SQL at scale")
	months := fs.Int("months", 24, "months of registry history for --analytics")
	requests := fs.Int("requests", 20, "requests per cohort query for --analytics")
	reuse := fs.Bool("reuse", false, "with --analytics: only the queries, on the store and snapshot of a previous run in --dir")
	history := fs.Bool("history", false, "only the history benchmark: --months monthly deliveries for --history-persons, one run each")
	historyPersons := fs.Int("history-persons", 3_000_000, "registry persons for --history")
	historyRows := fs.Int("history-rows", 0, "department rows over all months for --history (0: a seventh of the persons a month)")
	province := fs.Bool("province", false, "only the province month: --province-persons registry persons, twelve months of history at 1.6 department rows a person a month (8,000,000 at 5,000,000), then the month measured, each run as the scheduler runs it")
	provincePersons := fs.Int("province-persons", 5_000_000, "registry persons for --province")
	county := fs.Int("county", 1_000_000, "with --province or --history: the most registry persons a county holds; a larger registry is made of counties of one province (the generator holds a county in memory, about 8 GiB at a million)")
	provinceMemory := fs.String("province-memory", "6GB", "DuckDB memory_limit for --province (the target is 8 GiB of the whole process)")
	soak := fs.Bool("soak", false, "only the load soak: --soak-users people (7 in 10 operators, 2 grid workers, 1 analyst) for --soak-for on a store of --alerts alerts, a run every --soak-run-every")
	soakUsers := fs.Int("soak-users", 50, "simulated users for --soak")
	soakFor := fs.Duration("soak-for", 10*time.Minute, "how long --soak lasts")
	soakEvery := fs.Duration("soak-run-every", time.Minute, "a pipeline run this often during --soak")
	soakThink := fs.Duration("soak-think", 2*time.Second, "a --soak user's average pause between requests")
	resume := fs.Bool("resume", false, "with --province or --history: go on with the run left in --dir from the first month whose run had not ended (the sizes are the plan's; --province-memory or --rules-memory may change)")
	stopAfter := fs.Int("stop-after", 0, "with --province or --history: stop after this many months; --resume goes on later")
	steps := fs.Bool("steps", false, "with --province or --history: print each month's linking steps and rule times under its row")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the whole benchmark to this file (go tool pprof reads it)")
	fs.Parse(args)
	if *cpuProfile != "" {
		stop, err := startCPUProfile(*cpuProfile)
		if err != nil {
			return err
		}
		defer stop()
	}
	if *soak {
		return bench.RunSoak(ctx, bench.SoakOptions{Dir: opt.Dir, Alerts: *inboxAlerts, Users: *soakUsers, Duration: *soakFor, RunEvery: *soakEvery, Think: *soakThink, Out: os.Stdout})
	}
	if *province {
		// The province month is the history benchmark's thirteenth: the
		// twelve before it are the history already in the store.
		const months = 13
		_, err := bench.RunHistory(ctx, bench.HistoryOptions{Dir: opt.Dir, Persons: *provincePersons, Months: months,
			Rows: *provincePersons / 5 * 8 * months, County: *county, MemoryLimit: *provinceMemory, Steps: *steps, Resume: *resume, StopAfter: *stopAfter, Out: os.Stdout})
		return err
	}
	if *history {
		rows := *historyRows
		if rows == 0 {
			rows = *historyPersons / 7 * *months
		}
		_, err := bench.RunHistory(ctx, bench.HistoryOptions{Dir: opt.Dir, Persons: *historyPersons, Months: *months, Rows: rows,
			County: *county, MemoryLimit: *rulesMemory, Steps: *steps, Resume: *resume, StopAfter: *stopAfter, Out: os.Stdout})
		return err
	}
	if *analyticsOnly {
		return bench.RunAnalytics(ctx, bench.AnalyticsOptions{Dir: opt.Dir, Persons: *matchPersons, Rows: *rulesRows, Months: *months,
			MemoryLimit: *rulesMemory, Requests: *requests, Reuse: *reuse, Out: os.Stdout})
	}
	if *rules {
		_, err := bench.RunRules(ctx, bench.RulesOptions{Dir: opt.Dir, Persons: *matchPersons, Rows: *rulesRows, MemoryLimit: *rulesMemory, Out: os.Stdout})
		return err
	}
	if *inbox {
		return bench.RunInbox(ctx, bench.InboxOptions{Dir: opt.Dir, Alerts: *inboxAlerts, Requests: 100, Out: os.Stdout})
	}
	if *matchOnly {
		_, err := bench.RunMatch(ctx, bench.MatchOptions{Dir: opt.Dir, Persons: *matchPersons, Records: *matchRecords, Unusable: 0.05, Out: os.Stdout})
		return err
	}
	if !*ingestOnly {
		if _, err := bench.Run(ctx, opt); err != nil {
			return err
		}
	}
	_, err := bench.RunIngest(ctx, bench.IngestOptions{Dir: opt.Dir, HTTPRows: *httpRows, BigGiB: *big, Out: os.Stdout})
	return err
}

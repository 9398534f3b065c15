package bench

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"safetynet/alerts"
	"safetynet/analytics"
	"safetynet/config"
	"safetynet/jobs"
	"safetynet/match"
	"safetynet/store"
	"safetynet/synth"
)

// HistoryOptions size the history benchmark.
type HistoryOptions struct {
	Dir     string
	Persons int // registry persons (about three per household)
	Months  int // monthly deliveries, one run each
	Rows    int // department rows over all the months
	// MemoryLimit is DuckDB's, as a bureau would set it for this registry.
	MemoryLimit string
	Out         io.Writer
}

// Month is one monthly run of the history benchmark.
type Month struct {
	Tag      string
	Rows     int // department rows delivered that month
	Elapsed  time.Duration
	Stages   map[string]time.Duration
	PeakRSS  int64
	Raised   int
	Baseline time.Duration      // DuckDB reading the month's CSV and JSON Lines files alone
	Linking  []match.Step       // linking's own steps
	Snapshot map[string]float64 // seconds per analyst view (the manifest's)
	Rules    map[string]float64 // seconds per rule, and the lifecycle's ("recording")
}

// RunHistory answers whether a run costs what its new data costs or grows
// with the history behind it: a registry delivered once, then Months
// monthly deliveries of every department, each run as the scheduler runs
// it (the drop folders, linking, the rule pack and its lifecycle, the
// analytic snapshot), one after another on one store. Each month prints
// its run time and peak memory next to DuckDB reading that month's files.
func RunHistory(ctx context.Context, opt HistoryOptions) ([]Month, error) {
	dir := filepath.Join(opt.Dir, "history")
	if err := os.RemoveAll(dir); err != nil {
		return nil, err
	}
	cfgFile, err := config.Init(dir)
	if err != nil {
		return nil, err
	}
	cfg, err := config.Load(cfgFile)
	if err != nil {
		return nil, err
	}
	cfg.MemoryLimit = opt.MemoryLimit
	if os.Getenv(cfg.Analytics.PseudonymKeyEnv) == "" {
		// The scheduler publishes the analysts' snapshot after each run; it needs a key.
		os.Setenv(cfg.Analytics.PseudonymKeyEnv, "bench-history-key")
	}
	last := time.Date(2026, 6, 30, 0, 0, 0, 0, time.UTC)
	first := time.Date(last.Year(), last.Month()+1-time.Month(opt.Months), 1, 0, 0, 0, 0, time.UTC)
	// The county is made as of a quarter after the last month, so that its
	// planted cases (dated in the weeks before that day) fall after the
	// history and every month holds ordinary records only.
	asOf := last.AddDate(0, 3, 0)
	so := synth.DefaultOptions(asOf)
	so.Households, so.UTF8 = opt.Persons/3, true
	so.Outsiders = opt.Persons / 3
	// 3% of the records about registry members come without an ID, as
	// departments send them, so every month's linking compares some by
	// name and birth date.
	so.NoID = 0.03
	so.Days = int(asOf.Sub(first).Hours()/24) + 1
	so.Records = opt.Rows * so.Days / (int(last.Sub(first).Hours()/24) + 1)
	t := time.Now()
	county, err := synth.Generate(so)
	if err != nil {
		return nil, err
	}
	if err := county.WriteRegistry(cfg.Inbox); err != nil {
		return nil, err
	}
	fmt.Fprintf(opt.Out, "history: generated %d registry persons and %d department rows over %d months in %s (%s)\n",
		county.Persons(), county.Rows(), opt.Months, time.Since(t).Round(time.Second), dir)

	db, err := jobs.OpenStore(ctx, cfg.Database)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	if err := db.SetMemoryLimit(ctx, cfg.MemoryLimit); err != nil {
		return nil, err
	}
	pack, err := alerts.LoadPack(nil)
	if err != nil {
		return nil, err
	}
	chain := &jobs.Chain{Cfg: cfg, DB: db, Pack: pack, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	t = time.Now()
	chain.Now = func() time.Time { return first.Add(-22 * time.Hour) }
	if _, err := chain.Run(ctx, "bench", first.AddDate(0, 0, -1)); err != nil {
		return nil, fmt.Errorf("bench: the registry's delivery: %w", err)
	}
	fmt.Fprintf(opt.Out, "history: the registry's first delivery ran in %s, before month 1\n\n", time.Since(t).Round(time.Second))

	// Fixed widths, not a tabwriter: each month prints as it finishes.
	const row = "%8s %9s %7s %9s %8s %9s %11s %7s %7s %13s %11s\n"
	fmt.Fprintf(opt.Out, row, "month", "rows", "run s", "ingest s", "match s", "alerts s", "snapshot s", "ckpt s", "raised", "peak RSS MiB", "baseline s")
	var months []Month
	for m := first; !m.After(last); m = m.AddDate(0, 1, 0) {
		from := m
		if len(months) == 0 {
			from = time.Time{} // the first delivery carries anything older too
		}
		month, err := runMonth(ctx, chain, county, from, m.AddDate(0, 1, 0), m.Format("2006-01"))
		if err != nil {
			return nil, err
		}
		months = append(months, month)
		sec := func(d time.Duration) string { return fmt.Sprintf("%.1f", d.Seconds()) }
		fmt.Fprintf(opt.Out, row, month.Tag, fmt.Sprint(month.Rows), sec(month.Elapsed), sec(month.Stages["ingest"]), sec(month.Stages["match"]),
			sec(month.Stages["alerts"]), sec(month.Stages["analytics"]), sec(month.Stages["checkpoint"]), fmt.Sprint(month.Raised), fmt.Sprint(month.PeakRSS>>20),
			fmt.Sprintf("%.2f", month.Baseline.Seconds()))
	}
	printGrowth(opt.Out, months)
	return months, nil
}

// runMonth delivers one month's files to the drop folders and runs the
// chain as of the month's last day, the morning after.
func runMonth(ctx context.Context, chain *jobs.Chain, county *synth.County, from, to time.Time, tag string) (Month, error) {
	n, err := county.WriteDepartments(chain.Cfg.Inbox, from, to, tag)
	if err != nil {
		return Month{}, err
	}
	base, err := readMonthDirectly(ctx, chain.DB, chain.Cfg.Inbox, tag)
	if err != nil {
		return Month{}, err
	}
	asOf := to.AddDate(0, 0, -1)
	chain.Now = func() time.Time { return to.Add(2 * time.Hour) }
	runtime.GC()
	resetPeak()
	t := time.Now()
	rep, err := chain.Run(ctx, "bench", asOf)
	if err != nil {
		return Month{}, fmt.Errorf("bench: month %s: %w", tag, err)
	}
	month := Month{Tag: tag, Rows: n, Elapsed: time.Since(t), Stages: rep.Stages, PeakRSS: peakRSS(), Baseline: base}
	if rep.Alerts != nil {
		month.Raised = rep.Alerts.Raised
		month.Rules = map[string]float64{"recording": rep.Alerts.Recording.Seconds()}
		for _, r := range rep.Alerts.Rules {
			month.Rules[r.RuleID] = r.Took.Seconds()
		}
	}
	if rep.Match != nil {
		month.Linking = rep.Match.Steps
	}
	if rep.Analytics != "" {
		return month, fmt.Errorf("bench: month %s: snapshot: %s", tag, rep.Analytics)
	}
	if _, man, err := analytics.Current(chain.Cfg.Analytics.Dir); err == nil {
		month.Snapshot = man.Seconds
	}
	return month, nil
}

// readMonthDirectly is the baseline: DuckDB reading the month's CSV and
// JSON Lines files into tables on its own. The education workbook is left
// out: DuckDB reads XLSX only with an extension this machine cannot fetch.
func readMonthDirectly(ctx context.Context, db *store.DB, inbox, tag string) (time.Duration, error) {
	var files []string
	for _, pattern := range []string{"*/*-" + tag + ".csv", "*/*-" + tag + ".jsonl"} {
		m, err := filepath.Glob(filepath.Join(inbox, pattern))
		if err != nil {
			return 0, err
		}
		files = append(files, m...)
	}
	t := time.Now()
	for i, f := range files {
		reader := "read_csv"
		if strings.HasSuffix(f, ".jsonl") {
			reader = "read_json"
		}
		q := fmt.Sprintf(`CREATE OR REPLACE TEMP TABLE _baseline_%d AS SELECT * FROM %s(%s)`, i, reader, store.Quote(f))
		if _, err := db.ExecContext(ctx, q); err != nil {
			return 0, fmt.Errorf("bench: baseline %s: %w", f, err)
		}
	}
	took := time.Since(t)
	for i := range files {
		if _, err := db.ExecContext(ctx, fmt.Sprintf(`DROP TABLE _baseline_%d`, i)); err != nil {
			return 0, err
		}
	}
	return took, nil
}

// printGrowth compares the last month with the first, per row delivered
// (months differ in size: planted cases sit in the last ones).
func printGrowth(w io.Writer, months []Month) {
	if len(months) < 2 {
		return
	}
	a, z := months[0], months[len(months)-1]
	perRow := func(m Month) float64 { return m.Elapsed.Seconds() / float64(max(m.Rows, 1)) }
	fmt.Fprintf(w, "\nmonth %d against month 1: run time %.2f× (%.2f× per row delivered), peak memory %.2f× (target ≤ 1.3× in both)\n",
		len(months), z.Elapsed.Seconds()/a.Elapsed.Seconds(), perRow(z)/perRow(a), float64(z.PeakRSS)/float64(max(a.PeakRSS, 1)))
	// The snapshot holds the last 24 months of the registry, so it grows
	// until there are 24 months to hold: apart from it, the run.
	without := func(m Month) float64 { return (m.Elapsed - m.Stages["analytics"]).Seconds() }
	fmt.Fprintf(w, "without the analysts' snapshot: month %d against month 1: %.2f×; by stage: ingest %.2f×, match %.2f×, alerts %.2f×, snapshot %.2f×\n",
		len(months), without(z)/without(a), ratio(z, a, "ingest"), ratio(z, a, "match"), ratio(z, a, "alerts"), ratio(z, a, "analytics"))
	if len(months) > 2 {
		// Month 1 also does what a store does once: the registry view
		// computed whole, the registry's scoring form written.
		b := months[1]
		fmt.Fprintf(w, "month %d against month 2 (month 1's one-time work left out): run time %.2f×, peak memory %.2f×\n",
			len(months), z.Elapsed.Seconds()/b.Elapsed.Seconds(), float64(z.PeakRSS)/float64(max(b.PeakRSS, 1)))
	}
	if len(months) > 13 {
		// The rules look back a year: from month 13 on each run reads a
		// full window, which month 1 cannot. What history adds beyond the
		// window shows against month 13.
		y := months[12]
		fmt.Fprintf(w, "month %d against month 13 (the rules' year-long window full in both): run time %.2f×, peak memory %.2f×; by stage: ingest %.2f×, match %.2f×, alerts %.2f×, snapshot %.2f×\n",
			len(months), z.Elapsed.Seconds()/y.Elapsed.Seconds(), float64(z.PeakRSS)/float64(max(y.PeakRSS, 1)),
			ratio(z, y, "ingest"), ratio(z, y, "match"), ratio(z, y, "alerts"), ratio(z, y, "analytics"))
	}
	fmt.Fprintf(w, "month %d against DuckDB reading its files alone: %.1f×\n", len(months), z.Elapsed.Seconds()/z.Baseline.Seconds())
	if len(a.Linking) == len(z.Linking) {
		fmt.Fprintf(w, "linking's steps, month 1 → month %d:", len(months))
		for i, s := range z.Linking {
			fmt.Fprintf(w, " %s %.2f → %.2f s;", s.Name, a.Linking[i].Took.Seconds(), s.Took.Seconds())
		}
		fmt.Fprintln(w)
	}
	printParts(w, "the snapshot's views", len(months), a.Snapshot, z.Snapshot)
	printParts(w, "the rules", len(months), a.Rules, z.Rules)
}

// printParts prints what each part of a stage took in the first month and the last.
func printParts(w io.Writer, what string, months int, first, last map[string]float64) {
	if len(last) == 0 {
		return
	}
	fmt.Fprintf(w, "%s, month 1 → month %d:", what, months)
	for _, name := range slices.Sorted(maps.Keys(last)) {
		fmt.Fprintf(w, " %s %.2f → %.2f s;", name, first[name], last[name])
	}
	fmt.Fprintln(w)
}

func ratio(z, a Month, stage string) float64 {
	return z.Stages[stage].Seconds() / max(a.Stages[stage].Seconds(), 0.001)
}

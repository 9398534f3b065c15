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
	// County is the most registry persons a county holds: a larger
	// registry is made of several counties of one province. 0: one county.
	County int
	// MemoryLimit is DuckDB's, as a bureau would set it for this registry.
	MemoryLimit string
	// Steps prints each month's linking steps and rule times under its
	// row: which part grows, month by month, on a run too long to wait
	// for the last month's summary.
	Steps bool
	// Resume goes on with the run left in Dir (stopped, or stopped after
	// StopAfter months) instead of starting a new one.
	Resume bool
	// StopAfter stops after this many months (0: none), to go on later
	// with Resume.
	StopAfter int
	Out       io.Writer
}

// Month is one monthly run of the history benchmark.
type Month struct {
	Tag      string
	Rows     int // department rows delivered that month
	Elapsed  time.Duration
	Stages   map[string]time.Duration
	PeakRSS  int64
	Raised   int
	Peaks    map[string]int64   // each stage's peak RSS, in bytes
	GoLive   map[string]uint64  // each stage's largest live Go heap, in bytes
	GC       map[string]float64 // each stage's CPU seconds in Go's collector
	Direct   Direct             // DuckDB doing the month's work directly
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
// With Resume it goes on with the run left in Dir, from the first month
// whose run had not ended.
func RunHistory(ctx context.Context, opt HistoryOptions) ([]Month, error) {
	dir := filepath.Join(opt.Dir, "history")
	root := filepath.Join(dir, "staged")
	var (
		cfg  *config.Config
		prov province
		err  error
	)
	if opt.Resume {
		cfg, prov, err = resumeHistory(dir, root, opt)
	} else {
		cfg, prov, err = newHistory(dir, root, opt)
	}
	if err != nil {
		return nil, err
	}
	cfg.MemoryLimit = opt.MemoryLimit
	if os.Getenv(cfg.Analytics.PseudonymKeyEnv) == "" {
		// The scheduler publishes the analysts' snapshot after each run; it needs a key.
		os.Setenv(cfg.Analytics.PseudonymKeyEnv, "bench-history-key")
	}
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
	if !prov.Registry.Ran {
		if err := runRegistry(ctx, chain, prov.Registry, opt.Out); err != nil {
			return nil, err
		}
		if err := prov.ended(root, &prov.Registry, nil); err != nil {
			return nil, err
		}
	}

	// Fixed widths, not a tabwriter: each month prints as it finishes.
	const row = "%8s %9s %7s %9s %8s %9s %11s %7s %7s %13s %11s\n"
	fmt.Fprintf(opt.Out, row, "month", "rows", "run s", "ingest s", "match s", "alerts s", "snapshot s", "ckpt s", "raised", "peak RSS MiB", "direct s")
	var ran []Month
	for i := range prov.Months {
		m := &prov.Months[i]
		if m.Ran {
			continue
		}
		if opt.StopAfter > 0 && len(ran) == opt.StopAfter {
			fmt.Fprintf(opt.Out, "history: stopped after %d months as asked; `--resume` goes on from %s\n", len(ran), m.Tag)
			break
		}
		month, err := runMonth(ctx, chain, *m)
		if err != nil {
			return nil, err
		}
		if err := prov.ended(root, m, &month); err != nil {
			return nil, err
		}
		ran = append(ran, month)
		sec := func(d time.Duration) string { return fmt.Sprintf("%.1f", d.Seconds()) }
		fmt.Fprintf(opt.Out, row, month.Tag, fmt.Sprint(month.Rows), sec(month.Elapsed), sec(month.Stages["ingest"]), sec(month.Stages["match"]),
			sec(month.Stages["alerts"]), sec(month.Stages["analytics"]), sec(month.Stages["checkpoint"]), fmt.Sprint(month.Raised), fmt.Sprint(month.PeakRSS>>20),
			fmt.Sprintf("%.2f", month.Direct.Total().Seconds()))
		if opt.Steps {
			printMonthParts(opt.Out, month)
		}
	}
	printGrowth(opt.Out, prov.Results)
	return ran, nil
}

// newHistory starts a history run in dir: its config, and the registry
// and months generated and staged under root, with their plan.
func newHistory(dir, root string, opt HistoryOptions) (*config.Config, province, error) {
	if err := os.RemoveAll(dir); err != nil {
		return nil, province{}, err
	}
	cfgFile, err := config.Init(dir)
	if err != nil {
		return nil, province{}, err
	}
	cfg, err := config.Load(cfgFile)
	if err != nil {
		return nil, province{}, err
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
	prov, err := generate(so, opt.County, root, first, last)
	if err != nil {
		return nil, province{}, err
	}
	if err := prov.save(root); err != nil {
		return nil, province{}, err
	}
	fmt.Fprintf(opt.Out, "history: generated %d registry persons in %d counties and %d department rows over %d months in %s (%s)\n",
		prov.Persons, len(prov.Counties), prov.Rows, opt.Months, time.Since(t).Round(time.Second), dir)
	return cfg, prov, nil
}

// resumeHistory takes up the run left in dir: its config and its plan.
func resumeHistory(dir, root string, opt HistoryOptions) (*config.Config, province, error) {
	prov, err := loadPlan(root)
	if err != nil {
		return nil, province{}, err
	}
	cfg, err := config.Load(filepath.Join(dir, "safetynet.yaml"))
	if err != nil {
		return nil, province{}, err
	}
	left := 0
	for _, m := range prov.Months {
		if !m.Ran {
			left++
		}
	}
	fmt.Fprintf(opt.Out, "history: resuming %s: %d registry persons in %d counties, %d of %d months left\n",
		dir, prov.Persons, len(prov.Counties), left, len(prov.Months))
	return cfg, prov, nil
}

// runRegistry runs the registry's first delivery, before month 1.
func runRegistry(ctx context.Context, chain *jobs.Chain, reg staged, out io.Writer) error {
	if err := reg.deliver(chain.Cfg.Inbox); err != nil {
		return err
	}
	t := time.Now()
	chain.Now = func() time.Time { return reg.To.Add(-22 * time.Hour) }
	if _, err := chain.Run(ctx, "bench", reg.To.AddDate(0, 0, -1)); err != nil {
		return fmt.Errorf("bench: the registry's delivery: %w", err)
	}
	fmt.Fprintf(out, "history: the registry's first delivery ran in %s, before month 1\n\n", time.Since(t).Round(time.Second))
	return nil
}

// runMonth delivers one month's files to the drop folders and runs the
// chain as of the month's last day, the morning after.
func runMonth(ctx context.Context, chain *jobs.Chain, sm staged) (Month, error) {
	if err := sm.deliver(chain.Cfg.Inbox); err != nil {
		return Month{}, err
	}
	tag, n := sm.Tag, sm.Rows
	direct, err := directly(ctx, chain.DB, chain.Cfg.Inbox, tag)
	if err != nil {
		return Month{}, err
	}
	asOf := sm.To.AddDate(0, 0, -1)
	chain.Now = func() time.Time { return sm.To.Add(2 * time.Hour) }
	peaks := stagePeaks{}
	chain.Stage = peaks.begin
	defer func() { chain.Stage = nil }()
	runtime.GC() // the Stage hook resets the peak as each stage begins
	t := time.Now()
	rep, err := chain.Run(ctx, "bench", asOf)
	if err != nil {
		return Month{}, fmt.Errorf("bench: month %s: %w", tag, err)
	}
	month := Month{Tag: tag, Rows: n, Elapsed: time.Since(t), Stages: rep.Stages, PeakRSS: peaks.max(), Peaks: peaks.of,
		GoLive: peaks.goLive, GC: peaks.gc, Direct: direct}
	if month.Direct.Rules, err = directRules(ctx, chain.DB); err != nil {
		return Month{}, err
	}
	if rep.Alerts != nil {
		month.Raised = rep.Alerts.Raised
		month.Rules = map[string]float64{"recording": rep.Alerts.Recording.Seconds(), "shared views": rep.Alerts.Shared.Seconds()}
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

// Total is the whole of the month's work done directly.
func (d Direct) Total() time.Duration { return d.Read + d.Join + d.Rules + d.Write }

// printStages prints the month's stages next to DuckDB doing each one's
// work directly.
func printStages(w io.Writer, m Month) {
	fmt.Fprintf(w, "\nmonth %s by stage, %d department rows, next to DuckDB doing the same work directly:\n", m.Tag, m.Rows)
	const row = "%-10s %8s %10s %9s %8s %6s   %-42s %8s %7s\n"
	fmt.Fprintf(w, row, "stage", "s", "rows/s", "peak MiB", "Go MiB", "GC s", "DuckDB directly", "s", "×")
	stages := []struct {
		name, what string
		direct     time.Duration
	}{
		{"ingest", "read the CSV and JSON Lines files", m.Direct.Read},
		{"match", "join them to the registry on the ID", m.Direct.Join},
		{"alerts", "read every department row with its link", m.Direct.Rules},
		{"analytics", "write the joined rows to Parquet", m.Direct.Write},
	}
	for _, st := range stages {
		took := m.Stages[st.name]
		fmt.Fprintf(w, row, st.name, fmt.Sprintf("%.1f", took.Seconds()), fmt.Sprintf("%.0f", float64(m.Rows)/max(took.Seconds(), 0.001)),
			fmt.Sprint(m.Peaks[st.name]>>20), fmt.Sprint(m.GoLive[st.name]>>20), fmt.Sprintf("%.1f", m.GC[st.name]), st.what, fmt.Sprintf("%.2f", st.direct.Seconds()), fmt.Sprintf("%.1f", took.Seconds()/max(st.direct.Seconds(), 0.001)))
	}
	gcAll := 0.0
	for _, s := range m.GC {
		gcAll += s
	}
	fmt.Fprintf(w, row, "month", fmt.Sprintf("%.1f", m.Elapsed.Seconds()), fmt.Sprintf("%.0f", float64(m.Rows)/max(m.Elapsed.Seconds(), 0.001)),
		fmt.Sprint(m.PeakRSS>>20), fmt.Sprint(slices.Max(append(slices.Collect(maps.Values(m.GoLive)), 0))>>20),
		fmt.Sprintf("%.1f", gcAll), "all of the above", fmt.Sprintf("%.2f", m.Direct.Total().Seconds()), fmt.Sprintf("%.1f", m.Elapsed.Seconds()/max(m.Direct.Total().Seconds(), 0.001)))
	fmt.Fprintln(w, "(Go MiB: the largest live Go heap in the stage, beside Go's 512 MiB soft limit; GC s: the CPU seconds Go's collector took.)")
}

// stagePeaks notes each stage's peak RSS and Go's share of it, on the
// chain's Stage hook.
type stagePeaks struct {
	of      map[string]int64
	goLive  map[string]uint64  // largest live Go heap, bytes
	gc      map[string]float64 // CPU seconds of Go's collector
	current string
	side    goSide
}

func (p *stagePeaks) begin(stage string) {
	if p.current != "" {
		if p.of == nil {
			p.of, p.goLive, p.gc = map[string]int64{}, map[string]uint64{}, map[string]float64{}
		}
		p.of[p.current] = peakRSS()
		p.goLive[p.current], p.gc[p.current] = p.side.end()
	}
	p.current = stage
	resetPeak()
	if stage != "" {
		p.side.start()
	}
}

func (p *stagePeaks) max() int64 {
	return slices.Max(append(slices.Collect(maps.Values(p.of)), peakRSS()))
}

// Direct is DuckDB doing a month's work directly, stage by stage: the
// baselines the month's stages are printed next to.
type Direct struct {
	Read  time.Duration // the month's CSV and JSON Lines files read into tables
	Join  time.Duration // those tables joined to the registry on the resident ID
	Rules time.Duration // every department row read with its link, as each rule must
	Write time.Duration // the joined tables written to Parquet
}

// directly times DuckDB reading the month's CSV and JSON Lines files into
// tables on its own, joining them to the registry's members on the ID
// column as the departments send it (exact match only, no repair, no
// names), and writing the result to Parquet. The education workbook is
// left out: DuckDB reads XLSX only with an extension this machine cannot
// fetch.
func directly(ctx context.Context, db *store.DB, inbox, tag string) (Direct, error) {
	var files []string
	for _, pattern := range []string{"*/*-" + tag + ".csv", "*/*-" + tag + ".jsonl"} {
		m, err := filepath.Glob(filepath.Join(inbox, pattern))
		if err != nil {
			return Direct{}, err
		}
		files = append(files, m...)
	}
	out, err := os.MkdirTemp("", "safetynet-direct-")
	if err != nil {
		return Direct{}, err
	}
	defer os.RemoveAll(out)
	var d Direct
	for i, f := range files {
		reader := "read_csv"
		if strings.HasSuffix(f, ".jsonl") {
			reader = "read_json"
		}
		steps := []struct {
			took *time.Duration
			sql  string
		}{
			{&d.Read, fmt.Sprintf(`CREATE OR REPLACE TEMP TABLE _direct_%d AS SELECT * FROM %s(%s)`, i, reader, store.Quote(f))},
			{&d.Join, fmt.Sprintf(`CREATE OR REPLACE TEMP TABLE _joined_%d AS SELECT d.*, m.household_id
				FROM _direct_%d d LEFT JOIN members m ON m.id_number = upper(trim(CAST(d.%s AS VARCHAR)))`, i, i, directID)},
			{&d.Write, fmt.Sprintf(`COPY _joined_%d TO %s (FORMAT parquet)`, i, store.Quote(filepath.Join(out, fmt.Sprintf("%d.parquet", i))))},
			{nil, fmt.Sprintf(`DROP TABLE _direct_%d`, i)},
			{nil, fmt.Sprintf(`DROP TABLE _joined_%d`, i)},
		}
		for _, st := range steps {
			t := time.Now()
			if _, err := db.ExecContext(ctx, st.sql); err != nil {
				return Direct{}, fmt.Errorf("bench: DuckDB directly on %s: %w", f, err)
			}
			if st.took != nil {
				*st.took += time.Since(t)
			}
		}
	}
	return d, nil
}

// directID is the resident ID's column in every file the month's
// baseline reads (the departments' own header).
const directID = `"身份证号"`

// directRules times DuckDB reading every department row with its link,
// the least any rule pack over the store must do.
func directRules(ctx context.Context, db *store.DB) (time.Duration, error) {
	var rows, linked int
	t := time.Now()
	if err := db.QueryRowContext(ctx, rulesBaseline).Scan(&rows, &linked); err != nil {
		return 0, fmt.Errorf("bench: the rules' baseline: %w", err)
	}
	return time.Since(t), nil
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
	printStages(w, z)
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

// printMonthParts prints one month's linking steps and rule times, indented
// under its row.
func printMonthParts(w io.Writer, m Month) {
	fmt.Fprint(w, "         linking:")
	for _, s := range m.Linking {
		fmt.Fprintf(w, " %s %.1f s;", s.Name, s.Took.Seconds())
	}
	fmt.Fprint(w, "\n         rules:")
	for _, name := range slices.Sorted(maps.Keys(m.Rules)) {
		fmt.Fprintf(w, " %s %.1f s;", name, m.Rules[name])
	}
	fmt.Fprintln(w)
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

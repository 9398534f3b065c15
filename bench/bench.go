// Package bench measures the pipeline stage by stage on a synthetic
// county, next to DuckDB loading the same CSV on its own, and reports
// throughput and peak memory. It is what `make bench` prints; timings
// never decide a test.
package bench

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"safetynet/alerts"
	"safetynet/config"
	"safetynet/ingest"
	"safetynet/jobs"
	"safetynet/match"
	"safetynet/store"
	"safetynet/synth"
)

// Options size the run.
type Options struct {
	Dir     string // working folder; emptied first
	Rows    int    // department rows
	Persons int    // registry persons (about three per household)
	Out     io.Writer
}

// Stage is one measured line of the table.
type Stage struct {
	Name    string
	Rows    int
	Elapsed time.Duration
	PeakRSS int64 // bytes; the process's high-water mark during the stage
}

func (s Stage) rate() float64 { return float64(s.Rows) / s.Elapsed.Seconds() }

// Run generates the county, runs each stage and prints the table.
func Run(ctx context.Context, opt Options) ([]Stage, error) {
	if err := os.RemoveAll(opt.Dir); err != nil {
		return nil, err
	}
	cfgFile, err := config.Init(opt.Dir)
	if err != nil {
		return nil, err
	}
	cfg, err := config.Load(cfgFile)
	if err != nil {
		return nil, err
	}
	asOf := time.Date(2026, 6, 30, 0, 0, 0, 0, time.UTC)
	so := synth.DefaultOptions(asOf)
	so.Households, so.Records, so.Outsiders, so.UTF8 = opt.Persons/3, opt.Rows, opt.Persons/3, true
	t := time.Now()
	county, err := synth.Generate(so)
	if err != nil {
		return nil, err
	}
	if err := county.Write(cfg.Inbox, opt.Dir); err != nil {
		return nil, err
	}
	persons, deptRows := county.Persons(), county.Rows()
	fmt.Fprintf(opt.Out, "generated %d registry persons and %d department rows in %s (%s)\n\n",
		persons, deptRows, time.Since(t).Round(time.Millisecond), opt.Dir)
	county = nil // the stages run without the generator's copy of the county in memory

	db, err := jobs.OpenStore(ctx, cfg.Database)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	if err := db.SetMemoryLimit(ctx, cfg.MemoryLimit); err != nil {
		return nil, err
	}
	var stages []Stage
	var linking []match.Step
	measure := func(name string, fn func() (int, error)) error {
		st, err := measureStage(name, fn)
		if err == nil {
			stages = append(stages, st)
		}
		return err
	}
	medins := filepath.Join(cfg.Inbox, synth.MedinsFile)
	// The baseline is short and the machine shared: take the median of three loads.
	var base []Stage
	for i := 0; i < 3; i++ {
		if err := measure("baseline: DuckDB read_csv → table (median of 3)", func() (int, error) {
			var n int
			_, err := db.ExecContext(ctx, fmt.Sprintf(`CREATE OR REPLACE TABLE bench_baseline AS SELECT * FROM read_csv(%s)`, store.Quote(medins)))
			if err == nil {
				err = db.QueryRowContext(ctx, `SELECT count(*) FROM bench_baseline`).Scan(&n)
			}
			return n, err
		}); err != nil {
			return nil, err
		}
		base = append(base, stages[len(stages)-1])
		stages = stages[:len(stages)-1]
	}
	sort.Slice(base, func(i, j int) bool { return base[i].Elapsed < base[j].Elapsed })
	stages = append(stages, base[1])
	if _, err := db.ExecContext(ctx, `DROP TABLE bench_baseline`); err != nil {
		return nil, err
	}
	ingestFiles := func(source string, names ...string) func() (int, error) {
		return func() (int, error) {
			n := 0
			for _, name := range names {
				res, err := ingest.IngestFile(ctx, db, source, filepath.Join(cfg.Inbox, name), ingest.Options{})
				if err != nil {
					return n, err
				}
				n += res.Read
			}
			return n, nil
		}
	}
	steps := []struct {
		name string
		fn   func() (int, error)
	}{
		{"ingest CSV (medins, UTF-8)", ingestFiles("medins", synth.MedinsFile)},
		{"ingest XLSX (education + households)", func() (int, error) {
			a, err := ingestFiles("education", synth.EducationFile)()
			if err != nil {
				return a, err
			}
			b, err := ingestFiles("registry", synth.HouseholdsFile)()
			return a + b, err
		}},
		{"ingest CSV GB18030 (members)", ingestFiles("registry", synth.MembersFile)},
		{"ingest JSONL + CSV (health, disability)", func() (int, error) {
			a, err := ingestFiles("health", synth.HealthFile)()
			if err != nil {
				return a, err
			}
			b, err := ingestFiles("disability", synth.DisabilityFile, synth.DisUpdateFile)()
			return a + b, err
		}},
		{"match (normalise IDs, link)", func() (int, error) {
			st, err := match.Link(ctx, db)
			if err != nil {
				return 0, err
			}
			linking = st.Steps
			n := 0
			for _, v := range st.Linked {
				n += v
			}
			return n, nil
		}},
		{"alerts (8 rules, lifecycle)", func() (int, error) {
			pack, err := alerts.LoadPack(nil)
			if err != nil {
				return 0, err
			}
			ev := &alerts.Evaluator{DB: db, Pack: pack, Standards: cfg.Standards, SeriousIllness: cfg.SeriousIllness}
			rep, err := ev.Run(ctx, asOf, asOf)
			if err != nil {
				return 0, err
			}
			if f := rep.Failed(); len(f) > 0 {
				return 0, f[0].Err
			}
			return deptRows, nil
		}},
	}
	for _, s := range steps {
		if err := measure(s.name, s.fn); err != nil {
			return nil, err
		}
	}
	print(opt.Out, stages, deptRows)
	fmt.Fprintf(opt.Out, "match steps: %s\n", stepTimes(linking))
	return stages, nil
}

func print(w io.Writer, stages []Stage, deptRows int) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "stage\trows\tseconds\trows/s\tpeak RSS MiB\t")
	var chain time.Duration
	var peak int64
	for i, s := range stages {
		fmt.Fprintf(tw, "%s\t%d\t%.2f\t%.0f\t%d\t\n", s.Name, s.Rows, s.Elapsed.Seconds(), s.rate(), s.PeakRSS>>20)
		if i > 0 {
			chain += s.Elapsed
			peak = max(peak, s.PeakRSS)
		}
	}
	base := stages[0]
	chainRate := float64(deptRows) / chain.Seconds()
	fmt.Fprintf(tw, "whole chain (ingest, match, alerts)\t%d\t%.2f\t%.0f\t%d\t\n", deptRows, chain.Seconds(), chainRate, peak>>20)
	tw.Flush()
	fmt.Fprintf(w, "\nchain throughput vs the baseline's: %.1f× slower (target ≤ 3×); peak RSS %d MiB (target < 2048)\n",
		base.rate()/chainRate, peak>>20)
}

// measureStage runs one stage, timing it and reading the process's peak
// memory during it. The Go heap the stages before it freed is given back
// to the system first, so the peak is the stage's own and not what an
// earlier one left resident.
func measureStage(name string, fn func() (int, error)) (Stage, error) {
	debug.FreeOSMemory()
	resetPeak()
	t := time.Now()
	n, err := fn()
	if err != nil {
		return Stage{}, fmt.Errorf("%s: %w", name, err)
	}
	return Stage{Name: name, Rows: n, Elapsed: time.Since(t), PeakRSS: peakRSS()}, nil
}

// resetPeak resets the process's RSS high-water mark (Linux).
func resetPeak() { os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) }

// peakRSS reads the RSS high-water mark (VmHWM) in bytes; 0 where unknown.
func peakRSS() int64 { return procStatus("VmHWM:") }

// currentRSS is the process's resident memory now (VmRSS), in bytes.
func currentRSS() int64 { return procStatus("VmRSS:") }

// procStatus reads one memory field of /proc/self/status (Linux), in bytes.
func procStatus(field string) int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

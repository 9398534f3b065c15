// Package jobs owns running the pipeline: the chain ingest → match →
// alerts, its schedule (robfig/cron, from config), a lock so two runs
// never overlap, and the run history in job_runs.
package jobs

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"safetynet/alerts"
	"safetynet/analytics"
	"safetynet/config"
	"safetynet/forward"
	"safetynet/ingest"
	"safetynet/match"
	"safetynet/notify"
	"safetynet/store"
)

//go:embed schema/*.sql
var schemaFS embed.FS

// Migrations are jobs' tables.
func Migrations() store.MigrationSet { return store.Migrations("jobs", schemaFS, "schema") }

// Chain runs the pipeline over one database.
type Chain struct {
	Cfg  *config.Config
	DB   *store.DB
	Pack *alerts.Pack
	Log  *slog.Logger
	Now  func() time.Time
	// Progress, when set, hears how far ingest is in each file (the CLI
	// draws a progress line with it when stdout is a terminal).
	Progress func(source, file string, rows int)
	// Published, when set, hears of each new analytic snapshot (serve
	// counts the saved cohorts on it ahead of the analysts' first page).
	Published func(snapshot string)
	// Stage, when set, hears each stage of a run begin ("ingest", "match",
	// "alerts", "analytics") and then "" as the run's stages end; the
	// benchmarks measure each stage's peak memory on it.
	Stage func(stage string)

	mu sync.Mutex // one run at a time
}

// Report is what one run did.
type Report struct {
	RunID       int64
	Files       int
	Rejected    int
	Stored      int
	Quarantined int
	Match       *match.Stats
	Alerts      *alerts.Report
	Escalated   int    // open alerts that passed their due time in this run
	Analytics   string // why the analytic snapshot was not published, if it failed
	Stages      map[string]time.Duration
	// Drift lists the column changes departments made, per batch.
	Drift []string
	// SourceErrors are the pull connectors that failed; the run went on.
	SourceErrors []string
}

// connector is one source's own connector, as its config says.
func (c *Chain) connector(name string, src config.Source) ingest.Connector {
	// A batch's versions begin when its run ran, on the chain's clock.
	opt := ingest.Options{Aliases: src.Aliases, Encoding: src.Encoding, Delimiter: src.Delimiter, Now: c.now}
	return ingest.NewConnector(c.Cfg, name, opt, c.Progress)
}

// storeFrom brings in what a connector has (feed names it: a source, or
// source@peer) and adds it to the run's report. A source that cannot be
// reached makes the run partial, not failed.
func (c *Chain) storeFrom(ctx context.Context, rep *Report, feed string, conn ingest.Connector) error {
	c.stage(ctx, rep, "ingest:"+feed)
	res, rejected, err := conn.Pull(ctx, c.DB, c.Log)
	rep.Files += len(res) + rejected
	rep.Rejected += rejected
	for _, r := range res {
		rep.Stored += r.New + r.Changed
		rep.Quarantined += r.Quarantined
		for _, d := range r.Drift {
			rep.Drift = append(rep.Drift, feed+": "+d.String())
			c.Log.Warn("schema drift", "source", feed, "batch", r.BatchID, "drift", d.String())
		}
	}
	var pe *ingest.PullError
	switch {
	case errors.As(err, &pe):
		// A department's API or database being down is its problem, not
		// the run's: the others go on, and the run says partial.
		rep.SourceErrors = append(rep.SourceErrors, err.Error())
		c.Log.Error("source failed", "source", feed, "err", err)
	case err != nil:
		return fmt.Errorf("ingest %s: %w", feed, err)
	}
	return nil
}

// Run ingests what waits in the inboxes of the given sources (all when
// none are given), links, and evaluates the rules as of asOf (today when
// zero). A bad file is not a failure; a database error is.
func (c *Chain) Run(ctx context.Context, trigger string, asOf time.Time, sources ...string) (*Report, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.runLocked(ctx, trigger, asOf, sources...)
}

// ErrBusy is a run asked for while another is in progress.
var ErrBusy = errors.New("jobs: a run is in progress")

// Start begins a run of every source in the background, as of now,
// unless one is in progress (the scheduler's or another's): then it
// returns ErrBusy and starts nothing. The run's outcome is in job_runs.
func (c *Chain) Start(ctx context.Context, trigger string) error {
	if !c.mu.TryLock() {
		return ErrBusy
	}
	go func() {
		defer c.mu.Unlock()
		if _, err := c.runLocked(context.WithoutCancel(ctx), trigger, time.Time{}); err != nil {
			c.Log.Error("run failed", "trigger", trigger, "err", err)
		}
	}()
	return nil
}

func (c *Chain) runLocked(ctx context.Context, trigger string, asOf time.Time, sources ...string) (*Report, error) {
	// Alerts are raised now, with their SLA from now; a back-fill's as-of
	// day only bounds which records count (and is kept on each alert).
	at := c.now().In(c.Cfg.Location)
	if asOf.IsZero() {
		asOf = at
	}
	job := "run"
	if len(sources) == 0 {
		sources = config.Sources
	} else {
		job = strings.Join(sources, ",")
	}
	rep := &Report{Stages: map[string]time.Duration{}}
	started := time.Now()
	if err := c.DB.QueryRowContext(ctx, `INSERT INTO job_runs (run_id, job, trigger, as_of, started_at, status)
		VALUES (nextval('job_run_seq'), ?, ?, ?, ?, 'running') RETURNING run_id`, job, trigger, asOf.Format("2006-01-02"), started).Scan(&rep.RunID); err != nil {
		return nil, fmt.Errorf("jobs: record run: %w", err)
	}
	err := c.run(ctx, rep, sources, asOf, at)
	status, msg := "ok", sql.NullString{}
	switch {
	case err != nil:
		status, msg = "failed", sql.NullString{String: err.Error(), Valid: true}
	case len(rep.SourceErrors) > 0 || (rep.Alerts != nil && len(rep.Alerts.Failed()) > 0):
		status = "partial"
		parts := append([]string(nil), rep.SourceErrors...)
		if rep.Alerts != nil {
			for _, f := range rep.Alerts.Failed() {
				parts = append(parts, f.Err.Error())
			}
		}
		msg = sql.NullString{String: strings.Join(parts, "; "), Valid: true}
	}
	raised := 0
	if rep.Alerts != nil {
		raised = rep.Alerts.Raised
	}
	_, uerr := c.DB.ExecContext(context.WithoutCancel(ctx), `UPDATE job_runs SET finished_at = ?, status = ?, files = ?, rows_stored = ?,
		rows_quarantined = ?, alerts_raised = ?, error = ?, drift = ?, stage = NULL WHERE run_id = ?`,
		time.Now(), status, rep.Files, rep.Stored, rep.Quarantined, raised, msg, nullIfEmpty(strings.Join(rep.Drift, "\n")), rep.RunID)
	t := time.Now()
	if err := c.DB.Checkpoint(context.WithoutCancel(ctx)); err != nil { // the run is committed either way
		c.Log.Warn("checkpoint after the run", "err", err)
	}
	rep.Stages["checkpoint"] = time.Since(t)
	jobDuration.WithLabelValues(job, status).Observe(time.Since(started).Seconds())
	if status != "failed" {
		lastSuccess.WithLabelValues(job).SetToCurrentTime()
	}
	return rep, errors.Join(err, uerr)
}

// run is one run's stages: ingest, link, the rules, the analytic
// snapshot. A hub (config hub) stops after linking: it raises no alerts
// and publishes nothing; its records wait for the counties' pulls.
func (c *Chain) run(ctx context.Context, rep *Report, sources []string, asOf, at time.Time) error {
	defer c.begin("")
	if err := c.ingest(ctx, rep, sources); err != nil {
		return err
	}
	if err := c.link(ctx, rep); err != nil {
		return err
	}
	if c.Cfg.Hub {
		rep.Alerts = &alerts.Report{}
		return nil
	}
	if err := c.evaluate(ctx, rep, asOf, at); err != nil {
		return err
	}
	c.begin("analytics")
	t := time.Now()
	c.stage(ctx, rep, "analytics")
	if err := c.Publish(ctx, at); err != nil {
		rep.Analytics = err.Error()
	}
	rep.Stages["analytics"] = time.Since(t)
	return nil
}

// ingest brings in what the sources have, sends the peers this
// instance's directory, and pulls what the peers forward to it.
func (c *Chain) ingest(ctx context.Context, rep *Report, sources []string) error {
	c.begin("ingest")
	t := time.Now()
	for _, s := range sources {
		src := c.Cfg.Sources[s]
		if !src.On() {
			continue
		}
		if err := c.storeFrom(ctx, rep, s, c.connector(s, src)); err != nil {
			return err
		}
	}
	c.sendDirectories(ctx, rep)
	for _, peer := range slices.Sorted(maps.Keys(c.Cfg.Peers)) {
		for _, s := range c.Cfg.Peers[peer].PeerSources() {
			if !slices.Contains(sources, s) {
				continue
			}
			opt := ingest.Options{Now: c.now}
			if err := c.storeFrom(ctx, rep, s+"@"+peer, ingest.NewPeerConnector(c.Cfg, peer, s, opt, c.Progress)); err != nil {
				return err
			}
		}
	}
	rep.Stages["ingest"] = time.Since(t)
	return nil
}

// link links the records the run brought to the registry.
func (c *Chain) link(ctx context.Context, rep *Report) error {
	c.begin("match")
	t := time.Now()
	c.stage(ctx, rep, "match")
	st, err := match.LinkWith(ctx, c.DB, match.Thresholds{Link: c.Cfg.Match.LinkThreshold, Review: c.Cfg.Match.ReviewThreshold})
	if err != nil {
		return err
	}
	rep.Match = st
	rep.Stages["match"] = time.Since(t)
	c.Log.Info("records linked", "new_ids", st.NewIDs, "id_exact", st.Linked["id_exact"], "id_repaired", st.Linked["id_repaired"],
		"probabilistic", st.Linked["probabilistic"], "review", st.Linked["review"],
		"outside_registry", st.Linked["id_outside_registry"], "unlinked", st.Linked["unlinked"], "took", st.Duration.Round(time.Millisecond),
		"steps", stepTimes(st.Steps))
	return nil
}

// evaluate runs the rule pack as of asOf and escalates the alerts past
// their due time.
func (c *Chain) evaluate(ctx context.Context, rep *Report, asOf, at time.Time) error {
	c.begin("alerts")
	t := time.Now()
	c.stage(ctx, rep, "alerts")
	ev := &alerts.Evaluator{DB: c.DB, Pack: c.Pack, Standards: c.Cfg.Standards, SeriousIllness: c.Cfg.SeriousIllness}
	ar, err := ev.Run(ctx, asOf, at)
	if err != nil {
		return err
	}
	rep.Alerts = ar
	rep.Stages["alerts"] = time.Since(t)
	for _, rr := range ar.Rules {
		if rr.Err != nil {
			c.Log.Error("rule failed", "rule", rr.RuleID, "err", rr.Err)
		}
	}
	c.Log.Info("rules evaluated", "as_of", asOf.Format("2006-01-02"), "raised", ar.Raised, "refreshed", ar.Refreshed, "kept_quiet", ar.Kept,
		"rules", ruleTimes(ar))
	rep.Escalated, err = c.sla(ctx)
	return err
}

// begin tells the Stage hook, if any, that a stage begins.
func (c *Chain) begin(stage string) {
	if c.Stage != nil {
		c.Stage(stage)
	}
}

// stage notes where the run is, for the page that shows runs in progress;
// a failure to note it is not the run's.
func (c *Chain) stage(ctx context.Context, rep *Report, stage string) {
	if _, err := c.DB.ExecContext(ctx, `UPDATE job_runs SET stage = ? WHERE run_id = ?`, stage, rep.RunID); err != nil {
		c.Log.Warn("run stage not noted", "stage", stage, "err", err)
	}
}

// Publish writes the analytic snapshot, after every run and whenever the
// alerts moved since (the demo's dispatches). Analysts' figures lagging a
// run behind is no reason to fail the run: a failure is logged and
// returned, and the previous snapshot stays current. Without a pseudonym
// key nothing is published, and that is not an error.
func (c *Chain) Publish(ctx context.Context, at time.Time) error {
	a := c.Cfg.Analytics
	key := os.Getenv(a.PseudonymKeyEnv)
	if key == "" {
		c.Log.Info("analytic snapshot not published: no pseudonym key", "env", a.PseudonymKeyEnv)
		return nil
	}
	ev := &alerts.Evaluator{DB: c.DB, Pack: c.Pack, Standards: c.Cfg.Standards, SeriousIllness: c.Cfg.SeriousIllness}
	man, err := analytics.Publish(ctx, c.DB, analytics.Options{Dir: a.Dir, Key: key, Months: a.Months, Now: at,
		Prepare: func(ctx context.Context, conn *sql.Conn) error { return ev.Prepare(ctx, conn, at) }, Prepared: ev.Prepared()})
	if err != nil {
		analyticsFailures.WithLabelValues("snapshot").Inc()
		c.Log.Error("analytic snapshot not published", "err", err)
		return err
	}
	analyticsLastSuccess.WithLabelValues("snapshot").SetToCurrentTime()
	c.Log.Info("analytic snapshot published", "snapshot", man.Name, "rows", man.Views)
	if c.Published != nil {
		c.Published(man.Name)
	}
	if a.Lake != "" {
		if _, err := c.ExportLake(ctx); err != nil {
			c.Log.Error("counts not exported to the lake", "lake", a.Lake, "err", err)
			return fmt.Errorf("the snapshot is published, but its counts did not reach the lake %s (the next run writes them again; `safetynet lake` does it now): %w", a.Lake, err)
		}
	}
	return nil
}

// ExportLake writes the saved cohorts' counts over the current snapshot
// to the shared lake (analytics.lake), small cells suppressed.
func (c *Chain) ExportLake(ctx context.Context) (*analytics.LakeExport, error) {
	exp, err := c.exportLake(ctx)
	if err != nil {
		analyticsFailures.WithLabelValues("lake").Inc()
		return nil, err
	}
	analyticsLastSuccess.WithLabelValues("lake").SetToCurrentTime()
	return exp, nil
}

func (c *Chain) exportLake(ctx context.Context) (*analytics.LakeExport, error) {
	a := c.Cfg.Analytics
	q, err := analytics.Open(ctx, a.Dir, "", analytics.Limits{Timeout: 10 * time.Minute, Memory: "1GB"})
	if err != nil {
		return nil, err
	}
	defer q.Close()
	cohorts, err := analytics.Cohorts(ctx, c.DB)
	if err != nil {
		return nil, err
	}
	exp, err := analytics.ExportCounts(ctx, q, cohorts, analytics.LakeOptions{Dir: a.Lake, Instance: c.Cfg.Instance, K: a.SmallCell})
	if err != nil {
		return nil, err
	}
	c.Log.Info("counts exported to the lake", "lake", a.Lake, "snapshot", exp.Snapshot, "cohorts", len(cohorts),
		"files", exp.Files, "counts", exp.Rows, "suppressed", exp.Suppressed, "removed", exp.Removed)
	return exp, nil
}

// now is the chain's clock.
func (c *Chain) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

// sla escalates the alerts whose due time has passed and pushes the
// critical and overdue ones to Alertmanager when one is configured. It
// runs after every evaluation and, from Schedule, every minute. A push
// that fails is logged and counted, and sent whole again next time: it
// does not fail the run.
func (c *Chain) sla(ctx context.Context) (int, error) {
	n, err := alerts.Escalate(ctx, c.DB, c.now())
	if err != nil {
		return 0, err
	}
	if n > 0 {
		c.Log.Warn("alerts overdue: escalated to the county queue", "alerts", n)
	}
	if c.Cfg.Alertmanager.URL != "" {
		am := notify.Alertmanager{Conf: c.Cfg.Alertmanager, DB: c.DB, Pack: c.Pack}
		res, err := am.Push(ctx, time.Now())
		if err != nil {
			c.Log.Error("alertmanager push failed; will send again", "err", err)
		} else if res.Firing+res.Resolved > 0 {
			c.Log.Info("pushed to alertmanager", "firing", res.Firing, "resolved", res.Resolved)
		}
	}
	return n, nil
}

func nullIfEmpty(s string) sql.NullString { return sql.NullString{String: s, Valid: s != ""} }

// OpenStore opens the database with the schema of every pipeline stage,
// plus any extra (the web server's).
func OpenStore(ctx context.Context, path string, extra ...store.MigrationSet) (*store.DB, error) {
	db, err := store.Open(ctx, path, AllMigrations(extra...)...)
	if err != nil {
		return nil, err
	}
	if err := closeAbandonedRuns(ctx, db); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// closeAbandonedRuns marks as failed the runs a process left running when
// it was killed or crashed: the file has one owner at a time, so a run
// still "running" when it is opened has no process behind it any more,
// and would otherwise show as in progress for ever.
func closeAbandonedRuns(ctx context.Context, db *store.DB) error {
	_, err := db.ExecContext(ctx, `UPDATE job_runs SET status = 'failed', finished_at = now(), stage = NULL,
		error = 'the process stopped during the run (killed, crashed or the machine went down); what it committed stays, the next run goes on from there'
		WHERE status = 'running'`)
	if err != nil {
		return fmt.Errorf("jobs: close runs left running: %w", err)
	}
	return nil
}

// AllMigrations are the pipeline's migration sets, in the order they
// apply, then extra (the web's).
func AllMigrations(extra ...store.MigrationSet) []store.MigrationSet {
	sets := []store.MigrationSet{ingest.Migrations(), match.Migrations(), alerts.Migrations(), notify.Migrations(), analytics.Migrations(), forward.Migrations(), Migrations()}
	return append(sets, extra...)
}

// ruleTimes is the shared views' time, each rule's and the recording's,
// on one log line.
func ruleTimes(r *alerts.Report) string {
	steps := make([]match.Step, 0, len(r.Rules)+2)
	steps = append(steps, match.Step{Name: "shared views", Took: r.Shared})
	for _, rr := range r.Rules {
		steps = append(steps, match.Step{Name: rr.RuleID, Took: rr.Took})
	}
	return stepTimes(append(steps, match.Step{Name: "recording", Took: r.Recording}))
}

// stepTimes is linking's steps and their times on one log line: where a
// slow run spent its time, without a profiler.
func stepTimes(steps []match.Step) string {
	var b strings.Builder
	for i, s := range steps {
		if i > 0 {
			b.WriteString("; ")
		}
		fmt.Fprintf(&b, "%s %s", s.Name, s.Took.Round(time.Millisecond))
	}
	return b.String()
}

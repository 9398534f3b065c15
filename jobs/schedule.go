package jobs

import (
	"context"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/robfig/cron/v3"

	"safetynet/config"
)

var (
	jobDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "safetynet_job_duration_seconds",
		Help:    "How long pipeline runs took, by the run's name and outcome.",
		Buckets: prometheus.ExponentialBuckets(0.1, 2, 14),
	}, []string{"name", "status"}) // not "job": Prometheus sets that to the scrape job's

	lastSuccess = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "safetynet_job_last_success_timestamp_seconds",
		Help: "When each run, by name, last finished without failing (Unix time), to alert on staleness.",
	}, []string{"name"})

	// What a run publishes after it: the analytic snapshot, and the
	// counts it sends to the shared lake. Neither fails the run.
	analyticsLastSuccess = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "safetynet_analytics_last_success_timestamp_seconds",
		Help: "When the analytic snapshot (step=snapshot) was last published and its counts (step=lake) last exported to the shared lake (Unix time).",
	}, []string{"step"})
	analyticsFailures = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "safetynet_analytics_failures_total",
		Help: "Analytic snapshots (step=snapshot) and lake exports (step=lake) that failed; the run itself is kept.",
	}, []string{"step"})
)

// Collectors are jobs' metrics, for the server's registry.
func Collectors() []prometheus.Collector {
	return []prometheus.Collector{jobDuration, lastSuccess, analyticsLastSuccess, analyticsFailures}
}

// Schedule starts a cron scheduler that runs the chain for each enabled
// source on its schedule, in the config's time zone. Stop it with Stop.
func (c *Chain) Schedule(ctx context.Context) (*cron.Cron, error) {
	cr := cron.New(cron.WithParser(config.CronParser), cron.WithLocation(c.Cfg.Location),
		cron.WithChain(cron.SkipIfStillRunning(cron.DiscardLogger)))
	for _, s := range config.Sources {
		src := c.Cfg.Sources[s]
		if !src.On() {
			continue
		}
		source := src
		name := s
		if _, err := cr.AddFunc(source.Schedule, func() {
			if _, err := c.Run(ctx, "schedule", time.Time{}, name); err != nil {
				c.Log.Error("scheduled run failed", "source", name, "err", err)
			}
		}); err != nil {
			return nil, fmt.Errorf("jobs: schedule %s: %w", name, err)
		}
	}
	// The SLA watch: alerts go overdue between runs too.
	if _, err := cr.AddFunc("@every 1m", func() {
		if !c.mu.TryLock() {
			return // a run is on; it escalates when it ends
		}
		defer c.mu.Unlock()
		if _, err := c.sla(ctx); err != nil {
			c.Log.Error("sla watch failed", "err", err)
		}
	}); err != nil {
		return nil, err
	}
	cr.Start()
	return cr, nil
}

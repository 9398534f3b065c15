package alerts

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"safetynet/store"
)

var ruleErrors = prometheus.NewCounterVec(prometheus.CounterOpts{
	Name: "safetynet_rule_errors_total",
	Help: "Rule evaluations that failed, by rule.",
}, []string{"rule"})

var (
	alertsDesc  = prometheus.NewDesc("safetynet_alerts", "Alerts in the store, by rule, severity and status.", []string{"rule", "severity", "status"}, nil)
	overdueDesc = prometheus.NewDesc("safetynet_alerts_overdue", "Open alerts past their due time, by rule.", []string{"rule"}, nil)
	queueDesc   = prometheus.NewDesc("safetynet_alerts_county_queue", "Open alerts escalated to the county queue, by rule.", []string{"rule"}, nil)
)

// collector reads alert counts from the store at scrape time, so they
// survive restarts and agree with what the inbox shows.
type collector struct{ db *store.DB }

// Collectors are alerts' metrics, for the server's registry.
func Collectors(db *store.DB) []prometheus.Collector {
	return []prometheus.Collector{ruleErrors, escalated, collector{db}}
}

func (c collector) Describe(ch chan<- *prometheus.Desc) {
	ch <- alertsDesc
	ch <- overdueDesc
	ch <- queueDesc
}

func (c collector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	rows, err := c.db.QueryContext(ctx, `SELECT rule_id, severity, status, count(*),
		count(*) FILTER (WHERE status IN ('new', 'dispatched', 'visited') AND due_at < now()),
		count(*) FILTER (WHERE status IN ('new', 'dispatched', 'visited') AND escalated_at IS NOT NULL) FROM alerts GROUP BY ALL`)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(alertsDesc, err)
		return
	}
	defer rows.Close()
	overdue, queued := map[string]float64{}, map[string]float64{}
	for rows.Next() {
		var rule, sev, status string
		var n, od, q float64
		if err := rows.Scan(&rule, &sev, &status, &n, &od, &q); err != nil {
			ch <- prometheus.NewInvalidMetric(alertsDesc, err)
			return
		}
		ch <- prometheus.MustNewConstMetric(alertsDesc, prometheus.GaugeValue, n, rule, sev, status)
		overdue[rule] += od
		queued[rule] += q
	}
	for rule, n := range overdue {
		ch <- prometheus.MustNewConstMetric(overdueDesc, prometheus.GaugeValue, n, rule)
		ch <- prometheus.MustNewConstMetric(queueDesc, prometheus.GaugeValue, queued[rule], rule)
	}
}

package ingest

import (
	"context"
	"database/sql"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"safetynet/store"
)

var (
	rowsDesc = prometheus.NewDesc("safetynet_ingest_rows_total",
		"Department rows ingested, by source and outcome (stored, unchanged, quarantined, skipped).", []string{"source", "outcome"}, nil)
	readDesc     = prometheus.NewDesc("safetynet_ingest_rows_read_total", "Department data rows read, by source.", []string{"source"}, nil)
	sqlReadDesc  = prometheus.NewDesc("safetynet_ingest_rows_sql_total", "Department data rows the fast path read in SQL (the rest were read in Go), by source.", []string{"source"}, nil)
	batchesDesc  = prometheus.NewDesc("safetynet_ingest_batches_total", "Deliveries stored as batches, by source.", []string{"source"}, nil)
	bytesDesc    = prometheus.NewDesc("safetynet_ingest_bytes_total", "Bytes of the deliveries stored, by source.", []string{"source"}, nil)
	durationDesc = prometheus.NewDesc("safetynet_ingest_batch_duration_seconds", "How long storing a batch took, by source.", []string{"source"}, nil)
	rejectedDesc = prometheus.NewDesc("safetynet_ingest_rejected_files_total",
		"Files moved to rejected/ because they could not be read at all, by source.", []string{"source"}, nil)
	lastBatchDesc = prometheus.NewDesc("safetynet_ingest_last_batch_timestamp_seconds",
		"When the source's last batch was stored (Unix time).", []string{"source"}, nil)
	lastSuccessDesc = prometheus.NewDesc("safetynet_ingest_last_success_timestamp_seconds",
		"When the source last delivered or was last pulled without error, new records or not (Unix time): alert on staleness with this.", []string{"source"}, nil)
	driftDesc = prometheus.NewDesc("safetynet_ingest_schema_drift_total",
		"Column changes found between a source's batches, by kind (new, missing, renamed).", []string{"source", "kind"}, nil)
	keptDesc = prometheus.NewDesc("safetynet_ingest_values_unknown_total",
		"Values of stored rows that could not be read (left unknown) or were kept with a warning, such as an ID in Excel's number form, by source.", []string{"source"}, nil)
	pullFailingDesc = prometheus.NewDesc("safetynet_ingest_pull_failing",
		"1 when the source's last pull (HTTP API or PostgreSQL) failed.", []string{"source"}, nil)
	staleDesc = prometheus.NewDesc("safetynet_ingest_source_stale",
		"1 when nothing from the source got through for longer than its stale_after.", []string{"source"}, nil)
)

// collector reads the ingest ledger at scrape time: the totals are the
// database's, so they survive restarts and agree with the batches table.
type collector struct {
	db         *store.DB
	staleAfter map[string]time.Duration // by source; a source not in it is never stale
}

// Collectors are ingest's metrics, for the server's registry.
// staleAfter is each source's allowance before it counts as stale.
func Collectors(db *store.DB, staleAfter map[string]time.Duration) []prometheus.Collector {
	return []prometheus.Collector{collector{db, staleAfter}}
}

func (c collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{rowsDesc, readDesc, sqlReadDesc, batchesDesc, bytesDesc, durationDesc, rejectedDesc, lastBatchDesc, lastSuccessDesc, driftDesc, keptDesc, pullFailingDesc, staleDesc} {
		ch <- d
	}
}

const metricsBatches = `SELECT source, count(*), sum(rows_read), sum(rows_sql), sum(rows_new + rows_changed), sum(rows_unchanged),
	sum(rows_quarantined), sum(rows_skipped), sum(file_bytes), sum(epoch(finished_at) - epoch(started_at)), max(finished_at)
	FROM ingest_batches GROUP BY source`

const metricsLastSuccess = `SELECT source, max(t) FROM (
	SELECT source, finished_at AS t FROM ingest_batches UNION ALL SELECT source, last_success FROM ingest_pulls WHERE last_success IS NOT NULL)
	GROUP BY source`

func (c collector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c.each(ctx, ch, rowsDesc, metricsBatches, func(rows *sql.Rows) error {
		var src string
		var batches, read, readSQL, stored, unchanged, quarantined, skipped, bytes, seconds float64
		var last time.Time
		if err := rows.Scan(&src, &batches, &read, &readSQL, &stored, &unchanged, &quarantined, &skipped, &bytes, &seconds, &last); err != nil {
			return err
		}
		ch <- prometheus.MustNewConstMetric(batchesDesc, prometheus.CounterValue, batches, src)
		ch <- prometheus.MustNewConstMetric(readDesc, prometheus.CounterValue, read, src)
		ch <- prometheus.MustNewConstMetric(sqlReadDesc, prometheus.CounterValue, readSQL, src)
		for outcome, v := range map[string]float64{"stored": stored, "unchanged": unchanged, "quarantined": quarantined, "skipped": skipped} {
			ch <- prometheus.MustNewConstMetric(rowsDesc, prometheus.CounterValue, v, src, outcome)
		}
		ch <- prometheus.MustNewConstMetric(bytesDesc, prometheus.CounterValue, bytes, src)
		ch <- prometheus.MustNewConstSummary(durationDesc, uint64(batches), seconds, nil, src)
		ch <- prometheus.MustNewConstMetric(lastBatchDesc, prometheus.GaugeValue, float64(last.Unix()), src)
		return nil
	})
	c.each(ctx, ch, keptDesc, `SELECT source, count(*) FROM ingest_quarantine WHERE kept GROUP BY source`, func(rows *sql.Rows) error {
		var src string
		var n float64
		if err := rows.Scan(&src, &n); err != nil {
			return err
		}
		ch <- prometheus.MustNewConstMetric(keptDesc, prometheus.CounterValue, n, src)
		return nil
	})
	lastSuccess := map[string]time.Time{} // for staleness, below
	c.each(ctx, ch, lastSuccessDesc, metricsLastSuccess, func(rows *sql.Rows) error {
		var src string
		var last time.Time
		if err := rows.Scan(&src, &last); err != nil {
			return err
		}
		lastSuccess[src] = last
		ch <- prometheus.MustNewConstMetric(lastSuccessDesc, prometheus.GaugeValue, float64(last.Unix()), src)
		return nil
	})
	c.each(ctx, ch, rejectedDesc, `SELECT source, count(*) FROM ingest_rejections GROUP BY source`, func(rows *sql.Rows) error {
		var src string
		var n float64
		if err := rows.Scan(&src, &n); err != nil {
			return err
		}
		ch <- prometheus.MustNewConstMetric(rejectedDesc, prometheus.CounterValue, n, src)
		return nil
	})
	c.each(ctx, ch, driftDesc, `SELECT source, kind, count(*) FROM ingest_drift GROUP BY ALL`, func(rows *sql.Rows) error {
		var src, kind string
		var n float64
		if err := rows.Scan(&src, &kind, &n); err != nil {
			return err
		}
		ch <- prometheus.MustNewConstMetric(driftDesc, prometheus.CounterValue, n, src, kind)
		return nil
	})
	c.each(ctx, ch, pullFailingDesc, `SELECT source, (last_error IS NOT NULL)::INT FROM ingest_pulls`, func(rows *sql.Rows) error {
		var src string
		var n float64
		if err := rows.Scan(&src, &n); err != nil {
			return err
		}
		ch <- prometheus.MustNewConstMetric(pullFailingDesc, prometheus.GaugeValue, n, src)
		return nil
	})
	c.collectStale(ch, lastSuccess)
}

// collectStale says, for each source with an allowance, whether it has
// gone quiet past it, from the last successes read above.
func (c collector) collectStale(ch chan<- prometheus.Metric, lastSuccess map[string]time.Time) {
	now := time.Now()
	for src, allowance := range c.staleAfter {
		v := 0.0
		if stale(lastSuccess[src], allowance, now) {
			v = 1
		}
		ch <- prometheus.MustNewConstMetric(staleDesc, prometheus.GaugeValue, v, src)
	}
}

// each runs a query and hands every row to emit; a failure becomes an
// invalid metric, so the scrape shows it.
func (c collector) each(ctx context.Context, ch chan<- prometheus.Metric, desc *prometheus.Desc, q string, emit func(*sql.Rows) error) {
	rows, err := c.db.QueryContext(ctx, q)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(desc, err)
		return
	}
	defer rows.Close()
	for rows.Next() {
		if err := emit(rows); err != nil {
			ch <- prometheus.NewInvalidMetric(desc, err)
			return
		}
	}
}

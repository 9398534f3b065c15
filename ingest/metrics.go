package ingest

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"safetynet/store"
)

var (
	rowsDesc = prometheus.NewDesc("safetynet_ingest_rows_total",
		"Department rows ingested, by source and outcome (stored, unchanged, quarantined, skipped).", []string{"source", "outcome"}, nil)
	batchesDesc  = prometheus.NewDesc("safetynet_ingest_batches_total", "Files stored as batches, by source.", []string{"source"}, nil)
	rejectedDesc = prometheus.NewDesc("safetynet_ingest_rejected_files_total",
		"Files moved to rejected/ because they could not be read at all, by source.", []string{"source"}, nil)
	lastBatchDesc = prometheus.NewDesc("safetynet_ingest_last_batch_timestamp_seconds",
		"When the source's last batch was stored (Unix time), to alert on a department that stopped sending.", []string{"source"}, nil)
)

// collector reads the ingest ledger at scrape time: the totals are the
// database's, so they survive restarts and agree with the batches table.
type collector struct{ db *store.DB }

// Collectors are ingest's metrics, for the server's registry.
func Collectors(db *store.DB) []prometheus.Collector { return []prometheus.Collector{collector{db}} }

func (c collector) Describe(ch chan<- *prometheus.Desc) {
	ch <- rowsDesc
	ch <- batchesDesc
	ch <- rejectedDesc
	ch <- lastBatchDesc
}

func (c collector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	rows, err := c.db.QueryContext(ctx, `SELECT source, count(*), sum(rows_new + rows_changed), sum(rows_unchanged),
		sum(rows_quarantined), sum(rows_skipped), max(finished_at) FROM ingest_batches GROUP BY source`)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(rowsDesc, err)
		return
	}
	defer rows.Close()
	for rows.Next() {
		var src string
		var batches, stored, unchanged, quarantined, skipped float64
		var last time.Time
		if err := rows.Scan(&src, &batches, &stored, &unchanged, &quarantined, &skipped, &last); err != nil {
			ch <- prometheus.NewInvalidMetric(rowsDesc, err)
			return
		}
		ch <- prometheus.MustNewConstMetric(batchesDesc, prometheus.CounterValue, batches, src)
		for outcome, v := range map[string]float64{"stored": stored, "unchanged": unchanged, "quarantined": quarantined, "skipped": skipped} {
			ch <- prometheus.MustNewConstMetric(rowsDesc, prometheus.CounterValue, v, src, outcome)
		}
		ch <- prometheus.MustNewConstMetric(lastBatchDesc, prometheus.GaugeValue, float64(last.Unix()), src)
	}
	rrows, err := c.db.QueryContext(ctx, `SELECT source, count(*) FROM ingest_rejections GROUP BY source`)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(rejectedDesc, err)
		return
	}
	defer rrows.Close()
	for rrows.Next() {
		var src string
		var n float64
		if err := rrows.Scan(&src, &n); err != nil {
			return
		}
		ch <- prometheus.MustNewConstMetric(rejectedDesc, prometheus.CounterValue, n, src)
	}
}

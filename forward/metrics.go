package forward

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"safetynet/store"
)

var (
	directoryPeopleDesc = prometheus.NewDesc("safetynet_forward_directory_people",
		"People in the directory each peer last sent: their records are forwarded to it whatever county issued their IDs.", []string{"peer"}, nil)
	directoryReceivedDesc = prometheus.NewDesc("safetynet_forward_directory_received_timestamp_seconds",
		"When each peer last sent its directory (Unix time): a peer that stopped sending it gets its movers' records by region only.", []string{"peer"}, nil)
)

// collector reads the directories held at scrape time.
type collector struct{ db *store.DB }

// Collectors are forward's metrics, for the server's registry.
func Collectors(db *store.DB) []prometheus.Collector { return []prometheus.Collector{collector{db}} }

func (c collector) Describe(ch chan<- *prometheus.Desc) {
	ch <- directoryPeopleDesc
	ch <- directoryReceivedDesc
}

func (c collector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	held, err := Directories(ctx, c.db)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(directoryPeopleDesc, err)
		return
	}
	for _, d := range held {
		ch <- prometheus.MustNewConstMetric(directoryPeopleDesc, prometheus.GaugeValue, float64(d.People), d.Peer)
		ch <- prometheus.MustNewConstMetric(directoryReceivedDesc, prometheus.GaugeValue, float64(d.At.Unix()), d.Peer)
	}
}

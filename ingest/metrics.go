package ingest

import (
	"database/sql/driver"

	"github.com/prometheus/client_golang/prometheus"
)

type driverValue = driver.Value

var ingestedRows = prometheus.NewCounterVec(prometheus.CounterOpts{
	Name: "safetynet_ingest_rows_total",
	Help: "Department rows ingested by this process, by source and outcome (stored, unchanged, quarantined).",
}, []string{"source", "outcome"})

var rejectedFiles = prometheus.NewCounterVec(prometheus.CounterOpts{
	Name: "safetynet_ingest_rejected_files_total",
	Help: "Files moved to rejected/ by this process because they could not be read at all.",
}, []string{"source"})

// Collectors are ingest's metrics, for the server's registry.
func Collectors() []prometheus.Collector { return []prometheus.Collector{ingestedRows, rejectedFiles} }

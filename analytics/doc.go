// Package analytics owns the analytic snapshot and the queries analysts
// run on it.
//
// After every run the analyst views are published as Parquet under
// <dir>/snapshots/<name>/<view>/region=<county>/month=<YYYY-MM>/ (Hive
// layout, so Spark, Trino or any Parquet reader can read the same files),
// written aside and made current by renaming a pointer file (CURRENT): a
// snapshot appears whole or not at all, and the previous ones are kept.
// People appear only as pseudonyms, a keyed hash of the ID whose key comes
// from an environment variable and never from the config file; no name,
// ID, phone or address is published.
//
// What leaves the instance for the province's or the country's lake is
// counts only: the saved cohorts by township and month, small cells
// suppressed, written under the instance's name (lake.go).
//
// Analyst queries never touch the live store: each runs in a DuckDB of
// its own over the snapshot's files, only the partitions of the analyst's
// region attached, external access and configuration locked before the
// query, SELECT only, with time, row and memory limits.
package analytics

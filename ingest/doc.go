// Package ingest owns getting department data in: it reads the files
// departments drop (CSV in UTF-8, UTF-8 with BOM or GB18030; XLSX; JSON
// Lines), finds the header row, maps headers to canonical columns by the
// aliases of SOURCES.md and config, parses values into typed canonical
// rows, and stores a file as one batch: all of it or none of it.
//
// A row that cannot be read goes to ingest_quarantine with its file, line,
// column, raw text and a reason; a file that cannot be read at all is moved
// to rejected/ with a .reason.txt beside it. Records are keyed by
// (source, record_id), or by their content when they have none; the same
// record again changes nothing, and a changed record closes its earlier
// version (valid_to) instead of overwriting it.
//
// A CSV file takes the fast path where it can: DuckDB reads its lines in
// parallel and the value rules run as SQL made from the same value forms
// as the Go readers (forms.go); only the lines SQL does not read go
// through the Go parser. The stored rows are the same either way.
//
// Its tables are canon_<table>, ingest_batches, ingest_quarantine and
// ingest_rejections; the views households, members, education, health,
// medins and disability show the current version of each record and are
// the interface the later stages read.
package ingest

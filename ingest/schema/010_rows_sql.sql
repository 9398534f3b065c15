-- How many of a batch's rows the fast path read in SQL (the rest were read
-- in Go): operators see from it whether a source's files take the fast path.
ALTER TABLE ingest_batches ADD COLUMN rows_sql BIGINT DEFAULT 0;

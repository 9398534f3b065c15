-- Where a run in progress is (ingest of a source, linking, rules, the
-- analytic snapshot), for the deliveries page to show while it runs.
ALTER TABLE job_runs ADD COLUMN stage VARCHAR;

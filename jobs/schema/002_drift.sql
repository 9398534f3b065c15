-- Column changes the departments made, as found by the run's batches.
ALTER TABLE job_runs ADD COLUMN drift VARCHAR;

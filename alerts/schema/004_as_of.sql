-- The date an alert's evidence counts up to (the run's as-of date). A
-- back-filled run raises alerts now, with their SLA from now, and says
-- here that their evidence is as of an earlier day.
ALTER TABLE alerts ADD COLUMN evidence_as_of DATE;

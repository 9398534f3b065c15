-- What is wrong with a quarantined row, field by field, as catalogue
-- messages (JSON: [{"col": …, "msg": {"key": …, "args": […]}}]), so that
-- the page and the department's workbook say it in their language; reason
-- keeps the English text for the CLI and logs. Rows from before have none.
ALTER TABLE ingest_quarantine ADD COLUMN problems VARCHAR;

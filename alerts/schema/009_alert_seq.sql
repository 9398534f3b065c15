-- Alerts were numbered in Go before this release while alert_seq stood at
-- 1; move it past the highest number in use so that nextval carries on.
-- DuckDB cannot restart a sequence from a query, so draw the numbers.
CREATE TEMP TABLE _alert_seq_advance AS
SELECT nextval('alert_seq') AS n FROM range((SELECT coalesce(max(alert_id), 0) FROM alerts));
DROP TABLE _alert_seq_advance;

-- An open alert past its due time is escalated to the county queue once:
-- escalated_at says when. Counted by safetynet_alerts_escalated_total.
ALTER TABLE alerts ADD COLUMN escalated_at TIMESTAMPTZ;

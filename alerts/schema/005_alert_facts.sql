-- One row per alert with its visit task: raised, dispatched, visited, the
-- outcome, closed. What the analytic snapshot's funnel counts.
CREATE VIEW alert_facts AS
SELECT a.alert_id, a.rule_id, a.severity, a.status, a.household_id, a.id_number, a.region_code,
       a.first_seen, a.due_at, a.closed_at, a.escalated_at, a.evidence_as_of,
       t.created_at AS dispatched_at, t.done_at AS visited_at, t.outcome
FROM alerts a
LEFT JOIN (SELECT * FROM tasks QUALIFY row_number() OVER (PARTITION BY alert_id ORDER BY task_id DESC) = 1) t USING (alert_id);

-- Every version of the departments' records, current or replaced: its
-- source, key, batch and the date it is about (the event, settlement or
-- issue date). Published so that the analytic snapshot can tell which of
-- its months a batch touched without reading the canonical tables.
CREATE VIEW record_versions AS
SELECT 'education' AS source, record_key, batch_id, event_date AS dated FROM canon_education
UNION ALL SELECT 'health', record_key, batch_id, event_date FROM canon_health
UNION ALL SELECT 'medins', record_key, batch_id, settle_date FROM canon_medins
UNION ALL SELECT 'disability', record_key, batch_id, issued_on FROM canon_disability;

-- What the system did to an alert (raised it, escalated it, assigned its
-- task, recorded a visit's outcome) as an event name and its arguments,
-- so that the history reads in the reader's language; note keeps only
-- what a person wrote. Rows written before are read into the same form.
ALTER TABLE alert_history ADD COLUMN event VARCHAR;
ALTER TABLE alert_history ADD COLUMN args VARCHAR[];

UPDATE alert_history SET event = 'raised', args = [substr(note, length('raised by rule ') + 1)], note = NULL
WHERE actor = 'system' AND note LIKE 'raised by rule %';

UPDATE alert_history SET event = 'escalated', args = [], note = NULL
WHERE actor = 'system' AND note = 'overdue: escalated to the county queue';

UPDATE alert_history SET event = 'assigned',
       args = [regexp_extract(note, '^task ([0-9]+) assigned to (.*)$', 1), regexp_extract(note, '^task ([0-9]+) assigned to (.*)$', 2)], note = NULL
WHERE regexp_matches(note, '^task [0-9]+ assigned to ');

UPDATE alert_history SET event = 'visited', args = [split_part(note, ' ', 1)],
       note = nullif(trim(substr(note, length(split_part(note, ' ', 1)) + 1)), '')
WHERE to_status = 'visited' AND split_part(note, ' ', 1) IN
      ('assisted_application', 'already_receiving', 'not_eligible', 'not_found', 'refused', 'other');

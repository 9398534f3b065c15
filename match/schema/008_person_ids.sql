-- Each raw ID text with the person it names (when usable) and what the ID
-- says of them: for other packages, which read this and not match_ids.
CREATE VIEW person_ids AS
SELECT id_raw, id_number, birth_date, sex FROM match_ids;

-- The linked views also say when each record's link was made (linked_at),
-- and links_through when the last one was: the analytic snapshot
-- recomputes the months of records linked since its previous snapshot
-- and takes the others from it.
CREATE OR REPLACE VIEW linked_education AS SELECT r.*, l.id_number AS person_id, l.household_id, l.method AS link_method,
    coalesce(r.birth_date, i.birth_date) AS person_birth_date, l.linked_at
    FROM education r LEFT JOIN match_links l ON l.source = 'education' AND l.record_key = r.record_key
    LEFT JOIN match_ids i ON i.id_raw = r.id_number;
CREATE OR REPLACE VIEW linked_health AS SELECT r.*, l.id_number AS person_id, l.household_id, l.method AS link_method, l.linked_at
    FROM health r LEFT JOIN match_links l ON l.source = 'health' AND l.record_key = r.record_key;
CREATE OR REPLACE VIEW linked_medins AS SELECT r.*, l.id_number AS person_id, l.household_id, l.method AS link_method, l.linked_at
    FROM medins r LEFT JOIN match_links l ON l.source = 'medins' AND l.record_key = r.record_key;
CREATE OR REPLACE VIEW linked_disability AS SELECT r.*, l.id_number AS person_id, l.household_id, l.method AS link_method, l.linked_at
    FROM disability r LEFT JOIN match_links l ON l.source = 'disability' AND l.record_key = r.record_key;
CREATE VIEW links_through AS SELECT max(linked_at) AS linked_at FROM match_links;

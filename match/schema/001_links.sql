-- Every raw ID text ever seen, normalised once.
CREATE TABLE match_ids (
    id_raw     VARCHAR NOT NULL,  -- unique: only texts not yet here are added
    id_number  VARCHAR,  -- the 18-character ID, when usable
    problem    VARCHAR,  -- why it is not usable, for people to read
    birth_date DATE,
    sex        VARCHAR
);

-- One row per current department or registry-member record: who it is about.
CREATE TABLE match_links (
    source       VARCHAR NOT NULL,  -- members, education, health, medins, disability
    record_key   VARCHAR NOT NULL,
    id_number    VARCHAR,           -- the person, when the ID is usable
    household_id VARCHAR,           -- the active registry household of that person, if any
    method       VARCHAR NOT NULL,  -- id_exact, id_outside_registry, unlinked
    problem      VARCHAR,
    linked_at    TIMESTAMPTZ NOT NULL
);

-- Registry members with their normalised ID and household.
CREATE VIEW registry_persons AS
SELECT m.record_key, i.id_number, m.household_id, m.name,
       coalesce(m.sex, i.sex) AS sex, coalesce(m.birth_date, i.birth_date) AS birth_date,
       m.relation, m.phone, h.tier, h.region_code, h.grid_code, h.address,
       coalesce(h.status, 'active') AS household_status
FROM members m
LEFT JOIN match_ids i ON i.id_raw = m.id_number
LEFT JOIN households h ON h.household_id = m.household_id;

-- Department records with the person and household they are about.
CREATE VIEW linked_education AS SELECT r.*, l.id_number AS person_id, l.household_id, l.method AS link_method,
    coalesce(r.birth_date, i.birth_date) AS person_birth_date
    FROM education r LEFT JOIN match_links l ON l.source = 'education' AND l.record_key = r.record_key
    LEFT JOIN match_ids i ON i.id_raw = r.id_number;
CREATE VIEW linked_health AS SELECT r.*, l.id_number AS person_id, l.household_id, l.method AS link_method
    FROM health r LEFT JOIN match_links l ON l.source = 'health' AND l.record_key = r.record_key;
CREATE VIEW linked_medins AS SELECT r.*, l.id_number AS person_id, l.household_id, l.method AS link_method
    FROM medins r LEFT JOIN match_links l ON l.source = 'medins' AND l.record_key = r.record_key;
CREATE VIEW linked_disability AS SELECT r.*, l.id_number AS person_id, l.household_id, l.method AS link_method
    FROM disability r LEFT JOIN match_links l ON l.source = 'disability' AND l.record_key = r.record_key;

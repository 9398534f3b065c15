-- What resolution decided for each record without a usable ID, against
-- which version of the record and of the registry: the next run reuses it
-- while neither changed, and compares only new or changed records.
CREATE TABLE match_resolved (
    source           VARCHAR NOT NULL,
    record_key       VARCHAR NOT NULL,
    version          BIGINT NOT NULL,   -- the record's batch
    registry_version VARCHAR NOT NULL,
    method           VARCHAR NOT NULL,  -- id_repaired, probabilistic, review, or none
    id_number        VARCHAR,
    household_id     VARCHAR,
    candidate        VARCHAR,
    score            DOUBLE,
    weights          VARCHAR,
    problem          VARCHAR
);

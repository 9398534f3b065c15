-- Lineage down to the sheet (a workbook often has a sheet per month; an
-- API batch names its pages here), the headers each batch was read under,
-- schema drift between batches, and release of quarantined rows.
ALTER TABLE canon_households ADD COLUMN sheet VARCHAR;
ALTER TABLE canon_members ADD COLUMN sheet VARCHAR;
ALTER TABLE canon_education ADD COLUMN sheet VARCHAR;
ALTER TABLE canon_health ADD COLUMN sheet VARCHAR;
ALTER TABLE canon_medins ADD COLUMN sheet VARCHAR;
ALTER TABLE canon_disability ADD COLUMN sheet VARCHAR;

ALTER TABLE ingest_batches ADD COLUMN connector VARCHAR DEFAULT 'file';

-- One row per header cell of each batch: which canonical column it fed
-- (NULL when none). Drift is found by comparing with the source's last batch.
CREATE TABLE ingest_headers (
    batch_id   BIGINT NOT NULL,
    source     VARCHAR NOT NULL,
    table_name VARCHAR NOT NULL,
    position   INTEGER NOT NULL,
    header     VARCHAR NOT NULL,
    col        VARCHAR
);

CREATE TABLE ingest_drift (
    batch_id   BIGINT NOT NULL,
    source     VARCHAR NOT NULL,
    table_name VARCHAR NOT NULL,
    kind       VARCHAR NOT NULL,   -- new, missing, renamed
    col        VARCHAR,            -- canonical column, NULL for a new unused header
    was        VARCHAR,            -- header in the earlier batch
    now        VARCHAR             -- header in this batch
);

ALTER TABLE ingest_quarantine ADD COLUMN released_by BIGINT;   -- the batch that replaced the file
ALTER TABLE ingest_quarantine ADD COLUMN released_at TIMESTAMPTZ;

-- Where pull connectors (HTTP, PostgreSQL) are: the watermark of the last
-- complete pull and, during a pull, how far it got, committed with each batch.
CREATE TABLE ingest_pulls (
    source        VARCHAR PRIMARY KEY,
    connector     VARCHAR NOT NULL,
    watermark     VARCHAR,            -- of the last complete pull
    run_since     VARCHAR,            -- the watermark the pull in progress started from
    run_cursor    VARCHAR,            -- page number or cursor to go on from; NULL when complete
    run_max       VARCHAR,            -- highest watermark value seen by the pull in progress
    run_rows      BIGINT,
    last_success  TIMESTAMPTZ,
    last_error    VARCHAR
);

-- The views pick up the new column.
CREATE OR REPLACE VIEW households AS SELECT * EXCLUDE (valid_to) FROM canon_households WHERE valid_to IS NULL;
CREATE OR REPLACE VIEW members    AS SELECT * EXCLUDE (valid_to) FROM canon_members    WHERE valid_to IS NULL;
CREATE OR REPLACE VIEW education  AS SELECT * EXCLUDE (valid_to) FROM canon_education  WHERE valid_to IS NULL;
CREATE OR REPLACE VIEW health     AS SELECT * EXCLUDE (valid_to) FROM canon_health     WHERE valid_to IS NULL;
CREATE OR REPLACE VIEW medins     AS SELECT * EXCLUDE (valid_to) FROM canon_medins     WHERE valid_to IS NULL;
CREATE OR REPLACE VIEW disability AS SELECT * EXCLUDE (valid_to) FROM canon_disability WHERE valid_to IS NULL;

-- Every canonical table starts with the same lineage and version columns:
-- record_key identifies the record (record_id, or a hash of its content),
-- row_hash its content; valid_to is set when a later version replaces it.
CREATE SEQUENCE ingest_batch_seq START 1;

CREATE TABLE ingest_batches (
    batch_id         BIGINT PRIMARY KEY,
    source           VARCHAR NOT NULL,
    table_name       VARCHAR NOT NULL,
    file_name        VARCHAR NOT NULL,
    file_sha256      VARCHAR NOT NULL,
    file_bytes       BIGINT NOT NULL,
    encoding         VARCHAR,
    sheet            VARCHAR,
    header_line      INTEGER,
    started_at       TIMESTAMPTZ NOT NULL,
    finished_at      TIMESTAMPTZ NOT NULL,
    rows_read        BIGINT NOT NULL,
    rows_new         BIGINT NOT NULL,
    rows_changed     BIGINT NOT NULL,
    rows_unchanged   BIGINT NOT NULL,
    rows_quarantined BIGINT NOT NULL,
    rows_skipped     BIGINT NOT NULL,
    notes            VARCHAR
);

CREATE TABLE ingest_quarantine (
    batch_id  BIGINT NOT NULL,
    source    VARCHAR NOT NULL,
    file_name VARCHAR NOT NULL,
    sheet     VARCHAR,
    line      BIGINT NOT NULL,
    col       VARCHAR,
    raw_value VARCHAR,
    raw_row   VARCHAR,
    reason    VARCHAR NOT NULL
);

CREATE TABLE ingest_rejections (
    source      VARCHAR NOT NULL,
    file_name   VARCHAR NOT NULL,
    file_sha256 VARCHAR,
    moved_to    VARCHAR NOT NULL,
    reason      VARCHAR NOT NULL,
    rejected_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE canon_households (
    record_key VARCHAR NOT NULL, row_hash VARCHAR NOT NULL, batch_id BIGINT NOT NULL, line BIGINT NOT NULL,
    valid_from TIMESTAMPTZ NOT NULL, valid_to TIMESTAMPTZ,
    household_id VARCHAR, tier VARCHAR, region_code VARCHAR, grid_code VARCHAR, address VARCHAR,
    annual_income DECIMAL(14,2), member_count INTEGER, monthly_benefit DECIMAL(14,2), status VARCHAR, enrolled_on DATE
);

CREATE TABLE canon_members (
    record_key VARCHAR NOT NULL, row_hash VARCHAR NOT NULL, batch_id BIGINT NOT NULL, line BIGINT NOT NULL,
    valid_from TIMESTAMPTZ NOT NULL, valid_to TIMESTAMPTZ,
    household_id VARCHAR, id_number VARCHAR, name VARCHAR, sex VARCHAR, birth_date DATE, relation VARCHAR, phone VARCHAR
);

CREATE TABLE canon_education (
    record_key VARCHAR NOT NULL, row_hash VARCHAR NOT NULL, batch_id BIGINT NOT NULL, line BIGINT NOT NULL,
    valid_from TIMESTAMPTZ NOT NULL, valid_to TIMESTAMPTZ,
    record_id VARCHAR, id_number VARCHAR, name VARCHAR, sex VARCHAR, birth_date DATE,
    school VARCHAR, grade VARCHAR, status VARCHAR, event_date DATE, aid_amount DECIMAL(14,2)
);

CREATE TABLE canon_health (
    record_key VARCHAR NOT NULL, row_hash VARCHAR NOT NULL, batch_id BIGINT NOT NULL, line BIGINT NOT NULL,
    valid_from TIMESTAMPTZ NOT NULL, valid_to TIMESTAMPTZ,
    record_id VARCHAR, id_number VARCHAR, name VARCHAR, sex VARCHAR, birth_date DATE,
    event_type VARCHAR, event_date DATE, diagnosis_code VARCHAR, diagnosis_name VARCHAR, hospital VARCHAR
);

CREATE TABLE canon_medins (
    record_key VARCHAR NOT NULL, row_hash VARCHAR NOT NULL, batch_id BIGINT NOT NULL, line BIGINT NOT NULL,
    valid_from TIMESTAMPTZ NOT NULL, valid_to TIMESTAMPTZ,
    record_id VARCHAR, id_number VARCHAR, name VARCHAR, sex VARCHAR, birth_date DATE,
    visit_type VARCHAR, settle_date DATE, total_cost DECIMAL(14,2), fund_paid DECIMAL(14,2),
    out_of_pocket DECIMAL(14,2), diagnosis_code VARCHAR
);

CREATE TABLE canon_disability (
    record_key VARCHAR NOT NULL, row_hash VARCHAR NOT NULL, batch_id BIGINT NOT NULL, line BIGINT NOT NULL,
    valid_from TIMESTAMPTZ NOT NULL, valid_to TIMESTAMPTZ,
    record_id VARCHAR, id_number VARCHAR, name VARCHAR, sex VARCHAR, birth_date DATE,
    disability_type VARCHAR, level INTEGER, issued_on DATE, "change" VARCHAR
);

-- The current version of every record: what the later stages read.
CREATE VIEW households AS SELECT * EXCLUDE (valid_to) FROM canon_households WHERE valid_to IS NULL;
CREATE VIEW members    AS SELECT * EXCLUDE (valid_to) FROM canon_members    WHERE valid_to IS NULL;
CREATE VIEW education  AS SELECT * EXCLUDE (valid_to) FROM canon_education  WHERE valid_to IS NULL;
CREATE VIEW health     AS SELECT * EXCLUDE (valid_to) FROM canon_health     WHERE valid_to IS NULL;
CREATE VIEW medins     AS SELECT * EXCLUDE (valid_to) FROM canon_medins     WHERE valid_to IS NULL;
CREATE VIEW disability AS SELECT * EXCLUDE (valid_to) FROM canon_disability WHERE valid_to IS NULL;

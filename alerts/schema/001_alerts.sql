CREATE SEQUENCE alert_seq START 1;

CREATE TABLE alerts (
    alert_id     BIGINT PRIMARY KEY,
    rule_id      VARCHAR NOT NULL,
    subject      VARCHAR NOT NULL,   -- household:<id> or person:<id_number>
    severity     VARCHAR NOT NULL,   -- critical, high, medium, low
    status       VARCHAR NOT NULL,   -- new, dispatched, visited, resolved, dismissed
    household_id VARCHAR,
    id_number    VARCHAR,
    region_code  VARCHAR,
    first_seen   TIMESTAMPTZ NOT NULL,
    last_seen    TIMESTAMPTZ NOT NULL,
    due_at       TIMESTAMPTZ NOT NULL,
    reason       VARCHAR NOT NULL,
    details      VARCHAR,            -- JSON
    closed_at    TIMESTAMPTZ
);

CREATE TABLE alert_evidence (
    alert_id  BIGINT NOT NULL,
    source    VARCHAR NOT NULL,
    record_id VARCHAR NOT NULL,
    added_at  TIMESTAMPTZ NOT NULL
);

CREATE TABLE alert_history (
    alert_id    BIGINT NOT NULL,
    changed_at  TIMESTAMPTZ NOT NULL,
    actor       VARCHAR NOT NULL,
    from_status VARCHAR,
    to_status   VARCHAR NOT NULL,
    note        VARCHAR
);

-- Active registry households: what most rules start from.
CREATE VIEW active_households AS
SELECT * FROM households WHERE coalesce(status, 'active') = 'active';

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

-- Visit tasks for grid workers: one per dispatched alert. The lifecycle
-- that fills it (dispatch, outcome) comes with the operator and grid-worker
-- apps; the table is here so that the schema is whole from the start.
CREATE TABLE tasks (
    task_id      BIGINT PRIMARY KEY,
    alert_id     BIGINT NOT NULL,
    grid_code    VARCHAR,            -- the household's grid; NULL: the township queue
    assignee     VARCHAR,            -- the grid worker's user name
    status       VARCHAR NOT NULL,   -- open, done
    due_at       TIMESTAMPTZ NOT NULL,
    outcome      VARCHAR,            -- assisted_application, already_receiving, not_eligible, not_found, refused, other
    note         VARCHAR,
    created_at   TIMESTAMPTZ NOT NULL,
    done_at      TIMESTAMPTZ
);

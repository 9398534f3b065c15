CREATE SEQUENCE job_run_seq START 1;

CREATE TABLE job_runs (
    run_id        BIGINT PRIMARY KEY,
    job           VARCHAR NOT NULL,     -- run (all sources) or the source a schedule fired for
    trigger       VARCHAR NOT NULL,     -- cli, schedule, demo
    as_of         DATE NOT NULL,
    started_at    TIMESTAMPTZ NOT NULL,
    finished_at   TIMESTAMPTZ,
    status        VARCHAR NOT NULL,     -- running, ok, partial, failed
    files         INTEGER,
    rows_stored   BIGINT,
    rows_quarantined BIGINT,
    alerts_raised INTEGER,
    error         VARCHAR
);

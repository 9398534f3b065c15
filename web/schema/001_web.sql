CREATE TABLE users (
    username      VARCHAR PRIMARY KEY,
    password_hash VARCHAR NOT NULL,          -- bcrypt
    role          VARCHAR NOT NULL,          -- admin, operator, gridworker, analyst
    region_prefix VARCHAR NOT NULL DEFAULT '',
    disabled      BOOLEAN NOT NULL DEFAULT false,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE sessions (
    token      VARCHAR PRIMARY KEY,          -- sha256 of the cookie value
    username   VARCHAR NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE audit_log (
    logged_at TIMESTAMPTZ NOT NULL,
    username VARCHAR NOT NULL,
    action   VARCHAR NOT NULL,               -- login, view_alert, …
    subject  VARCHAR,                        -- alert:<id>, household:<id>, person:<masked id>
    detail   VARCHAR
);

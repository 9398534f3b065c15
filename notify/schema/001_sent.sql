-- What Alertmanager was last told of each alert, so that an alert that
-- closes, or whose labels change, is resolved there too.
CREATE TABLE notify_sent (
    alert_id BIGINT PRIMARY KEY,
    labels   VARCHAR NOT NULL,   -- JSON, as sent
    sent_at  TIMESTAMPTZ NOT NULL
);

-- Photos taken on a visit, attached to its outcome: the file is kept
-- beside the database under its SHA-256; this is what it belongs to.
CREATE SEQUENCE photo_seq START 1;
CREATE TABLE visit_photos (
    photo_id     BIGINT PRIMARY KEY,
    task_id      BIGINT NOT NULL,
    alert_id     BIGINT NOT NULL,
    sha256       VARCHAR NOT NULL,
    bytes        BIGINT NOT NULL,
    content_type VARCHAR NOT NULL,
    uploaded_by  VARCHAR NOT NULL,
    uploaded_at  TIMESTAMPTZ NOT NULL
);

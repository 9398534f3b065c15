-- Saved cohorts: every edit is a new version, the earlier ones kept, so a
-- result can say which version made it.
CREATE SEQUENCE analytics_cohort_seq START 1;

CREATE TABLE analytics_cohorts (
    cohort_id  BIGINT NOT NULL,
    version    INTEGER NOT NULL,
    name       VARCHAR NOT NULL,
    definition VARCHAR NOT NULL,             -- JSON of analytics.Definition
    created_by VARCHAR NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (cohort_id, version)
);

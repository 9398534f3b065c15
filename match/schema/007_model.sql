-- The model each stage last trained (m per comparison level and the
-- prior), kept so that a run with too few candidate pairs to train on
-- (a village's monthly delivery) scores with what larger runs learned.
CREATE TABLE match_model (
    stage      VARCHAR NOT NULL,   -- registry, outside
    trained_at TIMESTAMPTZ NOT NULL,
    pairs      BIGINT NOT NULL,    -- the candidate pairs it was trained on
    model      VARCHAR NOT NULL    -- JSON: comparisons' levels, m, lambda
);

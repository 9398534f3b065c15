-- A run finds the records to link by batch: those of batches after the
-- last run's (batch_through), instead of comparing every current record
-- with every link. Records still without a link keep the form they were
-- compared in, so a later run compares them with the people new records
-- name without reading every department record again.
ALTER TABLE match_state ADD COLUMN batch_through BIGINT;
ALTER TABLE match_resolved ADD COLUMN raw_id VARCHAR;
ALTER TABLE match_resolved ADD COLUMN name VARCHAR;
ALTER TABLE match_resolved ADD COLUMN sex VARCHAR;
ALTER TABLE match_resolved ADD COLUMN birth VARCHAR;
ALTER TABLE match_resolved ADD COLUMN id_prefix VARCHAR;
-- the keys the model blocks on (BlockingRules), for a record left without a link
ALTER TABLE match_resolved ADD COLUMN block_keys VARCHAR[];

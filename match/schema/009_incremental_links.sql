-- Links are kept between runs: a run links the records new or changed
-- since the last one, while the registry and the review decisions stand
-- as they were (match_state), and relinks everything when they changed.
ALTER TABLE match_links ADD COLUMN version BIGINT;  -- the batch of the record version linked
CREATE TABLE match_state (
    registry_version  VARCHAR NOT NULL,
    decisions_version VARCHAR NOT NULL,
    linked_at         TIMESTAMPTZ NOT NULL
);

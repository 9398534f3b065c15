-- A person's decision on a pair the model was unsure of; kept and applied
-- again on every run (linking is rebuilt each time), and the record of who
-- decided what and when.
CREATE TABLE match_decisions (
    source     VARCHAR NOT NULL,
    record_key VARCHAR NOT NULL,
    candidate  VARCHAR NOT NULL,   -- the registry person's ID
    decision   VARCHAR NOT NULL,   -- link or reject
    decided_by VARCHAR NOT NULL,
    decided_at TIMESTAMPTZ NOT NULL,
    note       VARCHAR
);

-- The directories peers sent: the keyed hashes of the resident IDs in
-- each peer's registry (directory.go), replaced whole with each one sent.
CREATE TABLE forward_directory (
    peer   VARCHAR NOT NULL,
    person VARCHAR NOT NULL
);
CREATE TABLE forward_directories (
    peer        VARCHAR PRIMARY KEY,
    people      BIGINT NOT NULL,
    received_at TIMESTAMPTZ NOT NULL
);

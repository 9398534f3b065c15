-- The digest of each directory held (SHA-256 of its hashes, sorted, a
-- line each), so that a peer sends its directory again only when it
-- changed.
ALTER TABLE forward_directories ADD COLUMN digest VARCHAR;

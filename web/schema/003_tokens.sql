-- Per-user tokens for Flight SQL (record-level analysts): only their
-- sha256 is kept; a new token replaces the user's earlier one.
CREATE TABLE api_tokens (
    token_hash VARCHAR PRIMARY KEY,
    username   VARCHAR NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);

-- What this instance sent its peers (sent.go): each directory sent, its
-- text by its digest, kept while a peer holds it, so that the next one
-- goes as the change from it; and which one each peer was last sent.
CREATE TABLE forward_sent (
    digest  VARCHAR PRIMARY KEY,
    people  BIGINT NOT NULL,
    body    BLOB NOT NULL,
    made_at TIMESTAMPTZ NOT NULL
);
CREATE TABLE forward_sent_to (
    peer    VARCHAR PRIMARY KEY,
    digest  VARCHAR NOT NULL,
    sent_at TIMESTAMPTZ NOT NULL
);

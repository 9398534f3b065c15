-- The people a peer's directory named anew, and when the records about
-- them became due to that peer again (resend.go): records linked before
-- the directory named their person went by the ID's region, or nowhere.
CREATE TABLE forward_resend (
    peer      VARCHAR NOT NULL,
    person_id VARCHAR NOT NULL,
    due_at    TIMESTAMPTZ NOT NULL
);

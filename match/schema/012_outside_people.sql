-- The persons outside the registry known by a usable ID, in the form
-- scoring compares them in, with their blocking keys: kept between runs
-- and refreshed for the IDs a run's new records name, so a run compares
-- its records without an ID with the few people that share a key with
-- them instead of reading every department record for all of them.
CREATE TABLE match_outside_people (
    id_number  VARCHAR NOT NULL,
    name       VARCHAR,
    sex        VARCHAR,
    birth      VARCHAR,
    block_keys VARCHAR[]
);

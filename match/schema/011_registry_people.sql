-- The active registry persons in the form scoring compares them in (the
-- query registryPeople in resolve.go), kept between runs while the
-- registry is the version noted beside them: a run with a few records
-- without an ID reads this table instead of the registry's views.
CREATE TABLE match_registry_people (
    id_number    VARCHAR NOT NULL,
    household_id VARCHAR,
    name         VARCHAR,
    sex          VARCHAR,
    birth        VARCHAR,
    phone        VARCHAR,
    region       VARCHAR,
    address      VARCHAR,
    pinyin       VARCHAR,
    surname_py   VARCHAR,
    year         VARCHAR,
    head         VARCHAR
);
CREATE TABLE match_registry_version (registry_version VARCHAR NOT NULL);

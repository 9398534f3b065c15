-- Scoring compares a registry person with department records, which
-- carry no phone and no address (registryColumns in resolve.go): those
-- columns were written for every registry version and never read.
ALTER TABLE match_registry_people DROP COLUMN phone;
ALTER TABLE match_registry_people DROP COLUMN region;
ALTER TABLE match_registry_people DROP COLUMN address;

-- A value that could not be read in a field that is not required leaves
-- the field unknown and the row stored; the department hears of it in the
-- same list as a quarantined row, marked kept.
ALTER TABLE ingest_quarantine ADD COLUMN kept BOOLEAN DEFAULT false;

-- A usable ID can still be worth a look: a region part that is not a
-- current division code (it may be a historical one).
ALTER TABLE match_ids ADD COLUMN warning VARCHAR;

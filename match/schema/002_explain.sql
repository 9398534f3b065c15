-- What a link rests on, for links not made by an exact ID: the match
-- probability, each comparison's weight (JSON), and the registry person
-- a review is about.
ALTER TABLE match_links ADD COLUMN score DOUBLE;
ALTER TABLE match_links ADD COLUMN weights VARCHAR;
ALTER TABLE match_links ADD COLUMN candidate VARCHAR;

-- The outcome form a visit was recorded from (a token the form carries):
-- a form sent twice, as a phone does when it sends what it saved while
-- offline and the first answer was lost, is recorded once.
ALTER TABLE tasks ADD COLUMN submission VARCHAR;

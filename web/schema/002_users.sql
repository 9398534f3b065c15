-- A grid worker works one grid (网格): the tasks of its households.
ALTER TABLE users ADD COLUMN grid VARCHAR DEFAULT '';

-- Every name text seen, folded once (traditional to simplified, dots,
-- spaces, width) with its pinyin: blocking in SQL joins on these, so a
-- record written 陳淑華 meets the registry's 陈淑华, and 张 meets 章.
CREATE TABLE match_names (
    name           VARCHAR NOT NULL,
    folded         VARCHAR NOT NULL,
    pinyin         VARCHAR NOT NULL,
    surname_pinyin VARCHAR NOT NULL
);

-- What survives of an ID that Excel stored as a number: its region and
-- birth date digits, evidence for linking but never a link by itself.
ALTER TABLE match_ids ADD COLUMN id_prefix VARCHAR;

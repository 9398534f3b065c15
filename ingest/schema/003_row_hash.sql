-- The content hash as the number it is: cheaper to store and compare
-- than its hex text.
ALTER TABLE canon_households ALTER row_hash TYPE UBIGINT USING ('0x' || row_hash)::UBIGINT;
ALTER TABLE canon_members    ALTER row_hash TYPE UBIGINT USING ('0x' || row_hash)::UBIGINT;
ALTER TABLE canon_education  ALTER row_hash TYPE UBIGINT USING ('0x' || row_hash)::UBIGINT;
ALTER TABLE canon_health     ALTER row_hash TYPE UBIGINT USING ('0x' || row_hash)::UBIGINT;
ALTER TABLE canon_medins     ALTER row_hash TYPE UBIGINT USING ('0x' || row_hash)::UBIGINT;
ALTER TABLE canon_disability ALTER row_hash TYPE UBIGINT USING ('0x' || row_hash)::UBIGINT;

CREATE OR REPLACE VIEW households AS SELECT * EXCLUDE (valid_to) FROM canon_households WHERE valid_to IS NULL;
CREATE OR REPLACE VIEW members    AS SELECT * EXCLUDE (valid_to) FROM canon_members    WHERE valid_to IS NULL;
CREATE OR REPLACE VIEW education  AS SELECT * EXCLUDE (valid_to) FROM canon_education  WHERE valid_to IS NULL;
CREATE OR REPLACE VIEW health     AS SELECT * EXCLUDE (valid_to) FROM canon_health     WHERE valid_to IS NULL;
CREATE OR REPLACE VIEW medins     AS SELECT * EXCLUDE (valid_to) FROM canon_medins     WHERE valid_to IS NULL;
CREATE OR REPLACE VIEW disability AS SELECT * EXCLUDE (valid_to) FROM canon_disability WHERE valid_to IS NULL;

-- Why a file was refused whole, as a catalogue message (JSON), so that
-- the deliveries page and the note beside the file say it in the reader's
-- language; reason keeps the English text. Files refused before have none.
ALTER TABLE ingest_rejections ADD COLUMN problem VARCHAR;

-- A record left without a link by the registry (method none) that the
-- outside stage linked to someone outside the registry: later runs do not
-- compare it again, without reading match_links to find out.
ALTER TABLE match_resolved ADD COLUMN linked_outside BOOLEAN DEFAULT false;

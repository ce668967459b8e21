-- A search page is a range of the term index in name order: each term row carries its organisation's name
-- (written with the terms, by every write of a name or code, so always the organisation's current name), and
-- the index on (term, name, organisation_id) gives the page, in the list's order (name, then id), by reading
-- only that page's rows instead of sorting every holder of the term (a common word is held by thousands).
ALTER TABLE organisation_terms ADD COLUMN name TEXT NOT NULL DEFAULT '';
UPDATE organisation_terms SET name = (SELECT o.name FROM organisations o WHERE o.id = organisation_terms.organisation_id);
CREATE INDEX organisation_terms_name_idx ON organisation_terms (term, name, organisation_id);

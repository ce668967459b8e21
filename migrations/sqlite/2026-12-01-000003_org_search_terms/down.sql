DROP INDEX organisations_search_version_idx;
ALTER TABLE organisations DROP COLUMN search_version;
DROP TABLE organisation_terms;

DROP INDEX organisation_terms_name_idx;
ALTER TABLE organisation_terms DROP COLUMN name;

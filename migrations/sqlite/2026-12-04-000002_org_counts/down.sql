DROP TRIGGER organisation_counts_update;
DROP TRIGGER organisation_counts_delete;
DROP TRIGGER organisation_counts_insert;
DROP TABLE organisation_counts;

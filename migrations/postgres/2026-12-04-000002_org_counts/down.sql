DROP TRIGGER organisation_counts_update ON organisations;
DROP TRIGGER organisation_counts_delete ON organisations;
DROP TRIGGER organisation_counts_insert ON organisations;
DROP FUNCTION organisation_counts_track();
DROP TABLE organisation_counts;

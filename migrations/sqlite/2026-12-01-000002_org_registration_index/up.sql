-- The public directory lists registered organisations by name and counts them: an index on (registration,
-- name) answers both from the index alone instead of reading every row of a large registry.
CREATE INDEX organisations_registration_idx ON organisations (registration, name);

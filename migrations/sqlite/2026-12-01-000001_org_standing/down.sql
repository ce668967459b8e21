DROP INDEX organisations_standing_basis_idx;
DROP INDEX organisations_standing_idx;
ALTER TABLE organisations DROP COLUMN standing_basis;
ALTER TABLE organisations DROP COLUMN standing;

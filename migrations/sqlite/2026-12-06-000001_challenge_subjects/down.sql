ALTER TABLE challenges DROP COLUMN assessment;
ALTER TABLE challenges DROP COLUMN affects_result;
ALTER TABLE challenges DROP COLUMN subject;

-- Revocations have no grade to keep: they go with the rollback.
DELETE FROM organisation_ratings WHERE decision = 'revocation';
ALTER TABLE organisation_ratings DROP CONSTRAINT organisation_ratings_decision_grade_check;
ALTER TABLE organisation_ratings DROP COLUMN reason;
ALTER TABLE organisation_ratings DROP COLUMN decision;
ALTER TABLE organisation_ratings ALTER COLUMN grade SET NOT NULL;

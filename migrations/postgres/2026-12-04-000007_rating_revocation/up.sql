-- A rating decision is an award of a grade or a revocation (撤销等级, 民政部令第39号 Art 30) with its reason;
-- a revocation has no grade. Every earlier row is an award.
ALTER TABLE organisation_ratings ALTER COLUMN grade DROP NOT NULL;
ALTER TABLE organisation_ratings ADD COLUMN decision TEXT NOT NULL DEFAULT 'award'
    CHECK (decision IN ('award', 'revocation'));
ALTER TABLE organisation_ratings ADD COLUMN reason TEXT;
ALTER TABLE organisation_ratings ADD CONSTRAINT organisation_ratings_decision_grade_check
    CHECK ((decision = 'award' AND grade IS NOT NULL)
        OR (decision = 'revocation' AND grade IS NULL AND reason IS NOT NULL));

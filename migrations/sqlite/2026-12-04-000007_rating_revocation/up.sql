-- A rating decision is an award of a grade or a revocation (撤销等级, 民政部令第39号 Art 30) with its reason;
-- a revocation has no grade. SQLite cannot change a CHECK or a NOT NULL in place: the table is rebuilt with
-- the same rows and ids (every earlier row an award).
CREATE TABLE organisation_ratings_new (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    organisation_id BIGINT NOT NULL REFERENCES organisations (id),
    grade INTEGER CHECK (grade BETWEEN 1 AND 5),
    awarded_on DATE NOT NULL,
    expires_on DATE NOT NULL,
    created_at TIMESTAMP NOT NULL,
    decision TEXT NOT NULL DEFAULT 'award' CHECK (decision IN ('award', 'revocation')),
    reason TEXT,
    CHECK ((decision = 'award' AND grade IS NOT NULL)
        OR (decision = 'revocation' AND grade IS NULL AND reason IS NOT NULL))
);
INSERT INTO organisation_ratings_new (id, organisation_id, grade, awarded_on, expires_on, created_at)
    SELECT id, organisation_id, grade, awarded_on, expires_on, created_at FROM organisation_ratings;
DROP TABLE organisation_ratings;
ALTER TABLE organisation_ratings_new RENAME TO organisation_ratings;
CREATE INDEX organisation_ratings_organisation_id_idx ON organisation_ratings (organisation_id);

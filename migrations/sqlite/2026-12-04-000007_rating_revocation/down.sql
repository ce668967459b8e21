-- Revocations have no grade to keep: they go with the rollback.
CREATE TABLE organisation_ratings_old (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    organisation_id BIGINT NOT NULL REFERENCES organisations (id),
    grade INTEGER NOT NULL CHECK (grade BETWEEN 1 AND 5),
    awarded_on DATE NOT NULL,
    expires_on DATE NOT NULL,
    created_at TIMESTAMP NOT NULL
);
INSERT INTO organisation_ratings_old (id, organisation_id, grade, awarded_on, expires_on, created_at)
    SELECT id, organisation_id, grade, awarded_on, expires_on, created_at FROM organisation_ratings
    WHERE decision = 'award';
DROP TABLE organisation_ratings;
ALTER TABLE organisation_ratings_old RENAME TO organisation_ratings;
CREATE INDEX organisation_ratings_organisation_id_idx ON organisation_ratings (organisation_id);

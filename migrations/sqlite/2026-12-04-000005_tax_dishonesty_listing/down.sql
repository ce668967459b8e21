-- Fails while a tax-dishonesty listing exists: the old CHECK cannot hold it.
CREATE TABLE credit_listings_old (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    organisation_id BIGINT NOT NULL REFERENCES organisations (id),
    list TEXT NOT NULL CHECK (list IN ('dishonesty', 'court_defaulter', 'debarment', 'abnormal')),
    source TEXT NOT NULL,
    listed_on DATE NOT NULL,
    removed_on DATE,
    evidence_sha256 TEXT NOT NULL CHECK (length(evidence_sha256) = 64),
    created_at TIMESTAMP NOT NULL
);
INSERT INTO credit_listings_old (id, organisation_id, list, source, listed_on, removed_on, evidence_sha256, created_at)
    SELECT id, organisation_id, list, source, listed_on, removed_on, evidence_sha256, created_at FROM credit_listings;
DROP TABLE credit_listings;
ALTER TABLE credit_listings_old RENAME TO credit_listings;
CREATE INDEX credit_listings_organisation_id_idx ON credit_listings (organisation_id);

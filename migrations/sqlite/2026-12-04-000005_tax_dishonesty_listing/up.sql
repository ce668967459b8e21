-- The major tax-dishonesty list (重大税收违法失信主体) bars from procurement as the other dishonesty lists do
-- (财库〔2016〕125号). SQLite cannot change a CHECK in place: the table is rebuilt with the same rows and ids.
CREATE TABLE credit_listings_new (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    organisation_id BIGINT NOT NULL REFERENCES organisations (id),
    list TEXT NOT NULL CHECK (list IN ('dishonesty', 'court_defaulter', 'debarment', 'abnormal', 'tax_dishonesty')),
    source TEXT NOT NULL,
    listed_on DATE NOT NULL,
    removed_on DATE,
    evidence_sha256 TEXT NOT NULL CHECK (length(evidence_sha256) = 64),
    created_at TIMESTAMP NOT NULL
);
INSERT INTO credit_listings_new (id, organisation_id, list, source, listed_on, removed_on, evidence_sha256, created_at)
    SELECT id, organisation_id, list, source, listed_on, removed_on, evidence_sha256, created_at FROM credit_listings;
DROP TABLE credit_listings;
ALTER TABLE credit_listings_new RENAME TO credit_listings;
CREATE INDEX credit_listings_organisation_id_idx ON credit_listings (organisation_id);

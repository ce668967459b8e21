-- Every uploaded file (issue 15): its bytes are kept once in the file store, addressed by their SHA-256
-- (src/files); a row says what the file is and which record it belongs to. The same bytes uploaded for two
-- records are two rows over one stored object.
CREATE TABLE files (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    sha256 TEXT NOT NULL CHECK (length(sha256) = 64),
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    size BIGINT NOT NULL CHECK (size > 0),
    purpose TEXT NOT NULL,
    record_id BIGINT NOT NULL,
    uploaded_by BIGINT NOT NULL REFERENCES users (id),
    uploaded_at TIMESTAMP NOT NULL
);
CREATE INDEX files_record_idx ON files (purpose, record_id);
CREATE INDEX files_sha256_idx ON files (sha256);
CREATE INDEX files_uploaded_by_idx ON files (uploaded_by);

-- A social worker's certificate counts for eligibility and scoring only once the bureau has verified it
-- (issue 14). Workers on record before this were entered under the old rules and count as verified from
-- when they were created; the audit log keeps who entered them.
ALTER TABLE social_workers ADD COLUMN verified_at TIMESTAMP;
UPDATE social_workers SET verified_at = created_at;
CREATE INDEX social_workers_unverified_idx ON social_workers (organisation_id) WHERE verified_at IS NULL;

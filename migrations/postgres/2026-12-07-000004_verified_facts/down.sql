DROP INDEX social_workers_unverified_idx;
ALTER TABLE social_workers DROP COLUMN verified_at;

DROP INDEX social_workers_person_hash;
ALTER TABLE social_workers DROP COLUMN person_hash;

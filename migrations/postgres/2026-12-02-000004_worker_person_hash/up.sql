-- The identity number's keyed hash without the organisation (person_hash) lets the bureau see one person
-- registered by two organisations, while id_hash becomes per organisation, so registering a person that
-- another organisation already has no longer fails and tells the caller so. Hashes stored so far were made
-- without the organisation: they are the person hash.
ALTER TABLE social_workers ADD COLUMN person_hash TEXT;
UPDATE social_workers SET person_hash = id_hash;
CREATE INDEX social_workers_person_hash ON social_workers (person_hash);

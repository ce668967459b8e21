-- Indexes for lists that grow with a province's registry.
-- The public directory lists registered organisations by name and counts them: (registration, name)
-- answers both from the index instead of reading every row.
CREATE INDEX organisations_registration_idx ON organisations (registration, name);
-- "My recent actions" (the dashboard) takes a user's newest events: (actor_id, seq) reads them in order,
-- where (actor_id) alone made the database sort every event of a busy account.
DROP INDEX audit_events_actor_id_idx;
CREATE INDEX audit_events_actor_seq_idx ON audit_events (actor_id, seq);

DROP INDEX audit_events_actor_seq_idx;
CREATE INDEX audit_events_actor_id_idx ON audit_events (actor_id);
DROP INDEX organisations_registration_idx;

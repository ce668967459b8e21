-- Signed checkpoints of the hash chains (chain::checkpoint): the head of a chain (its name, sequence number and
-- hash) at a time, signed with an Ed25519 key kept outside the database. `sanshe verify` checks every row's
-- signature and that the chain still has that entry with that hash, so a cut tail or a rewritten history is
-- found even when every later hash was recomputed. Append-only, like the audit trail.
CREATE TABLE chain_checkpoints (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    chain TEXT NOT NULL,
    seq BIGINT NOT NULL,
    hash TEXT NOT NULL,
    signed_at TIMESTAMP NOT NULL,
    signed_by TEXT NOT NULL,
    public_key TEXT NOT NULL,
    signature TEXT NOT NULL,
    UNIQUE (chain, seq)
);
CREATE TRIGGER chain_checkpoints_no_update BEFORE UPDATE ON chain_checkpoints
BEGIN
    SELECT RAISE(ABORT, 'chain_checkpoints is append-only: UPDATE refused');
END;
CREATE TRIGGER chain_checkpoints_no_delete BEFORE DELETE ON chain_checkpoints
BEGIN
    SELECT RAISE(ABORT, 'chain_checkpoints is append-only: DELETE refused');
END;

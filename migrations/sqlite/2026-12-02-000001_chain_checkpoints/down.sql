DROP TRIGGER chain_checkpoints_no_delete;
DROP TRIGGER chain_checkpoints_no_update;
DROP TABLE chain_checkpoints;

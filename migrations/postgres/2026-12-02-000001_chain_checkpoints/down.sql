DROP TABLE chain_checkpoints;
DROP FUNCTION chain_checkpoints_refuse_change();

DROP TABLE panel_draws;
ALTER TABLE panel_members DROP COLUMN seat;

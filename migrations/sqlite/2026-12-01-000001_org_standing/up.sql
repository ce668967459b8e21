-- An organisation's standing (eligible / flagged / barred), kept with it so lists filter, count and page in SQL.
-- It is derived, never typed: every change of its inputs (registration, credit code, ratings, inspections,
-- listings) re-decides it in the same transaction with domain::standing::decide, and a pass re-decides every row
-- whose basis (the date and the rules it was decided under) is not the current one, for what the calendar alone
-- changes (a rating expiring, a listing starting or ending, a new year needing last year's report).
ALTER TABLE organisations ADD COLUMN standing TEXT NOT NULL DEFAULT 'eligible';
ALTER TABLE organisations ADD COLUMN standing_basis TEXT NOT NULL DEFAULT '';
CREATE INDEX organisations_standing_idx ON organisations (standing, name);
CREATE INDEX organisations_standing_basis_idx ON organisations (standing_basis);

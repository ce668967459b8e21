-- How many organisations there are of each registration, kind and standing, so the list's total, the public
-- directory's and the dashboard's standing figures are read from a few rows instead of counting a province's
-- registry (50,000 rows) on every request. Triggers keep it, in the transaction of the change, whatever
-- writes the row (a form, an import, the standing pass), so it cannot drift from the rows it counts.
--
-- Unlike SQLite (one writer at a time, one row per key), PostgreSQL writers run side by side: one row per
-- key would be a lock every change of a key waits on until the other's commit, and two transactions moving
-- organisations between the same two keys in opposite order would deadlock. So each statement appends its
-- net change per key (a delta row, never locked by anyone else), a count is the sum of its key's rows, and
-- `registry::orgs::fold_counts` folds the rows into one per key now and then (the scheduler, after an import).
-- No primary key: several rows per key is the design.
CREATE TABLE organisation_counts (
    registration TEXT NOT NULL,
    kind TEXT NOT NULL,
    standing TEXT NOT NULL,
    n BIGINT NOT NULL
);

INSERT INTO organisation_counts (registration, kind, standing, n)
SELECT registration, kind, standing, COUNT(*) FROM organisations GROUP BY registration, kind, standing;

-- Statement-level with transition tables: an import of 2,000 rows appends a few deltas, not 2,000.
CREATE FUNCTION organisation_counts_track() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO organisation_counts (registration, kind, standing, n)
        SELECT registration, kind, standing, COUNT(*) FROM new_rows GROUP BY registration, kind, standing;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO organisation_counts (registration, kind, standing, n)
        SELECT registration, kind, standing, -COUNT(*) FROM old_rows GROUP BY registration, kind, standing;
    ELSE
        -- Only a change of the counted key appends a row: the standing pass rewrites every row's basis daily.
        INSERT INTO organisation_counts (registration, kind, standing, n)
        SELECT registration, kind, standing, SUM(d) FROM (
            SELECT registration, kind, standing, 1 AS d FROM new_rows
            UNION ALL
            SELECT registration, kind, standing, -1 AS d FROM old_rows
        ) AS moved
        GROUP BY registration, kind, standing
        HAVING SUM(d) <> 0;
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER organisation_counts_insert AFTER INSERT ON organisations
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION organisation_counts_track();
CREATE TRIGGER organisation_counts_delete AFTER DELETE ON organisations
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION organisation_counts_track();
CREATE TRIGGER organisation_counts_update AFTER UPDATE ON organisations
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION organisation_counts_track();

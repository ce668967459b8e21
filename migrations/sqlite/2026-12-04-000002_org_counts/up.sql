-- How many organisations there are of each registration, kind and standing, so the list's total, the public
-- directory's and the dashboard's standing figures are read from a few rows instead of counting a province's
-- registry (50,000 rows) on every request. Triggers keep it, in the transaction of the change, whatever
-- writes the row (a form, an import, the standing pass), so it cannot drift from the rows it counts.
-- A future migration that rebuilds `organisations` (SQLite's way to change a column) must create these
-- triggers again.
CREATE TABLE organisation_counts (
    registration TEXT NOT NULL,
    kind TEXT NOT NULL,
    standing TEXT NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (registration, kind, standing)
) WITHOUT ROWID;

INSERT INTO organisation_counts (registration, kind, standing, n)
SELECT registration, kind, standing, COUNT(*) FROM organisations GROUP BY registration, kind, standing;

CREATE TRIGGER organisation_counts_insert AFTER INSERT ON organisations
BEGIN
    INSERT INTO organisation_counts (registration, kind, standing, n)
    VALUES (NEW.registration, NEW.kind, NEW.standing, 1)
    ON CONFLICT (registration, kind, standing) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER organisation_counts_delete AFTER DELETE ON organisations
BEGIN
    UPDATE organisation_counts SET n = n - 1
    WHERE registration = OLD.registration AND kind = OLD.kind AND standing = OLD.standing;
END;

-- Only a change of the counted key moves a count: the standing pass rewrites every row's basis daily.
CREATE TRIGGER organisation_counts_update AFTER UPDATE OF registration, kind, standing ON organisations
WHEN OLD.registration <> NEW.registration OR OLD.kind <> NEW.kind OR OLD.standing <> NEW.standing
BEGIN
    UPDATE organisation_counts SET n = n - 1
    WHERE registration = OLD.registration AND kind = OLD.kind AND standing = OLD.standing;
    INSERT INTO organisation_counts (registration, kind, standing, n)
    VALUES (NEW.registration, NEW.kind, NEW.standing, 1)
    ON CONFLICT (registration, kind, standing) DO UPDATE SET n = n + 1;
END;

-- Running tallies of people served (DOMAIN.md, Performance: 人次 and 人数), kept by the transaction that
-- records the activities, so that the district overview reads a few hundred rows instead of every
-- participation. `scope` is 0 for the district, else an organisation's id; `dim` is total, field, street or
-- group, `dim_key` its key ('' for total); `month` is yyyymm. Rebuilt from participations and activities
-- after this migration (people::reach::rebuild), so a database that already holds activities gains them.
CREATE TABLE reach_counts (
    scope BIGINT NOT NULL,
    dim TEXT NOT NULL,
    dim_key TEXT NOT NULL,
    month INTEGER NOT NULL,
    registered BIGINT NOT NULL,
    anonymous BIGINT NOT NULL,
    activities BIGINT NOT NULL,
    volunteers BIGINT NOT NULL,
    volunteer_minutes BIGINT NOT NULL,
    PRIMARY KEY (scope, dim, dim_key, month)
);

-- The distinct people behind each tally: a Roaring bitmap of the low 16 bits of the person ids in one
-- chunk of 65,536 ids, so that a save rewrites a few kilobytes whatever the district's size, and 人数 over
-- any months is the size of the union of their bitmaps.
CREATE TABLE reach_people (
    scope BIGINT NOT NULL,
    dim TEXT NOT NULL,
    dim_key TEXT NOT NULL,
    month INTEGER NOT NULL,
    chunk INTEGER NOT NULL,
    people BLOB NOT NULL,
    PRIMARY KEY (scope, dim, dim_key, month, chunk)
);

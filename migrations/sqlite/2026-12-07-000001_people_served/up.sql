-- People served (issue 12; docs/PEOPLE.md). A person is a row of `people`: keyed by the HMAC-SHA-256 of the
-- normalised resident identity number (the number itself is never stored), or with no key at all when the
-- person declined and is known only by one organisation's pseudonym. Each organisation registers the people
-- it serves as its own `beneficiaries` (a name, if kept, is that organisation's alone); two organisations
-- serving one identified person point at the same `people` row, which is what de-duplicates 人数 across
-- organisations.
CREATE TABLE people (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    id_hash TEXT UNIQUE
);

CREATE TABLE beneficiaries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    organisation_id BIGINT NOT NULL REFERENCES organisations (id),
    person_id BIGINT NOT NULL REFERENCES people (id),
    pseudonym TEXT NOT NULL,
    identified BOOLEAN NOT NULL,
    grp TEXT NOT NULL,
    gender TEXT NOT NULL CHECK (gender IN ('female', 'male', 'unstated')),
    birth_year INTEGER,
    community_id BIGINT NOT NULL REFERENCES communities (id),
    name TEXT,
    created_by BIGINT NOT NULL REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    UNIQUE (organisation_id, person_id),
    UNIQUE (organisation_id, pseudonym)
);
CREATE INDEX beneficiaries_person_id_idx ON beneficiaries (person_id);
CREATE INDEX beneficiaries_community_id_idx ON beneficiaries (community_id);
CREATE INDEX beneficiaries_created_by_idx ON beneficiaries (created_by);

-- A service activity under a contract. `street_id` and `field` are the community's street and the
-- contract's field when it was recorded; `registered` is the number of its participations.
CREATE TABLE activities (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    contract_id BIGINT NOT NULL REFERENCES contracts (id),
    organisation_id BIGINT NOT NULL REFERENCES organisations (id),
    held_on DATE NOT NULL,
    kind TEXT NOT NULL,
    community_id BIGINT NOT NULL REFERENCES communities (id),
    street_id BIGINT NOT NULL REFERENCES streets (id),
    field TEXT NOT NULL,
    minutes INTEGER NOT NULL CHECK (minutes > 0),
    title TEXT NOT NULL,
    registered INTEGER NOT NULL CHECK (registered >= 0),
    anonymous INTEGER NOT NULL CHECK (anonymous >= 0),
    volunteers INTEGER NOT NULL CHECK (volunteers >= 0),
    volunteer_minutes INTEGER NOT NULL CHECK (volunteer_minutes >= 0),
    evidence_sha256 TEXT,
    created_by BIGINT NOT NULL REFERENCES users (id),
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX activities_contract_id_idx ON activities (contract_id, held_on);
CREATE INDEX activities_organisation_id_idx ON activities (organisation_id, held_on);
CREATE INDEX activities_held_on_idx ON activities (held_on);
CREATE INDEX activities_community_id_idx ON activities (community_id);
CREATE INDEX activities_street_id_idx ON activities (street_id);
CREATE INDEX activities_created_by_idx ON activities (created_by);

-- One row per registered person at an activity. The activity's and the person's dimensions are copied in
-- so that every count (人次 = rows, 人数 = distinct person_id) is a scan of one covering index, at a
-- province's scale too (DESIGN.md, Scale). `month` is yyyymm.
CREATE TABLE participations (
    activity_id BIGINT NOT NULL REFERENCES activities (id),
    beneficiary_id BIGINT NOT NULL REFERENCES beneficiaries (id),
    person_id BIGINT NOT NULL REFERENCES people (id),
    contract_id BIGINT NOT NULL REFERENCES contracts (id),
    organisation_id BIGINT NOT NULL REFERENCES organisations (id),
    community_id BIGINT NOT NULL REFERENCES communities (id),
    street_id BIGINT NOT NULL REFERENCES streets (id),
    field TEXT NOT NULL,
    grp TEXT NOT NULL,
    month INTEGER NOT NULL,
    PRIMARY KEY (activity_id, beneficiary_id)
);
CREATE INDEX participations_beneficiary_id_idx ON participations (beneficiary_id);
CREATE INDEX participations_person_id_idx ON participations (person_id, month);
CREATE INDEX participations_month_idx ON participations (month, person_id);
CREATE INDEX participations_field_idx ON participations (field, person_id, month);
CREATE INDEX participations_street_id_idx ON participations (street_id, person_id, month);
CREATE INDEX participations_community_id_idx ON participations (community_id, person_id, month);
CREATE INDEX participations_grp_idx ON participations (grp, person_id, month);
CREATE INDEX participations_contract_id_idx ON participations (contract_id, person_id, month);
CREATE INDEX participations_organisation_id_idx ON participations (organisation_id, person_id, month);

-- Satisfaction surveys of a contract's service (DOMAIN.md, Performance): how many answered 1 (very
-- dissatisfied) to 5 (very satisfied). Satisfied = 4 or 5.
CREATE TABLE satisfaction_surveys (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    contract_id BIGINT NOT NULL REFERENCES contracts (id),
    surveyed_on DATE NOT NULL,
    n1 INTEGER NOT NULL CHECK (n1 >= 0),
    n2 INTEGER NOT NULL CHECK (n2 >= 0),
    n3 INTEGER NOT NULL CHECK (n3 >= 0),
    n4 INTEGER NOT NULL CHECK (n4 >= 0),
    n5 INTEGER NOT NULL CHECK (n5 >= 0),
    note TEXT NOT NULL,
    recorded_by BIGINT NOT NULL REFERENCES users (id),
    recorded_at TIMESTAMP NOT NULL,
    CHECK (n1 + n2 + n3 + n4 + n5 > 0)
);
CREATE INDEX satisfaction_surveys_contract_id_idx ON satisfaction_surveys (contract_id, surveyed_on);
CREATE INDEX satisfaction_surveys_recorded_by_idx ON satisfaction_surveys (recorded_by);

-- A milestone's acceptance keeps its performance evaluation: the attainment of each target at that date and
-- the weighted components of the score (JSON).
ALTER TABLE contract_instalments ADD COLUMN performance TEXT;

-- Registry: areas, organisations with ratings, inspections and credit listings, incubation bases,
-- incubation records, social workers, and organisations' change requests.
CREATE TABLE streets (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL UNIQUE
);

CREATE TABLE communities (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    street_id BIGINT NOT NULL REFERENCES streets (id),
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    grid_count INTEGER NOT NULL DEFAULT 0 CHECK (grid_count >= 0),
    UNIQUE (street_id, name)
);
CREATE INDEX communities_street_id_idx ON communities (street_id);

-- kind: social_group 社会团体, private_non_enterprise 民办非企业单位/社会服务机构, foundation 基金会,
-- community_group 备案社区社会组织, enterprise, other.
-- registration: registered (has a credit code), filed (备案 only), unregistered (a group in incubation).
CREATE TABLE organisations (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('social_group', 'private_non_enterprise', 'foundation', 'community_group', 'enterprise', 'other')),
    registration TEXT NOT NULL CHECK (registration IN ('registered', 'filed', 'unregistered')),
    credit_code TEXT UNIQUE,
    registered_on DATE,
    registration_authority TEXT,
    legal_representative TEXT,
    contact_name TEXT,
    contact_phone TEXT,
    contact_email TEXT,
    address TEXT,
    street_id BIGINT REFERENCES streets (id),
    staff_count INTEGER NOT NULL DEFAULT 0 CHECK (staff_count >= 0),
    volunteer_count INTEGER NOT NULL DEFAULT 0 CHECK (volunteer_count >= 0),
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    CHECK (registration <> 'registered' OR credit_code IS NOT NULL)
);
CREATE INDEX organisations_street_id_idx ON organisations (street_id);
CREATE INDEX organisations_name_idx ON organisations (name);

-- Service fields: elderly, youth, disability, relief, community_governance, mediation, …
CREATE TABLE organisation_fields (
    organisation_id BIGINT NOT NULL REFERENCES organisations (id),
    field TEXT NOT NULL,
    PRIMARY KEY (organisation_id, field)
);
CREATE INDEX organisation_fields_field_idx ON organisation_fields (field);

CREATE TABLE organisation_areas (
    organisation_id BIGINT NOT NULL REFERENCES organisations (id),
    street_id BIGINT NOT NULL REFERENCES streets (id),
    PRIMARY KEY (organisation_id, street_id)
);
CREATE INDEX organisation_areas_street_id_idx ON organisation_areas (street_id);

-- 等级评估: grade 1–5 (1A–5A), valid five years from the award date.
CREATE TABLE organisation_ratings (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    organisation_id BIGINT NOT NULL REFERENCES organisations (id),
    grade INTEGER NOT NULL CHECK (grade BETWEEN 1 AND 5),
    awarded_on DATE NOT NULL,
    expires_on DATE NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX organisation_ratings_organisation_id_idx ON organisation_ratings (organisation_id);

-- 年检 / 年报: one per organisation and year.
CREATE TABLE organisation_inspections (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    organisation_id BIGINT NOT NULL REFERENCES organisations (id),
    year INTEGER NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('inspection', 'annual_report')),
    conclusion TEXT NOT NULL CHECK (conclusion IN ('pass', 'basic_pass', 'fail')),
    decided_on DATE NOT NULL,
    created_at TIMESTAMP NOT NULL,
    UNIQUE (organisation_id, year)
);

-- list: dishonesty 严重违法失信名单, court_defaulter 失信被执行人, debarment 政府采购禁入, abnormal 活动异常名录.
CREATE TABLE credit_listings (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    organisation_id BIGINT NOT NULL REFERENCES organisations (id),
    list TEXT NOT NULL CHECK (list IN ('dishonesty', 'court_defaulter', 'debarment', 'abnormal')),
    source TEXT NOT NULL,
    listed_on DATE NOT NULL,
    removed_on DATE,
    evidence_sha256 TEXT NOT NULL CHECK (length(evidence_sha256) = 64),
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX credit_listings_organisation_id_idx ON credit_listings (organisation_id);

-- Incubation bases: city bases have no parent; every other level has a parent one level up.
CREATE TABLE bases (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    level TEXT NOT NULL CHECK (level IN ('city', 'district', 'street', 'community')),
    parent_id BIGINT REFERENCES bases (id),
    street_id BIGINT REFERENCES streets (id),
    community_id BIGINT REFERENCES communities (id),
    operator_id BIGINT REFERENCES organisations (id),
    seats INTEGER NOT NULL DEFAULT 0 CHECK (seats >= 0),
    address TEXT,
    contact_name TEXT,
    contact_phone TEXT,
    onsite BOOLEAN NOT NULL DEFAULT 1,
    virtual_mode BOOLEAN NOT NULL DEFAULT 0,
    -- Comma-separated catalogue keys: office_space, training, coaching, financial_custody, registration_help, small_grants, …
    services TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    CHECK ((level = 'city') = (parent_id IS NULL))
);
CREATE INDEX bases_parent_id_idx ON bases (parent_id);
CREATE INDEX bases_street_id_idx ON bases (street_id);
CREATE INDEX bases_community_id_idx ON bases (community_id);
CREATE INDEX bases_operator_id_idx ON bases (operator_id);

-- An organisation, or a group not yet registered (group_name), in a base.
-- state: applied → admitted | rejected; admitted → incubating; incubating → renewed | graduated | exited;
-- renewed → graduated | exited.
CREATE TABLE incubations (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    base_id BIGINT NOT NULL REFERENCES bases (id),
    organisation_id BIGINT REFERENCES organisations (id),
    group_name TEXT,
    state TEXT NOT NULL CHECK (state IN ('applied', 'admitted', 'rejected', 'incubating', 'renewed', 'graduated', 'exited')),
    mode TEXT CHECK (mode IN ('onsite', 'virtual')),
    stage TEXT CHECK (stage IN ('gestation', 'sprouting', 'startup')),
    applied_on DATE NOT NULL,
    decision_due DATE NOT NULL,
    decided_on DATE,
    reject_reason TEXT,
    start_on DATE,
    planned_end DATE,
    graduated_on DATE,
    checklist TEXT,
    exited_on DATE,
    exit_reason TEXT,
    space_return_due DATE,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    CHECK (organisation_id IS NOT NULL OR group_name IS NOT NULL)
);
CREATE INDEX incubations_base_id_idx ON incubations (base_id);
CREATE INDEX incubations_organisation_id_idx ON incubations (organisation_id);
CREATE INDEX incubations_state_idx ON incubations (state);

-- Identity numbers are kept only as a keyed hash (HMAC-SHA-256 with the beneficiary secret).
CREATE TABLE social_workers (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    organisation_id BIGINT NOT NULL REFERENCES organisations (id),
    name TEXT NOT NULL,
    id_hash TEXT UNIQUE,
    phone TEXT,
    certificate_level TEXT NOT NULL CHECK (certificate_level IN ('none', 'assistant', 'social_worker', 'senior')),
    certificate_number TEXT UNIQUE,
    certified_on DATE,
    employment TEXT NOT NULL CHECK (employment IN ('full_time', 'part_time', 'left')),
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    CHECK (certificate_level = 'none' OR certificate_number IS NOT NULL)
);
CREATE INDEX social_workers_organisation_id_idx ON social_workers (organisation_id);

CREATE TABLE social_worker_streets (
    social_worker_id BIGINT NOT NULL REFERENCES social_workers (id),
    street_id BIGINT NOT NULL REFERENCES streets (id),
    PRIMARY KEY (social_worker_id, street_id)
);
CREATE INDEX social_worker_streets_street_id_idx ON social_worker_streets (street_id);

-- An org user's change of name, kind or credit code waits for the bureau.
CREATE TABLE change_requests (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    organisation_id BIGINT NOT NULL REFERENCES organisations (id),
    requested_by BIGINT NOT NULL REFERENCES users (id),
    changes TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'rejected')),
    decided_by BIGINT REFERENCES users (id),
    decided_at TIMESTAMP,
    reason TEXT,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX change_requests_organisation_id_idx ON change_requests (organisation_id);
CREATE INDEX change_requests_requested_by_idx ON change_requests (requested_by);
CREATE INDEX change_requests_decided_by_idx ON change_requests (decided_by);

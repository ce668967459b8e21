-- 单一来源 (政府采购法 Art 31; 实施条例 Art 38; 财政部令第74号 Art 38–42). Tables of their own: `tenders` is at
-- diesel's 32 columns.

-- The lawful ground and the explanation a single source is drafted with, and, from its publication when the
-- budget is at or above the open-tender threshold, its public notice (公示) of at least 5 working days.
CREATE TABLE single_source_notices (
    tender_id BIGINT PRIMARY KEY REFERENCES tenders (id),
    ground TEXT NOT NULL CHECK (ground IN ('only_supplier', 'emergency', 'consistency')),
    explanation TEXT NOT NULL,
    notice_starts TIMESTAMP,
    notice_ends TIMESTAMP
);

-- Objections (异议) to a 公示, each answered by the bureau (upheld or not) before the procurement goes on.
CREATE TABLE single_source_objections (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    tender_id BIGINT NOT NULL REFERENCES tenders (id),
    organisation_id BIGINT NOT NULL REFERENCES organisations (id),
    filed_by BIGINT NOT NULL REFERENCES users (id),
    reason TEXT NOT NULL,
    filed_at TIMESTAMP NOT NULL,
    answer TEXT,
    upheld BOOLEAN,
    answered_by BIGINT REFERENCES users (id),
    answered_at TIMESTAMP,
    CHECK ((answer IS NULL) = (upheld IS NULL))
);
CREATE INDEX single_source_objections_tender_id_idx ON single_source_objections (tender_id);
CREATE INDEX single_source_objections_organisation_id_idx ON single_source_objections (organisation_id);
CREATE INDEX single_source_objections_filed_by_idx ON single_source_objections (filed_by);
CREATE INDEX single_source_objections_answered_by_idx ON single_source_objections (answered_by);

-- The negotiation record (协商情况记录, 74号令 Art 42): it replaces the evaluation; the award carries its price.
CREATE TABLE single_source_records (
    tender_id BIGINT PRIMARY KEY REFERENCES tenders (id),
    negotiated_on DATE NOT NULL,
    place TEXT NOT NULL,
    staff TEXT NOT NULL,
    cost_explanation TEXT NOT NULL,
    terms TEXT NOT NULL,
    price_fen BIGINT NOT NULL CHECK (price_fen > 0),
    recorded_by BIGINT NOT NULL REFERENCES users (id),
    recorded_at TIMESTAMP NOT NULL
);
CREATE INDEX single_source_records_recorded_by_idx ON single_source_records (recorded_by);

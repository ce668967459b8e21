-- Related suppliers (政府采购法实施条例 Art 18): two organisations under the same responsible person, or one
-- directly controlling or managing the other, may not both bid on one tender. The bureau records each link
-- once: the pair in a canonical order (smaller id first), so A–B and B–A are the same row and the primary
-- key refuses a second. Ending a link deletes its row; the audit trail keeps what it was.
CREATE TABLE organisation_links (
    organisation_a BIGINT NOT NULL REFERENCES organisations (id),
    organisation_b BIGINT NOT NULL REFERENCES organisations (id),
    kind TEXT NOT NULL CHECK (kind IN ('same_responsible_person', 'control')),
    note TEXT NOT NULL,
    recorded_by BIGINT NOT NULL REFERENCES users (id),
    recorded_at TIMESTAMP NOT NULL,
    PRIMARY KEY (organisation_a, organisation_b),
    CHECK (organisation_a < organisation_b)
);
CREATE INDEX organisation_links_b_idx ON organisation_links (organisation_b);
CREATE INDEX organisation_links_recorded_by_idx ON organisation_links (recorded_by);

-- A winner that refused to sign the contract, or did not sign within 30 days of the award letter
-- (政府采购法 Art 46; 实施条例 Art 43; 87号令 Art 68): the award passed on. The bid itself becomes
-- 'withdrawn' (it left the procurement), and this row says why. A status of its own would mean widening the
-- CHECK on bids.status, which SQLite can only do by rebuilding `bids` while five tables point at it; a
-- separate row changes no existing table and keeps the reason with who recorded it and when.
CREATE TABLE award_refusals (
    bid_id BIGINT PRIMARY KEY REFERENCES bids (id),
    tender_id BIGINT NOT NULL REFERENCES tenders (id),
    kind TEXT NOT NULL CHECK (kind IN ('refused', 'lapsed')),
    reason TEXT NOT NULL,
    recorded_by BIGINT NOT NULL REFERENCES users (id),
    recorded_at TIMESTAMP NOT NULL
);
CREATE INDEX award_refusals_tender_id_idx ON award_refusals (tender_id);
CREATE INDEX award_refusals_recorded_by_idx ON award_refusals (recorded_by);

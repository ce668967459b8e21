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

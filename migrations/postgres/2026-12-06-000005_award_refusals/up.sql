-- A winner that refuses to sign the contract, or lets the 30-day clock of 政府采购法 Art 46 run out
-- (实施条例 Art 43; 87号令 Art 68): the award passes to the next-ranked valid bid.
-- The bid itself is set to 'withdrawn' (the bids CHECK constraint stays as it is: rebuilding `bids` on SQLite
-- to add a status would copy every bid and its foreign keys for one label); this row keeps the refusal as a
-- fact of its own (who recorded it, when, why), so the bid reads "refused to sign", not "withdrawn".
-- A bid is refused at most once.
CREATE TABLE award_refusals (
    tender_id BIGINT NOT NULL REFERENCES tenders (id),
    bid_id BIGINT PRIMARY KEY REFERENCES bids (id),
    reason TEXT NOT NULL,
    recorded_by BIGINT NOT NULL REFERENCES users (id),
    recorded_at TIMESTAMP NOT NULL
);
CREATE INDEX award_refusals_tender_id_idx ON award_refusals (tender_id);
CREATE INDEX award_refusals_recorded_by_idx ON award_refusals (recorded_by);

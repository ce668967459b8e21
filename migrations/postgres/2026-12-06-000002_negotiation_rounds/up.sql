-- 竞争性谈判 (财政部令第74号). Tables of their own: `tenders` is at diesel's 32 columns.

-- A negotiation moved here after a failed open tender (74号令 Art 27; 财库〔2015〕124号): then two
-- responses suffice. One row per negotiation; a failed open tender is moved at most once.
CREATE TABLE negotiation_origins (
    tender_id BIGINT PRIMARY KEY REFERENCES tenders (id),
    failed_tender_id BIGINT NOT NULL UNIQUE REFERENCES tenders (id),
    recorded_at TIMESTAMP NOT NULL,
    actor_name TEXT NOT NULL,
    CHECK (failed_tender_id <> tender_id)
);

-- The panel's decision whether a response is substantially compliant (实质性响应), with its reason.
CREATE TABLE bid_compliance (
    bid_id BIGINT PRIMARY KEY REFERENCES bids (id),
    tender_id BIGINT NOT NULL REFERENCES tenders (id),
    compliant BOOLEAN NOT NULL,
    reason TEXT NOT NULL,
    decided_by BIGINT NOT NULL REFERENCES users (id),
    decided_at TIMESTAMP NOT NULL
);
CREATE INDEX bid_compliance_tender_id_idx ON bid_compliance (tender_id);
CREATE INDEX bid_compliance_decided_by_idx ON bid_compliance (decided_by);

-- The rounds of negotiation, numbered from 1; the one marked final holds the final quotes (74号令 Art 33).
CREATE TABLE negotiation_rounds (
    tender_id BIGINT NOT NULL REFERENCES tenders (id),
    round INTEGER NOT NULL CHECK (round >= 1),
    final BOOLEAN NOT NULL,
    recorded_by BIGINT NOT NULL REFERENCES users (id),
    recorded_at TIMESTAMP NOT NULL,
    PRIMARY KEY (tender_id, round)
);
CREATE INDEX negotiation_rounds_recorded_by_idx ON negotiation_rounds (recorded_by);

-- Each compliant supplier's quote in a round (fen), or none when it declined to quote again (it keeps its
-- last), and the note of the round's talk with it. Written with its round (negotiation_rounds) in one
-- transaction.
CREATE TABLE negotiation_quotes (
    bid_id BIGINT NOT NULL REFERENCES bids (id),
    round INTEGER NOT NULL,
    tender_id BIGINT NOT NULL REFERENCES tenders (id),
    price_fen BIGINT CHECK (price_fen IS NULL OR price_fen > 0),
    note TEXT NOT NULL,
    PRIMARY KEY (bid_id, round)
);
CREATE INDEX negotiation_quotes_tender_round_idx ON negotiation_quotes (tender_id, round);

-- Bids commit field by field (domain::commitment, scheme 2) so the public can check bidder and price after
-- opening without reading plan, budget or staff. Bids sealed before this were committed whole (scheme 1).
ALTER TABLE bids ADD COLUMN commit_scheme INTEGER NOT NULL DEFAULT 1 CHECK (commit_scheme IN (1, 2));

-- Each panel seat is an expert (评审专家) or the buyer's representative (采购人代表); representatives are at
-- most a third of the panel (87号令 Art 47). Seats from before this migration were all experts.
ALTER TABLE panel_members ADD COLUMN seat TEXT NOT NULL DEFAULT 'expert' CHECK (seat IN ('expert', 'buyer_rep'));

-- The random draws of experts from the pool (实施条例 Art 39; 87号令 Art 48): the seed, the candidates and
-- who was drawn (JSON arrays of user ids), so anyone can recompute a draw from the seed.
CREATE TABLE panel_draws (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    tender_id BIGINT NOT NULL REFERENCES tenders (id),
    drawn_at TIMESTAMP NOT NULL,
    seed TEXT NOT NULL CHECK (length(seed) = 64),
    candidates TEXT NOT NULL,
    drawn TEXT NOT NULL,
    actor_name TEXT NOT NULL
);
CREATE INDEX panel_draws_tender_id_idx ON panel_draws (tender_id);

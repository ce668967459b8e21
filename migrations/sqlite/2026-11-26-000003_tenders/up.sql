-- Tenders (政府购买服务): the notice, its areas, the timeline, enquiries, sealed bids, the evaluation panel
-- and its scores, and challenges. Structured tender terms (eligibility, criteria, targets, instalments,
-- invited organisations, communities) are JSON text: they are read and written whole with the tender.
CREATE TABLE tenders (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    code TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL,
    description TEXT NOT NULL,
    field TEXT NOT NULL,
    communities TEXT NOT NULL DEFAULT '[]',
    budget_fen BIGINT NOT NULL CHECK (budget_fen > 0),
    method TEXT NOT NULL CHECK (method IN ('open', 'invited', 'consultation', 'negotiation', 'single_source')),
    term_months INTEGER NOT NULL CHECK (term_months BETWEEN 1 AND 36),
    term_reason TEXT,
    eligibility TEXT NOT NULL,
    criteria TEXT NOT NULL,
    targets TEXT NOT NULL,
    instalments TEXT NOT NULL,
    invited TEXT NOT NULL DEFAULT '[]',
    state TEXT NOT NULL CHECK (state IN ('draft', 'published', 'closed', 'opened', 'evaluating', 'evaluated', 'award_proposed', 'publicity', 'challenge', 'awarded', 'contracted', 'cancelled', 'failed')),
    published_at TIMESTAMP,
    enquiry_deadline TIMESTAMP NOT NULL,
    bid_deadline TIMESTAMP NOT NULL,
    opening_at TIMESTAMP NOT NULL,
    evaluated_at TIMESTAMP,
    publicity_ends TIMESTAMP,
    challenge_ends TIMESTAMP,
    award_bid_id BIGINT,
    award_reason TEXT,
    awarded_at TIMESTAMP,
    contract_signed_on DATE,
    end_reason TEXT,
    created_by BIGINT NOT NULL REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    CHECK (enquiry_deadline <= bid_deadline AND bid_deadline <= opening_at)
);
CREATE INDEX tenders_created_by_idx ON tenders (created_by);
CREATE INDEX tenders_state_idx ON tenders (state);
CREATE INDEX tenders_field_idx ON tenders (field);
CREATE INDEX tenders_award_bid_id_idx ON tenders (award_bid_id);

CREATE TABLE tender_streets (
    tender_id BIGINT NOT NULL REFERENCES tenders (id),
    street_id BIGINT NOT NULL REFERENCES streets (id),
    PRIMARY KEY (tender_id, street_id)
);
CREATE INDEX tender_streets_street_id_idx ON tender_streets (street_id);

-- The public timeline: one row per state change (and deadline move), next to the audit event.
CREATE TABLE tender_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    tender_id BIGINT NOT NULL REFERENCES tenders (id),
    at TIMESTAMP NOT NULL,
    from_state TEXT,
    to_state TEXT NOT NULL,
    note TEXT,
    actor_name TEXT NOT NULL
);
CREATE INDEX tender_events_tender_id_idx ON tender_events (tender_id);

CREATE TABLE enquiries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    tender_id BIGINT NOT NULL REFERENCES tenders (id),
    organisation_id BIGINT NOT NULL REFERENCES organisations (id),
    asked_by BIGINT NOT NULL REFERENCES users (id),
    question TEXT NOT NULL,
    asked_at TIMESTAMP NOT NULL,
    answer TEXT,
    answered_at TIMESTAMP,
    answered_by BIGINT REFERENCES users (id)
);
CREATE INDEX enquiries_tender_id_idx ON enquiries (tender_id);
CREATE INDEX enquiries_organisation_id_idx ON enquiries (organisation_id);
CREATE INDEX enquiries_asked_by_idx ON enquiries (asked_by);
CREATE INDEX enquiries_answered_by_idx ON enquiries (answered_by);

-- A bid. Until opening its content lives only in `sealed` (AEAD ciphertext under a key derived from the
-- server's seal secret); `commitment` = SHA-256(canonical bytes ‖ nonce). At opening `opened_json`,
-- `commit_nonce` and `price_fen` are filled in from the decrypted content. `id` is the receipt sequence.
-- status: active, replaced, withdrawn, disqualified.
CREATE TABLE bids (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    tender_id BIGINT NOT NULL REFERENCES tenders (id),
    organisation_id BIGINT NOT NULL REFERENCES organisations (id),
    submitted_by BIGINT NOT NULL REFERENCES users (id),
    status TEXT NOT NULL CHECK (status IN ('active', 'replaced', 'withdrawn', 'disqualified')),
    submitted_at TIMESTAMP NOT NULL,
    idem_key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    sealed BLOB NOT NULL,
    seal_nonce BLOB NOT NULL,
    commitment TEXT NOT NULL,
    opened_json TEXT,
    commit_nonce TEXT,
    price_fen BIGINT,
    status_reason TEXT,
    UNIQUE (organisation_id, idem_key)
);
CREATE INDEX bids_tender_id_idx ON bids (tender_id);
CREATE INDEX bids_submitted_by_idx ON bids (submitted_by);
CREATE UNIQUE INDEX bids_one_active ON bids (tender_id, organisation_id) WHERE status = 'active';

-- The panel. declaration: NULL (not yet declared), none (no conflict), conflict (recused).
CREATE TABLE panel_members (
    tender_id BIGINT NOT NULL REFERENCES tenders (id),
    user_id BIGINT NOT NULL REFERENCES users (id),
    added_at TIMESTAMP NOT NULL,
    declaration TEXT CHECK (declaration IN ('none', 'conflict')),
    declaration_note TEXT,
    declared_at TIMESTAMP,
    submitted_at TIMESTAMP,
    PRIMARY KEY (tender_id, user_id)
);
CREATE INDEX panel_members_user_id_idx ON panel_members (user_id);

-- Scores in hundredths of a point, so they stay exact on both backends.
CREATE TABLE bid_scores (
    bid_id BIGINT NOT NULL REFERENCES bids (id),
    evaluator_id BIGINT NOT NULL REFERENCES users (id),
    criterion TEXT NOT NULL,
    points_centi BIGINT NOT NULL CHECK (points_centi >= 0),
    PRIMARY KEY (bid_id, evaluator_id, criterion)
);
CREATE INDEX bid_scores_evaluator_id_idx ON bid_scores (evaluator_id);

-- status: open, upheld, rejected.
CREATE TABLE challenges (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    tender_id BIGINT NOT NULL REFERENCES tenders (id),
    organisation_id BIGINT NOT NULL REFERENCES organisations (id),
    filed_by BIGINT NOT NULL REFERENCES users (id),
    grounds TEXT NOT NULL,
    filed_at TIMESTAMP NOT NULL,
    answer_due DATE NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('open', 'upheld', 'rejected')),
    answer TEXT,
    answered_at TIMESTAMP,
    answered_by BIGINT REFERENCES users (id)
);
CREATE INDEX challenges_tender_id_idx ON challenges (tender_id);
CREATE INDEX challenges_organisation_id_idx ON challenges (organisation_id);
CREATE INDEX challenges_filed_by_idx ON challenges (filed_by);
CREATE INDEX challenges_answered_by_idx ON challenges (answered_by);

-- What links an evaluator to an organisation (employment, board seat, relative): the panel refuses an
-- evaluator linked to a bidder. relation: employee, board, volunteer, relative, other.
CREATE TABLE evaluator_links (
    user_id BIGINT NOT NULL REFERENCES users (id),
    organisation_id BIGINT NOT NULL REFERENCES organisations (id),
    relation TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (user_id, organisation_id)
);
CREATE INDEX evaluator_links_organisation_id_idx ON evaluator_links (organisation_id);

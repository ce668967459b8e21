-- Contracts (issue 10; docs/CONTRACTS.md): created by the bureau from a final award, signed (the commitment
-- entry), accepted milestone by milestone (accruals), paid instalment by instalment (disbursements), and
-- the organisation's spending reported against the contract's budget lines. Amounts are BIGINT fen.
CREATE TABLE contracts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    tender_id BIGINT NOT NULL UNIQUE REFERENCES tenders (id),
    bid_id BIGINT NOT NULL REFERENCES bids (id),
    organisation_id BIGINT NOT NULL REFERENCES organisations (id),
    appropriation_id BIGINT REFERENCES appropriations (id),
    contract_no TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL,
    amount_fen BIGINT NOT NULL CHECK (amount_fen > 0),
    term_start DATE NOT NULL,
    term_end DATE NOT NULL,
    budget_lines TEXT NOT NULL,
    targets TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('draft', 'signed', 'in_progress', 'midterm_accepted', 'final_accepted', 'closed', 'terminated')),
    awarded_on DATE NOT NULL,
    signed_on DATE,
    notice_on DATE,
    signed_by BIGINT REFERENCES users (id),
    end_reason TEXT,
    ended_on DATE,
    created_by BIGINT NOT NULL REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    CHECK (term_end >= term_start)
);
CREATE INDEX contracts_bid ON contracts (bid_id);
CREATE INDEX contracts_organisation ON contracts (organisation_id, state);
CREATE INDEX contracts_appropriation ON contracts (appropriation_id);
CREATE INDEX contracts_signed_by ON contracts (signed_by);
CREATE INDEX contracts_created_by ON contracts (created_by);

CREATE TABLE contract_instalments (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    contract_id BIGINT NOT NULL REFERENCES contracts (id),
    no INTEGER NOT NULL,
    milestone TEXT NOT NULL,
    pct TEXT NOT NULL,
    amount_fen BIGINT NOT NULL CHECK (amount_fen >= 0),
    on_signing BOOLEAN NOT NULL DEFAULT 0,
    accepted_on DATE,
    score TEXT,
    grade TEXT,
    evaluator TEXT,
    report_sha256 TEXT,
    accepted_by BIGINT REFERENCES users (id),
    accepted_at TIMESTAMP,
    UNIQUE (contract_id, no)
);
CREATE INDEX contract_instalments_accepted_by ON contract_instalments (accepted_by);

-- One payment per instalment (the UNIQUE answers a concurrent second payment with 409); append-only.
CREATE TABLE payments (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    contract_id BIGINT NOT NULL REFERENCES contracts (id),
    instalment_id BIGINT NOT NULL UNIQUE REFERENCES contract_instalments (id),
    amount_fen BIGINT NOT NULL CHECK (amount_fen > 0),
    voucher_no TEXT NOT NULL UNIQUE,
    paid_on DATE NOT NULL,
    idem_key TEXT NOT NULL UNIQUE,
    request_hash TEXT NOT NULL,
    ledger_seq BIGINT NOT NULL REFERENCES ledger_entries (seq),
    paid_by BIGINT NOT NULL REFERENCES users (id),
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX payments_contract ON payments (contract_id);
CREATE INDEX payments_paid_by ON payments (paid_by);
CREATE INDEX payments_ledger_seq ON payments (ledger_seq);
CREATE TRIGGER payments_no_update BEFORE UPDATE ON payments
BEGIN
    SELECT RAISE(ABORT, 'payments is append-only: UPDATE refused');
END;
CREATE TRIGGER payments_no_delete BEFORE DELETE ON payments
BEGIN
    SELECT RAISE(ABORT, 'payments is append-only: DELETE refused');
END;

-- The organisation's spending against the contract's budget lines; finance reviews each item.
CREATE TABLE spending_items (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    contract_id BIGINT NOT NULL REFERENCES contracts (id),
    line TEXT NOT NULL,
    spent_on DATE NOT NULL,
    amount_fen BIGINT NOT NULL CHECK (amount_fen > 0),
    invoice_no TEXT NOT NULL,
    invoice_key TEXT NOT NULL,
    payee TEXT NOT NULL,
    description TEXT NOT NULL,
    evidence_sha256 TEXT,
    state TEXT NOT NULL CHECK (state IN ('submitted', 'accepted', 'rejected', 'queried', 'answered')),
    review_note TEXT,
    reviewed_by BIGINT REFERENCES users (id),
    reviewed_at TIMESTAMP,
    answer TEXT,
    answered_at TIMESTAMP,
    created_by BIGINT NOT NULL REFERENCES users (id),
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX spending_items_contract ON spending_items (contract_id, spent_on);
CREATE INDEX spending_items_invoice ON spending_items (invoice_key);
CREATE INDEX spending_items_reviewed_by ON spending_items (reviewed_by);
CREATE INDEX spending_items_created_by ON spending_items (created_by);

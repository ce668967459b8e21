-- The fund ledger (docs/LEDGER.md): budget appropriations (预算指标) and the double-entry journal.
-- Amounts are BIGINT fen; a debit is positive, a credit negative. Entries and postings are append-only
-- (triggers); a correction is a reversal entry. Each entry's hash covers the previous entry's hash and the
-- entry's canonical bytes with its postings (crate::chain), so `sanshe verify` finds any edit.
CREATE TABLE appropriations (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    year INTEGER NOT NULL,
    fund TEXT NOT NULL,
    field TEXT,
    amount_fen BIGINT NOT NULL CHECK (amount_fen > 0),
    document_no TEXT NOT NULL,
    note TEXT NOT NULL DEFAULT '',
    entry_date DATE NOT NULL,
    idem_key TEXT NOT NULL UNIQUE,
    request_hash TEXT NOT NULL,
    created_by BIGINT NOT NULL REFERENCES users (id),
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX appropriations_created_by ON appropriations (created_by);
CREATE INDEX appropriations_year_fund ON appropriations (year, fund, field);

CREATE TABLE ledger_entries (
    seq BIGINT PRIMARY KEY,
    entry_date DATE NOT NULL,
    posted_at TIMESTAMP NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('appropriation', 'reservation', 'release', 'commitment', 'accrual', 'disbursement', 'reversal')),
    memo TEXT NOT NULL,
    appropriation_id BIGINT REFERENCES appropriations (id),
    tender_id BIGINT REFERENCES tenders (id),
    contract_id BIGINT,
    instalment_id BIGINT,
    reverses_seq BIGINT UNIQUE REFERENCES ledger_entries (seq),
    idem_key TEXT NOT NULL UNIQUE,
    request_hash TEXT NOT NULL,
    author_id BIGINT REFERENCES users (id),
    author_name TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX ledger_entries_appropriation ON ledger_entries (appropriation_id);
CREATE INDEX ledger_entries_tender ON ledger_entries (tender_id);
CREATE INDEX ledger_entries_contract ON ledger_entries (contract_id);
CREATE INDEX ledger_entries_author ON ledger_entries (author_id);

CREATE TABLE ledger_postings (
    entry_seq BIGINT NOT NULL REFERENCES ledger_entries (seq),
    line INTEGER NOT NULL,
    account TEXT NOT NULL,
    amount_fen BIGINT NOT NULL CHECK (amount_fen <> 0),
    PRIMARY KEY (entry_seq, line)
);
CREATE INDEX ledger_postings_account ON ledger_postings (account);

-- One row per account, updated in the transaction of every entry: the trial balance is a read.
CREATE TABLE ledger_balances (
    account TEXT PRIMARY KEY,
    balance_fen BIGINT NOT NULL,
    postings BIGINT NOT NULL,
    last_seq BIGINT NOT NULL
);

CREATE TRIGGER ledger_entries_no_update BEFORE UPDATE ON ledger_entries
BEGIN
    SELECT RAISE(ABORT, 'ledger_entries is append-only: UPDATE refused');
END;
CREATE TRIGGER ledger_entries_no_delete BEFORE DELETE ON ledger_entries
BEGIN
    SELECT RAISE(ABORT, 'ledger_entries is append-only: DELETE refused');
END;
CREATE TRIGGER ledger_postings_no_update BEFORE UPDATE ON ledger_postings
BEGIN
    SELECT RAISE(ABORT, 'ledger_postings is append-only: UPDATE refused');
END;
CREATE TRIGGER ledger_postings_no_delete BEFORE DELETE ON ledger_postings
BEGIN
    SELECT RAISE(ABORT, 'ledger_postings is append-only: DELETE refused');
END;

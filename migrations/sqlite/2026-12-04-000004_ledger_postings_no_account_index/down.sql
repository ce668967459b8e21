CREATE INDEX ledger_postings_account ON ledger_postings (account);

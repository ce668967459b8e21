DROP TRIGGER ledger_postings_no_delete;
DROP TRIGGER ledger_postings_no_update;
DROP TRIGGER ledger_entries_no_delete;
DROP TRIGGER ledger_entries_no_update;
DROP TABLE ledger_balances;
DROP TABLE ledger_postings;
DROP TABLE ledger_entries;
DROP TABLE appropriations;

DROP TABLE ledger_balances;
DROP TABLE ledger_postings;
DROP TABLE ledger_entries;
DROP TABLE appropriations;
DROP FUNCTION ledger_refuse_change();

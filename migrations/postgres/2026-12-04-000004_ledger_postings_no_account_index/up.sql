-- Nothing reads postings by account: an account's total is its row in ledger_balances, and a tender's or a
-- contract's postings are found through their entries (ledger_entries_tender, ledger_entries_contract, then
-- the postings' primary key). The index only cost writes: with some 780 accounts each insert lands at one of
-- 780 places in the tree, the costliest insert of a bulk import (docs/LEDGER.md, "Bulk import and speed").
DROP INDEX ledger_postings_account;

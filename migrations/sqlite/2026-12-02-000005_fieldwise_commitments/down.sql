ALTER TABLE bids DROP COLUMN commit_scheme;

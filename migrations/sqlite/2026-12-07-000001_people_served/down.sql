ALTER TABLE contract_instalments DROP COLUMN performance;
DROP TABLE satisfaction_surveys;
DROP TABLE participations;
DROP TABLE activities;
DROP TABLE beneficiaries;
DROP TABLE people;

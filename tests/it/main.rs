//! The one integration-test binary. Database tests run on SQLite and, with `SANSHE_TEST_PG_URL`, on
//! PostgreSQL (see `helpers::Backend`).

#![expect(
    clippy::type_complexity,
    reason = "diesel row tuples are long by nature; naming each would hide the columns"
)]

mod helpers;

mod audit;
mod auth;
mod award_refusal;
mod bid_commitments;
mod bid_files;
mod browser;
mod challenges;
mod checkpoints;
mod cli;
mod contracts;
mod documents;
mod errors;
mod evidence;
mod files;
mod home;
mod input;
mod layers;
mod ledger;
mod ledger_import;
mod ledger_tenders;
mod load_limits;
mod lost_updates;
mod mail;
mod methods;
mod migrations;
mod negotiation;
mod page_numbers;
mod page_posts;
mod pages;
mod people;
mod people_demo;
mod performance;
mod procurement_rules;
mod promises;
mod races;
mod ranking;
mod registry_bases;
mod registry_orgs;
mod related_bidders;
mod reports;
mod route_table;
mod search;
mod single_source;
mod spending;
mod standing_store;
mod tenders;
mod tenders_sealed;
mod types;
mod users;
mod work;

//! Sanshe (三社): the service a district civil-affairs bureau uses to run its incubation-base registry, buy
//! public services from social organisations, and account for every yuan.
//!
//! Architecture, outside in (layers point down; `docs/ARCHITECTURE.md` states the rule and
//! `tests/it/layers.rs` checks it): `cli` parses the command line and `config` the settings; `app` wires the
//! actix server; `api` (JSON, described by OpenAPI) and `pages` (server-rendered) are sibling thin handlers
//! on the shared `http` layer (caller extractors, CSRF, page context, sign-in); they call the services
//! (`registry`, `tenders`, `users`, `audit`, `mail`, `seed`), which take a `db::DbConn` (SQLite or
//! PostgreSQL through one diesel code path) and a small context, and return `error::AppError`; `domain`
//! holds the rules and the shared types (`Fen`, typed ids, statuses), with no I/O. Every state change writes
//! an `audit` event and any `mail` in the same transaction. The audit trail is a hash chain (`chain`, which
//! shared by the fund `ledger`, a double-entry journal in fen); keyed retries go through `idempotency`. `clock` is injected so tests can
//! move time.

pub mod api;
pub mod app;
pub mod audit;
pub mod auth;
pub mod chain;
pub mod cli;
pub mod clock;
pub mod config;
pub mod contracts;
pub mod db;
pub mod domain;
pub mod error;
pub mod files;
pub mod http;
pub mod i18n;
pub mod idempotency;
pub mod ledger;
pub mod mail;
pub mod money;
pub mod pages;
pub mod pdf;
pub mod people;
pub mod registry;
pub mod reports;
pub mod seed;
pub mod tasks;
pub mod tenders;
pub mod users;
pub mod version;

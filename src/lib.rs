//! Sanshe (三社): the service a district civil-affairs bureau uses to run its incubation-base registry, buy
//! public services from social organisations, and account for every yuan.
//!
//! Architecture, outside in: `cli` parses the command line and `config` the settings; `app` wires the actix
//! server: `routes` (JSON API, described by OpenAPI) and `web` (server-rendered pages) are thin handlers
//! that authorise through `auth` extractors and call model functions (`users`, `audit`, `mail`), which take
//! a `db::DbConn` (SQLite or PostgreSQL through one diesel code path) and return `error::AppError`. Every
//! state change writes an `audit` event and any `mail` in the same transaction. The audit trail is a hash
//! chain (`chain`, which the fund ledger will share); keyed retries go through `idempotency`; `domain` holds
//! the rules and the shared types (`Fen`, typed ids, statuses). `clock` is injected so tests can move time.
//! See `docs/ARCHITECTURE.md` for a request walked end to end.

pub mod api;
pub mod app;
pub mod audit;
pub mod auth;
pub mod chain;
pub mod cli;
pub mod clock;
pub mod config;
pub mod db;
pub mod domain;
pub mod error;
pub mod http;
pub mod i18n;
pub mod idempotency;
pub mod mail;
pub mod money;
pub mod pages;
pub mod registry;
pub mod seed;
pub mod tenders;
pub mod users;

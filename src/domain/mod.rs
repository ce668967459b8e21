//! Domain rules with no actix or diesel in them, each tested on its own.

pub mod bid;
pub mod calendar;
pub mod commitment;
pub mod contract;
pub mod credit_code;
pub mod dates;
pub mod facts;
pub mod files;
pub mod flags;
pub mod identity;
pub mod ids;
pub mod incubation;
pub mod ledger;
pub mod money;
pub mod people;
pub mod performance;
pub mod search;
pub mod standing;
pub mod tasks;
pub mod tender;
pub mod text;
pub mod vocab;

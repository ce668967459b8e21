//! The registry of the seed district: areas, organisations, workers, `org` accounts, bases, incubations.

pub mod areas;
pub mod bases;
pub mod incubations;
pub mod orgs;
pub mod workers;

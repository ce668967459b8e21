//! The registry of the seed district: streets and communities, organisations with their standing and social
//! workers, the `org` accounts, incubation bases and incubation records in every state.

pub mod areas;
pub mod bases;
pub mod incubations;
pub mod orgs;
pub mod workers;

//! The registry (issue: incubation-base registry): areas, organisations and their standing, incubation
//! bases and incubation records, social workers, and organisations' change requests. Model functions take a
//! `DbConn`, validate, write the change with its audit event in one transaction, and know nothing of HTTP.

pub mod areas;
pub mod bases;
pub mod changes;
pub mod import;
pub mod incubations;
pub mod orgs;
pub mod workers;

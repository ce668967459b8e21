//! Demo people served (issue 12): activities under every signed demo contract, about 50,000 distinct people
//! across the four fields and eight streets, with a few dozen people served by two providers of one field
//! in one quarter, so the bureau's flag has something to show. Made by the synthetic generator
//! (`people::synthetic`), which keeps every invariant of the schema; no name and no identity number is
//! stored, only the keyed hash of synthetic numbers.

use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::users;
use crate::error::AppError;
use crate::people::synthetic::{self, Options, Summary};

/// Activities, beneficiaries and participations for the demo's signed contracts, dated up to `now`.
pub fn seed_demo(
    conn: &mut DbConn,
    now: chrono::DateTime<chrono::Utc>,
    beneficiary_secret: &str,
) -> Result<Summary, AppError> {
    let today = crate::clock::beijing_date(now);
    let contracts = synthetic::signed_contracts(conn, today)?;
    let bureau: i64 = users::table
        .filter(users::username.eq("bureau"))
        .select(users::id)
        .first(conn)?;
    synthetic::generate(
        conn,
        beneficiary_secret,
        &contracts,
        &Options::demo(),
        now,
        bureau,
    )
}

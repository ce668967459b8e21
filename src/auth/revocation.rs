//! Signed-out tokens. A token is refused once its id (`jti`) is here; the row lives until the token would
//! have expired anyway, then the scheduler sweeps it. Ending every session of a user at once is the token
//! version's job (`users.token_version`); this ends one.

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::revoked_tokens as r;

/// Kept past the token's expiry by more than `decode_token`'s leeway.
const MARGIN_SECONDS: i64 = 60;

/// Revoke the token `jti` of `user_id`, which expires at `exp` (seconds since the epoch). Revoking twice is
/// no error.
pub fn revoke(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    jti: &str,
    user_id: i64,
    exp: i64,
) -> QueryResult<()> {
    let expires_at = DateTime::from_timestamp(exp.saturating_add(MARGIN_SECONDS), 0)
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
        .naive_utc();
    // In a write transaction, so SQLite's writers stay in the process's queue (`db::write_tx`); the insert
    // in a savepoint of its own, so a second revocation's unique violation leaves the transaction usable.
    crate::db::write_tx(conn, |c| {
        let res = c.transaction(|c| {
            diesel::insert_into(r::table)
                .values((
                    r::jti.eq(jti),
                    r::user_id.eq(user_id),
                    r::revoked_at.eq(crate::db::now_micros(now)),
                    r::expires_at.eq(expires_at),
                ))
                .execute(c)
        });
        match res {
            Ok(_)
            | Err(diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::UniqueViolation,
                _,
            )) => Ok(()),
            Err(e) => Err(e),
        }
    })
}

pub fn is_revoked(conn: &mut DbConn, jti: &str) -> QueryResult<bool> {
    r::table
        .find(jti)
        .select(r::jti)
        .first::<String>(conn)
        .optional()
        .map(|o| o.is_some())
}

/// Forget revocations of tokens that have expired; returns how many.
pub fn sweep(conn: &mut DbConn, now: DateTime<Utc>) -> QueryResult<usize> {
    crate::db::write_tx(conn, |c| {
        diesel::delete(r::table.filter(r::expires_at.lt(now.naive_utc()))).execute(c)
    })
}

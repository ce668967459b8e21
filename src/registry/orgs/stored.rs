//! The stored standing: each organisation row keeps the status `domain::standing::decide` gives it, so lists
//! filter, count and page in SQL. Every change of its inputs decides it again in the same transaction
//! ([`redecide`]); [`redecide_stale`] catches what the calendar or the rules alone change, and runs before
//! every read of stored standings and in the scheduler.

use super::views::{facts_of, load_related};
use super::*;

/// Decide the standing of these organisations again and store it with its basis.
pub fn redecide(
    conn: &mut DbConn,
    ids: &[i64],
    today: NaiveDate,
    rules: standing::Rules,
) -> QueryResult<()> {
    let basis = standing::basis(today, rules);
    for chunk in ids.chunks(500) {
        let rows: Vec<OrgRow> = o::table
            .filter(o::id.eq_any(chunk))
            .select(OrgRow::as_select())
            .load(conn)?;
        let rel = load_related(conn, chunk)?;
        for row in &rows {
            let status = standing::decide(&facts_of(row, &rel), today, rules).status;
            diesel::update(o::table.find(row.id))
                .set((
                    o::standing.eq(status.as_str()),
                    o::standing_basis.eq(&basis),
                ))
                .execute(conn)?;
        }
    }
    Ok(())
}

/// Decide again every organisation whose stored standing has another basis than today's with these rules;
/// returns how many. Cheap when nothing is stale: one indexed look-up, no write.
pub fn redecide_stale(
    conn: &mut DbConn,
    today: NaiveDate,
    rules: standing::Rules,
) -> Result<usize, AppError> {
    let basis = standing::basis(today, rules);
    // "Not equal" as two ranges: both backends answer it from the basis index in two short range scans,
    // where `<>` (with an ORDER BY) walks every row to find that none is stale.
    let stale = |conn: &mut DbConn| {
        o::table
            .filter(
                o::standing_basis
                    .lt(&basis)
                    .or(o::standing_basis.gt(&basis)),
            )
            .select(o::id)
            .limit(2000)
            .load::<i64>(conn)
    };
    if stale(conn)?.is_empty() {
        return Ok(0);
    }
    let mut n = 0;
    loop {
        // One transaction a batch: a long pass never holds the write lock for long.
        let ids = write_tx(conn, |conn| {
            let ids = stale(conn)?;
            redecide(conn, &ids, today, rules)?;
            Ok::<_, AppError>(ids)
        })?;
        if ids.is_empty() {
            return Ok(n);
        }
        n += ids.len();
    }
}

/// How many organisations stand eligible, flagged and barred.
pub fn standing_counts(
    conn: &mut DbConn,
    today: NaiveDate,
    rules: standing::Rules,
) -> Result<Vec<(standing::Status, i64)>, AppError> {
    redecide_stale(conn, today, rules)?;
    let rows: Vec<(String, i64)> = o::table
        .group_by(o::standing)
        .select((o::standing, diesel::dsl::count_star()))
        .load(conn)?;
    Ok([
        standing::Status::Eligible,
        standing::Status::Flagged,
        standing::Status::Barred,
    ]
    .into_iter()
    .map(|s| {
        let n = rows
            .iter()
            .find(|(k, _)| k == s.as_str())
            .map_or(0, |r| r.1);
        (s, n)
    })
    .collect())
}

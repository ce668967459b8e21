//! The stored standing: each organisation row keeps the status `domain::standing::decide` gives it, so lists
//! filter, count and page in SQL. Every change of its inputs decides it again in the same transaction
//! ([`redecide`]); [`redecide_stale`] catches what the calendar or the rules alone change, and runs before
//! every read of stored standings and in the scheduler. `organisation_counts` (kept by triggers) counts the
//! organisations of each registration, kind and standing, for totals that need no count over the rows.

use super::views::{facts_of, load_related};
use super::*;
use crate::db::schema::organisation_counts as oc;

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
            fold_counts(conn)?;
            return Ok(n);
        }
        n += ids.len();
    }
}

/// How many organisations stand eligible, flagged and barred (the stored counts).
pub fn standing_counts(
    conn: &mut DbConn,
    today: NaiveDate,
    rules: standing::Rules,
) -> Result<Vec<(standing::Status, i64)>, AppError> {
    redecide_stale(conn, today, rules)?;
    let rows = stored_counts(conn)?;
    Ok([
        standing::Status::Eligible,
        standing::Status::Flagged,
        standing::Status::Barred,
    ]
    .into_iter()
    .map(|s| {
        let n = rows
            .iter()
            .filter(|r| r.standing == s.as_str())
            .map(|r| r.n)
            .sum();
        (s, n)
    })
    .collect())
}

/// Organisations of one registration, kind and standing, as `organisation_counts` keeps them.
#[derive(Queryable, Selectable, Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
#[diesel(table_name = oc)]
pub struct KeyCount {
    pub registration: String,
    pub kind: String,
    pub standing: String,
    pub n: i64,
}

/// The stored counts, one row per key with its total (PostgreSQL may hold several rows of a key until
/// [`fold_counts`]: they are summed here), keys with none left out, in key order.
pub fn stored_counts(conn: &mut DbConn) -> QueryResult<Vec<KeyCount>> {
    let mut sums: BTreeMap<(String, String, String), i64> = BTreeMap::new();
    for r in oc::table.select(KeyCount::as_select()).load(conn)? {
        *sums
            .entry((r.registration, r.kind, r.standing))
            .or_default() += r.n;
    }
    Ok(sums
        .into_iter()
        .filter(|(_, n)| *n != 0)
        .map(|((registration, kind, standing), n)| KeyCount {
            registration,
            kind,
            standing,
            n,
        })
        .collect())
}

/// How many organisations have this registration, kind and standing (each `None`: any), from the stored
/// counts: a few rows read, whatever the size of the registry.
pub fn count_of(
    conn: &mut DbConn,
    registration: Option<&str>,
    kind: Option<&str>,
    standing: Option<&str>,
) -> QueryResult<i64> {
    let is = |want: Option<&str>, v: &str| want.is_none_or(|w| w == v);
    Ok(stored_counts(conn)?
        .iter()
        .filter(|r| {
            is(registration, &r.registration) && is(kind, &r.kind) && is(standing, &r.standing)
        })
        .map(|r| r.n)
        .sum())
}

/// On PostgreSQL, fold the counts' change rows into one row per key (see the migration `org_counts`), once
/// they are more than a few; returns whether it did. Run it in a transaction of its own (the scheduler's
/// pass, after an import): it waits only for another fold, so it can never be part of a deadlock. SQLite's
/// triggers keep one row per key already.
pub fn fold_counts(conn: &mut DbConn) -> QueryResult<bool> {
    let DbConn::Pg(pg) = conn else {
        return Ok(false);
    };
    let rows: i64 = oc::table.count().get_result(pg)?;
    if rows <= FOLD_ABOVE {
        return Ok(false);
    }
    diesel::sql_query(
        "WITH gone AS (DELETE FROM organisation_counts RETURNING registration, kind, standing, n) \
         INSERT INTO organisation_counts (registration, kind, standing, n) \
         SELECT registration, kind, standing, SUM(n)::bigint FROM gone \
         GROUP BY registration, kind, standing HAVING SUM(n) <> 0",
    )
    .execute(pg)?;
    Ok(true)
}

/// Change rows tolerated before a fold: about as many as there are keys, so a read sums a few dozen rows.
const FOLD_ABOVE: i64 = 64;

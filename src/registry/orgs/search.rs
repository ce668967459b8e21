//! Name and credit-code search through the term index (`domain::search`): the terms are written with every
//! name or code, and a search narrows to the organisations holding the query's rarest term before any row
//! is read, so its cost follows the matches, not the size of the registry.

use super::*;
use crate::db::schema::organisation_terms as ot;
use crate::domain::search;

/// Write an organisation's terms anew, each with the name the search pages are ordered by (inside the write
/// of its name or code, so the name a term carries is always the organisation's).
pub fn write_terms(
    conn: &mut DbConn,
    id: i64,
    name: &str,
    credit_code: Option<&str>,
) -> QueryResult<()> {
    diesel::delete(ot::table.filter(ot::organisation_id.eq(id))).execute(conn)?;
    let rows: Vec<_> = search::terms(name, credit_code)
        .into_iter()
        .map(|t| {
            (
                ot::term.eq(t),
                ot::organisation_id.eq(id),
                ot::name.eq(name),
            )
        })
        .collect();
    // One multi-row insert per backend (the multi-backend connection cannot batch); an import writes
    // some thirty terms for each organisation.
    for chunk in rows.chunks(200) {
        let chunk = chunk.to_vec();
        match conn {
            DbConn::Sqlite(c) => diesel::insert_into(ot::table).values(chunk).execute(c)?,
            DbConn::Pg(c) => diesel::insert_into(ot::table).values(chunk).execute(c)?,
        };
    }
    diesel::update(o::table.find(id))
        .set(o::search_version.eq(search::VERSION))
        .execute(conn)?;
    Ok(())
}

/// Write the terms of every organisation whose terms are missing or from another cutting (after the
/// migration, or a change of `search::VERSION`). Cheap when none is: two index range scans.
pub fn refresh_stale_terms(conn: &mut DbConn) -> Result<usize, AppError> {
    let stale = |conn: &mut DbConn| {
        o::table
            .filter(
                o::search_version
                    .lt(search::VERSION)
                    .or(o::search_version.gt(search::VERSION)),
            )
            .select((o::id, o::name, o::credit_code))
            .limit(500)
            .load::<(i64, String, Option<String>)>(conn)
    };
    if stale(conn)?.is_empty() {
        return Ok(0);
    }
    let mut n = 0;
    loop {
        // One transaction a batch, so a large registry's first search never holds the write lock long.
        let rows = write_tx(conn, |conn| {
            let rows = stale(conn)?;
            for (id, name, code) in &rows {
                write_terms(conn, *id, name, code.as_deref())?;
            }
            Ok::<_, AppError>(rows.len())
        })?;
        if rows == 0 {
            return Ok(n);
        }
        n += rows;
    }
}

/// How a text query is answered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Plan {
    /// No text query.
    All,
    /// No term both readings of the query hold (one character, or text whose credit-code reading differs,
    /// such as words with spaces): read every row.
    Scan,
    /// Organisations holding `term` (the query's rarest); when `exact`, holding it is the match itself (a
    /// two-character query), otherwise the text is checked on those candidates. `holders`: how many hold it.
    Term {
        term: String,
        exact: bool,
        holders: i64,
    },
}

/// Choose how to answer `q`, reading term counts from the index.
pub fn plan(conn: &mut DbConn, q: Option<&str>) -> Result<Plan, AppError> {
    let Some(q) = q.map(str::trim).filter(|s| !s.is_empty()) else {
        return Ok(Plan::All);
    };
    refresh_stale_terms(conn)?;
    let folded = search::fold(q);
    let code = search::fold(&crate::domain::credit_code::normalise(q));
    let name_terms = search::bigrams(&folded);
    let code_terms = search::bigrams(&code);
    // A candidate must hold a term of the name reading or of the code reading; with one term serving both
    // (the usual case: Chinese text, or a code typed plainly) one look-up covers both readings.
    let shared: Vec<&String> = name_terms.intersection(&code_terms).collect();
    if name_terms.is_empty() || code_terms.is_empty() || shared.is_empty() {
        return Ok(Plan::Scan);
    }
    let mut best: Option<(i64, String)> = None;
    for t in shared {
        let n: i64 = ot::table.filter(ot::term.eq(t)).count().get_result(conn)?;
        if best.as_ref().is_none_or(|(m, _)| n < *m) {
            best = Some((n, t.clone()));
        }
    }
    let (holders, term) = best.expect("shared is not empty");
    let exact = folded.chars().count() == 2 && folded == code;
    Ok(Plan::Term {
        term,
        exact,
        holders,
    })
}

//! Lists of organisations: the bureau's filtered list and export, the public directory, names, streets.

use super::*;
use crate::db::schema::organisation_terms as ot;

#[derive(Debug, Default, Clone, Deserialize, Serialize, utoipa::IntoParams)]
// An unknown parameter is refused (400 naming it), not silently ignored.
#[serde(deny_unknown_fields)]
pub struct OrgFilter {
    /// Part of the Chinese name, or of the credit code.
    pub q: Option<String>,
    pub kind: Option<String>,
    pub registration: Option<String>,
    /// eligible, flagged or barred
    pub status: Option<String>,
    /// A service field key.
    pub field: Option<String>,
    /// A street id: the organisation's street or one it serves.
    pub street: Option<i64>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

type Db = <DbConn as diesel::Connection>::Backend;
type OrgQuery<'a> = o::BoxedQuery<'a, Db>;
type TermQuery<'a> =
    diesel::helper_types::IntoBoxed<'a, diesel::helper_types::InnerJoin<ot::table, o::table>, Db>;

/// The text of the query, when there is one.
fn text(f: &OrgFilter) -> Option<&str> {
    f.q.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

fn given(v: &Option<String>) -> Option<&str> {
    v.as_deref().filter(|s| !s.is_empty())
}

/// The filters other than the text, as SQL on the organisation's columns (the stored standing: callers run
/// [`redecide_stale`] first; an unknown status matches nothing). A macro, as they apply to two query shapes:
/// the organisations alone, and the term index joined to them.
macro_rules! other_filters {
    ($q:expr, $f:expr) => {{
        let (mut q, f) = ($q, $f);
        if let Some(k) = given(&f.kind) {
            q = q.filter(o::kind.eq(k.to_string()));
        }
        if let Some(k) = given(&f.registration) {
            q = q.filter(o::registration.eq(k.to_string()));
        }
        if let Some(s) = given(&f.status) {
            q = q.filter(o::standing.eq(s.to_string()));
        }
        if let Some(fl) = given(&f.field) {
            q = q.filter(
                o::id.eq_any(
                    of::table
                        .filter(of::field.eq(fl.to_string()))
                        .select(of::organisation_id),
                ),
            );
        }
        if let Some(s) = f.street.filter(|s| *s > 0) {
            q = q.filter(
                o::street_id.eq(s).or(o::id.eq_any(
                    oa::table
                        .filter(oa::street_id.eq(s))
                        .select(oa::organisation_id),
                )),
            );
        }
        q
    }};
}

/// The text matched against name and code (`LIKE`), on the rows a plan could not narrow exactly.
macro_rules! text_filter {
    ($q:expr, $s:expr) => {{
        let (q, s) = ($q, $s);
        let pat = crate::db::like_pattern(s);
        let code_pat = crate::db::like_pattern(&crate::domain::credit_code::normalise(s));
        q.filter(
            crate::db::lower(o::name)
                .like(pat)
                .escape('\\')
                .or(crate::db::lower(o::credit_code.assume_not_null())
                    .like(code_pat)
                    .escape('\\')),
        )
    }};
}

/// The filter as SQL on the organisations alone: no text, or text no term narrows (`Plan::Scan`).
fn filtered(f: &OrgFilter) -> OrgQuery<'static> {
    let mut q = o::table.into_boxed();
    if let Some(s) = text(f) {
        q = text_filter!(q, s);
    }
    other_filters!(q, f)
}

/// The filter as SQL on the holders of `term`, joined to their organisations, so the page can be read in
/// the list's order (name, then id) from the index on (term, name, organisation_id).
fn by_term(f: &OrgFilter, term: &str, exact: bool) -> TermQuery<'static> {
    let mut q = ot::table
        .inner_join(o::table)
        .filter(ot::term.eq(term.to_string()))
        .into_boxed();
    if !exact && let Some(s) = text(f) {
        q = text_filter!(q, s);
    }
    other_filters!(q, f)
}

/// How many match, from what is already known when the filter allows: the stored counts (no text, field or
/// street), or the term's holders (a two-character query and nothing else); `None`: count the rows.
fn known_total(conn: &mut DbConn, f: &OrgFilter, search: &Plan) -> QueryResult<Option<i64>> {
    let narrowed = given(&f.field).is_some() || f.street.is_some_and(|s| s > 0);
    match search {
        Plan::All if !narrowed => Ok(Some(count_of(
            conn,
            given(&f.registration),
            given(&f.kind),
            given(&f.status),
        )?)),
        Plan::Term {
            exact: true,
            holders,
            ..
        } if !narrowed
            && given(&f.kind).is_none()
            && given(&f.registration).is_none()
            && given(&f.status).is_none() =>
        {
            Ok(Some(*holders))
        }
        _ => Ok(None),
    }
}

/// Rows `offset..offset + limit` (all with `None`) of the organisations matching the filter, in the list's
/// order: name, then id.
fn rows(
    conn: &mut DbConn,
    f: &OrgFilter,
    search: &Plan,
    window: Option<(i64, i64)>,
) -> QueryResult<Vec<OrgRow>> {
    match search {
        Plan::Term { term, exact, .. } => {
            let mut q = by_term(f, term, *exact).order((ot::name.asc(), ot::organisation_id.asc()));
            if let Some((limit, offset)) = window {
                q = q.limit(limit).offset(offset);
            }
            q.select(OrgRow::as_select()).load(conn)
        }
        Plan::All | Plan::Scan => {
            let mut q = filtered(f).order((o::name.asc(), o::id.asc()));
            if let Some((limit, offset)) = window {
                q = q.limit(limit).offset(offset);
            }
            q.select(OrgRow::as_select()).load(conn)
        }
    }
}

/// Every organisation as (id, name), by name: the pick list of forms that name one (an `org` user's
/// organisation in the user form).
pub fn picker(conn: &mut DbConn) -> QueryResult<Vec<(i64, String)>> {
    o::table
        .order((o::name, o::id))
        .select((o::id, o::name))
        .load(conn)
}

/// Every organisation matching the filter (no paging), with its standing; for exports.
pub fn list_all(
    conn: &mut DbConn,
    f: &OrgFilter,
    today: NaiveDate,
    rules: standing::Rules,
) -> Result<Vec<OrgView>, AppError> {
    redecide_stale(conn, today, rules)?;
    let search = plan(conn, f.q.as_deref())?;
    let rows = rows(conn, f, &search, None)?;
    views(conn, rows, today, rules)
}

/// One page of the organisations matching the filter, and how many match: filtered, counted and paged in
/// the database.
pub fn list(
    conn: &mut DbConn,
    f: &OrgFilter,
    today: NaiveDate,
    rules: standing::Rules,
) -> Result<crate::db::Paged<OrgView>, AppError> {
    let paging = crate::db::Paging::new(f.page, f.per_page);
    redecide_stale(conn, today, rules)?;
    let search = plan(conn, f.q.as_deref())?;
    let total = match known_total(conn, f, &search)? {
        Some(n) => n,
        None => match &search {
            Plan::Term { term, exact, .. } => by_term(f, term, *exact).count().get_result(conn)?,
            Plan::All | Plan::Scan => filtered(f).count().get_result(conn)?,
        },
    };
    let rows = rows(conn, f, &search, Some((paging.limit(), paging.offset())))?;
    Ok(paging.of(views(conn, rows, today, rules)?, total))
}

#[derive(Debug, Default, Clone, Deserialize, utoipa::IntoParams)]
// An unknown parameter is refused (400 naming it), not silently ignored.
#[serde(deny_unknown_fields)]
pub struct PublicFilter {
    /// Part of the Chinese name, or of the credit code.
    pub q: Option<String>,
    pub kind: Option<String>,
    pub field: Option<String>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

/// The public directory: registered organisations only, and only public facts.
pub fn public_list(
    conn: &mut DbConn,
    f: &PublicFilter,
    today: NaiveDate,
    rules: standing::Rules,
) -> Result<crate::db::Paged<PublicOrg>, AppError> {
    let filter = OrgFilter {
        q: f.q.clone(),
        kind: f.kind.clone(),
        registration: Some("registered".into()),
        field: f.field.clone(),
        page: f.page,
        per_page: f.per_page,
        ..Default::default()
    };
    Ok(list(conn, &filter, today, rules)?.map(|v| PublicOrg {
        id: v.id,
        name: v.name,
        kind: v.kind,
        credit_code: v.credit_code,
        current_rating: v.current_rating,
        fields: v.fields,
    }))
}

/// Streets (id, code, name) for forms and filters.
pub fn streets(conn: &mut DbConn) -> QueryResult<Vec<(i64, String, String)>> {
    st::table
        .order(st::code)
        .select((st::id, st::code, st::name))
        .load(conn)
}

/// Organisation names by id (small lists, forms).
pub fn names(conn: &mut DbConn) -> QueryResult<BTreeMap<i64, String>> {
    Ok(o::table
        .select((o::id, o::name))
        .load::<(i64, String)>(conn)?
        .into_iter()
        .collect())
}

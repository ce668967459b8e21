//! Lists of organisations: the bureau's filtered list and export, the public directory, names, streets.

use super::*;

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

type OrgQuery<'a> = o::BoxedQuery<'a, <DbConn as diesel::Connection>::Backend>;

/// The filter as SQL, standing included (the stored one: callers run [`redecide_stale`] first), the text
/// query as `search` planned it. An unknown status matches nothing.
fn filtered(f: &OrgFilter, search: &Plan) -> OrgQuery<'static> {
    let mut q = o::table.into_boxed();
    if let Some(s) = f.q.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        if let Plan::Term { term, .. } = search {
            use crate::db::schema::organisation_terms as ot;
            q = q.filter(
                o::id.eq_any(
                    ot::table
                        .filter(ot::term.eq(term.clone()))
                        .select(ot::organisation_id),
                ),
            );
        }
        if !matches!(search, Plan::Term { exact: true, .. }) {
            let pat = crate::db::like_pattern(s);
            let code_pat = crate::db::like_pattern(&crate::domain::credit_code::normalise(s));
            q = q.filter(
                crate::db::lower(o::name)
                    .like(pat)
                    .escape('\\')
                    .or(crate::db::lower(o::credit_code.assume_not_null())
                        .like(code_pat)
                        .escape('\\')),
            );
        }
    }
    if let Some(k) = f.kind.as_deref().filter(|s| !s.is_empty()) {
        q = q.filter(o::kind.eq(k.to_string()));
    }
    if let Some(k) = f.registration.as_deref().filter(|s| !s.is_empty()) {
        q = q.filter(o::registration.eq(k.to_string()));
    }
    if let Some(s) = f.status.as_deref().filter(|s| !s.is_empty()) {
        q = q.filter(o::standing.eq(s.to_string()));
    }
    if let Some(fl) = f.field.as_deref().filter(|s| !s.is_empty()) {
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
    let rows = filtered(f, &search)
        .order((o::name.asc(), o::id.asc()))
        .select(OrgRow::as_select())
        .load(conn)?;
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
    let total: i64 = filtered(f, &search).count().get_result(conn)?;
    let rows = filtered(f, &search)
        .order((o::name.asc(), o::id.asc()))
        .limit(paging.limit())
        .offset(paging.offset())
        .select(OrgRow::as_select())
        .load(conn)?;
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

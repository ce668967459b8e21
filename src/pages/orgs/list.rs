//! The bureau's organisation list with its filters.

use super::*;

// ---------------------------------------------------------------------------------------------------------
// Organisation list

#[derive(Deserialize, Default, Clone)]
pub(super) struct ListQuery {
    q: Option<String>,
    kind: Option<String>,
    registration: Option<String>,
    status: Option<String>,
    field: Option<String>,
    street: Option<String>,
    page: Option<String>,
}

impl ListQuery {
    fn filter(&self) -> OrgFilter {
        OrgFilter {
            q: self.q.clone(),
            kind: self.kind.clone(),
            registration: self.registration.clone(),
            status: self.status.clone(),
            field: self.field.clone(),
            street: self.street.as_deref().and_then(|s| s.parse().ok()),
            page: page_no(&self.page),
            per_page: Some(20),
        }
    }
    fn params(&self) -> Vec<(&'static str, String)> {
        let g = |v: &Option<String>| v.clone().unwrap_or_default();
        vec![
            ("q", g(&self.q)),
            ("kind", g(&self.kind)),
            ("registration", g(&self.registration)),
            ("status", g(&self.status)),
            ("field", g(&self.field)),
            ("street", g(&self.street)),
        ]
    }
}

#[derive(Template)]
#[template(path = "pages/registry/orgs_list.html")]
struct OrgListPage {
    ctx: PageCtx,
    l: Labels,
    rows: Vec<OrgView>,
    f: HashMap<&'static str, String>,
    kinds: Vec<(String, String)>,
    registrations: Vec<(String, String)>,
    statuses: Vec<(String, String)>,
    fields: Vec<(String, String)>,
    streets: Vec<(String, String)>,
    export_link: String,
    pager: Pager,
    /// The bureau and administrators keep the registry; finance reads it.
    editable: bool,
}

impl OrgListPage {
    fn sel(&self, k: &str) -> &str {
        self.f.get(k).map(String::as_str).unwrap_or("")
    }
}

pub(super) fn street_options(
    conn: &mut crate::db::DbConn,
) -> Result<Vec<(String, String)>, AppError> {
    Ok(orgs::streets(conn)?
        .into_iter()
        .map(|(id, _, name)| (id.to_string(), name))
        .collect())
}

fn status_options(lang: Lang) -> Vec<(String, String)> {
    use crate::domain::standing::Status;
    [Status::Eligible, Status::Flagged, Status::Barred]
        .into_iter()
        .map(|s| {
            (
                s.as_str().to_string(),
                lang.pick(s.label_zh(), s.label_en()).to_string(),
            )
        })
        .collect()
}

pub(super) async fn org_list(
    state: web::Data<AppState>,
    ctx: PageCtx,
    page: Page<RegistryReaders>,
    q: web::Query<ListQuery>,
) -> Result<HttpResponse, PageError> {
    let ctx = ctx.with_user(&page.user);
    let q = q.into_inner();
    let f = q.filter();
    let (today, rules) = (state.today(), state.standing_rules());
    let (list, streets) = state
        .run(move |c| Ok((orgs::list(c, &f, today, rules)?, street_options(c)?)))
        .await
        .map_err(page_err(ctx.lang))?;
    let params = q.params();
    let export_link = list_link("/api/v1/organisations/export", &params);
    let pager = Pager::new("/registry/orgs", &params, &list);
    let page = OrgListPage {
        l: labels(&ctx),
        kinds: options(ctx.lang, KINDS),
        registrations: options(ctx.lang, REGISTRATIONS),
        statuses: status_options(ctx.lang),
        fields: options(ctx.lang, FIELDS),
        f: params.into_iter().collect(),
        ctx: ctx.clone(),
        rows: list.items,
        streets,
        export_link,
        pager,
        editable: page.user.is_staff(),
    };
    Ok(render(&ctx, StatusCode::OK, &page))
}

//! The public directory of registered organisations.

use super::*;

// ---------------------------------------------------------------------------------------------------------
// Public directory

#[derive(Deserialize, Default)]
pub(super) struct DirQuery {
    q: Option<String>,
    kind: Option<String>,
    field: Option<String>,
    page: Option<String>,
}

#[derive(Template)]
#[template(path = "pages/registry/orgs_directory.html")]
struct DirectoryPage {
    ctx: PageCtx,
    l: Labels,
    rows: Vec<PublicOrg>,
    q: String,
    kind: String,
    field: String,
    kinds: Vec<(String, String)>,
    fields: Vec<(String, String)>,
    pager: Pager,
}

pub(super) fn page_no(s: &Option<String>) -> Option<i64> {
    s.as_deref().and_then(|p| p.parse().ok())
}

pub(super) async fn directory(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: PageCtx,
    q: web::Query<DirQuery>,
) -> Result<HttpResponse, PageError> {
    let user = crate::http::caller::caller(&req).await.user().cloned();
    let ctx = PageCtx { user, ..ctx };
    let q = q.into_inner();
    let f = PublicFilter {
        q: q.q.clone(),
        kind: q.kind.clone(),
        field: q.field.clone(),
        page: page_no(&q.page),
        per_page: Some(20),
    };
    let (today, rules) = (state.today(), state.standing_rules());
    let list = state
        .run(move |c| orgs::public_list(c, &f, today, rules))
        .await
        .map_err(page_err(ctx.lang))?;
    let (qv, kv, fv) = (
        q.q.unwrap_or_default(),
        q.kind.unwrap_or_default(),
        q.field.unwrap_or_default(),
    );
    let pager = Pager::new(
        "/directory",
        &[
            ("q", qv.clone()),
            ("kind", kv.clone()),
            ("field", fv.clone()),
        ],
        &list,
    );
    let page = DirectoryPage {
        l: labels(&ctx),
        kinds: options(ctx.lang, KINDS),
        fields: options(ctx.lang, FIELDS),
        ctx: ctx.clone(),
        rows: list.items,
        q: qv,
        kind: kv,
        field: fv,
        pager,
    };
    Ok(render(&ctx, StatusCode::OK, &page))
}

//! The change-request queue: the list and the bureau's decision.

use super::*;

// ---------------------------------------------------------------------------------------------------------
// Change requests

#[derive(Deserialize, Default)]
pub(super) struct ChangeQuery {
    status: Option<String>,
    page: Option<String>,
}

#[derive(Template)]
#[template(path = "pages/registry/changes_list.html")]
struct ChangeListPage {
    ctx: PageCtx,
    l: Labels,
    rows: Vec<ChangeRequestView>,
    status: String,
    pager: Pager,
    errors: FormErrors,
}

async fn change_list_page(
    state: &AppState,
    ctx: PageCtx,
    user: &CurrentUser,
    q: ChangeQuery,
    errors: FormErrors,
    code: StatusCode,
) -> Result<HttpResponse, PageError> {
    let status = q.status.unwrap_or_else(|| "pending".into());
    let f = ChangeFilter {
        status: Some(status.clone()).filter(|s| s != "all"),
        organisation_id: None,
        page: page_no(&q.page),
        per_page: Some(20),
    };
    let by = user.clone();
    let list = state
        .run(move |c| changes::list(c, &by, &f))
        .await
        .map_err(page_err(ctx.lang))?;
    let pager = Pager::new("/registry/changes", &[("status", status.clone())], &list);
    let page = ChangeListPage {
        l: labels(&ctx),
        ctx: ctx.clone(),
        rows: list.items,
        status,
        pager,
        errors,
    };
    Ok(render(&ctx, code, &page))
}

pub(super) async fn change_list(
    state: web::Data<AppState>,
    ctx: PageCtx,
    page: Page<BureauOrAdmin>,
    q: web::Query<ChangeQuery>,
) -> Result<HttpResponse, PageError> {
    let ctx = ctx.with_user(&page.user);
    change_list_page(
        &state,
        ctx,
        &page.user,
        q.into_inner(),
        FormErrors::default(),
        StatusCode::OK,
    )
    .await
}

pub(super) async fn change_decide(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: PageCtx,
    page: Page<BureauOrAdmin>,
    id: web::Path<i64>,
    form: Form,
) -> Result<HttpResponse, PageError> {
    let ctx = ctx.with_user(&page.user);
    let d = Decision {
        decision: form.get("decision"),
        reason: Some(form.get("reason")),
    };
    let actor = crate::http::actor(&req, &page.user);
    let (now, rules) = (state.clock.now(), state.standing_rules());
    let by = page.user.clone();
    let id = id.into_inner();
    match state
        .run(move |c| changes::decide(c, &actor, now, rules, &by, id, &d))
        .await
    {
        Ok(_) => Ok(redirect(
            "/registry/changes",
            Some(("ok", ctx.t("changes.done"))),
        )),
        Err(AppError::Validation(errs)) => {
            let e = FormErrors::from_fields(ctx.lang, &errs);
            change_list_page(
                &state,
                ctx,
                &page.user,
                ChangeQuery::default(),
                e,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => Err(PageError::App(e, ctx.lang)),
    }
}

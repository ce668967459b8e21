//! The CSV import of organisations and social workers.

use super::*;

// ---------------------------------------------------------------------------------------------------------
// Import

#[derive(Template)]
#[template(path = "pages/registry/orgs_import.html")]
struct ImportPage {
    ctx: PageCtx,
    l: Labels,
    org_columns: Vec<(String, String, String)>,
    worker_columns: Vec<(String, String, String)>,
    which: String,
    text: String,
    errors: Vec<FieldError>,
}

fn cols(c: &[(&str, &str, &str)]) -> Vec<(String, String, String)> {
    c.iter()
        .map(|(k, z, w)| (z.to_string(), k.to_string(), w.to_string()))
        .collect()
}

fn import_render(
    ctx: PageCtx,
    which: &str,
    text: String,
    errors: Vec<FieldError>,
    code: StatusCode,
) -> HttpResponse {
    let page = ImportPage {
        l: labels(&ctx),
        ctx: ctx.clone(),
        org_columns: cols(import::ORG_COLUMNS),
        worker_columns: cols(import::WORKER_COLUMNS),
        which: which.into(),
        text,
        errors,
    };
    render(&ctx, code, &page)
}

pub(super) async fn import_page(ctx: PageCtx, page: Page<BureauOrAdmin>) -> HttpResponse {
    let ctx = ctx.with_user(&page.user);
    import_render(ctx, "", String::new(), Vec::new(), StatusCode::OK)
}

async fn import_submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    which: &'static str,
    text: String,
) -> Result<HttpResponse, PageError> {
    let actor = crate::http::actor(&req, &user);
    let (now, rules) = (state.clock.now(), state.standing_rules());
    let secret = state.config.beneficiary_secret.expose().to_string();
    let t2 = text.clone();
    let r = state
        .run(move |c| {
            if which == "orgs" {
                import::import_orgs(c, &actor, now, rules, &t2)
            } else {
                import::import_workers(c, &actor, now, &secret, &t2)
            }
        })
        .await;
    match r {
        Ok(r) => {
            let msg = format!("{}{}", ctx.t("import.done"), r.imported);
            let to = if which == "orgs" {
                "/registry/orgs"
            } else {
                "/registry/workers"
            };
            Ok(redirect(to, Some(("ok", &msg))))
        }
        Err(AppError::Validation(errs)) => Ok(import_render(
            ctx,
            which,
            text,
            errs,
            StatusCode::UNPROCESSABLE_ENTITY,
        )),
        Err(e) => Err(PageError::App(e, ctx.lang)),
    }
}

pub(super) async fn import_orgs_submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: PageCtx,
    page: Page<BureauOrAdmin>,
    form: Form,
) -> Result<HttpResponse, PageError> {
    let ctx = ctx.with_user(&page.user);
    import_submit(req, state, ctx, page.user.clone(), "orgs", form.get("csv")).await
}

pub(super) async fn import_workers_submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: PageCtx,
    page: Page<BureauOrAdmin>,
    form: Form,
) -> Result<HttpResponse, PageError> {
    let ctx = ctx.with_user(&page.user);
    import_submit(
        req,
        state,
        ctx,
        page.user.clone(),
        "workers",
        form.get("csv"),
    )
    .await
}

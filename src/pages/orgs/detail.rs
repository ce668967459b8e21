//! An organisation's detail page and its standing forms: ratings, inspections, listings.

use super::*;

// ---------------------------------------------------------------------------------------------------------
// Organisation detail

#[derive(Template)]
#[template(path = "pages/registry/orgs_detail.html")]
struct OrgDetailPage {
    ctx: PageCtx,
    l: Labels,
    d: OrgDetail,
    today: chrono::NaiveDate,
    area_names: Vec<String>,
    workers: Vec<WorkerView>,
    errors: FormErrors,
    lists: Vec<(String, String)>,
    inspection_kinds: Vec<(String, String)>,
    conclusions: Vec<(String, String)>,
    form: HashMap<String, String>,
    links: Vec<orgs::LinkView>,
    possible_links: Vec<(i64, String)>,
    link_kinds: Vec<(String, String)>,
    /// The bureau and administrators keep the registry; finance reads it.
    editable: bool,
    /// The listings' evidence files the reader may read, by listing id.
    evidence: HashMap<i64, crate::pages::evidence::EvidenceCell>,
}

impl OrgDetailPage {
    fn v(&self, k: &str) -> &str {
        self.form.get(k).map(String::as_str).unwrap_or("")
    }
    fn link_kind(&self, k: &crate::domain::tender::LinkKind) -> &'static str {
        k.label(self.ctx.lang == crate::i18n::Lang::Zh)
    }
}

async fn detail_page(
    state: &AppState,
    ctx: PageCtx,
    user: &CurrentUser,
    id: i64,
    errors: FormErrors,
    form: HashMap<String, String>,
    status: StatusCode,
) -> Result<HttpResponse, PageError> {
    let (today, rules) = (state.today(), state.standing_rules());
    let by = user.clone();
    let pctx = ctx.clone();
    let (d, area_names, workers, links, possible_links, evidence) = state
        .run(move |c| {
            let d = orgs::detail(c, id, today, rules)?;
            let held: Vec<_> = d
                .listings
                .iter()
                .map(|x| (x.id, id, Some(x.evidence_sha256.clone())))
                .collect();
            let back = format!("/registry/orgs/{id}");
            let purpose = crate::files::Purpose::CreditEvidence;
            let evidence = crate::pages::evidence::cells(c, &pctx, purpose, &held, &back)?;
            let streets = orgs::streets(c)?;
            let names = d
                .organisation
                .area_street_ids
                .iter()
                .filter_map(|s| streets.iter().find(|x| x.0 == *s).map(|x| x.2.clone()))
                .collect();
            let f = WorkerFilter {
                organisation_id: Some(id),
                per_page: Some(200),
                ..Default::default()
            };
            let w = workers::list(c, &by, &f, true)?.items;
            let links = orgs::links_of(c, id)?;
            let possible = orgs::possible_links(c, id)?;
            Ok((d, names, w, links, possible, evidence))
        })
        .await
        .map_err(page_err(ctx.lang))?;
    let page = OrgDetailPage {
        l: labels(&ctx),
        lists: options(ctx.lang, LISTS),
        inspection_kinds: options(ctx.lang, orgs::INSPECTION_KINDS),
        conclusions: options(ctx.lang, orgs::CONCLUSIONS),
        ctx: ctx.clone(),
        d,
        today,
        area_names,
        workers,
        errors,
        form,
        links,
        possible_links,
        link_kinds: crate::domain::tender::LinkKind::ALL
            .iter()
            .map(|k| {
                (
                    k.as_str().to_string(),
                    k.label(ctx.lang == crate::i18n::Lang::Zh).to_string(),
                )
            })
            .collect(),
        editable: user.is_staff(),
        evidence,
    };
    Ok(render(&ctx, status, &page))
}

pub(super) async fn org_detail(
    state: web::Data<AppState>,
    ctx: PageCtx,
    page: Page<RegistryReaders>,
    id: web::Path<i64>,
) -> Result<HttpResponse, PageError> {
    let ctx = ctx.with_user(&page.user);
    detail_page(
        &state,
        ctx,
        &page.user,
        id.into_inner(),
        FormErrors::default(),
        HashMap::new(),
        StatusCode::OK,
    )
    .await
}

async fn history_post<T: Send + 'static>(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: PageCtx,
    page: Page<BureauOrAdmin>,
    id: i64,
    form: HashMap<String, String>,
    op: impl FnOnce(
        &mut crate::db::DbConn,
        &crate::audit::Actor,
        chrono::DateTime<chrono::Utc>,
        crate::domain::standing::Rules,
    ) -> Result<T, AppError>
    + Send
    + 'static,
) -> Result<HttpResponse, PageError> {
    let actor = crate::http::actor(&req, &page.user);
    let (now, rules) = (state.clock.now(), state.standing_rules());
    let outcome = state.run(move |c| op(c, &actor, now, rules)).await;
    history_answer(&state, ctx, &page, id, form, outcome).await
}

/// The page's answer to a history form's outcome, as [`history_post`] gives it.
async fn history_answer<T>(
    state: &AppState,
    ctx: PageCtx,
    page: &Page<BureauOrAdmin>,
    id: i64,
    form: HashMap<String, String>,
    outcome: Result<T, AppError>,
) -> Result<HttpResponse, PageError> {
    let ctx = ctx.with_user(&page.user);
    match outcome {
        Ok(_) => Ok(redirect(
            &format!("/registry/orgs/{id}"),
            Some(("ok", ctx.t("orgs.added"))),
        )),
        Err(AppError::Validation(errs)) => {
            let errors = FormErrors::from_fields(ctx.lang, &errs);
            detail_page(
                state,
                ctx,
                &page.user,
                id,
                errors,
                form,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => Err(PageError::App(e, ctx.lang)),
    }
}

pub(super) async fn rating_submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: PageCtx,
    page: Page<BureauOrAdmin>,
    id: web::Path<i64>,
    form: Form,
) -> Result<HttpResponse, PageError> {
    let id = id.into_inner();
    let mut errs = Vec::new();
    // The grade list ends with the revocation (撤销等级, 民政部令第39号 Art 30), which has no grade.
    let revocation = form.get("grade") == "revocation";
    let grade = if revocation {
        Some(0)
    } else {
        form.int("grade", &mut errs)
    };
    let awarded_on = form.get("awarded_on");
    let reason = Some(form.get("reason")).filter(|s| !s.trim().is_empty());
    history_post(
        req,
        state,
        ctx,
        page,
        id,
        form.values(),
        move |c, a, now, rules| {
            let r = orgs::NewRating {
                organisation_id: id,
                grade: checked(grade, errs)?,
                awarded_on,
                decision: if revocation { "revocation" } else { "award" }.into(),
                reason,
            };
            orgs::add_rating(c, a, now, rules, &r)
        },
    )
    .await
}

pub(super) async fn inspection_submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: PageCtx,
    page: Page<BureauOrAdmin>,
    id: web::Path<i64>,
    form: Form,
) -> Result<HttpResponse, PageError> {
    let id = id.into_inner();
    let mut errs = Vec::new();
    let year = form.int("year", &mut errs);
    let (kind, conclusion, decided_on) = (
        form.get("kind"),
        form.get("conclusion"),
        form.get("decided_on"),
    );
    history_post(
        req,
        state,
        ctx,
        page,
        id,
        form.values(),
        move |c, a, now, rules| {
            let r = orgs::NewInspection {
                organisation_id: id,
                year: checked(year, errs)?,
                kind,
                conclusion,
                decided_on,
            };
            orgs::add_inspection(c, a, now, rules, &r)
        },
    )
    .await
}

pub(super) async fn listing_submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: PageCtx,
    page: Page<BureauOrAdmin>,
    id: web::Path<i64>,
    sent: crate::http::files::FormWithFile,
) -> Result<HttpResponse, PageError> {
    use crate::files::{Purpose, evidence};
    let id = id.into_inner();
    let form = sent.form;
    let mut r = orgs::NewListing {
        organisation_id: id,
        list: form.get("list"),
        source: form.get("source"),
        listed_on: form.get("listed_on"),
        evidence_sha256: form.get("evidence_sha256"),
    };
    let actor = crate::http::actor(&req, &page.user);
    let (now, rules) = (state.clock.now(), state.standing_rules());
    let typed = r.evidence_sha256.clone();
    let outcome = match sent.file {
        Err(e) => Err(e),
        Ok(file) => {
            crate::http::files::with_evidence(
                &state.files,
                file,
                Purpose::CreditEvidence,
                page.user.id,
                ("evidence_sha256", &typed),
                |hash, ev| {
                    r.evidence_sha256 = hash;
                    state.run(move |c| {
                        evidence::written_with(
                            c,
                            &actor,
                            now,
                            ev.as_ref(),
                            |c| orgs::add_listing(c, &actor, now, rules, &r),
                            |_, x| Ok(x.id),
                        )
                    })
                },
            )
            .await
        }
    };
    history_answer(&state, ctx, &page, id, form.values(), outcome).await
}

pub(super) async fn listing_remove(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: PageCtx,
    page: Page<BureauOrAdmin>,
    id: web::Path<i64>,
    form: Form,
) -> Result<HttpResponse, PageError> {
    let lid = id.into_inner();
    let org_id = state
        .run(move |c| {
            use crate::db::schema::credit_listings as cl;
            use diesel::prelude::*;
            Ok(cl::table
                .find(lid)
                .select(cl::organisation_id)
                .first::<i64>(c)?)
        })
        .await
        .map_err(page_err(ctx.lang))?;
    let r = orgs::ListingRemoval {
        removed_on: form.get("removed_on"),
    };
    history_post(
        req,
        state,
        ctx,
        page,
        org_id,
        form.values(),
        move |c, a, now, rules| orgs::remove_listing(c, a, now, rules, lid, &r),
    )
    .await
}

/// Record a link to a related organisation (实施条例 Art 18), named by id or by credit code.
pub(super) async fn link_submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: PageCtx,
    page: Page<BureauOrAdmin>,
    id: web::Path<i64>,
    form: Form,
) -> Result<HttpResponse, PageError> {
    let id = id.into_inner();
    let other = form.get("other").trim().to_string();
    let by = page.user.id;
    let input = orgs::NewLink {
        other_id: other.parse().ok(),
        other_credit_code: other.parse::<i64>().is_err().then_some(other),
        kind: form.get("kind"),
        note: form.get("note"),
    };
    history_post(
        req,
        state,
        ctx,
        page,
        id,
        form.values(),
        move |c, a, now, _| orgs::add_link(c, a, now, by, id, &input),
    )
    .await
}

/// End a link (the form asks for confirmation first).
pub(super) async fn link_remove(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: PageCtx,
    page: Page<BureauOrAdmin>,
    path: web::Path<(i64, i64)>,
    form: Form,
) -> Result<HttpResponse, PageError> {
    let (id, other) = path.into_inner();
    history_post(
        req,
        state,
        ctx,
        page,
        id,
        form.values(),
        move |c, a, now, _| orgs::remove_link(c, a, now, id, other),
    )
    .await
}

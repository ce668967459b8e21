//! Social workers: the list, detail, forms and the counts page.

use super::*;

// ---------------------------------------------------------------------------------------------------------
// Social workers

#[derive(Deserialize, Default, Clone)]
pub(super) struct WorkerQuery {
    q: Option<String>,
    organisation_id: Option<String>,
    level: Option<String>,
    employment: Option<String>,
    street: Option<String>,
    verified: Option<String>,
    page: Option<String>,
}

impl WorkerQuery {
    fn filter(&self) -> WorkerFilter {
        WorkerFilter {
            q: self.q.clone(),
            organisation_id: self.organisation_id.as_deref().and_then(|s| s.parse().ok()),
            level: self.level.clone(),
            employment: self.employment.clone(),
            street: self.street.as_deref().and_then(|s| s.parse().ok()),
            verified: self.verified.as_deref().and_then(|s| s.parse().ok()),
            page: page_no(&self.page),
            per_page: Some(20),
        }
    }
    fn params(&self) -> Vec<(&'static str, String)> {
        let g = |v: &Option<String>| v.clone().unwrap_or_default();
        vec![
            ("q", g(&self.q)),
            ("organisation_id", g(&self.organisation_id)),
            ("level", g(&self.level)),
            ("employment", g(&self.employment)),
            ("street", g(&self.street)),
            ("verified", g(&self.verified)),
        ]
    }
}

#[derive(Template)]
#[template(path = "pages/registry/workers_list.html")]
struct WorkerListPage {
    ctx: PageCtx,
    l: Labels,
    rows: Vec<WorkerView>,
    f: HashMap<&'static str, String>,
    levels: Vec<(String, String)>,
    employments: Vec<(String, String)>,
    streets: Vec<(String, String)>,
    export_link: String,
    pager: Pager,
    staff: bool,
    /// Finance reads the registry; it does not change it.
    can_edit: bool,
}

impl WorkerListPage {
    fn sel(&self, k: &str) -> &str {
        self.f.get(k).map(String::as_str).unwrap_or("")
    }
}

pub(super) async fn worker_list(
    state: web::Data<AppState>,
    ctx: PageCtx,
    page: Page<WorkerReaders>,
    q: web::Query<WorkerQuery>,
) -> Result<HttpResponse, PageError> {
    let ctx = ctx.with_user(&page.user);
    let q = q.into_inner();
    let f = q.filter();
    let by = page.user.clone();
    let (list, streets) = state
        .run(move |c| Ok((workers::list(c, &by, &f, true)?, street_options(c)?)))
        .await
        .map_err(page_err(ctx.lang))?;
    let params = q.params();
    let export_link = list_link("/api/v1/social-workers/export", &params);
    let pager = Pager::new("/registry/workers", &params, &list);
    let page = WorkerListPage {
        l: labels(&ctx),
        levels: options(ctx.lang, LEVELS),
        employments: options(ctx.lang, EMPLOYMENTS),
        staff: page.user.is_staff(),
        can_edit: page.user.role != Role::Finance,
        f: params.into_iter().collect(),
        ctx: ctx.clone(),
        rows: list.items,
        streets,
        export_link,
        pager,
    };
    Ok(render(&ctx, StatusCode::OK, &page))
}

#[derive(Template)]
#[template(path = "pages/registry/workers_detail.html")]
struct WorkerDetailPage {
    ctx: PageCtx,
    l: Labels,
    w: WorkerView,
    /// Finance reads the registry; it does not change it.
    can_edit: bool,
    /// The bureau may verify the certificate, at this version.
    verify_version: Option<String>,
}

pub(super) async fn worker_detail(
    state: web::Data<AppState>,
    ctx: PageCtx,
    page: Page<WorkerReaders>,
    id: web::Path<i64>,
) -> Result<HttpResponse, PageError> {
    let ctx = ctx.with_user(&page.user);
    let by = page.user.clone();
    let id = id.into_inner();
    let (w, ver) = state
        .run(move |c| Ok((workers::get(c, &by, id)?, workers::version(c, id)?)))
        .await
        .map_err(page_err(ctx.lang))?;
    let p = WorkerDetailPage {
        l: labels(&ctx),
        ctx: ctx.clone(),
        verify_version: (page.user.is_staff() && !w.verified).then_some(ver),
        w,
        can_edit: page.user.role != Role::Finance,
    };
    Ok(render(&ctx, StatusCode::OK, &p))
}

/// The bureau verifies a worker's certificate; the version is the one the officer looked at.
pub(super) async fn worker_verify(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: PageCtx,
    page: Page<BureauOrAdmin>,
    id: web::Path<i64>,
    form: Form,
) -> Result<HttpResponse, PageError> {
    let ctx = ctx.with_user(&page.user);
    let id = id.into_inner();
    let actor = crate::http::actor(&req, &page.user);
    let now = state.clock.now();
    let by = page.user.clone();
    // The officer verifies what the page showed: the version it was opened with is required.
    let Some(expect) = crate::version::parse(Some(&form.get("version"))) else {
        return Err(PageError::App(
            AppError::field(
                "version",
                "required",
                "请在社工详情页上核实（缺少所核实的版本）。",
                "Verify from the worker's page (the version checked is missing).",
            ),
            ctx.lang,
        ));
    };
    state
        .run(move |c| workers::verify(c, &actor, now, &by, id, Some(&expect)))
        .await
        .map_err(page_err(ctx.lang))?;
    Ok(redirect(
        &format!("/registry/workers/{id}"),
        Some(("ok", ctx.t("workers.verified_done"))),
    ))
}

#[derive(Template)]
#[template(path = "pages/registry/workers_form.html")]
struct WorkerFormPage {
    ctx: PageCtx,
    id: Option<i64>,
    v: WorkerInput,
    has_id: bool,
    errors: FormErrors,
    /// The version the form was opened with (`crate::version`), sent back with it.
    version: Option<String>,
    orgs: Vec<(String, String)>,
    levels: Vec<(String, String)>,
    employments: Vec<(String, String)>,
    streets: Vec<(String, String)>,
}

impl WorkerFormPage {
    fn has_street(&self, id: &str) -> bool {
        self.v.street_ids.iter().any(|s| s.to_string() == id)
    }
    fn org_sel(&self, id: &str) -> bool {
        self.v.organisation_id.to_string() == id
    }
    fn action(&self) -> String {
        match self.id {
            Some(i) => format!("/registry/workers/{i}/edit"),
            None => "/registry/workers/new".into(),
        }
    }
    fn o(&self, v: &Option<String>) -> String {
        v.clone().unwrap_or_default()
    }
}

#[expect(
    clippy::too_many_arguments,
    reason = "the form page is built from the record, the form as typed and its errors"
)]
async fn worker_form(
    state: &AppState,
    ctx: PageCtx,
    user: &CurrentUser,
    id: Option<i64>,
    v: WorkerInput,
    has_id: bool,
    errors: FormErrors,
    code: StatusCode,
    version: Option<String>,
) -> Result<HttpResponse, PageError> {
    let own = user.org_scope().map_err(page_err(ctx.lang))?;
    let version = errors.stale.as_ref().map(|s| s.version.clone()).or(version);
    let (orgs_list, streets) = state
        .run(move |c| {
            let names = orgs::names(c)?;
            let mut list: Vec<(String, String)> = names
                .into_iter()
                .filter(|(id, _)| own.is_none_or(|o| o == *id))
                .map(|(id, n)| (id.to_string(), n))
                .collect();
            list.sort_by(|a, b| a.1.cmp(&b.1));
            Ok((list, street_options(c)?))
        })
        .await
        .map_err(page_err(ctx.lang))?;
    let p = WorkerFormPage {
        levels: options(ctx.lang, LEVELS),
        employments: options(ctx.lang, EMPLOYMENTS),
        ctx: ctx.clone(),
        id,
        v,
        has_id,
        errors,
        version,
        orgs: orgs_list,
        streets,
    };
    Ok(render(&ctx, code, &p))
}

/// Read the worker form. An organisation user's own organisation is taken from the sign-in, not the form;
/// anyone else's choice that is not a number is a field error (and the input is not sent).
fn worker_input_of(f: &Form, own_org: Option<i64>, errs: &mut Vec<FieldError>) -> WorkerInput {
    let mut streets: Vec<i64> = f
        .pairs()
        .iter()
        .filter_map(|(k, _)| k.strip_prefix("street.").and_then(|s| s.parse().ok()))
        .collect();
    streets.sort();
    streets.dedup();
    let organisation_id = match own_org {
        Some(o) => Some(o),
        None => f.int("organisation_id", errs),
    };
    WorkerInput {
        // Only shown again (with the field's error, nothing selected) when it is missing.
        organisation_id: organisation_id.unwrap_or_default(),
        name: f.get("name"),
        id_number: Some(f.get("id_number")).filter(|s| !s.trim().is_empty()),
        phone: Some(f.get("phone")),
        certificate_level: f.get("certificate_level"),
        certificate_number: Some(f.get("certificate_number")),
        certified_on: Some(f.get("certified_on")),
        employment: f.get("employment"),
        street_ids: streets,
    }
}

#[derive(Deserialize, Default)]
pub(super) struct NewWorkerQuery {
    org: Option<String>,
}

pub(super) async fn worker_new_page(
    state: web::Data<AppState>,
    ctx: PageCtx,
    page: Page<StaffOrOrg>,
    q: web::Query<NewWorkerQuery>,
) -> Result<HttpResponse, PageError> {
    let ctx = ctx.with_user(&page.user);
    let org = if page.user.role == Role::Org {
        page.user.own_org_id().map_err(page_err(ctx.lang))?
    } else {
        q.org.as_deref().and_then(|s| s.parse().ok()).unwrap_or(0)
    };
    let v = WorkerInput {
        organisation_id: org,
        certificate_level: "assistant".into(),
        employment: "full_time".into(),
        ..Default::default()
    };
    worker_form(
        &state,
        ctx,
        &page.user,
        None,
        v,
        false,
        FormErrors::default(),
        StatusCode::OK,
        None,
    )
    .await
}

pub(super) async fn worker_new_submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: PageCtx,
    page: Page<StaffOrOrg>,
    form: Form,
) -> Result<HttpResponse, PageError> {
    let ctx = ctx.with_user(&page.user);
    let own = match page.user.role {
        Role::Org => Some(page.user.own_org_id().map_err(page_err(ctx.lang))?),
        _ => None,
    };
    let mut errs = Vec::new();
    let mut v = worker_input_of(&form, own, &mut errs);
    let actor = crate::http::actor(&req, &page.user);
    let now = state.clock.now();
    let secret = state.config.beneficiary_secret.expose().to_string();
    let by = page.user.clone();
    let v2 = v.clone();
    let saved = match checked(Some(()), errs) {
        Ok(()) => {
            state
                .run(move |c| workers::create(c, &actor, now, &secret, &by, &v2))
                .await
        }
        Err(e) => Err(e),
    };
    match saved {
        Ok(r) => Ok(redirect(
            &format!("/registry/workers/{}", r.id),
            Some(("ok", ctx.t("workers.created"))),
        )),
        Err(AppError::Validation(errs)) => {
            let e = FormErrors::from_fields(ctx.lang, &errs);
            v.id_number = None;
            worker_form(
                &state,
                ctx,
                &page.user,
                None,
                v,
                false,
                e,
                StatusCode::UNPROCESSABLE_ENTITY,
                None,
            )
            .await
        }
        Err(e) => Err(PageError::App(e, ctx.lang)),
    }
}

pub(super) async fn worker_edit_page(
    state: web::Data<AppState>,
    ctx: PageCtx,
    page: Page<StaffOrOrg>,
    id: web::Path<i64>,
) -> Result<HttpResponse, PageError> {
    let ctx = ctx.with_user(&page.user);
    let id = id.into_inner();
    let by = page.user.clone();
    let (v, has_id) = state
        .run(move |c| {
            let r = workers::find(c, id)?;
            if !workers::may_write(&by, r.organisation_id) {
                return Err(AppError::NotFound);
            }
            Ok((workers::input_of(c, &r)?, r.id_hash.is_some()))
        })
        .await
        .map_err(page_err(ctx.lang))?;
    let version = Some(crate::version::of(&v));
    worker_form(
        &state,
        ctx,
        &page.user,
        Some(id),
        v,
        has_id,
        FormErrors::default(),
        StatusCode::OK,
        version,
    )
    .await
}

pub(super) async fn worker_edit_submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: PageCtx,
    page: Page<StaffOrOrg>,
    id: web::Path<i64>,
    form: Form,
) -> Result<HttpResponse, PageError> {
    let ctx = ctx.with_user(&page.user);
    let id = id.into_inner();
    let own = match page.user.role {
        Role::Org => Some(page.user.own_org_id().map_err(page_err(ctx.lang))?),
        _ => None,
    };
    let mut errs = Vec::new();
    let mut v = worker_input_of(&form, own, &mut errs);
    let actor = crate::http::actor(&req, &page.user);
    let now = state.clock.now();
    let secret = state.config.beneficiary_secret.expose().to_string();
    let by = page.user.clone();
    let v2 = v.clone();
    let sent_version = crate::version::parse(Some(&form.get("version")));
    let expect = sent_version.clone();
    let saved = match checked(Some(()), errs) {
        Ok(()) => {
            state
                .run(move |c| {
                    let expect = expect.as_deref();
                    workers::update(c, &actor, now, &secret, &by, id, &v2, expect)
                })
                .await
        }
        Err(e) => Err(e),
    };
    match saved {
        Ok(_) => Ok(redirect(
            &format!("/registry/workers/{id}"),
            Some(("ok", ctx.t("orgs.saved"))),
        )),
        Err(e) => {
            v.id_number = None;
            match FormErrors::of_refusal(&ctx, &e, &v, LABELS) {
                Some((errors, status)) => {
                    worker_form(
                        &state,
                        ctx,
                        &page.user,
                        Some(id),
                        v,
                        false,
                        errors,
                        status,
                        sent_version,
                    )
                    .await
                }
                None => Err(PageError::App(e, ctx.lang)),
            }
        }
    }
}

/// The form's fields by their JSON key, for the notice of a change made meanwhile.
const LABELS: &[(&str, &str)] = &[
    ("organisation_id", "workers.org"),
    ("name", "workers.name"),
    ("phone", "workers.phone"),
    ("certificate_level", "workers.level"),
    ("certificate_number", "workers.cert_number"),
    ("certified_on", "workers.certified_on"),
    ("employment", "workers.employment"),
    ("street_ids", "workers.streets"),
];

#[derive(Template)]
#[template(path = "pages/registry/workers_counts.html")]
struct CountsPage {
    ctx: PageCtx,
    c: Counts,
}

impl CountsPage {
    fn w(&self, rows: &[workers::CountRow], n: &i64) -> String {
        let max = rows.iter().map(|r| r.workers).max().unwrap_or(1).max(1);
        format!("w-{}", (n * 20 / max) * 5)
    }
}

pub(super) async fn worker_counts(
    state: web::Data<AppState>,
    ctx: PageCtx,
    page: Page<AnyRole>,
) -> Result<HttpResponse, PageError> {
    let ctx = ctx.with_user(&page.user);
    let by = page.user.clone();
    let zh = ctx.lang == Lang::Zh;
    let mut c = state
        .run(move |c| workers::counts(c, &by, zh))
        .await
        .map_err(page_err(ctx.lang))?;
    c.by_organisation.truncate(20);
    let p = CountsPage {
        ctx: ctx.clone(),
        c,
    };
    Ok(render(&ctx, StatusCode::OK, &p))
}

//! Registry pages for organisations and social workers: the public directory; the bureau's organisation list,
//! detail (standing with every reason, ratings, inspections, listings), forms, change-request queue, CSV
//! import; social workers with counts; and an organisation's own page (`/my/org`).

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::app::AppState;
use crate::error::{AppError, FieldError};
use crate::http::caller::StaffOrOrg;
use crate::http::caller::{AnyRole, BureauOrAdmin, CurrentUser, OrgOnly, Page, Role};
use crate::http::page::{
    FormErrors, PageCtx, PageError, Pager, SafeForm, page_err, redirect, render,
};
use crate::i18n::Lang;
use crate::registry::changes::{self, ChangeFilter, ChangeRequestView, Decision};
use crate::registry::import;
use crate::registry::orgs::{
    self, FIELDS, KINDS, LISTS, OrgDetail, OrgFilter, OrgInput, OrgPatch, OrgView, PublicFilter,
    PublicOrg, REGISTRATIONS,
};
use crate::registry::workers::{
    self, Counts, EMPLOYMENTS, LEVELS, WorkerFilter, WorkerInput, WorkerView,
};

/// Protected pages of this module: (method, example path, roles allowed). The refusal tests walk them.
pub const PROTECTED: &[(&str, &str, &[Role])] = &[
    ("GET", "/registry/orgs", &[Role::Bureau, Role::Admin]),
    ("GET", "/registry/orgs/new", &[Role::Bureau, Role::Admin]),
    ("GET", "/registry/orgs/1", &[Role::Bureau, Role::Admin]),
    ("GET", "/registry/orgs/1/edit", &[Role::Bureau, Role::Admin]),
    ("GET", "/registry/changes", &[Role::Bureau, Role::Admin]),
    ("GET", "/registry/import", &[Role::Bureau, Role::Admin]),
    (
        "GET",
        "/registry/workers",
        &[Role::Bureau, Role::Admin, Role::Org],
    ),
    (
        "GET",
        "/registry/workers/new",
        &[Role::Bureau, Role::Admin, Role::Org],
    ),
    ("GET", "/registry/workers/counts", &Role::ALL),
    (
        "GET",
        "/registry/workers/1",
        &[Role::Bureau, Role::Admin, Role::Org],
    ),
    (
        "GET",
        "/registry/workers/1/edit",
        &[Role::Bureau, Role::Admin, Role::Org],
    ),
    ("GET", "/my/org", &[Role::Org]),
];

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/directory", web::get().to(directory))
        .route("/registry/orgs", web::get().to(org_list))
        .route("/registry/orgs/new", web::get().to(org_new_page))
        .route("/registry/orgs/new", web::post().to(org_new_submit))
        .route("/registry/orgs/{id}", web::get().to(org_detail))
        .route("/registry/orgs/{id}/edit", web::get().to(org_edit_page))
        .route("/registry/orgs/{id}/edit", web::post().to(org_edit_submit))
        .route("/registry/orgs/{id}/ratings", web::post().to(rating_submit))
        .route(
            "/registry/orgs/{id}/inspections",
            web::post().to(inspection_submit),
        )
        .route(
            "/registry/orgs/{id}/listings",
            web::post().to(listing_submit),
        )
        .route(
            "/registry/listings/{id}/remove",
            web::post().to(listing_remove),
        )
        .route("/registry/changes", web::get().to(change_list))
        .route("/registry/changes/{id}", web::post().to(change_decide))
        .route("/registry/import", web::get().to(import_page))
        .route("/registry/import/orgs", web::post().to(import_orgs_submit))
        .route(
            "/registry/import/workers",
            web::post().to(import_workers_submit),
        )
        .route("/registry/workers", web::get().to(worker_list))
        .route("/registry/workers/new", web::get().to(worker_new_page))
        .route("/registry/workers/new", web::post().to(worker_new_submit))
        .route("/registry/workers/counts", web::get().to(worker_counts))
        .route("/registry/workers/{id}", web::get().to(worker_detail))
        .route(
            "/registry/workers/{id}/edit",
            web::get().to(worker_edit_page),
        )
        .route(
            "/registry/workers/{id}/edit",
            web::post().to(worker_edit_submit),
        )
        .route("/my/org", web::get().to(my_org))
        .route("/my/org", web::post().to(my_org_submit));
}

/// (key, label) options of a vocabulary in the page's language.
pub fn options(
    lang: Lang,
    table: &[(&'static str, &'static str, &'static str)],
) -> Vec<(String, String)> {
    table
        .iter()
        .map(|(k, z, e)| (k.to_string(), lang.pick(z, e).to_string()))
        .collect()
}

/// Helpers the templates call.
#[derive(Clone, Debug)]
pub struct Labels {
    pub lang: Lang,
}

impl Labels {
    fn zh(&self) -> bool {
        self.lang == Lang::Zh
    }
    pub fn kind(&self, k: &str) -> String {
        orgs::label(KINDS, k, self.zh())
    }
    pub fn registration(&self, k: &str) -> String {
        orgs::label(REGISTRATIONS, k, self.zh())
    }
    pub fn field(&self, k: &str) -> String {
        orgs::label(FIELDS, k, self.zh())
    }
    pub fn fields(&self, ks: &[String]) -> String {
        ks.iter()
            .map(|k| self.field(k))
            .collect::<Vec<_>>()
            .join(if self.zh() { "、" } else { ", " })
    }
    pub fn list(&self, k: &str) -> String {
        orgs::label(LISTS, k, self.zh())
    }
    pub fn inspection_kind(&self, k: &str) -> String {
        orgs::label(orgs::INSPECTION_KINDS, k, self.zh())
    }
    pub fn conclusion(&self, k: &str) -> String {
        orgs::label(orgs::CONCLUSIONS, k, self.zh())
    }
    pub fn level(&self, k: &str) -> String {
        orgs::label(LEVELS, k, self.zh())
    }
    pub fn employment(&self, k: &str) -> String {
        orgs::label(EMPLOYMENTS, k, self.zh())
    }
    pub fn rating(&self, g: &Option<i32>) -> String {
        g.map(|g| format!("{g}A")).unwrap_or_else(|| "—".into())
    }
    pub fn status(&self, s: &crate::domain::standing::Status) -> &'static str {
        self.lang.pick(s.label_zh(), s.label_en())
    }
    pub fn status_class(&self, s: &crate::domain::standing::Status) -> &'static str {
        match s {
            crate::domain::standing::Status::Eligible => "ok",
            crate::domain::standing::Status::Flagged => "muted",
            crate::domain::standing::Status::Barred => "bad",
        }
    }
    pub fn reason(&self, r: &crate::domain::standing::Reason) -> String {
        self.lang.pick(&r.zh, &r.en).to_string()
    }
    pub fn change_status(&self, s: &str) -> &'static str {
        match (s, self.zh()) {
            ("pending", true) => "待审核",
            ("pending", false) => "Pending",
            ("approved", true) => "已批准",
            ("approved", false) => "Approved",
            (_, true) => "已驳回",
            (_, false) => "Rejected",
        }
    }
    pub fn opt(&self, v: &Option<String>) -> String {
        v.clone().unwrap_or_default()
    }
    pub fn date(&self, d: &Option<chrono::NaiveDate>) -> String {
        d.map(|d| d.to_string()).unwrap_or_default()
    }
    pub fn msg(&self, e: &FieldError) -> String {
        self.lang.pick(&e.message.zh, &e.message.en).to_string()
    }
}

fn labels(ctx: &PageCtx) -> Labels {
    Labels { lang: ctx.lang }
}

// ---------------------------------------------------------------------------------------------------------
// Public directory

#[derive(Deserialize, Default)]
struct DirQuery {
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

fn page_no(s: &Option<String>) -> Option<i64> {
    s.as_deref().and_then(|p| p.parse().ok())
}

async fn directory(
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
    let (p, per) = crate::db::paging(f.page, f.per_page);
    let today = state.today();
    let (rows, total) = state
        .run(move |c| orgs::public_list(c, &f, today))
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
        p,
        per,
        total,
    );
    let page = DirectoryPage {
        l: labels(&ctx),
        kinds: options(ctx.lang, KINDS),
        fields: options(ctx.lang, FIELDS),
        ctx: ctx.clone(),
        rows,
        q: qv,
        kind: kv,
        field: fv,
        pager,
    };
    Ok(render(&ctx, StatusCode::OK, &page))
}

// ---------------------------------------------------------------------------------------------------------
// Organisation list

#[derive(Deserialize, Default, Clone)]
struct ListQuery {
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
}

impl OrgListPage {
    fn sel(&self, k: &str) -> &str {
        self.f.get(k).map(String::as_str).unwrap_or("")
    }
}

fn street_options(conn: &mut crate::db::DbConn) -> Result<Vec<(String, String)>, AppError> {
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

async fn org_list(
    state: web::Data<AppState>,
    ctx: PageCtx,
    page: Page<BureauOrAdmin>,
    q: web::Query<ListQuery>,
) -> Result<HttpResponse, PageError> {
    let ctx = ctx.with_user(&page.user);
    let q = q.into_inner();
    let f = q.filter();
    let (p, per) = crate::db::paging(f.page, f.per_page);
    let (today, rules) = (state.today(), state.standing_rules());
    let ((rows, total), streets) = state
        .run(move |c| Ok((orgs::list(c, &f, today, rules)?, street_options(c)?)))
        .await
        .map_err(page_err(ctx.lang))?;
    let params = q.params();
    let export_link = {
        let mut s = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in params.iter().filter(|(_, v)| !v.is_empty()) {
            s.append_pair(k, v);
        }
        format!("/api/v1/organisations/export?{}", s.finish())
    };
    let pager = Pager::new("/registry/orgs", &params, p, per, total);
    let page = OrgListPage {
        l: labels(&ctx),
        kinds: options(ctx.lang, KINDS),
        registrations: options(ctx.lang, REGISTRATIONS),
        statuses: status_options(ctx.lang),
        fields: options(ctx.lang, FIELDS),
        f: params.into_iter().collect(),
        ctx: ctx.clone(),
        rows,
        streets,
        export_link,
        pager,
    };
    Ok(render(&ctx, StatusCode::OK, &page))
}

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
}

impl OrgDetailPage {
    fn v(&self, k: &str) -> &str {
        self.form.get(k).map(String::as_str).unwrap_or("")
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
    let (d, area_names, workers) = state
        .run(move |c| {
            let d = orgs::detail(c, id, today, rules)?;
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
            let (w, _) = workers::list(c, &by, &f, true)?;
            Ok((d, names, w))
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
    };
    Ok(render(&ctx, status, &page))
}

async fn org_detail(
    state: web::Data<AppState>,
    ctx: PageCtx,
    page: Page<BureauOrAdmin>,
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

type Form = HashMap<String, String>;

fn fv(f: &Form, k: &str) -> String {
    f.get(k).cloned().unwrap_or_default()
}

async fn history_post<T: Send + 'static>(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: PageCtx,
    page: Page<BureauOrAdmin>,
    id: i64,
    form: Form,
    op: impl FnOnce(
        &mut crate::db::DbConn,
        &crate::audit::Actor,
        chrono::DateTime<chrono::Utc>,
    ) -> Result<T, AppError>
    + Send
    + 'static,
) -> Result<HttpResponse, PageError> {
    let ctx = ctx.with_user(&page.user);
    let actor = crate::http::actor(&req, &page.user);
    let now = state.clock.now();
    match state.run(move |c| op(c, &actor, now)).await {
        Ok(_) => Ok(redirect(
            &format!("/registry/orgs/{id}"),
            Some(("ok", ctx.t("orgs.added"))),
        )),
        Err(AppError::Validation(errs)) => {
            let errors = FormErrors::from_fields(ctx.lang, &errs);
            detail_page(
                &state,
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

async fn rating_submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: PageCtx,
    page: Page<BureauOrAdmin>,
    id: web::Path<i64>,
    form: SafeForm<Form>,
) -> Result<HttpResponse, PageError> {
    let id = id.into_inner();
    let f = form.0;
    let r = orgs::NewRating {
        organisation_id: id,
        grade: fv(&f, "grade").trim().parse().unwrap_or(0),
        awarded_on: fv(&f, "awarded_on"),
    };
    history_post(req, state, ctx, page, id, f, move |c, a, now| {
        orgs::add_rating(c, a, now, &r)
    })
    .await
}

async fn inspection_submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: PageCtx,
    page: Page<BureauOrAdmin>,
    id: web::Path<i64>,
    form: SafeForm<Form>,
) -> Result<HttpResponse, PageError> {
    let id = id.into_inner();
    let f = form.0;
    let r = orgs::NewInspection {
        organisation_id: id,
        year: fv(&f, "year").trim().parse().unwrap_or(0),
        kind: fv(&f, "kind"),
        conclusion: fv(&f, "conclusion"),
        decided_on: fv(&f, "decided_on"),
    };
    history_post(req, state, ctx, page, id, f, move |c, a, now| {
        orgs::add_inspection(c, a, now, &r)
    })
    .await
}

async fn listing_submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: PageCtx,
    page: Page<BureauOrAdmin>,
    id: web::Path<i64>,
    form: SafeForm<Form>,
) -> Result<HttpResponse, PageError> {
    let id = id.into_inner();
    let f = form.0;
    let r = orgs::NewListing {
        organisation_id: id,
        list: fv(&f, "list"),
        source: fv(&f, "source"),
        listed_on: fv(&f, "listed_on"),
        evidence_sha256: fv(&f, "evidence_sha256"),
    };
    history_post(req, state, ctx, page, id, f, move |c, a, now| {
        orgs::add_listing(c, a, now, &r)
    })
    .await
}

async fn listing_remove(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: PageCtx,
    page: Page<BureauOrAdmin>,
    id: web::Path<i64>,
    form: SafeForm<Form>,
) -> Result<HttpResponse, PageError> {
    let lid = id.into_inner();
    let f = form.0;
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
        removed_on: fv(&f, "removed_on"),
    };
    history_post(req, state, ctx, page, org_id, f, move |c, a, now| {
        orgs::remove_listing(c, a, now, lid, &r)
    })
    .await
}

// ---------------------------------------------------------------------------------------------------------
// Organisation forms

#[derive(Template)]
#[template(path = "pages/registry/orgs_form.html")]
struct OrgFormPage {
    ctx: PageCtx,
    id: Option<i64>,
    /// The org user's own page: identity fields are proposals, bureau fields are hidden.
    own: bool,
    v: OrgInput,
    errors: FormErrors,
    kinds: Vec<(String, String)>,
    registrations: Vec<(String, String)>,
    fields: Vec<(String, String)>,
    streets: Vec<(String, String)>,
    pending: Vec<ChangeRequestView>,
    l: Labels,
}

impl OrgFormPage {
    fn has_field(&self, k: &str) -> bool {
        self.v.fields.iter().any(|f| f == k)
    }
    fn has_area(&self, id: &str) -> bool {
        self.v.area_street_ids.iter().any(|s| s.to_string() == id)
    }
    fn street_sel(&self, id: &str) -> bool {
        self.v.street_id.map(|s| s.to_string()).as_deref() == Some(id)
    }
    fn action(&self) -> String {
        match (self.own, self.id) {
            (true, _) => "/my/org".into(),
            (false, Some(i)) => format!("/registry/orgs/{i}/edit"),
            (false, None) => "/registry/orgs/new".into(),
        }
    }
    fn count(&self, v: &Option<i64>) -> String {
        v.map(|n| n.to_string()).unwrap_or_default()
    }
}

/// Read the organisation form: plain fields, `field.<key>` and `area.<street id>` checkboxes. Counts that do
/// not parse become -1 so the range rule reports them.
fn org_input_of(f: &Form) -> OrgInput {
    let o = |k: &str| Some(fv(f, k));
    let n = |k: &str| {
        let s = fv(f, k);
        let s = s.trim();
        if s.is_empty() {
            None
        } else {
            Some(s.parse().unwrap_or(-1))
        }
    };
    let mut fields: Vec<String> = f
        .keys()
        .filter_map(|k| k.strip_prefix("field.").map(str::to_string))
        .collect();
    fields.sort();
    let mut areas: Vec<i64> = f
        .keys()
        .filter_map(|k| k.strip_prefix("area.").and_then(|s| s.parse().ok()))
        .collect();
    areas.sort();
    OrgInput {
        name: fv(f, "name"),
        kind: fv(f, "kind"),
        registration: fv(f, "registration"),
        credit_code: o("credit_code"),
        registered_on: o("registered_on"),
        registration_authority: o("registration_authority"),
        legal_representative: o("legal_representative"),
        contact_name: o("contact_name"),
        contact_phone: o("contact_phone"),
        contact_email: o("contact_email"),
        address: o("address"),
        street_id: fv(f, "street_id").parse().ok(),
        staff_count: n("staff_count"),
        volunteer_count: n("volunteer_count"),
        fields,
        area_street_ids: areas,
    }
}

async fn form_page(
    state: &AppState,
    ctx: PageCtx,
    id: Option<i64>,
    own: bool,
    v: OrgInput,
    errors: FormErrors,
    status: StatusCode,
) -> Result<HttpResponse, PageError> {
    let by_org = id;
    let (streets, pending) = state
        .run(move |c| {
            let pending = match (own, by_org) {
                (true, Some(org)) => {
                    let f = ChangeFilter {
                        status: Some("pending".into()),
                        organisation_id: Some(org),
                        ..Default::default()
                    };
                    let staff = CurrentUser {
                        id: 0,
                        username: String::new(),
                        display_name: String::new(),
                        email: None,
                        role: Role::Bureau,
                        org_id: None,
                        token_version: 0,
                        via_cookie: false,
                    };
                    changes::list(c, &staff, &f)?.0
                }
                _ => Vec::new(),
            };
            Ok((street_options(c)?, pending))
        })
        .await
        .map_err(page_err(ctx.lang))?;
    let page = OrgFormPage {
        l: labels(&ctx),
        kinds: options(ctx.lang, KINDS),
        registrations: options(ctx.lang, REGISTRATIONS),
        fields: options(ctx.lang, FIELDS),
        ctx: ctx.clone(),
        id,
        own,
        v,
        errors,
        streets,
        pending,
    };
    Ok(render(&ctx, status, &page))
}

async fn org_new_page(
    state: web::Data<AppState>,
    ctx: PageCtx,
    page: Page<BureauOrAdmin>,
) -> Result<HttpResponse, PageError> {
    let ctx = ctx.with_user(&page.user);
    let v = OrgInput {
        kind: "social_group".into(),
        registration: "registered".into(),
        ..Default::default()
    };
    form_page(
        &state,
        ctx,
        None,
        false,
        v,
        FormErrors::default(),
        StatusCode::OK,
    )
    .await
}

async fn org_new_submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: PageCtx,
    page: Page<BureauOrAdmin>,
    form: SafeForm<Form>,
) -> Result<HttpResponse, PageError> {
    let ctx = ctx.with_user(&page.user);
    let v = org_input_of(&form.0);
    let actor = crate::http::actor(&req, &page.user);
    let now = state.clock.now();
    let v2 = v.clone();
    match state.run(move |c| orgs::create(c, &actor, now, &v2)).await {
        Ok(row) => Ok(redirect(
            &format!("/registry/orgs/{}", row.id),
            Some(("ok", ctx.t("orgs.created"))),
        )),
        Err(AppError::Validation(errs)) => {
            let e = FormErrors::from_fields(ctx.lang, &errs);
            form_page(
                &state,
                ctx,
                None,
                false,
                v,
                e,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => Err(PageError::App(e, ctx.lang)),
    }
}

async fn org_edit_page(
    state: web::Data<AppState>,
    ctx: PageCtx,
    page: Page<BureauOrAdmin>,
    id: web::Path<i64>,
) -> Result<HttpResponse, PageError> {
    let ctx = ctx.with_user(&page.user);
    let id = id.into_inner();
    let v = state
        .run(move |c| orgs::current_input(c, id))
        .await
        .map_err(page_err(ctx.lang))?;
    form_page(
        &state,
        ctx,
        Some(id),
        false,
        v,
        FormErrors::default(),
        StatusCode::OK,
    )
    .await
}

/// A full form as a patch: every field replaces the current one.
fn patch_of(v: &OrgInput, own: bool) -> OrgPatch {
    if own {
        OrgPatch {
            name: Some(v.name.clone()),
            kind: Some(v.kind.clone()),
            credit_code: v.credit_code.clone(),
            contact_name: v.contact_name.clone(),
            contact_phone: v.contact_phone.clone(),
            contact_email: v.contact_email.clone(),
            staff_count: Some(v.staff_count.unwrap_or(0)),
            volunteer_count: Some(v.volunteer_count.unwrap_or(0)),
            fields: Some(v.fields.clone()),
            area_street_ids: Some(v.area_street_ids.clone()),
            ..Default::default()
        }
    } else {
        OrgPatch {
            name: Some(v.name.clone()),
            kind: Some(v.kind.clone()),
            registration: Some(v.registration.clone()),
            credit_code: v.credit_code.clone(),
            registered_on: v.registered_on.clone(),
            registration_authority: v.registration_authority.clone(),
            legal_representative: v.legal_representative.clone(),
            contact_name: v.contact_name.clone(),
            contact_phone: v.contact_phone.clone(),
            contact_email: v.contact_email.clone(),
            address: v.address.clone(),
            street_id: Some(v.street_id.unwrap_or(0)),
            staff_count: Some(v.staff_count.unwrap_or(0)),
            volunteer_count: Some(v.volunteer_count.unwrap_or(0)),
            fields: Some(v.fields.clone()),
            area_street_ids: Some(v.area_street_ids.clone()),
        }
    }
}

async fn save_org(
    req: &HttpRequest,
    state: &AppState,
    ctx: PageCtx,
    user: &CurrentUser,
    id: i64,
    own: bool,
    form: Form,
) -> Result<HttpResponse, PageError> {
    let mut v = org_input_of(&form);
    if own {
        // Fields the organisation does not edit keep their values in the re-shown form.
        let cur = state
            .run(move |c| orgs::current_input(c, id))
            .await
            .map_err(page_err(ctx.lang))?;
        v.registration = cur.registration;
        v.registered_on = cur.registered_on;
        v.registration_authority = cur.registration_authority;
        v.legal_representative = cur.legal_representative;
        v.address = cur.address;
        v.street_id = cur.street_id;
    }
    let p = patch_of(&v, own);
    let (actor, now, by) = (
        crate::http::actor(req, user),
        state.clock.now(),
        user.clone(),
    );
    let (today, rules) = (state.today(), state.standing_rules());
    let r = state
        .run(move |c| orgs::update_with_detail(c, &actor, now, &by, id, &p, today, rules))
        .await;
    match r {
        Ok(r) => {
            let (to, msg) = if own {
                (
                    "/my/org".to_string(),
                    if r.change_request.is_some() {
                        "orgs.request_sent"
                    } else {
                        "orgs.saved"
                    },
                )
            } else {
                (format!("/registry/orgs/{id}"), "orgs.saved")
            };
            Ok(redirect(&to, Some(("ok", ctx.t(msg)))))
        }
        Err(AppError::Validation(errs)) => {
            let e = FormErrors::from_fields(ctx.lang, &errs);
            form_page(
                state,
                ctx,
                Some(id),
                own,
                v,
                e,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => Err(PageError::App(e, ctx.lang)),
    }
}

async fn org_edit_submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: PageCtx,
    page: Page<BureauOrAdmin>,
    id: web::Path<i64>,
    form: SafeForm<Form>,
) -> Result<HttpResponse, PageError> {
    let ctx = ctx.with_user(&page.user);
    save_org(
        &req,
        &state,
        ctx,
        &page.user,
        id.into_inner(),
        false,
        form.0,
    )
    .await
}

async fn my_org(
    state: web::Data<AppState>,
    ctx: PageCtx,
    page: Page<OrgOnly>,
) -> Result<HttpResponse, PageError> {
    let ctx = ctx.with_user(&page.user);
    let id = page
        .user
        .org_id
        .ok_or(PageError::App(AppError::NotFound, ctx.lang))?;
    let v = state
        .run(move |c| orgs::current_input(c, id))
        .await
        .map_err(page_err(ctx.lang))?;
    form_page(
        &state,
        ctx,
        Some(id),
        true,
        v,
        FormErrors::default(),
        StatusCode::OK,
    )
    .await
}

async fn my_org_submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: PageCtx,
    page: Page<OrgOnly>,
    form: SafeForm<Form>,
) -> Result<HttpResponse, PageError> {
    let ctx = ctx.with_user(&page.user);
    let id = page
        .user
        .org_id
        .ok_or(PageError::App(AppError::NotFound, ctx.lang))?;
    save_org(&req, &state, ctx, &page.user, id, true, form.0).await
}

// ---------------------------------------------------------------------------------------------------------
// Change requests

#[derive(Deserialize, Default)]
struct ChangeQuery {
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
    let (p, per) = crate::db::paging(f.page, f.per_page);
    let by = user.clone();
    let (rows, total) = state
        .run(move |c| changes::list(c, &by, &f))
        .await
        .map_err(page_err(ctx.lang))?;
    let pager = Pager::new(
        "/registry/changes",
        &[("status", status.clone())],
        p,
        per,
        total,
    );
    let page = ChangeListPage {
        l: labels(&ctx),
        ctx: ctx.clone(),
        rows,
        status,
        pager,
        errors,
    };
    Ok(render(&ctx, code, &page))
}

async fn change_list(
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

async fn change_decide(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: PageCtx,
    page: Page<BureauOrAdmin>,
    id: web::Path<i64>,
    form: SafeForm<Form>,
) -> Result<HttpResponse, PageError> {
    let ctx = ctx.with_user(&page.user);
    let d = Decision {
        decision: fv(&form.0, "decision"),
        reason: Some(fv(&form.0, "reason")),
    };
    let actor = crate::http::actor(&req, &page.user);
    let now = state.clock.now();
    let by = page.user.clone();
    let id = id.into_inner();
    match state
        .run(move |c| changes::decide(c, &actor, now, &by, id, &d))
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

async fn import_page(ctx: PageCtx, page: Page<BureauOrAdmin>) -> HttpResponse {
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
    let now = state.clock.now();
    let secret = state.config.beneficiary_secret.expose().to_string();
    let t2 = text.clone();
    let r = state
        .run(move |c| {
            if which == "orgs" {
                import::import_orgs(c, &actor, now, &t2)
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

async fn import_orgs_submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: PageCtx,
    page: Page<BureauOrAdmin>,
    form: SafeForm<Form>,
) -> Result<HttpResponse, PageError> {
    let ctx = ctx.with_user(&page.user);
    import_submit(
        req,
        state,
        ctx,
        page.user.clone(),
        "orgs",
        fv(&form.0, "csv"),
    )
    .await
}

async fn import_workers_submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: PageCtx,
    page: Page<BureauOrAdmin>,
    form: SafeForm<Form>,
) -> Result<HttpResponse, PageError> {
    let ctx = ctx.with_user(&page.user);
    import_submit(
        req,
        state,
        ctx,
        page.user.clone(),
        "workers",
        fv(&form.0, "csv"),
    )
    .await
}

// ---------------------------------------------------------------------------------------------------------
// Social workers

#[derive(Deserialize, Default, Clone)]
struct WorkerQuery {
    q: Option<String>,
    organisation_id: Option<String>,
    level: Option<String>,
    employment: Option<String>,
    street: Option<String>,
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
}

impl WorkerListPage {
    fn sel(&self, k: &str) -> &str {
        self.f.get(k).map(String::as_str).unwrap_or("")
    }
}

async fn worker_list(
    state: web::Data<AppState>,
    ctx: PageCtx,
    page: Page<StaffOrOrg>,
    q: web::Query<WorkerQuery>,
) -> Result<HttpResponse, PageError> {
    let ctx = ctx.with_user(&page.user);
    let q = q.into_inner();
    let f = q.filter();
    let (p, per) = crate::db::paging(f.page, f.per_page);
    let by = page.user.clone();
    let ((rows, total), streets) = state
        .run(move |c| Ok((workers::list(c, &by, &f, true)?, street_options(c)?)))
        .await
        .map_err(page_err(ctx.lang))?;
    let params = q.params();
    let export_link = {
        let mut s = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in params.iter().filter(|(_, v)| !v.is_empty()) {
            s.append_pair(k, v);
        }
        format!("/api/v1/social-workers/export?{}", s.finish())
    };
    let pager = Pager::new("/registry/workers", &params, p, per, total);
    let page = WorkerListPage {
        l: labels(&ctx),
        levels: options(ctx.lang, LEVELS),
        employments: options(ctx.lang, EMPLOYMENTS),
        staff: page.user.is_staff(),
        f: params.into_iter().collect(),
        ctx: ctx.clone(),
        rows,
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
}

async fn worker_detail(
    state: web::Data<AppState>,
    ctx: PageCtx,
    page: Page<StaffOrOrg>,
    id: web::Path<i64>,
) -> Result<HttpResponse, PageError> {
    let ctx = ctx.with_user(&page.user);
    let by = page.user.clone();
    let id = id.into_inner();
    let w = state
        .run(move |c| workers::get(c, &by, id))
        .await
        .map_err(page_err(ctx.lang))?;
    let p = WorkerDetailPage {
        l: labels(&ctx),
        ctx: ctx.clone(),
        w,
    };
    Ok(render(&ctx, StatusCode::OK, &p))
}

#[derive(Template)]
#[template(path = "pages/registry/workers_form.html")]
struct WorkerFormPage {
    ctx: PageCtx,
    id: Option<i64>,
    v: WorkerInput,
    has_id: bool,
    errors: FormErrors,
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

#[allow(clippy::too_many_arguments)]
async fn worker_form(
    state: &AppState,
    ctx: PageCtx,
    user: &CurrentUser,
    id: Option<i64>,
    v: WorkerInput,
    has_id: bool,
    errors: FormErrors,
    code: StatusCode,
) -> Result<HttpResponse, PageError> {
    let own = (user.role == Role::Org).then_some(user.org_id.unwrap_or(-1));
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
        orgs: orgs_list,
        streets,
    };
    Ok(render(&ctx, code, &p))
}

fn worker_input_of(f: &Form) -> WorkerInput {
    let mut streets: Vec<i64> = f
        .keys()
        .filter_map(|k| k.strip_prefix("street.").and_then(|s| s.parse().ok()))
        .collect();
    streets.sort();
    WorkerInput {
        organisation_id: fv(f, "organisation_id").parse().unwrap_or(0),
        name: fv(f, "name"),
        id_number: Some(fv(f, "id_number")).filter(|s| !s.trim().is_empty()),
        phone: Some(fv(f, "phone")),
        certificate_level: fv(f, "certificate_level"),
        certificate_number: Some(fv(f, "certificate_number")),
        certified_on: Some(fv(f, "certified_on")),
        employment: fv(f, "employment"),
        street_ids: streets,
    }
}

#[derive(Deserialize, Default)]
struct NewWorkerQuery {
    org: Option<String>,
}

async fn worker_new_page(
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
    )
    .await
}

async fn worker_new_submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: PageCtx,
    page: Page<StaffOrOrg>,
    form: SafeForm<Form>,
) -> Result<HttpResponse, PageError> {
    let ctx = ctx.with_user(&page.user);
    let mut v = worker_input_of(&form.0);
    if page.user.role == Role::Org {
        v.organisation_id = page.user.own_org_id().map_err(page_err(ctx.lang))?;
    }
    let actor = crate::http::actor(&req, &page.user);
    let now = state.clock.now();
    let secret = state.config.beneficiary_secret.expose().to_string();
    let by = page.user.clone();
    let v2 = v.clone();
    match state
        .run(move |c| workers::create(c, &actor, now, &secret, &by, &v2))
        .await
    {
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
            )
            .await
        }
        Err(e) => Err(PageError::App(e, ctx.lang)),
    }
}

async fn worker_edit_page(
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
    worker_form(
        &state,
        ctx,
        &page.user,
        Some(id),
        v,
        has_id,
        FormErrors::default(),
        StatusCode::OK,
    )
    .await
}

async fn worker_edit_submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: PageCtx,
    page: Page<StaffOrOrg>,
    id: web::Path<i64>,
    form: SafeForm<Form>,
) -> Result<HttpResponse, PageError> {
    let ctx = ctx.with_user(&page.user);
    let id = id.into_inner();
    let mut v = worker_input_of(&form.0);
    let actor = crate::http::actor(&req, &page.user);
    let now = state.clock.now();
    let secret = state.config.beneficiary_secret.expose().to_string();
    let by = page.user.clone();
    if by.role == Role::Org {
        v.organisation_id = by.own_org_id().map_err(page_err(ctx.lang))?;
    }
    let v2 = v.clone();
    match state
        .run(move |c| workers::update(c, &actor, now, &secret, &by, id, &v2))
        .await
    {
        Ok(_) => Ok(redirect(
            &format!("/registry/workers/{id}"),
            Some(("ok", ctx.t("orgs.saved"))),
        )),
        Err(AppError::Validation(errs)) => {
            let e = FormErrors::from_fields(ctx.lang, &errs);
            v.id_number = None;
            worker_form(
                &state,
                ctx,
                &page.user,
                Some(id),
                v,
                false,
                e,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => Err(PageError::App(e, ctx.lang)),
    }
}

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

async fn worker_counts(
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

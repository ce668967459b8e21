//! Social workers API. The bureau, administrators and finance read (an `org` user only its own
//! organisation's workers; evaluators not at all); phones are masked except for the bureau, administrators
//! and the worker's own organisation; identity numbers are
//! accepted, checked and kept only as a keyed hash, never returned.

use actix_web::{HttpRequest, HttpResponse, get, patch, post, web};

use super::Paged;
use super::orgs::{csv_response, csv_text};
use crate::app::AppState;
use crate::error::{AppError, Problem};
use crate::http::caller::StaffOrOrg;
use crate::http::caller::{AnyRole, Authed, BureauOrAdmin, WorkerReaders};
use crate::http::input::Json;
use crate::http::{IfMatch, versioned};
use crate::registry::import::{self, ImportResult};
use crate::registry::workers::{self, Counts, WorkerFilter, WorkerInput, WorkerView};

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list)
        .service(counts)
        .service(export)
        .service(import_csv)
        .service(create)
        .service(get_one)
        .service(update)
        .service(verify);
}

/// Social workers, with search (name, certificate number), filters and paging.
#[utoipa::path(tag = "social workers", security(("bearer" = [])), params(WorkerFilter), responses((status = 200, body = Paged<WorkerView>), (status = 401, body = Problem), (status = 403, body = Problem)))]
#[get("/social-workers")]
pub async fn list(
    state: web::Data<AppState>,
    user: Authed<WorkerReaders>,
    q: web::Query<WorkerFilter>,
) -> Result<HttpResponse, AppError> {
    let f = q.into_inner();
    let by = user.user.clone();
    let paged = state.run(move |c| workers::list(c, &by, &f, true)).await?;
    Ok(HttpResponse::Ok().json(paged))
}

/// Workers still employed, counted by certificate level, by organisation and by street served.
#[utoipa::path(tag = "social workers", security(("bearer" = [])), responses((status = 200, body = Counts), (status = 401, body = Problem), (status = 403, body = Problem)))]
#[get("/social-workers/counts")]
pub async fn counts(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: Authed<AnyRole>,
) -> Result<HttpResponse, AppError> {
    let by = user.user.clone();
    let zh = crate::i18n::Lang::from_request(&req) == crate::i18n::Lang::Zh;
    let c = state.run(move |c| workers::counts(c, &by, zh)).await?;
    Ok(HttpResponse::Ok().json(c))
}

/// The filtered list as CSV (UTF-8 with BOM); phones as the caller may see them, never identity numbers.
#[utoipa::path(tag = "social workers", security(("bearer" = [])), params(WorkerFilter), responses((status = 200, content_type = "text/csv", body = String), (status = 401, body = Problem), (status = 403, body = Problem)))]
#[get("/social-workers/export")]
pub async fn export(
    state: web::Data<AppState>,
    user: Authed<WorkerReaders>,
    q: web::Query<WorkerFilter>,
) -> Result<HttpResponse, AppError> {
    let f = q.into_inner();
    let by = user.user.clone();
    let body = state
        .run(move |c| {
            let rows = workers::list(c, &by, &f, false)?.items;
            import::export_workers(c, &by, &rows)
        })
        .await?;
    Ok(csv_response("social-workers.csv", body))
}

/// Import social workers from CSV (UTF-8, BOM optional; `text/csv` body or JSON `{"csv": "…"}`). Columns,
/// by Chinese or English header: 姓名/name (required), 所属组织/organisation (credit code or exact name),
/// 身份证号/id_number (checked, stored only as a keyed hash), 手机号/phone, 证书等级/certificate_level
/// (无证书, 助理社会工作师, 社会工作师, 高级社会工作师 or the keys), 证书编号/certificate_number,
/// 取证日期/certified_on, 用工形式/employment (全职, 兼职, 已离职 or the keys), 服务街道/streets (separated by
/// ；). One bad row rejects the file with every error as `line N: column` and its rule; nothing is stored.
#[utoipa::path(tag = "social workers", security(("bearer" = [])), request_body(content = String, content_type = "text/csv"), responses((status = 201, body = ImportResult), (status = 422, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem), (status = 415, body = Problem)))]
#[post("/social-workers/import")]
pub async fn import_csv(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: Authed<BureauOrAdmin>,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    let text = csv_text(&req, &body)?;
    let actor = crate::http::actor(&req, &user);
    let now = state.clock.now();
    let secret = state.config.beneficiary_secret.expose().to_string();
    let r = state
        .run(move |c| import::import_workers(c, &actor, now, &secret, &text))
        .await?;
    Ok(HttpResponse::Created().json(r))
}

/// Register a social worker (an `org` user: for its own organisation).
#[utoipa::path(tag = "social workers", security(("bearer" = [])), request_body = WorkerInput, responses((status = 201, body = WorkerView), (status = 422, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem)))]
#[post("/social-workers")]
pub async fn create(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: Authed<StaffOrOrg>,
    body: Json<WorkerInput>,
) -> Result<HttpResponse, AppError> {
    let actor = crate::http::actor(&req, &user);
    let now = state.clock.now();
    let secret = state.config.beneficiary_secret.expose().to_string();
    let by = user.user.clone();
    let w = body.into_inner();
    let v = state
        .run(move |c| {
            let r = workers::create(c, &actor, now, &secret, &by, &w)?;
            workers::get(c, &by, r.id)
        })
        .await?;
    Ok(HttpResponse::Created().json(v))
}

/// One social worker.
#[utoipa::path(tag = "social workers", security(("bearer" = [])), params(("id" = i64, Path)), responses((status = 200, body = WorkerView, headers(("ETag" = String, description = "The record\'s version: send it back as If-Match when changing the record"))), (status = 404, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem)))]
#[get("/social-workers/{id}")]
pub async fn get_one(
    state: web::Data<AppState>,
    user: Authed<WorkerReaders>,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let by = user.user.clone();
    let (v, ver) = state
        .run(move |c| Ok((workers::get(c, &by, id)?, workers::version(c, id)?)))
        .await?;
    Ok(versioned(HttpResponse::Ok(), &v, &ver))
}

/// Change a social worker (the full new state; omit `id_number` to keep the one on file).
#[utoipa::path(tag = "social workers", security(("bearer" = [])), params(("id" = i64, Path), ("If-Match" = Option<String>, Header, description = "The version (ETag) the change starts from; a stale one is refused with 412")), request_body = WorkerInput, responses((status = 200, body = WorkerView, headers(("ETag" = String, description = "The new version"))), (status = 404, body = Problem), (status = 412, body = Problem, content_type = "application/problem+json", description = "Changed by someone else since the version in If-Match"), (status = 422, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem)))]
#[patch("/social-workers/{id}")]
pub async fn update(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: Authed<StaffOrOrg>,
    id: web::Path<i64>,
    if_match: IfMatch,
    body: Json<WorkerInput>,
) -> Result<HttpResponse, AppError> {
    let actor = crate::http::actor(&req, &user);
    let now = state.clock.now();
    let secret = state.config.beneficiary_secret.expose().to_string();
    let by = user.user.clone();
    let id = id.into_inner();
    let w = body.into_inner();
    let (v, ver) = state
        .run(move |c| {
            let expect = if_match.0.as_deref();
            workers::update(c, &actor, now, &secret, &by, id, &w, expect)?;
            Ok((workers::get(c, &by, id)?, workers::version(c, id)?))
        })
        .await?;
    Ok(versioned(HttpResponse::Ok(), &v, &ver))
}

/// The bureau verifies a worker's certificate (level, number, date) against the certificate itself; until
/// then a worker an organisation entered or changed counts for no eligibility rule and cannot be proposed in
/// a bid. 409 when already verified; 412 when the worker changed since the version in If-Match.
#[utoipa::path(tag = "social workers", security(("bearer" = [])), params(("id" = i64, Path), ("If-Match" = Option<String>, Header, description = "The version (ETag) the officer checked; a stale one is refused with 412")), responses((status = 200, body = WorkerView, headers(("ETag" = String, description = "The version"))), (status = 404, body = Problem), (status = 409, body = Problem), (status = 412, body = Problem, content_type = "application/problem+json", description = "Changed by the organisation since the version in If-Match"), (status = 401, body = Problem), (status = 403, body = Problem)))]
#[post("/social-workers/{id}/verify")]
pub async fn verify(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: Authed<BureauOrAdmin>,
    id: web::Path<i64>,
    if_match: IfMatch,
) -> Result<HttpResponse, AppError> {
    let actor = crate::http::actor(&req, &user);
    let now = state.clock.now();
    let by = user.user.clone();
    let id = id.into_inner();
    let (v, ver) = state
        .run(move |c| {
            workers::verify(c, &actor, now, &by, id, if_match.0.as_deref())?;
            Ok((workers::get(c, &by, id)?, workers::version(c, id)?))
        })
        .await?;
    Ok(versioned(HttpResponse::Ok(), &v, &ver))
}

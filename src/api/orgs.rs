//! Organisations API: the registry (bureau, administrators; an `org` user its own organisation), ratings,
//! inspections, credit listings, change requests, CSV import and export, and the public directory.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use serde::Deserialize;

use super::Paged;
use crate::app::AppState;
use crate::error::{AppError, Problem};
use crate::http::caller::{
    Authed, BureauOrAdmin, LinkReaders, OrgRecordReaders, RegistryReaders, StaffOrOrg,
};
use crate::http::input::Json;
use crate::http::{IfMatch, versioned};
use crate::registry::changes::{self, ChangeFilter, ChangeRequestView, Decision};
use crate::registry::import::{self, ImportResult};
use crate::registry::orgs::{
    self, InspectionRow, LinkView, ListingRemoval, ListingRow, NewInspection, NewLink, NewListing,
    NewRating, OrgDetail, OrgFilter, OrgInput, OrgPatch, OrgView, PublicFilter, PublicOrg,
    RatingRow, UpdateResult,
};

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(public_list)
        .service(list)
        .service(export)
        .service(import_csv)
        .service(create)
        .service(get_one)
        .service(update)
        .service(add_rating)
        .service(add_inspection)
        .service(add_listing)
        .service(remove_listing)
        .service(list_links)
        .service(add_link)
        .service(remove_link)
        .service(list_changes)
        .service(decide_change);
}

/// The public directory: registered organisations (name, kind, code, current rating, service fields).
#[utoipa::path(tag = "organisations", params(PublicFilter), responses((status = 200, body = Paged<PublicOrg>)))]
#[get("/public/organisations")]
pub async fn public_list(
    state: web::Data<AppState>,
    q: web::Query<PublicFilter>,
) -> Result<HttpResponse, AppError> {
    let f = q.into_inner();
    let (today, rules) = (state.today(), state.standing_rules());
    let paged = state
        .run(move |c| orgs::public_list(c, &f, today, rules))
        .await?;
    Ok(HttpResponse::Ok().json(paged))
}

/// Organisations with their standing; search by Chinese name or credit code, filters and paging.
#[utoipa::path(tag = "organisations", security(("bearer" = [])), params(OrgFilter), responses((status = 200, body = Paged<OrgView>), (status = 401, body = Problem), (status = 403, body = Problem)))]
#[get("/organisations")]
pub async fn list(
    state: web::Data<AppState>,
    _user: Authed<RegistryReaders>,
    q: web::Query<OrgFilter>,
) -> Result<HttpResponse, AppError> {
    let f = q.into_inner();
    let (today, rules) = (state.today(), state.standing_rules());
    let paged = state.run(move |c| orgs::list(c, &f, today, rules)).await?;
    Ok(HttpResponse::Ok().json(paged))
}

pub fn csv_response(name: &str, body: String) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{name}\""),
        ))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(body)
}

/// The filtered list (no paging) as CSV: UTF-8 with BOM, Chinese headers, importable again.
#[utoipa::path(tag = "organisations", security(("bearer" = [])), params(OrgFilter), responses((status = 200, content_type = "text/csv", body = String), (status = 401, body = Problem), (status = 403, body = Problem)))]
#[get("/organisations/export")]
pub async fn export(
    state: web::Data<AppState>,
    _user: Authed<RegistryReaders>,
    q: web::Query<OrgFilter>,
) -> Result<HttpResponse, AppError> {
    let f = q.into_inner();
    let (today, rules) = (state.today(), state.standing_rules());
    let body = state
        .run(move |c| {
            let rows = orgs::list_all(c, &f, today, rules)?;
            import::export_orgs(c, &rows)
        })
        .await?;
    Ok(csv_response("organisations.csv", body))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct CsvBody {
    /// The CSV text.
    pub csv: String,
}

/// The CSV text of an import request: a `text/csv` body, or JSON `{"csv": "…"}`.
pub fn csv_text(req: &HttpRequest, body: &[u8]) -> Result<String, AppError> {
    let ct = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let utf8 = |b: &[u8]| {
        String::from_utf8(b.to_vec()).map_err(|_| {
            AppError::field(
                "file",
                "utf8",
                "文件须为 UTF-8 编码。",
                "The file must be UTF-8.",
            )
        })
    };
    let text = if ct.starts_with("text/csv") {
        utf8(body)
    } else if ct.starts_with("application/json") {
        serde_json::from_slice::<CsvBody>(body)
            .map(|b| b.csv)
            .map_err(|e| {
                AppError::bad_request(
                    "invalid_json",
                    format!("JSON 无法解析：{e}"),
                    format!("The JSON body could not be read: {e}"),
                )
            })
    } else {
        Err(AppError::BadRequest {
            code: "unsupported_media_type",
            msg: crate::error::Msg::new(
                "请求须为 text/csv 或 application/json。",
                "The request must be text/csv or application/json.",
            ),
            status: actix_web::http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
        })
    }?;
    // The file is read here, not by `http::input::Json`: the same refusal of control characters, naming
    // the file (`file`) or the JSON field that carried it (`csv`).
    let field = if ct.starts_with("text/csv") {
        "file"
    } else {
        "csv"
    };
    match crate::http::input::text_error(field, &text) {
        Some(e) => Err(AppError::Validation(vec![e])),
        None => Ok(text),
    }
}

/// Import organisations from CSV (UTF-8, BOM optional; `text/csv` body or JSON `{"csv": "…"}`). Columns,
/// by Chinese or English header: 名称/name (required), 类型/kind, 登记状态/registration,
/// 统一社会信用代码/credit_code, 登记日期/registered_on, 登记管理机关/registration_authority,
/// 法定代表人/legal_representative, 联系人/contact_name, 联系电话/contact_phone, 电子邮箱/contact_email,
/// 地址/address, 所在街道/street, 专职人数/staff_count, 志愿者人数/volunteer_count, 服务领域/fields,
/// 服务区域/areas (lists separated by ；). Every row is checked; one bad row rejects the file with a 422 that
/// lists every error as `line N: column` and its rule, and nothing is stored.
#[utoipa::path(tag = "organisations", security(("bearer" = [])), request_body(content = String, content_type = "text/csv"), responses((status = 201, body = ImportResult), (status = 422, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem), (status = 415, body = Problem)))]
#[post("/organisations/import")]
pub async fn import_csv(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: Authed<BureauOrAdmin>,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    let text = csv_text(&req, &body)?;
    let actor = crate::http::actor(&req, &user);
    let (now, rules) = (state.clock.now(), state.standing_rules());
    let r = state
        .run(move |c| import::import_orgs(c, &actor, now, rules, &text))
        .await?;
    Ok(HttpResponse::Created().json(r))
}

/// Register an organisation.
#[utoipa::path(tag = "organisations", security(("bearer" = [])), request_body = OrgInput, responses((status = 201, body = OrgDetail), (status = 422, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem)))]
#[post("/organisations")]
pub async fn create(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: Authed<BureauOrAdmin>,
    body: Json<OrgInput>,
) -> Result<HttpResponse, AppError> {
    let actor = crate::http::actor(&req, &user);
    let now = state.clock.now();
    let (today, rules) = (state.today(), state.standing_rules());
    let inp = body.into_inner();
    let d = state
        .run(move |c| {
            let row = orgs::create(c, &actor, now, rules, &inp)?;
            orgs::detail(c, row.id, today, rules)
        })
        .await?;
    Ok(HttpResponse::Created().json(d))
}

/// One organisation with its standing (every reason), ratings, inspections and listings. Finance reads any
/// (to audit); an `org` user sees only its own.
#[utoipa::path(tag = "organisations", security(("bearer" = [])), params(("id" = i64, Path)), responses((status = 200, body = OrgDetail, headers(("ETag" = String, description = "The record\'s version: send it back as If-Match when changing the record"))), (status = 404, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem)))]
#[get("/organisations/{id}")]
pub async fn get_one(
    state: web::Data<AppState>,
    user: Authed<OrgRecordReaders>,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    orgs::check_access(&user, id)?;
    let (today, rules) = (state.today(), state.standing_rules());
    let (d, v) = state
        .run(move |c| Ok((orgs::detail(c, id, today, rules)?, orgs::version(c, id)?)))
        .await?;
    Ok(versioned(HttpResponse::Ok(), &d, &v))
}

/// Change an organisation. The bureau changes anything; an `org` user (own organisation) changes contacts,
/// counts, service fields and areas, and a change of name, kind or credit code becomes a pending change
/// request.
#[utoipa::path(tag = "organisations", security(("bearer" = [])), params(("id" = i64, Path), ("If-Match" = Option<String>, Header, description = "The version (ETag) the change starts from; a stale one is refused with 412")), request_body = OrgPatch, responses((status = 200, body = UpdateResult, headers(("ETag" = String, description = "The new version"))), (status = 404, body = Problem), (status = 412, body = Problem, content_type = "application/problem+json", description = "Changed by someone else since the version in If-Match"), (status = 422, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem)))]
#[patch("/organisations/{id}")]
pub async fn update(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: Authed<StaffOrOrg>,
    id: web::Path<i64>,
    if_match: IfMatch,
    body: Json<OrgPatch>,
) -> Result<HttpResponse, AppError> {
    let (actor, now, by) = (
        crate::http::actor(&req, &user),
        state.clock.now(),
        user.user.clone(),
    );
    let (today, rules) = (state.today(), state.standing_rules());
    let (id, p) = (id.into_inner(), body.into_inner());
    let r = state
        .run(move |c| {
            let r = orgs::update_with_detail(
                c,
                &actor,
                now,
                &by,
                id,
                &p,
                today,
                rules,
                if_match.0.as_deref(),
            )?;
            Ok((r, orgs::version(c, id)?))
        })
        .await?;
    Ok(versioned(HttpResponse::Ok(), &r.0, &r.1))
}

/// Record a rating decision (等级评估): an award (it expires five years after the award date), or a
/// revocation (`decision: revocation`, 撤销等级, 民政部令第39号 Art 30) with its reason, which leaves the
/// organisation without a rating from its date. A revocation without a reason or without a rating in force
/// to revoke is refused (422).
#[utoipa::path(tag = "organisations", security(("bearer" = [])), request_body = NewRating, responses((status = 201, body = RatingRow), (status = 404, body = Problem), (status = 422, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem)))]
#[post("/organisation-ratings")]
pub async fn add_rating(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: Authed<BureauOrAdmin>,
    body: Json<NewRating>,
) -> Result<HttpResponse, AppError> {
    let actor = crate::http::actor(&req, &user);
    let now = state.clock.now();
    let (b, rules) = (body.into_inner(), state.standing_rules());
    let r = state
        .run(move |c| orgs::add_rating(c, &actor, now, rules, &b))
        .await?;
    Ok(HttpResponse::Created().json(r))
}

/// Record a year's annual inspection or report (one per year; a second for the same year is refused).
#[utoipa::path(tag = "organisations", security(("bearer" = [])), request_body = NewInspection, responses((status = 201, body = InspectionRow), (status = 404, body = Problem), (status = 422, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem)))]
#[post("/organisation-inspections")]
pub async fn add_inspection(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: Authed<BureauOrAdmin>,
    body: Json<NewInspection>,
) -> Result<HttpResponse, AppError> {
    let actor = crate::http::actor(&req, &user);
    let now = state.clock.now();
    let (b, rules) = (body.into_inner(), state.standing_rules());
    let r = state
        .run(move |c| orgs::add_inspection(c, &actor, now, rules, &b))
        .await?;
    Ok(HttpResponse::Created().json(r))
}

/// Record a credit listing with its source, date and evidence file: as `multipart/form-data` (the listing as
/// JSON in the part `data`, the file in the part `file`; its hash becomes `evidence_sha256`), or as JSON
/// declaring `evidence_sha256`, the file following by `POST /api/v1/evidence/credit_evidence/{listing id}`.
#[utoipa::path(tag = "organisations", security(("bearer" = [])), request_body(content((NewListing = "application/json"), (crate::api::files::EvidenceUpload = "multipart/form-data"))), responses((status = 201, body = ListingRow), (status = 404, body = Problem), (status = 422, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem)))]
#[post("/credit-listings")]
pub async fn add_listing(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: Authed<BureauOrAdmin>,
    payload: web::Payload,
) -> Result<HttpResponse, actix_web::Error> {
    use crate::files::{Purpose, evidence};
    let actor = crate::http::actor(&req, &user);
    let now = state.clock.now();
    let rules = state.standing_rules();
    let (mut b, file) =
        crate::http::files::json_or_upload::<NewListing>(&req, payload, &state.files).await?;
    let typed = b.evidence_sha256.clone();
    let r = crate::http::files::with_evidence(
        &state.files,
        file,
        Purpose::CreditEvidence,
        user.id,
        ("evidence_sha256", &typed),
        |hash, ev| {
            b.evidence_sha256 = hash;
            state.run(move |c| {
                evidence::written_with(
                    c,
                    &actor,
                    now,
                    ev.as_ref(),
                    |c| orgs::add_listing(c, &actor, now, rules, &b),
                    |_, r| Ok(r.id),
                )
            })
        },
    )
    .await?;
    Ok(HttpResponse::Created().json(r))
}

/// Record the removal of a listing (from that date it no longer counts).
#[utoipa::path(tag = "organisations", security(("bearer" = [])), params(("id" = i64, Path)), request_body = ListingRemoval, responses((status = 200, body = ListingRow), (status = 404, body = Problem), (status = 422, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem)))]
#[patch("/credit-listings/{id}")]
pub async fn remove_listing(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: Authed<BureauOrAdmin>,
    id: web::Path<i64>,
    body: Json<ListingRemoval>,
) -> Result<HttpResponse, AppError> {
    let actor = crate::http::actor(&req, &user);
    let now = state.clock.now();
    let id = id.into_inner();
    let (b, rules) = (body.into_inner(), state.standing_rules());
    let r = state
        .run(move |c| orgs::remove_listing(c, &actor, now, rules, id, &b))
        .await?;
    Ok(HttpResponse::Ok().json(r))
}

/// Change requests (name, kind, credit code), newest first; an `org` user sees its own.
#[utoipa::path(tag = "organisations", security(("bearer" = [])), params(ChangeFilter), responses((status = 200, body = Paged<ChangeRequestView>), (status = 401, body = Problem), (status = 403, body = Problem)))]
#[get("/change-requests")]
pub async fn list_changes(
    state: web::Data<AppState>,
    user: Authed<StaffOrOrg>,
    q: web::Query<ChangeFilter>,
) -> Result<HttpResponse, AppError> {
    let f = q.into_inner();
    let by = user.user.clone();
    let paged = state.run(move |c| changes::list(c, &by, &f)).await?;
    Ok(HttpResponse::Ok().json(paged))
}

/// Approve (the change is applied) or reject (with a reason) a pending change request.
#[utoipa::path(tag = "organisations", security(("bearer" = [])), params(("id" = i64, Path)), request_body = Decision, responses((status = 200, body = ChangeRequestView), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem)))]
#[patch("/change-requests/{id}")]
pub async fn decide_change(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: Authed<BureauOrAdmin>,
    id: web::Path<i64>,
    body: Json<Decision>,
) -> Result<HttpResponse, AppError> {
    let actor = crate::http::actor(&req, &user);
    let now = state.clock.now();
    let by = user.user.clone();
    let id = id.into_inner();
    let (d, rules) = (body.into_inner(), state.standing_rules());
    let v = state
        .run(move |c| {
            let r = changes::decide(c, &actor, now, rules, &by, id, &d)?;
            let name = orgs::find(c, r.organisation_id)?.name;
            Ok(ChangeRequestView::of(r, name))
        })
        .await?;
    Ok(HttpResponse::Ok().json(v))
}

/// The organisation's links to related organisations (实施条例 Art 18: the same responsible person, or a
/// direct controlling or management relationship), which bar them from bidding on the same tender. The
/// bureau, administrators and finance read any; an `org` user its own organisation's (it should know what
/// the bureau holds against it), another's is 404.
#[utoipa::path(tag = "organisations", security(("bearer" = [])), params(("id" = i64, Path)), responses((status = 200, body = Vec<LinkView>), (status = 404, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem)))]
#[get("/organisations/{id}/links")]
pub async fn list_links(
    state: web::Data<AppState>,
    user: Authed<LinkReaders>,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    if user.user.role == crate::auth::Role::Org && user.user.org_id != Some(id) {
        return Err(AppError::NotFound);
    }
    let r = state.run(move |c| orgs::links_of(c, id)).await?;
    Ok(HttpResponse::Ok().json(r))
}

/// Record a link between this organisation and another (by id or credit code): kind and evidence. A link
/// to itself or to an unknown organisation is 422; a pair already linked is 409.
#[utoipa::path(tag = "organisations", security(("bearer" = [])), params(("id" = i64, Path)), request_body = NewLink, responses((status = 201, body = LinkView), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem)))]
#[post("/organisations/{id}/links")]
pub async fn add_link(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: Authed<BureauOrAdmin>,
    id: web::Path<i64>,
    body: Json<NewLink>,
) -> Result<HttpResponse, AppError> {
    let (actor, now, by) = (
        crate::http::actor(&req, &user),
        state.clock.now(),
        user.user.id,
    );
    let (id, b) = (id.into_inner(), body.into_inner());
    let r = state
        .run(move |c| orgs::add_link(c, &actor, now, by, id, &b))
        .await?;
    Ok(HttpResponse::Created().json(r))
}

/// End the link between the two organisations (either order); 404 when there is none.
#[utoipa::path(tag = "organisations", security(("bearer" = [])), params(("id" = i64, Path), ("other_id" = i64, Path)), responses((status = 204), (status = 404, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem)))]
#[delete("/organisations/{id}/links/{other_id}")]
pub async fn remove_link(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: Authed<BureauOrAdmin>,
    path: web::Path<(i64, i64)>,
) -> Result<HttpResponse, AppError> {
    let (actor, now) = (crate::http::actor(&req, &user), state.clock.now());
    let (id, other) = path.into_inner();
    state
        .run(move |c| orgs::remove_link(c, &actor, now, id, other))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

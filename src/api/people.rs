//! People served over the JSON API (docs/PEOPLE.md): an organisation registers the people it serves and
//! records activities under its own live contracts (one at a time, or an attendance CSV, all or nothing);
//! counts of 人次 and 人数 for the district (bureau, finance, administrators), for an organisation's own
//! (an `org` user), and the district's totals for everyone. No response carries an identity number, its
//! hash, or a name, except an organisation's own people to that organisation.

use actix_web::{HttpRequest, HttpResponse, get, post, web};
use serde::Deserialize;

use super::orgs::{csv_response, csv_text};
use crate::app::AppState;
use crate::contracts::Reader;
use crate::domain::people::Dimension;
use crate::error::{AppError, Problem};
use crate::http::caller::{Authed, CurrentUser, OrgOnly, Role, ServiceReaders};
use crate::http::input::Json;
use crate::people::Ctx;
use crate::people::activities::{
    self, ActivityFilter, ActivityView, ImportedActivities, NewActivity, Recorded,
};
use crate::people::beneficiaries::{self, BeneficiaryFilter, BeneficiaryView, NewBeneficiary};
use crate::people::counts::{self, CountFilter, Line, Overview, PublicTotals, Scope};

/// The largest attendance file accepted (about 200,000 rows).
pub const IMPORT_LIMIT: usize = 16 * 1024 * 1024;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list_beneficiaries)
        .service(register)
        .service(lookup)
        .service(get_beneficiary)
        .service(list_activities)
        .service(record)
        .service(import_csv)
        .service(overview)
        .service(breakdown)
        .service(export)
        .service(public_totals);
}

/// The organisation's own people, newest first (an `org` user).
#[utoipa::path(tag = "people", security(("bearer" = [])), params(BeneficiaryFilter), responses((status = 200, body = super::Paged<BeneficiaryView>), (status = 401, body = Problem), (status = 403, body = Problem)))]
#[get("/beneficiaries")]
pub async fn list_beneficiaries(
    state: web::Data<AppState>,
    user: Authed<OrgOnly>,
    q: web::Query<BeneficiaryFilter>,
) -> Result<HttpResponse, AppError> {
    let (org, f, ctx) = (
        user.own_org_id()?,
        q.into_inner(),
        Ctx::from_config(&state.config),
    );
    let v = state
        .run(move |c| beneficiaries::list(c, &ctx, org, &f))
        .await?;
    Ok(HttpResponse::Ok().json(v))
}

/// Register a person the organisation serves: with `id_number` (checked: 18 characters, a real birth date,
/// the ISO 7064 MOD 11-2 check character; lower-case x and full-width digits accepted; kept only as a keyed
/// hash), or with a `pseudonym` alone. 201; 422 naming each bad field and rule; 409 `registered` when the
/// organisation has the person already, `pseudonym_taken`.
#[utoipa::path(tag = "people", security(("bearer" = [])), request_body = NewBeneficiary, responses((status = 201, body = BeneficiaryView), (status = 409, body = Problem), (status = 422, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem)))]
#[post("/beneficiaries")]
pub async fn register(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: Authed<OrgOnly>,
    body: Json<NewBeneficiary>,
) -> Result<HttpResponse, AppError> {
    let (org, n, ctx) = (
        user.own_org_id()?,
        body.into_inner(),
        Ctx::from_config(&state.config),
    );
    let actor = crate::http::actor(&req, &user);
    let now = state.clock.now();
    let v = state
        .run(move |c| beneficiaries::register(c, &ctx, &actor, now, org, &n))
        .await?;
    Ok(HttpResponse::Created().json(v))
}

/// The body of a lookup: the identity number travels in a body, never in a URL or a log line.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Lookup {
    pub id_number: String,
}

/// Find the organisation's own person by identity number (typed or scanned on a phone): 200 with the
/// person, 404 when the organisation has not registered them, 422 for a malformed number.
#[utoipa::path(tag = "people", security(("bearer" = [])), request_body = Lookup, responses((status = 200, body = BeneficiaryView), (status = 404, body = Problem), (status = 422, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem)))]
#[post("/beneficiaries/lookup")]
pub async fn lookup(
    state: web::Data<AppState>,
    user: Authed<OrgOnly>,
    body: Json<Lookup>,
) -> Result<HttpResponse, AppError> {
    let (org, n, ctx) = (
        user.own_org_id()?,
        body.into_inner(),
        Ctx::from_config(&state.config),
    );
    let v = state
        .run(move |c| beneficiaries::lookup(c, &ctx, org, &n.id_number))
        .await?;
    Ok(HttpResponse::Ok().json(v))
}

/// One of the organisation's own people (404 for another's).
#[utoipa::path(tag = "people", security(("bearer" = [])), params(("id" = i64, Path)), responses((status = 200, body = BeneficiaryView), (status = 404, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem)))]
#[get("/beneficiaries/{id}")]
pub async fn get_beneficiary(
    state: web::Data<AppState>,
    user: Authed<OrgOnly>,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let (org, id, ctx) = (
        user.own_org_id()?,
        id.into_inner(),
        Ctx::from_config(&state.config),
    );
    let v = state
        .run(move |c| beneficiaries::get(c, &ctx, org, id))
        .await?;
    Ok(HttpResponse::Ok().json(v))
}

/// A contract's activities, newest first: staff every contract's (without who took part), an organisation
/// its own (with its pseudonyms); 404 otherwise.
#[utoipa::path(tag = "people", security(("bearer" = [])), params(("id" = i64, Path), ActivityFilter), responses((status = 200, body = super::Paged<ActivityView>), (status = 404, body = Problem), (status = 422, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem)))]
#[get("/contracts/{id}/activities")]
pub async fn list_activities(
    state: web::Data<AppState>,
    user: Authed<ServiceReaders>,
    id: web::Path<i64>,
    q: web::Query<ActivityFilter>,
) -> Result<HttpResponse, AppError> {
    let (id, f, r) = (id.into_inner(), q.into_inner(), Reader::of(Some(&user)));
    let ctx = Ctx::from_config(&state.config);
    let v = state
        .run(move |c| activities::list(c, &ctx, r, id, &f))
        .await?;
    Ok(HttpResponse::Ok().json(v))
}

/// Record an activity on the caller's own live contract: 201 with the activity and the contract's 人次
/// and 人数 after it. 422 naming each bad field and rule (`held_on` within the term and not after today,
/// `kind`, `community_id` in the contract's area, `minutes`, `title`, `participants[i]` the organisation's
/// own, `id_numbers[i]` valid, someone or an anonymous count); 404 for another's contract; 409
/// `contract_state` unless signed and not closed or terminated.
#[utoipa::path(tag = "people", security(("bearer" = [])), params(("id" = i64, Path)), request_body = NewActivity, responses((status = 201, body = Recorded), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem)))]
#[post("/contracts/{id}/activities")]
pub async fn record(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: Authed<OrgOnly>,
    id: web::Path<i64>,
    payload: web::Payload,
) -> Result<HttpResponse, actix_web::Error> {
    use crate::files::{Purpose, evidence};
    let (org, id) = (user.own_org_id()?, id.into_inner());
    let ctx = Ctx::from_config(&state.config);
    let actor = crate::http::actor(&req, &user);
    let now = state.clock.now();
    let (mut n, file) =
        crate::http::files::json_or_upload::<NewActivity>(&req, payload, &state.files).await?;
    let typed = n.evidence_sha256.clone().unwrap_or_default();
    let v = crate::http::files::with_evidence(
        &state.files,
        file,
        Purpose::SignInSheet,
        user.id,
        ("evidence_sha256", &typed),
        |hash, ev| {
            n.evidence_sha256 = Some(hash);
            state.run(move |c| {
                evidence::written_with(
                    c,
                    &actor,
                    now,
                    ev.as_ref(),
                    |c| activities::record(c, &ctx, &actor, now, org, id, &n),
                    |_, v| Ok(v.activity.id),
                )
            })
        },
    )
    .await?;
    Ok(HttpResponse::Created().json(v))
}

/// Import attendance from CSV (a `text/csv` body or JSON `{"csv": "…"}`, at most 16 MiB): one row per
/// participant, header `date,kind,community,title,minutes,participant[,anonymous,volunteers,
/// volunteer_hours,evidence_sha256]`; rows with the same date, type, community, title and duration are one
/// activity. All or nothing: any bad row refuses the file with 422 listing every error as
/// `rows[LINE].COLUMN` with its rule, and nothing is written.
#[utoipa::path(tag = "people", security(("bearer" = [])), params(("id" = i64, Path)), request_body(content = String, content_type = "text/csv"), responses((status = 201, body = ImportedActivities), (status = 404, body = Problem), (status = 409, body = Problem), (status = 413, body = Problem), (status = 422, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem), (status = 415, body = Problem)))]
#[post("/contracts/{id}/activities/import")]
pub async fn import_csv(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: Authed<OrgOnly>,
    id: web::Path<i64>,
    body: web::Payload,
) -> Result<HttpResponse, AppError> {
    let body = match body.to_bytes_limited(IMPORT_LIMIT).await {
        Ok(Ok(b)) => b,
        Ok(Err(_)) => {
            return Err(AppError::bad_request(
                "payload",
                "请求体读取失败。",
                "The request body could not be read.",
            ));
        }
        Err(_) => return Err(crate::error::extractors::payload_too_large()),
    };
    let (org, id) = (user.own_org_id()?, id.into_inner());
    let text = csv_text(&req, &body)?;
    let ctx = Ctx::from_config(&state.config);
    let actor = crate::http::actor(&req, &user);
    let now = state.clock.now();
    let v = state
        .run(move |c| activities::import_csv(c, &ctx, &actor, now, org, id, &text))
        .await?;
    Ok(HttpResponse::Created().json(v))
}

/// Whose counts a signed-in reader sees: staff the district's, an organisation its own.
pub fn scope_of(user: &CurrentUser) -> Result<Scope, AppError> {
    Ok(match user.role {
        Role::Org => Scope::Organisation(user.own_org_id()?),
        _ => Scope::District,
    })
}

/// The overview: 人次 (registered and anonymous) and de-duplicated 人数 in all and by field, street, month
/// and group; activities, volunteers, projects and funds; organisations and certified social workers.
/// Staff see the district, an organisation its own.
#[utoipa::path(tag = "people", security(("bearer" = [])), params(CountFilter), responses((status = 200, body = Overview), (status = 422, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem)))]
#[get("/people/overview")]
pub async fn overview(
    state: web::Data<AppState>,
    user: Authed<ServiceReaders>,
    q: web::Query<CountFilter>,
) -> Result<HttpResponse, AppError> {
    let (scope, f, ctx) = (
        scope_of(&user)?,
        q.into_inner(),
        Ctx::from_config(&state.config),
    );
    let v = state
        .run(move |c| counts::overview(c, &ctx, scope, &f, true))
        .await?;
    Ok(HttpResponse::Ok().json(v))
}

fn dimension(f: &CountFilter) -> Result<Dimension, AppError> {
    Dimension::parse(f.by.as_deref().unwrap_or_default()).ok_or_else(|| {
        AppError::field(
            "by",
            "one_of",
            "维度须为 contract、organisation、community、street、field、group 或 month。",
            "The dimension is contract, organisation, community, street, field, group or month.",
        )
    })
}

/// 人次 and 人数 by one dimension (`by`), with the overview's filters.
#[utoipa::path(tag = "people", security(("bearer" = [])), params(CountFilter), responses((status = 200, body = Vec<Line>), (status = 422, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem)))]
#[get("/people/counts")]
pub async fn breakdown(
    state: web::Data<AppState>,
    user: Authed<ServiceReaders>,
    q: web::Query<CountFilter>,
) -> Result<HttpResponse, AppError> {
    let (scope, f) = (scope_of(&user)?, q.into_inner());
    let d = dimension(&f)?;
    let ctx = Ctx::from_config(&state.config);
    let v = state
        .run(move |c| counts::breakdown(c, &ctx, scope, d, &f, true))
        .await?;
    Ok(HttpResponse::Ok().json(v))
}

/// The same breakdown as CSV (UTF-8 with BOM): counts only, nothing that identifies a person.
#[utoipa::path(tag = "people", security(("bearer" = [])), params(CountFilter), responses((status = 200, content_type = "text/csv", body = String), (status = 422, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem)))]
#[get("/people/counts/export")]
pub async fn export(
    state: web::Data<AppState>,
    user: Authed<ServiceReaders>,
    q: web::Query<CountFilter>,
) -> Result<HttpResponse, AppError> {
    let (scope, f) = (scope_of(&user)?, q.into_inner());
    let d = dimension(&f)?;
    let ctx = Ctx::from_config(&state.config);
    let body = state
        .run(move |c| {
            Ok(counts::export_csv(&counts::breakdown(
                c, &ctx, scope, d, &f, true,
            )?))
        })
        .await?;
    Ok(csv_response(&format!("people-by-{}.csv", d.as_str()), body))
}

/// The district's totals, for everyone: 人次 (with the anonymous share), 人数, activities, projects, funds
/// and organisations; `year` optional. Nothing per organisation or person.
#[utoipa::path(tag = "people", params(CountFilter), responses((status = 200, body = PublicTotals), (status = 422, body = Problem)))]
#[get("/people/totals")]
pub async fn public_totals(
    state: web::Data<AppState>,
    q: web::Query<CountFilter>,
) -> Result<HttpResponse, AppError> {
    let f = q.into_inner();
    let v = state.run(move |c| counts::public_totals(c, &f)).await?;
    Ok(HttpResponse::Ok().json(v))
}

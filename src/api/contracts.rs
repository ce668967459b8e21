//! Contracts over the JSON API: the list and one contract (the public sees the contract notices: signed
//! contracts with their amount and what was paid; an organisation its own contracts whole; staff all), the
//! bureau's steps (create from the final award, sign, start, accept a milestone, terminate, close) and
//! finance's payment of an instalment.

use actix_web::{HttpRequest, HttpResponse, get, post, web};

use super::Paged;
use crate::app::AppState;
use crate::contracts::performance::{PerformanceView, SurveyInput, SurveyView, Surveys};
use crate::contracts::{
    self, AcceptInput, ContractFilter, ContractLine, ContractView, NewContract, PayInput,
    PaymentView, Reader, SignInput, TerminateInput,
};
use crate::error::{AppError, Problem};
use crate::http::caller::{Authed, BureauOnly, BureauOrAdmin, FinanceOnly};
use crate::http::input::Json;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list)
        .service(export)
        .service(create)
        .service(get_one)
        .service(statement_csv)
        .service(sign)
        .service(start)
        .service(accept)
        .service(performance)
        .service(surveys)
        .service(record_survey)
        .service(pay)
        .service(terminate)
        .service(close);
}

async fn reader(req: &HttpRequest) -> Reader {
    Reader::of(crate::http::caller::caller(req).await.user())
}

/// Contracts, newest first, filtered and paged in the database. Without a token (or for an evaluator):
/// the contract notices, i.e. signed contracts with the amount and what was paid; an organisation: its own
/// contracts; the bureau, finance and administrators: all, drafts included.
#[utoipa::path(tag = "contracts", params(ContractFilter), responses((status = 200, body = Paged<ContractLine>), (status = 400, body = Problem), (status = 422, body = Problem)))]
#[get("/contracts")]
pub async fn list(
    state: web::Data<AppState>,
    req: HttpRequest,
    q: web::Query<ContractFilter>,
) -> Result<HttpResponse, AppError> {
    let (r, f) = (reader(&req).await, q.into_inner());
    let v = state.run(move |c| contracts::list(c, r, &f)).await?;
    Ok(HttpResponse::Ok().json(v))
}

/// The same list as CSV (UTF-8 with BOM), every page, same filters.
#[utoipa::path(tag = "contracts", params(ContractFilter), responses((status = 200, content_type = "text/csv", body = String), (status = 400, body = Problem), (status = 422, body = Problem)))]
#[get("/contracts/export")]
pub async fn export(
    state: web::Data<AppState>,
    req: HttpRequest,
    q: web::Query<ContractFilter>,
) -> Result<HttpResponse, AppError> {
    let (r, f) = (reader(&req).await, q.into_inner());
    let body = state.run(move |c| contracts::export_csv(c, r, &f)).await?;
    Ok(super::orgs::csv_response("contracts.csv", body))
}

/// Create the draft contract of a tender's final award (bureau, administrators): 201 with the contract;
/// 409 `contract_exists` when the tender has one, `tender_state` before the final award; 422 naming each
/// bad field.
#[utoipa::path(tag = "contracts", security(("bearer" = [])), request_body = NewContract, responses((status = 201, body = ContractView), (status = 409, body = Problem), (status = 422, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem)))]
#[post("/contracts")]
pub async fn create(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: Authed<BureauOrAdmin>,
    body: Json<NewContract>,
) -> Result<HttpResponse, AppError> {
    let actor = crate::http::actor(&req, &user);
    let n = body.into_inner();
    let v = state
        .run_contracts(move |c, ctx, now| contracts::create(c, ctx, &actor, now, &n))
        .await?;
    Ok(HttpResponse::Created().json(v))
}

/// One contract: whole for staff and its organisation; the contract notice for everyone else (404 for a
/// draft).
#[utoipa::path(tag = "contracts", params(("id" = i64, Path)), responses((status = 200, body = ContractView), (status = 404, body = Problem)))]
#[get("/contracts/{id}")]
pub async fn get_one(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let (r, id) = (reader(&req).await, id.into_inner());
    let v = state
        .run_contracts(move |c, ctx, _| contracts::get(c, ctx, r, id))
        .await?;
    Ok(HttpResponse::Ok().json(v))
}

/// The contract statement as CSV (staff and the contract's organisation): instalments, acceptances,
/// payments with voucher numbers, and the totals.
#[utoipa::path(tag = "contracts", security(("bearer" = [])), params(("id" = i64, Path)), responses((status = 200, content_type = "text/csv", body = String), (status = 404, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem)))]
#[get("/contracts/{id}/statement/export")]
pub async fn statement_csv(
    state: web::Data<AppState>,
    user: Authed,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let r = Reader::of(Some(&user.user));
    let id = id.into_inner();
    let body = state
        .run_contracts(move |c, ctx, _| contracts::statement_csv(c, ctx, r, id))
        .await?;
    Ok(super::orgs::csv_response(
        &format!("contract-{id}-statement.csv"),
        body,
    ))
}

/// Sign a draft (bureau, administrators): commits the amount in its budget (422 `available_non_negative`
/// on `appropriation_id` when the budget is short), accrues a signing instalment, publishes the contract
/// notice and moves the tender to `contracted`. 409 `contract_state` unless a draft.
#[utoipa::path(tag = "contracts", security(("bearer" = [])), params(("id" = i64, Path)), request_body = SignInput, responses((status = 200, body = ContractView), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem)))]
#[post("/contracts/{id}/sign")]
pub async fn sign(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: Authed<BureauOrAdmin>,
    id: web::Path<i64>,
    body: Json<SignInput>,
) -> Result<HttpResponse, AppError> {
    let actor = crate::http::actor(&req, &user);
    let (id, b) = (id.into_inner(), body.into_inner());
    let v = state
        .run_contracts(move |c, ctx, now| contracts::sign(c, ctx, &actor, now, id, &b))
        .await?;
    Ok(HttpResponse::Ok().json(v))
}

/// Start the service (bureau, administrators): signed → in progress.
#[utoipa::path(tag = "contracts", security(("bearer" = [])), params(("id" = i64, Path)), responses((status = 200, body = ContractView), (status = 404, body = Problem), (status = 409, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem)))]
#[post("/contracts/{id}/start")]
pub async fn start(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: Authed<BureauOrAdmin>,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let actor = crate::http::actor(&req, &user);
    let id = id.into_inner();
    let v = state
        .run_contracts(move |c, ctx, now| contracts::start(c, ctx, &actor, now, id))
        .await?;
    Ok(HttpResponse::Ok().json(v))
}

/// Accept the milestone of instalment `no` (bureau, administrators), in schedule order (409
/// `milestone_order`); accrues the instalment. The evaluator gives the effect score (422 `effect_score`
/// `range`); the milestone's score weighs it with output, satisfaction and budget execution at the
/// acceptance date (`SANSHE_PERFORMANCE_WEIGHTS`), the grade follows from the score (≥ 90 优, ≥ 80 良,
/// ≥ 60 中, < 60 差), and the evaluation is kept with the instalment (`instalments[].performance`).
/// The evaluation report comes as `multipart/form-data` (the acceptance as JSON in the part `data`, the
/// report in the part `file`; its hash becomes `report_sha256`), or the JSON body declares `report_sha256`
/// and the report follows by `POST /api/v1/evidence/milestone_report/{instalment id}`.
#[utoipa::path(tag = "contracts", security(("bearer" = [])), params(("id" = i64, Path), ("no" = i32, Path)), request_body(content((AcceptInput = "application/json"), (crate::api::files::EvidenceUpload = "multipart/form-data"))), responses((status = 200, body = ContractView), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem)))]
#[post("/contracts/{id}/instalments/{no}/acceptance")]
pub async fn accept(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: Authed<BureauOrAdmin>,
    path: web::Path<(i64, i32)>,
    payload: web::Payload,
) -> Result<HttpResponse, actix_web::Error> {
    use crate::files::{Purpose, evidence};
    let actor = crate::http::actor(&req, &user);
    let (id, no) = path.into_inner();
    let (mut b, file) =
        crate::http::files::json_or_upload::<AcceptInput>(&req, payload, &state.files).await?;
    let typed = b.report_sha256.clone();
    let v = crate::http::files::with_evidence(
        &state.files,
        file,
        Purpose::MilestoneReport,
        user.id,
        ("report_sha256", &typed),
        |hash, ev| {
            b.report_sha256 = hash;
            state.run_contracts(move |c, ctx, now| {
                evidence::written_with(
                    c,
                    &actor,
                    now,
                    ev.as_ref(),
                    |c| contracts::accept(c, ctx, &actor, now, id, no, &b),
                    |c, _| evidence::instalment_id(c, id, no),
                )
            })
        },
    )
    .await?;
    Ok(HttpResponse::Ok().json(v))
}

/// Pay an accepted instalment (finance). 201 with the payment; 200 with the first payment for a retry with
/// the same key and content; 409 `idempotency_key_reused` (same key, other content), `paid_once`,
/// `accepted_first`; 403 `separation_of_duties` for the person who accepted the milestone; 422 naming each
/// bad field.
#[utoipa::path(tag = "contracts", security(("bearer" = [])), params(("id" = i64, Path)), request_body = PayInput, responses((status = 201, body = PaymentView), (status = 200, body = PaymentView), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem)))]
#[post("/contracts/{id}/payments")]
pub async fn pay(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: Authed<FinanceOnly>,
    id: web::Path<i64>,
    body: Json<PayInput>,
) -> Result<HttpResponse, AppError> {
    let actor = crate::http::actor(&req, &user);
    let (id, b) = (id.into_inner(), body.into_inner());
    let p = state
        .run_contracts(move |c, ctx, now| contracts::pay(c, ctx, &actor, now, id, &b))
        .await?;
    Ok(if p.replayed {
        HttpResponse::Ok().json(p.payment)
    } else {
        HttpResponse::Created().json(p.payment)
    })
}

/// Terminate a signed contract with a reason (bureau, administrators): the commitment not yet accrued is
/// released; accepted instalments stay payable.
#[utoipa::path(tag = "contracts", security(("bearer" = [])), params(("id" = i64, Path)), request_body = TerminateInput, responses((status = 200, body = ContractView), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem)))]
#[post("/contracts/{id}/terminate")]
pub async fn terminate(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: Authed<BureauOrAdmin>,
    id: web::Path<i64>,
    body: Json<TerminateInput>,
) -> Result<HttpResponse, AppError> {
    let actor = crate::http::actor(&req, &user);
    let (id, b) = (id.into_inner(), body.into_inner());
    let v = state
        .run_contracts(move |c, ctx, now| contracts::terminate(c, ctx, &actor, now, id, &b))
        .await?;
    Ok(HttpResponse::Ok().json(v))
}

/// Close a finally accepted, fully paid contract (bureau, administrators); what is still committed is
/// released. 409 `unpaid_instalments` while anything accepted is unpaid.
#[utoipa::path(tag = "contracts", security(("bearer" = [])), params(("id" = i64, Path)), responses((status = 200, body = ContractView), (status = 404, body = Problem), (status = 409, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem)))]
#[post("/contracts/{id}/close")]
pub async fn close(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: Authed<BureauOrAdmin>,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let actor = crate::http::actor(&req, &user);
    let id = id.into_inner();
    let v = state
        .run_contracts(move |c, ctx, now| contracts::close(c, ctx, &actor, now, id))
        .await?;
    Ok(HttpResponse::Ok().json(v))
}

/// A contract's targets and progress (staff every contract, the contract's organisation its own; 404
/// otherwise): the winning bid's targets with the tender's minimum beside them; 人次, 人数 and sessions
/// achieved today with the share attained and a projection to the end of the term (`anonymous_visits` of
/// the 人次 are anonymous heads, 人次 only); the satisfaction of the surveys; each accepted milestone's
/// recorded evaluation; and the next milestone's evaluation previewed at today.
#[utoipa::path(tag = "contracts", security(("bearer" = [])), params(("id" = i64, Path)), responses((status = 200, body = PerformanceView), (status = 404, body = Problem), (status = 401, body = Problem)))]
#[get("/contracts/{id}/performance")]
pub async fn performance(
    state: web::Data<AppState>,
    user: Authed,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let (r, id, today) = (Reader::of(Some(&user.user)), id.into_inner(), state.today());
    let v = state
        .run_contracts(move |c, ctx, _| contracts::performance::view(c, ctx, r, id, today))
        .await?;
    Ok(HttpResponse::Ok().json(v))
}

/// A contract's satisfaction surveys, newest first, with their sum (the same readers as the
/// performance).
#[utoipa::path(tag = "contracts", security(("bearer" = [])), params(("id" = i64, Path)), responses((status = 200, body = Surveys), (status = 404, body = Problem), (status = 401, body = Problem)))]
#[get("/contracts/{id}/surveys")]
pub async fn surveys(
    state: web::Data<AppState>,
    user: Authed,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let (r, id) = (Reader::of(Some(&user.user)), id.into_inner());
    let v = state
        .run(move |c| contracts::performance::surveys(c, r, id))
        .await?;
    Ok(HttpResponse::Ok().json(v))
}

/// Record a satisfaction survey of the people served (the bureau only: independent of the provider):
/// how many answered 1 … 5, as `answers` or `n1`…`n5`. 201 with the survey; 409 `contract_state` unless
/// the contract is signed and neither closed nor terminated; 422 `surveyed_on` (`not_future`,
/// `after_signing`), a negative count (`non_negative`), all zero (`some_response`).
#[utoipa::path(tag = "contracts", security(("bearer" = [])), params(("id" = i64, Path)), request_body = SurveyInput, responses((status = 201, body = SurveyView), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem)))]
#[post("/contracts/{id}/surveys")]
pub async fn record_survey(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: Authed<BureauOnly>,
    id: web::Path<i64>,
    body: Json<SurveyInput>,
) -> Result<HttpResponse, AppError> {
    let actor = crate::http::actor(&req, &user);
    let (id, b) = (id.into_inner(), body.into_inner());
    let v = state
        .run_contracts(move |c, _, now| {
            contracts::performance::record_survey(c, &actor, now, id, &b)
        })
        .await?;
    Ok(HttpResponse::Created().json(v))
}

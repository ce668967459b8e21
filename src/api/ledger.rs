//! The fund ledger over the JSON API: budget appropriations (finance records them; the bureau reads them
//! to know what is available), the trial balance and its CSV, the journal for ledger-cli and hledger, the
//! entries, reversal (the only correction), verification and the digest. Organisations see none of it.

use actix_web::{HttpRequest, HttpResponse, get, post, web};
use serde::Deserialize;

use super::Paged;
use crate::app::AppState;
use crate::error::{AppError, Problem};
use crate::http::caller::{
    AdminOrFinance as LedgerReaders, Authed, BudgetReaders, BureauOrAdmin, FinanceOnly,
};
use crate::http::input::Json;
use crate::ledger::appropriations::{
    self, AppropriationFilter, AppropriationView, NewAppropriation,
};
use crate::ledger::execution::{Execution, ExecutionFilter};
use crate::ledger::tenders::{Funding, FundingInput};
use crate::ledger::{self, Digest, Entry, LedgerReport, TrialBalance};

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list_appropriations)
        .service(create_appropriation)
        .service(get_appropriation)
        .service(digest)
        .service(trial_balance)
        .service(trial_balance_csv)
        .service(journal)
        .service(entries)
        .service(entry)
        .service(reverse)
        .service(verify)
        .service(execution)
        .service(execution_csv)
        .service(name_tender_appropriation);
}

/// Appropriations (预算指标), newest year first, filtered and paged in the database; each with what is
/// available in its budget now.
#[utoipa::path(tag = "ledger", security(("bearer" = [])), params(AppropriationFilter), responses((status = 200, body = Paged<AppropriationView>), (status = 401, body = Problem), (status = 403, body = Problem)))]
#[get("/appropriations")]
pub async fn list_appropriations(
    state: web::Data<AppState>,
    _u: Authed<BudgetReaders>,
    q: web::Query<AppropriationFilter>,
) -> Result<HttpResponse, AppError> {
    let f = q.into_inner();
    let cfg = state.config.clone();
    let v = state
        .run(move |c| appropriations::list(c, &cfg.ledger, &f))
        .await?;
    Ok(HttpResponse::Ok().json(v))
}

/// Record an appropriation (finance): posts an `appropriation` entry in the same transaction. 201 with the
/// appropriation; 200 with the first one for a retry with the same key and content; 409
/// `idempotency_key_reused` for the same key with other content; 422 naming each bad field and rule (an
/// amount with more than two decimals is `max_two_decimals`).
#[utoipa::path(tag = "ledger", security(("bearer" = [])), request_body = NewAppropriation, responses((status = 201, body = AppropriationView), (status = 200, body = AppropriationView), (status = 409, body = Problem), (status = 422, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem)))]
#[post("/appropriations")]
pub async fn create_appropriation(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: Authed<FinanceOnly>,
    body: Json<NewAppropriation>,
) -> Result<HttpResponse, AppError> {
    let n = body.into_inner();
    let actor = crate::http::actor(&req, &user);
    let (cfg, now) = (state.config.clone(), state.clock.now());
    let r = state
        .run(move |c| appropriations::create(c, &cfg.ledger, &actor, now, &n))
        .await?;
    Ok(if r.replayed {
        HttpResponse::Ok().json(r.view)
    } else {
        HttpResponse::Created().json(r.view)
    })
}

/// One appropriation.
#[utoipa::path(tag = "ledger", security(("bearer" = [])), params(("id" = i64, Path)), responses((status = 200, body = AppropriationView), (status = 404, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem)))]
#[get("/appropriations/{id}")]
pub async fn get_appropriation(
    state: web::Data<AppState>,
    _u: Authed<BudgetReaders>,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let cfg = state.config.clone();
    let v = state
        .run(move |c| appropriations::get(c, &cfg.ledger, id))
        .await?;
    Ok(HttpResponse::Ok().json(v))
}

/// The ledger digest: the last entry's sequence number and hash (`sanshe verify --digest SEQ:HASH` tells
/// later whether the ledger still extends it).
#[utoipa::path(tag = "ledger", security(("bearer" = [])), responses((status = 200, body = Digest), (status = 401, body = Problem), (status = 403, body = Problem)))]
#[get("/ledger/digest")]
pub async fn digest(
    state: web::Data<AppState>,
    _u: Authed<BudgetReaders>,
) -> Result<HttpResponse, AppError> {
    let d = state.run(ledger::digest).await?;
    Ok(HttpResponse::Ok().json(d))
}

/// Budget execution: for each budget (year, fund, field) appropriated, reserved, committed, accrued, paid,
/// available and the execution rate, with totals, the same by field, by street and the payments by month;
/// read at one ledger digest.
#[utoipa::path(tag = "ledger", security(("bearer" = [])), params(ExecutionFilter), responses((status = 200, body = Execution), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem)))]
#[get("/ledger/execution")]
pub async fn execution(
    state: web::Data<AppState>,
    _u: Authed<BudgetReaders>,
    q: web::Query<ExecutionFilter>,
) -> Result<HttpResponse, AppError> {
    let (f, cfg) = (q.into_inner(), state.config.clone());
    let e = state
        .run(move |c| ledger::execution::execution(c, &cfg.ledger, &f))
        .await?;
    Ok(HttpResponse::Ok().json(e))
}

/// Budget execution as CSV (UTF-8 with BOM), same filters, with the total and the digest.
#[utoipa::path(tag = "ledger", security(("bearer" = [])), params(ExecutionFilter), responses((status = 200, content_type = "text/csv", body = String), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem)))]
#[get("/ledger/execution/export")]
pub async fn execution_csv(
    state: web::Data<AppState>,
    _u: Authed<BudgetReaders>,
    q: web::Query<ExecutionFilter>,
) -> Result<HttpResponse, AppError> {
    let (f, cfg) = (q.into_inner(), state.config.clone());
    let e = state
        .run(move |c| ledger::execution::execution(c, &cfg.ledger, &f))
        .await?;
    Ok(super::orgs::csv_response(
        "budget-execution.csv",
        ledger::execution::csv(&e),
    ))
}

/// The trial balance: every account's balance as debit or credit, with the totals (equal) and the digest
/// it was read at. A read of the balances kept with each entry.
#[utoipa::path(tag = "ledger", security(("bearer" = [])), responses((status = 200, body = TrialBalance), (status = 401, body = Problem), (status = 403, body = Problem)))]
#[get("/ledger/trial-balance")]
pub async fn trial_balance(
    state: web::Data<AppState>,
    _u: Authed<LedgerReaders>,
) -> Result<HttpResponse, AppError> {
    let tb = state.run(ledger::trial_balance).await?;
    Ok(HttpResponse::Ok().json(tb))
}

/// The trial balance as CSV (UTF-8 with BOM; debit and credit columns, a total row and the digest).
#[utoipa::path(tag = "ledger", security(("bearer" = [])), responses((status = 200, content_type = "text/csv", body = String), (status = 401, body = Problem), (status = 403, body = Problem)))]
#[get("/ledger/trial-balance/export")]
pub async fn trial_balance_csv(
    state: web::Data<AppState>,
    _u: Authed<LedgerReaders>,
) -> Result<HttpResponse, AppError> {
    let tb = state.run(ledger::trial_balance).await?;
    Ok(super::orgs::csv_response(
        "trial-balance.csv",
        ledger::export::trial_balance_csv(&tb),
    ))
}

/// The whole ledger as a journal that `ledger -f FILE bal` and `hledger -f FILE bal` read with the
/// balances of the trial balance, and that passes `hledger check --strict`.
#[utoipa::path(tag = "ledger", security(("bearer" = [])), responses((status = 200, content_type = "text/plain", body = String), (status = 401, body = Problem), (status = 403, body = Problem)))]
#[get("/ledger/journal")]
pub async fn journal(
    state: web::Data<AppState>,
    _u: Authed<LedgerReaders>,
) -> Result<HttpResponse, AppError> {
    let now = state.clock.now();
    let text = state.run(move |c| ledger::export::journal(c, now)).await?;
    let mut r = crate::http::download("sanshe-ledger.journal", text.into_bytes());
    r.headers_mut().insert(
        actix_web::http::header::CONTENT_TYPE,
        actix_web::http::header::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    Ok(r)
}

/// Paging of the entries.
#[derive(Debug, Default, Clone, Deserialize, utoipa::IntoParams)]
// An unknown parameter is refused (400 naming it), not silently ignored.
#[serde(deny_unknown_fields)]
pub struct EntryPage {
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

/// Journal entries with their postings, newest first.
#[utoipa::path(tag = "ledger", security(("bearer" = [])), params(EntryPage), responses((status = 200, body = Paged<Entry>), (status = 401, body = Problem), (status = 403, body = Problem)))]
#[get("/ledger/entries")]
pub async fn entries(
    state: web::Data<AppState>,
    _u: Authed<LedgerReaders>,
    q: web::Query<EntryPage>,
) -> Result<HttpResponse, AppError> {
    let p = crate::db::Paging::new(q.page, q.per_page);
    let v = state.run(move |c| ledger::list(c, p)).await?;
    Ok(HttpResponse::Ok().json(v))
}

/// One entry with its postings.
#[utoipa::path(tag = "ledger", security(("bearer" = [])), params(("seq" = i64, Path)), responses((status = 200, body = Entry), (status = 404, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem)))]
#[get("/ledger/entries/{seq}")]
pub async fn entry(
    state: web::Data<AppState>,
    _u: Authed<LedgerReaders>,
    seq: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let seq = seq.into_inner();
    let e = state.run(move |c| ledger::entry(c, seq)).await?;
    Ok(HttpResponse::Ok().json(e))
}

/// A reversal: why, and a key for retries.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReversalInput {
    /// Why the entry is reversed.
    pub memo: String,
    pub idempotency_key: String,
}

/// Reverse an entry (finance): a new entry negating every posting, the only correction; at most once per
/// entry (409 `reversed_once`), never a reversal (409 `reversal_of_reversal`); refused with 422
/// `available_non_negative` when the budget it gave was since drawn on. 201, or 200 for a retry.
#[utoipa::path(tag = "ledger", security(("bearer" = [])), params(("seq" = i64, Path)), request_body = ReversalInput, responses((status = 201, body = Entry), (status = 200, body = Entry), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem)))]
#[post("/ledger/entries/{seq}/reversal")]
pub async fn reverse(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: Authed<FinanceOnly>,
    seq: web::Path<i64>,
    body: Json<ReversalInput>,
) -> Result<HttpResponse, AppError> {
    let seq = seq.into_inner();
    let b = body.into_inner();
    let actor = crate::http::actor(&req, &user);
    let now = state.clock.now();
    let p = state
        .run(move |c| ledger::reverse(c, &actor, now, seq, &b.memo, &b.idempotency_key))
        .await?;
    Ok(if p.replayed {
        HttpResponse::Ok().json(p.entry)
    } else {
        HttpResponse::Created().json(p.entry)
    })
}

/// Recompute the ledger from its first entry (hashes, gaps, balance of each entry, stored balances, the
/// available budget) and name the first bad sequence number.
#[utoipa::path(tag = "ledger", security(("bearer" = [])), responses((status = 200, body = LedgerReport), (status = 401, body = Problem), (status = 403, body = Problem)))]
#[get("/ledger/verify")]
pub async fn verify(
    state: web::Data<AppState>,
    _u: Authed<LedgerReaders>,
) -> Result<HttpResponse, AppError> {
    let r = state.run(ledger::verify).await?;
    Ok(HttpResponse::Ok().json(r))
}

/// Name the appropriation a draft tender draws on (bureau, administrators): publishing then reserves the
/// tender's ceiling in that budget (422 `available_non_negative` when short), the final award releases the
/// ceiling less the price, a failed or cancelled tender releases the rest. 409 `wrong_state` once published;
/// 422 `exists` or `field_mismatch` for an appropriation that is missing or for another field.
#[utoipa::path(tag = "ledger", security(("bearer" = [])), params(("id" = i64, Path)), request_body = FundingInput, responses((status = 200, body = Funding), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem)))]
#[post("/tenders/{id}/appropriation")]
pub async fn name_tender_appropriation(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: Authed<BureauOrAdmin>,
    id: web::Path<i64>,
    body: Json<FundingInput>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let input = body.into_inner();
    let actor = crate::http::actor(&req, &user);
    let now = state.clock.now();
    let f = state
        .run(move |c| ledger::tenders::name(c, &actor, now, id, &input))
        .await?;
    Ok(HttpResponse::Ok().json(f))
}

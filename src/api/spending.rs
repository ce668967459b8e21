//! Spending reports and audit flags over the JSON API (docs/SPENDING.md): an organisation reports what it
//! spent on its own live contract, one item or a CSV file (all or nothing); finance accepts, rejects or
//! queries each item and the organisation answers a query; the audit flags, as a list (and CSV) or for one
//! contract. Finance, administrators and the bureau read every contract's; an organisation its own (404
//! for another's).

use actix_web::{HttpRequest, HttpResponse, get, post, web};
use serde::Serialize;

use super::Paged;
use super::orgs::{csv_response, csv_text};
use crate::app::AppState;
use crate::contracts::Reader;
use crate::contracts::flags::{self, FlagFilter};
use crate::contracts::spending::{
    self, AnswerInput, Imported, ItemView, NewItem, ReviewInput, SpendingFilter, Summary,
};
use crate::domain::flags::Flag;
use crate::error::{AppError, Problem};
use crate::http::caller::{Authed, FinanceOnly, OrgOnly, SpendingReaders};
use crate::http::input::Json;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list)
        .service(report)
        .service(import_csv)
        .service(review)
        .service(answer)
        .service(list_flags)
        .service(export_flags)
        .service(contract_flags);
}

/// A contract's spending: the summary per budget line and one page of items.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct SpendingList {
    pub summary: Summary,
    pub items: Paged<ItemView>,
}

/// A contract's spending items (newest first, filtered and paged) with the summary per budget line
/// (budget, reported, accepted). Staff read every contract's, an organisation its own (404 otherwise).
#[utoipa::path(tag = "spending", security(("bearer" = [])), params(("id" = i64, Path), SpendingFilter), responses((status = 200, body = SpendingList), (status = 404, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem)))]
#[get("/contracts/{id}/spending")]
pub async fn list(
    state: web::Data<AppState>,
    user: Authed<SpendingReaders>,
    id: web::Path<i64>,
    q: web::Query<SpendingFilter>,
) -> Result<HttpResponse, AppError> {
    let (id, f, r) = (id.into_inner(), q.into_inner(), Reader::of(Some(&user)));
    let v = state
        .run(move |c| {
            Ok(SpendingList {
                summary: spending::summary(c, r, id)?,
                items: spending::list(c, r, id, &f)?,
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(v))
}

/// Report one spending item on the caller's own live contract (an `org` user): 201 with the item; 422
/// naming each bad field and its rule (`date`, `line` one of the contract's budget lines, `amount` in yuan
/// with at most two decimals, `invoice_no`, `payee`, `description`, `evidence_sha256`), nothing written;
/// 404 for another's contract; 409 `contract_state` unless signed and not closed or terminated. The
/// evidence comes as `multipart/form-data` (the item as JSON in the part `data`, the file in the part
/// `file`; its hash becomes `evidence_sha256`), or later by `POST /api/v1/evidence/spending_evidence/{item
/// id}` for the `evidence_sha256` the item declared.
#[utoipa::path(tag = "spending", security(("bearer" = [])), params(("id" = i64, Path)), request_body(content((NewItem = "application/json"), (crate::api::files::EvidenceUpload = "multipart/form-data"))), responses((status = 201, body = ItemView), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem)))]
#[post("/contracts/{id}/spending")]
pub async fn report(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: Authed<OrgOnly>,
    id: web::Path<i64>,
    payload: web::Payload,
) -> Result<HttpResponse, actix_web::Error> {
    use crate::files::{Purpose, evidence};
    let id = id.into_inner();
    let org = user.own_org_id()?;
    let actor = crate::http::actor(&req, &user);
    let now = state.clock.now();
    let (mut n, file) =
        crate::http::files::json_or_upload::<NewItem>(&req, payload, &state.files).await?;
    let typed = n.evidence_sha256.clone().unwrap_or_default();
    let v = crate::http::files::with_evidence(
        &state.files,
        file,
        Purpose::SpendingEvidence,
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
                    |c| spending::report(c, &actor, now, org, id, &n),
                    |_, v| Ok(v.id),
                )
            })
        },
    )
    .await?;
    Ok(HttpResponse::Created().json(v))
}

/// Import spending items from CSV (UTF-8, BOM optional; a `text/csv` body or JSON `{"csv": "…"}`), header
/// `date,line,amount,invoice_no,payee,description,evidence_sha256` (the last column optional). All or
/// nothing: any bad row refuses the file with 422 listing every error as `rows[LINE].COLUMN` (LINE = the
/// file's line number, the header being line 1) with its rule, and nothing is written.
#[utoipa::path(tag = "spending", security(("bearer" = [])), params(("id" = i64, Path)), request_body(content = String, content_type = "text/csv"), responses((status = 201, body = Imported), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem), (status = 415, body = Problem)))]
#[post("/contracts/{id}/spending/import")]
pub async fn import_csv(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: Authed<OrgOnly>,
    id: web::Path<i64>,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let text = csv_text(&req, &body)?;
    let org = user.own_org_id()?;
    let actor = crate::http::actor(&req, &user);
    let now = state.clock.now();
    let v = state
        .run(move |c| spending::import_csv(c, &actor, now, org, id, &text))
        .await?;
    Ok(HttpResponse::Created().json(v))
}

/// Review a spending item (finance): `{"decision": "accept" | "reject" | "query", "note": …}`, the note
/// required for a rejection (the reason) and a query (the question). 409 `spending_state` unless the item
/// awaits review (submitted or answered). A rejection or a query e-mails the organisation.
#[utoipa::path(tag = "spending", security(("bearer" = [])), params(("item" = i64, Path)), request_body = ReviewInput, responses((status = 200, body = ItemView), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem)))]
#[post("/spending/{item}/review")]
pub async fn review(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: Authed<FinanceOnly>,
    item: web::Path<i64>,
    body: Json<ReviewInput>,
) -> Result<HttpResponse, AppError> {
    let (item, b) = (item.into_inner(), body.into_inner());
    let actor = crate::http::actor(&req, &user);
    let v = state
        .run_contracts(move |c, ctx, now| spending::review(c, ctx, &actor, now, item, &b))
        .await?;
    Ok(HttpResponse::Ok().json(v))
}

/// Answer finance's query on one's own item (an `org` user): the item goes back to finance as
/// `answered`. 404 for another's item; 409 `spending_state` unless queried.
#[utoipa::path(tag = "spending", security(("bearer" = [])), params(("item" = i64, Path)), request_body = AnswerInput, responses((status = 200, body = ItemView), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem)))]
#[post("/spending/{item}/answer")]
pub async fn answer(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: Authed<OrgOnly>,
    item: web::Path<i64>,
    body: Json<AnswerInput>,
) -> Result<HttpResponse, AppError> {
    let (item, b) = (item.into_inner(), body.into_inner());
    let org = user.own_org_id()?;
    let actor = crate::http::actor(&req, &user);
    let now = state.clock.now();
    let v = state
        .run(move |c| spending::answer(c, &actor, now, org, item, &b))
        .await?;
    Ok(HttpResponse::Ok().json(v))
}

/// Audit flags (budget line overspent, management fee and labour over their caps, forbidden spending,
/// spending outside the term, the same invoice claimed twice, payment before acceptance or late, contract
/// signed or published late), the most serious first, filtered and paged. An organisation sees its own.
#[utoipa::path(tag = "spending", security(("bearer" = [])), params(FlagFilter), responses((status = 200, body = Paged<Flag>), (status = 401, body = Problem), (status = 403, body = Problem)))]
#[get("/flags")]
pub async fn list_flags(
    state: web::Data<AppState>,
    user: Authed<SpendingReaders>,
    q: web::Query<FlagFilter>,
) -> Result<HttpResponse, AppError> {
    let (f, r) = (q.into_inner(), Reader::of(Some(&user)));
    let ctx = flags::Ctx::from_config(&state.config);
    let today = state.today();
    let v = state
        .run(move |c| flags::flags(c, &ctx, r, today, &f))
        .await?;
    Ok(HttpResponse::Ok().json(v))
}

/// The filtered flags (same filters as the list, no paging) as CSV: UTF-8 with BOM.
#[utoipa::path(tag = "spending", security(("bearer" = [])), params(FlagFilter), responses((status = 200, content_type = "text/csv", body = String), (status = 401, body = Problem), (status = 403, body = Problem)))]
#[get("/flags/export")]
pub async fn export_flags(
    state: web::Data<AppState>,
    user: Authed<SpendingReaders>,
    q: web::Query<FlagFilter>,
) -> Result<HttpResponse, AppError> {
    let (f, r) = (q.into_inner(), Reader::of(Some(&user)));
    let ctx = flags::Ctx::from_config(&state.config);
    let (today, url) = (state.today(), state.config.public_url.clone());
    let body = state
        .run(move |c| flags::export_csv(c, &ctx, r, today, &url, &f))
        .await?;
    Ok(csv_response("audit-flags.csv", body))
}

/// Every audit flag of one contract (404 when the caller may not see it).
#[utoipa::path(tag = "spending", security(("bearer" = [])), params(("id" = i64, Path)), responses((status = 200, body = Vec<Flag>), (status = 404, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem)))]
#[get("/contracts/{id}/flags")]
pub async fn contract_flags(
    state: web::Data<AppState>,
    user: Authed<SpendingReaders>,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let (id, r) = (id.into_inner(), Reader::of(Some(&user)));
    let ctx = flags::Ctx::from_config(&state.config);
    let today = state.today();
    let v = state
        .run(move |c| flags::for_contract(c, &ctx, r, today, id))
        .await?;
    Ok(HttpResponse::Ok().json(v))
}

//! Tenders over the JSON API: public notices, results and commitments; the bureau drafts, publishes,
//! answers, forms the panel, confirms and answers challenges; organisations ask, bid and challenge;
//! evaluators declare and score, or in a negotiation decide compliance and record the rounds of quotes. Every handler calls one function of `crate::tenders`.

use actix_web::{HttpRequest, HttpResponse, get, post, put, web};
use serde::Deserialize;

use super::Paged;
use crate::app::AppState;
use crate::error::{AppError, Problem};
use crate::http::caller::{
    AttachmentReaders, Authed, BureauOrAdmin, CurrentUser, EvaluatorOnly, OrgOnly, Role, RoleSet,
};
use crate::http::input::Json;
use crate::http::{IfMatch, versioned};
use crate::tenders::bids::{
    self, BidInput, CommitmentCheck, MyBidLine, OpenedBid, OwnBid, Receipt,
};
use crate::tenders::evaluation::negotiation::{
    self as negotiation, ComplianceInput, NegotiationView, OriginInput, RoundInput,
};
use crate::tenders::evaluation::{
    self, ChallengeAnswer, ChallengeAssessment, ChallengeView, ConfirmInput, Declaration,
    DisqualifyInput, EvaluationReport, LinkInput, LinkView, MemberView, NewChallenge, PanelInput,
    RefusalInput, ScoreInput, ScoringSheet,
};
use crate::tenders::single_source::{
    self as ss, NewObjection, ObjectionAnswer, RecordInput, SingleSourceView,
};
use crate::tenders::{
    self, EnquiryAnswer, EnquiryFilter, EnquiryView, NewEnquiry, TenderFilter, TenderInput,
    TenderSummary, TenderView,
};

/// The bureau, administrators and evaluators (the panel and the report).
#[derive(Debug)]
pub struct PanelReaders;
impl RoleSet for PanelReaders {
    const ROLES: &'static [Role] = &[Role::Bureau, Role::Admin, Role::Evaluator];
}

/// Who reads an evaluation report (`evaluation::report_for` says when): the panel's readers, and finance
/// who audit the award.
#[derive(Debug)]
pub struct EvaluationReportReaders;
impl RoleSet for EvaluationReportReaders {
    const ROLES: &'static [Role] = &[Role::Bureau, Role::Admin, Role::Evaluator, Role::Finance];
}

/// Organisations (their own), the bureau and administrators.
#[derive(Debug)]
pub struct ChallengeReaders;
impl RoleSet for ChallengeReaders {
    const ROLES: &'static [Role] = &[Role::Bureau, Role::Admin, Role::Org];
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list)
        .service(create)
        .service(my_bids)
        .service(get)
        .service(update)
        .service(publish)
        .service(cancel)
        .service(enquiries)
        .service(ask)
        .service(answer)
        .service(submit_bid)
        .service(own_bid)
        .service(withdraw)
        .service(opened)
        .service(attachment)
        .service(commitments)
        .service(panel)
        .service(form_panel)
        .service(declare)
        .service(sheet)
        .service(scores)
        .service(report)
        .service(confirm)
        .service(publish_result)
        .service(disqualify)
        .service(award_refusal)
        .service(negotiation_record)
        .service(negotiation_origin)
        .service(negotiation_compliance)
        .service(negotiation_round)
        .service(single_source)
        .service(lodge_objection)
        .service(answer_objection)
        .service(single_source_record)
        .service(challenges)
        .service(file_challenge)
        .service(answer_challenge)
        .service(assess_challenge)
        .service(links)
        .service(add_link);
}

/// Tender notices: search by title or code, filter by field, street and state (`open` = accepting bids),
/// with paging. Public; the bureau and administrators also see drafts.
#[utoipa::path(tag = "tenders", params(TenderFilter), responses((status = 200, body = Paged<TenderSummary>), (status = 400, body = Problem)))]
#[get("/tenders")]
pub async fn list(
    state: web::Data<AppState>,
    req: HttpRequest,
    q: web::Query<TenderFilter>,
) -> Result<HttpResponse, AppError> {
    let f = q.into_inner();
    tenders::check_filter(&f)?;
    let staff = crate::http::caller::caller(&req)
        .await
        .user()
        .is_some_and(CurrentUser::is_staff);
    let paged = state
        .run_tenders(move |c, ctx, now| tenders::list(c, ctx, now, &f, staff))
        .await?;
    Ok(HttpResponse::Ok().json(paged))
}

/// One tender: terms, dates, state, timeline, and the result notice once published. Public (drafts: the
/// bureau and administrators only).
#[utoipa::path(tag = "tenders", params(("id" = i64, Path)), responses((status = 200, body = TenderView, headers(("ETag" = String, description = "The record\'s version: send it back as If-Match when changing the record"))), (status = 404, body = Problem)))]
#[get("/tenders/{id}")]
pub async fn get(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let staff = crate::http::caller::caller(&req)
        .await
        .user()
        .is_some_and(CurrentUser::is_staff);
    let (v, ver) = state
        .run_tenders(move |c, ctx, now| {
            let v = tenders::get(c, ctx, now, id, staff)?;
            // Only those who edit drafts need the version.
            let ver = if staff {
                Some(tenders::version(c, id)?)
            } else {
                None
            };
            Ok((v, ver))
        })
        .await?;
    Ok(match ver {
        Some(ver) => versioned(HttpResponse::Ok(), &v, &ver),
        None => HttpResponse::Ok().json(v),
    })
}

/// Draft a tender (bureau, administrators). Amounts in yuan as strings; times in Beijing time.
#[utoipa::path(tag = "tenders", security(("bearer" = [])), request_body = TenderInput, responses((status = 201, body = TenderView), (status = 422, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem)))]
#[post("/tenders")]
pub async fn create(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: Authed<BureauOrAdmin>,
    body: Json<TenderInput>,
) -> Result<HttpResponse, AppError> {
    let actor = crate::http::actor(&req, &user);
    let uid = user.id;
    let input = body.into_inner();
    let v = state
        .run_tenders(move |c, ctx, now| tenders::create(c, ctx, &actor, uid, now, &input))
        .await?;
    Ok(HttpResponse::Created().json(v))
}

/// Change a draft (bureau, administrators).
#[utoipa::path(tag = "tenders", security(("bearer" = [])), params(("id" = i64, Path), ("If-Match" = Option<String>, Header, description = "The version (ETag) the change starts from; a stale one is refused with 412")), request_body = TenderInput, responses((status = 200, body = TenderView, headers(("ETag" = String, description = "The new version"))), (status = 404, body = Problem), (status = 409, body = Problem), (status = 412, body = Problem, content_type = "application/problem+json", description = "Changed by someone else since the version in If-Match"), (status = 422, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem)))]
#[put("/tenders/{id}")]
pub async fn update(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: Authed<BureauOrAdmin>,
    id: web::Path<i64>,
    if_match: IfMatch,
    body: Json<TenderInput>,
) -> Result<HttpResponse, AppError> {
    let actor = crate::http::actor(&req, &user);
    let id = id.into_inner();
    let input = body.into_inner();
    let (v, ver) = state
        .run_tenders(move |c, ctx, now| {
            let expect = if_match.0.as_deref();
            let v = tenders::update(c, ctx, &actor, now, id, &input, expect)?;
            Ok((v, tenders::version(c, id)?))
        })
        .await?;
    Ok(versioned(HttpResponse::Ok(), &v, &ver))
}

/// Publish a draft. The method's minimum response time must fit before the bid deadline; organisations
/// serving the field (or the invited ones) are told by e-mail.
#[utoipa::path(tag = "tenders", security(("bearer" = [])), params(("id" = i64, Path)), responses((status = 200, body = TenderView), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem)))]
#[post("/tenders/{id}/publish")]
pub async fn publish(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: Authed<BureauOrAdmin>,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let actor = crate::http::actor(&req, &user);
    let id = id.into_inner();
    let v = state
        .run_tenders(move |c, ctx, now| tenders::publish(c, ctx, &actor, now, id))
        .await?;
    Ok(HttpResponse::Ok().json(v))
}

#[derive(Deserialize, serde::Serialize, Debug, Clone, utoipa::ToSchema)]
pub struct ReasonInput {
    pub reason: String,
}

/// Cancel, with a reason, before the award is final (bureau, administrators).
#[utoipa::path(tag = "tenders", security(("bearer" = [])), params(("id" = i64, Path)), request_body = ReasonInput, responses((status = 200, body = TenderView), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem)))]
#[post("/tenders/{id}/cancel")]
pub async fn cancel(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: Authed<BureauOrAdmin>,
    id: web::Path<i64>,
    body: Json<ReasonInput>,
) -> Result<HttpResponse, AppError> {
    let actor = crate::http::actor(&req, &user);
    let id = id.into_inner();
    let v = state
        .run_tenders(move |c, ctx, now| tenders::cancel(c, ctx, &actor, now, id, &body.reason))
        .await?;
    Ok(HttpResponse::Ok().json(v))
}

/// Enquiries and answers, newest first, a page at a time (`page`, `per_page` up to 200). Public: answered
/// ones, without the asker; an organisation also sees its own questions; the bureau and administrators see
/// all, with the asker.
#[utoipa::path(tag = "tenders", params(("id" = i64, Path), EnquiryFilter), responses((status = 200, body = Paged<EnquiryView>), (status = 400, body = Problem), (status = 404, body = Problem)))]
#[get("/tenders/{id}/enquiries")]
pub async fn enquiries(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<i64>,
    q: web::Query<EnquiryFilter>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let paging = crate::db::Paging::new(q.page, q.per_page);
    let caller = crate::http::caller::caller(&req).await;
    let staff = caller.user().is_some_and(CurrentUser::is_staff);
    let own = caller
        .user()
        .map(CurrentUser::org_scope)
        .transpose()?
        .flatten();
    let v = state
        .run_tenders(move |c, _, _| {
            tenders::visible_row(c, id, staff)?;
            tenders::enquiries_page(c, id, staff, own, paging)
        })
        .await?;
    Ok(HttpResponse::Ok().json(v))
}

/// Ask a question (organisations, before the enquiry deadline). The asker is never shown publicly. One
/// organisation asks at most `SANSHE_ENQUIRIES_PER_DAY` (20) enquiries a day (Beijing date) about one
/// tender; past it 429 `enquiries_per_day` with `Retry-After` until Beijing midnight, and nothing is stored.
#[utoipa::path(tag = "tenders", security(("bearer" = [])), params(("id" = i64, Path)), request_body = NewEnquiry, responses((status = 201, body = EnquiryView), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem), (status = 429, description = "The organisation's enquiries about this tender for today are used up", body = Problem, content_type = "application/problem+json"), (status = 401, body = Problem), (status = 403, body = Problem)))]
#[post("/tenders/{id}/enquiries")]
pub async fn ask(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: Authed<OrgOnly>,
    id: web::Path<i64>,
    body: Json<NewEnquiry>,
) -> Result<HttpResponse, AppError> {
    let actor = crate::http::actor(&req, &user);
    let (uid, org) = (user.id, user.own_org_id()?);
    let id = id.into_inner();
    let v = state
        .run_tenders(move |c, ctx, now| tenders::ask(c, ctx, &actor, uid, org, now, id, &body))
        .await?;
    Ok(HttpResponse::Created().json(v))
}

/// Answer an enquiry publicly (bureau, administrators). An answer less than 5 days before the bid
/// deadline moves the deadline (and the opening) to 5 days after it.
#[utoipa::path(tag = "tenders", security(("bearer" = [])), params(("id" = i64, Path)), request_body = EnquiryAnswer, responses((status = 200, body = EnquiryView), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem)))]
#[post("/enquiries/{id}/answer")]
pub async fn answer(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: Authed<BureauOrAdmin>,
    id: web::Path<i64>,
    body: Json<EnquiryAnswer>,
) -> Result<HttpResponse, AppError> {
    let actor = crate::http::actor(&req, &user);
    let uid = user.id;
    let id = id.into_inner();
    let v = state
        .run_tenders(move |c, ctx, now| tenders::answer(c, ctx, &actor, uid, now, id, &body))
        .await?;
    Ok(HttpResponse::Ok().json(v))
}

/// Submit or replace the organisation's bid. The server's clock decides the deadline. Returns the receipt:
/// sequence number, server time and the SHA-256 commitment. A retry with the same idempotency key returns
/// the same receipt; the same key with other content is a 409.
///
/// As JSON, small files go in `attachments` (base64, at most five of 128 KiB). With files of any size
/// send `multipart/form-data`: the bid as JSON in the part `bid`, then each file as a part `files` (at
/// most 20 files, each within `SANSHE_FILE_MAX_MB`, together within `SANSHE_BID_FILES_MAX_MB`; kind by
/// content). Every file is sealed as it arrives and committed to by name, size and SHA-256; a refused
/// bid keeps none of them. `keep_files` keeps files of the bid being replaced.
#[utoipa::path(tag = "bids", security(("bearer" = [])), params(("id" = i64, Path)), request_body(content((BidInput = "application/json"), (BidUpload = "multipart/form-data"))), responses((status = 201, body = Receipt), (status = 400, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem)))]
#[post("/tenders/{id}/bids")]
pub async fn submit_bid(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: Authed<OrgOnly>,
    id: web::Path<i64>,
    payload: web::Payload,
) -> Result<HttpResponse, actix_web::Error> {
    use actix_web::{FromRequest, HttpMessage};
    let actor = crate::http::actor(&req, &user);
    let (uid, org) = (user.id, user.own_org_id()?);
    let id = id.into_inner();
    let (input, uploads) = if req.content_type() == "multipart/form-data" {
        let (fields, uploads) =
            crate::http::files::receive_bid(&req, payload, &state, org, id, |_| Ok(()))
                .await
                .map_err(AppError::from)?;
        let input = match fields.iter().find(|(k, _)| k == "bid") {
            Some((_, text)) => crate::http::input::from_text::<BidInput>(text),
            None => Err(AppError::field(
                "bid",
                "required",
                "请在 bid 部分以 JSON 提交投标内容。",
                "Send the bid as JSON in the part \"bid\".",
            )),
        };
        if input.is_err() {
            bids::discard(&state.files, uploads.iter().map(|u| u.object.as_str())).await;
        }
        (input?, uploads)
    } else {
        let body = Json::<BidInput>::from_request(&req, &mut payload.into_inner()).await?;
        (body.0, Vec::new())
    };
    let v = crate::http::files::submit_bid(&state, actor, (uid, org, id), input, uploads).await?;
    Ok(HttpResponse::Created().json(v))
}

/// A bid with files, as `multipart/form-data`.
#[derive(utoipa::ToSchema)]
#[allow(dead_code, reason = "describes the multipart body for OpenAPI only")]
pub struct BidUpload {
    /// The bid as JSON ([`BidInput`]).
    bid: String,
    /// The files, each a part named `files`.
    #[schema(value_type = Vec<String>, format = Binary)]
    files: Vec<Vec<u8>>,
}

/// The organisation's own bid on a tender, decrypted for it alone, with its receipts.
#[utoipa::path(tag = "bids", security(("bearer" = [])), params(("id" = i64, Path)), responses((status = 200, body = OwnBid), (status = 404, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem)))]
#[get("/tenders/{id}/bids/mine")]
pub async fn own_bid(
    state: web::Data<AppState>,
    user: Authed<OrgOnly>,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let org = user.own_org_id()?;
    let id = id.into_inner();
    let v = state
        .run_tenders(move |c, ctx, now| {
            tenders::advance(c, ctx, now, id)?;
            tenders::visible_row(c, id, false)?;
            bids::own_bid(c, ctx, org, id)?.ok_or(AppError::NotFound)
        })
        .await?;
    Ok(HttpResponse::Ok().json(v))
}

#[derive(Deserialize, serde::Serialize, Debug, Clone, Default, utoipa::ToSchema)]
pub struct WithdrawInput {
    /// Required after opening.
    pub reason: Option<String>,
}

/// Withdraw the organisation's bid (before the deadline; after opening with a reason, which passes the
/// award on if it was the winner).
#[utoipa::path(tag = "bids", security(("bearer" = [])), params(("id" = i64, Path)), request_body = WithdrawInput, responses((status = 204), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem)))]
#[post("/tenders/{id}/bids/withdraw")]
pub async fn withdraw(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: Authed<OrgOnly>,
    id: web::Path<i64>,
    body: Json<WithdrawInput>,
) -> Result<HttpResponse, AppError> {
    let actor = crate::http::actor(&req, &user);
    let org = user.own_org_id()?;
    let id = id.into_inner();
    state
        .run_tenders(move |c, ctx, now| {
            bids::withdraw(c, ctx, &actor, org, now, id, body.reason.as_deref())
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The organisation's receipts across tenders.
#[utoipa::path(tag = "bids", security(("bearer" = [])), responses((status = 200, body = Vec<MyBidLine>), (status = 401, body = Problem), (status = 403, body = Problem)))]
#[get("/my/bids")]
pub async fn my_bids(
    state: web::Data<AppState>,
    user: Authed<OrgOnly>,
) -> Result<HttpResponse, AppError> {
    let org = user.own_org_id()?;
    let v = state
        .run_tenders(move |c, _, _| Ok(bids::my_bids(c, org)?))
        .await?;
    Ok(HttpResponse::Ok().json(v))
}

/// The opened bids (bureau, administrators): 409 `sealed` before the opening time.
#[utoipa::path(tag = "bids", security(("bearer" = [])), params(("id" = i64, Path)), responses((status = 200, body = Vec<OpenedBid>), (status = 404, body = Problem), (status = 409, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem)))]
#[get("/tenders/{id}/bids")]
pub async fn opened(
    state: web::Data<AppState>,
    _user: Authed<BureauOrAdmin>,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let v = state
        .run_tenders(move |c, ctx, now| {
            tenders::advance(c, ctx, now, id)?;
            let t = tenders::find_row(c, id)?;
            bids::opened_bids(c, &t)
        })
        .await?;
    Ok(HttpResponse::Ok().json(v))
}

/// One attachment of a bid: its bidder at any time; after opening the bureau, administrators and panel
/// members who declared no conflict.
#[utoipa::path(tag = "bids", security(("bearer" = [])), params(("id" = i64, Path), ("seq" = i64, Path), ("n" = usize, Path)), responses((status = 200, content_type = "application/octet-stream", body = Vec<u8>), (status = 404, body = Problem), (status = 409, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem)))]
#[get("/tenders/{id}/bids/{seq}/attachments/{n}")]
pub async fn attachment(
    state: web::Data<AppState>,
    user: Authed<AttachmentReaders>,
    path: web::Path<(i64, i64, usize)>,
) -> Result<HttpResponse, AppError> {
    let (id, seq, n) = path.into_inner();
    let u = user.user.clone();
    let (meta, body) = state
        .run_tenders(move |c, ctx, now| bids::read_attachment(c, ctx, now, &u, id, seq, n))
        .await?;
    crate::http::files::bid_attachment(&state, meta, body).await
}

/// After opening, every opened bid's commitment, each checked. Public: anyone gets the bidder, the price
/// and each field's hash, with value and salt for `tender_id`, `organisation_id` and `price_fen`, and
/// recomputes the root (`domain::commitment`: leaf = SHA-256("sanshe-bid-field/2" 0x00 name 0x00 value 0x00
/// salt), root = SHA-256("sanshe-bid/2" 0x00 leaves…)). The bureau, administrators and the panel's
/// evaluators who declared no conflict also get every field, the canonical bytes and the nonce. 409
/// `sealed` before opening.
#[utoipa::path(tag = "bids", params(("id" = i64, Path)), responses((status = 200, body = Vec<CommitmentCheck>), (status = 404, body = Problem), (status = 409, body = Problem)))]
#[get("/tenders/{id}/commitments")]
pub async fn commitments(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let caller = crate::http::caller::caller(&req).await.user().cloned();
    let v = state
        .run_tenders(move |c, ctx, now| {
            tenders::advance(c, ctx, now, id)?;
            let t = tenders::visible_row(c, id, false)?;
            let reader = bids::disclosure(c, id, caller.as_ref())?;
            bids::commitments(c, ctx, &t, reader)
        })
        .await?;
    Ok(HttpResponse::Ok().json(v))
}

/// The panel and each member's declaration and submission (bureau, administrators, evaluators on it).
#[utoipa::path(tag = "evaluation", security(("bearer" = [])), params(("id" = i64, Path)), responses((status = 200, body = Vec<MemberView>), (status = 404, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem)))]
#[get("/tenders/{id}/panel")]
pub async fn panel(
    state: web::Data<AppState>,
    user: Authed<PanelReaders>,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let u = user.user.clone();
    let v = state
        .run_tenders(move |c, _, _| {
            tenders::find_row(c, id)?;
            let p = evaluation::panel(c, id)?;
            if u.role == Role::Evaluator && !p.iter().any(|m| m.user_id == u.id) {
                return Err(AppError::NotFound);
            }
            Ok(p)
        })
        .await?;
    Ok(HttpResponse::Ok().json(v))
}

/// Form the panel after opening (bureau, administrators): name the buyer's representatives and draw the
/// experts at random from the pool of evaluators linked to no bidder; the draw (seed, candidates, who was
/// drawn, time) is recorded (实施条例 Art 39; 87号令 Art 48). Refused (422) below the method's size, with an
/// even number, with representatives above a third (87号令 Art 47), with a pool too small, or a
/// representative the registry links to a bidder.
#[utoipa::path(tag = "evaluation", security(("bearer" = [])), params(("id" = i64, Path)), request_body = PanelInput, responses((status = 200, body = Vec<MemberView>), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem)))]
#[post("/tenders/{id}/panel")]
pub async fn form_panel(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: Authed<BureauOrAdmin>,
    id: web::Path<i64>,
    body: Json<PanelInput>,
) -> Result<HttpResponse, AppError> {
    let actor = crate::http::actor(&req, &user);
    let id = id.into_inner();
    let v = state
        .run_tenders(move |c, ctx, now| evaluation::form_panel(c, ctx, &actor, now, id, &body))
        .await?;
    Ok(HttpResponse::Ok().json(v))
}

/// An evaluator on the panel declares (no) conflict of interest, before seeing any bid.
#[utoipa::path(tag = "evaluation", security(("bearer" = [])), params(("id" = i64, Path)), request_body = Declaration, responses((status = 200, body = MemberView), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem)))]
#[post("/tenders/{id}/declaration")]
pub async fn declare(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: Authed<EvaluatorOnly>,
    id: web::Path<i64>,
    body: Json<Declaration>,
) -> Result<HttpResponse, AppError> {
    let actor = crate::http::actor(&req, &user);
    let uid = user.id;
    let id = id.into_inner();
    let v = state
        .run_tenders(move |c, ctx, now| evaluation::declare(c, ctx, &actor, uid, now, id, &body))
        .await?;
    Ok(HttpResponse::Ok().json(v))
}

/// The scoring sheet: criteria, valid bids, own scores (an evaluator who declared no conflict).
#[utoipa::path(tag = "evaluation", security(("bearer" = [])), params(("id" = i64, Path)), responses((status = 200, body = ScoringSheet), (status = 404, body = Problem), (status = 409, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem)))]
#[get("/tenders/{id}/sheet")]
pub async fn sheet(
    state: web::Data<AppState>,
    user: Authed<EvaluatorOnly>,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let uid = user.id;
    let id = id.into_inner();
    let v = state
        .run_tenders(move |c, ctx, now| evaluation::sheet(c, ctx, uid, now, id))
        .await?;
    Ok(HttpResponse::Ok().json(v))
}

/// Submit every score at once; final. The last seated member's submission completes the evaluation.
#[utoipa::path(tag = "evaluation", security(("bearer" = [])), params(("id" = i64, Path)), request_body = ScoreInput, responses((status = 200, body = ScoringSheet), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem)))]
#[post("/tenders/{id}/scores")]
pub async fn scores(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: Authed<EvaluatorOnly>,
    id: web::Path<i64>,
    body: Json<ScoreInput>,
) -> Result<HttpResponse, AppError> {
    let actor = crate::http::actor(&req, &user);
    let uid = user.id;
    let id = id.into_inner();
    let v = state
        .run_tenders(move |c, ctx, now| {
            evaluation::submit_scores(c, ctx, &actor, uid, now, id, &body)
        })
        .await?;
    Ok(HttpResponse::Ok().json(v))
}

/// The evaluation report: every evaluator's scores and the ranking (bureau, administrators; panel members
/// and finance once locked).
#[utoipa::path(tag = "evaluation", security(("bearer" = [])), params(("id" = i64, Path)), responses((status = 200, body = EvaluationReport), (status = 404, body = Problem), (status = 409, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem)))]
#[get("/tenders/{id}/report")]
pub async fn report(
    state: web::Data<AppState>,
    user: Authed<EvaluationReportReaders>,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let u = user.user.clone();
    let v = state
        .run_tenders(move |c, ctx, now| evaluation::report_for(c, ctx, now, id, &u))
        .await?;
    Ok(HttpResponse::Ok().json(v))
}

/// Confirm the winner (bureau, administrators): normally the first-ranked bid; another with a reason.
#[utoipa::path(tag = "evaluation", security(("bearer" = [])), params(("id" = i64, Path)), request_body = ConfirmInput, responses((status = 200, body = TenderView), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem)))]
#[post("/tenders/{id}/award")]
pub async fn confirm(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: Authed<BureauOrAdmin>,
    id: web::Path<i64>,
    body: Json<ConfirmInput>,
) -> Result<HttpResponse, AppError> {
    let actor = crate::http::actor(&req, &user);
    let id = id.into_inner();
    let v = state
        .run_tenders(move |c, ctx, now| {
            evaluation::confirm(c, ctx, &actor, now, id, &body)?;
            tenders::get(c, ctx, now, id, true)
        })
        .await?;
    Ok(HttpResponse::Ok().json(v))
}

/// Publish the result notice: the publicity period, then the challenge window (bureau, administrators).
#[utoipa::path(tag = "evaluation", security(("bearer" = [])), params(("id" = i64, Path)), responses((status = 200, body = TenderView), (status = 404, body = Problem), (status = 409, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem)))]
#[post("/tenders/{id}/result")]
pub async fn publish_result(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: Authed<BureauOrAdmin>,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let actor = crate::http::actor(&req, &user);
    let id = id.into_inner();
    let v = state
        .run_tenders(move |c, ctx, now| {
            evaluation::publish_result(c, ctx, &actor, now, id)?;
            tenders::get(c, ctx, now, id, true)
        })
        .await?;
    Ok(HttpResponse::Ok().json(v))
}

/// Disqualify an opened bid with a reason (bureau, administrators); a disqualified winner passes the award
/// to the next-ranked valid bid.
#[utoipa::path(tag = "evaluation", security(("bearer" = [])), params(("id" = i64, Path)), request_body = DisqualifyInput, responses((status = 200, body = TenderView), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem)))]
#[post("/tenders/{id}/disqualify")]
pub async fn disqualify(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: Authed<BureauOrAdmin>,
    id: web::Path<i64>,
    body: Json<DisqualifyInput>,
) -> Result<HttpResponse, AppError> {
    let actor = crate::http::actor(&req, &user);
    let id = id.into_inner();
    let v = state
        .run_tenders(move |c, ctx, now| {
            evaluation::disqualify(c, ctx, &actor, now, id, &body)?;
            tenders::get(c, ctx, now, id, true)
        })
        .await?;
    Ok(HttpResponse::Ok().json(v))
}

/// Record that the winner refused to sign the contract or let the 30 days run out (政府采购法 Art 46), with
/// a reason (bureau, administrators): the award passes to the next-ranked valid bid, or the tender fails
/// (实施条例 Art 43). 409 `wrong_state` before the result or after the contract, `contract_exists`.
#[utoipa::path(tag = "evaluation", security(("bearer" = [])), params(("id" = i64, Path)), request_body = RefusalInput, responses((status = 200, body = TenderView), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem)))]
#[post("/tenders/{id}/award/refusal")]
pub async fn award_refusal(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: Authed<BureauOrAdmin>,
    id: web::Path<i64>,
    body: Json<RefusalInput>,
) -> Result<HttpResponse, AppError> {
    let actor = crate::http::actor(&req, &user);
    let id = id.into_inner();
    let v = state
        .run_tenders(move |c, ctx, now| {
            evaluation::record_refusal(c, ctx, &actor, now, id, &body)?;
            tenders::get(c, ctx, now, id, true)
        })
        .await?;
    Ok(HttpResponse::Ok().json(v))
}

/// 竞争性谈判: the negotiation record (origin, compliance, rounds, final quotes) for the bureau,
/// administrators and the panel's members who declared no conflict.
#[utoipa::path(tag = "evaluation", security(("bearer" = [])), params(("id" = i64, Path)), responses((status = 200, body = NegotiationView), (status = 404, body = Problem), (status = 409, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem)))]
#[get("/tenders/{id}/negotiation")]
pub async fn negotiation_record(
    state: web::Data<AppState>,
    user: Authed<PanelReaders>,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let u = user.user.clone();
    let v = state
        .run_tenders(move |c, ctx, now| {
            if u.role == Role::Evaluator {
                let seated = evaluation::panel(c, id)?
                    .into_iter()
                    .any(|m| m.user_id == u.id && m.declaration.as_deref() == Some("none"));
                if !seated {
                    return Err(AppError::NotFound);
                }
            }
            negotiation::view(c, ctx, now, id)
        })
        .await?;
    Ok(HttpResponse::Ok().json(v))
}

/// Record that a draft negotiation was moved here after a failed open tender: two responses then
/// suffice (74号令 Art 27). Bureau, administrators.
#[utoipa::path(tag = "evaluation", security(("bearer" = [])), params(("id" = i64, Path)), request_body = OriginInput, responses((status = 200, body = NegotiationView), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem)))]
#[post("/tenders/{id}/negotiation/origin")]
pub async fn negotiation_origin(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: Authed<BureauOrAdmin>,
    id: web::Path<i64>,
    body: Json<OriginInput>,
) -> Result<HttpResponse, AppError> {
    let actor = crate::http::actor(&req, &user);
    let id = id.into_inner();
    let v = state
        .run_tenders(move |c, ctx, now| negotiation::record_origin(c, ctx, &actor, now, id, &body))
        .await?;
    Ok(HttpResponse::Ok().json(v))
}

/// The panel's decision whether a response is substantially compliant (实质性响应), with its reason
/// (a seated member who declared no conflict records it; final).
#[utoipa::path(tag = "evaluation", security(("bearer" = [])), params(("id" = i64, Path)), request_body = ComplianceInput, responses((status = 200, body = NegotiationView), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem)))]
#[post("/tenders/{id}/negotiation/compliance")]
pub async fn negotiation_compliance(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: Authed<EvaluatorOnly>,
    id: web::Path<i64>,
    body: Json<ComplianceInput>,
) -> Result<HttpResponse, AppError> {
    let actor = crate::http::actor(&req, &user);
    let uid = user.id;
    let id = id.into_inner();
    let v = state
        .run_tenders(move |c, ctx, now| {
            negotiation::decide_compliance(c, ctx, &actor, uid, now, id, &body)
        })
        .await?;
    Ok(HttpResponse::Ok().json(v))
}

/// A round of negotiation: every compliant supplier's quote in yuan, or none when it declines to quote
/// again; `final` makes it the final round (最后报价, 74号令 Art 33) and locks the report.
#[utoipa::path(tag = "evaluation", security(("bearer" = [])), params(("id" = i64, Path)), request_body = RoundInput, responses((status = 200, body = NegotiationView), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem)))]
#[post("/tenders/{id}/negotiation/rounds")]
pub async fn negotiation_round(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: Authed<EvaluatorOnly>,
    id: web::Path<i64>,
    body: Json<RoundInput>,
) -> Result<HttpResponse, AppError> {
    let actor = crate::http::actor(&req, &user);
    let uid = user.id;
    let id = id.into_inner();
    let v = state
        .run_tenders(move |c, ctx, now| {
            negotiation::record_round(c, ctx, &actor, uid, now, id, &body)
        })
        .await?;
    Ok(HttpResponse::Ok().json(v))
}

/// 单一来源: the supplier, the lawful ground and explanation, the 公示 with its end and its objections with
/// their answers (实施条例 Art 38), and the negotiation record (74号令 Art 42). Public; who objected is shown
/// only to the bureau, administrators and the objecting organisation, the record only to them and the
/// supplier. For a tender of another method the view is empty (`single_source: false`).
#[utoipa::path(tag = "tenders", params(("id" = i64, Path)), responses((status = 200, body = SingleSourceView), (status = 404, body = Problem)))]
#[get("/tenders/{id}/single-source")]
pub async fn single_source(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let reader = match crate::http::caller::caller(&req).await.user() {
        Some(u) if u.is_staff() => ss::Reader::Staff,
        Some(u) if u.role == Role::Org => u.org_id.map_or(ss::Reader::Public, ss::Reader::Org),
        _ => ss::Reader::Public,
    };
    let v = state
        .run_tenders(move |c, ctx, now| ss::view(c, ctx, now, id, reader))
        .await?;
    Ok(HttpResponse::Ok().json(v))
}

/// Lodge an objection (异议) to a single source's 公示, with the reason (at most 1,000 characters): any
/// signed-in organisation, while the 公示 runs (实施条例 Art 38; else 409 `notice_closed`). The procurement
/// waits for the bureau's answer.
#[utoipa::path(tag = "tenders", security(("bearer" = [])), params(("id" = i64, Path)), request_body = NewObjection, responses((status = 201, body = SingleSourceView), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem)))]
#[post("/tenders/{id}/objections")]
pub async fn lodge_objection(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: Authed<OrgOnly>,
    id: web::Path<i64>,
    body: Json<NewObjection>,
) -> Result<HttpResponse, AppError> {
    let actor = crate::http::actor(&req, &user);
    let (uid, org) = (user.id, user.own_org_id()?);
    let id = id.into_inner();
    let v = state
        .run_tenders(move |c, ctx, now| {
            ss::lodge_objection(c, ctx, &actor, uid, org, now, id, &body)
        })
        .await?;
    Ok(HttpResponse::Created().json(v))
}

/// Answer an objection to a single source's 公示 (bureau, administrators; final). `upheld: true` means the
/// single source may not go on: the tender is cancelled with the answer as its reason (74号令 Art 41).
#[utoipa::path(tag = "tenders", security(("bearer" = [])), params(("id" = i64, Path), ("n" = i64, Path)), request_body = ObjectionAnswer, responses((status = 200, body = SingleSourceView), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem)))]
#[post("/tenders/{id}/objections/{n}/answer")]
pub async fn answer_objection(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: Authed<BureauOrAdmin>,
    path: web::Path<(i64, i64)>,
    body: Json<ObjectionAnswer>,
) -> Result<HttpResponse, AppError> {
    let actor = crate::http::actor(&req, &user);
    let uid = user.id;
    let (id, n) = path.into_inner();
    let v = state
        .run_tenders(move |c, ctx, now| {
            ss::answer_objection(c, ctx, &actor, uid, now, id, n, &body)
        })
        .await?;
    Ok(HttpResponse::Ok().json(v))
}

/// Write a single source's negotiation record (协商情况记录, 74号令 Art 42) after the opening (bureau,
/// administrators): date, place, at least 2 procurement staff, the supplier's cost explanation, the terms and
/// the agreed price (at most the response price and the budget). It replaces the panel: the tender becomes
/// evaluated and the award carries the agreed price.
#[utoipa::path(tag = "evaluation", security(("bearer" = [])), params(("id" = i64, Path)), request_body = RecordInput, responses((status = 200, body = SingleSourceView), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem)))]
#[post("/tenders/{id}/single-source/record")]
pub async fn single_source_record(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: Authed<BureauOrAdmin>,
    id: web::Path<i64>,
    body: Json<RecordInput>,
) -> Result<HttpResponse, AppError> {
    let actor = crate::http::actor(&req, &user);
    let uid = user.id;
    let id = id.into_inner();
    let v = state
        .run_tenders(move |c, ctx, now| ss::record(c, ctx, &actor, uid, now, id, &body))
        .await?;
    Ok(HttpResponse::Ok().json(v))
}

/// Challenges: all for the bureau and administrators, its own for an organisation.
#[utoipa::path(tag = "evaluation", security(("bearer" = [])), params(("id" = i64, Path)), responses((status = 200, body = Vec<ChallengeView>), (status = 404, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem)))]
#[get("/tenders/{id}/challenges")]
pub async fn challenges(
    state: web::Data<AppState>,
    user: Authed<ChallengeReaders>,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let only = user.org_scope()?;
    let v = state
        .run_tenders(move |c, _, now| {
            tenders::visible_row(c, id, only.is_none())?;
            Ok(evaluation::challenges_of(c, now, id, only)?)
        })
        .await?;
    Ok(HttpResponse::Ok().json(v))
}

/// File a challenge against the documents, the process or the result (`subject`, default `result`), within
/// its window (实施条例 Art 53): the documents by any organisation that may bid, from the publication until 7
/// working days after the documents could be obtained and before the opening; the process by a bidder, from
/// the opening until 7 working days after the evaluation report (or the opening); the result by a bidder,
/// during the publicity period and the challenge window. Refusals name the field `subject` and the rule
/// (`window_closed`, `window_not_open`, `not_a_bidder`, `may_not_bid`). While open it suspends the opening
/// (documents) or the award and the contract (实施条例 Art 54).
#[utoipa::path(tag = "evaluation", security(("bearer" = [])), params(("id" = i64, Path)), request_body = NewChallenge, responses((status = 201, body = ChallengeView), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem)))]
#[post("/tenders/{id}/challenges")]
pub async fn file_challenge(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: Authed<OrgOnly>,
    id: web::Path<i64>,
    body: Json<NewChallenge>,
) -> Result<HttpResponse, AppError> {
    let actor = crate::http::actor(&req, &user);
    let (uid, org) = (user.id, user.own_org_id()?);
    let id = id.into_inner();
    let v = state
        .run_tenders(move |c, ctx, now| {
            evaluation::file_challenge(c, ctx, &actor, uid, org, now, id, &body)
        })
        .await?;
    Ok(HttpResponse::Created().json(v))
}

/// Answer a challenge, upheld or rejected with reasons (bureau, administrators).
#[utoipa::path(tag = "evaluation", security(("bearer" = [])), params(("id" = i64, Path)), request_body = ChallengeAnswer, responses((status = 200, body = ChallengeView), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem)))]
#[post("/challenges/{id}/answer")]
pub async fn answer_challenge(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: Authed<BureauOrAdmin>,
    id: web::Path<i64>,
    body: Json<ChallengeAnswer>,
) -> Result<HttpResponse, AppError> {
    let actor = crate::http::actor(&req, &user);
    let uid = user.id;
    let id = id.into_inner();
    let v = state
        .run_tenders(move |c, ctx, now| {
            evaluation::answer_challenge(c, ctx, &actor, uid, now, id, &body)
        })
        .await?;
    Ok(HttpResponse::Ok().json(v))
}

/// Assess an open challenge: whether it may affect the result (bureau, administrators). Every challenge is
/// taken to affect it when filed; marking it as not affecting (with a `reason`) lifts the suspension it
/// caused (实施条例 Art 54).
#[utoipa::path(tag = "evaluation", security(("bearer" = [])), params(("id" = i64, Path)), request_body = ChallengeAssessment, responses((status = 200, body = ChallengeView), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem)))]
#[post("/challenges/{id}/assessment")]
pub async fn assess_challenge(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: Authed<BureauOrAdmin>,
    id: web::Path<i64>,
    body: Json<ChallengeAssessment>,
) -> Result<HttpResponse, AppError> {
    let actor = crate::http::actor(&req, &user);
    let id = id.into_inner();
    let v = state
        .run_tenders(move |c, ctx, now| {
            evaluation::assess_challenge(c, ctx, &actor, now, id, &body)
        })
        .await?;
    Ok(HttpResponse::Ok().json(v))
}

/// What links an evaluator to organisations (bureau, administrators).
#[utoipa::path(tag = "evaluation", security(("bearer" = [])), params(("id" = i64, Path)), responses((status = 200, body = Vec<LinkView>), (status = 401, body = Problem), (status = 403, body = Problem)))]
#[get("/evaluators/{id}/links")]
pub async fn links(
    state: web::Data<AppState>,
    _user: Authed<BureauOrAdmin>,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let v = state
        .run_tenders(move |c, _, _| Ok(evaluation::links_of(c, id)?))
        .await?;
    Ok(HttpResponse::Ok().json(v))
}

/// Record a link between an evaluator and an organisation (bureau, administrators); a linked evaluator is
/// refused from panels on tenders that organisation bids on.
#[utoipa::path(tag = "evaluation", security(("bearer" = [])), params(("id" = i64, Path)), request_body = LinkInput, responses((status = 200, body = Vec<LinkView>), (status = 404, body = Problem), (status = 422, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem)))]
#[post("/evaluators/{id}/links")]
pub async fn add_link(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: Authed<BureauOrAdmin>,
    id: web::Path<i64>,
    body: Json<LinkInput>,
) -> Result<HttpResponse, AppError> {
    let actor = crate::http::actor(&req, &user);
    let id = id.into_inner();
    let v = state
        .run_tenders(move |c, _, now| evaluation::link(c, &actor, now, id, &body))
        .await?;
    Ok(HttpResponse::Ok().json(v))
}

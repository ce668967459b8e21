//! The documents of issue 13 as PDFs over the JSON API (docs/REPORTS.md, Documents): the contract
//! statement, the award notice and award letter, the evaluation report, the bid receipt and the audit
//! report. Each handler checks the caller, then gathers and draws on the blocking pool behind the report
//! gate (`AppState::reports`), like the 三社联动 report, and answers with a Chinese file name.

use actix_web::{HttpResponse, get, web};
use tokio::sync::SemaphorePermit;

use super::reports::pdf_response;
use super::tenders::EvaluationReportReaders;
use crate::app::AppState;
use crate::contracts::{Reader, flags};
use crate::error::{AppError, Problem};
use crate::http::caller::{Authed, OrgOnly, ReportReaders, Role, RoleSet, SpendingReaders};
use crate::reports::audit::{self, AuditFilter};
use crate::reports::{contract_statement, tender_documents as docs};

/// Who reads an award letter: the bureau, and the winning organisation (its own letter only).
#[derive(Debug)]
pub struct LetterReaders;
impl RoleSet for LetterReaders {
    const ROLES: &'static [Role] = &[Role::Bureau, Role::Org];
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(contract_statement_pdf)
        .service(award_notice_pdf)
        .service(award_letter_pdf)
        .service(evaluation_report_pdf)
        .service(bid_receipt_pdf)
        .service(audit_pdf);
}

/// A turn at the report gate.
async fn turn(state: &AppState) -> Result<SemaphorePermit<'_>, AppError> {
    state
        .reports
        .acquire()
        .await
        .map_err(|_| AppError::internal("the report gate is closed"))
}

/// The contract statement (合同结算单/资金对账单) as a PDF: particulars, instalments, payments with voucher
/// numbers, spending by budget line and the audit flags. Finance, the bureau and administrators any
/// contract; an organisation its own (404 for another's, as the contract API).
#[utoipa::path(tag = "reports", security(("bearer" = [])), params(("id" = i64, Path)), responses((status = 200, content_type = "application/pdf", body = Vec<u8>), (status = 404, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem)))]
#[get("/contracts/{id}/statement/pdf")]
pub async fn contract_statement_pdf(
    state: web::Data<AppState>,
    user: Authed<SpendingReaders>,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let (r, id) = (Reader::of(Some(&user)), id.into_inner());
    let (config, ctx, now, today) = (
        state.config.clone(),
        state.contracts.clone(),
        state.clock.now(),
        state.today(),
    );
    let fctx = flags::Ctx::from_config(&config);
    let _turn = turn(&state).await?;
    let (no, pdf) = state
        .run(move |c| {
            let s = contract_statement::gather(c, &ctx, &fctx, r, id, today)?;
            let pdf = contract_statement::pdf(&config.report_font, &s, &config.issuer, now);
            Ok((s.contract.contract_no, pdf))
        })
        .await?;
    Ok(pdf_response(&format!("合同结算单-{no}.pdf"), pdf))
}

/// The award notice (中标/成交结果公告) as a PDF. Public once the result notice is published: 409
/// `result_not_published` before, 404 for a draft.
#[utoipa::path(tag = "reports", params(("id" = i64, Path)), responses((status = 200, content_type = "application/pdf", body = Vec<u8>), (status = 404, body = Problem), (status = 409, body = Problem)))]
#[get("/tenders/{id}/award-notice/pdf")]
pub async fn award_notice_pdf(
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let config = state.config.clone();
    let _turn = turn(&state).await?;
    let (code, pdf) = state
        .run_tenders(move |c, ctx, now| {
            let a = docs::award(c, ctx, now, id)?;
            let pdf = docs::award_notice_pdf(&config.report_font, &a, &config.issuer, now);
            Ok((a.tender.code, pdf))
        })
        .await?;
    Ok(pdf_response(&format!("结果公告-{code}.pdf"), pdf))
}

/// The award letter (中标/成交通知书) as a PDF: the bureau, and the winning organisation (404 for any
/// other); 409 `result_not_published` before the result notice.
#[utoipa::path(tag = "reports", security(("bearer" = [])), params(("id" = i64, Path)), responses((status = 200, content_type = "application/pdf", body = Vec<u8>), (status = 404, body = Problem), (status = 409, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem)))]
#[get("/tenders/{id}/award-letter/pdf")]
pub async fn award_letter_pdf(
    state: web::Data<AppState>,
    user: Authed<LetterReaders>,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let (config, u) = (state.config.clone(), user.user.clone());
    let _turn = turn(&state).await?;
    let (name, pdf) = state
        .run_tenders(move |c, ctx, now| {
            let a = docs::award(c, ctx, now, id)?;
            docs::letter_for(&a, &u)?;
            let pdf = docs::award_letter_pdf(&config.report_font, &a, &config.issuer, now);
            let title = a
                .result
                .letter
                .as_ref()
                .map_or("中标通知书".to_string(), |l| l.title_zh.clone());
            Ok((format!("{title}-{}", a.tender.code), pdf))
        })
        .await?;
    Ok(pdf_response(&format!("{name}.pdf"), pdf))
}

/// The evaluation report (评审报告) as a PDF, for the readers of `GET /tenders/{id}/report`; 409
/// `report_not_locked` until every seated member has submitted.
#[utoipa::path(tag = "reports", security(("bearer" = [])), params(("id" = i64, Path)), responses((status = 200, content_type = "application/pdf", body = Vec<u8>), (status = 404, body = Problem), (status = 409, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem)))]
#[get("/tenders/{id}/evaluation-report/pdf")]
pub async fn evaluation_report_pdf(
    state: web::Data<AppState>,
    user: Authed<EvaluationReportReaders>,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let (config, u) = (state.config.clone(), user.user.clone());
    let _turn = turn(&state).await?;
    let (code, pdf) = state
        .run_tenders(move |c, ctx, now| {
            let e = docs::evaluation(c, ctx, now, id, &u)?;
            let pdf = docs::evaluation_pdf(&config.report_font, &e, &config.issuer, now);
            Ok((e.tender.code, pdf))
        })
        .await?;
    Ok(pdf_response(&format!("评审报告-{code}.pdf"), pdf))
}

/// The organisation's bid receipt (投标回执) as a PDF: receipt number, time received, the commitment and
/// how to check it; never the sealed price. 404 without a bid on the tender.
#[utoipa::path(tag = "bids", security(("bearer" = [])), params(("id" = i64, Path)), responses((status = 200, content_type = "application/pdf", body = Vec<u8>), (status = 404, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem)))]
#[get("/tenders/{id}/bids/mine/receipt/pdf")]
pub async fn bid_receipt_pdf(
    state: web::Data<AppState>,
    user: Authed<OrgOnly>,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let org = user.own_org_id()?;
    let id = id.into_inner();
    let config = state.config.clone();
    let _turn = turn(&state).await?;
    let (seq, pdf) = state
        .run_tenders(move |c, ctx, now| {
            let b = docs::receipt(c, ctx, now, org, id)?;
            let pdf = docs::receipt_pdf(&config.report_font, &b, &config.issuer, now);
            Ok((b.receipt.seq, pdf))
        })
        .await?;
    Ok(pdf_response(&format!("投标回执-{seq}.pdf"), pdf))
}

/// The audit report (审计报告) of the contracts signed in the months `from`–`to`: every audit flag with its
/// evidence, grouped by contract, with the counts per rule (finance, administrators, the bureau). 422
/// naming `from` or `to` for a missing or malformed month, or `to` before `from`.
#[utoipa::path(tag = "reports", security(("bearer" = [])), params(AuditFilter), responses((status = 200, content_type = "application/pdf", body = Vec<u8>), (status = 422, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem)))]
#[get("/reports/audit/pdf")]
pub async fn audit_pdf(
    state: web::Data<AppState>,
    _user: Authed<ReportReaders>,
    q: web::Query<AuditFilter>,
) -> Result<HttpResponse, AppError> {
    let f = q.into_inner();
    let (config, now, today) = (state.config.clone(), state.clock.now(), state.today());
    let fctx = flags::Ctx::from_config(&config);
    let _turn = turn(&state).await?;
    let (name, pdf) = state
        .run(move |c| {
            let a = audit::gather(c, &fctx, today, &f)?;
            let pdf = audit::pdf(&config.report_font, &a, &config.issuer, now);
            Ok((a.name, pdf))
        })
        .await?;
    Ok(pdf_response(&format!("审计报告-{name}.pdf"), pdf))
}

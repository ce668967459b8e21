//! Reports over the JSON API (docs/REPORTS.md): the district's 三社联动 report as its figures (JSON) and
//! as a PDF, for the bureau, finance and administrators; the bureau's text for its sections 4 and 5.
//! Drawing a PDF is CPU work: it runs on the blocking pool behind `AppState::reports`, a gate that lets
//! fewer reports run at once than there are cores, so other pages keep their threads.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, put, web};

use crate::app::AppState;
use crate::error::{AppError, Problem};
use crate::http::caller::{Authed, BureauOnly, ReportReaders};
use crate::http::input::Json;
use crate::reports::texts::{self, Texts};
use crate::reports::three_society::{ReportFilter, ThreeSociety};

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(three_society)
        .service(three_society_pdf)
        .service(get_texts)
        .service(put_texts);
}

/// The 三社联动 report's figures for a year (or a quarter of it) or months from–to, optionally one street:
/// the same figures as the PDF, each equal to what the other endpoints give for the same period.
#[utoipa::path(tag = "reports", security(("bearer" = [])), params(ReportFilter), responses((status = 200, body = ThreeSociety), (status = 422, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem)))]
#[get("/reports/three-society")]
pub async fn three_society(
    state: web::Data<AppState>,
    _user: Authed<ReportReaders>,
    q: web::Query<ReportFilter>,
) -> Result<HttpResponse, AppError> {
    let f = q.into_inner();
    let (people, ledger) = (
        crate::people::Ctx::from_config(&state.config),
        state.config.ledger.clone(),
    );
    let v = state
        .run(move |c| crate::reports::three_society::gather(c, &people, &ledger, &f))
        .await?;
    Ok(HttpResponse::Ok().json(v))
}

/// The 三社联动 report as a PDF (A4, Chinese, the font embedded and subset), to download.
#[utoipa::path(tag = "reports", security(("bearer" = [])), params(ReportFilter), responses((status = 200, content_type = "application/pdf", body = Vec<u8>), (status = 422, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem)))]
#[get("/reports/three-society/pdf")]
pub async fn three_society_pdf(
    state: web::Data<AppState>,
    _user: Authed<ReportReaders>,
    q: web::Query<ReportFilter>,
) -> Result<HttpResponse, AppError> {
    let f = q.into_inner();
    let (config, now) = (state.config.clone(), state.clock.now());
    let _turn = state
        .reports
        .acquire()
        .await
        .map_err(|_| AppError::internal("the report gate is closed"))?;
    let (r, pdf) = state
        .run(move |c| crate::reports::three_society(c, &config, &f, now))
        .await?;
    Ok(pdf_response(
        &format!("三社联动报告-{}.pdf", r.period.name),
        pdf,
    ))
}

/// A PDF to download under a Chinese file name (RFC 6266 `filename*`, with an ASCII fallback).
pub fn pdf_response(name: &str, pdf: Vec<u8>) -> HttpResponse {
    let encoded: String = url::form_urlencoded::byte_serialize(name.as_bytes())
        .collect::<String>()
        .replace('+', "%20");
    HttpResponse::Ok()
        .content_type("application/pdf")
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"report.pdf\"; filename*=UTF-8''{encoded}"),
        ))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(pdf)
}

/// The bureau's text for sections 4 (problems) and 5 (next steps) of a period's report.
#[utoipa::path(tag = "reports", security(("bearer" = [])), params(ReportFilter), responses((status = 200, body = Texts), (status = 422, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem)))]
#[get("/reports/three-society/texts")]
pub async fn get_texts(
    state: web::Data<AppState>,
    _user: Authed<ReportReaders>,
    q: web::Query<ReportFilter>,
) -> Result<HttpResponse, AppError> {
    let f = q.into_inner();
    let key = texts::key(&f.period()?, f.street);
    let v = state.run(move |c| texts::get(c, &key)).await?;
    Ok(HttpResponse::Ok().json(v))
}

/// Write the text of sections 4 and 5 of a period's report (the bureau; at most 5,000 characters each).
#[utoipa::path(tag = "reports", security(("bearer" = [])), params(ReportFilter), request_body = Texts, responses((status = 200, body = Texts), (status = 422, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem)))]
#[put("/reports/three-society/texts")]
pub async fn put_texts(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: Authed<BureauOnly>,
    q: web::Query<ReportFilter>,
    body: Json<Texts>,
) -> Result<HttpResponse, AppError> {
    let f = q.into_inner();
    let key = texts::key(&f.period()?, f.street);
    let (actor, now, t) = (
        crate::http::actor(&req, &user),
        state.clock.now(),
        body.into_inner(),
    );
    let v = state
        .run(move |c| texts::save(c, &actor, now, &key, &t))
        .await?;
    Ok(HttpResponse::Ok().json(v))
}

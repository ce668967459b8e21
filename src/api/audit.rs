//! The audit trail: browse, filter and verify (admin and finance).

use actix_web::{HttpResponse, get, web};
use diesel::prelude::*;

use super::Paged;
use crate::app::AppState;
use crate::audit::{AuditEvent, AuditFilter, ChainReport};
use crate::error::{AppError, Problem};
use crate::http::caller::{AdminOrFinance, Authed};

/// Audit events, newest first, filtered.
#[utoipa::path(tag = "audit", security(("bearer" = [])), params(AuditFilter), responses((status = 200, body = Paged<AuditEvent>), (status = 422, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem)))]
#[get("/audit-events")]
pub async fn list(
    state: web::Data<AppState>,
    _u: Authed<AdminOrFinance>,
    q: web::Query<AuditFilter>,
) -> Result<HttpResponse, AppError> {
    let f = q.into_inner();
    let paged = state.run(move |c| crate::audit::list(c, &f)).await?;
    Ok(HttpResponse::Ok().json(paged))
}

/// Recompute the hash chain.
#[utoipa::path(tag = "audit", security(("bearer" = [])), responses((status = 200, body = ChainReport), (status = 401, body = Problem), (status = 403, body = Problem)))]
#[get("/audit-events/verify")]
pub async fn verify(
    state: web::Data<AppState>,
    _u: Authed<AdminOrFinance>,
) -> Result<HttpResponse, AppError> {
    let r = state.run(|c| Ok(crate::audit::verify(c)?)).await?;
    Ok(HttpResponse::Ok().json(r))
}

/// One audit event.
#[utoipa::path(tag = "audit", security(("bearer" = [])), params(("seq" = i64, Path)), responses((status = 200, body = AuditEvent), (status = 404, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem)))]
#[get("/audit-events/{seq}")]
pub async fn get(
    state: web::Data<AppState>,
    _u: Authed<AdminOrFinance>,
    seq: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let seq = seq.into_inner();
    let e = state
        .run(move |c| {
            Ok(crate::db::schema::audit_events::table
                .find(seq)
                .select(AuditEvent::as_select())
                .first(c)?)
        })
        .await?;
    Ok(HttpResponse::Ok().json(e))
}

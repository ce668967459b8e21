//! The audit trail: browse, filter and verify (admin and finance).

use actix_web::{HttpResponse, get, web};
use diesel::prelude::*;

use super::Paged;
use crate::app::AppState;
use crate::audit::{AuditEvent, AuditFilter, AuditView, ChainReport};
use crate::error::{AppError, Problem};
use crate::http::caller::{AdminOrFinance, Authed};

/// Audit events, newest first, filtered.
#[utoipa::path(tag = "audit", security(("bearer" = [])), params(AuditFilter), responses((status = 200, body = Paged<AuditView>), (status = 422, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem)))]
#[get("/audit-events")]
pub async fn list(
    state: web::Data<AppState>,
    u: Authed<AdminOrFinance>,
    q: web::Query<AuditFilter>,
) -> Result<HttpResponse, AppError> {
    let f = q.into_inner();
    let by = u.user.clone();
    let paged = state
        .run_tenders(move |c, ctx, _| {
            let p = crate::audit::list(c, &f)?;
            let items = crate::tenders::bids::audit_views(c, ctx, &by, p.items)?;
            Ok(crate::db::Paged {
                items,
                total: p.total,
                page: p.page,
                per_page: p.per_page,
            })
        })
        .await?;
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
#[utoipa::path(tag = "audit", security(("bearer" = [])), params(("seq" = i64, Path)), responses((status = 200, body = AuditView), (status = 404, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem)))]
#[get("/audit-events/{seq}")]
pub async fn get(
    state: web::Data<AppState>,
    u: Authed<AdminOrFinance>,
    seq: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let seq = seq.into_inner();
    let by = u.user.clone();
    let e = state
        .run_tenders(move |c, ctx, _| {
            let e = crate::db::schema::audit_events::table
                .find(seq)
                .select(AuditEvent::as_select())
                .first(c)?;
            Ok(crate::tenders::bids::audit_views(c, ctx, &by, vec![e])?.remove(0))
        })
        .await?;
    Ok(HttpResponse::Ok().json(e))
}

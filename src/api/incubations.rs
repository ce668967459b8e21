//! Incubation records: applications (the bureau, administrators, and an `org` user for its own
//! organisation), moves between states (bureau and administrators), and the public funnel.

use actix_web::{HttpRequest, HttpResponse, get, patch, post, web};

use super::Paged;
use crate::app::AppState;
use crate::error::{AppError, Problem};
use crate::http::caller::{Authed, BureauOrAdmin, StaffOrOrg};
use crate::http::input::Json;
use crate::registry::incubations::{
    self, FunnelReport, IncubationFilter, IncubationView, NewApplication, Transition,
};

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list)
        .service(export)
        .service(apply)
        .service(get)
        .service(transition)
        .service(funnel);
}

/// Incubation records with filters (state, base, level, overdue, search) and paging. An `org` user sees
/// only its own organisation's.
#[utoipa::path(tag = "registry", security(("bearer" = [])), params(IncubationFilter), responses((status = 200, body = Paged<IncubationView>), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem)))]
#[get("/incubations")]
pub async fn list(
    state: web::Data<AppState>,
    user: Authed<StaffOrOrg>,
    q: web::Query<IncubationFilter>,
) -> Result<HttpResponse, AppError> {
    let f = q.into_inner();
    let cal = state.config.calendar.clone();
    let today = state.today();
    let only = user.org_scope()?;
    let paged = state
        .run(move |c| incubations::list(c, &cal, today, &f, only))
        .await?;
    Ok(HttpResponse::Ok().json(paged))
}

/// The filtered list (same filters as the list, no paging) as CSV: UTF-8 with BOM, Chinese headers. An
/// `org` user exports only its own organisation's records.
#[utoipa::path(tag = "registry", security(("bearer" = [])), params(IncubationFilter), responses((status = 200, content_type = "text/csv", body = String), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem)))]
#[get("/incubations/export")]
pub async fn export(
    state: web::Data<AppState>,
    user: Authed<StaffOrOrg>,
    q: web::Query<IncubationFilter>,
) -> Result<HttpResponse, AppError> {
    let f = q.into_inner();
    let cal = state.config.calendar.clone();
    let today = state.today();
    let only = user.org_scope()?;
    let rows = state
        .run(move |c| incubations::list_all(c, &cal, today, &f, only))
        .await?;
    Ok(super::orgs::csv_response(
        "incubations.csv",
        incubations::export_csv(&rows),
    ))
}

/// Apply to a base (today, Beijing time; the decision is due within 5 working days). An `org` user applies
/// only for its own organisation.
#[utoipa::path(tag = "registry", security(("bearer" = [])), request_body = NewApplication, responses((status = 201, body = IncubationView), (status = 422, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem)))]
#[post("/incubations")]
pub async fn apply(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: Authed<StaffOrOrg>,
    body: Json<NewApplication>,
) -> Result<HttpResponse, AppError> {
    let (actor, now) = (crate::http::actor(&req, &user), state.clock.now());
    let (cal, as_org, new) = (
        state.config.calendar.clone(),
        user.org_scope()?,
        body.into_inner(),
    );
    let v = state
        .run(move |c| incubations::apply(c, &actor, now, &cal, &new, as_org))
        .await?;
    Ok(HttpResponse::Created().json(v))
}

/// One incubation record (an `org` user: its own only).
#[utoipa::path(tag = "registry", security(("bearer" = [])), params(("id" = i64, Path)), responses((status = 200, body = IncubationView), (status = 404, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem)))]
#[get("/incubations/{id}")]
pub async fn get(
    state: web::Data<AppState>,
    user: Authed<StaffOrOrg>,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let cal = state.config.calendar.clone();
    let today = state.today();
    let only = user.org_scope()?;
    let v = state
        .run(move |c| incubations::find(c, &cal, today, id, only))
        .await?;
    Ok(HttpResponse::Ok().json(v))
}

/// Move a record to another state: `{"to": "admitted", "mode": "onsite", "stage": "sprouting"}`, `rejected`
/// (reason), `incubating` (start_on, planned_end), `renewed` (planned_end), `graduated` (checklist), `exited`
/// (reason). An illegal move is a 409 `illegal_transition`.
#[utoipa::path(tag = "registry", security(("bearer" = [])), params(("id" = i64, Path)), request_body = Transition, responses((status = 200, body = IncubationView), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem)))]
#[patch("/incubations/{id}")]
pub async fn transition(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: Authed<BureauOrAdmin>,
    id: web::Path<i64>,
    body: Json<Transition>,
) -> Result<HttpResponse, AppError> {
    let (actor, now) = (crate::http::actor(&req, &user), state.clock.now());
    let (cal, years) = (state.config.calendar.clone(), state.config.incubation_years);
    let (id, t) = (id.into_inner(), body.into_inner());
    let v = state
        .run(move |c| incubations::transition(c, &actor, now, &cal, years, id, &t))
        .await?;
    Ok(HttpResponse::Ok().json(v))
}

/// The incubation funnel (applied, admitted, incubating, graduated, exited) overall, per base level and
/// per base, with the number of overdue applications.
#[utoipa::path(tag = "registry", responses((status = 200, body = FunnelReport)))]
#[get("/incubation-funnel")]
pub async fn funnel(state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    let today = state.today();
    let r = state
        .run(move |c| incubations::funnel_report(c, today))
        .await?;
    Ok(HttpResponse::Ok().json(r))
}

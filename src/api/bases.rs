//! Areas (streets, communities) and incubation bases: public reads, bureau and administrator writes.

use actix_web::{HttpRequest, HttpResponse, get, patch, post, put, web};

use super::Paged;
use crate::app::AppState;
use crate::error::{AppError, Problem};
use crate::http::caller::{Authed, BureauOrAdmin};
use crate::http::input::Json;
use crate::http::{IfMatch, versioned};
use crate::registry::areas::{
    self, Community, CommunityFilter, CommunityUpdate, NewCommunity, NewStreet, Street,
    StreetDetail, StreetUpdate, StreetView,
};
use crate::registry::bases::{
    self, BaseDetail, BaseFilter, BaseInput, BaseNode, BaseView, Coverage,
};

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list_streets)
        .service(export_streets)
        .service(get_street)
        .service(create_street)
        .service(update_street)
        .service(list_communities)
        .service(export_communities)
        .service(get_community)
        .service(create_community)
        .service(update_community)
        .service(list_bases)
        .service(export_bases)
        .service(get_base)
        .service(create_base)
        .service(update_base)
        .service(base_tree)
        .service(base_coverage);
}

/// Streets of the district, with their community and grid counts.
#[utoipa::path(tag = "registry", responses((status = 200, body = Vec<StreetView>)))]
#[get("/streets")]
pub async fn list_streets(state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    let rows = state.run(areas::list_streets).await?;
    Ok(HttpResponse::Ok().json(rows))
}

/// The streets (the whole list, as the list shows it) as CSV: UTF-8 with BOM, Chinese headers.
#[utoipa::path(tag = "registry", responses((status = 200, content_type = "text/csv", body = String)))]
#[get("/streets/export")]
pub async fn export_streets(state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    let rows = state.run(areas::list_streets).await?;
    Ok(super::orgs::csv_response(
        "streets.csv",
        areas::export_streets(&rows),
    ))
}

/// A street with its communities.
#[utoipa::path(tag = "registry", params(("id" = i64, Path)), responses((status = 200, body = StreetDetail, headers(("ETag" = String, description = "The record\'s version: send it back as If-Match when changing the record"))), (status = 404, body = Problem)))]
#[get("/streets/{id}")]
pub async fn get_street(
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let (d, v) = state
        .run(move |c| Ok((areas::street_detail(c, id)?, areas::street_version(c, id)?)))
        .await?;
    Ok(versioned(HttpResponse::Ok(), &d, &v))
}

/// Create a street.
#[utoipa::path(tag = "registry", security(("bearer" = [])), request_body = NewStreet, responses((status = 201, body = Street), (status = 422, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem)))]
#[post("/streets")]
pub async fn create_street(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: Authed<BureauOrAdmin>,
    body: Json<NewStreet>,
) -> Result<HttpResponse, AppError> {
    let actor = crate::http::actor(&req, &user);
    let now = state.clock.now();
    let new = body.into_inner();
    let s = state
        .run(move |c| areas::create_street(c, &actor, now, &new))
        .await?;
    Ok(HttpResponse::Created().json(s))
}

/// Change a street's code or name.
#[utoipa::path(tag = "registry", security(("bearer" = [])), params(("id" = i64, Path), ("If-Match" = Option<String>, Header, description = "The version (ETag) the change starts from; a stale one is refused with 412")), request_body = StreetUpdate, responses((status = 200, body = Street, headers(("ETag" = String, description = "The new version"))), (status = 404, body = Problem), (status = 412, body = Problem, content_type = "application/problem+json", description = "Changed by someone else since the version in If-Match"), (status = 422, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem)))]
#[patch("/streets/{id}")]
pub async fn update_street(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: Authed<BureauOrAdmin>,
    id: web::Path<i64>,
    if_match: IfMatch,
    body: Json<StreetUpdate>,
) -> Result<HttpResponse, AppError> {
    let actor = crate::http::actor(&req, &user);
    let now = state.clock.now();
    let (id, upd) = (id.into_inner(), body.into_inner());
    let s = state
        .run(move |c| areas::update_street(c, &actor, now, id, &upd, if_match.0.as_deref()))
        .await?;
    Ok(versioned(HttpResponse::Ok(), &s, &crate::version::of(&s)))
}

/// Communities, by street, with search (name or code) and paging.
#[utoipa::path(tag = "registry", params(CommunityFilter), responses((status = 200, body = Paged<Community>), (status = 400, body = Problem)))]
#[get("/communities")]
pub async fn list_communities(
    state: web::Data<AppState>,
    q: web::Query<CommunityFilter>,
) -> Result<HttpResponse, AppError> {
    let f = q.into_inner();
    let paged = state.run(move |c| areas::list_communities(c, &f)).await?;
    Ok(HttpResponse::Ok().json(paged))
}

/// The filtered communities (same filters as the list, no paging) as CSV: UTF-8 with BOM, Chinese headers.
#[utoipa::path(tag = "registry", params(CommunityFilter), responses((status = 200, content_type = "text/csv", body = String), (status = 400, body = Problem)))]
#[get("/communities/export")]
pub async fn export_communities(
    state: web::Data<AppState>,
    q: web::Query<CommunityFilter>,
) -> Result<HttpResponse, AppError> {
    let f = q.into_inner();
    let body = state
        .run(move |c| {
            let rows = areas::list_all_communities(c, &f)?;
            areas::export_communities(c, &rows)
        })
        .await?;
    Ok(super::orgs::csv_response("communities.csv", body))
}

/// One community.
#[utoipa::path(tag = "registry", params(("id" = i64, Path)), responses((status = 200, body = Community, headers(("ETag" = String, description = "The record\'s version: send it back as If-Match when changing the record"))), (status = 404, body = Problem)))]
#[get("/communities/{id}")]
pub async fn get_community(
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let c = state.run(move |c| areas::find_community(c, id)).await?;
    Ok(versioned(HttpResponse::Ok(), &c, &crate::version::of(&c)))
}

/// Create a community.
#[utoipa::path(tag = "registry", security(("bearer" = [])), request_body = NewCommunity, responses((status = 201, body = Community), (status = 422, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem)))]
#[post("/communities")]
pub async fn create_community(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: Authed<BureauOrAdmin>,
    body: Json<NewCommunity>,
) -> Result<HttpResponse, AppError> {
    let actor = crate::http::actor(&req, &user);
    let now = state.clock.now();
    let new = body.into_inner();
    let s = state
        .run(move |c| areas::create_community(c, &actor, now, &new))
        .await?;
    Ok(HttpResponse::Created().json(s))
}

/// Change a community (street, code, name, grid count).
#[utoipa::path(tag = "registry", security(("bearer" = [])), params(("id" = i64, Path), ("If-Match" = Option<String>, Header, description = "The version (ETag) the change starts from; a stale one is refused with 412")), request_body = CommunityUpdate, responses((status = 200, body = Community, headers(("ETag" = String, description = "The new version"))), (status = 404, body = Problem), (status = 412, body = Problem, content_type = "application/problem+json", description = "Changed by someone else since the version in If-Match"), (status = 422, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem)))]
#[patch("/communities/{id}")]
pub async fn update_community(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: Authed<BureauOrAdmin>,
    id: web::Path<i64>,
    if_match: IfMatch,
    body: Json<CommunityUpdate>,
) -> Result<HttpResponse, AppError> {
    let actor = crate::http::actor(&req, &user);
    let now = state.clock.now();
    let (id, upd) = (id.into_inner(), body.into_inner());
    let s = state
        .run(move |c| areas::update_community(c, &actor, now, id, &upd, if_match.0.as_deref()))
        .await?;
    Ok(versioned(HttpResponse::Ok(), &s, &crate::version::of(&s)))
}

/// Incubation bases, filtered by level and street, with search (name, address) and paging.
#[utoipa::path(tag = "registry", params(BaseFilter), responses((status = 200, body = Paged<BaseView>), (status = 400, body = Problem)))]
#[get("/bases")]
pub async fn list_bases(
    state: web::Data<AppState>,
    q: web::Query<BaseFilter>,
) -> Result<HttpResponse, AppError> {
    let f = q.into_inner();
    let paged = state.run(move |c| bases::list(c, &f)).await?;
    Ok(HttpResponse::Ok().json(paged))
}

/// The filtered bases (same filters as the list, no paging) as CSV: UTF-8 with BOM, Chinese headers.
#[utoipa::path(tag = "registry", params(BaseFilter), responses((status = 200, content_type = "text/csv", body = String), (status = 400, body = Problem)))]
#[get("/bases/export")]
pub async fn export_bases(
    state: web::Data<AppState>,
    q: web::Query<BaseFilter>,
) -> Result<HttpResponse, AppError> {
    let f = q.into_inner();
    let rows = state.run(move |c| bases::list_all(c, &f)).await?;
    Ok(super::orgs::csv_response(
        "bases.csv",
        bases::export_csv(&rows),
    ))
}

/// A base with the bases under it, its incubation funnel and those incubating in it now.
#[utoipa::path(tag = "registry", params(("id" = i64, Path)), responses((status = 200, body = BaseDetail, headers(("ETag" = String, description = "The record\'s version: send it back as If-Match when changing the record"))), (status = 404, body = Problem)))]
#[get("/bases/{id}")]
pub async fn get_base(
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let (d, v) = state
        .run(move |c| Ok((bases::detail(c, id)?, bases::version(c, id)?)))
        .await?;
    Ok(versioned(HttpResponse::Ok(), &d, &v))
}

/// Create a base. Its parent must be exactly one level up (a city base has none).
#[utoipa::path(tag = "registry", security(("bearer" = [])), request_body = BaseInput, responses((status = 201, body = BaseView), (status = 422, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem)))]
#[post("/bases")]
pub async fn create_base(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: Authed<BureauOrAdmin>,
    body: Json<BaseInput>,
) -> Result<HttpResponse, AppError> {
    let actor = crate::http::actor(&req, &user);
    let now = state.clock.now();
    let b = body.into_inner();
    let v = state
        .run(move |c| bases::create(c, &actor, now, &b))
        .await?;
    Ok(HttpResponse::Created().json(v))
}

/// Replace a base's content (same rules as creation; a base with bases under it keeps its level).
#[utoipa::path(tag = "registry", security(("bearer" = [])), params(("id" = i64, Path), ("If-Match" = Option<String>, Header, description = "The version (ETag) the change starts from; a stale one is refused with 412")), request_body = BaseInput, responses((status = 200, body = BaseView, headers(("ETag" = String, description = "The new version"))), (status = 404, body = Problem), (status = 412, body = Problem, content_type = "application/problem+json", description = "Changed by someone else since the version in If-Match"), (status = 422, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem)))]
#[put("/bases/{id}")]
pub async fn update_base(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: Authed<BureauOrAdmin>,
    id: web::Path<i64>,
    if_match: IfMatch,
    body: Json<BaseInput>,
) -> Result<HttpResponse, AppError> {
    let actor = crate::http::actor(&req, &user);
    let now = state.clock.now();
    let (id, b) = (id.into_inner(), body.into_inner());
    let (v, ver) = state
        .run(move |c| {
            let v = bases::update(c, &actor, now, id, &b, if_match.0.as_deref())?;
            Ok((v, bases::version(c, id)?))
        })
        .await?;
    Ok(versioned(HttpResponse::Ok(), &v, &ver))
}

/// The base tree: city bases at the roots.
#[utoipa::path(tag = "registry", responses((status = 200, body = Vec<BaseNode>)))]
#[get("/base-tree")]
pub async fn base_tree(state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    let t = state.run(bases::tree).await?;
    Ok(HttpResponse::Ok().json(t))
}

/// Coverage: share of streets with a street-level base and of communities with a community-level base.
#[utoipa::path(tag = "registry", responses((status = 200, body = Coverage)))]
#[get("/base-coverage")]
pub async fn base_coverage(state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    let c = state.run(bases::coverage).await?;
    Ok(HttpResponse::Ok().json(c))
}

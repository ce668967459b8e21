//! User administration (admin only).

use actix_web::{HttpRequest, HttpResponse, get, patch, post, web};

use super::Paged;
use crate::app::AppState;
use crate::error::{AppError, Problem};
use crate::http::caller::{AdminOnly, Authed};
use crate::http::input::Json;
use crate::http::{IfMatch, versioned};
use crate::users::{self, NewUser, UserFilter, UserUpdate, UserView};

/// List users, with search and paging.
#[utoipa::path(tag = "users", security(("bearer" = [])), params(UserFilter), responses((status = 200, body = Paged<UserView>), (status = 401, body = Problem), (status = 403, body = Problem)))]
#[get("/users")]
pub async fn list(
    state: web::Data<AppState>,
    _user: Authed<AdminOnly>,
    q: web::Query<UserFilter>,
) -> Result<HttpResponse, AppError> {
    let f = q.into_inner();
    let paged = state.run(move |c| users::list(c, &f)).await?;
    Ok(HttpResponse::Ok().json(paged.map(|r| UserView::from(&r))))
}

/// Create a user.
#[utoipa::path(tag = "users", security(("bearer" = [])), request_body = NewUser, responses((status = 201, body = UserView), (status = 422, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem)))]
#[post("/users")]
pub async fn create(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: Authed<AdminOnly>,
    body: Json<NewUser>,
) -> Result<HttpResponse, AppError> {
    let (actor, now, mail) = (
        crate::http::actor(&req, &user),
        state.clock.now(),
        state.mail.clone(),
    );
    let new = body.into_inner();
    let row = state
        .run(move |c| users::create(c, &actor, now, &mail, &new))
        .await?;
    Ok(HttpResponse::Created().json(UserView::from(&row)))
}

/// One user.
#[utoipa::path(tag = "users", security(("bearer" = [])), params(("id" = i64, Path)), responses((status = 200, body = UserView, headers(("ETag" = String, description = "The record\'s version: send it back as If-Match when changing the record"))), (status = 404, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem)))]
#[get("/users/{id}")]
pub async fn get(
    state: web::Data<AppState>,
    _user: Authed<AdminOnly>,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let (row, ver) = state
        .run(move |c| Ok((users::find(c, id)?, users::version(c, id)?)))
        .await?;
    Ok(versioned(HttpResponse::Ok(), &UserView::from(&row), &ver))
}

/// Change a user: name, e-mail, role, organisation, active (false deactivates and ends live sessions), password.
#[utoipa::path(tag = "users", security(("bearer" = [])), params(("id" = i64, Path), ("If-Match" = Option<String>, Header, description = "The version (ETag) the change starts from; a stale one is refused with 412")), request_body = UserUpdate, responses((status = 200, body = UserView, headers(("ETag" = String, description = "The new version"))), (status = 404, body = Problem), (status = 412, body = Problem, content_type = "application/problem+json", description = "Changed by someone else since the version in If-Match"), (status = 422, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem)))]
#[patch("/users/{id}")]
pub async fn update(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: Authed<AdminOnly>,
    id: web::Path<i64>,
    if_match: IfMatch,
    body: Json<UserUpdate>,
) -> Result<HttpResponse, AppError> {
    let (actor, now) = (crate::http::actor(&req, &user), state.clock.now());
    let (id, upd) = (id.into_inner(), body.into_inner());
    let (row, ver) = state
        .run(move |c| {
            let row = users::update(c, &actor, now, id, &upd, if_match.0.as_deref())?;
            Ok((row, users::version(c, id)?))
        })
        .await?;
    Ok(versioned(HttpResponse::Ok(), &UserView::from(&row), &ver))
}

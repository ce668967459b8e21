//! Sign-in, the caller's own account and password change.

use actix_web::{HttpRequest, HttpResponse, get, post, web};
use serde::{Deserialize, Serialize};

use crate::app::AppState;
use crate::error::{AppError, Problem};
use crate::http::caller::{AnyRole, Authed, CurrentUser};
use crate::http::input::Json;
use crate::http::session::LoginResponse;

#[derive(Deserialize, utoipa::ToSchema)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
}

/// Sign in and receive a bearer token.
#[utoipa::path(
    tag = "auth",
    request_body = LoginRequest,
    responses(
        (status = 200, body = LoginResponse),
        (status = 400, description = "Unreadable JSON or a missing field", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Wrong username or password", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body over 256 KiB", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not application/json", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Empty username or password", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many failed attempts", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/auth/login")]
pub async fn login(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: Json<LoginRequest>,
) -> Result<HttpResponse, AppError> {
    let r = crate::http::session::sign_in(&state, &req, &body.username, &body.password).await?;
    Ok(HttpResponse::Ok().json(r))
}

/// Sign out: the token this request came with (Bearer or session cookie) stops working at once. Other
/// sessions of the same user go on; a password change ends them all.
#[utoipa::path(
    tag = "auth",
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Signed out; the token is refused from now on"),
        (status = 401, description = "No token, or one already refused", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Session cookie without X-CSRF-Token", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/auth/logout")]
pub async fn logout(
    state: web::Data<AppState>,
    user: Authed<AnyRole>,
) -> Result<HttpResponse, AppError> {
    crate::http::session::sign_out(&state, &user).await?;
    let mut r = HttpResponse::NoContent().finish();
    if user.via_cookie {
        let mut c = actix_web::cookie::Cookie::build(crate::auth::SESSION_COOKIE, "")
            .path("/")
            .finish();
        c.make_removal();
        let _ = r.add_cookie(&c);
    }
    Ok(r)
}

/// The signed-in user.
#[utoipa::path(tag = "auth", security(("bearer" = [])), responses((status = 200, body = CurrentUser), (status = 401, body = Problem)))]
#[get("/me")]
pub async fn me(user: Authed<AnyRole>) -> HttpResponse {
    HttpResponse::Ok().json(&user.user)
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct PasswordChange {
    pub current_password: String,
    pub new_password: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct PasswordChanged {
    /// A fresh token: every earlier token of this user stops working.
    pub token: String,
    pub expires_at: i64,
}

/// Change own password; ends every other session. A wrong current password counts as a failed sign-in of
/// the account from the caller's address, and is throttled the same way.
#[utoipa::path(
    tag = "auth",
    security(("bearer" = [])),
    request_body = PasswordChange,
    responses(
        (status = 200, body = PasswordChanged),
        (status = 409, description = "The password changed meanwhile; retry", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem),
        (status = 429, description = "Too many wrong current passwords", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/me/password")]
pub async fn change_password_api(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: Authed<AnyRole>,
    body: Json<PasswordChange>,
) -> Result<HttpResponse, AppError> {
    let token = crate::http::session::change_password(
        &state,
        &req,
        &user,
        &body.current_password,
        &body.new_password,
    )
    .await?;
    let claims = crate::auth::decode_token(&state.config, state.clock.now(), &token)?;
    Ok(HttpResponse::Ok().json(PasswordChanged {
        token,
        expires_at: claims.exp,
    }))
}

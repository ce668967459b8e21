//! Sign-in, the caller's own account and password change.

use actix_web::{HttpRequest, HttpResponse, get, post, web};
use serde::{Deserialize, Serialize};

use crate::app::AppState;
use crate::auth::{AnyRole, Authed, CurrentUser, Role, issue_token, password};
use crate::error::{AppError, Checks, Problem};

#[derive(Deserialize, utoipa::ToSchema)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct LoginResponse {
    pub token: String,
    pub token_type: &'static str,
    /// Expiry, seconds since the epoch.
    pub expires_at: i64,
    pub role: Role,
}

/// Check a username and password with throttling, and issue a token.
pub async fn authenticate_password(
    state: &AppState,
    req: &HttpRequest,
    username: &str,
    pw: &str,
) -> Result<LoginResponse, AppError> {
    let mut checks = Checks::new();
    checks.required("username", username);
    checks.required("password", pw);
    checks.finish()?;
    let username = username.trim().to_string();
    let addr = req
        .peer_addr()
        .map(|a| a.ip().to_string())
        .unwrap_or_default();
    let (ukey, akey) = (format!("u:{username}"), format!("a:{addr}"));
    if let Some(wait) = state
        .throttle
        .locked(&ukey)
        .or_else(|| state.throttle.locked(&akey))
    {
        return Err(AppError::TooManyRequests { retry_after: wait });
    }
    let pw = pw.to_string();
    let uname = username.clone();
    let row = crate::db::run(&state.pool, move |c| {
        let row = crate::users::find_by_username(c, &uname)?;
        // Verify against a dummy hash for unknown users so timing does not reveal who exists.
        let ok = password::verify(
            &pw,
            row.as_ref()
                .map(|r| r.password_hash.as_str())
                .unwrap_or(password::dummy_hash()),
        );
        Ok(row.filter(|r| ok && r.active))
    })
    .await?;
    let cfg = &state.config;
    let Some(u) = row else {
        state
            .throttle
            .fail(&ukey, cfg.login_max_failures, cfg.login_lock);
        state
            .throttle
            .fail(&akey, cfg.login_max_failures_per_addr, cfg.login_lock);
        tracing::info!(event = "login_failed", "sign-in refused");
        return Err(AppError::Unauthorized("bad credentials"));
    };
    state.throttle.clear(&ukey);
    let role =
        Role::parse(&u.role).ok_or_else(|| AppError::internal("unknown role in database"))?;
    let (token, exp) = issue_token(state, u.id, role, u.token_version)?;
    tracing::info!(event = "login", user_id = u.id, "signed in");
    Ok(LoginResponse {
        token,
        token_type: "Bearer",
        expires_at: exp,
        role,
    })
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
    body: web::Json<LoginRequest>,
) -> Result<HttpResponse, AppError> {
    let r = authenticate_password(&state, &req, &body.username, &body.password).await?;
    Ok(HttpResponse::Ok().json(r))
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

/// Change the caller's password and return the new token.
pub async fn change_password(
    state: &AppState,
    req: &HttpRequest,
    user: &CurrentUser,
    current: &str,
    new: &str,
) -> Result<String, AppError> {
    let actor = crate::web::actor(req, user);
    let now = state.clock.now();
    let (id, cur, new) = (user.id, current.to_string(), new.to_string());
    let row = crate::db::run(&state.pool, move |c| {
        crate::users::change_own_password(c, &actor, now, id, &cur, &new)
    })
    .await?;
    state.mail_wake.notify_one();
    Ok(issue_token(state, row.id, user.role, row.token_version)?.0)
}

/// Change own password; ends every other session.
#[utoipa::path(tag = "auth", security(("bearer" = [])), request_body = PasswordChange, responses((status = 200, body = PasswordChanged), (status = 422, body = Problem)))]
#[post("/me/password")]
pub async fn change_password_api(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: Authed<AnyRole>,
    body: web::Json<PasswordChange>,
) -> Result<HttpResponse, AppError> {
    let token = change_password(
        &state,
        &req,
        &user,
        &body.current_password,
        &body.new_password,
    )
    .await?;
    let claims = crate::auth::decode_token(&state, &token)?;
    Ok(HttpResponse::Ok().json(PasswordChanged {
        token,
        expires_at: claims.exp,
    }))
}

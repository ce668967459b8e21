//! Signing in, signing out and changing one's own password, for the API and the pages alike: throttling by
//! account and client address, revocation of the token on sign-out, and a fresh token after a password
//! change. The password work goes through the `auth::password::Hasher` gate, after the user row is read
//! and its database connection given back.

use actix_web::HttpRequest;
use serde::Serialize;

use crate::app::AppState;
use crate::auth::{CurrentUser, Role, issue_token, password};
use crate::error::{AppError, Checks};

#[derive(Serialize, utoipa::ToSchema)]
pub struct LoginResponse {
    pub token: String,
    pub token_type: &'static str,
    /// Expiry, seconds since the epoch.
    pub expires_at: i64,
    pub role: Role,
}

/// Check a username and password with throttling, and issue a token.
pub async fn sign_in(
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
    let uname = username.clone();
    // The row only: the connection goes back to the pool before the password is verified.
    let row = state
        .run(move |c| Ok(crate::users::find_by_username(c, &uname)?))
        .await?;
    // Verify against a dummy hash for unknown users so timing does not reveal who exists.
    let hash = row
        .as_ref()
        .map_or(password::dummy_hash(), |r| r.password_hash.as_str());
    let ok = state.passwords.verify(pw, hash).await?;
    let cfg = &state.config;
    let Some(u) = row.filter(|r| ok && r.active) else {
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
    let (token, exp) = issue_token(
        &state.config,
        state.clock.now(),
        u.id,
        role,
        u.token_version,
    )?;
    tracing::info!(event = "login", user_id = u.id, "signed in");
    Ok(LoginResponse {
        token,
        token_type: "Bearer",
        expires_at: exp,
        role,
    })
}

/// Sign out: the token the caller came with stops working, as cookie and as Bearer (other sessions of the
/// same user go on).
pub async fn sign_out(state: &AppState, user: &CurrentUser) -> Result<(), AppError> {
    let (jti, id, exp, now) = (
        user.token_id.clone(),
        user.id,
        user.token_exp,
        state.clock.now(),
    );
    if jti.is_empty() {
        return Ok(());
    }
    state
        .run(move |c| Ok(crate::auth::revocation::revoke(c, now, &jti, id, exp)?))
        .await?;
    tracing::info!(event = "logout", user_id = id, "signed out");
    Ok(())
}

/// Change the caller's password and return the new token.
pub async fn change_password(
    state: &AppState,
    req: &HttpRequest,
    user: &CurrentUser,
    current: &str,
    new: &str,
) -> Result<String, AppError> {
    let id = user.id;
    let row = state.run(move |c| crate::users::find(c, id)).await?;
    let current_ok = state.passwords.verify(current, &row.password_hash).await?;
    crate::users::check_own_password_change(current_ok, current, new)?;
    let new_hash = state.passwords.hash(new).await?;
    let actor = crate::http::actor(req, user);
    let now = state.clock.now();
    let verified = row.password_hash;
    let row = state
        .run(move |c| crate::users::set_own_password(c, &actor, now, id, &verified, &new_hash))
        .await?;
    Ok(issue_token(&state.config, now, row.id, user.role, row.token_version)?.0)
}

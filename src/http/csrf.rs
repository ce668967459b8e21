//! CSRF protection for cookie-authenticated requests: a random token in an HttpOnly, SameSite=Strict cookie
//! that our own pages repeat in every form (`csrf` field) and scripts in the `X-CSRF-Token` header. A
//! cross-site page can neither read the cookie nor guess the token.

use actix_web::HttpRequest;
use actix_web::cookie::{Cookie, SameSite};

use crate::error::AppError;

pub const COOKIE: &str = "sanshe_csrf";
pub const HEADER: &str = "X-CSRF-Token";

/// The token of this browser, set by the middleware when the request had none.
#[derive(Clone, Debug)]
pub struct CsrfToken(pub String);

pub fn new_token() -> String {
    let mut b = [0u8; 24];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut b);
    hex::encode(b)
}

pub fn cookie(token: &str, secure: bool) -> Cookie<'static> {
    Cookie::build(COOKIE, token.to_string())
        .path("/")
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(secure)
        .finish()
}

/// The token for this request: the cookie's, or the one the middleware just issued.
pub fn token(req: &HttpRequest) -> String {
    use actix_web::HttpMessage;
    if let Some(c) = req.cookie(COOKIE) {
        return c.value().to_string();
    }
    req.extensions()
        .get::<CsrfToken>()
        .map(|t| t.0.clone())
        .unwrap_or_default()
}

fn equal(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// Check a submitted token against the cookie.
pub fn check(req: &HttpRequest, submitted: &str) -> Result<(), AppError> {
    let Some(c) = req.cookie(COOKIE) else {
        return Err(csrf_error());
    };
    if submitted.is_empty() || !equal(c.value(), submitted) {
        return Err(csrf_error());
    }
    Ok(())
}

pub fn check_header(req: &HttpRequest) -> Result<(), AppError> {
    let h = req
        .headers()
        .get(HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    check(req, h)
}

fn csrf_error() -> AppError {
    AppError::BadRequest {
        code: "csrf_failed",
        msg: crate::error::Msg::new(
            "页面已过期或来源不明，请刷新后重试。",
            "The page expired or the request came from elsewhere; reload and try again.",
        ),
        status: actix_web::http::StatusCode::FORBIDDEN,
    }
}

//! Who is calling: sign-in tokens (JWT, HS256 pinned), roles, and the extractors that authorise handlers.
//!
//! A handler states its roles in its signature: `Authed<AdminOrFinance>` for the JSON API (problem+json on
//! refusal), `Page<AdminOrFinance>` for web pages (redirect to the sign-in page, or a 403 page). A token is
//! accepted only if its signature, algorithm, issuer, audience and expiry are right, and the user still
//! exists, is active and has the token version the token was issued for: deactivation and password changes
//! bump the version, which ends every live token at once.

pub mod password;
pub mod throttle;

use std::marker::PhantomData;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};
use diesel::prelude::*;
use futures_util::future::LocalBoxFuture;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::app::AppState;
use crate::db::schema::users;
use crate::error::AppError;

pub const SESSION_COOKIE: &str = "sanshe_session";

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Admin,
    Bureau,
    Evaluator,
    Finance,
    Org,
}

impl Role {
    pub const ALL: [Role; 5] = [
        Role::Admin,
        Role::Bureau,
        Role::Evaluator,
        Role::Finance,
        Role::Org,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Bureau => "bureau",
            Role::Evaluator => "evaluator",
            Role::Finance => "finance",
            Role::Org => "org",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s.trim())
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            Role::Admin => "系统管理员",
            Role::Bureau => "民政局",
            Role::Evaluator => "评审专家",
            Role::Finance => "财务审计",
            Role::Org => "社会组织",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            Role::Admin => "Administrator",
            Role::Bureau => "Civil-affairs bureau",
            Role::Evaluator => "Evaluator",
            Role::Finance => "Finance and audit",
            Role::Org => "Social organisation",
        }
    }
}

/// The claims of a Sanshe token.
#[derive(Debug, Serialize, Deserialize, Clone)]
pub struct Claims {
    pub sub: String,
    pub role: String,
    /// Token version of the user when issued.
    pub tv: i64,
    pub iat: i64,
    pub exp: i64,
    pub iss: String,
    pub aud: String,
    pub jti: String,
}

/// Issue a token for a user.
pub fn issue_token(
    state: &AppState,
    user_id: i64,
    role: Role,
    token_version: i64,
) -> Result<(String, i64), AppError> {
    let now = state.clock.now().timestamp();
    let exp = now + state.config.token_ttl.as_secs() as i64;
    let claims = Claims {
        sub: user_id.to_string(),
        role: role.as_str().into(),
        tv: token_version,
        iat: now,
        exp,
        iss: state.config.jwt_issuer.clone(),
        aud: state.config.jwt_audience.clone(),
        jti: uuid::Uuid::new_v4().to_string(),
    };
    let token = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(state.config.jwt_secret.expose().as_bytes()),
    )
    .map_err(|e| AppError::internal(format!("token signing: {e}")))?;
    Ok((token, exp))
}

/// Check signature, algorithm (HS256 only), issuer, audience and expiry.
pub fn decode_token(state: &AppState, token: &str) -> Result<Claims, AppError> {
    let mut v = Validation::new(Algorithm::HS256);
    v.set_issuer(&[&state.config.jwt_issuer]);
    v.set_audience(&[&state.config.jwt_audience]);
    v.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
    v.leeway = 5;
    // Expiry is judged by the service's clock, so tests that move the clock see tokens expire.
    v.validate_exp = false;
    let data = jsonwebtoken::decode::<Claims>(
        token,
        &DecodingKey::from_secret(state.config.jwt_secret.expose().as_bytes()),
        &v,
    )
    .map_err(|_| AppError::Unauthorized("invalid token"))?;
    if data.claims.exp + 5 <= state.clock.now().timestamp() {
        return Err(AppError::Unauthorized("expired token"));
    }
    Ok(data.claims)
}

/// The signed-in user, as loaded from the database for this request.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CurrentUser {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub email: Option<String>,
    pub role: Role,
    pub org_id: Option<i64>,
    #[serde(skip)]
    pub token_version: i64,
    /// True when the token came from the session cookie (web UI) rather than a Bearer header.
    #[serde(skip)]
    pub via_cookie: bool,
}

fn token_from(req: &HttpRequest) -> Result<Option<(String, bool)>, AppError> {
    if let Some(h) = req.headers().get(actix_web::http::header::AUTHORIZATION) {
        let h = h
            .to_str()
            .map_err(|_| AppError::Unauthorized("malformed authorization header"))?;
        // The scheme name is case-insensitive (RFC 9110).
        let t = h
            .split_once(' ')
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, t)| t)
            .ok_or(AppError::Unauthorized(
                "authorization is not a Bearer token",
            ))?;
        return Ok(Some((t.trim().to_string(), false)));
    }
    Ok(req
        .cookie(SESSION_COOKIE)
        .map(|c| (c.value().to_string(), true)))
}

/// Who the caller is, resolved once per request by [`resolve`] before any handler runs.
#[derive(Clone, Debug)]
pub enum Caller {
    Anonymous,
    User(CurrentUser),
    /// A token was presented and refused (the reason is for the log).
    Refused(&'static str),
    /// The lookup itself failed (e.g. the database is down).
    Failed(String),
}

/// The caller of this request. The middleware resolves it up front, so the extractors below answer at
/// once: actix polls a handler's extractors together, and an input error (bad JSON, bad path) must never
/// overtake a refusal and tell a refused caller what is wrong with their input.
pub async fn caller(req: &HttpRequest) -> Caller {
    use actix_web::HttpMessage;
    if let Some(c) = req.extensions().get::<Caller>() {
        return c.clone();
    }
    resolve(req).await
}

/// Look the caller up: token checks, then the user row.
pub async fn resolve(req: &HttpRequest) -> Caller {
    match optional_user(req).await {
        Ok(None) => Caller::Anonymous,
        Ok(Some(u)) => Caller::User(u),
        Err(AppError::Unauthorized(why)) => Caller::Refused(why),
        Err(e) => Caller::Failed(e.to_string()),
    }
}

impl Caller {
    pub fn user(&self) -> Option<&CurrentUser> {
        match self {
            Caller::User(u) => Some(u),
            _ => None,
        }
    }

    fn into_result(self) -> Result<Option<CurrentUser>, AppError> {
        match self {
            Caller::Anonymous => Ok(None),
            Caller::User(u) => Ok(Some(u)),
            Caller::Refused(why) => Err(AppError::Unauthorized(why)),
            Caller::Failed(e) => Err(AppError::Internal(e)),
        }
    }
}

/// Resolve the caller, or `None` when no token was presented at all.
async fn optional_user(req: &HttpRequest) -> Result<Option<CurrentUser>, AppError> {
    let state = req
        .app_data::<web::Data<AppState>>()
        .ok_or_else(|| AppError::internal("AppState missing"))?
        .clone();
    let Some((token, via_cookie)) = token_from(req)? else {
        return Ok(None);
    };
    let claims = decode_token(&state, &token)?;
    let id: i64 = claims
        .sub
        .parse()
        .map_err(|_| AppError::Unauthorized("bad subject"))?;
    let row = crate::db::run(&state.pool, move |c| {
        users::table
            .find(id)
            .select(crate::users::UserRow::as_select())
            .first(c)
            .optional()
            .map_err(AppError::from)
    })
    .await?;
    let Some(u) = row else {
        return Err(AppError::Unauthorized("unknown user"));
    };
    if !u.active {
        return Err(AppError::Unauthorized("user deactivated"));
    }
    if u.token_version != claims.tv {
        return Err(AppError::Unauthorized("token version revoked"));
    }
    let role =
        Role::parse(&u.role).ok_or_else(|| AppError::internal("unknown role in database"))?;
    if role.as_str() != claims.role {
        return Err(AppError::Unauthorized("role changed"));
    }
    Ok(Some(CurrentUser {
        id: u.id,
        username: u.username,
        display_name: u.display_name,
        email: u.email,
        role,
        org_id: u.org_id,
        token_version: u.token_version,
        via_cookie,
    }))
}

/// A set of roles allowed to call a handler.
pub trait RoleSet: 'static {
    const ROLES: &'static [Role];
}

macro_rules! role_sets {
    ($($(#[$m:meta])* $name:ident => [$($r:ident),+];)+) => {$(
        $(#[$m])*
        #[derive(Debug)]
        pub struct $name;
        impl RoleSet for $name {
            const ROLES: &'static [Role] = &[$(Role::$r),+];
        }
    )+};
}

role_sets! {
    /// Any signed-in user.
    AnyRole => [Admin, Bureau, Evaluator, Finance, Org];
    AdminOnly => [Admin];
    BureauOnly => [Bureau];
    FinanceOnly => [Finance];
    EvaluatorOnly => [Evaluator];
    OrgOnly => [Org];
    /// Those who read the audit trail.
    AdminOrFinance => [Admin, Finance];
    BureauOrAdmin => [Bureau, Admin];
}

fn check_role<R: RoleSet>(u: &CurrentUser) -> Result<(), AppError> {
    if R::ROLES.contains(&u.role) {
        Ok(())
    } else {
        Err(AppError::Forbidden)
    }
}

/// API extractor: a signed-in user with one of the roles of `R`.
#[derive(Debug)]
pub struct Authed<R: RoleSet = AnyRole> {
    pub user: CurrentUser,
    _roles: PhantomData<R>,
}

impl<R: RoleSet> std::ops::Deref for Authed<R> {
    type Target = CurrentUser;
    fn deref(&self) -> &CurrentUser {
        &self.user
    }
}

impl<R: RoleSet> FromRequest for Authed<R> {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let user = caller(&req)
                .await
                .into_result()?
                .ok_or(AppError::Unauthorized("no token"))?;
            // A cookie rides along with cross-site requests; an unsafe API call carried by the cookie must
            // also present the CSRF token, which only our own pages know.
            if user.via_cookie && !req.method().is_safe() {
                crate::web::csrf::check_header(&req)?;
            }
            check_role::<R>(&user)?;
            Ok(Authed {
                user,
                _roles: PhantomData,
            })
        })
    }
}

/// Page extractor: like [`Authed`], but a missing or bad session leads to the sign-in page.
#[derive(Debug)]
pub struct Page<R: RoleSet = AnyRole> {
    pub user: CurrentUser,
    _roles: PhantomData<R>,
}

impl<R: RoleSet> std::ops::Deref for Page<R> {
    type Target = CurrentUser;
    fn deref(&self) -> &CurrentUser {
        &self.user
    }
}

impl<R: RoleSet> FromRequest for Page<R> {
    type Error = crate::web::PageError;
    type Future = LocalBoxFuture<'static, Result<Self, crate::web::PageError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let lang = crate::i18n::Lang::from_request(&req);
            let login = || crate::web::PageError::Login {
                next: req.uri().to_string(),
            };
            let user = match caller(&req).await.into_result() {
                Ok(Some(u)) => u,
                Ok(None) | Err(AppError::Unauthorized(_)) => return Err(login()),
                Err(e) => return Err(crate::web::PageError::App(e, lang)),
            };
            check_role::<R>(&user).map_err(|e| crate::web::PageError::App(e, lang))?;
            Ok(Page {
                user,
                _roles: PhantomData,
            })
        })
    }
}

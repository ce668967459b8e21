//! Who is calling: the token (Bearer header, or the session cookie of the pages) checked and its user
//! loaded once per request, and the extractors that authorise handlers by role. A handler states its roles
//! in its signature: `Authed<AdminOrFinance>` for the JSON API (problem+json on refusal),
//! `Page<AdminOrFinance>` for pages (redirect to sign-in, or a 403 page). `OrgUser` is the one answer to
//! "which organisation is the caller". A token is refused once signed out (`auth::revocation`).

use std::marker::PhantomData;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};
use diesel::prelude::*;
use futures_util::future::LocalBoxFuture;

use crate::app::AppState;
use crate::auth::decode_token;
pub use crate::auth::{CurrentUser, Role, SESSION_COOKIE};
use crate::db::schema::users;
use crate::error::AppError;
use crate::http::page::PageError;
use crate::i18n::Lang;

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
    let claims = decode_token(&state.config, state.clock.now(), &token)?;
    let id: i64 = claims
        .sub
        .parse()
        .map_err(|_| AppError::Unauthorized("bad subject"))?;
    let jti = claims.jti.clone();
    let (row, revoked) = crate::db::run(&state.pool, move |c| {
        let row = users::table
            .find(id)
            .select(crate::users::UserRow::as_select())
            .first(c)
            .optional()?;
        let revoked = crate::auth::revocation::is_revoked(c, &jti)?;
        Ok((row, revoked))
    })
    .await?;
    let Some(u) = row else {
        return Err(AppError::Unauthorized("unknown user"));
    };
    if revoked {
        return Err(AppError::Unauthorized("signed out"));
    }
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
        token_id: claims.jti,
        token_exp: claims.exp,
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
    /// Who reads the organisation registry: the bureau and administrators who keep it, finance who audit
    /// awards and payments (read-only).
    RegistryReaders => [Bureau, Admin, Finance];
    /// Who reads one organisation's record: the registry's readers, and an `org` user its own.
    OrgRecordReaders => [Bureau, Admin, Finance, Org];
    /// The bureau, administrators, and `org` users (for their own organisation only).
    StaffOrOrg => [Bureau, Admin, Org];
    /// Who reads the social-worker registry: not evaluators (they score bids, they have no need of workers'
    /// personal data); finance with masked phones; an `org` user its own workers only.
    WorkerReaders => [Bureau, Admin, Finance, Org];
    /// Who reads budget appropriations and the ledger digest: finance, administrators and the bureau (which
    /// draws on the budgets); never organisations.
    BudgetReaders => [Finance, Admin, Bureau];
    /// Who reads contract spending and the audit flags: finance, administrators and the bureau all of
    /// them, an `org` user its own organisation's only.
    SpendingReaders => [Finance, Admin, Bureau, Org];
    /// Who reads an organisation's links to related organisations (实施条例 Art 18): the bureau and
    /// administrators who record them, finance who audit the awards, an `org` user its own organisation's.
    LinkReaders => [Bureau, Admin, Finance, Org];
    /// Who reads service records and the counts of people served: finance, administrators and the bureau
    /// (aggregates and activities, never who took part), an `org` user its own.
    ServiceReaders => [Finance, Admin, Bureau, Org];
    /// Who generates the district's reports (三社联动): the bureau, finance and administrators.
    ReportReaders => [Bureau, Finance, Admin];
    /// Everyone but finance: a bidder its own attachments; the bureau, administrators and the panel after
    /// the opening.
    AttachmentReaders => [Bureau, Admin, Evaluator, Org];
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
                crate::http::csrf::check_header(&req)?;
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

/// Read the caller's waiting work (`crate::tasks`) once per request, for the navigation and the dashboard.
pub async fn task_badge(req: &HttpRequest, user: &CurrentUser) -> Result<(), AppError> {
    let badge = crate::http::page::TaskBadge::of(req);
    if badge.0.get().is_some() {
        return Ok(());
    }
    let Some(state) = req.app_data::<actix_web::web::Data<crate::app::AppState>>() else {
        return Ok(());
    };
    let (settings, now, u) = (state.tasks.clone(), state.clock.now(), user.clone());
    let q = state
        .run(move |c| crate::tasks::queue(c, &settings, &u, now))
        .await?;
    let _ = badge.0.set(q);
    Ok(())
}

impl<R: RoleSet> FromRequest for Page<R> {
    type Error = PageError;
    type Future = LocalBoxFuture<'static, Result<Self, PageError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let lang = Lang::from_request(&req);
            let login = || PageError::Login {
                next: req.uri().to_string(),
            };
            let user = match caller(&req).await.into_result() {
                Ok(Some(u)) => u,
                Ok(None) | Err(AppError::Unauthorized(_)) => return Err(login()),
                Err(e) => return Err(PageError::App(e, lang)),
            };
            check_role::<R>(&user).map_err(|e| PageError::App(e, lang))?;
            task_badge(&req, &user)
                .await
                .map_err(|e| PageError::App(e, lang))?;
            Ok(Page {
                user,
                _roles: PhantomData,
            })
        })
    }
}

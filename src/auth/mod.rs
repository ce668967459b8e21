//! Identity without HTTP: roles, the signed-in user, sign-in tokens (JWT, HS256 pinned), passwords and
//! sign-in throttling. The extractors that read a token from a request are in `crate::http::caller`.
//!
//! A token is accepted only if its signature, algorithm, issuer, audience and expiry are right, and the
//! user still exists, is active and has the token version the token was issued for: deactivation and
//! password changes bump the version, which ends every live token at once. Signing out revokes one token
//! by its id (`revocation`).

pub mod password;
pub mod revocation;
pub mod throttle;

use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::config::Config;
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

impl CurrentUser {
    /// Which organisation the caller acts for, the one answer used everywhere: its own for an `org` user,
    /// and 403 for an `org` account that names none (never a stand-in id).
    pub fn own_org_id(&self) -> Result<i64, AppError> {
        match (self.role, self.org_id) {
            (Role::Org, Some(id)) => Ok(id),
            _ => Err(AppError::Forbidden),
        }
    }

    /// The organisation a read is limited to: `Some` for an `org` user, `None` (everything) for staff.
    pub fn org_scope(&self) -> Result<Option<i64>, AppError> {
        match self.role {
            Role::Org => self.own_org_id().map(Some),
            _ => Ok(None),
        }
    }

    /// The bureau and administrators: those who run the registry and the tenders.
    pub fn is_staff(&self) -> bool {
        matches!(self.role, Role::Bureau | Role::Admin)
    }
}

/// Issue a token for a user.
pub fn issue_token(
    config: &Config,
    now: DateTime<Utc>,
    user_id: i64,
    role: Role,
    token_version: i64,
) -> Result<(String, i64), AppError> {
    let now = now.timestamp();
    let exp = now + config.token_ttl.as_secs() as i64;
    let claims = Claims {
        sub: user_id.to_string(),
        role: role.as_str().into(),
        tv: token_version,
        iat: now,
        exp,
        iss: config.jwt_issuer.clone(),
        aud: config.jwt_audience.clone(),
        jti: uuid::Uuid::new_v4().to_string(),
    };
    let token = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(config.jwt_secret.expose().as_bytes()),
    )
    .map_err(|e| AppError::internal(format!("token signing: {e}")))?;
    Ok((token, exp))
}

/// Check signature, algorithm (HS256 only), issuer, audience and expiry.
pub fn decode_token(config: &Config, now: DateTime<Utc>, token: &str) -> Result<Claims, AppError> {
    let mut v = Validation::new(Algorithm::HS256);
    v.set_issuer(&[&config.jwt_issuer]);
    v.set_audience(&[&config.jwt_audience]);
    v.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
    v.leeway = 5;
    // Expiry is judged by the service's clock, so tests that move the clock see tokens expire.
    v.validate_exp = false;
    let data = jsonwebtoken::decode::<Claims>(
        token,
        &DecodingKey::from_secret(config.jwt_secret.expose().as_bytes()),
        &v,
    )
    .map_err(|_| AppError::Unauthorized("invalid token"))?;
    if data.claims.exp + 5 <= now.timestamp() {
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
    /// The id (`jti`) and expiry of the token this request came with: what signing out revokes.
    #[serde(skip)]
    pub token_id: String,
    #[serde(skip)]
    pub token_exp: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(role: Role, org_id: Option<i64>) -> CurrentUser {
        CurrentUser {
            id: 1,
            username: "u".into(),
            display_name: "u".into(),
            email: None,
            role,
            org_id,
            token_version: 0,
            via_cookie: false,
            token_id: String::new(),
            token_exp: 0,
        }
    }

    /// The one answer to "which organisation is the caller": an `org` user's own, never a stand-in id;
    /// staff read everything; anyone else asking for an organisation is refused.
    #[test]
    fn which_organisation_is_the_caller() {
        assert_eq!(user(Role::Org, Some(7)).own_org_id().unwrap(), 7);
        assert_eq!(user(Role::Org, Some(7)).org_scope().unwrap(), Some(7));
        assert!(matches!(
            user(Role::Org, None).own_org_id(),
            Err(AppError::Forbidden)
        ));
        assert!(matches!(
            user(Role::Org, None).org_scope(),
            Err(AppError::Forbidden)
        ));
        for staff in [Role::Bureau, Role::Admin] {
            assert_eq!(user(staff, None).org_scope().unwrap(), None);
            assert!(user(staff, None).is_staff());
            assert!(matches!(
                user(staff, Some(7)).own_org_id(),
                Err(AppError::Forbidden)
            ));
        }
        for other in [Role::Finance, Role::Evaluator, Role::Org] {
            assert!(!user(other, Some(7)).is_staff());
        }
    }
}

//! Signing in, signing out and changing one's own password, for the API and the pages alike.
//!
//! Password guesses (a sign-in, the current password of a change) go through `auth::throttle` keyed by the
//! account and the client address ([`client_addr`]); the password work itself goes through the
//! `auth::password::Hasher` gate, after the user row is read and its database connection given back.

use std::net::IpAddr;

use actix_web::HttpRequest;
use serde::Serialize;

use crate::app::AppState;
use crate::auth::throttle::Policy;
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

/// The client's address as the throttle counts it: the peer of the connection, or, when the peer is one of
/// `SANSHE_TRUSTED_PROXIES`, the nearest address in `X-Forwarded-For` that is not a trusted proxy (entries
/// further left are the client's own claims and are not believed). IPv6 clients count by their /64, which
/// one subscriber usually holds whole.
pub fn client_addr(req: &HttpRequest, trusted: &[IpAddr]) -> String {
    let Some(peer) = req.peer_addr().map(|a| a.ip()) else {
        return String::new();
    };
    let mut ip = peer;
    if trusted.contains(&peer.to_canonical()) || trusted.contains(&peer) {
        let hops: Vec<&str> = req
            .headers()
            .get_all("x-forwarded-for")
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .collect();
        for hop in hops.iter().rev() {
            match parse_hop(hop) {
                Some(h) if trusted.contains(&h) => continue,
                Some(h) => {
                    ip = h;
                    break;
                }
                // The proxy writes the entry it appends; anything unreadable came from elsewhere.
                None => break,
            }
        }
    }
    addr_key(ip)
}

/// An `X-Forwarded-For` entry: an address, maybe with a port (`1.2.3.4:5678`, `[::1]:80`).
fn parse_hop(hop: &str) -> Option<IpAddr> {
    if let Ok(ip) = hop.parse::<IpAddr>() {
        return Some(ip.to_canonical());
    }
    hop.parse::<std::net::SocketAddr>()
        .ok()
        .map(|s| s.ip().to_canonical())
}

fn addr_key(ip: IpAddr) -> String {
    match ip.to_canonical() {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
    }
}

/// Wait out the account-wide delay, or refuse with 429 when the pair or the address is locked.
async fn throttle_gate(state: &AppState, account: &str, addr: &str) -> Result<(), AppError> {
    let policy = Policy::from_config(&state.config);
    match state.throttle.check(account, addr, &policy) {
        Err(retry_after) => {
            tracing::info!(
                event = "login_throttled",
                retry_after,
                "password guess refused"
            );
            Err(AppError::TooManyRequests { retry_after })
        }
        Ok(delay) if !delay.is_zero() => {
            tokio::time::sleep(delay).await;
            Ok(())
        }
        Ok(_) => Ok(()),
    }
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
    let addr = client_addr(req, &state.config.trusted_proxies);
    throttle_gate(state, &username, &addr).await?;
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
    let Some(u) = row.filter(|r| ok && r.active) else {
        state
            .throttle
            .fail(&username, &addr, &Policy::from_config(&state.config));
        tracing::info!(event = "login_failed", "sign-in refused");
        return Err(AppError::Unauthorized("bad credentials"));
    };
    state.throttle.succeed(&username, &addr);
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

/// Change the caller's password and return the new token. A wrong current password counts as a failed
/// sign-in of this account from this address (and is refused with 429 the same way).
pub async fn change_password(
    state: &AppState,
    req: &HttpRequest,
    user: &CurrentUser,
    current: &str,
    new: &str,
) -> Result<String, AppError> {
    let addr = client_addr(req, &state.config.trusted_proxies);
    throttle_gate(state, &user.username, &addr).await?;
    let id = user.id;
    let row = state.run(move |c| crate::users::find(c, id)).await?;
    let current_ok = state.passwords.verify(current, &row.password_hash).await?;
    if current_ok {
        state.throttle.succeed(&user.username, &addr);
    } else {
        state
            .throttle
            .fail(&user.username, &addr, &Policy::from_config(&state.config));
        tracing::info!(
            event = "password_change_refused",
            user_id = id,
            "wrong current password"
        );
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    fn addr(peer: &str, xff: &[&str], trusted: &[&str]) -> String {
        let mut r = TestRequest::default().peer_addr(peer.parse().unwrap());
        for h in xff {
            r = r.append_header(("X-Forwarded-For", *h));
        }
        let trusted: Vec<IpAddr> = trusted.iter().map(|t| t.parse().unwrap()).collect();
        client_addr(&r.to_http_request(), &trusted)
    }

    #[test]
    fn the_client_address_believes_only_trusted_proxies() {
        // No trusted proxy: the header is anyone's to write, and ignored.
        assert_eq!(
            addr("198.51.100.7:4000", &["203.0.113.9"], &[]),
            "198.51.100.7"
        );
        // Behind a trusted proxy: the entry it appended.
        assert_eq!(
            addr("10.0.0.2:4000", &["203.0.113.9"], &["10.0.0.2"]),
            "203.0.113.9"
        );
        // A client's own claims further left are not believed, over one or several headers.
        assert_eq!(
            addr("10.0.0.2:4000", &["1.1.1.1, 203.0.113.9"], &["10.0.0.2"]),
            "203.0.113.9"
        );
        assert_eq!(
            addr("10.0.0.2:4000", &["1.1.1.1", "203.0.113.9"], &["10.0.0.2"]),
            "203.0.113.9"
        );
        // Two trusted proxies in a row; a port on the entry.
        assert_eq!(
            addr(
                "10.0.0.2:4000",
                &["1.1.1.1, 203.0.113.9:5555, 10.0.0.3"],
                &["10.0.0.2", "10.0.0.3"]
            ),
            "203.0.113.9"
        );
        // An unreadable entry, or none: the proxy itself.
        assert_eq!(addr("10.0.0.2:4000", &["junk"], &["10.0.0.2"]), "10.0.0.2");
        assert_eq!(addr("10.0.0.2:4000", &[], &["10.0.0.2"]), "10.0.0.2");
        // IPv6 by /64; IPv4-mapped IPv6 as IPv4.
        assert_eq!(
            addr("[2001:db8:1:2:3:4:5:6]:80", &[], &[]),
            "2001:db8:1:2::/64"
        );
        assert_eq!(addr("[::ffff:198.51.100.7]:80", &[], &[]), "198.51.100.7");
    }
}

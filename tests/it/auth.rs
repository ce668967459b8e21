//! Sign-in, throttling, own password change, sign-out, deactivation and token versions.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::both_backends;
use crate::helpers::*;

async fn login_returns_a_working_token(b: Backend) {
    let app = TestApp::spawn(&b).await;
    let r = app
        .send_json(
            "POST",
            "/api/v1/auth/login",
            None,
            &json!({"username": "bureau", "password": PASSWORD}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["token_type"], "Bearer");
    assert_eq!(v["role"], "bureau");
    let token = v["token"].as_str().unwrap();
    // HS256, with issuer and audience.
    let header = jsonwebtoken::decode_header(token).unwrap();
    assert_eq!(header.alg, jsonwebtoken::Algorithm::HS256);
    let me: serde_json::Value = app
        .get("/api/v1/me", Some(token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["username"], "bureau");
    assert_eq!(me["role"], "bureau");
    assert!(me.get("password_hash").is_none() && me.get("token_version").is_none());

    for (u, p) in [("bureau", "wrong-password-x"), ("nobody", PASSWORD)] {
        let r = app
            .send_json(
                "POST",
                "/api/v1/auth/login",
                None,
                &json!({"username": u, "password": p}),
            )
            .await;
        problem(r, 401, "unauthorized").await;
    }
    let r = app
        .send_json(
            "POST",
            "/api/v1/auth/login",
            None,
            &json!({"username": "", "password": ""}),
        )
        .await;
    let p = problem(r, 422, "validation_failed").await;
    assert_eq!(p["errors"].as_array().unwrap().len(), 2);
    app.stop().await;
}

async fn repeated_failures_are_throttled(b: Backend) {
    let app = TestApp::spawn_with(
        &b,
        Options {
            login_max_failures: 3,
            login_max_failures_per_addr: 6,
            ..Default::default()
        },
    )
    .await;
    let login = |u: &'static str, p: &'static str| {
        let app = &app;
        async move {
            app.send_json(
                "POST",
                "/api/v1/auth/login",
                None,
                &json!({"username": u, "password": p}),
            )
            .await
        }
    };
    for _ in 0..3 {
        assert_eq!(login("finance", "wrong-password-x").await.status(), 401);
    }
    // Locked: even the right password is refused until the lock ends.
    let r = login("finance", PASSWORD).await;
    let retry: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    problem(r, 429, "too_many_requests").await;
    // Other accounts are not locked by this one…
    assert_eq!(login("bureau", PASSWORD).await.status(), 200);
    // …until the address itself has failed too often.
    for _ in 0..3 {
        assert_eq!(login("nobody", "wrong-password-x").await.status(), 401);
    }
    problem(login("bureau", PASSWORD).await, 429, "too_many_requests").await;
    app.stop().await;
}

async fn password_change_ends_other_sessions(b: Backend) {
    let app = TestApp::spawn(&b).await;
    let old = app.token("evaluator1").await;
    let other_session = app.token("evaluator1").await;
    let snap = app.snapshot();
    let r = app
        .send_json(
            "POST",
            "/api/v1/me/password",
            Some(&old),
            &json!({"current_password": "not-it-at-all", "new_password": "short"}),
        )
        .await;
    let p = problem(r, 422, "validation_failed").await;
    let fields: Vec<&str> = p["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["current_password", "new_password"]);
    assert_eq!(app.snapshot(), snap, "a refused change changes nothing");

    let r = app
        .send_json(
            "POST",
            "/api/v1/me/password",
            Some(&old),
            &json!({"current_password": PASSWORD, "new_password": "a-new-password-42"}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let fresh = r.json::<serde_json::Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_string();
    problem(app.get("/api/v1/me", Some(&old)).await, 401, "unauthorized").await;
    problem(
        app.get("/api/v1/me", Some(&other_session)).await,
        401,
        "unauthorized",
    )
    .await;
    assert_eq!(app.get("/api/v1/me", Some(&fresh)).await.status(), 200);
    let r = app
        .send_json(
            "POST",
            "/api/v1/auth/login",
            None,
            &json!({"username": "evaluator1", "password": PASSWORD}),
        )
        .await;
    assert_eq!(r.status(), 401);
    app.token_with("evaluator1", "a-new-password-42").await;
    app.stop().await;
}

async fn deactivation_ends_live_tokens_and_sign_in(b: Backend) {
    let app = TestApp::spawn(&b).await;
    let admin = app.token("admin").await;
    let id = app
        .create_user("zhao", "bureau", None, Some("zhao@example.org"))
        .await;
    let t = app.token("zhao").await;
    assert_eq!(app.get("/api/v1/me", Some(&t)).await.status(), 200);
    let r = app
        .send_json(
            "PATCH",
            &format!("/api/v1/users/{id}"),
            Some(&admin),
            &json!({"active": false}),
        )
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.json::<serde_json::Value>().await.unwrap()["active"],
        false
    );
    problem(app.get("/api/v1/me", Some(&t)).await, 401, "unauthorized").await;
    let r = app
        .send_json(
            "POST",
            "/api/v1/auth/login",
            None,
            &json!({"username": "zhao", "password": PASSWORD}),
        )
        .await;
    problem(r, 401, "unauthorized").await;
    // Reactivated, the old token stays dead; a new sign-in works.
    let r = app
        .send_json(
            "PATCH",
            &format!("/api/v1/users/{id}"),
            Some(&admin),
            &json!({"active": true}),
        )
        .await;
    assert_eq!(r.status(), 200);
    problem(app.get("/api/v1/me", Some(&t)).await, 401, "unauthorized").await;
    app.token("zhao").await;
    // An admin cannot lock themselves out.
    let me: serde_json::Value = app
        .get("/api/v1/me", Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    let r = app
        .send_json(
            "PATCH",
            &format!("/api/v1/users/{}", me["id"]),
            Some(&admin),
            &json!({"active": false}),
        )
        .await;
    problem(r, 422, "validation_failed").await;
    app.stop().await;
}

/// Options of a server behind a proxy on loopback: tests play client addresses with `X-Forwarded-For`.
fn behind_proxy() -> Options {
    Options {
        trusted_proxies: vec!["127.0.0.1".parse().unwrap()],
        ..Default::default()
    }
}

/// Sign in through the API as the client at `addr`.
async fn login_from(app: &TestApp, addr: &str, user: &str, pw: &str) -> reqwest::Response {
    client()
        .post(app.url("/api/v1/auth/login"))
        .header("X-Forwarded-For", addr)
        .json(&json!({"username": user, "password": pw}))
        .send()
        .await
        .unwrap()
}

/// A 429 problem with `Retry-After` within `max` seconds.
async fn refused(r: reqwest::Response, max: u64) {
    let retry: u64 = r
        .headers()
        .get("retry-after")
        .expect("Retry-After")
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=max).contains(&retry), "Retry-After {retry}");
    problem(r, 429, "too_many_requests").await;
}

const ATTACKER: &str = "203.0.113.66";
const OFFICE: &str = "198.51.100.20";

/// Issue 9: twenty wrong passwords for the administrator from one address lock that address out of the
/// account, not the administrator, who signs in from another address (after a short delay at most); a
/// guesser moving through addresses makes the delay grow to its cap and no further.
async fn the_admin_signs_in_from_elsewhere_while_guessed_at(b: Backend) {
    let app = TestApp::spawn_with(&b, behind_proxy()).await;
    for i in 0..20 {
        let r = login_from(&app, ATTACKER, "admin", "wrong-password-x").await;
        if i < 5 {
            problem(r, 401, "unauthorized").await;
        } else {
            refused(r, 60).await;
        }
    }
    // The attacker's address is locked out of this account, even with the right password…
    refused(login_from(&app, ATTACKER, "admin", PASSWORD).await, 60).await;
    // …but not out of others (the address is under its own limit).
    assert_eq!(
        login_from(&app, ATTACKER, "bureau", PASSWORD)
            .await
            .status(),
        200
    );
    // The administrator, from the office.
    let t = Instant::now();
    let r = login_from(&app, OFFICE, "admin", PASSWORD).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    assert!(
        t.elapsed() >= Duration::from_millis(250),
        "five failures on the account slow every address a little"
    );
    // Still locked from the attacker's address after the owner's success elsewhere.
    refused(login_from(&app, ATTACKER, "admin", PASSWORD).await, 60).await;

    // A guesser with many addresses: each pair locks after five, the account only waits, up to the cap.
    for a in 1..=4 {
        for _ in 0..5 {
            let r = login_from(&app, &format!("192.0.2.{a}"), "admin", "wrong-password-x").await;
            problem(r, 401, "unauthorized").await;
        }
    }
    let t = Instant::now();
    let r = login_from(&app, OFFICE, "admin", PASSWORD).await;
    assert_eq!(r.status(), 200);
    let took = t.elapsed();
    assert!(
        took >= Duration::from_millis(300) && took < Duration::from_secs(10),
        "twenty more failures: the capped delay (300 ms in tests), no lock; took {took:?}"
    );
    app.stop().await;
}

/// A right password clears the count of its (account, address) pair.
async fn a_success_clears_the_pair(b: Backend) {
    let app = TestApp::spawn_with(&b, behind_proxy()).await;
    for _ in 0..4 {
        let r = login_from(&app, OFFICE, "finance", "wrong-password-x").await;
        problem(r, 401, "unauthorized").await;
    }
    assert_eq!(
        login_from(&app, OFFICE, "finance", PASSWORD).await.status(),
        200
    );
    // Without the clearing, the first of these would be the fifth failure and the second a 429.
    for _ in 0..4 {
        let r = login_from(&app, OFFICE, "finance", "wrong-password-x").await;
        problem(r, 401, "unauthorized").await;
    }
    problem(
        login_from(&app, OFFICE, "finance", "wrong-password-x").await,
        401,
        "unauthorized",
    )
    .await;
    refused(login_from(&app, OFFICE, "finance", PASSWORD).await, 60).await;
    // Another address of the same account is not locked.
    assert_eq!(
        login_from(&app, ATTACKER, "finance", PASSWORD)
            .await
            .status(),
        200
    );
    app.stop().await;
}

/// Without `SANSHE_TRUSTED_PROXIES`, `X-Forwarded-For` is anyone's to write and is not believed: a
/// guesser cannot leave its lock by claiming another address.
async fn forwarded_for_is_believed_only_from_a_trusted_proxy(b: Backend) {
    let app = TestApp::spawn(&b).await;
    for i in 0..5 {
        let r = login_from(&app, &format!("192.0.2.{i}"), "admin", "wrong-password-x").await;
        problem(r, 401, "unauthorized").await;
    }
    refused(login_from(&app, OFFICE, "admin", PASSWORD).await, 60).await;
    app.stop().await;
}

/// Wrong current passwords on the password change count as failed sign-ins of the account from that
/// address: API (429 problem) and page (the message at the field, 429, Retry-After).
async fn password_change_throttles_wrong_current_passwords(b: Backend) {
    let app = TestApp::spawn_with(&b, behind_proxy()).await;
    let token = app.token("evaluator1").await;
    let change = |addr: &'static str, current: &'static str| {
        let (app, token) = (&app, token.clone());
        async move {
            client()
                .post(app.url("/api/v1/me/password"))
                .bearer_auth(token)
                .header("X-Forwarded-For", addr)
                .json(&json!({"current_password": current, "new_password": "a-new-password-42"}))
                .send()
                .await
                .unwrap()
        }
    };
    for _ in 0..5 {
        let p = problem(
            change(ATTACKER, "not-it-at-all").await,
            422,
            "validation_failed",
        )
        .await;
        assert_eq!(p["errors"][0]["field"], "current_password");
    }
    let snap = app.snapshot();
    refused(change(ATTACKER, "not-it-at-all").await, 60).await;
    // Even the right current password waits: the pair is locked, for the change and for sign-in.
    refused(change(ATTACKER, PASSWORD).await, 60).await;
    refused(login_from(&app, ATTACKER, "evaluator1", PASSWORD).await, 60).await;
    assert_eq!(app.snapshot(), snap, "a refused change changes nothing");
    // From another address the owner goes on.
    let r = change(OFFICE, PASSWORD).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());

    // The page: sign-in and password change say so at the form.
    let c = sign_in(&app, "finance").await;
    let html = c
        .get(app.url("/account"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = csrf_of(&html);
    let post = |current: &'static str| {
        c.post(app.url("/account/password"))
            .form(&[
                ("csrf", csrf.as_str()),
                ("current_password", current),
                ("new_password", "a-new-password-42"),
                ("confirm_password", "a-new-password-42"),
            ])
            .send()
    };
    for _ in 0..5 {
        assert_eq!(post("not-it-at-all").await.unwrap().status(), 422);
    }
    let r = post(PASSWORD).await.unwrap();
    assert_eq!(r.status(), 429);
    assert!(r.headers().contains_key("retry-after"));
    let html = r.text().await.unwrap();
    assert!(html.contains("尝试次数过多"), "{html}");
    // The sign-in form of this account from this address says the same, inline.
    let html = c
        .get(app.url("/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let r = c
        .post(app.url("/login"))
        .form(&[
            ("csrf", csrf_of(&html).as_str()),
            ("username", "finance"),
            ("password", PASSWORD),
            ("next", "/dashboard"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429);
    assert!(r.headers().contains_key("retry-after"));
    let html = r.text().await.unwrap();
    assert!(
        html.contains("id=\"login-error\"") && html.contains("尝试次数过多"),
        "{html}"
    );
    app.stop().await;
}

/// Sign in through the form; returns the client and the session token of its cookie.
async fn page_session(app: &TestApp, user: &str) -> (reqwest::Client, String) {
    let c = client();
    let html = c
        .get(app.url("/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let r = c
        .post(app.url("/login"))
        .form(&[
            ("csrf", csrf_of(&html).as_str()),
            ("username", user),
            ("password", PASSWORD),
            ("next", "/dashboard"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let token = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.strip_prefix("sanshe_session="))
        .and_then(|v| v.split(';').next())
        .expect("session cookie")
        .to_string();
    (c, token)
}

/// Who the old token is to the API, as a cookie and as a Bearer header; and to a page.
async fn old_token_statuses(app: &TestApp, token: &str) -> (u16, u16, u16) {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let cookie = http
        .get(app.url("/api/v1/me"))
        .header("Cookie", format!("sanshe_session={token}"))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16();
    let bearer = app.get("/api/v1/me", Some(token)).await.status().as_u16();
    let page = http
        .get(app.url("/dashboard"))
        .header("Cookie", format!("sanshe_session={token}"))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16();
    (cookie, bearer, page)
}

/// Signing out (the page's POST /logout, the API's POST /api/v1/auth/logout) revokes that token on the
/// server: a copy of it fails with 401 as cookie and as Bearer. Other sessions of the user go on.
async fn sign_out_revokes_the_token(b: Backend) {
    let app = TestApp::spawn(&b).await;
    let (c, token) = page_session(&app, "bureau").await;
    let other = app.token("bureau").await;
    assert_eq!(old_token_statuses(&app, &token).await, (200, 200, 200));
    let html = c
        .get(app.url("/dashboard"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let r = c
        .post(app.url("/logout"))
        .form(&[("csrf", csrf_of(&html).as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(old_token_statuses(&app, &token).await, (401, 401, 303));
    problem(
        app.get("/api/v1/me", Some(&token)).await,
        401,
        "unauthorized",
    )
    .await;
    assert_eq!(
        app.get("/api/v1/me", Some(&other)).await.status(),
        200,
        "another session of the same user stays"
    );

    // The API's sign-out, with a Bearer token.
    let t = app.token("finance").await;
    let logout = |t: String| {
        let app = &app;
        async move {
            client()
                .post(app.url("/api/v1/auth/logout"))
                .bearer_auth(t)
                .send()
                .await
                .unwrap()
        }
    };
    assert_eq!(logout(t.clone()).await.status(), 204);
    assert_eq!(old_token_statuses(&app, &t).await, (401, 401, 303));
    problem(logout(t.clone()).await, 401, "unauthorized").await;
    // Signing in again works.
    let again = app.token("finance").await;
    assert_eq!(app.get("/api/v1/me", Some(&again)).await.status(), 200);

    // Revocations outlive their tokens by a minute, then the scheduler's sweep forgets them.
    let mut conn = app.conn();
    let now = chrono::Utc::now();
    assert_eq!(sanshe::auth::revocation::sweep(&mut conn, now).unwrap(), 0);
    assert_eq!(
        sanshe::auth::revocation::sweep(&mut conn, now + chrono::Duration::hours(2)).unwrap(),
        2
    );
    app.stop().await;
}

both_backends!(
    login_returns_a_working_token,
    repeated_failures_are_throttled,
    password_change_ends_other_sessions,
    deactivation_ends_live_tokens_and_sign_in,
    the_admin_signs_in_from_elsewhere_while_guessed_at,
    a_success_clears_the_pair,
    forwarded_for_is_believed_only_from_a_trusted_proxy,
    password_change_throttles_wrong_current_passwords,
    sign_out_revokes_the_token
);

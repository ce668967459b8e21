//! Sign-in, throttling, own password change, sign-out, deactivation and token versions.

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
    sign_out_revokes_the_token
);

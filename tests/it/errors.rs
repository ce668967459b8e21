//! Errors as clients see them: problem+json with a stable code and messages in zh-CN and en for malformed
//! requests, unknown paths and broken fields; bad input changes nothing; 5xx bodies carry no internals;
//! every response carries an `X-Request-Id`.

use std::collections::BTreeSet;

use diesel::connection::SimpleConnection;
use reqwest::header::CONTENT_TYPE;
use serde_json::{Value, json};

use crate::both_backends;
use crate::helpers::*;

/// The response's request id: present, 32 hex digits.
fn request_id(r: &reqwest::Response) -> String {
    let id = r
        .headers()
        .get("x-request-id")
        .unwrap_or_else(|| panic!("no X-Request-Id on {} {}", r.status(), r.url()))
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        id.len() == 32 && id.bytes().all(|c| c.is_ascii_hexdigit()),
        "request id {id:?} on {}",
        r.url()
    );
    id
}

/// Assert the problem (via `helpers::problem`) after checking the request id.
async fn problem_with_id(r: reqwest::Response, status: u16, code: &str) -> Value {
    request_id(&r);
    problem(r, status, code).await
}

async fn post_raw(
    app: &TestApp,
    path: &str,
    token: Option<&str>,
    ctype: &str,
    body: impl Into<reqwest::Body>,
) -> reqwest::Response {
    let mut r = client()
        .post(app.url(path))
        .header(CONTENT_TYPE, ctype)
        .body(body);
    if let Some(t) = token {
        r = r.bearer_auth(t);
    }
    r.send().await.unwrap()
}

/// A login body of exactly `len` bytes (a long password).
fn login_body_of_len(len: usize) -> String {
    let head = r#"{"username":"bureau","password":""#;
    let tail = r#""}"#;
    let pad = len - head.len() - tail.len();
    let s = format!("{head}{}{tail}", "x".repeat(pad));
    assert_eq!(s.len(), len);
    s
}

async fn malformed_requests(b: Backend) {
    let app = TestApp::spawn(&b).await;
    let admin = app.token("admin").await;
    let login = "/api/v1/auth/login";
    let before = app.snapshot();

    // Not JSON at all, and truncated JSON.
    for body in ["{\"username\": \"bureau\", \"password\": ", "not json", ""] {
        let r = post_raw(&app, login, None, "application/json", body).await;
        problem_with_id(r, 400, "invalid_json").await;
    }
    // Wrong type of a field.
    let r = app
        .send_json(
            "POST",
            login,
            None,
            &json!({"username": "bureau", "password": 12}),
        )
        .await;
    problem_with_id(r, 400, "invalid_json").await;

    // Wrong content type, also on an authenticated write.
    let body = json!({"username": "bureau", "password": PASSWORD}).to_string();
    problem_with_id(
        post_raw(&app, login, None, "text/plain", body.clone()).await,
        415,
        "unsupported_media_type",
    )
    .await;
    let user = json!({"username": "ctype", "display_name": "类型", "role": "bureau", "password": PASSWORD}).to_string();
    let r = post_raw(&app, "/api/v1/users", Some(&admin), "text/plain", user).await;
    problem_with_id(r, 415, "unsupported_media_type").await;

    // Body size: exactly the limit is read (and refused as wrong credentials), one byte more is too large.
    let limit = sanshe::app::JSON_LIMIT;
    assert_eq!(limit, 256 * 1024);
    let r = post_raw(
        &app,
        login,
        None,
        "application/json",
        login_body_of_len(limit),
    )
    .await;
    problem_with_id(r, 401, "unauthorized").await;
    let r = post_raw(
        &app,
        login,
        None,
        "application/json",
        login_body_of_len(limit + 1),
    )
    .await;
    problem_with_id(r, 413, "payload_too_large").await;
    let big = json!({"username": "big", "display_name": "x".repeat(300 * 1024), "role": "bureau", "password": PASSWORD}).to_string();
    let r = post_raw(&app, "/api/v1/users", Some(&admin), "application/json", big).await;
    problem_with_id(r, 413, "payload_too_large").await;

    // No content type at all is refused too; a charset parameter is fine.
    let r = client()
        .post(app.url(login))
        .body(body.clone())
        .send()
        .await
        .unwrap();
    problem_with_id(r, 415, "unsupported_media_type").await;
    let r = post_raw(
        &app,
        login,
        None,
        "application/json; charset=utf-8",
        body.clone(),
    )
    .await;
    assert_eq!(r.status(), 200);
    request_id(&r);

    // Present but empty fields are field rules (422), not JSON errors.
    let r = app
        .send_json(
            "POST",
            login,
            None,
            &json!({"username": "", "password": ""}),
        )
        .await;
    let v = problem_with_id(r, 422, "validation_failed").await;
    assert_eq!(
        field_rules(&v),
        rules(&[("username", "required"), ("password", "required")]),
        "{v}"
    );

    // A missing field is named in both languages.
    let r = app
        .send_json("POST", login, None, &json!({"username": "x"}))
        .await;
    let v = problem_with_id(r, 400, "invalid_json").await;
    assert!(
        v["message"]["en"].as_str().unwrap().contains("`password`"),
        "{v}"
    );
    assert!(
        v["message"]["zh-CN"].as_str().unwrap().contains("password"),
        "{v}"
    );

    // Query values of the wrong type; sign-in is checked first.
    for path in [
        "/api/v1/users?page=abc",
        "/api/v1/users?active=maybe",
        "/api/v1/users?per_page=1.5",
    ] {
        problem_with_id(app.get(path, Some(&admin)).await, 400, "invalid_query").await;
        problem_with_id(app.get(path, None).await, 401, "unauthorized").await;
    }
    // An unknown parameter is refused, naming it, on every list and export (`?standing=flagged` once
    // returned every organisation; the parameter is `status`).
    let bureau = app.token("bureau").await;
    for list in [
        "/api/v1/organisations",
        "/api/v1/organisations/export",
        "/api/v1/public/organisations",
        "/api/v1/tenders",
        "/api/v1/bases",
        "/api/v1/bases/export",
        "/api/v1/communities",
        "/api/v1/incubations",
        "/api/v1/social-workers",
        "/api/v1/social-workers/export",
        "/api/v1/change-requests",
    ] {
        let path = format!("{list}?standing=flagged");
        let v = problem_with_id(app.get(&path, Some(&bureau)).await, 400, "invalid_query").await;
        assert!(
            v["detail"].as_str().unwrap().contains("standing"),
            "{path}: {v}"
        );
        // The known parameters still work.
        let r = app.get(&format!("{list}?page=1"), Some(&bureau)).await;
        assert_eq!(r.status(), 200, "{list}?page=1");
    }
    for path in [
        "/api/v1/users?role=admin&nonsense=1",
        "/api/v1/audit-events?nonsense=1",
    ] {
        let v = problem_with_id(app.get(path, Some(&admin)).await, 400, "invalid_query").await;
        assert!(
            v["detail"].as_str().unwrap().contains("nonsense"),
            "{path}: {v}"
        );
    }
    let finance = app.token("finance").await;
    problem_with_id(
        app.get("/api/v1/audit-events?page=x", Some(&finance)).await,
        400,
        "invalid_query",
    )
    .await;

    // Unknown API paths, and a path id that is not a number.
    for path in ["/api/v1/nope", "/api/v1/users/1/nope", "/api/nope"] {
        problem_with_id(app.get(path, None).await, 404, "not_found").await;
        problem_with_id(app.get(path, Some(&admin)).await, 404, "not_found").await;
    }
    problem_with_id(
        app.get("/api/v1/users/abc", Some(&admin)).await,
        404,
        "not_found",
    )
    .await;
    problem_with_id(
        app.get("/api/v1/users/999999", Some(&admin)).await,
        404,
        "not_found",
    )
    .await;
    problem_with_id(
        app.get("/api/v1/audit-events/999999", Some(&admin)).await,
        404,
        "not_found",
    )
    .await;

    // Unknown page: an HTML 404.
    for path in ["/nope", "/admin/nope"] {
        let r = app.get(path, None).await;
        request_id(&r);
        assert_eq!(r.status(), 404, "{path}");
        let ct = r.headers()[CONTENT_TYPE].to_str().unwrap().to_string();
        assert!(ct.starts_with("text/html"), "{path}: {ct}");
        let html = r.text().await.unwrap();
        assert!(html.contains("404") && html.contains("</html>"), "{html}");
    }

    // A documented path asked with a method it does not take: 405 with Allow (the most specific path
    // decides: /communities/export is not /communities/{id}); HEAD is GET.
    for (method, path, allow) in [
        ("DELETE", "/api/v1/tenders", "GET, POST"),
        ("PATCH", "/api/v1/communities/export", "GET"),
        ("TRACE", "/healthz", "GET"),
    ] {
        let r = client()
            .request(method.parse().unwrap(), app.url(path))
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap();
        assert_eq!(r.headers()["allow"], allow, "{method} {path}");
        problem_with_id(r, 405, "method_not_allowed").await;
    }
    let r = client().head(app.url("/healthz")).send().await.unwrap();
    assert_eq!(r.status(), 200);

    assert_eq!(
        app.snapshot(),
        before,
        "malformed requests changed the database"
    );
    app.stop().await;
}

fn field_rules(v: &Value) -> BTreeSet<(String, String)> {
    let errs = v["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("no errors array: {v}"));
    for e in errs {
        let zh = e["message"]["zh-CN"].as_str().unwrap_or_default();
        let en = e["message"]["en"].as_str().unwrap_or_default();
        assert!(
            !zh.is_empty() && !en.is_empty() && zh != en,
            "field error without both languages: {e}"
        );
        assert!(!zh.is_ascii(), "zh-CN message is not Chinese: {e}");
    }
    errs.iter()
        .map(|e| {
            (
                e["field"].as_str().unwrap().to_string(),
                e["rule"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn rules(pairs: &[(&str, &str)]) -> BTreeSet<(String, String)> {
    pairs
        .iter()
        .map(|(f, r)| (f.to_string(), r.to_string()))
        .collect()
}

async fn validation_errors(b: Backend) {
    let app = TestApp::spawn(&b).await;
    let admin = app.token("admin").await;
    let cases: Vec<(Value, BTreeSet<(String, String)>)> = vec![
        (
            json!({"username": "a b", "display_name": "", "email": "not-an-email", "role": "king", "password": "short"}),
            rules(&[
                ("username", "format"),
                ("display_name", "required"),
                ("email", "email"),
                ("role", "one_of"),
                ("password", "min_length"),
            ]),
        ),
        (
            json!({"username": "bureau", "display_name": "重名", "role": "bureau", "password": PASSWORD}),
            rules(&[("username", "unique")]),
        ),
        (
            json!({"username": "org-no-id", "display_name": "组织", "role": "org", "password": PASSWORD}),
            rules(&[("org_id", "required")]),
        ),
        (
            json!({"username": "bureau-with-org", "display_name": "局", "role": "bureau", "org_id": 3, "password": PASSWORD}),
            rules(&[("org_id", "forbidden")]),
        ),
    ];
    for (body, expected) in cases {
        let before = app.snapshot();
        let r = app
            .send_json("POST", "/api/v1/users", Some(&admin), &body)
            .await;
        let v = problem_with_id(r, 422, "validation_failed").await;
        assert_eq!(field_rules(&v), expected, "{body} → {v}");
        for (field, _) in &expected {
            assert!(
                v["message"]["en"]
                    .as_str()
                    .unwrap()
                    .contains(field.as_str()),
                "{v}"
            );
            assert!(
                v["message"]["zh-CN"]
                    .as_str()
                    .unwrap()
                    .contains(field.as_str()),
                "{v}"
            );
        }
        assert_eq!(
            app.snapshot(),
            before,
            "a rejected create changed the database: {body}"
        );
    }

    // A rejected change leaves the user as it was.
    let before = app.snapshot();
    let r = app
        .send_json(
            "PATCH",
            "/api/v1/users/2",
            Some(&admin),
            &json!({"display_name": " ", "email": "nope", "role": "king"}),
        )
        .await;
    let v = problem_with_id(r, 422, "validation_failed").await;
    assert_eq!(
        field_rules(&v),
        rules(&[
            ("display_name", "required"),
            ("email", "email"),
            ("role", "one_of")
        ]),
        "{v}"
    );
    assert_eq!(
        app.snapshot(),
        before,
        "a rejected change changed the database"
    );

    // The control: the same endpoint does write when the input is good.
    let r = app
        .send_json("POST", "/api/v1/users", Some(&admin), &json!({"username": "good-one", "display_name": "好", "role": "bureau", "password": PASSWORD}))
        .await;
    assert_eq!(r.status(), 201);
    assert_ne!(app.snapshot(), before);
    app.stop().await;
}

/// An unexpected database failure answers 500 with a fixed text: no table names, no driver messages.
async fn internal_errors_are_opaque(b: Backend) {
    let app = TestApp::spawn(&b).await;
    let admin = app.token("admin").await;
    let drop = match b {
        Backend::Sqlite => "DROP TABLE audit_events",
        Backend::Postgres(_) => "DROP TABLE audit_events CASCADE",
    };
    app.conn().batch_execute(drop).unwrap();
    let leaks = [
        "audit_events",
        "no such table",
        "does not exist",
        "relation",
        "database",
        "diesel",
        "SELECT",
    ];

    let r = app.get("/api/v1/audit-events", Some(&admin)).await;
    let text = {
        request_id(&r);
        assert_eq!(r.status(), 500);
        assert!(
            r.headers()[CONTENT_TYPE]
                .to_str()
                .unwrap()
                .starts_with("application/problem+json")
        );
        r.text().await.unwrap()
    };
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["code"], "internal_error", "{v}");
    assert!(
        v["message"]["zh-CN"]
            .as_str()
            .is_some_and(|s| !s.is_empty())
            && v["message"]["en"].as_str().is_some_and(|s| !s.is_empty())
    );
    for l in leaks {
        assert!(!text.contains(l), "500 body leaks {l:?}: {text}");
    }

    let r = client()
        .get(app.url("/audit"))
        .header("Cookie", format!("sanshe_session={admin}"))
        .send()
        .await
        .unwrap();
    request_id(&r);
    assert_eq!(r.status(), 500);
    let html = r.text().await.unwrap();
    for l in ["audit_events", "no such table", "does not exist", "diesel"] {
        assert!(!html.contains(l), "500 page leaks {l:?}: {html}");
    }
    app.stop().await;
}

async fn request_ids_everywhere(b: Backend) {
    let app = TestApp::spawn(&b).await;
    let admin = app.token("admin").await;
    let bureau = app.token("bureau").await;
    let mut ids = Vec::new();
    let gets: &[(&str, Option<&str>, u16)] = &[
        ("/api/v1/me", Some(admin.as_str()), 200),
        ("/api/v1/me", None, 401),
        ("/api/v1/users", Some(bureau.as_str()), 403),
        ("/api/v1/nope", None, 404),
        ("/api/v1/openapi.json", None, 200),
        ("/api/docs/", None, 200),
        ("/healthz", None, 200),
        ("/readyz", None, 200),
        ("/", None, 200),
        ("/login", None, 200),
        ("/dashboard", None, 303),
        ("/nope", None, 404),
        ("/static/app.css", None, 200),
        ("/static/nope.css", None, 404),
    ];
    for (path, token, status) in gets {
        let r = app.get(path, *token).await;
        assert_eq!(r.status().as_u16(), *status, "{path}");
        ids.push(request_id(&r));
    }
    let r = client()
        .get(app.url("/dashboard"))
        .header("Cookie", format!("sanshe_session={admin}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    ids.push(request_id(&r));
    let r = post_raw(&app, "/api/v1/auth/login", None, "application/json", "{").await;
    assert_eq!(r.status(), 400);
    ids.push(request_id(&r));
    let r = client()
        .post(app.url("/login"))
        .form(&[("username", "admin"), ("password", "wrong")])
        .send()
        .await
        .unwrap();
    ids.push(request_id(&r));

    let distinct: BTreeSet<&String> = ids.iter().collect();
    assert_eq!(distinct.len(), ids.len(), "request ids repeat: {ids:?}");
    app.stop().await;
}

both_backends!(
    malformed_requests,
    validation_errors,
    internal_errors_are_opaque,
    request_ids_everywhere
);

//! The route table: every API operation with the roles allowed to call it. The OpenAPI document must list
//! exactly these operations (a new route without a row fails the suite), and every protected row is walked
//! with missing, broken, forged and revoked credentials, with each role, and through the session cookie.
//! Protected pages are walked the same way from `sanshe::pages::all_protected()`, pinned here.

use std::collections::BTreeSet;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, COOKIE, LOCATION};
use sanshe::auth::{Claims, Role};
use sanshe::config::{JWT_AUDIENCE, JWT_ISSUER};
use serde_json::{Value, json};

use crate::both_backends;
use crate::helpers::*;

/// A route-table row: `op!(method, template, path, access)` or with a JSON body as a fifth argument.
#[macro_export]
macro_rules! op {
    ($m:literal, $t:literal, $p:literal, $a:expr) => {
        $crate::route_table::Op {
            method: $m,
            template: $t,
            path: $p,
            access: $a,
            body: None,
        }
    };
    ($m:literal, $t:literal, $p:literal, $a:expr, $b:expr) => {
        $crate::route_table::Op {
            method: $m,
            template: $t,
            path: $p,
            access: $a,
            body: Some($b),
        }
    };
}

/// Who may call an operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Access {
    /// No sign-in needed; no `security` in the OpenAPI document.
    Public,
    /// A signed-in user with one of these roles.
    Roles(&'static [Role]),
}

pub(crate) use Access::{Public, Roles};

/// One API operation.
#[derive(Debug)]
pub(crate) struct Op {
    pub(crate) method: &'static str,
    /// As in the OpenAPI document.
    pub(crate) template: &'static str,
    /// A concrete path to call (the ids exist in the seeded database).
    pub(crate) path: &'static str,
    pub(crate) access: Access,
    /// A well-formed JSON body for writes; `{PASSWORD}` stands for `helpers::PASSWORD`. Allowed callers must
    /// not change a session with it (the password change is sent with a wrong current password), except
    /// sign-out, which [`consumes_token`] names: it is called with a token of its own.
    pub(crate) body: Option<&'static str>,
}

pub(crate) const ANY_ROLE: &[Role] = &[
    Role::Admin,
    Role::Bureau,
    Role::Evaluator,
    Role::Finance,
    Role::Org,
];
pub(crate) const ADMIN: &[Role] = &[Role::Admin];
pub(crate) const ADMIN_FINANCE: &[Role] = &[Role::Admin, Role::Finance];

/// Every API operation: the foundation's here, the registry's in its own test modules.
fn routes() -> impl Iterator<Item = &'static Op> {
    ROUTES
        .iter()
        .chain(crate::registry_orgs::ROUTES)
        .chain(crate::registry_bases::ROUTES)
        .chain(crate::tenders::ROUTES)
        .chain(crate::checkpoints::ROUTES)
        .chain(crate::ledger::ROUTES)
        .chain(crate::ledger_tenders::ROUTES)
        .chain(crate::contracts::ROUTES)
        .chain(crate::spending::ROUTES)
        .chain(crate::people::ROUTES)
        .chain(crate::reports::ROUTES)
        .chain(crate::documents::ROUTES)
        .chain(crate::files::ROUTES)
}

/// The foundation's API operations. Keep in step with `src/routes`: the OpenAPI test fails on any difference.
const ROUTES: &[Op] = &[
    Op {
        method: "POST",
        template: "/api/v1/auth/login",
        path: "/api/v1/auth/login",
        access: Public,
        body: Some(r#"{"username": "bureau", "password": "{PASSWORD}"}"#),
    },
    Op {
        method: "POST",
        template: "/api/v1/auth/logout",
        path: "/api/v1/auth/logout",
        access: Roles(ANY_ROLE),
        body: Some("{}"),
    },
    Op {
        method: "GET",
        template: "/api/v1/me",
        path: "/api/v1/me",
        access: Roles(ANY_ROLE),
        body: None,
    },
    Op {
        method: "POST",
        template: "/api/v1/me/password",
        path: "/api/v1/me/password",
        access: Roles(ANY_ROLE),
        body: Some(
            r#"{"current_password": "not-the-current-password", "new_password": "route-table-new-password"}"#,
        ),
    },
    Op {
        method: "GET",
        template: "/api/v1/users",
        path: "/api/v1/users",
        access: Roles(ADMIN),
        body: None,
    },
    Op {
        method: "POST",
        template: "/api/v1/users",
        path: "/api/v1/users",
        access: Roles(ADMIN),
        body: Some(
            r#"{"username": "route-table-user", "display_name": "路由表用户", "role": "bureau", "email": null, "org_id": null, "password": "{PASSWORD}"}"#,
        ),
    },
    Op {
        method: "GET",
        template: "/api/v1/users/{id}",
        path: "/api/v1/users/1",
        access: Roles(ADMIN),
        body: None,
    },
    Op {
        method: "PATCH",
        template: "/api/v1/users/{id}",
        path: "/api/v1/users/1",
        access: Roles(ADMIN),
        body: Some(r#"{"display_name": "系统管理员"}"#),
    },
    Op {
        method: "GET",
        template: "/api/v1/audit-events",
        path: "/api/v1/audit-events",
        access: Roles(ADMIN_FINANCE),
        body: None,
    },
    Op {
        method: "GET",
        template: "/api/v1/audit-events/verify",
        path: "/api/v1/audit-events/verify",
        access: Roles(ADMIN_FINANCE),
        body: None,
    },
    Op {
        method: "GET",
        template: "/api/v1/audit-events/{seq}",
        path: "/api/v1/audit-events/1",
        access: Roles(ADMIN_FINANCE),
        body: None,
    },
    Op {
        method: "GET",
        template: "/api/v1/tasks",
        path: "/api/v1/tasks",
        access: Roles(ANY_ROLE),
        body: None,
    },
    Op {
        method: "GET",
        template: "/healthz",
        path: "/healthz",
        access: Public,
        body: None,
    },
    Op {
        method: "GET",
        template: "/readyz",
        path: "/readyz",
        access: Public,
        body: None,
    },
];

/// The protected pages and their roles, as the product must have them (pins `pages::PROTECTED`).
fn expected_pages() -> Vec<(&'static str, &'static str, &'static [Role])> {
    EXPECTED_PAGES
        .iter()
        .chain(crate::registry_orgs::EXPECTED_PAGES)
        .chain(crate::registry_bases::EXPECTED_PAGES)
        .chain(TENDER_PAGES)
        .chain(crate::ledger::EXPECTED_PAGES)
        .chain(crate::spending::EXPECTED_PAGES)
        .chain(crate::people::EXPECTED_PAGES)
        .chain(crate::reports::EXPECTED_PAGES)
        .copied()
        .collect()
}

fn page_posts() -> impl Iterator<Item = &'static (&'static str, &'static [Role], &'static str)> {
    PAGE_POSTS
        .iter()
        .chain(crate::registry_orgs::PAGE_POSTS)
        .chain(crate::registry_bases::PAGE_POSTS)
        .chain(crate::ledger::PAGE_POSTS)
}

const EXPECTED_PAGES: &[(&str, &str, &[Role])] = &[
    ("GET", "/dashboard", ANY_ROLE),
    ("GET", "/account", ANY_ROLE),
    ("GET", "/admin/users", ADMIN),
    ("GET", "/admin/users/new", ADMIN),
    ("GET", "/admin/users/1", ADMIN),
    ("GET", "/audit", ADMIN_FINANCE),
    ("GET", "/audit/1", ADMIN_FINANCE),
];

/// The tender pages (`src/web/tenders.rs`); `/tenders/1` is the opened tender of `opened_tender_fixture`.
const TENDER_PAGES: &[(&str, &str, &[Role])] = &[
    ("GET", "/tenders/new", &[Role::Bureau, Role::Admin]),
    ("GET", "/tenders/1/bid", &[Role::Org]),
    (
        "GET",
        "/tenders/1/report",
        &[Role::Bureau, Role::Admin, Role::Finance],
    ),
    ("GET", "/my/bids", &[Role::Org]),
    ("GET", "/evaluations", &[Role::Evaluator]),
    ("GET", "/evaluators", &[Role::Bureau, Role::Admin]),
];

/// Form posts of protected pages: (path, roles, form fields besides `csrf`). An allowed caller with a good
/// CSRF token gets a 422 form back (the fields are deliberately invalid), so nothing changes.
const PAGE_POSTS: &[(&str, &[Role], &str)] = &[
    (
        "/account/password",
        ANY_ROLE,
        "current_password=x&new_password=route-table-pw-1&confirm_password=route-table-pw-2",
    ),
    (
        "/admin/users/new",
        ADMIN,
        "username=&display_name=&role=&password=",
    ),
    (
        "/admin/users/1",
        ADMIN,
        "display_name=&email=&role=&org_id=&password=",
    ),
    // Tender pages (`/tenders/1` is the opened tender of `opened_tender_fixture`).
    (
        "/tenders/new",
        &[Role::Bureau, Role::Admin],
        "code=&title=&budget=x",
    ),
    ("/tenders/1/cancel", &[Role::Bureau, Role::Admin], "reason="),
    (
        "/tenders/1/negotiation-origin",
        &[Role::Bureau, Role::Admin],
        "failed_tender_id=x",
    ),
    (
        "/tenders/1/panel",
        &[Role::Bureau, Role::Admin],
        "note=none",
    ),
    (
        "/tenders/1/disqualify",
        &[Role::Bureau, Role::Admin],
        "bid_seq=1&reason=",
    ),
    ("/tenders/1/bid", &[Role::Org], "idempotency_key=&price=x"),
    (
        "/evaluators/links",
        &[Role::Bureau, Role::Admin],
        "user_id=0&organisation_id=0&relation=",
    ),
];

/// Pages anyone may see.
const PUBLIC_PAGES: &[&str] = &["/", "/login", "/checkpoints"];

const HTTP_METHODS: &[&str] = &[
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// The demo (or test-created) user who has this role.
fn user_of(role: Role) -> &'static str {
    match role {
        Role::Admin => "admin",
        Role::Bureau => "bureau",
        Role::Evaluator => "evaluator1",
        Role::Finance => "finance",
        Role::Org => "org1",
    }
}

fn allows(access: Access, role: Role) -> bool {
    match access {
        Public => true,
        Roles(r) => r.contains(&role),
    }
}

/// Sign-out revokes the token it is called with; the walks call it with a fresh one.
fn consumes_token(op: &Op) -> bool {
    op.template == "/api/v1/auth/logout"
}

fn body_of(op: &Op) -> Option<String> {
    op.body.map(|b| b.replace("{PASSWORD}", PASSWORD))
}

/// A client that keeps no cookies and follows no redirects: each request carries exactly what it is given.
fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

async fn call(
    http: &reqwest::Client,
    app: &TestApp,
    op: &Op,
    headers: &[(reqwest::header::HeaderName, String)],
) -> reqwest::Response {
    let mut r = http.request(op.method.parse().unwrap(), app.url(op.path));
    if op.body == Some(crate::files::MULTIPART_PDF) {
        let (ct, body) = crate::files::sample_upload();
        r = r.header(CONTENT_TYPE, ct).body(body);
    } else if let Some(body) = body_of(op) {
        serde_json::from_str::<Value>(&body).expect("sample body is JSON");
        r = r.header(CONTENT_TYPE, "application/json").body(body);
    }
    for (k, v) in headers {
        r = r.header(k.clone(), v.as_str());
    }
    r.send().await.unwrap()
}

/// A problem+json refusal with this status and code; `what` names the case in failure messages.
async fn expect_problem(r: reqwest::Response, status: u16, code: &str, what: &str) {
    assert_eq!(r.status().as_u16(), status, "{what}: status");
    let ct = r
        .headers()
        .get(CONTENT_TYPE)
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    assert!(
        ct.starts_with("application/problem+json"),
        "{what}: content type {ct}"
    );
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["code"], code, "{what}: {v}");
    assert_eq!(v["status"], status, "{what}: {v}");
    assert!(
        v["message"]["zh-CN"]
            .as_str()
            .is_some_and(|s| !s.is_empty()),
        "{what}: {v}"
    );
    assert!(
        v["message"]["en"].as_str().is_some_and(|s| !s.is_empty()),
        "{what}: {v}"
    );
}

/// Sign in every role (creating the org user first).
async fn role_tokens(app: &TestApp) -> Vec<(Role, String)> {
    app.create_user("org1", "org", Some(1), None).await;
    let mut out = Vec::new();
    for role in Role::ALL {
        out.push((role, app.token(user_of(role)).await));
    }
    out
}

fn token_of(tokens: &[(Role, String)], role: Role) -> &str {
    &tokens.iter().find(|(r, _)| *r == role).unwrap().1
}

async fn me_id(app: &TestApp, token: &str) -> i64 {
    let r = app.get("/api/v1/me", Some(token)).await;
    assert_eq!(r.status(), 200);
    r.json::<Value>().await.unwrap()["id"].as_i64().unwrap()
}

/// Claims the service would issue for this user: valid for an hour from now.
pub(crate) fn claims(user_id: i64, role: &str, tv: i64) -> Claims {
    let now = chrono::Utc::now().timestamp();
    Claims {
        sub: user_id.to_string(),
        role: role.into(),
        tv,
        iat: now,
        exp: now + 3600,
        iss: JWT_ISSUER.into(),
        aud: JWT_AUDIENCE.into(),
        jti: uuid::Uuid::new_v4().to_string(),
    }
}

pub(crate) fn sign(alg: Algorithm, secret: &str, c: &Claims) -> String {
    jsonwebtoken::encode(
        &Header::new(alg),
        c,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap()
}

/// An `alg: none` token: header and claims, empty signature.
fn unsigned(c: &Claims) -> String {
    let h = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
    let p = URL_SAFE_NO_PAD.encode(serde_json::to_vec(c).unwrap());
    format!("{h}.{p}.")
}

pub(crate) const OTHER_SECRET: &str = "another-jwt-secret-another-jwt-secret-987";

/// The table itself is sound: unique operations, concrete paths that fit their templates, roles listed.
fn check_table() {
    let mut seen = BTreeSet::new();
    for op in routes() {
        assert!(
            seen.insert((op.method, op.template)),
            "duplicate row {} {}",
            op.method,
            op.template
        );
        let (t, p): (Vec<&str>, Vec<&str>) = (
            op.template.split('/').collect(),
            op.path.split('/').collect(),
        );
        assert_eq!(t.len(), p.len(), "{} does not fit {}", op.path, op.template);
        for (ts, ps) in t.iter().zip(&p) {
            if ts.starts_with('{') {
                assert!(
                    ps.parse::<i64>().is_ok(),
                    "{} does not fit {}",
                    op.path,
                    op.template
                );
            } else {
                assert_eq!(ts, ps, "{} does not fit {}", op.path, op.template);
            }
        }
        if op.template.contains('{') {
            assert!(
                op.template
                    .split('/')
                    .filter(|s| s.starts_with('{'))
                    .count()
                    >= 1,
                "{}: path parameters are whole segments",
                op.template
            );
        }
        if let Roles(r) = op.access {
            assert!(
                !r.is_empty(),
                "{} {}: no role allowed",
                op.method,
                op.template
            );
        }
        assert_eq!(
            op.body.is_some(),
            op.method != "GET",
            "{} {}: writes carry a body, reads none",
            op.method,
            op.template
        );
    }
}

async fn openapi_matches_table(b: Backend) {
    check_table();
    let app = TestApp::spawn_with(
        &b,
        Options {
            registry_demo: true,
            ..Default::default()
        },
    )
    .await;
    let r = app.get("/api/v1/openapi.json", None).await;
    assert_eq!(r.status(), 200);
    let doc: Value = r.json().await.unwrap();
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"], "bearer",
        "{}",
        doc["components"]
    );

    // Tuples have no faithful schema in OpenAPI 3.1 as generated: none is left.
    let schemas = serde_json::to_string(&doc["components"]["schemas"]).unwrap();
    assert!(
        !schemas.contains("prefixItems"),
        "a tuple schema is left in the document"
    );
    assert_eq!(
        doc["components"]["schemas"]["Coverage"]["properties"]["bases_by_level"]["items"]["$ref"],
        "#/components/schemas/LevelCount"
    );
    let mut documented = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("path item") {
            if !HTTP_METHODS.contains(&method.as_str()) {
                continue;
            }
            // Every refusal is problem+json, and the shared layers' refusals are declared.
            let responses = operation["responses"].as_object().expect("responses");
            for (status, resp) in responses {
                if status.starts_with('4') || status.starts_with('5') {
                    let types: Vec<&String> = resp["content"]
                        .as_object()
                        .map(|c| c.keys().collect())
                        .unwrap_or_default();
                    assert_eq!(
                        types,
                        vec!["application/problem+json"],
                        "{method} {path} {status}"
                    );
                }
            }
            let mut must = vec!["400"];
            if operation.get("security").is_some() {
                must.extend(["401", "403"]);
            }
            if path.contains('{') {
                must.push("404");
            }
            if method != "get" {
                must.extend(["409", "413", "415", "422"]);
            }
            if method == "patch" || method == "put" {
                must.push("412");
            }
            for s in must {
                assert!(
                    responses.contains_key(s),
                    "{method} {path} does not declare {s}"
                );
            }
            let key = (method.to_uppercase(), path.clone());
            let row = routes()
                .find(|o| o.method == key.0 && o.template == key.1)
                .unwrap_or_else(|| {
                    panic!(
                        "{} {} is in the OpenAPI document but not in the route table",
                        key.0, key.1
                    )
                });
            match (row.access, operation.get("security")) {
                (Public, None) => {}
                (Public, Some(s)) => panic!(
                    "{} {} is public in the table but documents security {s}",
                    key.0, key.1
                ),
                (Roles(_), Some(s)) => {
                    let reqs = s
                        .as_array()
                        .unwrap_or_else(|| panic!("{} {}: security {s}", key.0, key.1));
                    assert!(!reqs.is_empty(), "{} {}: empty security", key.0, key.1);
                    for req in reqs {
                        assert!(
                            req.get("bearer").is_some(),
                            "{} {}: security requirement {req} is not bearer",
                            key.0,
                            key.1
                        );
                    }
                }
                (Roles(_), None) => panic!(
                    "{} {} needs sign-in but documents no security",
                    key.0, key.1
                ),
            }
            documented.insert(key);
        }
    }
    let table: BTreeSet<(String, String)> = routes()
        .map(|o| (o.method.to_string(), o.template.to_string()))
        .collect();
    let missing: Vec<_> = table.difference(&documented).collect();
    let extra: Vec<_> = documented.difference(&table).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "route table rows not documented: {missing:?}; documented operations not in the table: {extra:?}"
    );
    app.stop().await;
}

async fn api_refusals(b: Backend) {
    let app = TestApp::spawn_with(
        &b,
        Options {
            registry_demo: true,
            ..Default::default()
        },
    )
    .await;
    let http = http();
    let tender = crate::tenders::opened_tender_fixture(&app);
    assert_eq!(crate::files::document_fixture(&app, tender).await, 1);
    assert_eq!(crate::contracts::signed_contract_fixture(&app).await, 1);
    let tokens = role_tokens(&app).await;
    let admin = token_of(&tokens, Role::Admin).to_string();
    let admin_id = me_id(&app, &admin).await;
    let bureau_id = me_id(&app, token_of(&tokens, Role::Bureau)).await;

    // The forging helper makes tokens the service accepts; each bad token below differs in one thing.
    let valid = claims(admin_id, "admin", 0);
    let r = app
        .get(
            "/api/v1/me",
            Some(&sign(Algorithm::HS256, JWT_SECRET, &valid)),
        )
        .await;
    assert_eq!(
        r.status(),
        200,
        "a self-made token with the right claims must be accepted"
    );
    assert_eq!(r.json::<Value>().await.unwrap()["username"], "admin");

    // A user (an administrator, so no role could refuse) who is then deactivated.
    let gone_id = app.create_user("rt-gone", "admin", None, None).await;
    let gone = app.token("rt-gone").await;
    assert_eq!(app.get("/api/v1/me", Some(&gone)).await.status(), 200);
    let r = app
        .send_json(
            "PATCH",
            &format!("/api/v1/users/{gone_id}"),
            Some(&admin),
            &json!({"active": false}),
        )
        .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());

    // A user whose token predates their own password change.
    app.create_user("rt-stale", "admin", None, None).await;
    let stale = app.token("rt-stale").await;
    assert_eq!(app.get("/api/v1/me", Some(&stale)).await.status(), 200);
    let r = app
        .send_json(
            "POST",
            "/api/v1/me/password",
            Some(&stale),
            &json!({"current_password": PASSWORD, "new_password": "rt-stale-new-password"}),
        )
        .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let fresh = r.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        app.get("/api/v1/me", Some(&fresh)).await.status(),
        200,
        "the new token works"
    );

    let now = chrono::Utc::now().timestamp();
    let bearer = |t: &str| Some(format!("Bearer {t}"));
    let bad: Vec<(&str, Option<String>)> = vec![
        ("no token", None),
        ("malformed bearer", bearer("not-a-jwt")),
        ("basic scheme", Some("Basic abc".into())),
        (
            "bad signature",
            bearer(&sign(Algorithm::HS256, OTHER_SECRET, &valid)),
        ),
        (
            "expired",
            bearer(&sign(
                Algorithm::HS256,
                JWT_SECRET,
                &Claims {
                    iat: now - 7200,
                    exp: now - 3600,
                    ..valid.clone()
                },
            )),
        ),
        ("alg none", bearer(&unsigned(&valid))),
        (
            "wrong issuer",
            bearer(&sign(
                Algorithm::HS256,
                JWT_SECRET,
                &Claims {
                    iss: "not-sanshe".into(),
                    ..valid.clone()
                },
            )),
        ),
        (
            "wrong audience",
            bearer(&sign(
                Algorithm::HS256,
                JWT_SECRET,
                &Claims {
                    aud: "not-sanshe-api".into(),
                    ..valid.clone()
                },
            )),
        ),
        (
            "HS512 with the right secret",
            bearer(&sign(Algorithm::HS512, JWT_SECRET, &valid)),
        ),
        (
            "unknown user",
            bearer(&sign(
                Algorithm::HS256,
                JWT_SECRET,
                &claims(987_654, "admin", 0),
            )),
        ),
        (
            "role claim above the user's role",
            bearer(&sign(
                Algorithm::HS256,
                JWT_SECRET,
                &claims(bureau_id, "admin", 0),
            )),
        ),
        ("deactivated user", bearer(&gone)),
        ("stale token version", bearer(&stale)),
    ];
    let forged_cookies = [
        format!(
            "sanshe_session={}",
            sign(Algorithm::HS256, OTHER_SECRET, &valid)
        ),
        "sanshe_session=not-a-jwt".to_string(),
        format!("sanshe_session={}", unsigned(&valid)),
    ];

    // The document declares what the walk below meets.
    let doc: Value = app
        .get("/api/v1/openapi.json", None)
        .await
        .json()
        .await
        .unwrap();
    let documented = |op: &Op, s: u16| {
        doc["paths"][op.template][op.method.to_lowercase()]["responses"]
            .get(s.to_string())
            .is_some()
    };
    let before = app.snapshot();
    for op in routes().filter(|o| o.access != Public) {
        let row = format!("{} {}", op.method, op.path);
        for s in [401, 403] {
            assert!(
                documented(op, s),
                "{row}: {s} is not in the OpenAPI document"
            );
        }
        for (what, auth) in &bad {
            let headers: Vec<_> = auth.iter().map(|a| (AUTHORIZATION, a.clone())).collect();
            expect_problem(
                call(&http, &app, op, &headers).await,
                401,
                "unauthorized",
                &format!("{row}, {what}"),
            )
            .await;
        }
        for c in &forged_cookies {
            let r = call(&http, &app, op, &[(COOKIE, c.clone())]).await;
            expect_problem(
                r,
                401,
                "unauthorized",
                &format!("{row}, forged session cookie {c}"),
            )
            .await;
        }
        // A valid session cookie on an unsafe call needs the CSRF header matching the CSRF cookie.
        if op.method != "GET" {
            let session = format!("sanshe_session={admin}");
            let cases: [(&str, Vec<(reqwest::header::HeaderName, String)>); 3] = [
                (
                    "cookie without CSRF header",
                    vec![(COOKIE, session.clone())],
                ),
                (
                    "CSRF cookie but no header",
                    vec![(COOKIE, format!("{session}; sanshe_csrf=abc123"))],
                ),
                (
                    "CSRF header not matching the cookie",
                    vec![
                        (COOKIE, format!("{session}; sanshe_csrf=abc123")),
                        ("x-csrf-token".parse().unwrap(), "abc124".into()),
                    ],
                ),
            ];
            for (what, headers) in cases {
                expect_problem(
                    call(&http, &app, op, &headers).await,
                    403,
                    "csrf_failed",
                    &format!("{row}, {what}"),
                )
                .await;
            }
        }
        // Signed in with a role the row does not allow.
        for (role, token) in &tokens {
            if !allows(op.access, *role) {
                let r = call(
                    &http,
                    &app,
                    op,
                    &[(AUTHORIZATION, format!("Bearer {token}"))],
                )
                .await;
                expect_problem(r, 403, "forbidden", &format!("{row} as {}", role.as_str())).await;
            }
        }
    }
    assert_eq!(
        app.snapshot(),
        before,
        "a refused request changed the database"
    );

    // Every allowed role gets through (the sample bodies are well-formed, so no 400 either).
    for op in routes() {
        let row = format!("{} {}", op.method, op.path);
        match op.access {
            Public => {
                for auth in [None, bearer("not-a-jwt")] {
                    let headers: Vec<_> = auth.iter().map(|a| (AUTHORIZATION, a.clone())).collect();
                    let r = call(&http, &app, op, &headers).await;
                    let s = r.status().as_u16();
                    assert!(
                        documented(op, s),
                        "{row}: {s} is not in the OpenAPI document"
                    );
                    assert!(
                        r.status().is_success(),
                        "{row} is public, got {} with {auth:?}",
                        r.status()
                    );
                }
            }
            Roles(_) => {
                for (role, token) in tokens.iter().filter(|(r, _)| allows(op.access, *r)) {
                    let token = if consumes_token(op) {
                        app.token(user_of(*role)).await
                    } else {
                        token.clone()
                    };
                    let r = call(
                        &http,
                        &app,
                        op,
                        &[(AUTHORIZATION, format!("Bearer {token}"))],
                    )
                    .await;
                    let s = r.status().as_u16();
                    assert!(
                        documented(op, s),
                        "{row}: {s} is not in the OpenAPI document"
                    );
                    assert!(
                        ![400, 401, 403, 415].contains(&s) && s < 500,
                        "{row} as {}: {s} {}",
                        role.as_str(),
                        r.text().await.unwrap()
                    );
                }
                // The same through the session cookie (with the CSRF header for unsafe calls), as the
                // administrator, or the first allowed role where administrators are not allowed.
                let session = if consumes_token(op) {
                    app.token("admin").await
                } else if allows(op.access, Role::Admin) {
                    admin.clone()
                } else {
                    tokens
                        .iter()
                        .find(|(r, _)| allows(op.access, *r))
                        .map(|(_, t)| t.clone())
                        .expect("a role allowed")
                };
                let headers = if op.method == "GET" {
                    vec![(COOKIE, format!("sanshe_session={session}"))]
                } else {
                    vec![
                        (
                            COOKIE,
                            format!("sanshe_session={session}; sanshe_csrf=abc123"),
                        ),
                        ("x-csrf-token".parse().unwrap(), "abc123".into()),
                    ]
                };
                let r = call(&http, &app, op, &headers).await;
                let s = r.status().as_u16();
                assert!(
                    ![400, 401, 403, 415].contains(&s) && s < 500,
                    "{row} by session cookie: {s} {}",
                    r.text().await.unwrap()
                );
            }
        }
    }
    app.stop().await;
}

/// A request that is wrong in two ways, `what`: the input and (maybe) the caller.
struct Bad {
    what: String,
    method: &'static str,
    path: String,
    ctype: Option<&'static str>,
    body: Option<String>,
}

/// Variants of a row whose input is broken (body, content type, query value, path id).
fn broken_inputs(op: &Op) -> Vec<Bad> {
    let mut out = Vec::new();
    if op.method == "GET" {
        out.push(Bad {
            what: "query page=abc".into(),
            method: op.method,
            path: format!("{}?page=abc&per_page=x", op.path),
            ctype: None,
            body: None,
        });
    } else {
        for (ctype, body) in [
            ("application/json", "{"),
            ("application/json", "[]"),
            ("text/plain", "hello"),
        ] {
            out.push(Bad {
                what: format!("{ctype} body {body:?}"),
                method: op.method,
                path: op.path.to_string(),
                ctype: Some(ctype),
                body: Some(body.into()),
            });
        }
    }
    if op.template.contains('{') {
        // Every templated segment (`check_table` holds each to be a whole segment) becomes non-numeric.
        let path: Vec<&str> = op
            .template
            .split('/')
            .zip(op.path.split('/'))
            .map(|(t, p)| if t.starts_with('{') { "abc" } else { p })
            .collect();
        out.push(Bad {
            what: "non-numeric path id".into(),
            method: op.method,
            path: path.join("/"),
            ctype: op.body.map(|_| "application/json"),
            body: body_of(op),
        });
    }
    out
}

/// Refusals come before input errors: an unauthorised caller (no token, a revoked token, a role that is not
/// allowed) learns nothing about the input, however broken, and gets 401/403, never 400/404/415. Every
/// violation is collected, so one run lists them all.
async fn refusal_precedes_input_errors(b: Backend) {
    let app = TestApp::spawn_with(
        &b,
        Options {
            registry_demo: true,
            ..Default::default()
        },
    )
    .await;
    let http = http();
    let tender = crate::tenders::opened_tender_fixture(&app);
    assert_eq!(crate::files::document_fixture(&app, tender).await, 1);
    let tokens = role_tokens(&app).await;
    let admin = token_of(&tokens, Role::Admin).to_string();
    let gone_id = app.create_user("rt-gone", "admin", None, None).await;
    let gone = app.token("rt-gone").await;
    let r = app
        .send_json(
            "PATCH",
            &format!("/api/v1/users/{gone_id}"),
            Some(&admin),
            &json!({"active": false}),
        )
        .await;
    assert_eq!(r.status(), 200);

    let mut callers: Vec<(String, Option<String>, u16, &str)> = vec![
        ("no token".into(), None, 401, "unauthorized"),
        (
            "bad signature".into(),
            Some(sign(Algorithm::HS256, OTHER_SECRET, &claims(1, "admin", 0))),
            401,
            "unauthorized",
        ),
        ("deactivated user".into(), Some(gone), 401, "unauthorized"),
    ];
    let before = app.snapshot();
    let mut wrong = Vec::new();
    for op in routes().filter(|o| o.access != Public) {
        callers.truncate(3);
        for (role, token) in tokens.iter().filter(|(r, _)| !allows(op.access, *r)) {
            callers.push((
                format!("role {}", role.as_str()),
                Some(token.clone()),
                403,
                "forbidden",
            ));
        }
        for bad in broken_inputs(op) {
            for (who, token, status, code) in &callers {
                let mut r = http.request(bad.method.parse().unwrap(), app.url(&bad.path));
                if let Some(t) = token {
                    r = r.bearer_auth(t);
                }
                if let (Some(c), Some(b)) = (bad.ctype, &bad.body) {
                    r = r.header(CONTENT_TYPE, c).body(b.clone());
                }
                let r = r.send().await.unwrap();
                let got = r.status().as_u16();
                let v: Value = r.json().await.unwrap_or(Value::Null);
                if got != *status || v["code"] != *code {
                    wrong.push(format!(
                        "{} {} ({}) by {who}: want {status} {code}, got {got} {}",
                        bad.method, bad.path, bad.what, v["code"]
                    ));
                }
            }
        }
    }
    // Pages: a role that may not see the page is refused before its query or path is judged.
    for (_, path, roles) in expected_pages() {
        let mut variants = vec![format!("{path}?page=abc")];
        if path.ends_with("/1") {
            variants.push(path.replace("/1", "/abc"));
        }
        for v in variants {
            for (role, token) in tokens.iter().filter(|(r, _)| !roles.contains(r)) {
                let r = http
                    .get(app.url(&v))
                    .header(COOKIE, format!("sanshe_session={token}"))
                    .send()
                    .await
                    .unwrap();
                if r.status() != 403 {
                    wrong.push(format!(
                        "page GET {v} as {}: want 403, got {}",
                        role.as_str(),
                        r.status()
                    ));
                }
            }
            let r = http.get(app.url(&v)).send().await.unwrap();
            if r.status() != 303 {
                wrong.push(format!(
                    "page GET {v} without a session: want 303, got {}",
                    r.status()
                ));
            }
        }
    }
    assert_eq!(
        app.snapshot(),
        before,
        "a refused request changed the database"
    );
    assert!(
        wrong.is_empty(),
        "input errors answered before the refusal ({}):\n{}",
        wrong.len(),
        wrong.join("\n")
    );
    app.stop().await;
}

fn form_url(path: &str) -> String {
    let q: String = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("next", path)
        .finish();
    format!("/login?{q}")
}

fn is_html(r: &reqwest::Response) -> bool {
    r.headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|c| c.starts_with("text/html"))
}

/// A 403 page whose message is the role refusal (not, say, a CSRF failure).
pub(crate) async fn expect_role_page(r: reqwest::Response, what: &str) {
    assert_eq!(r.status(), 403, "{what}");
    assert!(is_html(&r), "{what}: not HTML");
    let html = r.text().await.unwrap();
    assert!(
        html.contains("您的角色无权执行此操作") || html.contains("Your role is not allowed"),
        "{what}: {html}"
    );
}

async fn page_refusals(b: Backend) {
    assert_eq!(
        sanshe::pages::all_protected().copied().collect::<Vec<_>>(),
        expected_pages(),
        "protected pages or their roles changed"
    );
    let app = TestApp::spawn_with(
        &b,
        Options {
            registry_demo: true,
            ..Default::default()
        },
    )
    .await;
    let http = http();
    let tender = crate::tenders::opened_tender_fixture(&app);
    assert_eq!(crate::files::document_fixture(&app, tender).await, 1);
    let tokens = role_tokens(&app).await;
    let admin_id = me_id(&app, token_of(&tokens, Role::Admin)).await;
    let forged = [
        format!(
            "sanshe_session={}",
            sign(
                Algorithm::HS256,
                OTHER_SECRET,
                &claims(admin_id, "admin", 0)
            )
        ),
        "sanshe_session=not-a-jwt".to_string(),
    ];

    for path in PUBLIC_PAGES {
        let r = http.get(app.url(path)).send().await.unwrap();
        assert_eq!(r.status(), 200, "public page {path}");
        assert!(is_html(&r), "{path}");
    }

    let before = app.snapshot();
    for (method, path, roles) in sanshe::pages::all_protected() {
        assert_eq!(*method, "GET", "only GET pages are listed in PROTECTED");
        let login = form_url(path);
        let r = http.get(app.url(path)).send().await.unwrap();
        assert_eq!(r.status(), 303, "{path} without a session");
        assert_eq!(
            r.headers()[LOCATION],
            login.as_str(),
            "{path} without a session"
        );
        for c in &forged {
            let r = http
                .get(app.url(path))
                .header(COOKIE, c.as_str())
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 303, "{path} with {c}");
            assert_eq!(r.headers()[LOCATION], login.as_str(), "{path} with {c}");
        }
        for (role, token) in &tokens {
            let r = http
                .get(app.url(path))
                .header(COOKIE, format!("sanshe_session={token}"))
                .send()
                .await
                .unwrap();
            let what = format!("{path} as {}", role.as_str());
            if roles.contains(role) {
                assert_eq!(r.status(), 200, "{what}");
                assert!(is_html(&r), "{what}: not HTML");
            } else {
                expect_role_page(r, &what).await;
            }
        }
    }

    // Form posts: sign-in first, then the role, then the CSRF token.
    for (path, roles, fields) in page_posts() {
        let post = |cookie: Option<String>, body: String| {
            let mut r = http
                .post(app.url(path))
                .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(body);
            if let Some(c) = cookie {
                r = r.header(COOKIE, c);
            }
            r.send()
        };
        let with_csrf = format!("csrf=tok123&{fields}");
        let r = post(Some("sanshe_csrf=tok123".into()), with_csrf.clone())
            .await
            .unwrap();
        assert_eq!(r.status(), 303, "POST {path} without a session");
        assert!(
            r.headers()[LOCATION]
                .to_str()
                .unwrap()
                .starts_with("/login?next="),
            "POST {path}"
        );
        for c in &forged {
            let r = post(Some(format!("{c}; sanshe_csrf=tok123")), with_csrf.clone())
                .await
                .unwrap();
            assert_eq!(r.status(), 303, "POST {path} with {c}");
            assert!(
                r.headers()[LOCATION]
                    .to_str()
                    .unwrap()
                    .starts_with("/login?next="),
                "POST {path}"
            );
        }
        for (role, token) in &tokens {
            let what = format!("POST {path} as {}", role.as_str());
            let good = post(
                Some(format!("sanshe_session={token}; sanshe_csrf=tok123")),
                with_csrf.clone(),
            )
            .await
            .unwrap();
            if roles.contains(role) {
                assert_eq!(good.status(), 422, "{what}: {}", good.text().await.unwrap());
                let r = post(Some(format!("sanshe_session={token}")), fields.to_string())
                    .await
                    .unwrap();
                assert_eq!(r.status(), 403, "{what} without the CSRF token");
            } else {
                expect_role_page(good, &what).await;
            }
        }
    }
    assert_eq!(
        app.snapshot(),
        before,
        "a refused page request changed the database"
    );
    app.stop().await;
}

/// `HEAD` is answered for every `GET` route, API and pages (RFC 9110 §9.3.2): the status and content type of
/// the `GET`, and no content.
async fn head_for_every_get(b: Backend) {
    let app = TestApp::spawn_with(
        &b,
        Options {
            registry_demo: true,
            ..Default::default()
        },
    )
    .await;
    let http = http();
    let tender = crate::tenders::opened_tender_fixture(&app);
    assert_eq!(crate::files::document_fixture(&app, tender).await, 1);
    let tokens = role_tokens(&app).await;
    let mut found = 0;
    let api = routes().filter(|op| op.method == "GET").map(|op| {
        let who = match op.access {
            Public => None,
            Roles(r) => Some(token_of(&tokens, r[0]).to_string()),
        };
        (op.path, who.map(|t| (AUTHORIZATION, format!("Bearer {t}"))))
    });
    let pages = PUBLIC_PAGES
        .iter()
        .map(|p| (*p, None))
        .chain(expected_pages().into_iter().map(|(_, path, roles)| {
            let t = token_of(&tokens, roles[0]);
            (path, Some((COOKIE, format!("sanshe_session={t}"))))
        }));
    for (path, header) in api.chain(pages) {
        let send = |m: reqwest::Method| {
            let mut r = http.request(m, app.url(path));
            if let Some((k, v)) = &header {
                r = r.header(k.clone(), v.as_str());
            }
            r.send()
        };
        let get = send(reqwest::Method::GET).await.unwrap();
        let head = send(reqwest::Method::HEAD).await.unwrap();
        assert_eq!(head.status(), get.status(), "HEAD {path}");
        assert_eq!(
            head.headers().get(CONTENT_TYPE),
            get.headers().get(CONTENT_TYPE),
            "HEAD {path}: content type"
        );
        assert!(head.bytes().await.unwrap().is_empty(), "HEAD {path}: body");
        if get.status() == 200 {
            found += 1;
        }
    }
    // Most routes answer 200 to their first allowed role; a few need a particular record (a panel seat).
    assert!(found > 60, "only {found} GET routes answered 200");
    app.stop().await;
}

both_backends!(
    openapi_matches_table,
    api_refusals,
    refusal_precedes_input_errors,
    page_refusals,
    head_for_every_get
);

/// Public pages besides [`PUBLIC_PAGES`], for the walks in the browser (the ids exist in the fixture).
const MORE_PUBLIC_PAGES: &[&str] = &[
    "/directory",
    "/bases",
    "/bases/1",
    "/tenders",
    "/tenders/1",
    "/tenders/1/commitments",
    "/contracts",
    "/contracts/1",
    "/people",
];

fn cjk(c: char) -> bool {
    ('\u{4e00}'..='\u{9fff}').contains(&c) || ('\u{3000}'..='\u{303f}').contains(&c)
}

/// Issue 14: no page of the route table scrolls sideways on a phone (390 px), signed out and for each role
/// on every page it may open, in both languages; on an English page no element's whole text is one of the
/// interface's Chinese strings (the translation table's; data such as names only contains them) outside a
/// passage marked `lang="zh-CN"` or `translate="no"`, and no full-width punctuation touches an English word;
/// no page shows a translation key or a vocabulary key in brackets (（city）); a missing page keeps the
/// signed-in header. Rendering does not depend on the database, so SQLite only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue14_every_page_fits_a_phone_in_one_language() {
    use crate::browser::Driver;
    let app = TestApp::spawn_with(
        &Backend::Sqlite,
        Options {
            registry_demo: true,
            ..Default::default()
        },
    )
    .await;
    let tender = crate::tenders::opened_tender_fixture(&app);
    assert_eq!(crate::files::document_fixture(&app, tender).await, 1);
    assert_eq!(crate::contracts::signed_contract_fixture(&app).await, 1);
    let tokens = role_tokens(&app).await;
    // A tender open for bids, and an organisation that may bid on it: the bid form itself.
    let r = app
        .send_json(
            "POST",
            "/api/v1/tenders",
            Some(token_of(&tokens, Role::Bureau)),
            &crate::tenders::tender_body_at("RT-OPEN", chrono::Utc::now()),
        )
        .await;
    assert_eq!(r.status(), 201);
    let open = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let r = app
        .send_json(
            "POST",
            &format!("/api/v1/tenders/{open}/publish"),
            Some(token_of(&tokens, Role::Bureau)),
            &json!({}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let bidder = crate::tenders::bidders(&app, 1).remove(0).user;
    let open_pages = [format!("/tenders/{open}"), format!("/tenders/{open}/bid")];
    let zh_strings: Vec<&str> = sanshe::i18n::all_strings()
        .map(|(_, zh, _)| *zh)
        .filter(|z| z.chars().any(cjk))
        .collect();
    let keys: Vec<&str> = sanshe::i18n::all_strings()
        .map(|(k, _, _)| *k)
        .filter(|k| k.contains('.'))
        .collect();
    let mut driver = Driver::start();
    let browser = driver.connect().await;
    browser.resize(390, 844).await;
    let (mut wide, mut mixed, mut raw, mut punct) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut seen = 0;
    for who in [
        None,
        Some(Role::Admin),
        Some(Role::Bureau),
        Some(Role::Evaluator),
        Some(Role::Finance),
        Some(Role::Org),
    ] {
        browser
            .cmd(reqwest::Method::DELETE, "/cookie", None)
            .await
            .unwrap();
        let mut pages: Vec<&str> = PUBLIC_PAGES
            .iter()
            .chain(MORE_PUBLIC_PAGES)
            .copied()
            .chain([open_pages[0].as_str()])
            .collect();
        if let Some(role) = who {
            let user = if role == Role::Org {
                pages.push(open_pages[1].as_str());
                bidder.as_str()
            } else {
                user_of(role)
            };
            browser.sign_in(&app, user, "/dashboard").await;
            pages.retain(|p| *p != "/login");
            pages.extend(
                expected_pages()
                    .into_iter()
                    .filter(|(_, _, roles)| roles.contains(&role))
                    .map(|(_, path, _)| path),
            );
        }
        let who = who.map(|r| r.as_str()).unwrap_or("public");
        for lang in ["zh-CN", "en"] {
            browser
                .goto(&app.url(&format!("/lang/{lang}?next=/")))
                .await;
            for path in &pages {
                browser.goto(&app.url(path)).await;
                let p = browser.page().await.unwrap();
                assert_eq!(p.lang, lang, "{who} {path}");
                if *path == open_pages[1] {
                    browser
                        .find("#bid-form")
                        .await
                        .expect("the bid form itself");
                }
                let w = browser
                    .script("return [window.innerWidth, document.documentElement.scrollWidth]")
                    .await;
                let (window, width) = (w[0].as_i64().unwrap(), w[1].as_i64().unwrap());
                assert_eq!(window, 390, "a phone's width");
                if width > window {
                    wide.push(format!("{who} {lang} {path}: {width} px"));
                }
                if lang == "en" {
                    // The text of every element without element children, except where the page marks a
                    // passage as Chinese (the 三社联动 report's body, the CSV import's column names) or as
                    // words not to translate (a tender's own criterion names, which may equal a label).
                    let leaves = browser
                        .script(
                            "return Array.from(document.body.querySelectorAll('*'))\
                             .filter(e => e.children.length === 0 && e.closest('[lang]').lang !== 'zh-CN' && !e.closest('[translate=no]'))\
                             .map(e => e.textContent.trim()).filter(t => t.length > 0);",
                        )
                        .await;
                    for t in leaves.as_array().unwrap() {
                        let t = t.as_str().unwrap();
                        if zh_strings.contains(&t) {
                            mixed.push(format!("{who} {path}: {t}"));
                        }
                    }
                }
                for k in keys.iter().filter(|k| p.text.contains(**k)) {
                    raw.push(format!("{who} {lang} {path}: {k}"));
                }
                let chars: Vec<char> = p.text.chars().collect();
                for (i, w) in chars.windows(2).enumerate() {
                    let full = |c: char| "：，（）；".contains(c);
                    // English words against full-width punctuation: the page's own words, not data.
                    if lang == "en"
                        && ((w[0].is_ascii_alphabetic() && full(w[1]))
                            || (full(w[0]) && w[0] != '）' && w[1].is_ascii_alphabetic()))
                    {
                        let from = i.saturating_sub(12);
                        let near: String = chars[from..(i + 12).min(chars.len())].iter().collect();
                        punct.push(format!("{who} {path}: …{near}…"));
                    }
                    // A raw vocabulary key in full-width brackets: （city）.
                    if w[0] == '（' {
                        let word: String = chars[i + 1..]
                            .iter()
                            .take_while(|c| c.is_ascii_lowercase() || **c == '_')
                            .collect();
                        if word.len() >= 3 && chars.get(i + 1 + word.len()) == Some(&'）') {
                            raw.push(format!("{who} {lang} {path}: （{word}）"));
                        }
                    }
                }
                seen += 1;
            }
            // An error page keeps the header: the signed-in person and the way out.
            browser.goto(&app.url("/no-such-page")).await;
            let header = browser
                .script("return [!!document.getElementById('who'), !!document.getElementById('logout'), !!document.getElementById('login-link')];")
                .await;
            let signed_in = who != "public";
            assert_eq!(
                header,
                json!([signed_in, signed_in, !signed_in]),
                "{who} {lang}: the 404 page's header"
            );
        }
    }
    browser.close().await;
    assert!(seen > 150, "{seen} pages");
    assert!(wide.is_empty(), "wider than a phone: {wide:#?}");
    assert!(mixed.is_empty(), "Chinese on English pages: {mixed:#?}");
    assert!(raw.is_empty(), "raw keys: {raw:#?}");
    assert!(
        punct.is_empty(),
        "full-width punctuation in English: {punct:#?}"
    );
    app.stop().await;
}

//! Promises of the README and docs/ARCHITECTURE.md that no other test held the product to: sessions ended by
//! an administrator's password reset or role change, the `user create` password paths, `/readyz`, security
//! headers, all-or-nothing writes, and the tender API's cancel and draft edit.

use std::io::Write;
use std::process::{Command, Stdio};

use reqwest::header::LOCATION;
use serde_json::{Value, json};

use crate::both_backends;
use crate::helpers::*;

async fn me(app: &TestApp, token: &str) -> Value {
    let r = app.get("/api/v1/me", Some(token)).await;
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

/// The page client's session still opens the dashboard (true) or is sent to sign in (false).
async fn page_session_alive(app: &TestApp, c: &reqwest::Client) -> bool {
    let r = c.get(app.url("/dashboard")).send().await.unwrap();
    match r.status().as_u16() {
        200 => true,
        303 => {
            assert_eq!(r.headers()[LOCATION], "/login?next=%2Fdashboard");
            false
        }
        s => panic!("dashboard answered {s}"),
    }
}

async fn api_session_alive(app: &TestApp, token: &str) -> bool {
    let r = app.get("/api/v1/me", Some(token)).await;
    match r.status().as_u16() {
        200 => true,
        401 => {
            problem(r, 401, "unauthorized").await;
            false
        }
        s => panic!("/api/v1/me answered {s}"),
    }
}

async fn patch_user(app: &TestApp, admin: &str, id: i64, body: Value) {
    let r = app
        .send_json("PATCH", &format!("/api/v1/users/{id}"), Some(admin), &body)
        .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
}

/// README: the administrator resets passwords and changes roles; either ends the user's live sessions (API
/// tokens and page cookies), while an edit of the display name does not.
async fn admin_reset_and_role_change_end_sessions(b: Backend) {
    let app = TestApp::spawn(&b).await;
    let admin = app.token("admin").await;

    // Password reset from the administrator's page.
    let finance_token = app.token("finance").await;
    let finance_page = sign_in(&app, "finance").await;
    let finance_id = me(&app, &finance_token).await["id"].as_i64().unwrap();
    assert!(api_session_alive(&app, &finance_token).await);
    assert!(page_session_alive(&app, &finance_page).await);
    let admin_page = sign_in(&app, "admin").await;
    let html = admin_page
        .get(app.url(&format!("/admin/users/{finance_id}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let r = admin_page
        .post(app.url(&format!("/admin/users/{finance_id}")))
        .form(&[
            ("csrf", csrf_of(&html).as_str()),
            ("display_name", "财务"),
            ("email", ""),
            ("role", "finance"),
            ("org_id", ""),
            ("password", "reset-by-admin-77"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
    assert_eq!(
        r.headers()[LOCATION],
        format!("/admin/users/{finance_id}").as_str()
    );
    assert!(!api_session_alive(&app, &finance_token).await);
    assert!(!page_session_alive(&app, &finance_page).await);
    let r = app
        .send_json(
            "POST",
            "/api/v1/auth/login",
            None,
            &json!({"username": "finance", "password": PASSWORD}),
        )
        .await;
    assert_eq!(r.status(), 401, "the old password no longer opens");
    let fresh = app.token_with("finance", "reset-by-admin-77").await;
    assert!(api_session_alive(&app, &fresh).await);

    // Role change through the API; changing it back does not revive the old sessions.
    let bureau_token = app.token("bureau").await;
    let bureau_page = sign_in(&app, "bureau").await;
    let bureau_id = me(&app, &bureau_token).await["id"].as_i64().unwrap();
    assert!(page_session_alive(&app, &bureau_page).await);
    patch_user(&app, &admin, bureau_id, json!({"role": "evaluator"})).await;
    assert!(!api_session_alive(&app, &bureau_token).await);
    assert!(!page_session_alive(&app, &bureau_page).await);
    let as_evaluator = app.token("bureau").await;
    assert_eq!(me(&app, &as_evaluator).await["role"], "evaluator");
    patch_user(&app, &admin, bureau_id, json!({"role": "bureau"})).await;
    assert!(!api_session_alive(&app, &bureau_token).await);
    assert!(!page_session_alive(&app, &bureau_page).await);
    assert!(!api_session_alive(&app, &as_evaluator).await);
    let again = app.token("bureau").await;
    assert_eq!(me(&app, &again).await["role"], "bureau");

    // A display-name edit leaves sessions alone.
    let ev_token = app.token("evaluator1").await;
    let ev_page = sign_in(&app, "evaluator1").await;
    let ev_id = me(&app, &ev_token).await["id"].as_i64().unwrap();
    patch_user(&app, &admin, ev_id, json!({"display_name": "评审专家一"})).await;
    assert!(api_session_alive(&app, &ev_token).await);
    assert!(page_session_alive(&app, &ev_page).await);
    app.stop().await;
}

// ---------- `sanshe user create` ----------

fn sanshe(db: &TestDb) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_sanshe"));
    c.env("DATABASE_URL", db.url())
        .env("SANSHE_DATA_DIR", &db.dir)
        .env("SANSHE_LOG", "info")
        .env_remove("SANSHE_DEMO_PASSWORD")
        .env_remove("SANSHE_NEW_PASSWORD")
        .env_remove("SANSHE_JWT_SECRET")
        .env_remove("SMTP_URL");
    c
}

/// Run with `input` on standard input (a pipe, so not a terminal).
fn run_with_stdin(mut c: Command, input: &str) -> (i32, String, String) {
    let mut child = c
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let o = child.wait_with_output().unwrap();
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

fn create_args(name: &str) -> [&str; 6] {
    ["user", "create", "--username", name, "--role", "bureau"]
}

fn password_opens(db: &TestDb, username: &str, pw: &str) -> bool {
    let hash = sanshe::users::find_by_username(&mut db.conn(), username)
        .unwrap()
        .unwrap_or_else(|| panic!("user {username} was not created"))
        .password_hash;
    assert!(!hash.contains(pw), "the password is stored only as a hash");
    sanshe::auth::password::verify(pw, &hash)
}

/// README: `user create` takes the password from SANSHE_NEW_PASSWORD, or one line on standard input, or
/// generates one and prints it once. (cli.rs covers the environment variable alone.)
async fn user_create_password_paths(b: Backend) {
    let db = TestDb::new(&b);
    let mut m = sanshe(&db);
    m.arg("migrate").stdin(Stdio::null());
    let o = m.output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));

    // One line on standard input: only the first line, without its line end.
    let mut c = sanshe(&db);
    c.args(create_args("from-stdin"));
    let (code, out, err) = run_with_stdin(c, "stdin-pass-word-1\nsecond-line-ignored\n");
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("created user from-stdin"), "{out}");
    assert!(!out.contains("shown once") && !out.contains("stdin-pass-word-1"));
    assert!(
        !err.contains("stdin-pass-word-1"),
        "the password reached the log"
    );
    assert!(password_opens(&db, "from-stdin", "stdin-pass-word-1"));
    assert!(!password_opens(
        &db,
        "from-stdin",
        "stdin-pass-word-1\nsecond-line-ignored"
    ));

    let mut c = sanshe(&db);
    c.args(create_args("from-crlf"));
    let (code, _, err) = run_with_stdin(c, "crlf-pass-word-2\r\n");
    assert_eq!(code, 0, "{err}");
    assert!(password_opens(&db, "from-crlf", "crlf-pass-word-2"));

    // The environment variable comes first, whatever is on standard input.
    let mut c = sanshe(&db);
    c.args(create_args("env-first"))
        .env("SANSHE_NEW_PASSWORD", "env-pass-word-3");
    let (code, _, err) = run_with_stdin(c, "stdin-pass-word-3\n");
    assert_eq!(code, 0, "{err}");
    assert!(password_opens(&db, "env-first", "env-pass-word-3"));
    assert!(!password_opens(&db, "env-first", "stdin-pass-word-3"));

    // An empty standard input is no password: refused, nobody created.
    let mut c = sanshe(&db);
    c.args(create_args("empty-stdin"));
    let (code, _, err) = run_with_stdin(c, "");
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("password"), "{err}");
    assert!(
        sanshe::users::find_by_username(&mut db.conn(), "empty-stdin")
            .unwrap()
            .is_none()
    );

    // On a terminal without the variable: generated, printed once. `script` gives the command a terminal.
    let bin = env!("CARGO_BIN_EXE_sanshe");
    let mut c = sanshe(&db);
    c.args([
        "-qec",
        &format!("{bin} user create --username generated --role bureau"),
        "/dev/null",
    ]);
    let mut c2 = Command::new("script");
    for (k, v) in c.get_envs() {
        match v {
            Some(v) => c2.env(k, v),
            None => c2.env_remove(k),
        };
    }
    c2.args(c.get_args()).stdin(Stdio::null());
    let o = c2.output().expect("`script` (util-linux) is installed");
    let out = String::from_utf8_lossy(&o.stdout).replace('\r', "");
    assert!(o.status.success(), "{out}");
    assert!(out.contains("created user generated"), "{out}");
    let pw = out
        .lines()
        .find_map(|l| l.strip_prefix("password (shown once): "))
        .unwrap_or_else(|| panic!("no generated password printed: {out}"))
        .trim()
        .to_string();
    assert_eq!(pw.chars().count(), 16, "{pw}");
    assert_eq!(out.matches(&pw).count(), 1, "printed exactly once: {out}");
    assert!(password_opens(&db, "generated", &pw));
}

// ---------- security headers ----------

fn assert_security_headers(r: &reqwest::Response, what: &str) {
    let h = r.headers();
    let get = |k: &str| {
        h.get(k)
            .unwrap_or_else(|| panic!("{what}: no {k} header"))
            .to_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(get("x-content-type-options"), "nosniff", "{what}");
    assert_eq!(get("referrer-policy"), "same-origin", "{what}");
    assert_eq!(get("x-frame-options"), "DENY", "{what}");
    let csp = get("content-security-policy");
    for part in ["default-src 'self'", "frame-ancestors 'none'"] {
        assert!(csp.contains(part), "{what}: CSP {csp}");
    }
    let id = get("x-request-id");
    assert!(
        id.len() == 32 && id.chars().all(|c| c.is_ascii_hexdigit()),
        "{what}: request id {id}"
    );
}

/// ARCHITECTURE: the middleware sets security headers and a request id on every answer.
async fn security_headers_everywhere(b: Backend) {
    let app = TestApp::spawn(&b).await;
    let token = app.token("admin").await;
    let page = sign_in(&app, "admin").await;
    let cases: Vec<(&str, reqwest::Response, u16)> = vec![
        ("home page", app.get("/", None).await, 200),
        (
            "signed-in page",
            page.get(app.url("/dashboard")).send().await.unwrap(),
            200,
        ),
        ("API answer", app.get("/api/v1/me", Some(&token)).await, 200),
        ("API refusal", app.get("/api/v1/me", None).await, 401),
        ("page 404", app.get("/no-such-page", None).await, 404),
        ("API 404", app.get("/api/v1/no-such-thing", None).await, 404),
        ("page redirect", app.get("/admin/users", None).await, 303),
        ("health", app.get("/readyz", None).await, 200),
    ];
    let mut ids = std::collections::BTreeSet::new();
    for (what, r, status) in &cases {
        assert_eq!(r.status().as_u16(), *status, "{what}");
        assert_security_headers(r, what);
        ids.insert(r.headers()["x-request-id"].to_str().unwrap().to_string());
    }
    assert_eq!(ids.len(), cases.len(), "each answer has its own request id");
    app.stop().await;
}

both_backends!(
    admin_reset_and_role_change_end_sessions,
    user_create_password_paths,
    security_headers_everywhere,
);

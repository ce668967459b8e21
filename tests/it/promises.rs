//! Promises of the README and docs/ARCHITECTURE.md that no other test held the product to: sessions ended by
//! an administrator's password reset or role change, the `user create` password paths, `/readyz`, security
//! headers, all-or-nothing writes, mail back-off and lease, the tender API's cancel and draft edit, the panel
//! size above ¥10 million and the award withheld from a winner no longer eligible.

use std::io::Write;
use std::process::{Command, Stdio};

use std::sync::Arc;
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
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
        ("API browser", app.get("/api/docs/", None).await, 200),
        (
            "API browser script",
            app.get("/api/docs/swagger-initializer.js", None).await,
            200,
        ),
    ];
    let mut ids = std::collections::BTreeSet::new();
    for (what, r, status) in &cases {
        assert_eq!(r.status().as_u16(), *status, "{what}");
        assert_security_headers(r, what);
        ids.insert(r.headers()["x-request-id"].to_str().unwrap().to_string());
    }
    assert_eq!(ids.len(), cases.len(), "each answer has its own request id");
    // API answers (personal data, a caller's own view) are never kept by a cache or the browser's history.
    for (what, r, _) in cases.iter().filter(|(w, _, _)| w.starts_with("API")) {
        assert_eq!(r.headers()["cache-control"], "no-store", "{what}");
    }
    for path in [
        "/api/v1/organisations/1",
        "/api/v1/social-workers",
        "/api/v1/users",
    ] {
        let r = app.get(path, Some(&token)).await;
        assert_eq!(r.headers()["cache-control"], "no-store", "{path}");
    }
    app.stop().await;
}

// ---------- /readyz ----------

#[derive(diesel::QueryableByName)]
struct Version {
    #[diesel(sql_type = diesel::sql_types::Text)]
    version: String,
}

fn newest_migration(c: &mut sanshe::db::DbConn) -> String {
    use diesel::RunQueryDsl;
    let q = diesel::sql_query("SELECT MAX(version) AS version FROM __diesel_schema_migrations");
    let v: Vec<Version> = match c {
        sanshe::db::DbConn::Sqlite(c) => q.load(c).unwrap(),
        sanshe::db::DbConn::Pg(c) => q.load(c).unwrap(),
    };
    v.into_iter().next().unwrap().version
}

async fn readyz(base: &str) -> (u16, Value) {
    let r = client().get(format!("{base}/readyz")).send().await.unwrap();
    let s = r.status().as_u16();
    (s, r.json().await.unwrap_or(Value::Null))
}

/// A TCP relay to PostgreSQL that the test can cut (every connection closed, new ones refused) and restore.
struct Relay {
    port: u16,
    tasks: Arc<std::sync::Mutex<Vec<tokio::task::JoinHandle<()>>>>,
    accept: Option<tokio::task::JoinHandle<()>>,
    upstream: String,
}

impl Relay {
    async fn start(upstream: String, port: u16) -> Relay {
        let mut r = Relay {
            port,
            tasks: Default::default(),
            accept: None,
            upstream,
        };
        r.up().await;
        r
    }

    async fn up(&mut self) {
        let l = tokio::net::TcpListener::bind(("127.0.0.1", self.port))
            .await
            .unwrap();
        self.port = l.local_addr().unwrap().port();
        let (tasks, upstream) = (self.tasks.clone(), self.upstream.clone());
        self.accept = Some(tokio::spawn(async move {
            while let Ok((mut inbound, _)) = l.accept().await {
                let upstream = upstream.clone();
                let t = tokio::spawn(async move {
                    if let Ok(mut out) = tokio::net::TcpStream::connect(upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut out).await;
                    }
                });
                tasks.lock().unwrap().push(t);
            }
        }));
    }

    async fn down(&mut self) {
        if let Some(a) = self.accept.take() {
            a.abort();
            let _ = a.await;
        }
        for t in self.tasks.lock().unwrap().drain(..) {
            t.abort();
        }
    }
}

/// The app on the test's database, but (PostgreSQL) through the relay.
async fn start_via(db: &TestDb, url: Option<String>) -> sanshe::app::Running {
    let mut cfg = config(db, &Options::default());
    if let (Some(url), sanshe::db::DbTarget::Postgres { schema, .. }) = (url, &db.target) {
        cfg.database = sanshe::db::DbTarget::Postgres {
            url,
            schema: schema.clone(),
        };
    }
    let c2 = cfg.clone();
    let pool = tokio::task::spawn_blocking(move || sanshe::app::open_database(&c2))
        .await
        .unwrap()
        .unwrap();
    let state = sanshe::app::AppState::new(cfg, pool, Arc::new(sanshe::clock::SystemClock));
    sanshe::app::start(state, false).await.unwrap()
}

/// README: `/readyz` says ready only with the database reachable and its migrations current.
async fn readyz_follows_database_and_migrations(b: Backend) {
    let db = TestDb::new(&b);
    let mut relay = match &db.target {
        sanshe::db::DbTarget::Postgres { url, .. } => {
            let u = url::Url::parse(url).unwrap();
            let upstream = format!(
                "{}:{}",
                u.host_str().unwrap(),
                u.port_or_known_default().unwrap()
            );
            Some(Relay::start(upstream, 0).await)
        }
        sanshe::db::DbTarget::Sqlite(_) => None,
    };
    let relayed = match (&relay, &db.target) {
        (Some(r), sanshe::db::DbTarget::Postgres { url, .. }) => {
            let mut u = url::Url::parse(url).unwrap();
            u.set_host(Some("127.0.0.1")).unwrap();
            u.set_port(Some(r.port)).unwrap();
            Some(u.to_string())
        }
        _ => None,
    };
    let running = start_via(&db, relayed).await;
    let base = format!("http://{}", running.addr);
    let ready = json!({"status": "ready", "database": b.name(), "migrations": "current"});
    assert_eq!(readyz(&base).await, (200, ready.clone()));

    // A migration pending: the newest one's row is gone from the migrations table.
    let newest = newest_migration(&mut db.conn());
    db.conn()
        .batch_execute(&format!(
            "DELETE FROM __diesel_schema_migrations WHERE version = '{newest}'"
        ))
        .unwrap();
    assert_eq!(
        readyz(&base).await,
        (
            503,
            json!({"status": "not ready", "database": b.name(), "migrations": "pending"})
        )
    );
    db.conn()
        .batch_execute(&format!(
            "INSERT INTO __diesel_schema_migrations (version) VALUES ('{newest}')"
        ))
        .unwrap();
    assert_eq!(readyz(&base).await, (200, ready.clone()));

    // The database unreachable.
    match relay.as_mut() {
        Some(relay) => {
            let not_ready =
                json!({"status": "not ready", "database": b.name(), "migrations": "unknown"});
            relay.down().await;
            assert_eq!(readyz(&base).await, (503, not_ready));
            relay.up().await;
            // The pool reconnects by itself.
            let deadline = std::time::Instant::now() + Duration::from_secs(30);
            loop {
                let got = readyz(&base).await;
                if got == (200, ready.clone()) {
                    break;
                }
                assert!(
                    std::time::Instant::now() < deadline,
                    "not ready again: {got:?}"
                );
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
        None => {
            // SQLite has no server to lose: the pooled connections keep the open file, and another
            // connection cannot take it exclusively from them in WAL mode (tried: `BEGIN EXCLUSIVE` under
            // `locking_mode = EXCLUSIVE` is itself refused as locked). Only the migration case runs here.
        }
    }
    running.stop().await;
}

// ---------- all or nothing ----------

/// Make every insert into `table` fail, as a broken mail queue or audit store would.
fn break_inserts(app: &TestApp, table: &str) {
    let sql = match &app.db.target {
        sanshe::db::DbTarget::Sqlite(_) => format!(
            "CREATE TRIGGER broken_{table} BEFORE INSERT ON {table} BEGIN SELECT RAISE(ABORT, 'broken by the test'); END;"
        ),
        sanshe::db::DbTarget::Postgres { .. } => format!(
            "CREATE FUNCTION broken_{table}() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'broken by the test'; END $$ LANGUAGE plpgsql;
             CREATE TRIGGER broken_{table} BEFORE INSERT ON {table} FOR EACH ROW EXECUTE FUNCTION broken_{table}();"
        ),
    };
    app.conn().batch_execute(&sql).unwrap();
}

fn repair_inserts(app: &TestApp, table: &str) {
    let sql = match &app.db.target {
        sanshe::db::DbTarget::Sqlite(_) => format!("DROP TRIGGER broken_{table};"),
        sanshe::db::DbTarget::Postgres { .. } => {
            format!("DROP TRIGGER broken_{table} ON {table}; DROP FUNCTION broken_{table}();")
        }
    };
    app.conn().batch_execute(&sql).unwrap();
}

/// ARCHITECTURE: the change, its audit event and its mail commit together or not at all.
async fn change_audit_and_mail_are_all_or_nothing(b: Backend) {
    let app = TestApp::spawn(&b).await;
    let admin = app.token("admin").await;
    let new_user = json!({"username": "atomic1", "display_name": "原子", "role": "bureau", "email": "atomic1@example.test", "org_id": null, "password": PASSWORD});
    let before = app.snapshot();

    // The mail step fails: no user, no audit event, no outbox row.
    break_inserts(&app, "outbox");
    let r = app
        .send_json("POST", "/api/v1/users", Some(&admin), &new_user)
        .await;
    problem(r, 500, "internal_error").await;
    assert_eq!(app.snapshot(), before, "a failed mail step left a trace");
    repair_inserts(&app, "outbox");

    // The audit step fails: the same.
    break_inserts(&app, "audit_events");
    let r = app
        .send_json("POST", "/api/v1/users", Some(&admin), &new_user)
        .await;
    problem(r, 500, "internal_error").await;
    assert_eq!(app.snapshot(), before, "a failed audit step left a trace");
    let ev_id = me(&app, &app.token("evaluator1").await).await["id"]
        .as_i64()
        .unwrap();
    let r = app
        .send_json(
            "PATCH",
            &format!("/api/v1/users/{ev_id}"),
            Some(&admin),
            &json!({"display_name": "改不了", "role": "finance"}),
        )
        .await;
    problem(r, 500, "internal_error").await;
    assert_eq!(app.snapshot(), before, "a failed audit step left a trace");
    repair_inserts(&app, "audit_events");

    // Repaired, the same request goes through with all three.
    let r = app
        .send_json("POST", "/api/v1/users", Some(&admin), &new_user)
        .await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let after = app.snapshot();
    assert_ne!(after, before);
    use sanshe::db::schema::{audit_events as a, outbox as o, users as u};
    let mut c = app.conn();
    assert_eq!(
        u::table
            .filter(u::username.eq("atomic1"))
            .count()
            .get_result::<i64>(&mut c)
            .unwrap(),
        1
    );
    assert_eq!(
        o::table
            .filter(o::to_addr.eq("atomic1@example.test"))
            .count()
            .get_result::<i64>(&mut c)
            .unwrap(),
        1
    );
    let last: String = a::table
        .order(a::seq.desc())
        .select(a::action)
        .first(&mut c)
        .unwrap();
    assert_eq!(last, "user.create");
    app.stop().await;
}

// ---------- tenders: draft edit and cancel through the API ----------

async fn tender_json(fx: &crate::tenders::Fx, id: i64) -> Value {
    let r = fx
        .app
        .get(&format!("/api/v1/tenders/{id}"), Some(&fx.b().await))
        .await;
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

async fn cancel_tender(fx: &crate::tenders::Fx, id: i64, reason: &str) -> reqwest::Response {
    fx.app
        .send_json(
            "POST",
            &format!("/api/v1/tenders/{id}/cancel"),
            Some(&fx.b().await),
            &json!({ "reason": reason }),
        )
        .await
}

fn last_action(app: &TestApp) -> String {
    use sanshe::db::schema::audit_events as a;
    a::table
        .order(a::seq.desc())
        .select(a::action)
        .first(&mut app.conn())
        .unwrap()
}

/// README: the bureau drafts (and edits the draft), publishes, and may cancel before the award; a published
/// tender is not edited.
async fn tender_draft_edit_and_cancel(b: Backend) {
    use crate::tenders::{create_tender, publish, setup, tender_body};
    let fx = setup(&b).await;
    let app = &fx.app;
    let id = create_tender(&fx, &tender_body("PR-2026-001")).await;
    let t = tender_json(&fx, id).await;
    assert_eq!(
        (&t["state"], &t["budget"], &t["term_months"]),
        (&json!("draft"), &json!("200000.00"), &json!(12))
    );

    // The draft is edited: new title, budget and street.
    let mut edited = tender_body("PR-2026-001");
    edited["title"] = json!("PR-2026-001 社区助老服务（修订）");
    edited["budget"] = json!("180000");
    edited["street_ids"] = json!([3]);
    let r = app
        .send_json(
            "PUT",
            &format!("/api/v1/tenders/{id}"),
            Some(&fx.b().await),
            &edited,
        )
        .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let t = tender_json(&fx, id).await;
    assert_eq!(t["title"], "PR-2026-001 社区助老服务（修订）");
    assert_eq!(t["budget"], "180000.00");
    assert_eq!(t["budget_fen"], 18_000_000);
    let streets: Vec<i64> = t["streets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_i64().unwrap())
        .collect();
    assert_eq!(streets, vec![3]);
    assert_eq!(t["state"], "draft");
    assert_eq!(last_action(app), "tender.update");

    // A broken edit changes nothing.
    let before = app.snapshot();
    let mut heavy = edited.clone();
    heavy["criteria"]["price_weight_pct"] = json!("35");
    let r = app
        .send_json(
            "PUT",
            &format!("/api/v1/tenders/{id}"),
            Some(&fx.b().await),
            &heavy,
        )
        .await;
    problem(r, 422, "validation_failed").await;
    assert_eq!(app.snapshot(), before);
    assert_eq!(tender_json(&fx, id).await["budget"], "180000.00");

    // Published, it is no longer edited.
    publish(&fx, id).await;
    let before = app.snapshot();
    let mut late = edited.clone();
    late["budget"] = json!("150000");
    let r = app
        .send_json(
            "PUT",
            &format!("/api/v1/tenders/{id}"),
            Some(&fx.b().await),
            &late,
        )
        .await;
    problem(r, 409, "wrong_state").await;
    assert_eq!(app.snapshot(), before);
    let t = tender_json(&fx, id).await;
    assert_eq!(
        (&t["state"], &t["budget"]),
        (&json!("published"), &json!("180000.00"))
    );

    // Cancelled with a reason (a blank one is refused first).
    let p = problem(
        cancel_tender(&fx, id, "   ").await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(p["errors"][0]["field"], "reason");
    assert_eq!(app.snapshot(), before);
    let r = cancel_tender(&fx, id, "财政预算调整，项目暂停。").await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let t: Value = app
        .get(&format!("/api/v1/tenders/{id}"), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(t["state"], "cancelled", "the public sees the cancellation");
    assert_eq!(t["end_reason"], "财政预算调整，项目暂停。");
    let after_cancel = app.snapshot();
    assert_ne!(after_cancel, before, "the cancellation is audited");
    problem(
        cancel_tender(&fx, id, "再次取消").await,
        409,
        "illegal_transition",
    )
    .await;
    let r = app
        .send_json(
            "PUT",
            &format!("/api/v1/tenders/{id}"),
            Some(&fx.b().await),
            &edited,
        )
        .await;
    problem(r, 409, "wrong_state").await;
    assert_eq!(app.snapshot(), after_cancel);

    // A draft may be cancelled too, by an administrator; an org may not.
    let draft = create_tender(&fx, &tender_body("PR-2026-002")).await;
    let org = {
        let b = crate::tenders::bidders(app, 1);
        app.token(&b[0].user).await
    };
    let path = format!("/api/v1/tenders/{draft}/cancel");
    problem(
        app.send_json("POST", &path, Some(&org), &json!({"reason": "x"}))
            .await,
        403,
        "forbidden",
    )
    .await;
    let r = app
        .send_json(
            "POST",
            &path,
            Some(&app.token("admin").await),
            &json!({"reason": "重复立项"}),
        )
        .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    assert_eq!(tender_json(&fx, draft).await["state"], "cancelled");
    fx.app.stop().await;
}

// ---------- mail: back-off and lease ----------

struct Note;

impl sanshe::mail::Email for Note {
    const NAME: &'static str = "promise_note";
    fn render(&self) -> Result<sanshe::mail::Rendered, askama::Error> {
        Ok(sanshe::mail::Rendered {
            subject: "通知 Notice".into(),
            text: "正文 body".into(),
            html: "<p>正文 body</p>".into(),
        })
    }
}

/// (status, attempts, next attempt, lease end, has an error recorded)
type MailRow = (String, i32, String, Option<String>, bool);

fn mail_row(db: &TestDb, id: i64) -> MailRow {
    use sanshe::db::schema::outbox as o;
    let (status, attempts, next, lease, err): (
        String,
        i32,
        chrono::NaiveDateTime,
        Option<chrono::NaiveDateTime>,
        Option<String>,
    ) = o::table
        .find(id)
        .select((
            o::status,
            o::attempts,
            o::next_attempt_at,
            o::locked_until,
            o::last_error,
        ))
        .first(&mut db.conn())
        .unwrap();
    let fmt = |t: chrono::NaiveDateTime| t.format("%H:%M:%S%.6f").to_string();
    (status, attempts, fmt(next), lease.map(fmt), err.is_some())
}

fn row(status: &str, attempts: i32, next: &str, lease: Option<&str>, err: bool) -> MailRow {
    (
        status.into(),
        attempts,
        format!("{next}.000000"),
        lease.map(|l| format!("{l}.000000")),
        err,
    )
}

/// ARCHITECTURE: a failed send is retried with doubling back-off (capped at an hour); a claimed message is
/// reserved for 5 minutes, after which another sender takes it; a sent message is not sent again.
async fn mail_back_off_and_lease(b: Backend) {
    use sanshe::mail::{Settings, enqueue, send_due};
    let db = TestDb::new(&b);
    let cfg = config(&db, &Options::default());
    let c2 = cfg.clone();
    let pool = tokio::task::spawn_blocking(move || sanshe::app::open_database(&c2))
        .await
        .unwrap()
        .unwrap();
    let t0: chrono::DateTime<chrono::Utc> = "2026-03-02T02:00:00Z".parse().unwrap();
    let manual = sanshe::clock::ManualClock::new(t0);
    let clock: Arc<dyn sanshe::clock::Clock> = Arc::new(manual.clone());
    let at = |hms: &str| -> chrono::DateTime<chrono::Utc> {
        format!("2026-03-02T{hms}Z").parse().unwrap()
    };
    // Nothing listens on this port: every SMTP attempt fails at once.
    let down = Settings {
        from: cfg.mail_from.clone(),
        public_url: cfg.public_url.clone(),
        smtp_url: Some(sanshe::config::Secret::new(format!(
            "smtp://127.0.0.1:{}",
            free_port()
        ))),
        data_dir: db.dir.clone(),
        retry: Duration::from_secs(60),
        poll: Duration::from_millis(100),
    };
    let files = Settings {
        smtp_url: None,
        ..down.clone()
    };
    let id = enqueue(&mut db.conn(), t0, "a@example.test", &Note).unwrap();
    assert_eq!(
        mail_row(&db, id),
        row("pending", 0, "02:00:00", None, false)
    );

    // 60 s, then 120, 240, 480: each wait doubles, counted from the failed attempt.
    let steps = [
        ("02:00:00", "02:01:00"),
        ("02:01:00", "02:03:00"),
        ("02:03:00", "02:07:00"),
        ("02:07:00", "02:15:00"),
    ];
    for (n, (now, next)) in steps.iter().enumerate() {
        manual.set(at(now) - chrono::Duration::microseconds(1));
        if n > 0 {
            assert_eq!(send_due(&pool, &clock, &down).await.unwrap(), 0);
            assert_eq!(
                mail_row(&db, id).1,
                n as i32,
                "tried before it was due ({now})"
            );
        }
        manual.set(at(now));
        assert_eq!(send_due(&pool, &clock, &down).await.unwrap(), 0);
        assert_eq!(
            mail_row(&db, id),
            row("pending", n as i32 + 1, next, None, true),
            "after the failure at {now}"
        );
    }
    // The wait stops growing at an hour: after 10 failures, 60 s × 2^10 would be 17 h.
    db.conn()
        .batch_execute(&format!("UPDATE outbox SET attempts = 10 WHERE id = {id}"))
        .unwrap();
    manual.set(at("02:15:00"));
    assert_eq!(send_due(&pool, &clock, &down).await.unwrap(), 0);
    assert_eq!(
        mail_row(&db, id),
        row("pending", 11, "03:15:00", None, true)
    );

    // Mail works again: sent at the next due time, once.
    manual.set(at("03:15:00"));
    assert_eq!(send_due(&pool, &clock, &files).await.unwrap(), 1);
    let (status, attempts, _, lease, _) = mail_row(&db, id);
    assert_eq!((status.as_str(), attempts, lease), ("sent", 12, None));
    manual.set(at("05:00:00"));
    assert_eq!(send_due(&pool, &clock, &files).await.unwrap(), 0);

    // A sender claimed a message at 06:00 and died mid-send: its lease runs to 06:05. Until then nobody
    // else sends it; after, the next sender does, once.
    manual.set(at("06:00:00"));
    let id2 = enqueue(&mut db.conn(), at("06:00:00"), "b@example.test", &Note).unwrap();
    let lease_end = sanshe::db::now_micros(at("06:05:00"));
    {
        use sanshe::db::schema::outbox as o;
        diesel::update(o::table.find(id2))
            .set(o::locked_until.eq(lease_end))
            .execute(&mut db.conn())
            .unwrap();
    }
    for now in ["06:00:00", "06:04:59", "06:05:00"] {
        manual.set(at(now));
        assert_eq!(
            send_due(&pool, &clock, &files).await.unwrap(),
            0,
            "sent at {now}, inside the lease"
        );
    }
    assert_eq!(
        mail_row(&db, id2),
        row("pending", 0, "06:00:00", Some("06:05:00"), false)
    );
    manual.set(at("06:05:01"));
    assert_eq!(send_due(&pool, &clock, &files).await.unwrap(), 1);
    assert_eq!(mail_row(&db, id2).0, "sent");
    assert_eq!(mail_row(&db, id2).1, 1);
    manual.set(at("07:00:00"));
    assert_eq!(send_due(&pool, &clock, &files).await.unwrap(), 0);
    let emls: Vec<_> = std::fs::read_dir(db.dir.join("outbox"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".eml"))
        .collect();
    assert_eq!(emls.len(), 2, "{emls:?}");
    // The re-sent message carries the Message-ID fixed when it was queued.
    let mid: String = {
        use sanshe::db::schema::outbox as o;
        o::table
            .find(id2)
            .select(o::message_id)
            .first(&mut db.conn())
            .unwrap()
    };
    let eml = std::fs::read_to_string(
        db.dir
            .join("outbox")
            .join(format!("{id2:08}-promise_note.eml")),
    )
    .unwrap();
    assert!(eml.contains(&format!("<{mid}>")), "{eml}");
}

// ---------- tenders: panel size at ¥10 million, award withheld from a winner no longer eligible ----------

/// Equal technical points for every bid (plan 40, team 8, exp 5 = 53): the price alone ranks them.
fn equal_scores(seqs: &[i64]) -> Value {
    let mut s = Vec::new();
    for seq in seqs {
        for (c, p) in [("plan", "40"), ("team", "8"), ("exp", "5")] {
            s.push(json!({"bid_seq": seq, "criterion": c, "points": p}));
        }
    }
    json!({ "scores": s })
}

async fn opened_name(fx: &crate::tenders::Fx, id: i64, org: i64) -> String {
    let opened: Value = fx
        .app
        .get(&format!("/api/v1/tenders/{id}/bids"), Some(&fx.b().await))
        .await
        .json()
        .await
        .unwrap();
    opened
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["organisation_id"] == org)
        .unwrap()["organisation_name"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn seat(fx: &crate::tenders::Fx, id: i64, evs: &[i64]) -> reqwest::Response {
    fx.app
        .send_json(
            "POST",
            &format!("/api/v1/tenders/{id}/panel"),
            Some(&fx.b().await),
            &json!({ "draw_experts": evs.len() }),
        )
        .await
}

/// 87号令 Art 47: panels of open tenders have at least 5 members, at least 7 from ¥10 million (the amount
/// itself included); the award is made when the challenge window has passed and the winner is still eligible,
/// else it passes on.
async fn panel_size_and_award_eligibility(b: Backend) {
    use crate::tenders::{bid, bidders, create_tender, publish, setup, state_of, t0, tender_body};
    let fx = setup(&b).await;
    let app = &fx.app;
    let mut below_ten = tender_body("ED-2026-001");
    below_ten["budget"] = json!("9999999.99");
    let mut at_ten = tender_body("ED-2026-002");
    at_ten["budget"] = json!("10000000");
    let (t1, t2) = (
        create_tender(&fx, &below_ten).await,
        create_tender(&fx, &at_ten).await,
    );
    publish(&fx, t1).await;
    publish(&fx, t2).await;
    // Three bidders on each: ¥9,000,000, ¥9,500,000 and ¥9,900,000.
    let bs = bidders(app, 3);
    let prices = [900_000_000i64, 950_000_000, 990_000_000];
    for (t, tag) in [(t1, "a"), (t2, "b")] {
        for (i, (bd, p)) in bs.iter().zip(prices).enumerate() {
            let r = bid(&fx, bd, t, &format!("{tag}{i}"), p).await;
            assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
        }
    }
    fx.clock
        .set(t0() + chrono::Duration::days(21) + chrono::Duration::hours(1));
    assert_eq!(state_of(&fx, t1).await, "opened");
    assert_eq!(state_of(&fx, t2).await, "opened");
    let mut evs: Vec<i64> = {
        use sanshe::db::schema::users as u;
        u::table
            .filter(u::username.like("evaluator%"))
            .order(u::username)
            .select(u::id)
            .load(&mut app.conn())
            .unwrap()
    };
    assert_eq!(evs.len(), 5);
    evs.push(app.create_user("evaluator6", "evaluator", None, None).await);
    evs.push(app.create_user("evaluator7", "evaluator", None, None).await);

    // At ¥10 million: 5 and 6 members are refused, 7 are seated.
    for n in [5, 6] {
        let before = app.snapshot();
        let p = problem(seat(&fx, t2, &evs[..n]).await, 422, "validation_failed").await;
        assert_eq!(p["errors"][0]["rule"], "panel_size", "{p}");
        assert!(
            p["errors"][0]["message"]["en"]
                .as_str()
                .unwrap()
                .contains(&format!("at least 7 members, an odd number (now {n})")),
            "{p}"
        );
        assert_eq!(app.snapshot(), before);
    }
    let r = seat(&fx, t2, &evs).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    assert_eq!(state_of(&fx, t2).await, "evaluating");
    // A fen below ¥10 million the rule is that of the smaller tenders: 5 members are enough, drawn from
    // the seven (evaluator k is evs[k - 1]).
    let r = seat(&fx, t1, &evs[..5]).await;
    let seated: Value = r.json().await.unwrap();
    let seated: Vec<usize> = seated
        .as_array()
        .unwrap()
        .iter()
        .map(|m| evs.iter().position(|e| m["user_id"] == *e).unwrap() + 1)
        .collect();
    assert_eq!(seated.len(), 5, "{seated:?}");
    assert_eq!(state_of(&fx, t1).await, "evaluating");

    // Tender 1 is scored: with equal technical points the lowest price wins.
    let opened: Value = app
        .get(&format!("/api/v1/tenders/{t1}/bids"), Some(&fx.b().await))
        .await
        .json()
        .await
        .unwrap();
    let seq_of = |org: i64| -> i64 {
        opened
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["organisation_id"] == org)
            .unwrap()["seq"]
            .as_i64()
            .unwrap()
    };
    let seqs: Vec<i64> = bs.iter().map(|x| seq_of(x.org)).collect();
    for k in seated {
        let t = app.token(&format!("evaluator{k}")).await;
        let r = app
            .send_json(
                "POST",
                &format!("/api/v1/tenders/{t1}/declaration"),
                Some(&t),
                &json!({"conflict": false}),
            )
            .await;
        assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
        let r = app
            .send_json(
                "POST",
                &format!("/api/v1/tenders/{t1}/scores"),
                Some(&t),
                &equal_scores(&seqs),
            )
            .await;
        assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    }
    assert_eq!(state_of(&fx, t1).await, "evaluated");
    // Price score 30 × lowest ÷ price: 30, 30 × 9/9.5 = 28.42, 30 × 9/9.9 = 27.27; plus 53.
    let report: Value = app
        .get(&format!("/api/v1/tenders/{t1}/report"), Some(&fx.b().await))
        .await
        .json()
        .await
        .unwrap();
    let ranked: Vec<(i64, Value, Value)> = report["bids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            (
                x["seq"].as_i64().unwrap(),
                x["rank"].clone(),
                x["total"].clone(),
            )
        })
        .collect();
    assert_eq!(
        ranked,
        vec![
            (seqs[0], json!(1), json!("83.00")),
            (seqs[1], json!(2), json!("81.42")),
            (seqs[2], json!(3), json!("80.27")),
        ]
    );
    let r = app
        .send_json(
            "POST",
            &format!("/api/v1/tenders/{t1}/award"),
            Some(&fx.b().await),
            &json!({"bid_seq": seqs[0]}),
        )
        .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let r = app
        .send_json(
            "POST",
            &format!("/api/v1/tenders/{t1}/result"),
            Some(&fx.b().await),
            &json!({}),
        )
        .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["state"], "publicity");
    assert_eq!(v["result"]["winner_id"], bs[0].org);
    assert_eq!(v["result"]["panel_size"], 5);
    let ends = chrono::NaiveDateTime::parse_from_str(
        v["challenge_ends"].as_str().unwrap(),
        "%Y-%m-%dT%H:%M:%S%.f",
    )
    .unwrap()
    .and_utc();

    // Before the window ends the winner is put on the dishonesty list.
    fx.clock.set(ends - chrono::Duration::hours(1));
    let today = sanshe::tenders::today(sanshe::clock::Clock::now(&fx.clock));
    let r = app
        .send_json(
            "POST",
            "/api/v1/credit-listings",
            Some(&fx.b().await),
            &json!({"organisation_id": bs[0].org, "list": "dishonesty", "source": "信用中国",
                    "listed_on": today.to_string(), "evidence_sha256": "ab".repeat(32)}),
        )
        .await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    assert_eq!(state_of(&fx, t1).await, "challenge");

    // The window passes: no award to the listed winner; its bid is disqualified and the award passes on.
    fx.clock.set(ends + chrono::Duration::minutes(1));
    let v: Value = app
        .get(&format!("/api/v1/tenders/{t1}"), Some(&fx.b().await))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["state"], "award_proposed", "{}", v["timeline"]);
    let last = v["timeline"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["from_state"], "challenge");
    assert_eq!(last["to_state"], "award_proposed");
    // The note names the next-ranked bidder (its rank is counted among the bids still valid).
    let second_name = opened_name(&fx, t1, bs[1].org).await;
    assert!(
        last["note_zh"]
            .as_str()
            .unwrap()
            .starts_with(&format!("递补：{second_name}（")),
        "{last}"
    );
    let opened: Value = app
        .get(&format!("/api/v1/tenders/{t1}/bids"), Some(&fx.b().await))
        .await
        .json()
        .await
        .unwrap();
    let a = opened
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["organisation_id"] == bs[0].org)
        .unwrap();
    assert_eq!(a["status"], "disqualified");
    assert!(
        a["status_reason"]
            .as_str()
            .unwrap()
            .starts_with("授予前复核不合格"),
        "{a}"
    );
    // Published again, the second-ranked bidder is the winner.
    let r = app
        .send_json(
            "POST",
            &format!("/api/v1/tenders/{t1}/result"),
            Some(&fx.b().await),
            &json!({}),
        )
        .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["state"], "publicity");
    assert_eq!(v["result"]["winner_id"], bs[1].org);
    assert_eq!(v["result"]["price"], "9500000.00");
    fx.app.stop().await;
}

both_backends!(
    panel_size_and_award_eligibility,
    mail_back_off_and_lease,
    tender_draft_edit_and_cancel,
    readyz_follows_database_and_migrations,
    change_audit_and_mail_are_all_or_nothing,
    admin_reset_and_role_change_end_sessions,
    user_create_password_paths,
    security_headers_everywhere,
);

/// Every write to SQLite waits its turn in the process's write queue (`db::write_tx`). A write outside it
/// takes SQLite's lock unqueued, and a queued writer's `BEGIN IMMEDIATE` then sleeps in SQLite's busy
/// handler (5, 10, 15 … ms): the live-payment p99 of scripts/bench-ledger was 22 ms for the mail worker's
/// unqueued "sent" updates. Debug builds count such writes in the whole process, so this checks a sign-out
/// (revocation), a message sent and one that failed, the scheduler's sweep of revocations, and whatever
/// the other tests of this run did before. SQLite only: PostgreSQL has no process queue.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_sqlite_write_waits_its_turn() {
    let app = TestApp::spawn(&Backend::Sqlite).await;
    let t = app.token("finance").await;
    let r = client()
        .post(app.url("/api/v1/auth/logout"))
        .bearer_auth(&t)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let pool = app.server_pool();
    let now = chrono::Utc::now();
    let id = sanshe::mail::enqueue(&mut app.conn(), now, "a@example.test", &Note).unwrap();
    assert!(app.mail_pass().await >= 1, "the message {id} was sent");
    tokio::task::spawn_blocking(move || {
        let mut c = pool.get().unwrap();
        sanshe::auth::revocation::sweep(&mut c, now + chrono::Duration::days(2)).unwrap()
    })
    .await
    .unwrap();
    let (strays, last) = sanshe::db::write_queue::strays();
    assert_eq!(
        strays, 0,
        "SQLite writes outside db::write_tx in this test run; the last: {last}"
    );
    app.stop().await;
}

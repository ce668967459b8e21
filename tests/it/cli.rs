//! The `sanshe` program as an operator uses it.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use crate::both_backends;
use crate::helpers::*;

pub(crate) fn sanshe(db: &TestDb) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_sanshe"));
    c.env("DATABASE_URL", db.url())
        .env("SANSHE_DATA_DIR", &db.dir)
        .env("SANSHE_LOG", "info")
        .env_remove("SANSHE_DEMO_PASSWORD")
        .env_remove("SANSHE_NEW_PASSWORD")
        .env_remove("SANSHE_JWT_SECRET")
        .env_remove("SMTP_URL")
        .stdin(Stdio::null());
    c
}

pub(crate) fn run(c: &mut Command) -> (i32, String, String) {
    let o = c.output().unwrap();
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

#[test]
fn help_explains_each_command() {
    let (code, out, _) = run(Command::new(env!("CARGO_BIN_EXE_sanshe")).arg("--help"));
    assert_eq!(code, 0);
    for cmd in [
        "serve",
        "migrate",
        "seed",
        "user",
        "verify",
        "--listen",
        "--database-url",
        "--data-dir",
        "--demo-password",
        "--smtp-url",
    ] {
        assert!(out.contains(cmd), "--help lacks {cmd}:\n{out}");
    }
    let (code, out, _) =
        run(Command::new(env!("CARGO_BIN_EXE_sanshe")).args(["user", "create", "--help"]));
    assert_eq!(code, 0);
    assert!(out.contains("--role") && out.contains("--org") && out.contains("SANSHE_NEW_PASSWORD"));
}

#[test]
fn bad_settings_give_clear_messages() {
    let dir = std::env::temp_dir().join(format!("sanshe-cli-{}", uuid::Uuid::new_v4()));
    let cases: &[(&str, &str, &str)] = &[
        (
            "DATABASE_URL",
            "mysql://root@localhost/x",
            "unsupported scheme",
        ),
        ("DATABASE_URL", "sqlite://", "no file path"),
        ("SANSHE_LISTEN", "not-an-address", "invalid value"),
        ("SMTP_URL", "http://mail.example", "SMTP_URL"),
        ("SANSHE_JWT_SECRET", "too-short", "at least 32"),
        ("SANSHE_DEMO_PASSWORD", "short", "SANSHE_DEMO_PASSWORD"),
    ];
    for (var, value, expect) in cases {
        let (code, _, err) = run(Command::new(env!("CARGO_BIN_EXE_sanshe"))
            .arg("migrate")
            .env("SANSHE_DATA_DIR", &dir)
            .env(var, value));
        assert_eq!(code, 2, "{var}={value}: {err}");
        assert!(err.contains(expect), "{var}={value}: {err}");
        assert!(!err.contains("panicked"), "{err}");
    }
    // An unreachable PostgreSQL says so with the backend's own reason, without the password.
    let (code, _, err) = run(Command::new(env!("CARGO_BIN_EXE_sanshe"))
        .arg("migrate")
        .env("SANSHE_DATA_DIR", &dir)
        .env("DATABASE_URL", "postgres://root:hunter2@127.0.0.1:1/none"));
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("cannot connect") && !err.contains("hunter2"),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(dir);
}

async fn migrate_seed_user_verify(b: Backend) {
    let db = TestDb::new(&b);
    let (code, out, err) = run(sanshe(&db).arg("migrate"));
    assert_eq!(code, 0, "{err}");
    let migrations = std::fs::read_dir("migrations/sqlite")
        .unwrap()
        .filter(|e| e.as_ref().unwrap().path().is_dir())
        .count();
    assert!(
        out.contains(&format!("{migrations} migration(s) applied")),
        "{out}"
    );
    let (_, out, _) = run(sanshe(&db).arg("migrate"));
    assert!(out.contains("0 migration(s) applied"), "{out}");

    let (code, out, err) = run(sanshe(&db).args(["seed", "--demo"]));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("admin, bureau, finance, evaluator1"), "{out}");
    assert!(out.contains("org001"), "{out}");
    let pw = out
        .lines()
        .find_map(|l| l.split("(shown only this once): ").nth(1))
        .expect("generated password printed")
        .trim()
        .to_string();
    assert_eq!(pw.len(), 16);
    assert!(
        !err.contains(&pw),
        "the password reaches stdout once, never the log"
    );
    let mut c = db.conn();
    let hash = sanshe::users::find_by_username(&mut c, "bureau")
        .unwrap()
        .unwrap()
        .password_hash;
    assert!(sanshe::auth::password::verify(&pw, &hash));
    // The evidence the demo declares is in the file store, each file under the hash its record keeps.
    let linked: Vec<(String, String)> = {
        use diesel::prelude::*;
        use sanshe::db::schema::{contract_instalments as ci, files as f};
        let reports: Vec<(String, Option<String>)> = f::table
            .inner_join(ci::table.on(ci::id.eq(f::record_id)))
            .filter(f::purpose.eq("milestone_report"))
            .select((f::sha256, ci::report_sha256))
            .load(&mut c)
            .unwrap();
        reports
            .into_iter()
            .map(|(a, b)| (a, b.unwrap_or_default()))
            .collect()
    };
    let accepted: i64 = {
        use diesel::prelude::*;
        use sanshe::db::schema::contract_instalments as ci;
        ci::table
            .filter(ci::report_sha256.is_not_null())
            .count()
            .get_result(&mut c)
            .unwrap()
    };
    assert!(
        accepted > 0 && linked.len() as i64 == accepted,
        "{} of {accepted} reports stored",
        linked.len()
    );
    assert!(linked.iter().all(|(a, b)| a == b), "{linked:?}");
    let (code, out, err) = run(sanshe(&db).arg("verify"));
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.lines()
            .any(|l| l.starts_with("files: ok, ") && !l.starts_with("files: ok, 0 ")),
        "{out}"
    );
    let (_, out, _) = run(sanshe(&db).args(["seed", "--demo"]));
    assert!(out.contains("already has users"), "{out}");

    let (code, out, err) = run(sanshe(&db)
        .args([
            "user",
            "create",
            "--username",
            "ops",
            "--role",
            "admin",
            "--name",
            "运维",
        ])
        .env("SANSHE_NEW_PASSWORD", "ops-password-123"));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("created user ops"), "{out}");
    let u = sanshe::users::find_by_username(&mut c, "ops")
        .unwrap()
        .unwrap();
    assert_eq!(
        (u.role.as_str(), u.display_name.as_str()),
        ("admin", "运维")
    );
    assert!(sanshe::auth::password::verify(
        "ops-password-123",
        &u.password_hash
    ));
    let (code, _, err) = run(sanshe(&db)
        .args(["user", "create", "--username", "x", "--role", "org"])
        .env("SANSHE_NEW_PASSWORD", "ops-password-123"));
    assert_eq!(code, 2);
    assert!(err.contains("org_id"), "{err}");

    let events: i64 = {
        use diesel::prelude::*;
        sanshe::db::schema::audit_events::table
            .count()
            .get_result(&mut c)
            .unwrap()
    };
    assert!(events > 9, "seeding the registry is audited too");
    let (code, out, _) = run(sanshe(&db).arg("verify"));
    assert_eq!(code, 0);
    assert!(
        out.contains(&format!("audit chain: ok, {events} events")),
        "{out}"
    );
    // The demo budgets of 2017–2026 (six a year) and the history's contracts, signed, accepted and paid
    // through the contract service: the whole seeded ledger verifies.
    assert!(out.contains("ledger: ok, "), "{out}");
    let (contracts, payments): (i64, i64) = {
        use diesel::prelude::*;
        use sanshe::db::schema::{contracts as ct, payments as pm};
        (
            ct::table.count().get_result(&mut c).unwrap(),
            pm::table.count().get_result(&mut c).unwrap(),
        )
    };
    assert!(
        contracts >= 80 && payments >= 200,
        "{contracts} contracts, {payments} payments"
    );
}

async fn serve_logs_requests_without_secrets(b: Backend) {
    let db = TestDb::new(&b);
    let demo_pw = "demo-pass-word-77";
    let mut child = sanshe(&db)
        .args(["serve", "--demo"])
        .env("SANSHE_LISTEN", "127.0.0.1:0")
        .env("SANSHE_DEMO_PASSWORD", demo_pw)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut printed = String::new();
    let addr = loop {
        let mut line = String::new();
        assert!(
            stdout.read_line(&mut line).unwrap() > 0,
            "serve exited early: {printed}"
        );
        printed.push_str(&line);
        if let Some(rest) = line.split("Open http://").nth(1) {
            break rest.split('/').next().unwrap().to_string();
        }
    };
    assert!(
        printed.contains("admin, bureau, finance") && printed.contains("SANSHE_DEMO_PASSWORD"),
        "{printed}"
    );
    let http = client();
    let r: serde_json::Value = http
        .post(format!("http://{addr}/api/v1/auth/login"))
        .json(&serde_json::json!({"username": "finance", "password": demo_pw}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = r["token"].as_str().unwrap().to_string();
    let me = http
        .get(format!("http://{addr}/api/v1/me?q=13800138000"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 200);
    let ready: serde_json::Value = http
        .get(format!("http://{addr}/readyz"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ready["migrations"], "current");
    assert_eq!(ready["database"], b.name());
    // Files on disk are the owner's only: the data directory, the secrets, the SQLite database with its WAL
    // and shared memory, and the mail written as files (a new user's welcome mail, from the admin).
    let admin: serde_json::Value = http
        .post(format!("http://{addr}/api/v1/auth/login"))
        .json(&serde_json::json!({"username": "admin", "password": demo_pw}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let r = http
        .post(format!("http://{addr}/api/v1/users"))
        .bearer_auth(admin["token"].as_str().unwrap())
        .json(
            &serde_json::json!({"username": "modes", "display_name": "权限", "role": "bureau",
            "email": "modes@example.test", "password": PASSWORD}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let outbox = db.dir.join("outbox");
    let eml = || {
        std::fs::read_dir(&outbox).ok().and_then(|d| {
            d.filter_map(Result::ok)
                .map(|e| e.path())
                .find(|p| p.extension().is_some_and(|x| x == "eml"))
        })
    };
    wait_for(15, "a mail file in the outbox", || eml().is_some()).await;
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        let mut expect = vec![
            (db.dir.clone(), 0o700),
            (db.dir.join("secrets"), 0o700),
            (db.dir.join("secrets/jwt.key"), 0o600),
            (outbox.clone(), 0o700),
            (eml().unwrap(), 0o600),
        ];
        if b.name() == "sqlite" {
            for f in ["sanshe.db", "sanshe.db-wal", "sanshe.db-shm"] {
                expect.push((db.dir.join(f), 0o600));
            }
        }
        for (p, m) in expect {
            assert_eq!(mode(&p), m, "{} is {:o}", p.display(), mode(&p));
        }
    }
    // Stop it (SIGKILL is enough here: the log lines are already written) and read its log.
    child.kill().unwrap();
    child.wait().unwrap();
    let mut log = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut log).unwrap();
    let line = log
        .lines()
        .find(|l| l.contains("path=/api/v1/me"))
        .unwrap_or_else(|| panic!("no request line:\n{log}"));
    for field in ["method=GET", "status=200", "latency_ms=", "request_id="] {
        assert!(line.contains(field), "{field} missing in {line}");
    }
    let jwt_secret = std::fs::read_to_string(db.dir.join("secrets/jwt.key")).unwrap();
    for secret in [demo_pw, token.as_str(), jwt_secret.trim(), "13800138000"] {
        assert!(
            !log.contains(secret) && !printed.contains(token.as_str()),
            "a secret or personal datum reached the log"
        );
    }
}

both_backends!(
    migrate_seed_user_verify,
    serve_logs_requests_without_secrets
);

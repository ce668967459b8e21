//! The audit trail: one event per change in the same transaction, append-only in the database itself,
//! hash-chained and verified; browsing and filtering.

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use sanshe::db::DbConn;
use sanshe::db::schema::audit_events as a;
use serde_json::json;

use crate::both_backends;
use crate::helpers::*;

async fn changes_are_audited_with_actor_and_request(b: Backend) {
    let app = TestApp::spawn(&b).await;
    let admin = app.token("admin").await;
    let before: i64 = a::table.count().get_result(&mut app.conn()).unwrap();
    let r = app
        .send_json("POST", "/api/v1/users", Some(&admin), &json!({"username": "wang", "display_name": "王芳", "role": "finance", "password": PASSWORD}))
        .await;
    assert_eq!(r.status(), 201);
    let request_id = r.headers()["x-request-id"].to_str().unwrap().to_string();
    let id = r.json::<serde_json::Value>().await.unwrap()["id"]
        .as_i64()
        .unwrap();
    let r = app
        .send_json(
            "PATCH",
            &format!("/api/v1/users/{id}"),
            Some(&admin),
            &json!({"display_name": "王芳芳"}),
        )
        .await;
    assert_eq!(r.status(), 200);

    let mut c = app.conn();
    let events: Vec<(
        i64,
        String,
        String,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
    )> = a::table
        .filter(a::seq.gt(before))
        .order(a::seq)
        .select((
            a::seq,
            a::actor_name,
            a::action,
            a::entity_id,
            a::before_json,
            a::after_json,
            a::request_id,
        ))
        .load(&mut c)
        .unwrap();
    assert_eq!(events.len(), 2, "{events:?}");
    assert_eq!(events[0].1, "admin");
    assert_eq!(events[0].2, "user.create");
    assert_eq!(events[0].3.as_deref(), Some(id.to_string().as_str()));
    assert_eq!(events[0].6.as_deref(), Some(request_id.as_str()));
    let after: serde_json::Value = serde_json::from_str(events[0].5.as_deref().unwrap()).unwrap();
    assert_eq!(after["display_name"], "王芳");
    assert!(
        after.get("password_hash").is_none(),
        "hashes never reach the audit trail"
    );
    assert_eq!(events[1].2, "user.update");
    let b4: serde_json::Value = serde_json::from_str(events[1].4.as_deref().unwrap()).unwrap();
    let af: serde_json::Value = serde_json::from_str(events[1].5.as_deref().unwrap()).unwrap();
    assert_eq!(
        (b4["display_name"].as_str(), af["display_name"].as_str()),
        (Some("王芳"), Some("王芳芳"))
    );

    // A refused change writes no event.
    let r = app
        .send_json(
            "PATCH",
            &format!("/api/v1/users/{id}"),
            Some(&admin),
            &json!({"email": "bad"}),
        )
        .await;
    assert_eq!(r.status(), 422);
    let n: i64 = a::table.count().get_result(&mut c).unwrap();
    assert_eq!(n, before + 2);
    app.stop().await;
}

fn try_sql(c: &mut DbConn, sql: &str) -> Result<(), String> {
    c.batch_execute(sql).map_err(|e| e.to_string())
}

async fn database_refuses_update_and_delete(b: Backend) {
    let app = TestApp::spawn(&b).await;
    let mut c = app.conn();
    let snap = app.snapshot();
    let e = try_sql(
        &mut c,
        "UPDATE audit_events SET actor_name = 'mallory' WHERE seq = 1",
    )
    .unwrap_err();
    assert!(e.contains("append-only"), "{e}");
    let e = try_sql(&mut c, "DELETE FROM audit_events WHERE seq = 1").unwrap_err();
    assert!(e.contains("append-only"), "{e}");
    if let Backend::Postgres(_) = b {
        let e = try_sql(&mut c, "TRUNCATE audit_events").unwrap_err();
        assert!(e.contains("append-only"), "{e}");
    }
    assert_eq!(app.snapshot(), snap);
    app.stop().await;
}

async fn chain_verifies_and_detects_tampering(b: Backend) {
    let app = TestApp::spawn(&b).await;
    let finance = app.token("finance").await;
    let r: serde_json::Value = app
        .get("/api/v1/audit-events/verify", Some(&finance))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(r["ok"], true, "{r}");
    assert_eq!(
        r["events"], 8,
        "seeding wrote one event per demo account: {r}"
    );

    // Someone with database access drops the trigger and rewrites history.
    let mut c = app.conn();
    let drop = match b {
        Backend::Sqlite => "DROP TRIGGER audit_events_no_update",
        Backend::Postgres(_) => "DROP TRIGGER audit_events_no_update_delete ON audit_events",
    };
    try_sql(&mut c, drop).unwrap();
    try_sql(
        &mut c,
        "UPDATE audit_events SET actor_name = 'mallory' WHERE seq = 3",
    )
    .unwrap();
    let r: serde_json::Value = app
        .get("/api/v1/audit-events/verify", Some(&finance))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(r["ok"], false, "{r}");
    assert!(r["error"].as_str().unwrap().contains("event 3"), "{r}");
    assert_eq!(r["events"], 2);

    // The command line says the same, and exits 1.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_sanshe"))
        .arg("verify")
        .env("DATABASE_URL", app.db.url())
        .env("SANSHE_DATA_DIR", &app.db.dir)
        .env_remove("SANSHE_JWT_SECRET")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{stdout} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("BROKEN"), "{stdout}");
    app.stop().await;
}

async fn browse_and_filter(b: Backend) {
    let app = TestApp::spawn(&b).await;
    let admin = app.token("admin").await;
    app.create_user("liming", "bureau", None, None).await;
    let r: serde_json::Value = app
        .get(
            "/api/v1/audit-events?entity_type=user&action=user.create&actor=admin",
            Some(&admin),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(r["total"], 1, "{r}");
    assert_eq!(r["items"][0]["actor_name"], "admin");
    let r: serde_json::Value = app
        .get(
            "/api/v1/audit-events?actor=seed&per_page=3&page=2",
            Some(&admin),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(r["total"], 8);
    assert_eq!(r["items"].as_array().unwrap().len(), 3);
    assert_eq!(
        r["items"][0]["seq"], 5,
        "newest first: page 2 of 3 starts at seq 5: {r}"
    );
    // Dates are Beijing dates; a day far in the past has nothing.
    let r: serde_json::Value = app
        .get("/api/v1/audit-events?to=2000-01-01", Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(r["total"], 0);
    let today = (chrono::Utc::now() + chrono::Duration::hours(8))
        .format("%Y-%m-%d")
        .to_string();
    let r: serde_json::Value = app
        .get(
            &format!("/api/v1/audit-events?from={today}&to={today}"),
            Some(&admin),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(r["total"], 9);
    let r = app
        .get("/api/v1/audit-events?from=2024-13-01", Some(&admin))
        .await;
    let p = problem(r, 422, "validation_failed").await;
    assert_eq!(p["errors"][0]["field"], "from");
    let one: serde_json::Value = app
        .get("/api/v1/audit-events/1", Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(one["prev_hash"], sanshe::audit::GENESIS);
    problem(
        app.get("/api/v1/audit-events/999", Some(&admin)).await,
        404,
        "not_found",
    )
    .await;
    app.stop().await;
}

both_backends!(
    changes_are_audited_with_actor_and_request,
    database_refuses_update_and_delete,
    chain_verifies_and_detects_tampering,
    browse_and_filter
);

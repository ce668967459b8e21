//! User administration through the API.

use serde_json::json;

use crate::both_backends;
use crate::helpers::*;

/// An organisation row, for binding org users (the registry's own tests cover organisations).
fn insert_org(app: &TestApp) -> i64 {
    use diesel::prelude::*;
    use sanshe::db::schema::organisations as o;
    let now = chrono::Utc::now().naive_utc();
    diesel::insert_into(o::table)
        .values((
            o::name.eq("星光社工服务中心"),
            o::kind.eq("private_non_enterprise"),
            o::registration.eq("filed"),
            o::created_at.eq(now),
            o::updated_at.eq(now),
        ))
        .returning(o::id)
        .get_result(&mut app.conn())
        .unwrap()
}

async fn create_list_search_page_update(b: Backend) {
    let app = TestApp::spawn(&b).await;
    let admin = app.token("admin").await;
    let org = insert_org(&app);
    // An org user must belong to an organisation that exists.
    let snap = app.snapshot();
    let r = app
        .send_json("POST", "/api/v1/users", Some(&admin), &json!({"username": "ghost", "display_name": "无主", "role": "org", "org_id": org + 100, "password": PASSWORD}))
        .await;
    let p = problem(r, 422, "validation_failed").await;
    assert_eq!(
        (
            p["errors"][0]["field"].as_str(),
            p["errors"][0]["rule"].as_str()
        ),
        (Some("org_id"), Some("exists"))
    );
    assert_eq!(app.snapshot(), snap);
    let r = app
        .send_json("POST", "/api/v1/users", Some(&admin), &json!({"username": "Org.Star-1", "display_name": "星光社工服务中心 陈主任", "role": "org", "org_id": org, "email": "chen@example.org", "password": PASSWORD}))
        .await;
    assert_eq!(r.status(), 201);
    let u: serde_json::Value = r.json().await.unwrap();
    assert_eq!(
        (u["role"].as_str(), u["org_id"].as_i64()),
        (Some("org"), Some(org))
    );
    assert!(u.get("password_hash").is_none());

    // Search by part of a Chinese name and, case-insensitively, of a username, on both backends alike.
    let r: serde_json::Value = app
        .get("/api/v1/users?q=%E6%98%9F%E5%85%89", Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(r["total"], 1, "{r}");
    assert_eq!(r["items"][0]["username"], "Org.Star-1");
    let r: serde_json::Value = app
        .get("/api/v1/users?q=org.star", Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(r["total"], 1, "{r}");
    // LIKE wildcards in the term are taken literally.
    let r: serde_json::Value = app
        .get("/api/v1/users?q=%25", Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(r["total"], 0, "{r}");
    let r: serde_json::Value = app
        .get(
            "/api/v1/users?role=evaluator&per_page=2&page=3",
            Some(&admin),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(r["total"], 5);
    assert_eq!(r["items"].as_array().unwrap().len(), 1);
    assert_eq!(r["items"][0]["username"], "evaluator5");

    let id = u["id"].as_i64().unwrap();
    let r = app
        .send_json(
            "PATCH",
            &format!("/api/v1/users/{id}"),
            Some(&admin),
            &json!({"role": "bureau", "org_id": null}),
        )
        .await;
    // org_id null with role bureau: the organisation binding goes with the role.
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let got: serde_json::Value = app
        .get(&format!("/api/v1/users/{id}"), Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (got["role"].as_str(), got["org_id"].as_i64()),
        (Some("bureau"), None)
    );
    problem(
        app.get("/api/v1/users/9999", Some(&admin)).await,
        404,
        "not_found",
    )
    .await;
    let r = app
        .send_json(
            "PATCH",
            "/api/v1/users/9999",
            Some(&admin),
            &json!({"display_name": "x"}),
        )
        .await;
    problem(r, 404, "not_found").await;
    app.stop().await;
}

async fn welcome_mail_is_queued_with_the_user(b: Backend) {
    use diesel::prelude::*;
    use sanshe::db::schema::outbox as o;
    let app = TestApp::spawn(&b).await;
    app.create_user("sun", "finance", None, Some("sun@example.org"))
        .await;
    app.create_user("nomail", "finance", None, None).await;
    let rows: Vec<(String, String)> = o::table
        .filter(o::to_addr.eq("sun@example.org"))
        .select((o::template, o::subject))
        .load(&mut app.conn())
        .unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].0, "welcome");
    assert!(rows[0].1.contains("测试 sun"), "{}", rows[0].1);
    let total: i64 = o::table.count().get_result(&mut app.conn()).unwrap();
    assert_eq!(
        total, 9,
        "8 demo accounts and sun; none for a user without an address"
    );
    app.stop().await;
}

both_backends!(
    create_list_search_page_update,
    welcome_mail_is_queued_with_the_user
);

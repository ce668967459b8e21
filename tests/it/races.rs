//! Unique-key races: when concurrent requests claim the same unique value, one wins and every other gets a
//! problem+json 409 (or the 422 of the check that saw the winner first), never a 500; the database keeps one
//! row.

use diesel::prelude::*;
use serde_json::{Value, json};
use tokio::task::JoinSet;

use crate::both_backends;
use crate::helpers::*;

/// Send `n` copies of one POST at once; (status, body) of each.
async fn at_once(
    app: &TestApp,
    n: usize,
    path: &str,
    token: &str,
    body: Value,
) -> Vec<(u16, Value)> {
    let url = app.url(path);
    let mut set = JoinSet::new();
    // Every task waits at the barrier so the requests leave together.
    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(n));
    for _ in 0..n {
        let (url, token, body, barrier) = (
            url.clone(),
            token.to_string(),
            body.clone(),
            barrier.clone(),
        );
        set.spawn(async move {
            barrier.wait().await;
            let r = client()
                .post(url)
                .bearer_auth(token)
                .json(&body)
                .send()
                .await
                .unwrap();
            let status = r.status().as_u16();
            let ct = r
                .headers()
                .get("content-type")
                .map(|v| v.to_str().unwrap_or("").to_string())
                .unwrap_or_default();
            let v: Value = r.json().await.unwrap_or(Value::Null);
            if status >= 400 {
                assert_eq!(ct, "application/problem+json", "{status} {v}");
            }
            (status, v)
        });
    }
    let mut out = Vec::new();
    while let Some(r) = set.join_next().await {
        out.push(r.unwrap());
    }
    out
}

/// One 201; every other answer a 409 `already_exists` naming `field`, or the 422 of the check that saw the
/// winner first naming the same field; never a 500.
fn one_winner(answers: &[(u16, Value)], field: &str, what: &str) {
    let created = answers.iter().filter(|(s, _)| *s == 201).count();
    assert_eq!(created, 1, "{what}: exactly one is created: {answers:?}");
    for (s, v) in answers.iter().filter(|(s, _)| *s != 201) {
        match s {
            409 => {
                assert_eq!(v["code"], "already_exists", "{what}: {v}");
                let m = format!("{}{}", v["message"]["zh"], v["message"]["en"]);
                assert!(m.contains(field), "{what}: the 409 names {field}: {v}");
            }
            422 => assert!(
                v["errors"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|e| e["field"] == field),
                "{what}: the 422 names {field}: {v}"
            ),
            _ => panic!("{what}: {s} {v}"),
        }
    }
}

async fn ten_users_with_one_username(b: Backend) {
    let app = TestApp::spawn(&b).await;
    let admin = app.token("admin").await;
    let body =
        json!({"username": "race", "display_name": "并发", "role": "bureau", "password": PASSWORD});
    let answers = at_once(&app, 10, "/api/v1/users", &admin, body).await;
    one_winner(&answers, "username", "ten users named race");
    let n: i64 = {
        use sanshe::db::schema::users as u;
        u::table
            .filter(u::username.eq("race"))
            .count()
            .get_result(&mut app.conn())
            .unwrap()
    };
    assert_eq!(n, 1);
    app.stop().await;
}

async fn ten_workers_with_one_certificate_number(b: Backend) {
    let app = TestApp::spawn_with(
        &b,
        Options {
            registry_demo: true,
            ..Default::default()
        },
    )
    .await;
    let bureau = app.token("bureau").await;
    let org: i64 = {
        use sanshe::db::schema::organisations as o;
        o::table
            .order(o::id)
            .select(o::id)
            .first(&mut app.conn())
            .unwrap()
    };
    let body = json!({
        "organisation_id": org, "name": "并发社工", "certificate_level": "social_worker",
        "certificate_number": "RACE-2026-1", "certified_on": "2020-06-01", "employment": "full_time"});
    let answers = at_once(&app, 10, "/api/v1/social-workers", &bureau, body).await;
    one_winner(
        &answers,
        "certificate_number",
        "ten workers with one certificate",
    );
    let n: i64 = {
        use sanshe::db::schema::social_workers as sw;
        sw::table
            .filter(sw::certificate_number.eq("RACE-2026-1"))
            .count()
            .get_result(&mut app.conn())
            .unwrap()
    };
    assert_eq!(n, 1);
    app.stop().await;
}

/// One organisation sends the same idempotency key for bids on two tenders at once: one bid is taken, the
/// other is told the key was used for something else (409), never a 500; one bid is stored.
async fn one_bid_key_on_two_tenders_at_once(b: Backend) {
    let fx = crate::tenders::setup(&b).await;
    let app = &fx.app;
    let mut ids = Vec::new();
    for code in ["RACE-A", "RACE-B"] {
        let id = crate::tenders::create_tender(&fx, &crate::tenders::tender_body(code)).await;
        crate::tenders::publish(&fx, id).await;
        ids.push(id);
    }
    let bidder = crate::tenders::bidders(app, 1).remove(0);
    let token = app.token(&bidder.user).await;
    for round in 0..5 {
        let body =
            crate::tenders::bid_body(&format!("race-key-{round}"), 10_000_000, bidder.worker);
        let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(2));
        let mut set = JoinSet::new();
        for id in ids.clone() {
            let (url, token, body, barrier) = (
                app.url(&format!("/api/v1/tenders/{id}/bids")),
                token.clone(),
                body.clone(),
                barrier.clone(),
            );
            set.spawn(async move {
                barrier.wait().await;
                let r = client()
                    .post(url)
                    .bearer_auth(token)
                    .json(&body)
                    .send()
                    .await
                    .unwrap();
                let status = r.status().as_u16();
                let v: Value = r.json().await.unwrap_or(Value::Null);
                (status, v)
            });
        }
        let mut answers = Vec::new();
        while let Some(r) = set.join_next().await {
            answers.push(r.unwrap());
        }
        let mut statuses: Vec<u16> = answers.iter().map(|(s, _)| *s).collect();
        statuses.sort();
        assert_eq!(statuses, vec![201, 409], "round {round}: {answers:?}");
        let refused = &answers.iter().find(|(s, _)| *s == 409).unwrap().1;
        assert_eq!(refused["code"], "idempotency_key_reused", "{refused}");
        let n: i64 = {
            use sanshe::db::schema::bids;
            bids::table
                .filter(bids::idem_key.eq(format!("race-key-{round}")))
                .count()
                .get_result(&mut app.conn())
                .unwrap()
        };
        assert_eq!(n, 1);
    }
    fx.app.stop().await;
}

both_backends!(
    ten_users_with_one_username,
    ten_workers_with_one_certificate_number,
    one_bid_key_on_two_tenders_at_once,
);

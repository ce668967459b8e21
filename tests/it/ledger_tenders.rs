//! A tender's budget on the ledger: publishing reserves the ceiling in the appropriation it names (422
//! `available_non_negative` when short, the tender stays a draft and nothing is written), cancelling
//! releases the whole reservation, the final award releases the ceiling less the winning price. Both
//! backends.

use chrono::Utc;
use diesel::prelude::*;
use serde_json::{Value, json};

use crate::both_backends;
use crate::helpers::*;
use crate::route_table::{Op, Roles};

/// The API operations of this feature, for the route table.
pub(crate) const ROUTES: &[Op] = &[crate::op!(
    "POST",
    "/api/v1/tenders/{id}/appropriation",
    "/api/v1/tenders/1/appropriation",
    Roles(&[sanshe::auth::Role::Bureau, sanshe::auth::Role::Admin]),
    r#"{"appropriation_id": 1}"#
)];

pub(crate) async fn balances(app: &TestApp) -> Vec<(String, i64)> {
    let fin = app.token("finance").await;
    let tb: Value = app
        .get("/api/v1/ledger/trial-balance", Some(&fin))
        .await
        .json()
        .await
        .unwrap();
    tb["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| {
            let a = r["account"].as_str().unwrap();
            a == AV || a == RS
        })
        .map(|r| {
            (
                r["account"].as_str().unwrap().to_string(),
                r["balance_fen"].as_i64().unwrap(),
            )
        })
        .collect()
}

pub(crate) const AV: &str = "Budget:Available:2026:general:elderly";
pub(crate) const RS: &str = "Budget:Reserved:2026:general:elderly";

pub(crate) async fn appropriation(app: &TestApp, key: &str, field: &str, yuan: &str) -> i64 {
    let fin = app.token("finance").await;
    let r = app
        .send_json(
            "POST",
            "/api/v1/appropriations",
            Some(&fin),
            &json!({"year": 2026, "fund": "general", "field": field, "amount": yuan, "document_no": key, "idempotency_key": key}),
        )
        .await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    r.json::<Value>().await.unwrap()["id"].as_i64().unwrap()
}

async fn draft(app: &TestApp, code: &str) -> i64 {
    let b = app.token("bureau").await;
    let r = app
        .send_json(
            "POST",
            "/api/v1/tenders",
            Some(&b),
            &crate::tenders::tender_body_at(code, Utc::now()),
        )
        .await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    r.json::<Value>().await.unwrap()["id"].as_i64().unwrap()
}

async fn name(app: &TestApp, tender: i64, appropriation: i64) -> reqwest::Response {
    let b = app.token("bureau").await;
    app.send_json(
        "POST",
        &format!("/api/v1/tenders/{tender}/appropriation"),
        Some(&b),
        &json!({ "appropriation_id": appropriation }),
    )
    .await
}

async fn publish(app: &TestApp, tender: i64) -> reqwest::Response {
    let b = app.token("bureau").await;
    app.send_json(
        "POST",
        &format!("/api/v1/tenders/{tender}/publish"),
        Some(&b),
        &json!({}),
    )
    .await
}

fn ledger_rows(app: &TestApp) -> String {
    use sanshe::db::schema::{ledger_balances as lb, ledger_entries as le, tenders as t};
    let mut c = app.conn();
    let e: Vec<(i64, String)> = le::table
        .order(le::seq)
        .select((le::seq, le::hash))
        .load(&mut c)
        .unwrap();
    let b: Vec<(String, i64)> = lb::table
        .order(lb::account)
        .select((lb::account, lb::balance_fen))
        .load(&mut c)
        .unwrap();
    let s: Vec<(i64, String)> = t::table
        .order(t::id)
        .select((t::id, t::state))
        .load(&mut c)
        .unwrap();
    format!("{}\n{e:?}\n{b:?}\n{s:?}", app.snapshot())
}

async fn publishing_reserves_and_cancelling_releases(b: Backend) {
    let app = TestApp::spawn_with(
        &b,
        Options {
            registry_demo: true,
            ..Default::default()
        },
    )
    .await;
    let appr = appropriation(&app, "T-1", "elderly", "300000").await;
    let youth = appropriation(&app, "T-2", "youth", "900000").await;
    let a = draft(&app, "LT-1").await;
    // The appropriation must exist and be for the tender's field (or any field).
    let r = name(&app, a, 999).await;
    let p = problem(r, 422, "validation_failed").await;
    assert_eq!(p["errors"][0]["rule"], "exists");
    let r = name(&app, a, youth).await;
    let p = problem(r, 422, "validation_failed").await;
    assert_eq!(p["errors"][0]["rule"], "field_mismatch");
    let r = name(&app, a, appr).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let f: Value = r.json().await.unwrap();
    assert_eq!(
        (f["ceiling"].as_str(), f["available"].as_str()),
        (Some("200000.00"), Some("300000.00"))
    );
    // Publishing reserves the ceiling.
    let r = publish(&app, a).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    assert_eq!(
        balances(&app).await,
        [(AV.into(), 10_000_000), (RS.into(), 20_000_000)]
    );
    // A second tender of the same ceiling on the same budget: 422, still a draft, nothing written.
    let bt = draft(&app, "LT-2").await;
    assert_eq!(name(&app, bt, appr).await.status(), 200);
    let before = ledger_rows(&app);
    let r = publish(&app, bt).await;
    let p = problem(r, 422, "validation_failed").await;
    assert_eq!(p["errors"][0]["field"], "appropriation_id", "{p}");
    assert_eq!(p["errors"][0]["rule"], "available_non_negative", "{p}");
    assert!(
        p["errors"][0]["message"]["zh-CN"]
            .as_str()
            .unwrap()
            .contains("可用 100000.00 元"),
        "{p}"
    );
    assert_eq!(
        ledger_rows(&app),
        before,
        "a refused publication changed the database"
    );
    // A published tender's budget cannot be changed.
    let r = name(&app, a, appr).await;
    problem(r, 409, "wrong_state").await;
    // Cancelling the first releases its whole reservation; then the second can be published.
    let bu = app.token("bureau").await;
    let r = app
        .send_json(
            "POST",
            &format!("/api/v1/tenders/{a}/cancel"),
            Some(&bu),
            &json!({"reason": "需求变更"}),
        )
        .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    assert_eq!(
        balances(&app).await,
        [(AV.into(), 30_000_000), (RS.into(), 0)]
    );
    assert_eq!(publish(&app, bt).await.status(), 200);
    assert_eq!(
        balances(&app).await,
        [(AV.into(), 10_000_000), (RS.into(), 20_000_000)]
    );
    let fin = app.token("finance").await;
    let v: Value = app
        .get("/api/v1/ledger/verify", Some(&fin))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (v["ok"].as_bool(), v["entries"].as_i64()),
        (Some(true), Some(5)),
        "{v}"
    );
    let e: Value = app
        .get("/api/v1/ledger/entries/4", Some(&fin))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (e["kind"].as_str(), e["tender_id"].as_i64()),
        (Some("release"), Some(a))
    );
    app.stop().await;
}

/// The final award releases the ceiling less the winning price (the rest stays reserved for the
/// contract). Driven through the hook every state change calls, on an opened tender with real bids.
async fn the_award_releases_ceiling_less_price(b: Backend) {
    use sanshe::db::schema::{bids as bd, tender_funding as tf, tenders as t, users as u};
    let app = TestApp::spawn_with(
        &b,
        Options {
            registry_demo: true,
            ..Default::default()
        },
    )
    .await;
    let appr = appropriation(&app, "T-1", "elderly", "300000").await;
    let id = crate::tenders::opened_tender_fixture(&app);
    let mut c = app.conn();
    let bureau: i64 = u::table
        .filter(u::username.eq("bureau"))
        .select(u::id)
        .first(&mut c)
        .unwrap();
    diesel::insert_into(tf::table)
        .values((
            tf::tender_id.eq(id),
            tf::appropriation_id.eq(appr),
            tf::named_by.eq(bureau),
            tf::named_at.eq(Utc::now().naive_utc()),
        ))
        .execute(&mut c)
        .unwrap();
    let actor = sanshe::audit::Actor::system("test");
    let now = Utc::now();
    use sanshe::domain::tender::State;
    sanshe::ledger::tenders::on_move(&mut c, &actor, now, id, State::Published).unwrap();
    let (bid, price): (i64, Option<i64>) = bd::table
        .filter(bd::tender_id.eq(id))
        .order(bd::price_fen.asc())
        .select((bd::id, bd::price_fen))
        .first(&mut c)
        .unwrap();
    assert_eq!(price, Some(10_000_000));
    diesel::update(t::table.find(id))
        .set(t::award_bid_id.eq(bid))
        .execute(&mut c)
        .unwrap();
    sanshe::ledger::tenders::on_move(&mut c, &actor, now, id, State::Awarded).unwrap();
    // Ceiling 200,000, price 100,000: 100,000 released, 100,000 stays reserved.
    assert_eq!(
        balances(&app).await,
        [(AV.into(), 20_000_000), (RS.into(), 10_000_000)]
    );
    // Again (a retry of the same step) changes nothing.
    sanshe::ledger::tenders::on_move(&mut c, &actor, now, id, State::Awarded).unwrap();
    assert_eq!(
        balances(&app).await,
        [(AV.into(), 20_000_000), (RS.into(), 10_000_000)]
    );
    assert!(sanshe::ledger::verify(&mut c).unwrap().ok);
    app.stop().await;
}

both_backends!(
    publishing_reserves_and_cancelling_releases,
    the_award_releases_ceiling_less_price
);

/// Two tenders whose ceilings together exceed the budget, published at the same moment: exactly one is
/// published and reserves; the other stays a draft with 422 `available_non_negative`. Ten requests with one
/// appropriation key at once record one appropriation.
async fn concurrent_writes_meet_under_the_lock(b: Backend) {
    let app = TestApp::spawn_with(
        &b,
        Options {
            registry_demo: true,
            ..Default::default()
        },
    )
    .await;
    let appr = appropriation(&app, "T-1", "elderly", "300000").await;
    let (a, bt) = (draft(&app, "LC-1").await, draft(&app, "LC-2").await);
    for t in [a, bt] {
        assert_eq!(name(&app, t, appr).await.status(), 200);
    }
    let (ra, rb) = tokio::join!(publish(&app, a), publish(&app, bt));
    let mut statuses = vec![ra.status().as_u16(), rb.status().as_u16()];
    statuses.sort();
    assert_eq!(statuses, [200, 422]);
    assert_eq!(
        balances(&app).await,
        [(AV.into(), 10_000_000), (RS.into(), 20_000_000)]
    );
    let fin = app.token("finance").await;
    let body = json!({"year": 2026, "fund": "lottery", "amount": "5000", "document_no": "并发", "idempotency_key": "same-key"});
    let sends = (0..10).map(|_| app.send_json("POST", "/api/v1/appropriations", Some(&fin), &body));
    let answers = futures_util::future::join_all(sends).await;
    let mut ids = std::collections::BTreeSet::new();
    let mut created = 0;
    for r in answers {
        let s = r.status().as_u16();
        assert!(s == 201 || s == 200, "{s}");
        created += usize::from(s == 201);
        ids.insert(r.json::<Value>().await.unwrap()["id"].as_i64().unwrap());
    }
    assert_eq!((created, ids.len()), (1, 1));
    let v: Value = app
        .get("/api/v1/ledger/verify", Some(&fin))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (v["ok"].as_bool(), v["entries"].as_i64()),
        (Some(true), Some(3)),
        "{v}"
    );
    app.stop().await;
}

both_backends!(concurrent_writes_meet_under_the_lock);

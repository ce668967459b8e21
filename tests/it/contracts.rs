//! Contracts on the ledger: created from the final award, signed (commitment from the tender's
//! reservation; the signing instalment accrues; the tender becomes contracted; the notice appears),
//! milestones accepted in order (accruals), instalments paid once each (idempotent, separation of duties),
//! closed; the public sees the notice only; every refusal names its rule and changes nothing; concurrent
//! signings beyond the budget and concurrent payments of one instalment. Both backends.

use chrono::{Duration, Utc};
use diesel::prelude::*;
use serde_json::{Value, json};

use crate::both_backends;
use crate::helpers::*;
use crate::route_table::{ANY_ROLE, Op, Public, Roles};
use sanshe::auth::Role;

const BA: &[Role] = &[Role::Bureau, Role::Admin];
const FINANCE: &[Role] = &[Role::Finance];
const BUREAU: &[Role] = &[Role::Bureau];

/// The API operations of contracts, for the route table.
pub(crate) const ROUTES: &[Op] = &[
    crate::op!("GET", "/api/v1/contracts", "/api/v1/contracts", Public),
    crate::op!(
        "GET",
        "/api/v1/contracts/export",
        "/api/v1/contracts/export",
        Public
    ),
    crate::op!(
        "POST",
        "/api/v1/contracts",
        "/api/v1/contracts",
        Roles(BA),
        r#"{"tender_id": 1, "contract_no": "", "term_start": ""}"#
    ),
    crate::op!(
        "GET",
        "/api/v1/contracts/{id}",
        "/api/v1/contracts/1",
        Public
    ),
    crate::op!(
        "GET",
        "/api/v1/contracts/{id}/statement/export",
        "/api/v1/contracts/1/statement/export",
        Roles(ANY_ROLE)
    ),
    crate::op!(
        "POST",
        "/api/v1/contracts/{id}/sign",
        "/api/v1/contracts/1/sign",
        Roles(BA),
        r#"{"signed_on": ""}"#
    ),
    crate::op!(
        "POST",
        "/api/v1/contracts/{id}/start",
        "/api/v1/contracts/1/start",
        Roles(BA),
        "{}"
    ),
    crate::op!(
        "POST",
        "/api/v1/contracts/{id}/instalments/{no}/acceptance",
        "/api/v1/contracts/1/instalments/1/acceptance",
        Roles(BA),
        r#"{"accepted_on": "", "effect_score": "", "evaluator": "", "report_sha256": ""}"#
    ),
    crate::op!(
        "GET",
        "/api/v1/contracts/{id}/performance",
        "/api/v1/contracts/1/performance",
        Roles(ANY_ROLE)
    ),
    crate::op!(
        "GET",
        "/api/v1/contracts/{id}/surveys",
        "/api/v1/contracts/1/surveys",
        Roles(ANY_ROLE)
    ),
    crate::op!(
        "POST",
        "/api/v1/contracts/{id}/surveys",
        "/api/v1/contracts/1/surveys",
        Roles(BUREAU),
        r#"{"surveyed_on": ""}"#
    ),
    crate::op!(
        "POST",
        "/api/v1/contracts/{id}/payments",
        "/api/v1/contracts/1/payments",
        Roles(FINANCE),
        r#"{"idempotency_key": "route-table-pay", "instalment": 1, "voucher_no": ""}"#
    ),
    crate::op!(
        "POST",
        "/api/v1/contracts/{id}/terminate",
        "/api/v1/contracts/1/terminate",
        Roles(BA),
        r#"{"reason": ""}"#
    ),
    crate::op!(
        "POST",
        "/api/v1/contracts/{id}/close",
        "/api/v1/contracts/1/close",
        Roles(BA),
        "{}"
    ),
];

pub(crate) const REPORT: &str = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

pub(crate) async fn appropriation(app: &TestApp, key: &str, yuan: &str) -> i64 {
    let r = app
        .send_json(
            "POST",
            "/api/v1/appropriations",
            Some(&app.token("finance").await),
            &json!({"year": 2026, "fund": "general", "field": "elderly", "amount": yuan,
                    "document_no": key, "idempotency_key": key}),
        )
        .await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    r.json::<Value>().await.unwrap()["id"].as_i64().unwrap()
}

/// An opened tender with three bids (100,000, 110,000, 120,000 yuan), awarded to the lowest a day ago; when
/// `funded`, it draws on `funded` and its budget moved as publication and the award move it (the ceiling
/// of 200,000 reserved, then 100,000 released).
pub(crate) fn awarded_tender(app: &TestApp, code: &str, funded: Option<i64>) -> (i64, i64) {
    use sanshe::db::schema::{bids as bd, tender_funding as tf, tenders as t, users as u};
    let id = crate::tenders::opened_tender_coded(app, code);
    let mut c = app.conn();
    let now = Utc::now();
    let actor = sanshe::audit::Actor::system("fixture");
    use sanshe::domain::tender::State;
    if let Some(appr) = funded {
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
                tf::named_at.eq(now.naive_utc()),
            ))
            .execute(&mut c)
            .unwrap();
        sanshe::ledger::tenders::on_move(&mut c, &actor, now, id, State::Published).unwrap();
    }
    let (bid, org): (i64, i64) = bd::table
        .filter(bd::tender_id.eq(id))
        .order(bd::price_fen.asc())
        .select((bd::id, bd::organisation_id))
        .first(&mut c)
        .unwrap();
    diesel::update(t::table.find(id))
        .set((
            t::award_bid_id.eq(bid),
            t::state.eq("awarded"),
            t::awarded_at.eq((now - Duration::days(1)).naive_utc()),
        ))
        .execute(&mut c)
        .unwrap();
    if funded.is_some() {
        sanshe::ledger::tenders::on_move(&mut c, &actor, now, id, State::Awarded).unwrap();
    }
    (id, org)
}

pub(crate) async fn create(app: &TestApp, tender: i64, no: &str) -> Value {
    let r = app
        .send_json(
            "POST",
            "/api/v1/contracts",
            Some(&app.token("bureau").await),
            &json!({"tender_id": tender, "contract_no": no, "term_start": sanshe::clock::beijing_date(Utc::now()).to_string()}),
        )
        .await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    r.json().await.unwrap()
}

pub(crate) async fn sign(app: &TestApp, id: i64, appropriation: Option<i64>) -> reqwest::Response {
    let today = sanshe::clock::beijing_date(Utc::now());
    let mut body = json!({"signed_on": today.to_string()});
    if let Some(a) = appropriation {
        body["appropriation_id"] = json!(a);
    }
    app.send_json(
        "POST",
        &format!("/api/v1/contracts/{id}/sign"),
        Some(&app.token("bureau").await),
        &body,
    )
    .await
}

pub(crate) async fn accept(app: &TestApp, id: i64, no: i32, score: &str) -> reqwest::Response {
    let today = sanshe::clock::beijing_date(Utc::now());
    app.send_json(
        "POST",
        &format!("/api/v1/contracts/{id}/instalments/{no}/acceptance"),
        Some(&app.token("bureau").await),
        &json!({"accepted_on": today.to_string(), "effect_score": score, "evaluator": "第三方评估中心", "report_sha256": REPORT}),
    )
    .await
}

pub(crate) async fn pay(
    app: &TestApp,
    token: &str,
    id: i64,
    no: i32,
    key: &str,
    voucher: &str,
) -> reqwest::Response {
    app.send_json(
        "POST",
        &format!("/api/v1/contracts/{id}/payments"),
        Some(token),
        &json!({"idempotency_key": key, "instalment": no, "voucher_no": voucher}),
    )
    .await
}

/// A signed contract (id 1 in a fresh database) on a second awarded tender, for the route table.
pub(crate) async fn signed_contract_fixture(app: &TestApp) -> i64 {
    let appr = appropriation(app, "RT-C", "300000").await;
    let (tender, _) = awarded_tender(app, "RT-C", None);
    let id = create(app, tender, "RT-HT-1").await["id"].as_i64().unwrap();
    let r = sign(app, id, Some(appr)).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    id
}

/// Every row the contract steps write, with the shared snapshot: equal means nothing changed.
fn snapshot(app: &TestApp) -> String {
    use sanshe::db::schema::{
        contract_instalments as ci, contracts as ct, ledger_balances as lb, ledger_entries as le,
        payments as pm, tenders as t,
    };
    let mut c = app.conn();
    let contracts: Vec<(i64, String, Option<chrono::NaiveDate>)> = ct::table
        .order(ct::id)
        .select((ct::id, ct::state, ct::signed_on))
        .load(&mut c)
        .unwrap();
    let inst: Vec<(i64, Option<chrono::NaiveDate>, Option<String>)> = ci::table
        .order(ci::id)
        .select((ci::id, ci::accepted_on, ci::score))
        .load(&mut c)
        .unwrap();
    let pays: Vec<(i64, String)> = pm::table
        .order(pm::id)
        .select((pm::id, pm::voucher_no))
        .load(&mut c)
        .unwrap();
    let entries: Vec<(i64, String)> = le::table
        .order(le::seq)
        .select((le::seq, le::hash))
        .load(&mut c)
        .unwrap();
    let bal: Vec<(String, i64)> = lb::table
        .order(lb::account)
        .select((lb::account, lb::balance_fen))
        .load(&mut c)
        .unwrap();
    let tenders: Vec<(i64, String)> = t::table
        .order(t::id)
        .select((t::id, t::state))
        .load(&mut c)
        .unwrap();
    format!(
        "{}\n{contracts:?}\n{inst:?}\n{pays:?}\n{entries:?}\n{bal:?}\n{tenders:?}",
        app.snapshot()
    )
}

async fn balance(app: &TestApp, account: &str) -> i64 {
    let tb: Value = app
        .get(
            "/api/v1/ledger/trial-balance",
            Some(&app.token("finance").await),
        )
        .await
        .json()
        .await
        .unwrap();
    tb["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["account"] == account)
        .map_or(0, |r| r["balance_fen"].as_i64().unwrap())
}

fn problem_field(v: &Value) -> (String, String) {
    (
        v["errors"][0]["field"].as_str().unwrap_or("").into(),
        v["errors"][0]["rule"].as_str().unwrap_or("").into(),
    )
}

const B: &str = "2026:general:elderly";

/// The whole life of a contract on the ledger, each refusal with its rule and nothing changed.
async fn contract_life_cycle(b: Backend) {
    let app = TestApp::spawn_with(
        &b,
        Options {
            registry_demo: true,
            ..Default::default()
        },
    )
    .await;
    let appr = appropriation(&app, "C-1", "300000").await;
    let (tender, org) = awarded_tender(&app, "CT-1", Some(appr));
    // After the award: ceiling 200,000 reserved, 100,000 released; 100,000 stays reserved for the contract.
    assert_eq!(
        balance(&app, &format!("Budget:Reserved:{B}")).await,
        10_000_000
    );

    let v = create(&app, tender, "GD-HT-2026-001").await;
    let id = v["id"].as_i64().unwrap();
    assert_eq!(v["state"], "draft");
    assert_eq!(v["money"]["amount_fen"], 10_000_000);
    assert_eq!(v["organisation_id"], org);
    let amounts: Vec<i64> = v["instalments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["amount_fen"].as_i64().unwrap())
        .collect();
    assert_eq!(amounts, [3_000_000, 4_000_000, 3_000_000]);
    assert_eq!(v["instalments"][0]["on_signing"], true);
    assert!(!v["budget_lines"].as_array().unwrap().is_empty());
    // A second contract for the tender: 409.
    let r = app
        .send_json(
            "POST",
            "/api/v1/contracts",
            Some(&app.token("bureau").await),
            &json!({"tender_id": tender, "contract_no": "GD-HT-2026-002", "term_start": "2026-12-01"}),
        )
        .await;
    assert_eq!(r.status(), 409);
    assert_eq!(r.json::<Value>().await.unwrap()["code"], "contract_exists");

    // A draft is nobody's business but the bureau's.
    assert_eq!(
        app.get(&format!("/api/v1/contracts/{id}"), None)
            .await
            .status(),
        404
    );

    // Signing on a date before the award: 422 naming the field, nothing changed.
    let before = snapshot(&app);
    let r = app
        .send_json(
            "POST",
            &format!("/api/v1/contracts/{id}/sign"),
            Some(&app.token("bureau").await),
            &json!({"signed_on": "2020-01-01"}),
        )
        .await;
    assert_eq!(r.status(), 422);
    let p: Value = r.json().await.unwrap();
    assert_eq!(problem_field(&p), ("signed_on".into(), "range".into()));
    assert_eq!(snapshot(&app), before);

    let r = sign(&app, id, None).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["state"], "signed");
    assert!(v["notice_on"].is_string());
    // The signing instalment accrued at once; the rest is committed.
    assert_eq!(v["money"]["committed_fen"], 10_000_000);
    assert_eq!(v["money"]["accrued_fen"], 3_000_000);
    assert_eq!(v["instalments"][0]["status"], "accepted");
    assert_eq!(balance(&app, &format!("Budget:Reserved:{B}")).await, 0);
    assert_eq!(
        balance(&app, &format!("Budget:Committed:{B}")).await,
        7_000_000
    );
    assert_eq!(
        balance(&app, &format!("Budget:Expended:{B}")).await,
        3_000_000
    );
    assert_eq!(
        balance(&app, &format!("Liabilities:Payable:org{org}")).await,
        -3_000_000
    );
    let t: Value = app
        .get(
            &format!("/api/v1/tenders/{tender}"),
            Some(&app.token("bureau").await),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(t["state"], "contracted");

    // The public sees the notice: amount and paid, nothing of the instalments or budget lines.
    let pubv: Value = app
        .get(&format!("/api/v1/contracts/{id}"), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(pubv["whole"], false);
    assert_eq!(pubv["money"]["amount_fen"], 10_000_000);
    assert!(pubv["instalments"].as_array().unwrap().is_empty());
    assert!(pubv["budget_lines"].as_array().unwrap().is_empty());
    let list: Value = app
        .get("/api/v1/contracts?q=GD-HT", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["total"], 1);

    // Paying: a retry with the key returns the first payment; the key with other content is 409; another
    // key for a paid instalment is 409 paid_once.
    let fin = app.token("finance").await;
    let r = pay(&app, &fin, id, 1, "pay-1", "JZ-2026-0001").await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let first: Value = r.json().await.unwrap();
    let r = pay(&app, &fin, id, 1, "pay-1", "JZ-2026-0001").await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap()["id"], first["id"]);
    let before = snapshot(&app);
    let r = pay(&app, &fin, id, 1, "pay-1", "JZ-2026-9999").await;
    assert_eq!(r.status(), 409);
    assert_eq!(
        r.json::<Value>().await.unwrap()["code"],
        "idempotency_key_reused"
    );
    let r = pay(&app, &fin, id, 1, "pay-1b", "JZ-2026-0002").await;
    assert_eq!(r.status(), 409);
    assert_eq!(r.json::<Value>().await.unwrap()["code"], "paid_once");
    // Not accepted yet: 409 accepted_first.
    let r = pay(&app, &fin, id, 2, "pay-2", "JZ-2026-0002").await;
    assert_eq!(r.status(), 409);
    assert_eq!(r.json::<Value>().await.unwrap()["code"], "accepted_first");
    // Milestones in order; a bad score is 422 on `score`.
    let r = accept(&app, id, 3, "88").await;
    assert_eq!(r.status(), 409);
    assert_eq!(r.json::<Value>().await.unwrap()["code"], "milestone_order");
    let r = accept(&app, id, 2, "101").await;
    assert_eq!(r.status(), 422);
    assert_eq!(
        problem_field(&r.json().await.unwrap()),
        ("effect_score".into(), "range".into())
    );
    // A voucher number used twice is 422 on voucher_no (checked after acceptance, so accept first below).
    assert_eq!(snapshot(&app), before);

    let r = accept(&app, id, 2, "86.5").await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["state"], "midterm_accepted");
    // The effect score is one weighted component (DOMAIN.md, Performance): on the term's first day
    // with no activity, survey or spending yet, output, satisfaction and execution are 0, so the score is
    // 86.5 × 30 % = 25.95 → 26, 差 (tests/it/performance.rs works a full case by hand).
    assert_eq!(v["instalments"][1]["score"], "26");
    assert_eq!(v["instalments"][1]["grade"], "差");
    assert_eq!(
        v["instalments"][1]["performance"]["components"]["effect"],
        "86.5"
    );
    let before = snapshot(&app);
    let r = pay(&app, &fin, id, 2, "pay-2", "JZ-2026-0001").await;
    assert_eq!(r.status(), 422);
    assert_eq!(
        problem_field(&r.json().await.unwrap()),
        ("voucher_no".into(), "unique".into())
    );
    assert_eq!(snapshot(&app), before);

    // The person who accepted a milestone cannot pay it: the bureau officer moved to finance.
    {
        use sanshe::db::schema::users as u;
        diesel::update(u::table.filter(u::username.eq("bureau")))
            .set(u::role.eq("finance"))
            .execute(&mut app.conn())
            .unwrap();
    }
    let moved = app.token("bureau").await;
    let r = pay(&app, &moved, id, 2, "pay-2-moved", "JZ-2026-0003").await;
    assert_eq!(r.status(), 403, "{}", r.text().await.unwrap());
    assert_eq!(
        r.json::<Value>().await.unwrap()["code"],
        "separation_of_duties"
    );
    {
        use sanshe::db::schema::users as u;
        diesel::update(u::table.filter(u::username.eq("bureau")))
            .set(u::role.eq("bureau"))
            .execute(&mut app.conn())
            .unwrap();
    }
    assert_eq!(snapshot(&app), before);
    let r = pay(&app, &fin, id, 2, "pay-2", "JZ-2026-0002").await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());

    // The organisation sees its own contract whole; another organisation the notice only.
    let own: Value = app
        .get(
            &format!("/api/v1/contracts/{id}"),
            Some(&org_token(&app, org).await),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(own["whole"], true);
    assert_eq!(own["money"]["paid_fen"], 7_000_000);

    // Closing before the final acceptance: 409; after it and the last payment: closed, nothing committed.
    let r = app
        .send_json(
            "POST",
            &format!("/api/v1/contracts/{id}/close"),
            Some(&app.token("bureau").await),
            &json!({}),
        )
        .await;
    assert_eq!(r.status(), 409);
    let r = accept(&app, id, 3, "92").await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    assert_eq!(r.json::<Value>().await.unwrap()["state"], "final_accepted");
    let r = pay(&app, &fin, id, 3, "pay-3", "JZ-2026-0004").await;
    assert_eq!(r.status(), 201);
    let r = app
        .send_json(
            "POST",
            &format!("/api/v1/contracts/{id}/close"),
            Some(&app.token("bureau").await),
            &json!({}),
        )
        .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["state"], "closed");
    assert_eq!(v["money"]["paid_fen"], 10_000_000);
    assert_eq!(balance(&app, &format!("Budget:Committed:{B}")).await, 0);
    assert_eq!(
        balance(&app, &format!("Budget:Expended:{B}")).await,
        10_000_000
    );
    assert_eq!(balance(&app, "Assets:Treasury:general").await, -10_000_000);
    assert_eq!(
        balance(&app, &format!("Liabilities:Payable:org{org}")).await,
        0
    );
    assert!(sanshe::ledger::verify(&mut app.conn()).unwrap().ok);

    // Budget execution: this budget appropriated 300,000, committed, accrued and paid 100,000: 33.3 %.
    let e: Value = app
        .get(
            "/api/v1/ledger/execution?year=2026&fund=general&field=elderly",
            Some(&fin),
        )
        .await
        .json()
        .await
        .unwrap();
    let t = &e["total"];
    assert_eq!(
        (
            t["appropriated_fen"].as_i64(),
            t["committed_fen"].as_i64(),
            t["accrued_fen"].as_i64(),
            t["paid_fen"].as_i64(),
            t["available_fen"].as_i64(),
            t["rate"].as_str()
        ),
        (
            Some(30_000_000),
            Some(10_000_000),
            Some(10_000_000),
            Some(10_000_000),
            Some(20_000_000),
            Some("33.3")
        )
    );
    assert_eq!(e["by_month"][0]["cumulative_fen"], 10_000_000);
    assert_eq!(e["by_street"][0]["paid_fen"], 10_000_000);
    let csv = app
        .get("/api/v1/ledger/execution/export?year=2026", Some(&fin))
        .await
        .text()
        .await
        .unwrap();
    assert!(csv.contains("300000.00") && csv.contains("33.3"), "{csv}");

    // The statement as CSV, and the e-mails the organisation got.
    let csv = app
        .get(
            &format!("/api/v1/contracts/{id}/statement/export"),
            Some(&fin),
        )
        .await
        .text()
        .await
        .unwrap();
    assert!(csv.contains("JZ-2026-0004"), "{csv}");
    assert!(csv.contains("100000.00"), "{csv}");
    let mails: Vec<String> = {
        use sanshe::db::schema::outbox as o;
        o::table.select(o::template).load(&mut app.conn()).unwrap()
    };
    for t in ["contract_signed", "milestone_accepted", "payment_made"] {
        assert!(mails.iter().any(|m| m == t), "no {t} mail: {mails:?}");
    }
    app.stop().await;
}

pub(crate) async fn org_token(app: &TestApp, org: i64) -> String {
    use sanshe::db::schema::users as u;
    let name: String = u::table
        .filter(u::org_id.eq(org))
        .select(u::username)
        .first(&mut app.conn())
        .unwrap();
    app.token(&name).await
}

/// Terminating releases what is committed and not accepted; accepted instalments stay payable.
async fn termination_releases_the_rest(b: Backend) {
    let app = TestApp::spawn_with(
        &b,
        Options {
            registry_demo: true,
            ..Default::default()
        },
    )
    .await;
    let appr = appropriation(&app, "C-T", "300000").await;
    let (tender, _) = awarded_tender(&app, "CT-T", Some(appr));
    let id = create(&app, tender, "GD-HT-T").await["id"]
        .as_i64()
        .unwrap();
    assert_eq!(sign(&app, id, None).await.status(), 200);
    let before = snapshot(&app);
    let r = app
        .send_json(
            "POST",
            &format!("/api/v1/contracts/{id}/terminate"),
            Some(&app.token("bureau").await),
            &json!({"reason": " "}),
        )
        .await;
    assert_eq!(r.status(), 422);
    assert_eq!(
        problem_field(&r.json().await.unwrap()),
        ("reason".into(), "required".into())
    );
    assert_eq!(snapshot(&app), before);
    let r = app
        .send_json(
            "POST",
            &format!("/api/v1/contracts/{id}/terminate"),
            Some(&app.token("bureau").await),
            &json!({"reason": "服务机构注销"}),
        )
        .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["state"], "terminated");
    // 70,000 released back; the 30,000 signing instalment stays owed and payable.
    assert_eq!(v["money"]["committed_fen"], 3_000_000);
    assert_eq!(balance(&app, &format!("Budget:Committed:{B}")).await, 0);
    assert_eq!(
        balance(&app, &format!("Budget:Available:{B}")).await,
        27_000_000
    );
    let fin = app.token("finance").await;
    assert_eq!(pay(&app, &fin, id, 1, "t-1", "JZ-T-1").await.status(), 201);
    assert!(sanshe::ledger::verify(&mut app.conn()).unwrap().ok);
    app.stop().await;
}

/// Two signings at once that together exceed the available budget: exactly one is signed, the other is 422
/// `available_non_negative` and stays a draft.
async fn concurrent_signings_within_the_budget(b: Backend) {
    let app = TestApp::spawn_with(
        &b,
        Options {
            registry_demo: true,
            ..Default::default()
        },
    )
    .await;
    let appr = appropriation(&app, "C-R", "150000").await;
    let (t1, _) = awarded_tender(&app, "CR-1", None);
    let (t2, _) = awarded_tender(&app, "CR-2", None);
    let c1 = create(&app, t1, "GD-R-1").await["id"].as_i64().unwrap();
    let c2 = create(&app, t2, "GD-R-2").await["id"].as_i64().unwrap();
    let (a, b2) = tokio::join!(sign(&app, c1, Some(appr)), sign(&app, c2, Some(appr)));
    let mut statuses = [a.status().as_u16(), b2.status().as_u16()];
    let bodies = [a.text().await.unwrap(), b2.text().await.unwrap()];
    statuses.sort();
    assert_eq!(statuses, [200, 422], "{bodies:?}");
    assert!(
        bodies.iter().any(|t| t.contains("available_non_negative")),
        "{bodies:?}"
    );
    let signed: i64 = {
        use sanshe::db::schema::contracts as ct;
        ct::table
            .filter(ct::state.eq("signed"))
            .count()
            .get_result(&mut app.conn())
            .unwrap()
    };
    assert_eq!(signed, 1);
    assert_eq!(
        balance(&app, &format!("Budget:Available:{B}")).await,
        5_000_000
    );
    assert!(sanshe::ledger::verify(&mut app.conn()).unwrap().ok);
    app.stop().await;
}

/// 100 concurrent payment requests for one instalment with one key, and 100 with a key each for another:
/// exactly one payment each.
async fn concurrent_payments_pay_once(b: Backend) {
    let app = TestApp::spawn_with(
        &b,
        Options {
            registry_demo: true,
            ..Default::default()
        },
    )
    .await;
    let appr = appropriation(&app, "C-P", "300000").await;
    let (tender, _) = awarded_tender(&app, "CP-1", Some(appr));
    let id = create(&app, tender, "GD-P-1").await["id"].as_i64().unwrap();
    assert_eq!(sign(&app, id, None).await.status(), 200);
    assert_eq!(accept(&app, id, 2, "90").await.status(), 200);
    let fin = app.token("finance").await;
    let same = futures_util::future::join_all(
        (0..100).map(|_| pay(&app, &fin, id, 1, "same-key", "JZ-P-1")),
    )
    .await;
    let mut ids = std::collections::BTreeSet::new();
    let mut created = 0;
    for r in same {
        let s = r.status().as_u16();
        assert!(s == 200 || s == 201, "{s}");
        created += usize::from(s == 201);
        ids.insert(r.json::<Value>().await.unwrap()["id"].as_i64().unwrap());
    }
    assert_eq!((created, ids.len()), (1, 1));
    let keys: Vec<(String, String)> = (0..100)
        .map(|i| (format!("key-{i}"), format!("JZ-P2-{i}")))
        .collect();
    let many =
        futures_util::future::join_all(keys.iter().map(|(k, v)| pay(&app, &fin, id, 2, k, v)))
            .await;
    let mut statuses = std::collections::BTreeMap::new();
    for r in many {
        *statuses.entry(r.status().as_u16()).or_insert(0) += 1;
    }
    assert_eq!(statuses.get(&201), Some(&1), "{statuses:?}");
    assert_eq!(statuses.get(&409), Some(&99), "{statuses:?}");
    let n: i64 = {
        use sanshe::db::schema::payments as pm;
        pm::table.count().get_result(&mut app.conn()).unwrap()
    };
    assert_eq!(n, 2);
    assert!(sanshe::ledger::verify(&mut app.conn()).unwrap().ok);
    app.stop().await;
}

/// 政府采购法 Art 46: the 30 days to sign run from the award letter, issued with the result notice, not
/// from the end of the challenge window; the term may start once the letter is out, not before.
async fn art46_signing_clock_runs_from_the_award_letter(b: Backend) {
    let app = TestApp::spawn_with(
        &b,
        Options {
            registry_demo: true,
            ..Default::default()
        },
    )
    .await;
    let (tender, _) = awarded_tender(&app, "CT-L", None);
    let letter = Utc::now() - Duration::days(40);
    {
        use sanshe::db::schema::tenders as t;
        diesel::update(t::table.find(tender))
            .set(t::result_published_at.eq(letter.naive_utc()))
            .execute(&mut app.conn())
            .unwrap();
    }
    let letter_on = sanshe::clock::beijing_date(letter);
    // A term starting before the letter: refused, nothing written.
    let before = app.snapshot();
    let r = app
        .send_json(
            "POST",
            "/api/v1/contracts",
            Some(&app.token("bureau").await),
            &json!({"tender_id": tender, "contract_no": "GD-HT-L-1",
                    "term_start": (letter_on - Duration::days(1)).to_string()}),
        )
        .await;
    assert_eq!(r.status(), 422);
    let p: Value = r.json().await.unwrap();
    assert_eq!(
        problem_field(&p),
        ("term_start".into(), "after_award".into()),
        "{p}"
    );
    assert_eq!(app.snapshot(), before);
    let v = create(&app, tender, "GD-HT-L-1").await;
    assert_eq!(v["awarded_on"], letter_on.to_string(), "{v}");
    // Signed today, 40 days after the letter (the award itself only a day ago): late.
    let id = v["id"].as_i64().unwrap();
    let r = sign(&app, id, Some(appropriation(&app, "C-L", "300000").await)).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let flags: Value = app
        .get(
            &format!("/api/v1/flags?rule=signed_late&contract={id}"),
            Some(&app.token("finance").await),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        flags["total"], 1,
        "signed 40 days after the letter is late: {flags}"
    );
    assert_eq!(flags["items"][0]["rule"], "signed_late", "{flags}");
    app.stop().await;
}

both_backends!(
    contract_life_cycle,
    art46_signing_clock_runs_from_the_award_letter,
    termination_releases_the_rest,
    concurrent_signings_within_the_budget,
    concurrent_payments_pay_once
);

/// In a real browser: finance opens a signed contract, pays the accepted signing instalment with a voucher
/// number, and sees the instalment paid, the paid figure and the ledger digest move on.
async fn finance_pays_in_the_browser(b: Backend) {
    let app = TestApp::spawn_with(
        &b,
        Options {
            registry_demo: true,
            ..Default::default()
        },
    )
    .await;
    let appr = appropriation(&app, "C-B", "300000").await;
    let (tender, _) = awarded_tender(&app, "CB-1", Some(appr));
    let id = create(&app, tender, "GD-B-1").await["id"].as_i64().unwrap();
    assert_eq!(sign(&app, id, None).await.status(), 200);
    let before = sanshe::ledger::digest(&mut app.conn()).unwrap();

    let mut driver = crate::browser::Driver::start();
    let browser = driver.connect().await;
    browser.goto(&app.url("/login")).await;
    browser
        .wait_page("the sign-in page", |p| p.path == "/login")
        .await;
    browser.type_into("#username", "finance").await;
    browser.type_into("#password", PASSWORD).await;
    browser.click("#login-submit").await;
    browser
        .wait_page("the dashboard", |p| p.path == "/dashboard")
        .await;

    browser.goto(&app.url(&format!("/contracts/{id}"))).await;
    let p = browser
        .wait_page("the contract", |p| p.text.contains("GD-B-1"))
        .await;
    assert!(
        p.text.contains(&format!("#{}", before.seq)),
        "the digest before: {p:#?}"
    );
    assert!(p.text.contains("已验收待付"), "{p:#?}");
    browser.type_into("#voucher-1", "JZ-B-0001").await;
    browser.click("#pay-form-1 button[type=submit]").await;
    // The form asks for confirmation first.
    browser
        .cmd(
            reqwest::Method::POST,
            "/alert/accept",
            Some(serde_json::json!({})),
        )
        .await
        .unwrap();
    let p = browser
        .wait_page("the contract after paying", |p| {
            p.text.contains("付款已记账")
        })
        .await;
    let after = sanshe::ledger::digest(&mut app.conn()).unwrap();
    assert_eq!(after.seq, before.seq + 1, "one disbursement entry");
    assert!(
        p.text.contains(&format!("#{}", after.seq)) && p.text.contains(&after.hash),
        "the new digest on the page: {p:#?}"
    );
    assert!(p.text.contains("JZ-B-0001"), "{p:#?}");
    assert!(p.text.contains("¥30,000.00"), "the paid figure: {p:#?}");

    // Budget execution: colour carries meaning (issue 14). One series, one colour; the chart that pairs
    // the budget with what was paid uses two, never red (red is for alarms); every bar has its figure.
    browser.goto(&app.url("/finance/execution")).await;
    browser
        .wait_page("the execution", |p| p.path == "/finance/execution")
        .await;
    let colours = browser
        .script(
            "const c = id => [...document.querySelectorAll('#' + id + ' span.bar-fill')] \
               .map(e => getComputedStyle(e).backgroundColor); \
             const v = [...document.querySelectorAll('div.bars span.bar-value')].map(e => e.textContent.trim()); \
             const t = document.createElement('span'); t.style.background = 'var(--red)'; \
             document.body.appendChild(t); const red = getComputedStyle(t).backgroundColor; \
             return {field: c('chart-field'), month: c('chart-month'), values: v, red: red};",
        )
        .await;
    let distinct = |k: &str| -> std::collections::BTreeSet<String> {
        colours[k]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(distinct("month").len(), 1, "{colours}");
    assert_eq!(distinct("field").len(), 2, "{colours}");
    let red = colours["red"].as_str().unwrap().to_string();
    assert!(red.starts_with("rgb("), "{colours}");
    assert!(
        !distinct("field").contains(&red) && !distinct("month").contains(&red),
        "red only for alarms: {colours}"
    );
    assert!(
        colours["values"]
            .as_array()
            .unwrap()
            .iter()
            .all(|v| !v.as_str().unwrap().is_empty()),
        "{colours}"
    );
    let shot = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("target")
        .join(format!("browser-contract-paid-{}.png", b.name()));
    browser.screenshot(&shot).await;
    drop(browser);
    drop(driver);
    app.stop().await;
}

both_backends!(finance_pays_in_the_browser);

/// Entries posted around the contract service (straight through `ledger::post`, as a bug or a rewrite
/// with recomputed hashes would leave them) are caught by `verify` at their sequence number: a second
/// disbursement of a paid instalment (paid_once) and a commitment beyond the contract amount.
async fn verify_rechecks_contract_invariants(b: Backend) {
    use sanshe::domain::ledger::{Kind, Line, Refs};
    let app = TestApp::spawn_with(
        &b,
        Options {
            registry_demo: true,
            ..Default::default()
        },
    )
    .await;
    let appr = appropriation(&app, "C-V", "300000").await;
    let (tender, org) = awarded_tender(&app, "CV-1", Some(appr));
    let id = create(&app, tender, "GD-V-1").await["id"].as_i64().unwrap();
    let v: Value = sign(&app, id, None).await.json().await.unwrap();
    let inst = v["instalments"][0]["id"].as_i64().unwrap();
    let fin = app.token("finance").await;
    assert_eq!(pay(&app, &fin, id, 1, "v-1", "JZ-V-1").await.status(), 201);
    let mut c = app.conn();
    assert!(sanshe::ledger::verify(&mut c).unwrap().ok);
    let actor = sanshe::audit::Actor::system("test");
    let entry = |key: &str, kind, refs, lines: Vec<(String, i64)>| sanshe::ledger::NewEntry {
        date: chrono::Utc::now().date_naive(),
        kind,
        memo: "around the service".into(),
        refs,
        idem_key: key.into(),
        lines: lines
            .into_iter()
            .map(|(account, amount)| Line { account, amount })
            .collect(),
    };
    // The organisation is owed nothing more, so a second payment needs something accrued first: accept
    // instalment 2 through the service, then pay instalment 1 again around it.
    assert_eq!(accept(&app, id, 2, "90").await.status(), 200);
    let twice = sanshe::ledger::post(
        &mut c,
        &actor,
        Utc::now(),
        &entry(
            "around-1",
            Kind::Disbursement,
            Refs {
                contract: Some(id),
                instalment: Some(inst),
                ..Default::default()
            },
            vec![
                (format!("Liabilities:Payable:org{org}"), 3_000_000),
                ("Assets:Treasury:general".into(), -3_000_000),
            ],
        ),
    )
    .unwrap()
    .entry
    .seq;
    let r = sanshe::ledger::verify(&mut c).unwrap();
    assert!(!r.ok);
    assert_eq!(r.bad_seq, Some(twice), "{r:?}");
    assert!(r.error.as_deref().unwrap().contains("paid_once"), "{r:?}");
    app.stop().await;

    // A commitment beyond the amount, in a database of its own.
    let app = TestApp::spawn_with(
        &b,
        Options {
            registry_demo: true,
            ..Default::default()
        },
    )
    .await;
    let appr = appropriation(&app, "C-W", "300000").await;
    let (tender, _) = awarded_tender(&app, "CW-1", Some(appr));
    let id = create(&app, tender, "GD-W-1").await["id"].as_i64().unwrap();
    assert_eq!(sign(&app, id, None).await.status(), 200);
    let mut c = app.conn();
    let over = sanshe::ledger::post(
        &mut c,
        &actor,
        Utc::now(),
        &entry(
            "around-2",
            Kind::Commitment,
            Refs {
                contract: Some(id),
                ..Default::default()
            },
            vec![
                (format!("Budget:Committed:{B}"), 100),
                (format!("Budget:Available:{B}"), -100),
            ],
        ),
    )
    .unwrap()
    .entry
    .seq;
    let r = sanshe::ledger::verify(&mut c).unwrap();
    assert!(!r.ok);
    assert_eq!(r.bad_seq, Some(over), "{r:?}");
    assert!(
        r.error.as_deref().unwrap().contains("more than its amount"),
        "{r:?}"
    );
    app.stop().await;
}

both_backends!(verify_rechecks_contract_invariants);

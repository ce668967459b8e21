//! Spending reports and audit flags (issue 10): an organisation reports items on its own signed contract,
//! a bad item is refused with 422 naming field and rule and nothing written, a CSV file is all or nothing
//! and lists every bad row, finance accepts, rejects and queries, the organisation answers, another
//! organisation gets 404, and the flags computed from the database (the same invoice claimed by two
//! organisations, management fee over its cap, spending outside the term, late payment, late signing).
//! Both backends.

use chrono::{Duration, Utc};
use diesel::prelude::*;
use serde_json::{Value, json};

use crate::both_backends;
use crate::helpers::*;
use crate::route_table::{Op, Roles};
use crate::tenders::{Bidder, bid_body, bidders, tender_body_at};
use sanshe::auth::Role;

const FAOB: &[Role] = &[Role::Finance, Role::Admin, Role::Bureau, Role::Org];

/// The API operations of this feature, for the route table (contract 1 and item 1 do not exist there:
/// allowed callers get 404, never a change).
pub(crate) const ROUTES: &[Op] = &[
    crate::op!(
        "GET",
        "/api/v1/contracts/{id}/spending",
        "/api/v1/contracts/1/spending",
        Roles(FAOB)
    ),
    crate::op!(
        "POST",
        "/api/v1/contracts/{id}/spending",
        "/api/v1/contracts/1/spending",
        Roles(&[Role::Org]),
        r#"{"date": "", "line": "", "amount": "", "invoice_no": "", "payee": "", "description": ""}"#
    ),
    crate::op!(
        "POST",
        "/api/v1/contracts/{id}/spending/import",
        "/api/v1/contracts/1/spending/import",
        Roles(&[Role::Org]),
        r#"{"csv": "date,line,amount,invoice_no,payee,description\n"}"#
    ),
    crate::op!(
        "POST",
        "/api/v1/spending/{item}/review",
        "/api/v1/spending/1/review",
        Roles(&[Role::Finance]),
        r#"{"decision": "", "note": ""}"#
    ),
    crate::op!(
        "POST",
        "/api/v1/spending/{item}/answer",
        "/api/v1/spending/1/answer",
        Roles(&[Role::Org]),
        r#"{"answer": ""}"#
    ),
    crate::op!("GET", "/api/v1/flags", "/api/v1/flags", Roles(FAOB)),
    crate::op!(
        "GET",
        "/api/v1/flags/export",
        "/api/v1/flags/export",
        Roles(FAOB)
    ),
    crate::op!(
        "GET",
        "/api/v1/contracts/{id}/flags",
        "/api/v1/contracts/1/flags",
        Roles(FAOB)
    ),
];

/// The protected pages of this feature, for the route table's page walk (a contract's spending page needs
/// a contract, which that walk's fixture does not have; `pages_for_org_and_finance` below covers it).
pub(crate) const EXPECTED_PAGES: &[(&str, &str, &[Role])] = &[("GET", "/flags", FAOB)];

pub(crate) fn user_id(c: &mut sanshe::db::DbConn, name: &str) -> i64 {
    use sanshe::db::schema::users as u;
    u::table
        .filter(u::username.eq(name))
        .select(u::id)
        .first(c)
        .unwrap()
}

pub(crate) fn actor(c: &mut sanshe::db::DbConn, name: &str) -> sanshe::audit::Actor {
    sanshe::audit::Actor {
        id: Some(user_id(c, name)),
        name: name.into(),
        request_id: None,
    }
}

fn ctx(app: &TestApp) -> sanshe::contracts::Ctx {
    sanshe::contracts::Ctx::from_config(&config(&app.db, &Options::default()))
}

/// A tender `code` with three bids, opened, then awarded `award_days` ago to `winner`'s bid (set in the
/// database: the evaluation is not what these tests are about).
pub(crate) fn awarded_tender(app: &TestApp, code: &str, bidders: &[Bidder], winner: usize) -> i64 {
    use sanshe::db::schema::{bids as bd, tenders as t};
    let tctx = sanshe::tenders::Ctx::from_config(&config(&app.db, &Options::default()));
    let mut c = app.conn();
    let now = Utc::now();
    let start = now - Duration::days(120);
    let bureau = user_id(&mut c, "bureau");
    let actor = sanshe::audit::Actor::system("fixture");
    let input = serde_json::from_value(tender_body_at(code, start)).unwrap();
    let v = sanshe::tenders::create(&mut c, &tctx, &actor, bureau, start, &input).unwrap();
    sanshe::tenders::publish(&mut c, &tctx, &actor, start, v.id).unwrap();
    let clock = sanshe::clock::ManualClock::new(start + Duration::days(1));
    for (i, b) in bidders.iter().enumerate() {
        let input = serde_json::from_value(bid_body(
            &format!("{code}-{i}"),
            10_000_000 + i as i64 * 1_000_000,
            b.worker,
        ))
        .unwrap();
        let uid = user_id(&mut c, &b.user);
        sanshe::tenders::bids::submit(&mut c, &tctx, &actor, uid, b.org, &clock, v.id, &input)
            .unwrap();
    }
    sanshe::tenders::advance(&mut c, &tctx, now, v.id).unwrap();
    let bid: i64 = bd::table
        .filter(bd::tender_id.eq(v.id))
        .filter(bd::organisation_id.eq(bidders[winner].org))
        .select(bd::id)
        .first(&mut c)
        .unwrap();
    diesel::update(t::table.find(v.id))
        .set((
            t::state.eq("awarded"),
            t::award_bid_id.eq(bid),
            t::awarded_at.eq((now - Duration::days(80)).naive_utc()),
        ))
        .execute(&mut c)
        .unwrap();
    v.id
}

pub(crate) fn day(days_ago: i64) -> String {
    sanshe::clock::beijing_date(Utc::now() - Duration::days(days_ago)).to_string()
}

/// Create and sign the contract of an awarded tender: the term starts 75 days ago, signed 45 days ago
/// (15 days late: the award was 80 days ago).
pub(crate) fn signed_contract(app: &TestApp, tender: i64, no: &str, appropriation: i64) -> i64 {
    let ctx = ctx(app);
    let mut c = app.conn();
    let bureau = actor(&mut c, "bureau");
    let now = Utc::now();
    let v = sanshe::contracts::create(
        &mut c,
        &ctx,
        &bureau,
        now,
        &sanshe::contracts::NewContract {
            tender_id: tender,
            contract_no: no.into(),
            term_start: day(75),
            appropriation_id: Some(appropriation),
        },
    )
    .unwrap();
    sanshe::contracts::sign(
        &mut c,
        &ctx,
        &bureau,
        now,
        v.id,
        &sanshe::contracts::SignInput {
            signed_on: day(45),
            appropriation_id: None,
        },
    )
    .unwrap();
    v.id
}

pub(crate) async fn appropriation(app: &TestApp) -> i64 {
    let fin = app.token("finance").await;
    let r = app
        .send_json(
            "POST",
            "/api/v1/appropriations",
            Some(&fin),
            &json!({"year": 2026, "fund": "general", "field": "elderly", "amount": "1000000", "document_no": "SP-1", "idempotency_key": "SP-1"}),
        )
        .await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    r.json::<Value>().await.unwrap()["id"].as_i64().unwrap()
}

/// Two signed contracts: the first won by organisation A (¥100,000: staff 40,000, activities 50,000,
/// management 10,000), the second by organisation B.
struct Fx {
    app: TestApp,
    a: Bidder,
    b: Bidder,
    ca: i64,
    cb: i64,
}

async fn setup(backend: &Backend) -> Fx {
    let app = TestApp::spawn_with(
        backend,
        Options {
            registry_demo: true,
            ..Default::default()
        },
    )
    .await;
    let appr = appropriation(&app).await;
    let bs = bidders(&app, 3);
    let t1 = awarded_tender(&app, "SP-T1", &bs, 0);
    let t2 = awarded_tender(&app, "SP-T2", &bs, 1);
    let ca = signed_contract(&app, t1, "SP-HT-1", appr);
    let cb = signed_contract(&app, t2, "SP-HT-2", appr);
    Fx {
        a: bs[0].clone(),
        b: bs[1].clone(),
        app,
        ca,
        cb,
    }
}

fn item(date: &str, line: &str, amount: &str, invoice: &str, description: &str) -> Value {
    json!({"date": date, "line": line, "amount": amount, "invoice_no": invoice, "payee": "某某文具店", "description": description})
}

async fn report(fx: &Fx, who: &Bidder, contract: i64, body: &Value) -> reqwest::Response {
    let t = fx.app.token(&who.user).await;
    fx.app
        .send_json(
            "POST",
            &format!("/api/v1/contracts/{contract}/spending"),
            Some(&t),
            body,
        )
        .await
}

async fn import(fx: &Fx, who: &Bidder, contract: i64, csv: &str) -> reqwest::Response {
    let t = fx.app.token(&who.user).await;
    client()
        .post(
            fx.app
                .url(&format!("/api/v1/contracts/{contract}/spending/import")),
        )
        .bearer_auth(t)
        .header("content-type", "text/csv; charset=utf-8")
        .body(csv.to_string())
        .send()
        .await
        .unwrap()
}

async fn review(fx: &Fx, item: i64, decision: &str, note: Option<&str>) -> reqwest::Response {
    let fin = fx.app.token("finance").await;
    fx.app
        .send_json(
            "POST",
            &format!("/api/v1/spending/{item}/review"),
            Some(&fin),
            &json!({"decision": decision, "note": note}),
        )
        .await
}

/// The rows a refusal must leave as they were: every spending item, the audit chain, the outbox.
fn state(app: &TestApp) -> String {
    use sanshe::db::schema::spending_items as si;
    let mut c = app.conn();
    let items: Vec<(i64, String, i64, String)> = si::table
        .order(si::id)
        .select((si::id, si::state, si::amount_fen, si::invoice_key))
        .load(&mut c)
        .unwrap();
    format!("{items:?}\n{}", snapshot(&mut c))
}

async fn reporting_reviewing_and_answering(b: Backend) {
    let fx = setup(&b).await;
    let (ca, cb) = (fx.ca, fx.cb);
    // A good item.
    let r = report(
        &fx,
        &fx.a,
        ca,
        &json!({"date": day(10), "line": "activities", "amount": "1280.50", "invoice_no": "fp-0001 23", "payee": "某某文具店", "description": "小组活动材料", "evidence_sha256": "AB".repeat(32)}),
    )
    .await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let it: Value = r.json().await.unwrap();
    assert_eq!(
        (
            it["amount_fen"].as_i64(),
            it["state"].as_str(),
            it["line_zh"].as_str()
        ),
        (Some(128_050), Some("submitted"), Some("活动经费"))
    );
    assert_eq!(it["evidence_sha256"], "ab".repeat(32));
    let first = it["id"].as_i64().unwrap();
    // The Chinese name of a line is accepted too.
    let r = report(
        &fx,
        &fx.a,
        ca,
        &item(&day(9), "人员经费", "3000", "FP-2", "社工劳务费"),
    )
    .await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());

    // A bad item: every field's rule named, nothing written.
    let before = state(&fx.app);
    let r = report(
        &fx,
        &fx.a,
        ca,
        &json!({"date": day(-3), "line": "premises", "amount": "12.345", "invoice_no": " - ", "payee": "", "description": "x", "evidence_sha256": "nothex"}),
    )
    .await;
    let p = problem(r, 422, "validation_failed").await;
    let got: Vec<(String, String)> = p["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["field"].as_str().unwrap().to_string(),
                e["rule"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    for want in [
        ("date", "not_future"),
        ("line", "one_of"),
        ("amount", "max_two_decimals"),
        ("invoice_no", "required"),
        ("payee", "required"),
        ("evidence_sha256", "sha256"),
    ] {
        assert!(
            got.contains(&(want.0.into(), want.1.into())),
            "{want:?} not in {got:?}"
        );
    }
    for e in p["errors"].as_array().unwrap() {
        assert!(!e["message"]["zh-CN"].as_str().unwrap().is_empty());
        assert!(!e["message"]["en"].as_str().unwrap().is_empty());
    }
    assert_eq!(
        state(&fx.app),
        before,
        "a refused item changed the database"
    );

    // Another organisation: 404 for reading, reporting and answering; finance and the bureau read.
    let tb = fx.app.token(&fx.b.user).await;
    let r = fx
        .app
        .get(&format!("/api/v1/contracts/{ca}/spending"), Some(&tb))
        .await;
    problem(r, 404, "not_found").await;
    let r = report(
        &fx,
        &fx.b,
        ca,
        &item(&day(5), "activities", "1", "X-1", "材料"),
    )
    .await;
    problem(r, 404, "not_found").await;
    let r = fx
        .app
        .get(&format!("/api/v1/contracts/{ca}/flags"), Some(&tb))
        .await;
    problem(r, 404, "not_found").await;
    assert_eq!(state(&fx.app), before);
    for who in ["finance", "bureau"] {
        let t = fx.app.token(who).await;
        let r = fx
            .app
            .get(
                &format!("/api/v1/contracts/{ca}/spending?per_page=1"),
                Some(&t),
            )
            .await;
        assert_eq!(r.status(), 200);
        let v: Value = r.json().await.unwrap();
        assert_eq!(
            (
                v["items"]["total"].as_i64(),
                v["items"]["items"].as_array().unwrap().len()
            ),
            (Some(2), 1)
        );
    }

    // Finance: reject needs a reason, query needs a question.
    let r = review(&fx, first, "reject", None).await;
    let p = problem(r, 422, "validation_failed").await;
    assert_eq!(
        (
            p["errors"][0]["field"].as_str(),
            p["errors"][0]["rule"].as_str()
        ),
        (Some("note"), Some("required"))
    );
    let r = review(&fx, first, "maybe", Some("?")).await;
    let p = problem(r, 422, "validation_failed").await;
    assert_eq!(p["errors"][0]["rule"], "one_of");
    // Query → the organisation answers → accept.
    let mails_before = outbox_count(&fx.app);
    let r = review(&fx, first, "query", Some("请补充活动签到表。")).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    assert_eq!(r.json::<Value>().await.unwrap()["state"], "queried");
    assert!(
        outbox_count(&fx.app) > mails_before,
        "the query e-mails the organisation"
    );
    // Not reviewable while queried.
    problem(
        review(&fx, first, "accept", None).await,
        409,
        "spending_state",
    )
    .await;
    let ta = fx.app.token(&fx.a.user).await;
    let answer = |t: String, body: Value| {
        let app = &fx.app;
        async move {
            app.send_json(
                "POST",
                &format!("/api/v1/spending/{first}/answer"),
                Some(&t),
                &body,
            )
            .await
        }
    };
    problem(
        answer(tb.clone(), json!({"answer": "不是我们的"})).await,
        404,
        "not_found",
    )
    .await;
    let p = problem(
        answer(ta.clone(), json!({"answer": " "})).await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(p["errors"][0]["field"], "answer");
    let r = answer(ta.clone(), json!({"answer": "签到表已上传，见凭证。"})).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    assert_eq!(r.json::<Value>().await.unwrap()["state"], "answered");
    problem(
        answer(ta.clone(), json!({"answer": "again"})).await,
        409,
        "spending_state",
    )
    .await;
    let r = review(&fx, first, "accept", None).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let v: Value = r.json().await.unwrap();
    assert_eq!(
        (v["state"].as_str(), v["reviewed_by"].is_string()),
        (Some("accepted"), true)
    );
    problem(
        review(&fx, first, "reject", Some("晚了")).await,
        409,
        "spending_state",
    )
    .await;
    // Reject the second.
    let second = first + 1;
    let r = review(&fx, second, "reject", Some("劳务费无签收单。")).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    // The summary: accepted on activities, the rejected staff item not counted.
    let r = fx
        .app
        .get(&format!("/api/v1/contracts/{ca}/spending"), Some(&ta))
        .await;
    let v: Value = r.json().await.unwrap();
    let line = |k: &str| {
        v["summary"]["lines"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["line"] == k)
            .unwrap()
            .clone()
    };
    assert_eq!(
        (
            line("activities")["reported_fen"].as_i64(),
            line("activities")["accepted_fen"].as_i64(),
            line("activities")["budget_fen"].as_i64()
        ),
        (Some(128_050), Some(128_050), Some(5_000_000))
    );
    assert_eq!(line("staff")["reported_fen"], 0);
    // Every step is in the audit trail.
    use sanshe::db::schema::audit_events as a;
    let actions: Vec<String> = a::table
        .filter(a::action.like("spending.%"))
        .order(a::seq)
        .select(a::action)
        .load(&mut fx.app.conn())
        .unwrap();
    assert_eq!(
        actions,
        [
            "spending.report",
            "spending.report",
            "spending.review",
            "spending.answer",
            "spending.review",
            "spending.review"
        ]
    );
    // The SpendingReviewed mail names the contract.
    use sanshe::db::schema::outbox as o;
    let templates: Vec<String> = o::table
        .select(o::template)
        .load(&mut fx.app.conn())
        .unwrap();
    assert!(
        templates.iter().any(|t| t == "spending_reviewed"),
        "{templates:?}"
    );
    let _ = cb;
    fx.app.stop().await;
}

fn outbox_count(app: &TestApp) -> i64 {
    use sanshe::db::schema::outbox as o;
    o::table.count().get_result(&mut app.conn()).unwrap()
}

async fn csv_import_is_all_or_nothing(b: Backend) {
    let fx = setup(&b).await;
    let ca = fx.ca;
    let before = state(&fx.app);
    // Lines 3 and 5 are bad (a line the contract does not have; an amount and a date): nothing is stored.
    let bad = format!(
        "\u{feff}date,line,amount,invoice_no,payee,description,evidence_sha256\r\n{},activities,100,A-1,文具店,材料,\r\n{},vehicles,100,A-2,车行,租车,\r\n{},staff,200.00,A-3,张三,劳务费,\r\n2026-13-01,activities,-5,A-4,文具店,材料,\r\n",
        day(5),
        day(5),
        day(4)
    );
    let p = problem(import(&fx, &fx.a, ca, &bad).await, 422, "validation_failed").await;
    let got: Vec<(String, String)> = p["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["field"].as_str().unwrap().to_string(),
                e["rule"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("rows[3].line".to_string(), "one_of".to_string()),
            ("rows[5].date".into(), "date".into()),
            ("rows[5].amount".into(), "non_negative".into()),
        ],
        "{p}"
    );
    assert_eq!(
        state(&fx.app),
        before,
        "a refused file changed the database"
    );
    // A bad header names the column.
    let p = problem(
        import(
            &fx,
            &fx.a,
            ca,
            "date,line,amount,invoice,payee,description\n2026-01-01,staff,1,x,y,z\n",
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    let rules: Vec<&str> = p["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["rule"].as_str().unwrap())
        .collect();
    assert!(
        rules.contains(&"unknown_column") && rules.contains(&"required_column"),
        "{p}"
    );
    // Another organisation's contract: 404, nothing written.
    let good = format!(
        "date,line,amount,invoice_no,payee,description\n{},activities,100,A-1,文具店,材料\n{},staff,\"1,200.00\",A-3,张三,\"劳务费，第一期\"\n",
        day(5),
        day(4)
    );
    problem(import(&fx, &fx.b, ca, &good).await, 404, "not_found").await;
    assert_eq!(state(&fx.app), before);
    // The good file: both rows, one audit event each.
    let r = import(&fx, &fx.a, ca, &good).await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["created"], 2);
    assert_eq!(v["items"][1]["amount_fen"], 120_000);
    assert_eq!(v["items"][1]["description"], "劳务费，第一期");
    fx.app.stop().await;
}

async fn flags_from_the_database(b: Backend) {
    let fx = setup(&b).await;
    let (ca, cb) = (fx.ca, fx.cb);
    // The same invoice claimed by A and by B (typed differently).
    let r = report(
        &fx,
        &fx.a,
        ca,
        &item(
            &day(10),
            "activities",
            "500",
            "FP-2026-0001",
            "活动场地租用",
        ),
    )
    .await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let dup_a = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let r = report(
        &fx,
        &fx.b,
        cb,
        &item(&day(8), "activities", "500", "fp 2026 0001", "活动材料"),
    )
    .await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let dup_b = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    // Management fee ¥10,000.01 on a ¥100,000 contract: over the 10 % cap (and over its line).
    let r = report(
        &fx,
        &fx.a,
        ca,
        &item(&day(7), "management", "10000.01", "M-1", "管理费"),
    )
    .await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    // Spent before the term started (the term began 75 days ago).
    let r = report(
        &fx,
        &fx.a,
        ca,
        &item(&day(90), "activities", "100", "E-1", "前期调研"),
    )
    .await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let early = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    // Forbidden: gift cards for beneficiaries.
    let r = report(
        &fx,
        &fx.a,
        ca,
        &item(&day(6), "activities", "300", "G-1", "为服务对象购买购物卡"),
    )
    .await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let gift = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    // The mid-term milestone accepted 40 days ago and paid today: late (and the signing instalment,
    // accepted on signing 45 days ago, paid today too).
    {
        let ctx = ctx(&fx.app);
        let mut c = fx.app.conn();
        let bureau = actor(&mut c, "bureau");
        let finance = actor(&mut c, "finance");
        let now = Utc::now();
        sanshe::contracts::accept(
            &mut c,
            &ctx,
            &bureau,
            now,
            ca,
            2,
            &sanshe::contracts::AcceptInput {
                accepted_on: day(40),
                score: "85".into(),
                evaluator: "第三方评估机构".into(),
                report_sha256: "cd".repeat(32),
            },
        )
        .unwrap();
        for (no, v) in [(1, "PZ-1"), (2, "PZ-2")] {
            sanshe::contracts::pay(
                &mut c,
                &ctx,
                &finance,
                now,
                ca,
                &sanshe::contracts::PayInput {
                    idempotency_key: format!("sp-pay-{no}"),
                    instalment: no,
                    voucher_no: v.into(),
                    paid_on: None,
                },
            )
            .unwrap();
        }
    }
    let fin = fx.app.token("finance").await;
    let all: Value = fx
        .app
        .get("/api/v1/flags?per_page=200", Some(&fin))
        .await
        .json()
        .await
        .unwrap();
    let flags = all["items"].as_array().unwrap();
    let has = |rule: &str, contract: i64, item: Option<i64>| {
        flags.iter().any(|f| {
            f["rule"] == rule
                && f["contract_id"] == contract
                && item.is_none_or(|i| f["item_id"] == i)
        })
    };
    assert!(has("duplicate_invoice", ca, Some(dup_a)), "{all}");
    assert!(has("duplicate_invoice", cb, Some(dup_b)), "{all}");
    assert!(has("management_over_cap", ca, None), "{all}");
    assert!(has("line_overspent", ca, None), "{all}");
    assert!(has("outside_term", ca, Some(early)), "{all}");
    assert!(!has("outside_term", ca, Some(dup_a)), "{all}");
    assert!(has("forbidden_category", ca, Some(gift)), "{all}");
    assert!(has("paid_late", ca, None), "{all}");
    assert!(has("signed_late", ca, None), "{all}");
    assert!(!has("paid_before_acceptance", ca, None), "{all}");
    assert!(
        !has("labour_over_cap", ca, None),
        "off unless the programme sets it"
    );
    let dup = flags
        .iter()
        .find(|f| f["rule"] == "duplicate_invoice" && f["contract_id"] == ca)
        .unwrap();
    assert!(
        dup["evidence_zh"].as_str().unwrap().contains("SP-HT-2"),
        "{dup}"
    );
    assert_eq!(dup["severity"], "high");
    assert_eq!(
        dup["link"],
        format!("/contracts/{ca}/spending#item-{dup_a}")
    );
    // The most serious first.
    let sev: Vec<&str> = flags
        .iter()
        .map(|f| f["severity"].as_str().unwrap())
        .collect();
    let rank = |s: &str| {
        ["high", "medium", "low"]
            .iter()
            .position(|x| *x == s)
            .unwrap()
    };
    assert!(sev.windows(2).all(|w| rank(w[0]) <= rank(w[1])), "{sev:?}");
    // Filters: one rule, one contract, paging.
    let v: Value = fx
        .app
        .get(
            "/api/v1/flags?rule=duplicate_invoice&per_page=1",
            Some(&fin),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (v["total"].as_i64(), v["items"].as_array().unwrap().len()),
        (Some(2), 1)
    );
    let v: Value = fx
        .app
        .get(&format!("/api/v1/flags?contract={cb}"), Some(&fin))
        .await
        .json()
        .await
        .unwrap();
    assert!(
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["contract_id"] == cb)
    );
    let r = fx.app.get("/api/v1/flags?rule=nope", Some(&fin)).await;
    let p = problem(r, 422, "validation_failed").await;
    assert_eq!(
        (
            p["errors"][0]["field"].as_str(),
            p["errors"][0]["rule"].as_str()
        ),
        (Some("rule"), Some("one_of"))
    );
    // An organisation sees its own flags only; the contract's flags.
    let tb = fx.app.token(&fx.b.user).await;
    let v: Value = fx
        .app
        .get("/api/v1/flags?per_page=200", Some(&tb))
        .await
        .json()
        .await
        .unwrap();
    assert!(v["total"].as_i64().unwrap() > 0);
    assert!(
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["organisation_id"] == fx.b.org),
        "{v}"
    );
    let v: Value = fx
        .app
        .get(&format!("/api/v1/contracts/{cb}/flags"), Some(&tb))
        .await
        .json()
        .await
        .unwrap();
    assert!(
        v.as_array()
            .unwrap()
            .iter()
            .any(|f| f["rule"] == "duplicate_invoice")
    );
    // Rejecting one claim of the invoice clears the flag on the other.
    assert_eq!(
        review(&fx, dup_b, "reject", Some("重复报销"))
            .await
            .status(),
        200
    );
    let v: Value = fx
        .app
        .get("/api/v1/flags?rule=duplicate_invoice", Some(&fin))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["total"], 0, "{v}");
    // The CSV export: BOM, header, the same filters.
    let r = fx
        .app
        .get("/api/v1/flags/export?rule=outside_term", Some(&fin))
        .await;
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let body = r.text().await.unwrap();
    assert!(body.starts_with("\u{feff}规则 Rule,"), "{body}");
    assert_eq!(body.lines().count(), 2, "{body}");
    assert!(
        body.contains("SP-HT-1") && body.contains("outside_term"),
        "{body}"
    );
    fx.app.stop().await;
}

both_backends!(
    reporting_reviewing_and_answering,
    csv_import_is_all_or_nothing,
    flags_from_the_database
);

/// The pages: the organisation reports through the form (inline errors, 422, nothing written), uploads a
/// CSV whose bad rows are listed, finance reviews with the buttons, the organisation answers; the flags
/// page lists, filters and links the CSV export; another organisation gets the 404 page.
async fn pages_for_org_and_finance(b: Backend) {
    let fx = setup(&b).await;
    let ca = fx.ca;
    let path = format!("/contracts/{ca}/spending");
    // Refused, to the sign-in page: no session, a forged one, an expired one; refused with the role page:
    // an evaluator. Nothing changes.
    {
        use crate::route_table::{OTHER_SECRET, claims, expect_role_page, sign};
        let before = state(&fx.app);
        let finance_id: i64 = sanshe::db::schema::users::table
            .filter(sanshe::db::schema::users::username.eq("finance"))
            .select(sanshe::db::schema::users::id)
            .first(&mut fx.app.conn())
            .unwrap();
        let valid = claims(finance_id, "finance", 0);
        let now = Utc::now().timestamp();
        let expired = sanshe::auth::Claims {
            iat: now - 7200,
            exp: now - 3600,
            ..valid.clone()
        };
        let alg = jsonwebtoken::Algorithm::HS256;
        for cookie in [
            None,
            Some(sign(alg, OTHER_SECRET, &valid)),
            Some(sign(alg, JWT_SECRET, &expired)),
            Some("not-a-jwt".to_string()),
        ] {
            let mut r = client().get(fx.app.url(&path));
            if let Some(c) = &cookie {
                r = r.header("Cookie", format!("sanshe_session={c}"));
            }
            let r = r.send().await.unwrap();
            assert_eq!(r.status(), 303, "{path} with {cookie:?}");
            assert!(
                r.headers()["location"]
                    .to_str()
                    .unwrap()
                    .starts_with("/login"),
                "{path} with {cookie:?}"
            );
        }
        let r = sign_in(&fx.app, "evaluator1")
            .await
            .get(fx.app.url(&path))
            .send()
            .await
            .unwrap();
        expect_role_page(r, &format!("{path} as an evaluator")).await;
        assert_eq!(state(&fx.app), before);
    }
    let org = sign_in(&fx.app, &fx.a.user).await;
    let html = org
        .get(fx.app.url(&path))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("id=\"spending-form\"") && html.contains("id=\"spending-import\""),
        "{html}"
    );
    assert!(html.contains("id=\"line-activities\""), "a bar per line");
    let csrf = csrf_of(&html);
    // A bad item: the form again with each field's message, nothing written.
    let before = state(&fx.app);
    let r = org
        .post(fx.app.url(&path))
        .form(&[
            ("csrf", csrf.as_str()),
            ("date", "2026-02-30"),
            ("line", "activities"),
            ("amount", "1.234"),
            ("invoice_no", "F-1"),
            ("payee", ""),
            ("description", "材料"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("金额最多两位小数") && html.contains("日期格式应为") && html.contains("必填"),
        "{html}"
    );
    assert!(
        html.contains("value=\"1.234\""),
        "the typed amount comes back"
    );
    assert_eq!(state(&fx.app), before);
    // A bad file: every bad row listed, nothing written.
    let bad = format!(
        "date,line,amount,invoice_no,payee,description\n{},activities,x,F-1,店,材料\n{},nope,1,F-2,店,材料\n",
        day(3),
        day(3)
    );
    let r = org
        .post(fx.app.url(&format!("{path}/import")))
        .form(&[("csrf", csrf.as_str()), ("csv", bad.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("rows[2].amount") && html.contains("rows[3].line"),
        "{html}"
    );
    assert_eq!(state(&fx.app), before);
    // A good item.
    let r = org
        .post(fx.app.url(&path))
        .form(&[
            ("csrf", csrf.as_str()),
            ("date", day(3).as_str()),
            ("line", "activities"),
            ("amount", "88.8"),
            ("invoice_no", "F-9"),
            ("payee", "文具店"),
            ("description", "彩纸"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
    let item: i64 = {
        use sanshe::db::schema::spending_items as si;
        si::table.select(si::id).first(&mut fx.app.conn()).unwrap()
    };
    // Another organisation: the 404 page.
    let other = sign_in(&fx.app, &fx.b.user).await;
    assert_eq!(
        other.get(fx.app.url(&path)).send().await.unwrap().status(),
        404
    );
    // Finance queries with the buttons; a query without a question comes back with the item's error.
    let fin = sign_in(&fx.app, "finance").await;
    let html = fin
        .get(fx.app.url(&path))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains(&format!("id=\"review-{item}\"")), "{html}");
    assert!(
        !html.contains("id=\"spending-form\""),
        "finance does not report"
    );
    let fcsrf = csrf_of(&html);
    let r = fin
        .post(fx.app.url(&format!("/spending/{item}/review")))
        .form(&[
            ("csrf", fcsrf.as_str()),
            ("decision", "query"),
            ("note", ""),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("质询须写明问题"));
    let r = fin
        .post(fx.app.url(&format!("/spending/{item}/review")))
        .form(&[
            ("csrf", fcsrf.as_str()),
            ("decision", "query"),
            ("note", "请提供发票照片"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(
        r.headers()["location"],
        format!("/contracts/{ca}/spending#item-{item}")
    );
    // The organisation answers.
    let html = org
        .get(fx.app.url(&path))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains(&format!("id=\"answer-{item}\"")) && html.contains("请提供发票照片"),
        "{html}"
    );
    let r = org
        .post(fx.app.url(&format!("/spending/{item}/answer")))
        .form(&[("csrf", csrf.as_str()), ("answer", "已补传")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let html = fin
        .get(fx.app.url(&path))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("已补传") && html.contains(&format!("id=\"review-{item}\"")),
        "back to finance"
    );
    // The contract's statement shows the spending by budget line against its budget, on the page and in
    // its CSV (the item is reported, not yet accepted).
    let html = fin
        .get(fx.app.url(&format!("/contracts/{ca}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let row = html
        .split("id=\"spent-activities\"")
        .nth(1)
        .and_then(|r| r.split("</tr>").next())
        .unwrap_or_else(|| panic!("no activities line on the statement: {html}"));
    assert!(row.contains("88.80"), "{row}");
    let csv = fin
        .get(
            fx.app
                .url(&format!("/api/v1/contracts/{ca}/statement/export")),
        )
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let line = csv
        .lines()
        .find(|l| l.contains("Accepted spending: 活动经费"))
        .unwrap_or_else(|| panic!("{csv}"));
    assert!(
        line.contains("已报 reported 88.80") && line.contains(",0.00,"),
        "{line}"
    );
    // The flags page: finance sees both contracts' flags (both signed late), with the export link; the
    // navigation links it.
    let html = fin
        .get(fx.app.url("/flags?rule=signed_late"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("SP-HT-1") && html.contains("SP-HT-2"),
        "{html}"
    );
    assert!(
        html.contains("href=\"/api/v1/flags/export?rule=signed_late\""),
        "{html}"
    );
    assert!(
        html.contains("href=\"/flags\""),
        "the finance navigation links the flags"
    );
    let html = other
        .get(fx.app.url("/flags"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("SP-HT-2") && !html.contains("SP-HT-1"),
        "an organisation sees its own"
    );
    let r = fin.get(fx.app.url("/flags?year=abc")).send().await.unwrap();
    assert_eq!(r.status(), 422);
    let r = fin
        .get(fx.app.url("/api/v1/flags/export?rule=signed_late"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "the export link works with the session");
    fx.app.stop().await;
}

both_backends!(pages_for_org_and_finance);

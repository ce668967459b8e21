//! The fund ledger (issue 10, foundation): budget appropriations posted to a double-entry, hash-chained,
//! append-only journal. Each invariant is refused at write time with the database unchanged; the triggers
//! refuse UPDATE and DELETE (and TRUNCATE); `sanshe verify` names the first tampered entry and checks a
//! digest printed earlier; the journal reads the same in the real `ledger` and `hledger`; the finance
//! pages show the digest. Every test on both backends.

use crate::helpers::rules_of;
use std::collections::BTreeMap;

use chrono::Utc;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use reqwest::header::CONTENT_TYPE;
use rust_decimal::Decimal;
use sanshe::auth::Role;
use sanshe::db::DbConn;
use sanshe::db::schema::{
    appropriations as ap, ledger_balances as lb, ledger_entries as le, ledger_postings as lp,
};
use sanshe::domain::ledger::{Kind, Line, Refs};
use sanshe::ledger::{NewEntry, post};
use serde_json::{Value, json};

use crate::both_backends;
use crate::cli::{run, sanshe};
use crate::helpers::*;
use crate::route_table::{ADMIN_FINANCE, Op, Roles};

const FINANCE: &[Role] = &[Role::Finance];
const BUDGET_READERS: &[Role] = &[Role::Finance, Role::Admin, Role::Bureau];

/// The API operations of the ledger, for the route table.
pub(crate) const ROUTES: &[Op] = &[
    crate::op!(
        "GET",
        "/api/v1/appropriations",
        "/api/v1/appropriations",
        Roles(BUDGET_READERS)
    ),
    crate::op!(
        "POST",
        "/api/v1/appropriations",
        "/api/v1/appropriations",
        Roles(FINANCE),
        r#"{"year": 2026, "fund": "general", "field": "elderly", "amount": "100.00", "document_no": "RT-1", "idempotency_key": "route-table-appropriation"}"#
    ),
    crate::op!(
        "GET",
        "/api/v1/appropriations/{id}",
        "/api/v1/appropriations/1",
        Roles(BUDGET_READERS)
    ),
    crate::op!(
        "GET",
        "/api/v1/ledger/digest",
        "/api/v1/ledger/digest",
        Roles(BUDGET_READERS)
    ),
    crate::op!(
        "GET",
        "/api/v1/ledger/execution",
        "/api/v1/ledger/execution",
        Roles(BUDGET_READERS)
    ),
    crate::op!(
        "GET",
        "/api/v1/ledger/execution/export",
        "/api/v1/ledger/execution/export",
        Roles(BUDGET_READERS)
    ),
    crate::op!(
        "GET",
        "/api/v1/ledger/trial-balance",
        "/api/v1/ledger/trial-balance",
        Roles(ADMIN_FINANCE)
    ),
    crate::op!(
        "GET",
        "/api/v1/ledger/trial-balance/export",
        "/api/v1/ledger/trial-balance/export",
        Roles(ADMIN_FINANCE)
    ),
    crate::op!(
        "GET",
        "/api/v1/ledger/journal",
        "/api/v1/ledger/journal",
        Roles(ADMIN_FINANCE)
    ),
    crate::op!(
        "GET",
        "/api/v1/ledger/entries",
        "/api/v1/ledger/entries",
        Roles(ADMIN_FINANCE)
    ),
    crate::op!(
        "GET",
        "/api/v1/ledger/entries/{seq}",
        "/api/v1/ledger/entries/1",
        Roles(ADMIN_FINANCE)
    ),
    crate::op!(
        "POST",
        "/api/v1/ledger/entries/{seq}/reversal",
        "/api/v1/ledger/entries/1/reversal",
        Roles(FINANCE),
        r#"{"memo": "route table", "idempotency_key": "route-table-reversal"}"#
    ),
    crate::op!(
        "GET",
        "/api/v1/ledger/verify",
        "/api/v1/ledger/verify",
        Roles(ADMIN_FINANCE)
    ),
];

/// The finance pages and their roles (pins `pages::ledger::PROTECTED`).
pub(crate) const EXPECTED_PAGES: &[(&str, &str, &[Role])] = &[
    ("GET", "/finance/appropriations", BUDGET_READERS),
    ("GET", "/finance/appropriations/new", FINANCE),
    (
        "GET",
        "/finance/trial-balance",
        &[Role::Admin, Role::Finance],
    ),
    ("GET", "/finance/execution", BUDGET_READERS),
];

/// Form posts of the finance pages, with deliberately invalid fields.
pub(crate) const PAGE_POSTS: &[(&str, &[Role], &str)] = &[(
    "/finance/appropriations/new",
    FINANCE,
    "year=&fund=&amount=x&document_no=&idempotency_key=k",
)];

/// Every row of the ledger's tables, in a fixed order, with the shared snapshot: equal means unchanged.
fn snapshot(app: &TestApp) -> String {
    let mut c = app.conn();
    let entries: Vec<(i64, String, String)> = le::table
        .order(le::seq)
        .select((le::seq, le::kind, le::hash))
        .load(&mut c)
        .unwrap();
    let postings: Vec<(i64, i32, String, i64)> = lp::table
        .order((lp::entry_seq, lp::line))
        .select((lp::entry_seq, lp::line, lp::account, lp::amount_fen))
        .load(&mut c)
        .unwrap();
    let balances: Vec<(String, i64, i64, i64)> = lb::table
        .order(lb::account)
        .select((lb::account, lb::balance_fen, lb::postings, lb::last_seq))
        .load(&mut c)
        .unwrap();
    let appr: Vec<(i64, i64, String)> = ap::table
        .order(ap::id)
        .select((ap::id, ap::amount_fen, ap::idem_key))
        .load(&mut c)
        .unwrap();
    format!(
        "{}\n{entries:?}\n{postings:?}\n{balances:?}\n{appr:?}",
        app.snapshot()
    )
}

fn body(key: &str, amount: Value) -> Value {
    json!({
        "year": 2026, "fund": "general", "field": "elderly", "amount": amount,
        "document_no": "官财社〔2026〕12号", "note": "养老服务", "idempotency_key": key
    })
}

async fn appropriate(app: &TestApp, token: &str, key: &str, amount: &str) -> Value {
    let r = app
        .send_json(
            "POST",
            "/api/v1/appropriations",
            Some(token),
            &body(key, json!(amount)),
        )
        .await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    r.json().await.unwrap()
}

async fn appropriations_post_to_the_ledger(b: Backend) {
    let app = TestApp::spawn(&b).await;
    let fin = app.token("finance").await;
    let v = appropriate(&app, &fin, "a-1", "1500000.50").await;
    assert_eq!(v["amount_fen"], 150_000_050);
    assert_eq!(v["amount"], "1500000.50");
    assert_eq!(v["entry_seq"], 1);
    assert_eq!(v["bucket"], "2026:general:elderly");
    assert_eq!(v["available"], "1500000.50");
    assert_eq!(v["fund_label"], "一般公共预算");
    // A retry with the same key and content: the first appropriation, nothing new.
    let before = snapshot(&app);
    let r = app
        .send_json(
            "POST",
            "/api/v1/appropriations",
            Some(&fin),
            &body("a-1", json!("1500000.50")),
        )
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap()["id"], v["id"]);
    assert_eq!(snapshot(&app), before);
    // The same key with another amount: 409, nothing written.
    let r = app
        .send_json(
            "POST",
            "/api/v1/appropriations",
            Some(&fin),
            &body("a-1", json!("1500000.51")),
        )
        .await;
    problem(r, 409, "idempotency_key_reused").await;
    // Amounts are exact yuan: more than two decimals, negative, zero, not a number, too large: 422 each,
    // naming the field and the rule; a JSON number with a fraction (a float to the JSON reader) too.
    for (amount, rule) in [
        (json!("1.001"), "max_two_decimals"),
        (json!(12.345), "decimal_as_text"),
        (json!(12.5), "decimal_as_text"),
        (json!("-5"), "non_negative"),
        (json!("0"), "positive"),
        (json!("abc"), "amount"),
        (json!("100000000000000"), "max"),
    ] {
        let r = app
            .send_json(
                "POST",
                "/api/v1/appropriations",
                Some(&fin),
                &body("a-bad", amount.clone()),
            )
            .await;
        let p = problem(r, 422, "validation_failed").await;
        assert_eq!(
            rules_of(&p),
            [("amount".to_string(), rule.to_string())],
            "{amount}"
        );
    }
    let r = app
        .send_json(
            "POST",
            "/api/v1/appropriations",
            Some(&fin),
            &json!({"year": 1999, "fund": "casino", "field": "cars", "amount": 1, "document_no": "", "idempotency_key": "x"}),
        )
        .await;
    let p = problem(r, 422, "validation_failed").await;
    let rules = rules_of(&p);
    for want in [
        ("year", "range"),
        ("fund", "one_of"),
        ("field", "one_of"),
        ("document_no", "required"),
    ] {
        assert!(
            rules.contains(&(want.0.into(), want.1.into())),
            "{want:?}: {p}"
        );
    }
    // Only finance records budgets.
    for who in ["bureau", "admin"] {
        let t = app.token(who).await;
        let r = app
            .send_json(
                "POST",
                "/api/v1/appropriations",
                Some(&t),
                &body("a-2", json!("1")),
            )
            .await;
        problem(r, 403, "forbidden").await;
    }
    assert_eq!(
        snapshot(&app),
        before,
        "a refused request changed the ledger"
    );
    let r = app
        .send_json(
            "POST",
            "/api/v1/appropriations",
            Some(&fin),
            &body("a-3", json!(300)),
        )
        .await;
    assert_eq!(r.status(), 201);
    // Another budget: the lottery fund, any field, 2025.
    let r = app
        .send_json(
            "POST",
            "/api/v1/appropriations",
            Some(&fin),
            &json!({"year": 2025, "fund": "lottery", "amount": "80000", "document_no": "官财社〔2025〕3号", "date": "2025-01-08", "idempotency_key": "a-4"}),
        )
        .await;
    assert_eq!(r.status(), 201);
    let v4: Value = r.json().await.unwrap();
    assert_eq!(v4["bucket"], "2025:lottery:common");
    assert_eq!(v4["date"], "2025-01-08");

    // The trial balance is a read: both budgets' accounts, debits equal credits.
    let tb: Value = app
        .get("/api/v1/ledger/trial-balance", Some(&fin))
        .await
        .json()
        .await
        .unwrap();
    let rows: Vec<(String, String, String)> = tb["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["account"].as_str().unwrap().into(),
                r["debit"].as_str().unwrap().into(),
                r["credit"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            (
                "Budget:Appropriated:2025:lottery:common".into(),
                "".into(),
                "80000.00".into()
            ),
            (
                "Budget:Appropriated:2026:general:elderly".into(),
                "".into(),
                "1500300.50".into()
            ),
            (
                "Budget:Available:2025:lottery:common".into(),
                "80000.00".into(),
                "".into()
            ),
            (
                "Budget:Available:2026:general:elderly".into(),
                "1500300.50".into(),
                "".into()
            ),
        ]
    );
    assert_eq!(tb["total_debit"], "1580300.50");
    assert_eq!(tb["total_credit"], "1580300.50");
    assert_eq!(tb["digest"]["seq"], 3);
    let d: Value = app
        .get("/api/v1/ledger/digest", Some(&app.token("bureau").await))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(d, tb["digest"]);

    // The list: search, filters, paging in the database; the bureau reads it, with what is available.
    let bureau = app.token("bureau").await;
    let l: Value = app
        .get("/api/v1/appropriations?per_page=2", Some(&bureau))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (l["total"].as_i64(), l["items"].as_array().unwrap().len()),
        (Some(3), 2)
    );
    assert_eq!(l["items"][0]["year"], 2026);
    assert_eq!(l["items"][0]["available"], "1500300.50");
    let l: Value = app
        .get(
            "/api/v1/appropriations?year=2025&fund=lottery",
            Some(&bureau),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(l["total"], 1);
    let l: Value = app
        .get("/api/v1/appropriations?q=2025%E3%80%953", Some(&bureau))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(l["total"], 1, "{l}");
    let r = app
        .get("/api/v1/appropriations?colour=red", Some(&bureau))
        .await;
    assert_eq!(r.status(), 400);

    // The entry and its postings.
    let e: Value = app
        .get("/api/v1/ledger/entries/1", Some(&fin))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(e["kind"], "appropriation");
    assert_eq!(e["author_name"], "finance");
    assert_eq!(
        e["postings"][0]["account"],
        "Budget:Available:2026:general:elderly"
    );
    assert_eq!(e["postings"][0]["amount_fen"], 150_000_050);
    assert_eq!(e["postings"][1]["amount_fen"], -150_000_050);
    assert_eq!(e["prev_hash"], sanshe::chain::GENESIS);
    let page: Value = app
        .get("/api/v1/ledger/entries?per_page=2", Some(&fin))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(page["total"], 3);
    assert_eq!(page["items"][0]["seq"], 3);
    assert_eq!(page["items"][1]["seq"], 2);
    // Audited, in the same transaction.
    let a: Value = app
        .get(
            "/api/v1/audit-events?action=appropriation.create",
            Some(&fin),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(a["total"], 3);
    // The ledger chain is checkpointed like the audit trail.
    let r = app
        .send_json(
            "POST",
            "/api/v1/checkpoints",
            Some(&fin),
            &json!({"chain": "ledger"}),
        )
        .await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let cp: Value = r.json().await.unwrap();
    assert_eq!(
        (cp["seq"].clone(), cp["hash"].clone()),
        (d["seq"].clone(), d["hash"].clone())
    );
    app.stop().await;
}

/// An actor for direct calls of the service.
fn finance_actor(c: &mut DbConn) -> sanshe::audit::Actor {
    use sanshe::db::schema::users as u;
    let id: i64 = u::table
        .filter(u::username.eq("finance"))
        .select(u::id)
        .first(c)
        .unwrap();
    sanshe::audit::Actor {
        id: Some(id),
        name: "finance".into(),
        request_id: None,
    }
}

fn line(account: &str, amount: i64) -> Line {
    Line {
        account: account.into(),
        amount,
    }
}

const AV: &str = "Budget:Available:2026:general:elderly";
const AP: &str = "Budget:Appropriated:2026:general:elderly";
const RS: &str = "Budget:Reserved:2026:general:elderly";

fn entry(kind: Kind, key: &str, refs: Refs, lines: Vec<Line>) -> NewEntry {
    NewEntry {
        date: chrono::NaiveDate::from_ymd_opt(2026, 3, 1).unwrap(),
        kind,
        memo: "测试".into(),
        refs,
        idem_key: key.into(),
        lines,
    }
}

/// The refusal of a direct post: (status, rule or code).
fn refused(r: Result<sanshe::ledger::Posted, sanshe::error::AppError>) -> (u16, String) {
    use actix_web::ResponseError;
    let e = r.expect_err("refused");
    let rule = match &e {
        sanshe::error::AppError::Validation(v) => v[0].rule.clone(),
        other => other.code().to_string(),
    };
    (e.status_code().as_u16(), rule)
}

async fn each_rule_refused_with_nothing_written(b: Backend) {
    // The registry's streets, for the tender a reservation names.
    let app = TestApp::spawn_with(
        &b,
        Options {
            registry_demo: true,
            ..Default::default()
        },
    )
    .await;
    let fin = app.token("finance").await;
    let a = appropriate(&app, &fin, "r-1", "1000.00").await;
    let appr = Refs {
        appropriation: a["id"].as_i64(),
        ..Default::default()
    };
    // A tender to reserve for (reservations name their tender).
    let tender = {
        let cfg = config(&app.db, &Options::default());
        let ctx = sanshe::tenders::Ctx::from_config(&cfg);
        let mut c = app.conn();
        let bureau: i64 = sanshe::db::schema::users::table
            .filter(sanshe::db::schema::users::username.eq("bureau"))
            .select(sanshe::db::schema::users::id)
            .first(&mut c)
            .unwrap();
        let input =
            serde_json::from_value(crate::tenders::tender_body_at("LG-1", Utc::now())).unwrap();
        let actor = sanshe::audit::Actor::system("test");
        sanshe::tenders::create(&mut c, &ctx, &actor, bureau, Utc::now(), &input)
            .unwrap()
            .id
    };
    let for_tender = Refs {
        tender: Some(tender),
        ..Default::default()
    };
    let mut c = app.conn();
    let actor = finance_actor(&mut c);
    let now = Utc::now();
    let before = snapshot(&app);
    let cases: Vec<(&str, NewEntry, u16, &str)> = vec![
        (
            "unbalanced",
            entry(
                Kind::Appropriation,
                "x1",
                appr.clone(),
                vec![line(AV, 100), line(AP, -99)],
            ),
            422,
            "entry_balances",
        ),
        (
            "an account outside the chart",
            entry(
                Kind::Appropriation,
                "x2",
                appr.clone(),
                vec![line("Assets:Cash", 100), line(AP, -100)],
            ),
            422,
            "chart_of_accounts",
        ),
        (
            "a reservation shaped as an appropriation",
            entry(
                Kind::Reservation,
                "x3",
                for_tender.clone(),
                vec![line(AV, 100), line(AP, -100)],
            ),
            422,
            "entry_shape",
        ),
        (
            "a reservation without its tender",
            entry(
                Kind::Reservation,
                "x4",
                appr.clone(),
                vec![line(RS, 100), line(AV, -100)],
            ),
            422,
            "reference_required",
        ),
        (
            "more than is available",
            entry(
                Kind::Reservation,
                "x5",
                for_tender.clone(),
                vec![line(RS, 100_001), line(AV, -100_001)],
            ),
            422,
            "available_non_negative",
        ),
        (
            "releasing more than is reserved",
            entry(
                Kind::Release,
                "x6",
                for_tender.clone(),
                vec![line(AV, 1), line(RS, -1)],
            ),
            422,
            "balance_side",
        ),
        (
            "an entry's key reused for other content",
            entry(
                Kind::Appropriation,
                "appropriation:1",
                appr.clone(),
                vec![line(AV, 5), line(AP, -5)],
            ),
            409,
            "idempotency_key_reused",
        ),
        (
            "a reversal that does not negate",
            entry(
                Kind::Reversal,
                "x7",
                Refs {
                    reverses: Some(1),
                    ..Default::default()
                },
                vec![line(AV, -50), line(AP, 50)],
            ),
            422,
            "entry_shape",
        ),
    ];
    for (what, e, status, rule) in cases {
        assert_eq!(
            refused(post(&mut c, &actor, now, &e)),
            (status, rule.to_string()),
            "{what}"
        );
        assert_eq!(snapshot(&app), before, "{what}: the database changed");
    }
    // Exactly what is available may be reserved; then the appropriation cannot be reversed, because the
    // budget it gave is drawn on.
    let ok = post(
        &mut c,
        &actor,
        now,
        &entry(
            Kind::Reservation,
            "x8",
            for_tender.clone(),
            vec![line(RS, 100_000), line(AV, -100_000)],
        ),
    )
    .unwrap();
    assert_eq!(ok.entry.seq, 2);
    // The same key and content again: the first entry, nothing new.
    let again = post(
        &mut c,
        &actor,
        now,
        &entry(
            Kind::Reservation,
            "x8",
            for_tender.clone(),
            vec![line(RS, 100_000), line(AV, -100_000)],
        ),
    )
    .unwrap();
    assert!(again.replayed);
    assert_eq!(again.entry.hash, ok.entry.hash);
    let before = snapshot(&app);
    let r = app
        .send_json(
            "POST",
            "/api/v1/ledger/entries/1/reversal",
            Some(&fin),
            &json!({"memo": "录错", "idempotency_key": "rev-1"}),
        )
        .await;
    let p = problem(r, 422, "validation_failed").await;
    assert_eq!(rules_of(&p)[0].1, "available_non_negative", "{p}");
    assert_eq!(snapshot(&app), before);
    // Release the reservation, then reverse the appropriation: the budget is back to zero.
    post(
        &mut c,
        &actor,
        now,
        &entry(
            Kind::Release,
            "x9",
            for_tender,
            vec![line(AV, 100_000), line(RS, -100_000)],
        ),
    )
    .unwrap();
    let r = app
        .send_json(
            "POST",
            "/api/v1/ledger/entries/1/reversal",
            Some(&fin),
            &json!({"memo": "录错", "idempotency_key": "rev-1"}),
        )
        .await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let rev: Value = r.json().await.unwrap();
    assert_eq!(
        (rev["seq"].as_i64(), rev["reverses_seq"].as_i64()),
        (Some(4), Some(1))
    );
    assert_eq!(rev["postings"][0]["amount_fen"], -100_000);
    let a1: Value = app
        .get("/api/v1/appropriations/1", Some(&fin))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(a1["available"], "0.00");
    // A retry gets the reversal back; a second reversal of the same entry, or of the reversal: 409.
    let r = app
        .send_json(
            "POST",
            "/api/v1/ledger/entries/1/reversal",
            Some(&fin),
            &json!({"memo": "录错", "idempotency_key": "rev-1"}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let before = snapshot(&app);
    let r = app
        .send_json(
            "POST",
            "/api/v1/ledger/entries/1/reversal",
            Some(&fin),
            &json!({"memo": "again", "idempotency_key": "rev-2"}),
        )
        .await;
    problem(r, 409, "reversed_once").await;
    let r = app
        .send_json(
            "POST",
            "/api/v1/ledger/entries/4/reversal",
            Some(&fin),
            &json!({"memo": "again", "idempotency_key": "rev-3"}),
        )
        .await;
    problem(r, 409, "reversal_of_reversal").await;
    let r = app
        .send_json(
            "POST",
            "/api/v1/ledger/entries/99/reversal",
            Some(&fin),
            &json!({"memo": "none", "idempotency_key": "rev-4"}),
        )
        .await;
    problem(r, 404, "not_found").await;
    assert_eq!(snapshot(&app), before);
    let v: Value = app
        .get("/api/v1/ledger/verify", Some(&fin))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (v["ok"].as_bool(), v["entries"].as_i64()),
        (Some(true), Some(4)),
        "{v}"
    );
    app.stop().await;
}

fn sql(c: &mut DbConn, q: &str) -> Result<(), String> {
    c.batch_execute(q).map_err(|e| e.to_string())
}

async fn history_cannot_be_changed_in_place(b: Backend) {
    let app = TestApp::spawn(&b).await;
    let fin = app.token("finance").await;
    appropriate(&app, &fin, "t-1", "10").await;
    let before = snapshot(&app);
    let mut c = app.conn();
    let mut statements = vec![
        "UPDATE ledger_entries SET memo = 'x' WHERE seq = 1",
        "DELETE FROM ledger_entries WHERE seq = 1",
        "UPDATE ledger_postings SET amount_fen = 1 WHERE entry_seq = 1 AND line = 0",
        "DELETE FROM ledger_postings WHERE entry_seq = 1",
    ];
    if let Backend::Postgres(_) = b {
        statements.extend([
            "TRUNCATE ledger_postings",
            "TRUNCATE ledger_entries CASCADE",
        ]);
    }
    for s in statements {
        let e = sql(&mut c, s).expect_err(s);
        assert!(e.contains("append-only"), "{s}: {e}");
    }
    assert_eq!(snapshot(&app), before);
    app.stop().await;
}

fn drop_triggers(c: &mut DbConn, b: &Backend) {
    let q = match b {
        Backend::Sqlite => {
            "DROP TRIGGER ledger_postings_no_update; DROP TRIGGER ledger_entries_no_update;"
        }
        Backend::Postgres(_) => {
            "DROP TRIGGER ledger_postings_no_update_delete ON ledger_postings;
             DROP TRIGGER ledger_entries_no_update_delete ON ledger_entries;"
        }
    };
    sql(c, q).unwrap();
}

async fn verify_names_the_tampered_entry(b: Backend) {
    let app = TestApp::spawn(&b).await;
    let fin = app.token("finance").await;
    for i in 1..=3 {
        appropriate(&app, &fin, &format!("v-{i}"), &format!("{i}000.00")).await;
    }
    let e2: Value = app
        .get("/api/v1/ledger/entries/2", Some(&fin))
        .await
        .json()
        .await
        .unwrap();
    let digest2 = format!("2:{}", e2["hash"].as_str().unwrap());
    let db = app.stop().await;
    let (code, out, err) = run(sanshe(&db).args(["verify", "--digest", &digest2]));
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("ledger: ok, 3 entries, 2 accounts balance"),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "ledger digest {digest2}: ok, today's ledger extends it (head 3)"
        )),
        "{out}"
    );
    // A digest the ledger never had, and one beyond its head.
    let wrong = format!("2:{}", "ab".repeat(32));
    let (code, out, _) = run(sanshe(&db).args([
        "verify",
        "--digest",
        &wrong,
        "--digest",
        &format!("9:{}", "cd".repeat(32)),
    ]));
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("NOT extended: entry 2 now has hash"), "{out}");
    assert!(
        out.contains("NOT extended: there is no entry 9 (the head is 3)"),
        "{out}"
    );
    let (code, _, err) = run(sanshe(&db).args(["verify", "--digest", "two:abc"]));
    assert_eq!(code, 1);
    assert!(err.contains("expected SEQ:HASH"), "{err}");

    // Someone with database access drops the trigger and changes a posting of entry 2 (and its balancing
    // line, so the entry still balances): the hash no longer matches, and verify names entry 2.
    let mut c = db.conn();
    drop_triggers(&mut c, &b);
    sql(
        &mut c,
        "UPDATE ledger_postings SET amount_fen = amount_fen + 100 WHERE entry_seq = 2 AND line = 0;
         UPDATE ledger_postings SET amount_fen = amount_fen - 100 WHERE entry_seq = 2 AND line = 1;",
    )
    .unwrap();
    let (code, out, _) = run(sanshe(&db).args(["verify", "--digest", &digest2]));
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("ledger: BROKEN at entry 2 after 1 good entries"),
        "{out}"
    );
    assert!(out.contains("entry 2 was altered"), "{out}");
    let r = sanshe::ledger::verify(&mut c).unwrap();
    assert_eq!((r.ok, r.bad_seq, r.entries), (false, Some(2), 1));
    // Put it back: the ledger verifies again. Then a stored balance alone is changed: verify names the
    // entry that last moved that account.
    sql(
        &mut c,
        "UPDATE ledger_postings SET amount_fen = amount_fen - 100 WHERE entry_seq = 2 AND line = 0;
         UPDATE ledger_postings SET amount_fen = amount_fen + 100 WHERE entry_seq = 2 AND line = 1;",
    )
    .unwrap();
    assert!(sanshe::ledger::verify(&mut c).unwrap().ok);
    sql(
        &mut c,
        "UPDATE ledger_balances SET balance_fen = balance_fen + 1 WHERE account = 'Budget:Available:2026:general:elderly'",
    )
    .unwrap();
    let r = sanshe::ledger::verify(&mut c).unwrap();
    assert_eq!((r.ok, r.bad_seq), (false, Some(3)), "{r:?}");
    assert!(r.error.unwrap().contains("stored balance"));
    // A gap: entry 3 deleted (its postings first).
    sql(
        &mut c,
        "UPDATE ledger_balances SET balance_fen = balance_fen - 1 WHERE account = 'Budget:Available:2026:general:elderly'",
    )
    .unwrap();
    let gap = match b {
        Backend::Sqlite => {
            "DROP TRIGGER ledger_postings_no_delete; DROP TRIGGER ledger_entries_no_delete;
             DELETE FROM ledger_postings WHERE entry_seq = 2; DELETE FROM ledger_entries WHERE seq = 2;"
        }
        Backend::Postgres(_) => {
            "DELETE FROM ledger_postings WHERE entry_seq = 2; DELETE FROM ledger_entries WHERE seq = 2;"
        }
    };
    sql(&mut c, gap).unwrap();
    let r = sanshe::ledger::verify(&mut c).unwrap();
    assert_eq!((r.ok, r.bad_seq), (false, Some(2)), "{r:?}");
    assert!(r.error.unwrap().contains("entry 2 missing"));
}

/// Parse `ledger bal` / `hledger bal` flat output: account → amount.
fn parse_bal(out: &str) -> BTreeMap<String, Decimal> {
    out.lines()
        .filter_map(|l| {
            let l = l.trim();
            let rest = l.strip_prefix("CNY ")?;
            let (amount, account) = rest.split_once("  ")?;
            Some((
                account.trim().to_string(),
                amount.replace(',', "").parse().unwrap(),
            ))
        })
        .collect()
}

/// A program the test needs: absent, the test fails (scripts/setup-test-deps installs it), never skips.
fn tool(name: &str, args: &[&str]) -> String {
    let out = std::process::Command::new(name)
        .args(args)
        .output()
        .unwrap_or_else(|e| {
            panic!("{name} is required (Debian package {name}; scripts/setup-test-deps installs it): {e}")
        });
    assert!(
        out.status.success(),
        "{name} {args:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

async fn the_journal_reads_the_same_in_ledger_and_hledger(b: Backend) {
    let app = TestApp::spawn(&b).await;
    let fin = app.token("finance").await;
    appropriate(&app, &fin, "j-1", "1500000.50").await;
    appropriate(&app, &fin, "j-2", "0.07").await;
    let r = app
        .send_json(
            "POST",
            "/api/v1/appropriations",
            Some(&fin),
            &json!({"year": 2024, "fund": "transfer", "amount": "99999.99", "document_no": "省补;\n第1批", "note": "=HYPERLINK(\"x\")", "date": "2024-02-01", "idempotency_key": "j-3"}),
        )
        .await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let r = app
        .send_json(
            "POST",
            "/api/v1/ledger/entries/2/reversal",
            Some(&fin),
            &json!({"memo": "重复登记", "idempotency_key": "j-rev"}),
        )
        .await;
    assert_eq!(r.status(), 201);
    let r = app.get("/api/v1/ledger/journal", Some(&fin)).await;
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()[CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/plain"),
    );
    let journal = r.text().await.unwrap();
    assert!(journal.contains("commodity CNY\n"), "{journal}");
    assert!(journal.contains("account Budget:Available:2026:general:elderly\n"));
    assert!(
        journal.contains(" * (L000001) 2026年一般公共预算预算指标 官财社〔2026〕12号\n"),
        "{journal}"
    );
    assert!(journal.contains("    Budget:Available:2026:general:elderly  CNY 1500000.50\n"));
    assert!(journal.contains("    Budget:Appropriated:2026:general:elderly  CNY -1500000.50\n"));
    assert!(
        journal.contains("    ; kind: reversal\n    ; appropriation: 2\n    ; reverses: 2\n"),
        "{journal}"
    );
    // The memo's semicolon and line break do not break the line.
    assert!(journal.contains("省补； 第1批"), "{journal}");
    let dir = tempfile_dir(&app);
    let file = dir.join("sanshe.journal");
    std::fs::write(&file, &journal).unwrap();
    let f = file.to_str().unwrap();
    let tb: Value = app
        .get("/api/v1/ledger/trial-balance", Some(&fin))
        .await
        .json()
        .await
        .unwrap();
    let want: BTreeMap<String, Decimal> = tb["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["balance_fen"].as_i64() != Some(0))
        .map(|r| {
            (
                r["account"].as_str().unwrap().to_string(),
                Decimal::new(r["balance_fen"].as_i64().unwrap(), 2),
            )
        })
        .collect();
    assert_eq!(want.len(), 4, "{tb}");
    let ledger = parse_bal(&tool("ledger", &["-f", f, "bal", "--flat", "--no-total"]));
    assert_eq!(ledger, want, "ledger bal");
    let hledger = parse_bal(&tool("hledger", &["-f", f, "bal", "--flat", "-N"]));
    assert_eq!(hledger, want, "hledger bal");
    tool("hledger", &["check", "--strict", "-f", f]);
    // An undeclared account fails the strict check: the check is real.
    let broken = dir.join("broken.journal");
    std::fs::write(
        &broken,
        format!("{journal}\n2026-03-01 * x\n    Assets:Undeclared  CNY 1.00\n    Budget:Available:2026:general:elderly  CNY -1.00\n"),
    )
    .unwrap();
    let out = std::process::Command::new("hledger")
        .args(["check", "--strict", "-f", broken.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!out.status.success());

    // The trial balance as CSV: BOM, debit and credit columns, totals, the digest.
    let r = app
        .get("/api/v1/ledger/trial-balance/export", Some(&fin))
        .await;
    assert_eq!(r.status(), 200);
    let csv = r.text().await.unwrap();
    assert!(csv.starts_with('\u{feff}'));
    assert!(
        csv.contains("Budget:Available:2024:transfer:common,99999.99,,1\r\n"),
        "{csv}"
    );
    assert!(
        csv.contains(&format!(
            "合计 Total,{},{},\r\n",
            tb["total_debit"].as_str().unwrap(),
            tb["total_credit"].as_str().unwrap()
        )),
        "{csv}"
    );
    assert!(csv.contains(tb["digest"]["hash"].as_str().unwrap()));
    app.stop().await;
}

fn tempfile_dir(app: &TestApp) -> std::path::PathBuf {
    let d = app.db.dir.join("journal");
    std::fs::create_dir_all(&d).unwrap();
    d
}

async fn finance_pages(b: Backend) {
    let app = TestApp::spawn(&b).await;
    let c = sign_in(&app, "finance").await;
    let html = c
        .get(app.url("/finance/appropriations/new"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("id=\"ledger-digest\""), "{html}");
    assert!(html.contains("#0"), "empty ledger: digest 0");
    let csrf = csrf_of(&html);
    let key_at = html.find("name=\"idempotency_key\" value=\"").unwrap() + 29;
    let key = html[key_at..key_at + 36].to_string();
    // Errors come back inline, with what was typed.
    let before = snapshot(&app);
    let r = c
        .post(app.url("/finance/appropriations/new"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("year", "2026"),
            ("fund", "general"),
            ("field", "elderly"),
            ("amount", "12.345"),
            ("document_no", ""),
            ("date", ""),
            ("note", ""),
            ("idempotency_key", &key),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let html = r.text().await.unwrap();
    assert!(html.contains("金额最多两位小数（分）。"), "{html}");
    assert!(html.contains("value=\"12.345\""), "{html}");
    assert!(html.contains("has-error"));
    assert_eq!(snapshot(&app), before);
    let form = [
        ("csrf", csrf.as_str()),
        ("year", "2026"),
        ("fund", "general"),
        ("field", "elderly"),
        ("amount", "120000"),
        ("document_no", "官财社〔2026〕7号"),
        ("date", "2026-02-03"),
        ("note", "页面登记"),
        ("idempotency_key", &key),
    ];
    let r = c
        .post(app.url("/finance/appropriations/new"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
    // A double submit records one appropriation.
    let r = c
        .post(app.url("/finance/appropriations/new"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let mut db = app.conn();
    let n: i64 = ap::table.count().get_result(&mut db).unwrap();
    assert_eq!(n, 1);
    let hash: String = le::table.find(1).select(le::hash).first(&mut db).unwrap();
    let html = c
        .get(app.url("/finance/appropriations?year=2026&q=7"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("官财社〔2026〕7号"), "{html}");
    assert!(html.contains("120,000.00"), "grouped yuan on the list");
    assert!(html.contains(&hash), "the digest on the list");
    assert!(html.contains("id=\"new-appropriation\""));
    let html = c
        .get(app.url("/finance/trial-balance"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains(&hash), "the digest on the trial balance");
    assert!(
        html.contains("<th class=\"num\" id=\"total-debit\">120,000.00</th>"),
        "{html}"
    );
    assert!(html.contains("Budget:Appropriated:2026:general:elderly"));
    let html = c
        .get(app.url("/dashboard"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("id=\"card-ledger\""), "{html}");
    assert!(html.contains(&hash), "the digest on the finance dashboard");
    // The bureau reads the budgets but records none; English second.
    let bureau = sign_in(&app, "bureau").await;
    let r = bureau
        .get(app.url("/lang/en?next=/finance/appropriations"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let html = bureau
        .get(app.url("/finance/appropriations"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("Budget appropriations"), "{html}");
    assert!(html.contains("Ledger digest"));
    assert!(!html.contains("id=\"new-appropriation\""));
    app.stop().await;
}

both_backends!(
    appropriations_post_to_the_ledger,
    each_rule_refused_with_nothing_written,
    history_cannot_be_changed_in_place,
    verify_names_the_tampered_entry,
    the_journal_reads_the_same_in_ledger_and_hledger,
    finance_pages
);

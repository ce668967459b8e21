//! A winner that refuses to sign the contract, or lets the 30 days of 政府采购法 Art 46 run out: the bureau
//! records it with a reason and the award passes to the next-ranked valid bid in rank order, its result to
//! be published again, or the tender fails when none is left (实施条例 Art 43; 87号令 Art 68). Both backends.
//! Refusals (wrong state, a contract recorded, no reason) leave the database as it was.

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use serde_json::{Value, json};

use crate::helpers::{Backend, csrf_of, problem, sign_in};
use crate::methods::{PLANS, evaluate, seat};
use crate::tenders::{Bidder, Fx, bid, bidders, create_tender, setup, state_of, tender_body_at};
use crate::tenders_sealed::json_of;
use sanshe::clock::Clock;

fn now(fx: &Fx) -> DateTime<Utc> {
    Clock::now(&fx.clock)
}

async fn post(fx: &Fx, path: &str, body: &Value) -> reqwest::Response {
    fx.app
        .send_json("POST", path, Some(&fx.b().await), body)
        .await
}

async fn view(fx: &Fx, id: i64) -> Value {
    json_of(
        fx.app
            .get(&format!("/api/v1/tenders/{id}"), Some(&fx.b().await))
            .await,
        200,
    )
    .await
}

async fn award_seq(fx: &Fx, id: i64) -> Option<i64> {
    json_of(
        fx.app
            .get(&format!("/api/v1/tenders/{id}/report"), Some(&fx.b().await))
            .await,
        200,
    )
    .await["award_seq"]
        .as_i64()
}

/// The database as a caller could see it change: the audit chain, users, outbox, the tender as the bureau
/// reads it, and the refusal rows.
async fn state(fx: &Fx, id: i64) -> (String, Value, i64) {
    let rows: i64 = sanshe::db::schema::award_refusals::table
        .count()
        .get_result(&mut fx.app.conn())
        .unwrap();
    (fx.app.snapshot(), view(fx, id).await, rows)
}

/// The reserved and available balances of the elderly budget of this year (fen).
async fn budget(fx: &Fx, year: &str) -> (i64, i64) {
    let fin = fx.app.token("finance").await;
    let tb = json_of(
        fx.app.get("/api/v1/ledger/trial-balance", Some(&fin)).await,
        200,
    )
    .await;
    let of = |a: String| {
        tb["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["account"] == a.as_str())
            .map_or(0, |r| r["balance_fen"].as_i64().unwrap())
    };
    (
        of(format!("Budget:Reserved:{year}:general:elderly")),
        of(format!("Budget:Available:{year}:general:elderly")),
    )
}

/// An open tender of ¥200,000 funded by a ¥1,000,000 appropriation, three bids (A ¥150,000, B ¥120,000,
/// C ¥100,000), a panel of five, scored A 90 > B 87 > C 83, A named and its result published. Returns
/// (tender, the bids in rank order, the year).
async fn published(fx: &Fx, code: &str, bs: &[Bidder]) -> (i64, Vec<i64>, String) {
    let p = &PLANS[0];
    let start = now(fx);
    let year = sanshe::tenders::today(start).format("%Y").to_string();
    let r = fx
        .app
        .send_json(
            "POST",
            "/api/v1/appropriations",
            Some(&fx.app.token("finance").await),
            &json!({"year": year.parse::<i32>().unwrap(), "fund": "general", "field": "elderly",
                    "amount": "1000000", "document_no": code, "idempotency_key": code}),
        )
        .await;
    let appr = json_of(r, 201).await["id"].as_i64().unwrap();
    let id = create_tender(fx, &tender_body_at(code, start)).await;
    let r = post(
        fx,
        &format!("/api/v1/tenders/{id}/appropriation"),
        &json!({"appropriation_id": appr}),
    )
    .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let r = post(fx, &format!("/api/v1/tenders/{id}/publish"), &json!({})).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let mut seqs = Vec::new();
    for (k, (b, price)) in bs
        .iter()
        .zip([15_000_000, 12_000_000, 10_000_000])
        .enumerate()
    {
        let v = json_of(bid(fx, b, id, &format!("{code}-{k}"), price).await, 201).await;
        seqs.push(v["seq"].as_i64().unwrap());
    }
    fx.clock
        .set(start + Duration::days(21) + Duration::hours(1) + Duration::minutes(1));
    assert_eq!(state_of(fx, id).await, "opened");
    let panel = seat(fx, p, id).await;
    let (ranked, _) = evaluate(fx, p, id, &panel, &seqs).await;
    assert_eq!(state_of(fx, id).await, "evaluated");
    let r = post(
        fx,
        &format!("/api/v1/tenders/{id}/award"),
        &json!({"bid_seq": ranked[0]}),
    )
    .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    publish_result(fx, id).await;
    (id, ranked, year)
}

async fn publish_result(fx: &Fx, id: i64) -> Value {
    let v = json_of(
        post(fx, &format!("/api/v1/tenders/{id}/result"), &json!({})).await,
        200,
    )
    .await;
    assert_eq!(v["state"], "publicity", "{v}");
    v
}

/// To the end of the challenge window: the award is final.
async fn to_awarded(fx: &Fx, id: i64, published: &Value) {
    let ends = chrono::NaiveDateTime::parse_from_str(
        published["challenge_ends"].as_str().unwrap(),
        "%Y-%m-%dT%H:%M:%S%.f",
    )
    .unwrap()
    .and_utc();
    fx.clock.set(ends + Duration::minutes(1));
    assert_eq!(state_of(fx, id).await, "awarded");
}

async fn refuse(fx: &Fx, id: i64, reason: &str) -> reqwest::Response {
    post(
        fx,
        &format!("/api/v1/tenders/{id}/award/refusal"),
        &json!({ "reason": reason }),
    )
    .await
}

/// 实施条例 Art 43: A refuses during the publicity (through the page, after an inline error for a missing
/// reason): B, second-ranked, becomes the proposed winner and its result is published again; B refuses after
/// the final award (its release of the ceiling goes back into the reservation): C; C refuses with no valid
/// bid left: the tender fails and what is reserved is released. A missing or over-long reason is 422 on
/// `reason` and changes nothing.
async fn art43_a_refusal_to_sign_passes_the_award_in_rank_order(backend: Backend) {
    let fx = setup(&backend).await;
    let bs = bidders(&fx.app, 3);
    let (id, ranked, year) = published(&fx, "RF-1", &bs).await;
    assert_eq!(budget(&fx, &year).await, (20_000_000, 80_000_000));

    for reason in ["", "   ", &"理".repeat(501)] {
        let before = state(&fx, id).await;
        let pr = problem(refuse(&fx, id, reason).await, 422, "validation_failed").await;
        assert_eq!(pr["errors"][0]["field"], "reason", "{pr}");
        assert_eq!(
            state(&fx, id).await,
            before,
            "a refused request changes nothing"
        );
    }

    // The bureau's page: the form with its confirmation, an inline error, then the refusal.
    let web = sign_in(&fx.app, "bureau").await;
    let html = web
        .get(fx.app.url(&format!("/tenders/{id}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("中标（成交）供应商拒绝签订合同"), "{html}");
    assert!(
        html.contains("将由排名第二的有效投标人递补，结果须重新公告"),
        "{html}"
    );
    let csrf = csrf_of(&html);
    let form = |reason: &str| {
        web.post(fx.app.url(&format!("/tenders/{id}/award-refusal")))
            .form(&[("csrf", csrf.as_str()), ("reason", reason)])
            .send()
    };
    let before = state(&fx, id).await;
    let r = form("").await.unwrap();
    assert_eq!(r.status(), 422);
    let html = r.text().await.unwrap();
    assert!(html.contains("请说明理由（最多 500 字）。"), "{html}");
    assert_eq!(state(&fx, id).await, before);
    let r = form("中标人书面声明放弃中标").await.unwrap();
    assert!(r.status().is_redirection(), "{}", r.status());

    let v = view(&fx, id).await;
    assert_eq!(v["state"], "award_proposed", "{v}");
    assert_eq!(award_seq(&fx, id).await, Some(ranked[1]));
    assert_eq!(v["award_refusals"][0]["bid_seq"], ranked[0], "{v}");
    assert_eq!(v["award_refusals"][0]["reason"], "中标人书面声明放弃中标");
    let public = json_of(
        fx.app.get(&format!("/api/v1/tenders/{id}"), None).await,
        200,
    )
    .await;
    assert_eq!(public["award_refusals"], v["award_refusals"], "{public}");
    let opened = json_of(
        fx.app
            .get(&format!("/api/v1/tenders/{id}/bids"), Some(&fx.b().await))
            .await,
        200,
    )
    .await;
    let a = opened
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["seq"] == ranked[0])
        .unwrap();
    assert_eq!(a["status"], "withdrawn", "{a}");
    assert!(
        a["status_reason"]
            .as_str()
            .unwrap()
            .starts_with("拒绝签订合同："),
        "{a}"
    );
    // The refusing organisation is told.
    let mails: Vec<(String, String)> = {
        use sanshe::db::schema::outbox as o;
        o::table
            .select((o::template, o::to_addr))
            .load(&mut fx.app.conn())
            .unwrap()
    };
    assert_eq!(
        mails.iter().filter(|(t, _)| t == "award_refused").count(),
        1,
        "{mails:?}"
    );
    let html = web
        .get(fx.app.url(&format!("/tenders/{id}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("refused-to-sign"), "{html}");
    assert!(
        html.contains("中标（成交）供应商拒绝签订合同：") && html.contains("id=\"award-refusals\"")
    );

    // B's result is published again; after the final award B refuses too.
    let p = publish_result(&fx, id).await;
    assert_eq!(p["result"]["price_fen"], 12_000_000, "{p}");
    to_awarded(&fx, id, &p).await;
    // Final award at ¥120,000: ¥80,000 of the ¥200,000 ceiling released.
    assert_eq!(budget(&fx, &year).await, (12_000_000, 88_000_000));
    let v = json_of(refuse(&fx, id, "逾期 30 日未签订合同").await, 200).await;
    assert_eq!(v["state"], "award_proposed", "{v}");
    assert_eq!(award_seq(&fx, id).await, Some(ranked[2]));
    assert_eq!(budget(&fx, &year).await, (20_000_000, 80_000_000));
    let p = publish_result(&fx, id).await;
    to_awarded(&fx, id, &p).await;
    assert_eq!(budget(&fx, &year).await, (10_000_000, 90_000_000));

    // C, the last valid bid, refuses: nothing left to pass to.
    let v = json_of(refuse(&fx, id, "拒绝签订").await, 200).await;
    assert_eq!(v["state"], "failed", "{v}");
    assert_eq!(v["award_refusals"].as_array().unwrap().len(), 3, "{v}");
    assert_eq!(budget(&fx, &year).await, (0, 100_000_000));
    let fin = fx.app.token("finance").await;
    let ok = json_of(fx.app.get("/api/v1/ledger/verify", Some(&fin)).await, 200).await;
    assert_eq!(ok["ok"], true, "{ok}");
}
crate::both_backends!(art43_a_refusal_to_sign_passes_the_award_in_rank_order);

/// 实施条例 Art 43: a refusal is recorded only for a published result with no contract: before the result
/// 409 `wrong_state`, once the contract is recorded 409 `contract_exists`; neither changes anything.
async fn art43_refusal_refused_before_the_result_and_after_the_contract(backend: Backend) {
    let fx = setup(&backend).await;
    let bs = bidders(&fx.app, 3);
    let (id, _, _) = published(&fx, "RF-2", &bs).await;
    // A second tender, a draft: no award yet.
    let other = create_tender(&fx, &tender_body_at("RF-3", now(&fx))).await;
    let before = state(&fx, other).await;
    problem(refuse(&fx, other, "拒绝签订").await, 409, "wrong_state").await;
    assert_eq!(state(&fx, other).await, before);

    let p = view(&fx, id).await;
    to_awarded(&fx, id, &p).await;
    let today = sanshe::tenders::today(now(&fx));
    let r = post(
        &fx,
        "/api/v1/contracts",
        &json!({"tender_id": id, "contract_no": "RF-2-HT", "term_start": today.to_string()}),
    )
    .await;
    json_of(r, 201).await;
    let before = state(&fx, id).await;
    problem(refuse(&fx, id, "拒绝签订").await, 409, "contract_exists").await;
    assert_eq!(state(&fx, id).await, before);
}
crate::both_backends!(art43_refusal_refused_before_the_result_and_after_the_contract);

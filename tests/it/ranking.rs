//! Ranking and award order as the law writes them, end to end: a full tie decided by a recorded draw that
//! anyone can recompute from public data (87号令 Art 57, 68), and the winner named in rank order
//! (实施条例 Art 43).

use diesel::prelude::*;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::helpers::{Backend, problem, sign_in};
use crate::tenders::{
    bid_body, bidders, create_tender, demo_evaluators, publish, setup, tender_body,
};
use crate::tenders_sealed::json_of;
use sanshe::db::schema::audit_events;

fn sha256_hex(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
}

/// Three bids of one price and one score tie fully; a fourth is dearer. The draw decides the three places,
/// is recorded in the audit chain, shows on the report, and recomputes from the tender code and the public
/// commitments with SHA-256 alone; a second reading gives the same. The bureau cannot name the second-ranked
/// bid while the first stands, reason or not; once the first is disqualified (reason recorded), it can.
async fn art57_full_tie_decided_by_a_recorded_draw_then_award_in_rank_order(backend: Backend) {
    let fx = setup(&backend).await;
    let app = &fx.app;
    let code = "TD-2026-001";
    let id = create_tender(&fx, &tender_body(code)).await;
    publish(&fx, id).await;
    let b = bidders(app, 4);
    let prices = [10_000_000i64, 10_000_000, 10_000_000, 12_000_000];
    let mut seq = Vec::new();
    for (i, p) in prices.iter().enumerate() {
        let t = app.token(&b[i].user).await;
        let r = app
            .send_json(
                "POST",
                &format!("/api/v1/tenders/{id}/bids"),
                Some(&t),
                &bid_body(&format!("tie{i}"), *p, b[i].worker),
            )
            .await;
        seq.push(json_of(r, 201).await["seq"].as_i64().unwrap());
    }
    let opening: Value = json_of(app.get(&format!("/api/v1/tenders/{id}"), None).await, 200).await;
    let opening_at = chrono::NaiveDateTime::parse_from_str(
        opening["opening_at"].as_str().unwrap(),
        "%Y-%m-%dT%H:%M:%S%.f",
    )
    .unwrap()
    .and_utc();
    fx.clock.set(opening_at);
    let bureau = app.token("bureau").await;
    let evs = demo_evaluators(app);
    let p = |s: &str| format!("/api/v1/tenders/{id}/{s}");
    json_of(
        app.send_json(
            "POST",
            &p("panel"),
            Some(&bureau),
            &json!({"draw_experts": evs.len()}),
        )
        .await,
        200,
    )
    .await;
    let mut scores = Vec::new();
    for s in &seq {
        scores.push(json!({"bid_seq": s, "criterion": "plan", "points": "40"}));
        scores.push(json!({"bid_seq": s, "criterion": "team", "points": "8"}));
        scores.push(json!({"bid_seq": s, "criterion": "exp", "points": "5"}));
    }
    for k in 1..=evs.len() {
        let t = app.token(&format!("evaluator{k}")).await;
        json_of(
            app.send_json(
                "POST",
                &p("declaration"),
                Some(&t),
                &json!({"conflict": false}),
            )
            .await,
            200,
        )
        .await;
        json_of(
            app.send_json("POST", &p("scores"), Some(&t), &json!({ "scores": scores }))
                .await,
            200,
        )
        .await;
    }

    let report = json_of(app.get(&p("report"), Some(&bureau)).await, 200).await;
    assert_eq!(report["locked"], true, "{report}");
    let draws = report["draws"].as_array().unwrap();
    assert_eq!(draws.len(), 1, "{report}");
    let d = &draws[0];
    let mut tied = seq[..3].to_vec();
    tied.sort();
    assert_eq!(d["candidates"], json!(tied));
    // The seed from public data: the tender code and every opened bid's commitment, in receipt order.
    let commitments = json_of(app.get(&p("commitments"), None).await, 200).await;
    let mut pre = format!("sanshe tie draw v1\n{code}");
    for c in commitments.as_array().unwrap() {
        pre.push('\n');
        pre.push_str(c["commitment"].as_str().unwrap());
    }
    let seed = sha256_hex(&pre);
    assert_eq!(d["seed"], json!(seed));
    // Each key is SHA-256(seed:receipt); the lowest key draws the best place.
    let mut by_key: Vec<(String, i64)> = tied
        .iter()
        .map(|s| (sha256_hex(&format!("{seed}:{s}")), *s))
        .collect();
    assert_eq!(
        d["keys"],
        json!(by_key.iter().map(|k| k.0.clone()).collect::<Vec<_>>())
    );
    by_key.sort();
    let order: Vec<i64> = by_key.iter().map(|k| k.1).collect();
    assert_eq!(d["order"], json!(order));
    let ranked: Vec<(i64, i64, Value)> = report["bids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            (
                x["seq"].as_i64().unwrap(),
                x["rank"].as_i64().unwrap(),
                x["tie"].clone(),
            )
        })
        .collect();
    assert_eq!(
        ranked,
        vec![
            (order[0], 1, json!("draw")),
            (order[1], 2, json!("draw")),
            (order[2], 3, json!("draw")),
            (seq[3], 4, Value::Null),
        ]
    );
    // Recorded once, in the audit chain, with the same seed and result.
    let recorded: Vec<Option<String>> = audit_events::table
        .filter(audit_events::action.eq("tender.tie_draw"))
        .select(audit_events::after_json)
        .load(&mut app.conn())
        .unwrap();
    assert_eq!(recorded.len(), 1);
    let rec: Value = serde_json::from_str(recorded[0].as_deref().unwrap()).unwrap();
    // The timeline note keeps the draw as its parameters.
    assert_eq!(rec["note"]["code"], "tie_draw", "{rec}");
    assert_eq!(rec["note"]["params"]["seed"], json!(seed), "{rec}");
    assert_eq!(rec["note"]["params"]["order"], json!(order), "{rec}");
    // A second reading reproduces it.
    let again = json_of(app.get(&p("report"), Some(&bureau)).await, 200).await;
    assert_eq!(again["draws"], report["draws"]);
    // The report page shows the draw and how to check it.
    let page = sign_in(app, "bureau")
        .await
        .get(app.url(&format!("/tenders/{id}/report")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("抽签记录") && page.contains(&seed),
        "report page"
    );

    // Award in rank order: the second-ranked is refused while the first stands, and nothing changes.
    let before = app.snapshot();
    let r = app
        .send_json(
            "POST",
            &p("award"),
            Some(&bureau),
            &json!({"bid_seq": order[1], "reason": "综合考虑"}),
        )
        .await;
    let pr = problem(r, 422, "validation_failed").await;
    assert_eq!(pr["errors"][0]["rule"], "rank_order", "{pr}");
    assert_eq!(app.snapshot(), before);
    // The first is disqualified with its reason; then the next in rank order may be named.
    json_of(
        app.send_json(
            "POST",
            &p("disqualify"),
            Some(&bureau),
            &json!({"bid_seq": order[0], "reason": "资格证明材料不实。"}),
        )
        .await,
        200,
    )
    .await;
    let v = json_of(
        app.send_json(
            "POST",
            &p("award"),
            Some(&bureau),
            &json!({"bid_seq": order[1]}),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(v["state"], "award_proposed");
    // The two left of the draw keep their drawn order.
    let report = json_of(app.get(&p("report"), Some(&bureau)).await, 200).await;
    assert_eq!(report["draws"][0]["order"], json!(order[1..].to_vec()));
    fx.app.stop().await;
}

crate::both_backends!(art57_full_tie_decided_by_a_recorded_draw_then_award_in_rank_order);

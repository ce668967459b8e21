//! Procurement rules as the law writes them, end to end on both backends: the panel's seats and the
//! recorded random draw of its experts (87号令 Art 47–48; 实施条例 Art 39), the fixed-price tender with price
//! unscored (87号令 Art 55), the documents available at least 5 working days (87号令 Art 18), and the
//! revocation of a rating (民政部令第39号 Art 30). Every refusal names
//! field and rule and leaves the database as it was.

use crate::helpers::rules_of;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::helpers::{Backend, problem, sign_in};
use crate::tenders::{
    Fx, bid, bidders, create_tender, demo_evaluators, publish, setup, state_of, t0, tender_body,
};
use crate::tenders_sealed::json_of;

fn sha256_hex(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
}

/// A published open tender with three bids at `prices`, opened by the clock. Returns its id and the bids'
/// receipt numbers.
async fn opened_with_bids(fx: &Fx, body: &Value, prices: [i64; 3]) -> (i64, Vec<i64>) {
    let id = create_tender(fx, body).await;
    publish(fx, id).await;
    let bs = bidders(&fx.app, 3);
    let mut seqs = Vec::new();
    for (i, (b, p)) in bs.iter().zip(prices).enumerate() {
        let v = json_of(bid(fx, b, id, &format!("k{i}"), p).await, 201).await;
        seqs.push(v["seq"].as_i64().unwrap());
    }
    fx.clock
        .set(t0() + chrono::Duration::days(21) + chrono::Duration::hours(1));
    // Read once, so the clock's opening is applied before any snapshot.
    assert_eq!(state_of(fx, id).await, "opened");
    (id, seqs)
}

/// 87号令 Art 47: the buyer's representatives are at most a third of the panel; 实施条例 Art 39 and 87号令
/// Art 48: the experts are drawn at random from the pool (evaluators linked to a bidder left out), and the
/// draw is recorded (seed, candidates, who was drawn, time), shown on the tender page and the report, and
/// recomputed here from its seed with SHA-256 alone.
async fn panel_buyer_reps_at_most_a_third_and_experts_drawn_87_art_47_48(backend: Backend) {
    let fx = setup(&backend).await;
    let app = &fx.app;
    let (id, _) = opened_with_bids(
        &fx,
        &tender_body("PD-2026-001"),
        [10_000_000, 11_000_000, 12_000_000],
    )
    .await;
    let bureau = fx.b().await;
    let p = |s: &str| format!("/api/v1/tenders/{id}/{s}");
    // The pool: the five demo evaluators, two more, and one the registry links to a bidder.
    let evs = demo_evaluators(app);
    assert_eq!(evs.len(), 5);
    let extra = [
        app.create_user("ev_pool6", "evaluator", None, None).await,
        app.create_user("ev_pool7", "evaluator", None, None).await,
    ];
    let linked = app.create_user("ev_linked", "evaluator", None, None).await;
    let bidder_org = bidders(app, 1)[0].org;
    json_of(
        app.send_json(
            "POST",
            &format!("/api/v1/evaluators/{linked}/links"),
            Some(&bureau),
            &json!({"organisation_id": bidder_org, "relation": "employee"}),
        )
        .await,
        200,
    )
    .await;

    let before = app.snapshot();
    // Two representatives of five: more than a third.
    let r = app
        .send_json(
            "POST",
            &p("panel"),
            Some(&bureau),
            &json!({"draw_experts": 3, "buyer_rep_ids": [evs[0], evs[1]]}),
        )
        .await;
    let pr = problem(r, 422, "validation_failed").await;
    assert_eq!(
        rules_of(&pr),
        vec![("buyer_rep_ids".into(), "buyer_reps_third".into())]
    );
    let e = &pr["errors"][0]["message"];
    assert!(e["zh-CN"].as_str().unwrap().contains("三分之一"), "{pr}");
    assert!(e["en"].as_str().unwrap().contains("Art 47"), "{pr}");
    // An even panel, and one below five.
    for (n, reps) in [(3, json!([evs[0]])), (4, json!([]))] {
        let r = app
            .send_json(
                "POST",
                &p("panel"),
                Some(&bureau),
                &json!({"draw_experts": n, "buyer_rep_ids": reps}),
            )
            .await;
        let pr = problem(r, 422, "validation_failed").await;
        assert_eq!(
            rules_of(&pr),
            vec![("draw_experts".into(), "panel_size".into())]
        );
    }
    // More experts than the pool holds (seven: the linked one is not in it).
    let r = app
        .send_json(
            "POST",
            &p("panel"),
            Some(&bureau),
            &json!({"draw_experts": 9}),
        )
        .await;
    let pr = problem(r, 422, "validation_failed").await;
    assert!(
        rules_of(&pr).contains(&("draw_experts".into(), "pool_too_small".into())),
        "{pr}"
    );
    // A representative linked to a bidder.
    let r = app
        .send_json(
            "POST",
            &p("panel"),
            Some(&bureau),
            &json!({"draw_experts": 4, "buyer_rep_ids": [linked]}),
        )
        .await;
    let pr = problem(r, 422, "validation_failed").await;
    assert_eq!(
        rules_of(&pr),
        vec![("buyer_rep_ids".into(), "conflict_of_interest".into())]
    );
    assert_eq!(
        app.snapshot(),
        before,
        "a refused panel changed the database"
    );

    // One representative and four experts drawn from the six left in the pool.
    let panel = json_of(
        app.send_json(
            "POST",
            &p("panel"),
            Some(&bureau),
            &json!({"draw_experts": 4, "buyer_rep_ids": [evs[0]]}),
        )
        .await,
        200,
    )
    .await;
    let seats: Vec<(i64, String)> = panel
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["user_id"].as_i64().unwrap(),
                m["seat"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(seats.len(), 5, "{panel}");
    assert!(seats.contains(&(evs[0], "buyer_rep".into())), "{panel}");
    assert!(seats.iter().all(|(u, _)| *u != linked));

    // The draw, recorded and shown on the report, recomputes from its seed.
    let report = json_of(app.get(&p("report"), Some(&bureau)).await, 200).await;
    let draws = report["panel_draws"].as_array().unwrap();
    assert_eq!(draws.len(), 1, "{report}");
    let d = &draws[0];
    let mut pool: Vec<i64> = evs[1..].iter().chain(extra.iter()).copied().collect();
    pool.sort();
    assert_eq!(d["candidates"], json!(pool));
    let seed = d["seed"].as_str().unwrap().to_string();
    assert_eq!(seed.len(), 64);
    let mut by_key: Vec<(String, i64)> = pool
        .iter()
        .map(|u| (sha256_hex(&format!("{seed}:{u}")), *u))
        .collect();
    assert_eq!(
        d["keys"],
        json!(by_key.iter().map(|k| k.0.clone()).collect::<Vec<_>>())
    );
    by_key.sort();
    let drawn: Vec<i64> = by_key[..4].iter().map(|k| k.1).collect();
    assert_eq!(d["drawn"], json!(drawn));
    let mut experts: Vec<i64> = seats
        .iter()
        .filter(|(_, s)| s == "expert")
        .map(|(u, _)| *u)
        .collect();
    experts.sort();
    let mut want = drawn.clone();
    want.sort();
    assert_eq!(experts, want, "the seated experts are the drawn ones");
    assert!(d["drawn_at"].as_str().is_some() && d["actor_name"].as_str().is_some());
    // The tender's history and the audit chain hold it.
    {
        use diesel::prelude::*;
        use sanshe::db::schema::{audit_events as a, tender_events as te};
        let notes: Vec<Option<String>> = te::table
            .filter(te::tender_id.eq(id))
            .select(te::note)
            .load(&mut app.conn())
            .unwrap();
        assert!(
            notes.iter().flatten().any(|n| n.contains(&seed)),
            "{notes:?}"
        );
        let n: i64 = a::table
            .filter(a::action.eq("tender.panel_draw"))
            .count()
            .get_result(&mut app.conn())
            .unwrap();
        assert_eq!(n, 1);
    }
    // The tender page shows the seats and the draw.
    let c = sign_in(app, "bureau").await;
    let html = c
        .get(app.url(&format!("/tenders/{id}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("panel-draw-1") && html.contains(&seed),
        "{html}"
    );
    assert!(html.contains("采购人代表") && html.contains("评审专家"));
    let html = c
        .get(app.url(&format!("/tenders/{id}/report")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains(&seed) && html.contains("panel-draw-1"),
        "{html}"
    );
    // The panel is complete: a second draw would make it even.
    let r = app
        .send_json(
            "POST",
            &p("panel"),
            Some(&bureau),
            &json!({"draw_experts": 1}),
        )
        .await;
    let pr = problem(r, 422, "validation_failed").await;
    assert_eq!(
        rules_of(&pr),
        vec![("draw_experts".into(), "panel_size".into())]
    );
    fx.app.stop().await;
}

/// A fixed-price open tender (87号令 Art 55): price weight 0 only with a fixed price, refused otherwise;
/// bids offer exactly the fixed price; the price is not scored and the bids rank by their other scores.
async fn fixed_price_tender_price_unscored_87_art_55(backend: Backend) {
    let fx = setup(&backend).await;
    let app = &fx.app;
    let bureau = fx.b().await;
    let fixed = |code: &str, weight: &str, price: Option<i64>| {
        let mut b = tender_body(code);
        b["criteria"]["price_weight_pct"] = json!(weight);
        b["criteria"]["items"][0]["max_points"] = json!("80");
        if weight != "0" {
            b["criteria"]["items"][0]["max_points"] = json!("70");
        }
        if let Some(p) = price {
            b["criteria"]["fixed_price_fen"] = json!(p);
        }
        b
    };
    let before = app.snapshot();
    for (body, want) in [
        (
            fixed("FP-2026-000", "0", None),
            vec![
                ("criteria.price_weight_pct", "range"),
                ("criteria.fixed_price_fen", "required_for_weight_zero"),
            ],
        ),
        (
            fixed("FP-2026-000", "10", Some(15_000_000)),
            vec![("criteria.price_weight_pct", "fixed_price_weight_zero")],
        ),
        (
            fixed("FP-2026-000", "0", Some(25_000_000)),
            vec![("criteria.fixed_price_fen", "max_budget")],
        ),
    ] {
        let r = app
            .send_json("POST", "/api/v1/tenders", Some(&bureau), &body)
            .await;
        let pr = problem(r, 422, "validation_failed").await;
        let want: Vec<(String, String)> = want
            .into_iter()
            .map(|(f, r)| (f.to_string(), r.to_string()))
            .collect();
        assert_eq!(rules_of(&pr), want, "{pr}");
    }
    let mut consult = fixed("FP-2026-000", "0", Some(15_000_000));
    consult["method"] = json!("consultation");
    let pr = problem(
        app.send_json("POST", "/api/v1/tenders", Some(&bureau), &consult)
            .await,
        422,
        "validation_failed",
    )
    .await;
    assert!(
        rules_of(&pr).contains(&(
            "criteria.fixed_price_fen".into(),
            "fixed_price_tenders_only".into()
        )),
        "{pr}"
    );
    assert_eq!(
        app.snapshot(),
        before,
        "a refused tender changed the database"
    );

    let id = create_tender(&fx, &fixed("FP-2026-001", "0", Some(15_000_000))).await;
    publish(&fx, id).await;
    // The notice states the fixed price.
    let html = app
        .get(&format!("/tenders/{id}"), None)
        .await
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("fixed-price") && html.contains("150,000"),
        "{html}"
    );
    // A bid at another price is refused, naming the rule; nothing is stored.
    let bs = bidders(app, 3);
    let before = app.snapshot();
    let pr = problem(
        bid(&fx, &bs[0], id, "off", 14_000_000).await,
        422,
        "validation_failed",
    )
    .await;
    assert!(
        rules_of(&pr).contains(&("price".into(), "fixed_price".into())),
        "{pr}"
    );
    assert_eq!(app.snapshot(), before);
    let mut seqs = Vec::new();
    for (i, b) in bs.iter().enumerate() {
        let v = json_of(bid(&fx, b, id, &format!("fp{i}"), 15_000_000).await, 201).await;
        seqs.push(v["seq"].as_i64().unwrap());
    }
    fx.clock
        .set(t0() + chrono::Duration::days(21) + chrono::Duration::hours(1));
    let p = |s: &str| format!("/api/v1/tenders/{id}/{s}");
    let evs = demo_evaluators(app);
    let bureau = fx.b().await;
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
    // Plan points 60, 70, 50: the second bid ranks first.
    let plan = ["60", "70", "50"];
    let mut scores = Vec::new();
    for (s, pts) in seqs.iter().zip(plan) {
        scores.push(json!({"bid_seq": s, "criterion": "plan", "points": pts}));
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
    let ranked: Vec<(i64, Value, Value, Value)> = report["bids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            (
                b["seq"].as_i64().unwrap(),
                b["rank"].clone(),
                b["price_score"].clone(),
                b["total"].clone(),
            )
        })
        .collect();
    assert_eq!(
        ranked,
        vec![
            (seqs[1], json!(1), Value::Null, json!("83.00")),
            (seqs[0], json!(2), Value::Null, json!("73.00")),
            (seqs[2], json!(3), Value::Null, json!("63.00")),
        ]
    );
    fx.app.stop().await;
}

/// 民政部令第39号 Art 30: the bureau records a revocation (撤销等级) as a rating decision with its reason;
/// from then the organisation has no rating in force. Without a reason, with a grade, or with no rating to
/// revoke it is refused and nothing is stored.
async fn rating_revocation_recorded_with_a_reason_39_art_30(backend: Backend) {
    let fx = setup(&backend).await;
    let app = &fx.app;
    let bureau = fx.b().await;
    let list = json_of(
        app.get("/api/v1/organisations?per_page=100", Some(&bureau))
            .await,
        200,
    )
    .await;
    let items = list["items"].as_array().unwrap();
    let rated = items
        .iter()
        .find(|o| o["current_rating"].is_number())
        .expect("a rated demo organisation")["id"]
        .as_i64()
        .unwrap();
    let unrated = items
        .iter()
        .find(|o| o["current_rating"].is_null() && o["registration"] == "registered")
        .expect("an unrated registered demo organisation")["id"]
        .as_i64()
        .unwrap();
    let today = sanshe::tenders::today(t0()).to_string();
    let post = |body: Value| {
        let bureau = bureau.clone();
        async move {
            app.send_json("POST", "/api/v1/organisation-ratings", Some(&bureau), &body)
                .await
        }
    };
    let before = app.snapshot();
    for (body, want) in [
        (
            json!({"organisation_id": rated, "decision": "revocation", "awarded_on": today}),
            vec![("reason", "required")],
        ),
        (
            json!({"organisation_id": rated, "decision": "revocation", "grade": 3, "awarded_on": today, "reason": "年检不合格"}),
            vec![("grade", "revocation_no_grade")],
        ),
        (
            json!({"organisation_id": unrated, "decision": "revocation", "awarded_on": today, "reason": "年检不合格"}),
            vec![("organisation_id", "no_rating_in_force")],
        ),
        (
            json!({"organisation_id": rated, "decision": "downgrade", "grade": 2, "awarded_on": today}),
            vec![("decision", "one_of")],
        ),
    ] {
        let pr = problem(post(body).await, 422, "validation_failed").await;
        let want: Vec<(String, String)> = want
            .into_iter()
            .map(|(f, r)| (f.to_string(), r.to_string()))
            .collect();
        assert_eq!(rules_of(&pr), want, "{pr}");
    }
    assert_eq!(
        app.snapshot(),
        before,
        "a refused decision changed the database"
    );
    let r = json_of(
        post(json!({
            "organisation_id": rated,
            "decision": "revocation",
            "awarded_on": today,
            "reason": "连续两年年检基本合格"
        }))
        .await,
        201,
    )
    .await;
    assert_eq!(r["decision"], "revocation");
    assert_eq!(r["grade"], Value::Null);
    assert_eq!(r["reason"], "连续两年年检基本合格");
    let d = json_of(
        app.get(&format!("/api/v1/organisations/{rated}"), Some(&bureau))
            .await,
        200,
    )
    .await;
    assert_eq!(d["organisation"]["current_rating"], Value::Null, "{d}");
    // The organisation page lists the revocation with its reason.
    let c = sign_in(app, "bureau").await;
    let html = c
        .get(app.url(&format!("/registry/orgs/{rated}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("撤销等级") && html.contains("连续两年年检基本合格"),
        "{html}"
    );
    // A later award counts again.
    json_of(
        post(json!({"organisation_id": rated, "grade": 3, "awarded_on": today})).await,
        201,
    )
    .await;
    let d = json_of(
        app.get(&format!("/api/v1/organisations/{rated}"), Some(&bureau))
            .await,
        200,
    )
    .await;
    assert_eq!(d["organisation"]["current_rating"], 3);
    fx.app.stop().await;
}

/// 87号令 Art 18: an open tender keeps its documents available at least 5 working days from the notice,
/// counted by the business calendar; refused (naming the field and the rule, nothing stored) when shorter,
/// when only one day is given, or, at publication, when the period starts before the notice. The notice
/// shows the period.
async fn documents_available_at_least_5_working_days_87_art_18(backend: Backend) {
    let fx = setup(&backend).await;
    let app = &fx.app;
    let bureau = fx.b().await;
    let with = |code: &str, from: Option<&str>, until: Option<&str>| {
        let mut b = tender_body(code);
        if let Some(f) = from {
            b["documents_from"] = json!(f);
        }
        if let Some(u) = until {
            b["documents_until"] = json!(u);
        }
        b
    };
    let before = app.snapshot();
    // Monday 2 to Thursday 5 March 2026: four working days.
    let pr = problem(
        app.send_json(
            "POST",
            "/api/v1/tenders",
            Some(&bureau),
            &with("DP-2026-001", Some("2026-03-02"), Some("2026-03-05")),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(
        rules_of(&pr),
        vec![(
            "documents_until".into(),
            "documents_min_working_days".into()
        )]
    );
    let m = &pr["errors"][0]["message"];
    assert!(m["zh-CN"].as_str().unwrap().contains("5 个工作日"), "{pr}");
    assert!(m["en"].as_str().unwrap().contains("Art 18"), "{pr}");
    let pr = problem(
        app.send_json(
            "POST",
            "/api/v1/tenders",
            Some(&bureau),
            &with("DP-2026-001", Some("2026-03-02"), None),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(
        rules_of(&pr),
        vec![("documents_until".into(), "required_with".into())]
    );
    assert_eq!(
        app.snapshot(),
        before,
        "a refused tender changed the database"
    );
    // Monday to Friday: five.
    let id = create_tender(
        &fx,
        &with("DP-2026-001", Some("2026-03-02"), Some("2026-03-06")),
    )
    .await;
    let v = json_of(
        app.get(&format!("/api/v1/tenders/{id}"), Some(&bureau))
            .await,
        200,
    )
    .await;
    assert_eq!(
        (v["documents_from"].clone(), v["documents_until"].clone()),
        (json!("2026-03-02"), json!("2026-03-06"))
    );
    publish(&fx, id).await;
    let html = app
        .get(&format!("/tenders/{id}"), None)
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("2026-03-02 – 2026-03-06"), "{html}");
    // Published a day later, the same period would start before the notice.
    let id2 = create_tender(
        &fx,
        &with("DP-2026-002", Some("2026-03-02"), Some("2026-03-09")),
    )
    .await;
    fx.clock.set(t0() + chrono::Duration::days(1));
    let before = app.snapshot();
    let pr = problem(
        app.send_json(
            "POST",
            &format!("/api/v1/tenders/{id2}/publish"),
            Some(&fx.b().await),
            &json!({}),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(
        rules_of(&pr),
        vec![("documents_from".into(), "not_before_publication".into())]
    );
    assert_eq!(app.snapshot(), before);
    fx.app.stop().await;
}

crate::both_backends!(
    documents_available_at_least_5_working_days_87_art_18,
    panel_buyer_reps_at_most_a_third_and_experts_drawn_87_art_47_48,
    fixed_price_tender_price_unscored_87_art_55,
    rating_revocation_recorded_with_a_reason_39_art_30,
);

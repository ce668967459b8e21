//! The tender life cycle once per procurement method, from draft to contract, on both backends: 公开招标 and
//! 邀请招标 (a panel of five, weighted scoring, 87号令 Art 47, 55), 竞争性磋商 (a panel of three, weighted scoring,
//! 214号 Art 24) and 竞争性谈判 (a panel of three, compliance and final quotes, no scoring, 74号令 Art 33–36).
//! Each run checks the states on the way, that the second-ranked bid cannot be named while the first stands
//! (实施条例 Art 43). 单一来源 below the threshold (one supplier, no panel, a negotiation record at the agreed
//! price, 实施条例 Art 38; 74号令 Art 42). It checks the award letter's name (法 Art 46; 74号令 Art 18), that the result names the panel
//! (87号令 Art 69), and that the contract carries the price the method awards.

use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};

use crate::helpers::{Backend, problem};
use crate::tenders::{
    Bidder, Fx, bid, bidders, create_tender, demo_evaluators, publish, setup, state_of,
    tender_body_at,
};
use crate::tenders_sealed::json_of;
use sanshe::clock::Clock;

/// What each method does differently.
pub(crate) struct Plan {
    method: &'static str,
    panel: usize,
    /// The letter the award sends (中标通知书 after a tender, 成交通知书 otherwise).
    letter: &'static str,
    /// Whether the method scores (else: compliance and final quotes).
    scored: bool,
}

pub(crate) const PLANS: [Plan; 5] = [
    Plan {
        method: "open",
        panel: 5,
        letter: "中标通知书",
        scored: true,
    },
    Plan {
        method: "invited",
        panel: 5,
        letter: "中标通知书",
        scored: true,
    },
    Plan {
        method: "consultation",
        panel: 3,
        letter: "成交通知书",
        scored: true,
    },
    Plan {
        method: "negotiation",
        panel: 3,
        letter: "成交通知书",
        scored: false,
    },
    Plan {
        method: "single_source",
        panel: 0,
        letter: "成交通知书",
        scored: false,
    },
];

impl Plan {
    fn single(&self) -> bool {
        self.method == "single_source"
    }
}

fn now(fx: &Fx) -> DateTime<Utc> {
    Clock::now(&fx.clock)
}

async fn post(fx: &Fx, tok: &str, path: &str, body: &Value) -> reqwest::Response {
    fx.app.send_json("POST", path, Some(tok), body).await
}

/// Draft, publish, three responses (A ¥150,000, B ¥120,000, C ¥100,000; a single source: A only), the opening. Returns the tender
/// and the bids' sequence numbers in that order.
async fn to_opened(fx: &Fx, p: &Plan, code: &str, bs: &[Bidder]) -> (i64, Vec<i64>) {
    let start = now(fx);
    let mut body = tender_body_at(code, start);
    body["method"] = json!(p.method);
    let bs = if p.single() { &bs[..1] } else { bs };
    if p.method == "invited" || p.single() {
        body["invited"] = json!(bs.iter().map(|b| b.org).collect::<Vec<_>>());
    }
    if p.single() {
        body["single_source_ground"] = json!("only_supplier");
        body["single_source_explanation"] = json!("该服务依托本组织独有的照护方法，只能由其提供。");
    }
    if !p.scored {
        body["criteria"] = json!({"price_weight_pct": "0", "items": []});
    }
    let id = create_tender(fx, &body).await;
    assert_eq!(state_of(fx, id).await, "draft");
    publish(fx, id).await;
    assert_eq!(state_of(fx, id).await, "published");
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
    (id, seqs)
}

/// Draws the panel the method needs; every member declares no conflict. Returns their user names.
pub(crate) async fn seat(fx: &Fx, p: &Plan, id: i64) -> Vec<String> {
    if p.single() {
        // No panel for a single source (74号令 Art 42): the staff's record replaces the evaluation.
        let before = fx.app.snapshot();
        let r = post(
            fx,
            &fx.b().await,
            &format!("/api/v1/tenders/{id}/panel"),
            &json!({"draw_experts": 3}),
        )
        .await;
        problem(r, 409, "no_panel").await;
        assert_eq!(fx.app.snapshot(), before);
        return Vec::new();
    }
    let r = post(
        fx,
        &fx.b().await,
        &format!("/api/v1/tenders/{id}/panel"),
        &json!({"draw_experts": p.panel}),
    )
    .await;
    let members = json_of(r, 200).await;
    assert_eq!(members.as_array().unwrap().len(), p.panel, "{members}");
    let evs = demo_evaluators(&fx.app);
    let mut names = Vec::new();
    for m in members.as_array().unwrap() {
        let k = evs
            .iter()
            .position(|e| Some(*e) == m["user_id"].as_i64())
            .unwrap();
        let name = format!("evaluator{}", k + 1);
        let t = fx.app.token(&name).await;
        let r = post(
            fx,
            &t,
            &format!("/api/v1/tenders/{id}/declaration"),
            &json!({"conflict": false}),
        )
        .await;
        assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
        names.push(name);
    }
    assert_eq!(state_of(fx, id).await, "evaluating");
    names
}

/// Scored methods: every member gives A 50+10+10, B 45+9+8, C 40+8+5 technical points. With the price
/// weight 30 and the lowest price C's ¥100,000 (price score = 30 × lowest / price): A 20 + 70 = 90,
/// B 25 + 62 = 87, C 30 + 53 = 83. A wins at its price. Negotiation: all compliant; final quotes A
/// ¥130,000, B ¥125,000, C ¥128,000: B wins at its final quote. Single source: the staff agree ¥140,000
/// with A (below its ¥150,000 response). Returns (ranked seqs, the award price).
pub(crate) async fn evaluate(
    fx: &Fx,
    p: &Plan,
    id: i64,
    panel: &[String],
    s: &[i64],
) -> (Vec<i64>, i64) {
    let path = |x: &str| format!("/api/v1/tenders/{id}/{x}");
    if p.scored {
        let mut lines = Vec::new();
        for (seq, pts) in s
            .iter()
            .zip([["50", "10", "10"], ["45", "9", "8"], ["40", "8", "5"]])
        {
            for (crit, v) in ["plan", "team", "exp"].iter().zip(pts) {
                lines.push(json!({"bid_seq": seq, "criterion": crit, "points": v}));
            }
        }
        for name in panel {
            let t = fx.app.token(name).await;
            let r = post(fx, &t, &path("scores"), &json!({"scores": lines})).await;
            assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
        }
        (vec![s[0], s[1], s[2]], 15_000_000)
    } else if p.single() {
        let r = post(
            fx,
            &fx.b().await,
            &path("single-source/record"),
            &json!({
                "negotiated_on": sanshe::tenders::today(now(fx)).to_string(),
                "place": "区民政局会议室",
                "staff": ["张三", "李四"],
                "cost_explanation": "人员经费占 60%，活动经费占 30%，管理费 10%。",
                "terms": "服务期 12 个月，分三期付款。",
                "price": "140000",
            }),
        )
        .await;
        assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
        (vec![s[0]], 14_000_000)
    } else {
        let t = fx.app.token(&panel[0]).await;
        for seq in s {
            let r = post(
                fx,
                &t,
                &path("negotiation/compliance"),
                &json!({"bid_seq": seq, "compliant": true, "reason": "实质性响应"}),
            )
            .await;
            assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
        }
        let r = post(
            fx,
            &t,
            &path("negotiation/rounds"),
            &json!({"final": true, "quotes": [
                {"bid_seq": s[0], "price": "130000"},
                {"bid_seq": s[1], "price": "125000"},
                {"bid_seq": s[2], "price": "128000"}
            ]}),
        )
        .await;
        assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
        (vec![s[1], s[2], s[0]], 12_500_000)
    }
}

async fn life_cycle(fx: &Fx, p: &Plan, k: usize, bs: &[Bidder], appropriation: i64) {
    let code = format!("LC-{}-{k}", p.method);
    let (id, seqs) = to_opened(fx, p, &code, bs).await;
    let panel = seat(fx, p, id).await;
    let (ranked, price) = evaluate(fx, p, id, &panel, &seqs).await;
    assert_eq!(state_of(fx, id).await, "evaluated", "{}", p.method);

    let report = json_of(
        fx.app
            .get(&format!("/api/v1/tenders/{id}/report"), Some(&fx.b().await))
            .await,
        200,
    )
    .await;
    let order: Vec<i64> = report["bids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["seq"].as_i64().unwrap())
        .collect();
    assert_eq!(order, ranked, "{}: {report}", p.method);

    // 实施条例 Art 43: the second-ranked bid is not named while the first stands; nothing changes.
    let award = format!("/api/v1/tenders/{id}/award");
    if let Some(second) = ranked.get(1) {
        let before = fx.app.snapshot();
        let r = post(fx, &fx.b().await, &award, &json!({"bid_seq": second})).await;
        let pr = problem(r, 422, "validation_failed").await;
        assert_eq!(pr["errors"][0]["rule"], "rank_order", "{pr}");
        assert_eq!(fx.app.snapshot(), before, "{}", p.method);
    }
    let r = post(fx, &fx.b().await, &award, &json!({"bid_seq": ranked[0]})).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    assert_eq!(state_of(fx, id).await, "award_proposed");
    let r = post(
        fx,
        &fx.b().await,
        &format!("/api/v1/tenders/{id}/result"),
        &json!({}),
    )
    .await;
    let v = json_of(r, 200).await;
    assert_eq!(v["state"], "publicity", "{v}");

    let public = json_of(
        fx.app.get(&format!("/api/v1/tenders/{id}"), None).await,
        200,
    )
    .await;
    let res = &public["result"];
    assert_eq!(res["price_fen"], price, "{}: {res}", p.method);
    assert_eq!(res["letter"]["title_zh"], p.letter, "{}", p.method);
    assert_eq!(
        res["evaluators"].as_array().unwrap().len(),
        p.panel,
        "{}: the result names the panel",
        p.method
    );
    if p.single() {
        assert_eq!(res["negotiators"], json!(["张三", "李四"]), "{res}");
    }

    let ends = chrono::NaiveDateTime::parse_from_str(
        v["challenge_ends"].as_str().unwrap(),
        "%Y-%m-%dT%H:%M:%S%.f",
    )
    .unwrap()
    .and_utc();
    fx.clock.set(ends + Duration::minutes(1));
    assert_eq!(state_of(fx, id).await, "awarded", "{}", p.method);

    let today = sanshe::tenders::today(now(fx));
    let r = post(
        fx,
        &fx.b().await,
        "/api/v1/contracts",
        &json!({"tender_id": id, "contract_no": format!("{code}-HT"), "term_start": today.to_string()}),
    )
    .await;
    let c = json_of(r, 201).await;
    assert_eq!(c["money"]["amount_fen"], price, "{}: {c}", p.method);
    let r = post(
        fx,
        &fx.b().await,
        &format!("/api/v1/contracts/{}/sign", c["id"]),
        &json!({"signed_on": today.to_string(), "appropriation_id": appropriation}),
    )
    .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let v = json_of(
        fx.app
            .get(&format!("/api/v1/tenders/{id}"), Some(&fx.b().await))
            .await,
        200,
    )
    .await;
    assert_eq!(v["state"], "contracted", "{}", p.method);
    let steps: Vec<&str> = v["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["to_state"].as_str())
        .collect();
    for s in [
        "draft",
        "published",
        "closed",
        "opened",
        "evaluating",
        "evaluated",
        "award_proposed",
        "publicity",
        "challenge",
        "awarded",
        "contracted",
    ] {
        if s == "evaluating" && p.single() {
            // The record moves a single source from opened to evaluated.
            continue;
        }
        assert!(
            steps.contains(&s),
            "{}: timeline lacks {s}: {steps:?}",
            p.method
        );
    }
}

/// One app per backend; the methods run one after another on the moving clock.
async fn every_method_from_draft_to_contract(backend: Backend) {
    let fx = setup(&backend).await;
    let bs = bidders(&fx.app, 3);
    // One appropriation funds every method's contract (¥150,000 × 3 + ¥125,000 + ¥140,000).
    let year = sanshe::tenders::today(now(&fx)).format("%Y").to_string();
    let r = post(
        &fx,
        &fx.app.token("finance").await,
        "/api/v1/appropriations",
        &json!({"year": year.parse::<i32>().unwrap(), "fund": "general", "field": "elderly",
                "amount": "1000000", "document_no": "LC-1", "idempotency_key": "lc-1"}),
    )
    .await;
    let appropriation = json_of(r, 201).await["id"].as_i64().unwrap();
    for (k, p) in PLANS.iter().enumerate() {
        life_cycle(&fx, p, k, &bs, appropriation).await;
    }
}
crate::both_backends!(every_method_from_draft_to_contract);

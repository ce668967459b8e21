//! Tenders end to end over the API with a moved clock: drafting rules, publication, enquiries, sealed bids
//! and the deadline, opening and commitments, the panel and conflicts, scoring and the ranking computed by
//! hand, the award, publicity, a challenge that blocks the award, and the contract signature.

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use serde_json::{Value, json};

use crate::helpers::{Backend, Options, TestApp, problem};
use crate::op;
use sanshe::clock::ManualClock;

/// Monday 2 March 2026, 10:00 Beijing: inside the built-in holiday calendar.
pub(crate) fn t0() -> DateTime<Utc> {
    "2026-03-02T02:00:00Z".parse().unwrap()
}

/// Beijing wall-clock text for a UTC instant, as the API takes it.
pub(crate) fn bj(t: DateTime<Utc>) -> String {
    (t + Duration::hours(8))
        .format("%Y-%m-%dT%H:%M:%S")
        .to_string()
}

pub(crate) struct Fx {
    pub app: TestApp,
    pub clock: ManualClock,
}

impl Fx {
    /// A fresh bureau token: tokens expire by the injected clock, which these tests move by days.
    pub async fn b(&self) -> String {
        self.app.token("bureau").await
    }
}

pub(crate) async fn setup(backend: &Backend) -> Fx {
    let clock = ManualClock::new(t0());
    let app = TestApp::spawn_with(
        backend,
        Options {
            registry_demo: true,
            clock: Some(clock.clone()),
            ..Default::default()
        },
    )
    .await;
    Fx { app, clock }
}

/// A tender body: open tender, elderly services, ¥200,000, deadline 21 days after t0, opening 1 hour later.
pub(crate) fn tender_body(code: &str) -> Value {
    tender_body_at(code, t0())
}

pub(crate) fn tender_body_at(code: &str, start: DateTime<Utc>) -> Value {
    json!({
        "code": code,
        "title": format!("{code} 居家养老上门服务项目"),
        "description": "为辖区高龄、独居老人提供上门探访、助餐和健康管理服务。",
        "field": "elderly",
        "street_ids": [1, 2],
        "budget": "200000",
        "method": "open",
        "term_months": 12,
        "eligibility": {},
        "criteria": {
            "price_weight_pct": "30",
            "items": [
                {"key": "plan", "name": "服务方案", "category": "technical", "max_points": "50"},
                {"key": "team", "name": "团队配置", "category": "technical", "max_points": "10"},
                {"key": "exp", "name": "类似业绩", "category": "commercial", "max_points": "10"}
            ]
        },
        "targets": {"visits": 3000, "people": 300, "sessions": 40, "satisfaction_pct": "90"},
        "instalments": [
            {"milestone": "合同签订", "pct": "30"},
            {"milestone": "中期评估", "pct": "40"},
            {"milestone": "末期验收", "pct": "30"}
        ],
        "enquiry_deadline": bj(start + Duration::days(15)),
        "bid_deadline": bj(start + Duration::days(21)),
        "opening_at": bj(start + Duration::days(21) + Duration::hours(1)),
    })
}

pub(crate) async fn create_tender(fx: &Fx, body: &Value) -> i64 {
    let r = fx
        .app
        .send_json("POST", "/api/v1/tenders", Some(&fx.b().await), body)
        .await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    r.json::<Value>().await.unwrap()["id"].as_i64().unwrap()
}

pub(crate) async fn publish(fx: &Fx, id: i64) {
    let r = fx
        .app
        .send_json(
            "POST",
            &format!("/api/v1/tenders/{id}/publish"),
            Some(&fx.b().await),
            &json!({}),
        )
        .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
}

/// An organisation that may bid: (org id, its user, one of its current social workers).
#[derive(Clone, Debug)]
pub(crate) struct Bidder {
    pub org: i64,
    pub user: String,
    pub worker: i64,
}

/// Registered organisations not barred, with an account and at least one current social worker.
pub(crate) fn bidders(app: &TestApp, n: usize) -> Vec<Bidder> {
    use sanshe::db::schema::{social_workers as w, users as u};
    let mut c = app.conn();
    let rows: Vec<(String, Option<i64>)> = u::table
        .filter(u::role.eq("org"))
        .order(u::id)
        .select((u::username, u::org_id))
        .load(&mut c)
        .unwrap();
    let today = sanshe::tenders::today(t0());
    let mut out = Vec::new();
    for (user, org) in rows {
        let Some(org) = org else { continue };
        let st =
            sanshe::registry::orgs::standing_of(&mut c, org, today, Default::default()).unwrap();
        if st.status == sanshe::domain::standing::Status::Barred {
            continue;
        }
        let worker: Option<i64> = w::table
            .filter(w::organisation_id.eq(org))
            .filter(w::employment.ne("left"))
            .order(w::id)
            .select(w::id)
            .first(&mut c)
            .optional()
            .unwrap();
        if let Some(worker) = worker {
            out.push(Bidder { org, user, worker });
        }
        if out.len() == n {
            break;
        }
    }
    assert_eq!(out.len(), n, "the demo registry has {n} eligible bidders");
    out
}

/// The demo evaluators' user ids (evaluator1…5), by username.
pub(crate) fn demo_evaluators(app: &TestApp) -> Vec<i64> {
    use sanshe::db::schema::users as u;
    u::table
        .filter(u::username.like("evaluator%"))
        .order(u::username)
        .select(u::id)
        .load(&mut app.conn())
        .unwrap()
}

pub(crate) fn yuan(fen: i64) -> String {
    format!("{}.{:02}", fen / 100, fen % 100)
}

/// A valid bid at `price_fen`: staff 40 %, management 10 %, activities the rest.
pub(crate) fn bid_body(key: &str, price_fen: i64, worker: i64) -> Value {
    let staff = price_fen * 40 / 100;
    let mgmt = price_fen / 10;
    json!({
        "idempotency_key": key,
        "price": yuan(price_fen),
        "plan": format!("服务方案：每周上门探访，报价 {price_fen} 分。"),
        "budget": [
            {"line": "staff", "amount": yuan(staff)},
            {"line": "activities", "amount": yuan(price_fen - staff - mgmt)},
            {"line": "management", "amount": yuan(mgmt)}
        ],
        "staff": [worker],
        "targets": {"visits": 3200, "people": 320, "sessions": 42, "satisfaction_pct": "92"},
        "attachments": [{"name": "方案.txt", "content_base64": "5pa55qGI5YaF5a65"}]
    })
}

pub(crate) async fn bid(
    fx: &Fx,
    b: &Bidder,
    tender: i64,
    key: &str,
    price_fen: i64,
) -> reqwest::Response {
    let t = fx.app.token(&b.user).await;
    fx.app
        .send_json(
            "POST",
            &format!("/api/v1/tenders/{tender}/bids"),
            Some(&t),
            &bid_body(key, price_fen, b.worker),
        )
        .await
}

pub(crate) async fn state_of(fx: &Fx, id: i64) -> String {
    let r = fx
        .app
        .get(&format!("/api/v1/tenders/{id}"), Some(&fx.b().await))
        .await;
    assert_eq!(r.status(), 200);
    r.json::<Value>().await.unwrap()["state"]
        .as_str()
        .unwrap()
        .to_string()
}

fn outbox_templates(app: &TestApp) -> Vec<(String, String)> {
    use sanshe::db::schema::outbox as o;
    o::table
        .order(o::id)
        .select((o::template, o::to_addr))
        .load(&mut app.conn())
        .unwrap()
}

async fn whole_life_cycle(backend: Backend) {
    let fx = setup(&backend).await;
    let app = &fx.app;

    // Drafting rules: a 35 % price weight is refused for a consultation (214号 Art 24: 10–30 %), and
    // nothing is stored.
    let before = app.snapshot();
    let mut heavy = tender_body("GD-2026-001");
    heavy["method"] = json!("consultation");
    heavy["criteria"]["price_weight_pct"] = json!("35");
    heavy["criteria"]["items"][0]["max_points"] = json!("45");
    let r = app
        .send_json("POST", "/api/v1/tenders", Some(&fx.b().await), &heavy)
        .await;
    let p = problem(r, 422, "validation_failed").await;
    assert_eq!(p["errors"][0]["field"], "criteria.price_weight_pct");
    assert_eq!(p["errors"][0]["rule"], "range");
    assert!(
        p["errors"][0]["message"]["zh-CN"]
            .as_str()
            .unwrap()
            .contains("10%–30%")
    );
    assert_eq!(
        app.snapshot(),
        before,
        "a refused tender changed the database"
    );
    // 87号令 Art 17: staff numbers are no qualification: refused by name, nothing stored.
    let mut sized = tender_body("GD-2026-001");
    sized["eligibility"] = json!({"min_staff": 10});
    let r = app
        .send_json("POST", "/api/v1/tenders", Some(&fx.b().await), &sized)
        .await;
    let p = problem(r, 422, "validation_failed").await;
    assert_eq!(
        (&p["errors"][0]["field"], &p["errors"][0]["rule"]),
        (&json!("eligibility.min_staff"), &json!("size_condition")),
        "{p}"
    );
    assert_eq!(app.snapshot(), before);

    // A consultation over the open-tender threshold is refused; a 2-year term needs a reason.
    let mut big = tender_body("GD-2026-001");
    big["budget"] = json!("2500000");
    big["method"] = json!("consultation");
    big["term_months"] = json!(24);
    let r = app
        .send_json("POST", "/api/v1/tenders", Some(&fx.b().await), &big)
        .await;
    let p = problem(r, 422, "validation_failed").await;
    let rules: Vec<&str> = p["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["rule"].as_str().unwrap())
        .collect();
    assert_eq!(rules, vec!["open_tender_required", "required_over_12"]);

    // Draft, then publish: a deadline only 10 days out is too short for an open tender.
    let mut short = tender_body("GD-2026-002");
    short["enquiry_deadline"] = json!(bj(t0() + Duration::days(5)));
    short["bid_deadline"] = json!(bj(t0() + Duration::days(10)));
    short["opening_at"] = json!(bj(t0() + Duration::days(10)));
    let sid = create_tender(&fx, &short).await;
    let r = app
        .send_json(
            "POST",
            &format!("/api/v1/tenders/{sid}/publish"),
            Some(&fx.b().await),
            &json!({}),
        )
        .await;
    let p = problem(r, 422, "validation_failed").await;
    assert_eq!(p["errors"][0]["rule"], "min_response_days");
    assert_eq!(state_of(&fx, sid).await, "draft");
    // Drafts are not public.
    assert_eq!(
        app.get(&format!("/api/v1/tenders/{sid}"), None)
            .await
            .status(),
        404
    );

    let id = create_tender(&fx, &tender_body("GD-2026-001")).await;
    let mails_before = outbox_templates(app).len();
    publish(&fx, id).await;
    let published: Vec<_> = outbox_templates(app)[mails_before..].to_vec();
    assert!(!published.is_empty() && published.iter().all(|(t, _)| t == "tender_published"));
    let public: Value = app
        .get(&format!("/api/v1/tenders/{id}"), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(public["state"], "published");
    assert_eq!(public["budget"], "200000.00");
    let listed: Value = app
        .get("/api/v1/tenders?field=elderly&street_id=1&state=open", None)
        .await
        .json()
        .await
        .unwrap();
    let items = listed["items"].as_array().unwrap();
    assert!(items.iter().any(|t| t["id"] == id), "{listed}");
    // …and only what matches: every item open in the field, and the draft GD-2026-002 (same field and
    // streets) absent from the public list.
    assert!(
        items
            .iter()
            .all(|t| t["field"] == "elderly" && t["state"] == "published"),
        "{listed}"
    );
    assert!(
        !items.iter().any(|t| t["id"] == sid),
        "a draft listed: {listed}"
    );
    // The same tender is excluded by each filter it does not match: another field, a street it does not
    // cover (tender_body covers streets 1 and 2), another state, a code it does not have.
    for q in [
        "/api/v1/tenders?field=youth&street_id=1&state=open",
        "/api/v1/tenders?field=elderly&street_id=3&state=open",
        "/api/v1/tenders?field=elderly&street_id=1&state=closed",
        "/api/v1/tenders?q=GD-2026-999",
    ] {
        let r = app.get(q, None).await;
        assert_eq!(r.status(), 200, "{q}");
        let v: Value = r.json().await.unwrap();
        assert!(
            !v["items"].as_array().unwrap().iter().any(|t| t["id"] == id),
            "{q} lists GD-2026-001: {v}"
        );
    }
    let by_code: Value = app
        .get("/api/v1/tenders?q=GD-2026-001", None)
        .await
        .json()
        .await
        .unwrap();
    let codes: Vec<&str> = by_code["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, vec!["GD-2026-001"], "{by_code}");

    // Enquiry: asked by an organisation, answered publicly without the asker.
    let b = bidders(app, 5);
    let t_a = app.token(&b[0].user).await;
    let r = app
        .send_json(
            "POST",
            &format!("/api/v1/tenders/{id}/enquiries"),
            Some(&t_a),
            &json!({"question": "服务对象是否包括失能老人？"}),
        )
        .await;
    assert_eq!(r.status(), 201);
    let eid = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let open: Value = app
        .get(&format!("/api/v1/tenders/{id}/enquiries"), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        open["items"].as_array().unwrap().len(),
        0,
        "unanswered questions are not public"
    );
    assert_eq!(open["total"], 0, "{open}");
    fx.clock.advance(Duration::days(1));
    let r = app
        .send_json(
            "POST",
            &format!("/api/v1/enquiries/{eid}/answer"),
            Some(&fx.b().await),
            &json!({"answer": "包括，需配备护理员。"}),
        )
        .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let open: Value = app
        .get(&format!("/api/v1/tenders/{id}/enquiries"), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(open["items"][0]["answer"], "包括，需配备护理员。");
    assert!(
        open["items"][0]["organisation_name"].is_null(),
        "the asker stays anonymous: {open}"
    );
    let still: Value = app
        .get(&format!("/api/v1/tenders/{id}"), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        still["bid_deadline"], public["bid_deadline"],
        "an early answer does not move the deadline"
    );

    // Bids: A, B, C; D bids then replaces its bid; E bids then withdraws before the deadline.
    let prices = [10_000_000, 12_000_000, 15_000_000];
    for (i, p) in prices.iter().enumerate() {
        let r = bid(&fx, &b[i], id, &format!("k{i}"), *p).await;
        assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    }
    let first_d: Value = bid(&fx, &b[3], id, "d1", 11_500_000)
        .await
        .json()
        .await
        .unwrap();
    let r = bid(&fx, &b[3], id, "d2", 11_000_000).await;
    assert_eq!(r.status(), 201);
    let second_d: Value = r.json().await.unwrap();
    assert_eq!(second_d["replaced"], first_d["seq"]);
    let r = bid(&fx, &b[4], id, "e1", 9_000_000).await;
    assert_eq!(r.status(), 201);
    let t_e = app.token(&b[4].user).await;
    let r = app
        .send_json(
            "POST",
            &format!("/api/v1/tenders/{id}/bids/withdraw"),
            Some(&t_e),
            &json!({}),
        )
        .await;
    assert_eq!(r.status(), 204);
    // The organisation is told by e-mail (so a withdrawal it did not make is noticed), that it may still
    // bid again before the deadline (issue 14).
    {
        use sanshe::db::schema::outbox as o;
        let mails: Vec<(String, String)> = o::table
            .filter(o::template.eq("bid_withdrawn"))
            .select((o::subject, o::body_text))
            .load(&mut app.conn())
            .unwrap();
        assert_eq!(mails.len(), 1, "{mails:?}");
        assert!(mails[0].0.contains("投标已撤回"), "{mails:?}");
        assert!(mails[0].1.contains("前仍可重新投标"), "{mails:?}");
    }
    // Its page offers to bid again, not to "replace" a bid that is withdrawn (issue 14); a bidder with a
    // live bid is offered to replace it.
    for (who, label) in [(&b[4].user, "重新投标"), (&b[3].user, "修改（替换）投标")] {
        let c = crate::helpers::sign_in(app, who).await;
        let (_, html) = crate::helpers::page_as(app, &c, &format!("/tenders/{id}")).await;
        let link = &html[html.find("id=\"bid-link\"").expect("the bid link")..];
        assert!(
            link[..link.find("</a>").unwrap()].contains(label),
            "{who}: {link}"
        );
    }
    // Over the ceiling: refused naming the field.
    let r = bid(&fx, &b[4], id, "e2", 20_000_001).await;
    let p = problem(r, 422, "validation_failed").await;
    assert_eq!(p["errors"][0]["field"], "price");
    assert_eq!(p["errors"][0]["rule"], "max_budget");

    // Sealed: nobody reads bids or commitments before the opening.
    let r = app
        .get(&format!("/api/v1/tenders/{id}/bids"), Some(&fx.b().await))
        .await;
    problem(r, 409, "sealed").await;
    let r = app
        .get(&format!("/api/v1/tenders/{id}/commitments"), None)
        .await;
    problem(r, 409, "sealed").await;

    // The deadline passes: closed. The opening time passes: opened, four valid bids.
    fx.clock.set(t0() + Duration::days(21));
    assert_eq!(state_of(&fx, id).await, "closed");
    fx.clock.set(t0() + Duration::days(21) + Duration::hours(1));
    assert_eq!(state_of(&fx, id).await, "opened");
    let commitments: Value = app
        .get(&format!("/api/v1/tenders/{id}/commitments"), None)
        .await
        .json()
        .await
        .unwrap();
    let cs = commitments.as_array().unwrap();
    assert_eq!(cs.len(), 4);
    assert!(cs.iter().all(|c| c["ok"] == true), "{commitments}");
    for c in cs {
        // Anyone recomputes the root from the published fields; the whole bid stays with the panel.
        let fields: Vec<sanshe::domain::commitment::FieldProof> =
            serde_json::from_value(c["fields"].clone()).unwrap();
        assert_eq!(
            sanshe::domain::commitment::recompute(&fields).as_deref(),
            c["commitment"].as_str()
        );
        assert!(c["canonical"].is_null() && c["nonce"].is_null(), "{c}");
    }
    let opened: Value = app
        .get(&format!("/api/v1/tenders/{id}/bids"), Some(&fx.b().await))
        .await
        .json()
        .await
        .unwrap();
    let seq_of = |org: i64| -> i64 {
        opened
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["organisation_id"] == org)
            .unwrap()["seq"]
            .as_i64()
            .unwrap()
    };
    let (sa, sb, sc, sd) = (
        seq_of(b[0].org),
        seq_of(b[1].org),
        seq_of(b[2].org),
        seq_of(b[3].org),
    );
    assert_eq!(
        sd,
        second_d["seq"].as_i64().unwrap(),
        "the replacement is the bid that counts"
    );

    // The panel: an open tender needs at least 5, odd; an evaluator linked to a bidder is refused.
    let conflicted = app.create_user("ev_linked", "evaluator", None, None).await;
    let r = app
        .send_json(
            "POST",
            &format!("/api/v1/evaluators/{conflicted}/links"),
            Some(&fx.b().await),
            &json!({"organisation_id": b[0].org, "relation": "board"}),
        )
        .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let evs: Vec<i64> = {
        use sanshe::db::schema::users as u;
        u::table
            .filter(u::username.like("evaluator%"))
            .order(u::username)
            .select(u::id)
            .load(&mut app.conn())
            .unwrap()
    };
    assert_eq!(evs.len(), 5);
    let r = app
        .send_json(
            "POST",
            &format!("/api/v1/tenders/{id}/panel"),
            Some(&fx.b().await),
            &json!({"draw_experts": 3}),
        )
        .await;
    assert_eq!(
        problem(r, 422, "validation_failed").await["errors"][0]["rule"],
        "panel_size"
    );
    let before = app.snapshot();
    let r = app
        .send_json(
            "POST",
            &format!("/api/v1/tenders/{id}/panel"),
            Some(&fx.b().await),
            &json!({"draw_experts": 4, "buyer_rep_ids": [conflicted]}),
        )
        .await;
    let p = problem(r, 422, "validation_failed").await;
    assert!(
        p["errors"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["rule"] == "conflict_of_interest"),
        "{p}"
    );
    assert_eq!(app.snapshot(), before);
    let r = app
        .send_json(
            "POST",
            &format!("/api/v1/tenders/{id}/panel"),
            Some(&fx.b().await),
            &json!({"draw_experts": evs.len()}),
        )
        .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    assert_eq!(state_of(&fx, id).await, "evaluating");

    // Scores chosen so the ranking can be worked out by hand (price weight 30, lowest valid ¥100,000):
    //  A ¥100,000: plan 40,40,40,40,41 → 40.2, team 8, exp 5 → 30 + 48.2 + 5 = 83.2
    //  B ¥120,000: plan 45, team 9, exp 8 → 25 + 54 + 8 = 87
    //  C ¥150,000: plan 50, team 10, exp 10 → 20 + 60 + 10 = 90
    //  D ¥110,000: plan 44, team 9, exp 7 → 27.2727… + 53 + 7 = 87.27
    let scores_for = |k: usize| -> Value {
        let mut s = Vec::new();
        for (seq, plan, team, exp) in [
            (sa, if k == 4 { "41" } else { "40" }, "8", "5"),
            (sb, "45", "9", "8"),
            (sc, "50", "10", "10"),
            (sd, "44", "9", "7"),
        ] {
            s.push(json!({"bid_seq": seq, "criterion": "plan", "points": plan}));
            s.push(json!({"bid_seq": seq, "criterion": "team", "points": team}));
            s.push(json!({"bid_seq": seq, "criterion": "exp", "points": exp}));
        }
        json!({"scores": s})
    };
    for k in 0..5 {
        let t = app.token(&format!("evaluator{}", k + 1)).await;
        let r = app
            .get(&format!("/api/v1/tenders/{id}/sheet"), Some(&t))
            .await;
        problem(r, 409, "declare_first").await;
        let r = app
            .send_json(
                "POST",
                &format!("/api/v1/tenders/{id}/declaration"),
                Some(&t),
                &json!({"conflict": false}),
            )
            .await;
        assert_eq!(r.status(), 200);
        let sheet: Value = app
            .get(&format!("/api/v1/tenders/{id}/sheet"), Some(&t))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(sheet["bids"].as_array().unwrap().len(), 4);
        if k == 0 {
            let mut bad = scores_for(0);
            bad["scores"][0]["points"] = json!("50.5");
            let r = app
                .send_json(
                    "POST",
                    &format!("/api/v1/tenders/{id}/scores"),
                    Some(&t),
                    &bad,
                )
                .await;
            assert_eq!(
                problem(r, 422, "validation_failed").await["errors"][0]["rule"],
                "range"
            );
            // The report is not readable by a panel member before it is locked.
            let r = app
                .get(&format!("/api/v1/tenders/{id}/report"), Some(&t))
                .await;
            problem(r, 409, "report_not_locked").await;
        }
        let r = app
            .send_json(
                "POST",
                &format!("/api/v1/tenders/{id}/scores"),
                Some(&t),
                &scores_for(k),
            )
            .await;
        assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
        let again = app
            .send_json(
                "POST",
                &format!("/api/v1/tenders/{id}/scores"),
                Some(&t),
                &scores_for(k),
            )
            .await;
        problem(again, 409, "scores_locked").await;
    }
    assert_eq!(state_of(&fx, id).await, "evaluated");
    let report: Value = app
        .get(&format!("/api/v1/tenders/{id}/report"), Some(&fx.b().await))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(report["locked"], true);
    let got: Vec<(i64, Value, Value)> = report["bids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            (
                b["seq"].as_i64().unwrap(),
                b["rank"].clone(),
                b["total"].clone(),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            (sc, json!(1), json!("90.00")),
            (sd, json!(2), json!("87.27")),
            (sb, json!(3), json!("87.00")),
            (sa, json!(4), json!("83.20")),
        ]
    );
    assert_eq!(report["bids"][0]["price_score"], "20.00");
    assert_eq!(
        report["bids"][0]["by_evaluator"].as_array().unwrap().len(),
        5
    );

    // The report waits for a winner: the last day to name one is 5 working days on (实施条例 Art 43).
    let v: Value = app
        .get(&format!("/api/v1/tenders/{id}"), Some(&fx.b().await))
        .await
        .json()
        .await
        .unwrap();
    let cal = sanshe::domain::calendar::BusinessCalendar::builtin();
    let last_step = |v: &Value| {
        let at = v["timeline"].as_array().unwrap().last().unwrap()["at"]
            .as_str()
            .unwrap()
            .to_string();
        let at = chrono::NaiveDateTime::parse_from_str(&at, "%Y-%m-%dT%H:%M:%S%.f").unwrap();
        sanshe::clock::beijing_date(at.and_utc())
    };
    assert_eq!(
        v["award_due"].as_str().expect("award_due while evaluated"),
        sanshe::domain::tender::award_due(&cal, last_step(&v)).to_string(),
        "{v}"
    );
    assert!(v["result_due"].is_null(), "{v}");

    // Confirm in rank order (实施条例 Art 43): the third-ranked bid is refused while the first stands,
    // whatever reason comes with it, and nothing changes; the first is confirmed.
    let before = app.snapshot();
    let r = app
        .send_json(
            "POST",
            &format!("/api/v1/tenders/{id}/award"),
            Some(&fx.b().await),
            &json!({"bid_seq": sb, "reason": "综合考虑"}),
        )
        .await;
    let p = problem(r, 422, "validation_failed").await;
    assert_eq!(
        (&p["errors"][0]["field"], &p["errors"][0]["rule"]),
        (&json!("bid_seq"), &json!("rank_order")),
        "{p}"
    );
    assert!(
        p["errors"][0]["message"]["zh-CN"]
            .as_str()
            .unwrap()
            .contains(&format!("#{sc}")),
        "{p}"
    );
    assert_eq!(app.snapshot(), before);
    let r = app
        .send_json(
            "POST",
            &format!("/api/v1/tenders/{id}/award"),
            Some(&fx.b().await),
            &json!({"bid_seq": sc}),
        )
        .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    assert!(
        app.get(&format!("/api/v1/tenders/{id}"), None)
            .await
            .json::<Value>()
            .await
            .unwrap()["result"]
            .is_null(),
        "not public before publication"
    );
    // Named: the result is due within 2 working days (87号令 Art 69).
    let v: Value = app
        .get(&format!("/api/v1/tenders/{id}"), Some(&fx.b().await))
        .await
        .json()
        .await
        .unwrap();
    assert!(v["award_due"].is_null(), "{v}");
    assert_eq!(
        v["result_due"].as_str().unwrap(),
        sanshe::domain::tender::result_due(&cal, last_step(&v)).to_string(),
        "{v}"
    );
    let r = app
        .send_json(
            "POST",
            &format!("/api/v1/tenders/{id}/result"),
            Some(&fx.b().await),
            &json!({}),
        )
        .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let v: Value = app
        .get(&format!("/api/v1/tenders/{id}"), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["state"], "publicity");
    assert_eq!(v["result"]["winner_id"], b[2].org);
    assert_eq!(v["result"]["price"], "150000.00");
    assert_eq!(v["result"]["panel_size"], 5);
    assert_eq!(v["result"]["scores"][0]["total"], "90.00");
    // The notice names the evaluators (87号令 Art 69); the award letter goes out with it and the contract
    // is due 30 days after it (政府采购法 Art 46).
    assert_eq!(
        v["result"]["evaluators"].as_array().unwrap().len(),
        5,
        "{v}"
    );
    let letter = &v["result"]["letter"];
    assert_eq!(
        letter["no"],
        format!("{}-{sc}", v["code"].as_str().unwrap()),
        "{v}"
    );
    assert_eq!(letter["title_zh"], "中标通知书", "{v}");
    let issued = chrono::NaiveDateTime::parse_from_str(
        letter["issued_at"].as_str().unwrap(),
        "%Y-%m-%dT%H:%M:%S%.f",
    )
    .unwrap();
    let issued_bj = (issued + chrono::Duration::hours(8)).date();
    assert_eq!(
        letter["sign_by"].as_str().unwrap(),
        (issued_bj + chrono::Duration::days(30)).to_string(),
        "{v}"
    );
    let results = outbox_templates(app)
        .iter()
        .filter(|(t, _)| t == "tender_result")
        .count();
    assert!(results >= 4, "every bidder hears the result");

    // B challenges and the bureau upholds it: the result is set aside, decided and published again.
    let t_b = app.token(&b[1].user).await;
    let r = app
        .send_json(
            "POST",
            &format!("/api/v1/tenders/{id}/challenges"),
            Some(&t_b),
            &json!({"grounds": "中标人团队人员资质不符。"}),
        )
        .await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let first = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let r = app
        .send_json(
            "POST",
            &format!("/api/v1/challenges/{first}/answer"),
            Some(&fx.b().await),
            &json!({"upheld": true, "answer": "经核实，质疑成立，重新确定中标人。"}),
        )
        .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    assert_eq!(state_of(&fx, id).await, "evaluated");
    assert!(
        app.get(&format!("/api/v1/tenders/{id}"), None)
            .await
            .json::<Value>()
            .await
            .unwrap()["result"]
            .is_null()
    );
    let r = app
        .send_json(
            "POST",
            &format!("/api/v1/tenders/{id}/award"),
            Some(&fx.b().await),
            &json!({"bid_seq": sc}),
        )
        .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let r = app
        .send_json(
            "POST",
            &format!("/api/v1/tenders/{id}/result"),
            Some(&fx.b().await),
            &json!({}),
        )
        .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["state"], "publicity");

    // A challenge by A during the publicity blocks the award until answered.
    let t_a = app.token(&b[0].user).await;
    let r = app
        .send_json(
            "POST",
            &format!("/api/v1/tenders/{id}/challenges"),
            Some(&t_a),
            &json!({"grounds": "评分标准适用有误。"}),
        )
        .await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let cid = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let challenge_ends: String = v["challenge_ends"].as_str().unwrap().to_string();
    let ends = chrono::NaiveDateTime::parse_from_str(&challenge_ends, "%Y-%m-%dT%H:%M:%S%.f")
        .unwrap()
        .and_utc();
    fx.clock.set(ends + Duration::minutes(1));
    assert_eq!(
        state_of(&fx, id).await,
        "challenge",
        "an open challenge blocks the award"
    );
    let r = app
        .send_json(
            "POST",
            &format!("/api/v1/challenges/{cid}/answer"),
            Some(&fx.b().await),
            &json!({"upheld": false, "answer": "经复核，评分符合招标文件。"}),
        )
        .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    assert_eq!(state_of(&fx, id).await, "awarded");
    let mails = outbox_templates(app);
    assert_eq!(
        mails.iter().filter(|(t, _)| t == "challenge_filed").count(),
        4,
        "challenger and buyer, for each of the two challenges"
    );
    assert_eq!(
        mails
            .iter()
            .filter(|(t, _)| t == "challenge_answered")
            .count(),
        4
    );
    assert!(mails.iter().any(|(t, _)| t == "bid_receipt"));
    assert!(mails.iter().any(|(t, _)| t == "bids_opened"));

    // The contract is created from the award and signed; the tender follows (timeline: contracted).
    let today = sanshe::tenders::today(sanshe::clock::Clock::now(&fx.clock));
    let field = "elderly";
    let r = app
        .send_json(
            "POST",
            "/api/v1/appropriations",
            Some(&app.token("finance").await),
            &json!({"year": today.format("%Y").to_string().parse::<i32>().unwrap(), "fund": "general",
                    "field": field, "amount": "500000", "document_no": "WLC-1", "idempotency_key": "wlc-1"}),
        )
        .await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let appropriation = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let r = app
        .send_json(
            "POST",
            "/api/v1/contracts",
            Some(&fx.b().await),
            &json!({"tender_id": id, "contract_no": "WLC-HT-1", "term_start": today.to_string()}),
        )
        .await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let contract = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let r = app
        .send_json(
            "POST",
            &format!("/api/v1/contracts/{contract}/sign"),
            Some(&fx.b().await),
            &json!({"signed_on": today.to_string(), "appropriation_id": appropriation}),
        )
        .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let r = app
        .get(&format!("/api/v1/tenders/{id}"), Some(&fx.b().await))
        .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let v: Value = r.json().await.unwrap();
    let steps: Vec<&str> = v["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["to_state"].as_str().unwrap())
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
        assert!(steps.contains(&s), "timeline lacks {s}: {steps:?}");
    }
    let audit: Value = app
        .get(
            "/api/v1/audit-events/verify",
            Some(&app.token("admin").await),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(audit["ok"], true);
    app_stop(fx).await;
}

async fn app_stop(fx: Fx) {
    fx.app.stop().await;
}

/// Tender 1 of a fresh database with the demo registry, opened: published 40 days ago, three bids, opened
/// 18 days ago. Built through the library with past times, so the route table can call every endpoint.
pub(crate) fn opened_tender_fixture(app: &TestApp) -> i64 {
    opened_tender_coded(app, "RT-1")
}

/// [`opened_tender_fixture`] with another tender code (several such tenders in one database).
pub(crate) fn opened_tender_coded(app: &TestApp, code: &str) -> i64 {
    use sanshe::db::schema::users as u;
    let cfg = crate::helpers::config(&app.db, &Options::default());
    let ctx = sanshe::tenders::Ctx::from_config(&cfg);
    let mut c = app.conn();
    let now = Utc::now();
    let start = now - Duration::days(40);
    let user_id = |c: &mut sanshe::db::DbConn, name: &str| -> i64 {
        u::table
            .filter(u::username.eq(name))
            .select(u::id)
            .first(c)
            .unwrap()
    };
    let bureau = user_id(&mut c, "bureau");
    let actor = sanshe::audit::Actor::system("fixture");
    let input = serde_json::from_value(tender_body_at(code, start)).unwrap();
    let v = sanshe::tenders::create(&mut c, &ctx, &actor, bureau, start, &input).unwrap();
    sanshe::tenders::publish(&mut c, &ctx, &actor, start, v.id).unwrap();
    let clock = ManualClock::new(start + Duration::days(1));
    for (i, b) in bidders(app, 3).iter().enumerate() {
        let input = serde_json::from_value(bid_body(
            &format!("{code}-rt{i}"),
            10_000_000 + i as i64 * 1_000_000,
            b.worker,
        ))
        .unwrap();
        let uid = user_id(&mut c, &b.user);
        sanshe::tenders::bids::submit(&mut c, &ctx, &actor, uid, b.org, &clock, v.id, &input)
            .unwrap();
    }
    sanshe::tenders::advance(&mut c, &ctx, now, v.id).unwrap();
    let state: String = sanshe::db::schema::tenders::table
        .find(v.id)
        .select(sanshe::db::schema::tenders::state)
        .first(&mut c)
        .unwrap();
    assert_eq!(state, "opened");
    v.id
}

use crate::route_table::{Public, Roles};
use sanshe::auth::Role;

const BA: &[Role] = &[Role::Bureau, Role::Admin];
const ORG: &[Role] = &[Role::Org];
const EV: &[Role] = &[Role::Evaluator];
const BAE: &[Role] = &[Role::Bureau, Role::Admin, Role::Evaluator];
/// Who reads an evaluation report: the panel's readers, and finance who audit the award (issue 14).
const BAEF: &[Role] = &[Role::Bureau, Role::Admin, Role::Evaluator, Role::Finance];
const BAO: &[Role] = &[Role::Bureau, Role::Admin, Role::Org];
const BAEO: &[Role] = &[Role::Bureau, Role::Admin, Role::Evaluator, Role::Org];

/// A well-formed tender whose every value is wrong: an allowed caller gets a 422 (or 409), never a change.
const TENDER_BODY: &str = r#"{"code":"","title":"","description":"","field":"","budget":"","method":"","term_months":0,"criteria":{"price_weight_pct":"0","items":[]},"instalments":[],"enquiry_deadline":"","bid_deadline":"","opening_at":""}"#;
const BID_BODY: &str = r#"{"idempotency_key":"route-table","price":"","plan":"","budget":[],"targets":{"visits":0,"people":0,"sessions":0,"satisfaction_pct":"0"}}"#;

/// Tender API rows; tender 1 is the opened fixture above.
pub(crate) const ROUTES: &[crate::route_table::Op] = &[
    op!("GET", "/api/v1/tenders", "/api/v1/tenders", Public),
    op!(
        "POST",
        "/api/v1/tenders",
        "/api/v1/tenders",
        Roles(BA),
        TENDER_BODY
    ),
    op!("GET", "/api/v1/my/bids", "/api/v1/my/bids", Roles(ORG)),
    op!("GET", "/api/v1/tenders/{id}", "/api/v1/tenders/1", Public),
    op!(
        "PUT",
        "/api/v1/tenders/{id}",
        "/api/v1/tenders/1",
        Roles(BA),
        TENDER_BODY
    ),
    op!(
        "POST",
        "/api/v1/tenders/{id}/publish",
        "/api/v1/tenders/1/publish",
        Roles(BA),
        "{}"
    ),
    op!(
        "POST",
        "/api/v1/tenders/{id}/cancel",
        "/api/v1/tenders/1/cancel",
        Roles(BA),
        r#"{"reason":""}"#
    ),
    op!(
        "GET",
        "/api/v1/tenders/{id}/enquiries",
        "/api/v1/tenders/1/enquiries",
        Public
    ),
    op!(
        "POST",
        "/api/v1/tenders/{id}/enquiries",
        "/api/v1/tenders/1/enquiries",
        Roles(ORG),
        r#"{"question":""}"#
    ),
    op!(
        "POST",
        "/api/v1/enquiries/{id}/answer",
        "/api/v1/enquiries/999/answer",
        Roles(BA),
        r#"{"answer":""}"#
    ),
    op!(
        "POST",
        "/api/v1/tenders/{id}/bids",
        "/api/v1/tenders/1/bids",
        Roles(ORG),
        BID_BODY
    ),
    op!(
        "GET",
        "/api/v1/tenders/{id}/bids/mine",
        "/api/v1/tenders/1/bids/mine",
        Roles(ORG)
    ),
    op!(
        "POST",
        "/api/v1/tenders/{id}/bids/withdraw",
        "/api/v1/tenders/1/bids/withdraw",
        Roles(ORG),
        "{}"
    ),
    op!(
        "GET",
        "/api/v1/tenders/{id}/bids",
        "/api/v1/tenders/1/bids",
        Roles(BA)
    ),
    op!(
        "GET",
        "/api/v1/tenders/{id}/bids/{seq}/attachments/{n}",
        "/api/v1/tenders/1/bids/1/attachments/0",
        Roles(BAEO)
    ),
    op!(
        "GET",
        "/api/v1/tenders/{id}/commitments",
        "/api/v1/tenders/1/commitments",
        Public
    ),
    op!(
        "GET",
        "/api/v1/tenders/{id}/panel",
        "/api/v1/tenders/1/panel",
        Roles(BAE)
    ),
    op!(
        "POST",
        "/api/v1/tenders/{id}/panel",
        "/api/v1/tenders/1/panel",
        Roles(BA),
        r#"{"draw_experts":0}"#
    ),
    op!(
        "POST",
        "/api/v1/tenders/{id}/declaration",
        "/api/v1/tenders/1/declaration",
        Roles(EV),
        r#"{"conflict":false}"#
    ),
    op!(
        "GET",
        "/api/v1/tenders/{id}/sheet",
        "/api/v1/tenders/1/sheet",
        Roles(EV)
    ),
    op!(
        "POST",
        "/api/v1/tenders/{id}/scores",
        "/api/v1/tenders/1/scores",
        Roles(EV),
        r#"{"scores":[]}"#
    ),
    op!(
        "GET",
        "/api/v1/tenders/{id}/report",
        "/api/v1/tenders/1/report",
        Roles(BAEF)
    ),
    op!(
        "POST",
        "/api/v1/tenders/{id}/award",
        "/api/v1/tenders/1/award",
        Roles(BA),
        r#"{"bid_seq":0}"#
    ),
    op!(
        "POST",
        "/api/v1/tenders/{id}/result",
        "/api/v1/tenders/1/result",
        Roles(BA),
        "{}"
    ),
    op!(
        "POST",
        "/api/v1/tenders/{id}/disqualify",
        "/api/v1/tenders/1/disqualify",
        Roles(BA),
        r#"{"bid_seq":0,"reason":""}"#
    ),
    op!(
        "POST",
        "/api/v1/tenders/{id}/award/refusal",
        "/api/v1/tenders/1/award/refusal",
        Roles(BA),
        r#"{"reason":""}"#
    ),
    op!(
        "GET",
        "/api/v1/tenders/{id}/negotiation",
        "/api/v1/tenders/1/negotiation",
        Roles(BAE)
    ),
    op!(
        "POST",
        "/api/v1/tenders/{id}/negotiation/origin",
        "/api/v1/tenders/1/negotiation/origin",
        Roles(BA),
        r#"{"failed_tender_id":0}"#
    ),
    op!(
        "POST",
        "/api/v1/tenders/{id}/negotiation/compliance",
        "/api/v1/tenders/1/negotiation/compliance",
        Roles(EV),
        r#"{"bid_seq":0,"compliant":false,"reason":""}"#
    ),
    op!(
        "POST",
        "/api/v1/tenders/{id}/negotiation/rounds",
        "/api/v1/tenders/1/negotiation/rounds",
        Roles(EV),
        r#"{"quotes":[]}"#
    ),
    op!(
        "GET",
        "/api/v1/tenders/{id}/single-source",
        "/api/v1/tenders/1/single-source",
        Public
    ),
    op!(
        "POST",
        "/api/v1/tenders/{id}/objections",
        "/api/v1/tenders/1/objections",
        Roles(ORG),
        r#"{"reason":""}"#
    ),
    op!(
        "POST",
        "/api/v1/tenders/{id}/objections/{n}/answer",
        "/api/v1/tenders/1/objections/1/answer",
        Roles(BA),
        r#"{"answer":"","upheld":false}"#
    ),
    op!(
        "POST",
        "/api/v1/tenders/{id}/single-source/record",
        "/api/v1/tenders/1/single-source/record",
        Roles(BA),
        r#"{"negotiated_on":"","place":"","staff":[],"cost_explanation":"","terms":"","price":""}"#
    ),
    op!(
        "GET",
        "/api/v1/tenders/{id}/challenges",
        "/api/v1/tenders/1/challenges",
        Roles(BAO)
    ),
    op!(
        "POST",
        "/api/v1/tenders/{id}/challenges",
        "/api/v1/tenders/1/challenges",
        Roles(ORG),
        r#"{"grounds":""}"#
    ),
    op!(
        "POST",
        "/api/v1/challenges/{id}/answer",
        "/api/v1/challenges/999/answer",
        Roles(BA),
        r#"{"upheld":false,"answer":""}"#
    ),
    op!(
        "POST",
        "/api/v1/challenges/{id}/assessment",
        "/api/v1/challenges/999/assessment",
        Roles(BA),
        r#"{"affects_result":true,"reason":""}"#
    ),
    op!(
        "GET",
        "/api/v1/evaluators/{id}/links",
        "/api/v1/evaluators/4/links",
        Roles(BA)
    ),
    op!(
        "POST",
        "/api/v1/evaluators/{id}/links",
        "/api/v1/evaluators/4/links",
        Roles(BA),
        r#"{"organisation_id":0,"relation":""}"#
    ),
];

crate::both_backends!(whole_life_cycle);

/// The background scheduler moves a tender at its deadline with no request touching it.
async fn scheduler_closes_and_opens_unattended(backend: Backend) {
    let clock = ManualClock::new(t0());
    let app = TestApp::spawn_with(
        &backend,
        Options {
            registry_demo: true,
            clock: Some(clock.clone()),
            scheduler_every: std::time::Duration::from_millis(100),
            ..Default::default()
        },
    )
    .await;
    let fx = Fx { app, clock };
    let id = create_tender(&fx, &tender_body("GD-SCHED-1")).await;
    publish(&fx, id).await;
    let stored = |app: &TestApp| -> String {
        use sanshe::db::schema::tenders as t;
        t::table
            .find(id)
            .select(t::state)
            .first(&mut app.conn())
            .unwrap()
    };
    fx.clock.set(t0() + Duration::days(21) + Duration::hours(2));
    // Nobody bid: closed, opened, then failed for too few bids, all by the scheduler. `advance` commits
    // `closed` and the opening (ending in `failed`) in separate transactions, so wait for the end state
    // itself, not merely for "no longer published" (which could catch the tender between the two).
    crate::helpers::wait_for(
        10,
        "the scheduler to close, open and fail the tender",
        || stored(&fx.app) == "failed",
    )
    .await;
    assert_eq!(stored(&fx.app), "failed");
    use sanshe::db::schema::tender_events as e;
    let actors: Vec<String> = e::table
        .filter(e::tender_id.eq(id))
        .filter(e::to_state.ne("draft"))
        .filter(e::to_state.ne("published"))
        .select(e::actor_name)
        .load(&mut fx.app.conn())
        .unwrap();
    assert_eq!(actors, vec!["scheduler"; 3], "closed, opened, failed");
    fx.app.stop().await;
}

crate::both_backends!(scheduler_closes_and_opens_unattended);

/// In a real browser: an organisation fills the bid form and gets its receipt, whose commitment is the stored
/// one; after the opening an evaluator declares no conflict and scores every bid through the scoring sheet.
async fn browser_bid_receipt_then_scoring(backend: Backend) {
    use crate::browser::Driver;
    use crate::helpers::PASSWORD;
    let fx = setup(&backend).await;
    let app = &fx.app;
    let id = create_tender(&fx, &tender_body("GD-WEB-1")).await;
    publish(&fx, id).await;
    let b = bidders(app, 3);
    for (i, x) in b[1..].iter().enumerate() {
        let r = bid(
            &fx,
            x,
            id,
            &format!("web{i}"),
            12_000_000 + i as i64 * 1_000_000,
        )
        .await;
        assert_eq!(r.status(), 201);
    }

    let mut driver = Driver::start();
    let browser = driver.connect().await;
    let sign_in = |user: String| {
        let browser = &browser;
        async move {
            browser.goto(&app.url("/login")).await;
            browser
                .wait_page("the sign-in page", |p| p.path == "/login")
                .await;
            browser.type_into("#username", &user).await;
            browser.type_into("#password", PASSWORD).await;
            browser.click("#login-submit").await;
            browser
                .wait_page("the dashboard", |p| p.path == "/dashboard")
                .await;
        }
    };
    sign_in(b[0].user.clone()).await;
    browser.goto(&app.url(&format!("/tenders/{id}/bid"))).await;
    browser
        .wait_page("the bid form", |p| p.path == format!("/tenders/{id}/bid"))
        .await;
    browser.type_into("#price", "150000").await;
    browser
        .type_into("#plan", "浏览器提交的服务方案：每周两次上门探访。")
        .await;
    browser.type_into("#budget_staff", "60000").await;
    browser.type_into("#budget_activities", "75000").await;
    browser.type_into("#budget_management", "15000").await;
    browser
        .click(&format!("input[name=staff][value=\"{}\"]", b[0].worker))
        .await;
    browser.click("#bid-submit").await;
    let p = browser
        .wait_page("the receipt", |p| p.text.contains("回执"))
        .await;
    let shown = browser
        .cmd(
            reqwest::Method::POST,
            "/execute/sync",
            Some(json!({"script": "return document.getElementById('receipt-commitment').textContent;", "args": []})),
        )
        .await
        .unwrap();
    let stored: String = {
        use sanshe::db::schema::bids as t;
        t::table
            .filter(t::tender_id.eq(id))
            .filter(t::organisation_id.eq(b[0].org))
            .filter(t::status.eq("active"))
            .select(t::commitment)
            .first(&mut app.conn())
            .unwrap()
    };
    assert_eq!(shown.as_str().unwrap().trim(), stored, "{p:#?}");
    // Printed (issue 14): the receipt alone, with the sponsor; no header, buttons or navigation.
    browser
        .cmd(
            reqwest::Method::POST,
            "/goog/cdp/execute",
            Some(json!({"cmd": "Emulation.setEmulatedMedia", "params": {"media": "print"}})),
        )
        .await
        .unwrap();
    let shown = browser
        .script(
            "const d = s => getComputedStyle(document.querySelector(s)).display; \
             const buttons = getComputedStyle(document.getElementById('receipt-print').parentElement).display; \
             return [d('header.top'), buttons, d('footer.site'), d('#receipt'), d('p.print-only')];",
        )
        .await;
    assert_eq!(shown, json!(["none", "none", "none", "block", "block"]));
    browser
        .cmd(
            reqwest::Method::POST,
            "/goog/cdp/execute",
            Some(json!({"cmd": "Emulation.setEmulatedMedia", "params": {"media": ""}})),
        )
        .await
        .unwrap();

    // After the opening the bureau seats the panel; four evaluators score over the API, one in the browser.
    fx.clock.set(t0() + Duration::days(21) + Duration::hours(2));
    assert_eq!(state_of(&fx, id).await, "opened");
    let evs: Vec<i64> = {
        use sanshe::db::schema::users as u;
        u::table
            .filter(u::username.like("evaluator%"))
            .order(u::username)
            .select(u::id)
            .load(&mut app.conn())
            .unwrap()
    };
    let r = app
        .send_json(
            "POST",
            &format!("/api/v1/tenders/{id}/panel"),
            Some(&fx.b().await),
            &json!({"draw_experts": evs.len()}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let opened: Value = app
        .get(&format!("/api/v1/tenders/{id}/bids"), Some(&fx.b().await))
        .await
        .json()
        .await
        .unwrap();
    let seqs: Vec<i64> = opened
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["seq"].as_i64().unwrap())
        .collect();
    assert_eq!(seqs.len(), 3);
    for k in 2..=5 {
        let t = app.token(&format!("evaluator{k}")).await;
        app.send_json(
            "POST",
            &format!("/api/v1/tenders/{id}/declaration"),
            Some(&t),
            &json!({"conflict": false}),
        )
        .await;
        let mut s = Vec::new();
        for seq in &seqs {
            for (c, p) in [("plan", "40"), ("team", "8"), ("exp", "6")] {
                s.push(json!({"bid_seq": seq, "criterion": c, "points": p}));
            }
        }
        let r = app
            .send_json(
                "POST",
                &format!("/api/v1/tenders/{id}/scores"),
                Some(&t),
                &json!({"scores": s}),
            )
            .await;
        assert_eq!(r.status(), 200);
    }
    // Start a new session: drop the organisation's cookies.
    browser
        .cmd(reqwest::Method::DELETE, "/cookie", None)
        .await
        .unwrap();
    sign_in("evaluator1".into()).await;
    browser
        .goto(&app.url(&format!("/tenders/{id}/score")))
        .await;
    let p = browser
        .wait_page("the declaration", |p| {
            p.path == format!("/tenders/{id}/score")
        })
        .await;
    assert!(
        !p.text.contains("浏览器提交的服务方案"),
        "no bid before the declaration"
    );
    browser.click("#declare-form button[type=submit]").await;
    browser
        .wait_page("the scoring sheet", |p| {
            p.text.contains("浏览器提交的服务方案")
        })
        .await;
    for seq in &seqs {
        for (c, v) in [("plan", "45"), ("team", "9"), ("exp", "7")] {
            browser.type_into(&format!("#s_{seq}_{c}"), v).await;
        }
    }
    browser.click("#score-submit").await;
    // The form asks for confirmation before the scores become final.
    browser
        .cmd(reqwest::Method::POST, "/alert/accept", Some(json!({})))
        .await
        .unwrap();
    crate::helpers::wait_for(20, "the evaluation to complete", || {
        use sanshe::db::schema::tenders as t;
        let s: String = t::table
            .find(id)
            .select(t::state)
            .first(&mut app.conn())
            .unwrap();
        s == "evaluated"
    })
    .await;
    let report: Value = app
        .get(&format!("/api/v1/tenders/{id}/report"), Some(&fx.b().await))
        .await
        .json()
        .await
        .unwrap();
    let mine = report["bids"][0]["by_evaluator"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["evaluator"] == "评审专家 赵一")
        .cloned()
        .expect("evaluator1's scores in the report");
    assert_eq!(mine["points"], json!(["45.00", "9.00", "7.00"]));
    browser.close().await;
    fx.app.stop().await;
}

crate::both_backends!(browser_bid_receipt_then_scoring);

/// A clarification less than 5 days before the deadline moves the deadline (and the opening) to 5 days after
/// it, on the timeline and in the e-mail; an invited tender takes bids from the invited only.
async fn late_answer_moves_the_deadline_and_invitations_bind(backend: Backend) {
    let fx = setup(&backend).await;
    let app = &fx.app;
    let b = bidders(app, 4);
    let mut body = tender_body("GD-INV-1");
    body["method"] = json!("invited");
    body["invited"] = json!([b[0].org, b[1].org, b[2].org]);
    let id = create_tender(&fx, &body).await;
    publish(&fx, id).await;
    let before: Value = app
        .get(&format!("/api/v1/tenders/{id}"), None)
        .await
        .json()
        .await
        .unwrap();

    // Not invited: refused, naming the rule, nothing stored.
    let snap = app.snapshot();
    let r = bid(&fx, &b[3], id, "x1", 15_000_000).await;
    let p = problem(r, 422, "validation_failed").await;
    assert_eq!(p["errors"][0]["field"], "invited");
    assert_eq!(p["errors"][0]["rule"], "not_invited");
    assert_eq!(app.snapshot(), snap);
    assert_eq!(bid(&fx, &b[0], id, "i1", 15_000_000).await.status(), 201);

    let t = app.token(&b[1].user).await;
    let r = app
        .send_json(
            "POST",
            &format!("/api/v1/tenders/{id}/enquiries"),
            Some(&t),
            &json!({"question": "可否分包？"}),
        )
        .await;
    let eid = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    // Three days before the deadline (the enquiry deadline has passed, the answer still counts).
    let answered_at = t0() + Duration::days(18);
    fx.clock.set(answered_at);
    let r = app
        .send_json(
            "POST",
            &format!("/api/v1/enquiries/{eid}/answer"),
            Some(&fx.b().await),
            &json!({"answer": "不得分包。"}),
        )
        .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let after: Value = app
        .get(&format!("/api/v1/tenders/{id}"), None)
        .await
        .json()
        .await
        .unwrap();
    let naive = |v: &Value| {
        chrono::NaiveDateTime::parse_from_str(v.as_str().unwrap(), "%Y-%m-%dT%H:%M:%S%.f")
            .unwrap()
            .and_utc()
    };
    // 87号令 Art 27: a tender's clarification later than 15 days before the deadline moves it 15 days on.
    assert_eq!(
        naive(&after["bid_deadline"]),
        answered_at + Duration::days(15)
    );
    assert_eq!(
        naive(&after["opening_at"]) - naive(&after["bid_deadline"]),
        naive(&before["opening_at"]) - naive(&before["bid_deadline"]),
        "the opening moves with the deadline"
    );
    let notes: Vec<String> = after["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["note_zh"].as_str().map(String::from))
        .collect();
    assert!(
        notes
            .iter()
            .any(|n| n.contains("顺延") && n.contains("不足 15 日")),
        "{notes:?}"
    );
    // The asker and the current bidder hear of it, with the new deadline.
    use sanshe::db::schema::outbox as o;
    let mails: Vec<String> = o::table
        .filter(o::template.eq("enquiry_answered"))
        .select(o::body_text)
        .load(&mut app.conn())
        .unwrap();
    assert_eq!(mails.len(), 2, "asker and bidder");
    assert!(mails.iter().all(|m| m.contains("顺延")));
    // Bidding is open past the old deadline.
    fx.clock.set(t0() + Duration::days(21) + Duration::hours(1));
    assert_eq!(state_of(&fx, id).await, "published");
    assert_eq!(bid(&fx, &b[1], id, "i2", 14_000_000).await.status(), 201);
    fx.app.stop().await;
}

crate::both_backends!(late_answer_moves_the_deadline_and_invitations_bind);

/// The bureau records an evaluator's link to an organisation from the web page; a bad one comes back as a
/// 422 form naming the rule and stores nothing.
async fn evaluator_links_page(backend: Backend) {
    let fx = setup(&backend).await;
    let app = &fx.app;
    let c = crate::helpers::sign_in(app, "bureau").await;
    let html = c
        .get(app.url("/evaluators"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("评审专家关联登记"), "{html}");
    let csrf = crate::helpers::csrf_of(&html);
    let ev: i64 = {
        use sanshe::db::schema::users as u;
        u::table
            .filter(u::username.eq("evaluator2"))
            .select(u::id)
            .first(&mut app.conn())
            .unwrap()
    };
    let org = bidders(app, 1)[0].org;
    let before = app.snapshot();
    let r = c
        .post(app.url("/evaluators/links"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("user_id", &ev.to_string()),
            ("organisation_id", &org.to_string()),
            ("relation", "cousin"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("关联类型须为"));
    assert_eq!(app.snapshot(), before);
    let r = c
        .post(app.url("/evaluators/links"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("user_id", &ev.to_string()),
            ("organisation_id", &org.to_string()),
            ("relation", "board"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let links: Value = app
        .get(
            &format!("/api/v1/evaluators/{ev}/links"),
            Some(&fx.b().await),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(links[0]["organisation_id"], org);
    assert_eq!(links[0]["relation"], "board");
    let html = c
        .get(app.url("/evaluators"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("理事/监事"), "the page lists the link");
    fx.app.stop().await;
}

crate::both_backends!(evaluator_links_page);

/// A deadline counted in working days in a year the holiday data does not cover says so on the tender.
async fn uncovered_year_is_flagged(backend: Backend) {
    let fx = setup(&backend).await;
    let b = bidders(&fx.app, 1);
    let mut body = tender_body("GD-SS-2027");
    body["method"] = json!("single_source");
    body["invited"] = json!([b[0].org]);
    body["criteria"] = json!({"price_weight_pct": "0", "items": []});
    body["single_source_ground"] = json!("emergency");
    body["single_source_explanation"] = json!("突发公共卫生事件，需即时上门服务。");
    let start: DateTime<Utc> = "2027-01-04T02:00:00Z".parse().unwrap();
    body["enquiry_deadline"] = json!(bj(start));
    body["bid_deadline"] = json!(bj(start + Duration::days(10)));
    body["opening_at"] = json!(bj(start + Duration::days(10)));
    let id = create_tender(&fx, &body).await;
    let v: Value = fx
        .app
        .get(&format!("/api/v1/tenders/{id}"), Some(&fx.b().await))
        .await
        .json()
        .await
        .unwrap();
    let w = v["calendar_warnings"].as_array().unwrap();
    assert_eq!(w.len(), 1, "{v}");
    assert!(w[0]["zh-CN"].as_str().unwrap().contains("2027"), "{w:?}");
    // The same tender in a covered year carries no warning.
    let id2 = create_tender(&fx, &{
        let mut b2 = body.clone();
        b2["code"] = json!("GD-SS-2026");
        b2["enquiry_deadline"] = json!(bj(t0()));
        b2["bid_deadline"] = json!(bj(t0() + Duration::days(10)));
        b2["opening_at"] = json!(bj(t0() + Duration::days(10)));
        b2
    })
    .await;
    let v: Value = fx
        .app
        .get(&format!("/api/v1/tenders/{id2}"), Some(&fx.b().await))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["calendar_warnings"], json!([]));
    fx.app.stop().await;
}

crate::both_backends!(uncovered_year_is_flagged);

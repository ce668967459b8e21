//! Challenges (质疑) against the documents, the process and the result, end to end on both backends: each
//! within its window and by those who may (政府采购法 Art 52; 实施条例 Art 53), and what an open one that may
//! affect the result suspends (实施条例 Art 54): the opening for the documents, the award for the process.
//! Every refusal names the field and the rule and leaves the database as it was.

use chrono::Duration;
use serde_json::{Value, json};

use crate::helpers::{Backend, Options, TestApp, problem, sign_in};
use crate::page_posts::dump;
use crate::tenders::{
    Bidder, Fx, bid, bidders, create_tender, demo_evaluators, publish, setup, state_of, t0,
    tender_body,
};
use crate::tenders_sealed::json_of;
use sanshe::clock::ManualClock;

async fn file(
    app: &TestApp,
    b: &Bidder,
    tender: i64,
    subject: &str,
    grounds: &str,
) -> reqwest::Response {
    let t = app.token(&b.user).await;
    app.send_json(
        "POST",
        &format!("/api/v1/tenders/{tender}/challenges"),
        Some(&t),
        &json!({"subject": subject, "grounds": grounds}),
    )
    .await
}

async fn answer(fx: &Fx, cid: i64, upheld: bool) -> Value {
    json_of(
        fx.app
            .send_json(
                "POST",
                &format!("/api/v1/challenges/{cid}/answer"),
                Some(&fx.b().await),
                &json!({"upheld": upheld, "answer": "经核实，答复如下。"}),
            )
            .await,
        200,
    )
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

/// A refusal on `subject` with `rule`, nothing changed.
async fn refused_on_subject(app: &TestApp, r: reqwest::Response, rule: &str, before: &str) {
    let p = problem(r, 422, "validation_failed").await;
    assert_eq!(
        (&p["errors"][0]["field"], &p["errors"][0]["rule"]),
        (&json!("subject"), &json!(rule)),
        "{p}"
    );
    assert!(
        p["errors"][0]["message"]["zh-CN"]
            .as_str()
            .unwrap()
            .contains("第五十")
            || rule == "may_not_bid"
            || rule == "not_a_bidder",
        "{p}"
    );
    assert_eq!(
        dump(app),
        before,
        "a refused challenge changed the database"
    );
}

/// A published open tender (Monday 2 March 2026) with bids from the first three bidders.
async fn published_with_bids(fx: &Fx, code: &str) -> (i64, Vec<Bidder>, Vec<i64>) {
    let id = create_tender(fx, &tender_body(code)).await;
    publish(fx, id).await;
    let bs = bidders(&fx.app, 4);
    let mut seqs = Vec::new();
    for (i, (b, p)) in bs[..3]
        .iter()
        .zip([16_000_000, 17_000_000, 18_000_000])
        .enumerate()
    {
        let v = json_of(bid(fx, b, id, &format!("{code}-{i}"), p).await, 201).await;
        seqs.push(v["seq"].as_i64().unwrap());
    }
    (id, bs, seqs)
}

/// The opening time of `tender_body`: 21 days and an hour after t0.
fn opening() -> chrono::DateTime<chrono::Utc> {
    t0() + Duration::days(21) + Duration::hours(1)
}

/// 实施条例 Art 53(1): the documents are challenged by any organisation that may bid, bidder or not, from
/// the publication until 7 working days after the documents could be obtained (here the publication day,
/// Monday 2 March 2026: until Wednesday 11 March); refused after, and for an unknown subject, each naming
/// `subject` and leaving the database as it was. The organisation's form offers the subject with its
/// window's end; the bureau's list shows the subject.
async fn art53_1_documents_challenge_by_a_non_bidder_within_its_window(backend: Backend) {
    let fx = setup(&backend).await;
    let app = &fx.app;
    let id = create_tender(&fx, &tender_body("CH-2026-001")).await;
    let b = bidders(app, 2);
    // Not before publication (a draft is not visible to organisations at all).
    let before = dump(app);
    let r = file(app, &b[0], id, "documents", "评分标准含有倾向性条款。").await;
    assert_eq!(r.status(), 404);
    assert_eq!(dump(app), before);
    publish(&fx, id).await;

    // The organisation's page offers the documents, with the window's last day.
    let c = sign_in(app, &b[0].user).await;
    let html = c
        .get(app.url(&format!("/tenders/{id}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains(r#"id="challenge-subject""#),
        "no challenge form"
    );
    assert!(html.contains(r#"<option value="documents""#), "{html}");
    assert!(html.contains("2026-03-11"), "the window's end is shown");
    assert!(!html.contains(r#"<option value="result""#));

    // An unknown subject is refused.
    let before = dump(app);
    let r = file(app, &b[0], id, "budget", "x").await;
    let p = problem(r, 422, "validation_failed").await;
    assert_eq!(p["errors"][0]["field"], "subject", "{p}");
    assert_eq!(p["errors"][0]["rule"], "one_of", "{p}");
    assert_eq!(dump(app), before);

    // A non-bidder challenges the documents.
    fx.clock.set(t0() + Duration::days(1));
    let v = json_of(
        file(app, &b[0], id, "documents", "评分标准含有倾向性条款。").await,
        201,
    )
    .await;
    assert_eq!(v["subject"], "documents", "{v}");
    assert_eq!(v["affects_result"], true, "{v}");
    let cid = v["id"].as_i64().unwrap();
    let t = view(&fx, id).await;
    assert_eq!(t["suspended"]["challenge_id"], cid, "{t}");
    assert_eq!(t["suspended"]["step"], "opening", "{t}");
    let list = json_of(
        app.get(
            &format!("/api/v1/tenders/{id}/challenges"),
            Some(&fx.b().await),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(list[0]["subject"], "documents", "{list}");
    // From the page too: another organisation files against the documents through the form.
    let c = sign_in(app, &b[1].user).await;
    let html = c
        .get(app.url(&format!("/tenders/{id}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let r = c
        .post(app.url(&format!("/tenders/{id}/challenges")))
        .form(&[
            ("csrf", crate::helpers::csrf_of(&html).as_str()),
            ("subject", "documents"),
            ("grounds", "服务人次要求与预算不匹配。"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
    let list = json_of(
        app.get(
            &format!("/api/v1/tenders/{id}/challenges"),
            Some(&fx.b().await),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(list.as_array().unwrap().len(), 2, "{list}");
    assert_eq!(list[1]["subject"], "documents", "{list}");
    let bureau = sign_in(app, "bureau").await;
    let html = bureau
        .get(app.url(&format!("/tenders/{id}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains(r#"data-subject="documents""#), "{html}");
    assert!(html.contains(r#"id="suspended""#), "{html}");

    // The last day, Wednesday 11 March, is still in; Thursday 12 March is out.
    fx.clock.set(t0() + Duration::days(9));
    json_of(
        file(app, &b[1], id, "documents", "服务标准不明确。").await,
        201,
    )
    .await;
    fx.clock.set(t0() + Duration::days(10));
    let before = dump(app);
    let r = file(app, &b[1], id, "documents", "另一项质疑。").await;
    refused_on_subject(app, r, "window_closed", &before).await;
    // Nor the process or the result before there is one.
    let r = file(app, &b[1], id, "process", "过程违规。").await;
    refused_on_subject(app, r, "window_not_open", &before).await;
    let r = file(app, &b[1], id, "result", "结果有误。").await;
    refused_on_subject(app, r, "window_not_open", &before).await;
    fx.app.stop().await;
}

/// 实施条例 Art 53(1): for an invited tender only the invited may challenge the documents: another
/// registered organisation is refused (`may_not_bid`) and nothing changes.
async fn art53_1_invited_tender_documents_challenged_by_the_invited_only(backend: Backend) {
    let fx = setup(&backend).await;
    let app = &fx.app;
    let b = bidders(app, 4);
    let mut body = tender_body("CH-2026-006");
    body["method"] = json!("invited");
    body["invited"] = json!([b[0].org, b[1].org, b[2].org]);
    let id = create_tender(&fx, &body).await;
    publish(&fx, id).await;
    let before = dump(app);
    let r = file(app, &b[3], id, "documents", "邀请范围过窄。").await;
    refused_on_subject(app, r, "may_not_bid", &before).await;
    let v = json_of(
        file(app, &b[0], id, "documents", "技术要求有倾向性。").await,
        201,
    )
    .await;
    assert_eq!(v["subject"], "documents", "{v}");
    fx.app.stop().await;
}

/// 实施条例 Art 53(2): the process is challenged by a bidder from the opening until 7 working days after
/// the last step (here the opening); a non-bidder is refused (`not_a_bidder`), and the documents can no
/// longer be challenged once the bids are opened (`window_closed`); nothing changes on a refusal.
async fn art53_2_process_challenge_by_a_bidder_after_the_opening(backend: Backend) {
    let fx = setup(&backend).await;
    let app = &fx.app;
    let (id, b, _) = published_with_bids(&fx, "CH-2026-002").await;
    // Before the opening there is no process to challenge.
    let before = dump(app);
    let r = file(app, &b[0], id, "process", "开标程序违规。").await;
    refused_on_subject(app, r, "window_not_open", &before).await;

    fx.clock.set(opening());
    assert_eq!(state_of(&fx, id).await, "opened");
    let before = dump(app);
    let r = file(app, &b[3], id, "process", "开标程序违规。").await;
    refused_on_subject(app, r, "not_a_bidder", &before).await;
    let r = file(app, &b[3], id, "documents", "文件有误。").await;
    refused_on_subject(app, r, "window_closed", &before).await;
    let r = file(app, &b[0], id, "result", "结果有误。").await;
    refused_on_subject(app, r, "window_not_open", &before).await;
    let v = json_of(file(app, &b[0], id, "process", "开标程序违规。").await, 201).await;
    assert_eq!(v["subject"], "process", "{v}");
    // Opened Monday 23 March 2026: 7 working days on is Wednesday 1 April; Thursday 2 April is out.
    fx.clock.set(opening() + Duration::days(10));
    let before = dump(app);
    let r = file(app, &b[1], id, "process", "评审程序违规。").await;
    refused_on_subject(app, r, "window_closed", &before).await;
    fx.app.stop().await;
}

/// 实施条例 Art 54: an open documents challenge holds the opening: at its time the tender stays closed (read
/// by a request and by the scheduler alike), the timeline says why once, and the answer lets it open.
async fn art54_open_documents_challenge_holds_the_opening_until_answered(backend: Backend) {
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
    let app = &fx.app;
    let (id, b, _) = published_with_bids(&fx, "CH-2026-003").await;
    fx.clock.set(t0() + Duration::days(2));
    let v = json_of(
        file(app, &b[3], id, "documents", "资格条件排斥潜在供应商。").await,
        201,
    )
    .await;
    let cid = v["id"].as_i64().unwrap();

    fx.clock.set(opening() + Duration::hours(2));
    assert_eq!(state_of(&fx, id).await, "closed");
    let t = view(&fx, id).await;
    assert_eq!(t["suspended"]["step"], "opening", "{t}");
    assert_eq!(t["suspended"]["challenge_id"], cid, "{t}");
    let held: Vec<&Value> = t["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| {
            e["note_en"]
                .as_str()
                .is_some_and(|n| n.contains(&format!("held by challenge #{cid}")))
        })
        .collect();
    assert_eq!(held.len(), 1, "{t}");
    // Read again, and let the scheduler (every 100 ms here) pass by: still closed, nothing written again.
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    let before = dump(app);
    assert_eq!(state_of(&fx, id).await, "closed");
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    assert_eq!(state_of(&fx, id).await, "closed");
    assert_eq!(dump(app), before, "a held opening wrote again");

    answer(&fx, cid, false).await;
    assert_eq!(state_of(&fx, id).await, "opened");
    let t = view(&fx, id).await;
    assert!(t["suspended"].is_null(), "{t}");
    fx.app.stop().await;
}

/// 实施条例 Art 54 with 财政部令第94号 Art 16: an upheld documents challenge keeps holding the opening until
/// the documents are amended by a clarification published after the answer; then the tender opens on time.
async fn art54_upheld_documents_challenge_holds_the_opening_until_a_clarification(
    backend: Backend,
) {
    let fx = setup(&backend).await;
    let app = &fx.app;
    let (id, b, _) = published_with_bids(&fx, "CH-2026-005").await;
    fx.clock.set(t0() + Duration::days(1));
    let v = json_of(
        file(app, &b[3], id, "documents", "服务范围表述不清。").await,
        201,
    )
    .await;
    let cid = v["id"].as_i64().unwrap();
    fx.clock.set(t0() + Duration::days(2));
    let a = answer(&fx, cid, true).await;
    assert_eq!(a["status"], "upheld", "{a}");
    let t = view(&fx, id).await;
    assert_eq!(t["suspended"]["challenge_id"], cid, "still held: {t}");
    assert!(
        t["timeline"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["note_en"]
                .as_str()
                .is_some_and(|n| n.contains("MOF Order 94 Art 16"))),
        "{t}"
    );
    // The clarification: a question answered publicly after the challenge's answer.
    let r = app
        .send_json(
            "POST",
            &format!("/api/v1/tenders/{id}/enquiries"),
            Some(&app.token(&b[3].user).await),
            &json!({"question": "服务范围是否包括周边社区？"}),
        )
        .await;
    let eid = json_of(r, 201).await["id"].as_i64().unwrap();
    fx.clock.set(t0() + Duration::days(3));
    json_of(
        app.send_json(
            "POST",
            &format!("/api/v1/enquiries/{eid}/answer"),
            Some(&fx.b().await),
            &json!({"answer": "服务范围修改为：官渡街道及周边社区。"}),
        )
        .await,
        200,
    )
    .await;
    assert!(view(&fx, id).await["suspended"].is_null());
    fx.clock.set(opening());
    assert_eq!(state_of(&fx, id).await, "opened");
    fx.app.stop().await;
}

/// 实施条例 Art 54: an open process challenge refuses naming the winner with a 409 naming it, and nothing
/// changes; the bureau's assessment that it cannot affect the result, or its answer, lets the award go on.
async fn art54_open_process_challenge_refuses_the_award_until_answered(backend: Backend) {
    let fx = setup(&backend).await;
    let app = &fx.app;
    let (id, b, seqs) = published_with_bids(&fx, "CH-2026-004").await;
    fx.clock.set(opening());
    assert_eq!(state_of(&fx, id).await, "opened");
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
    for s in &seqs {
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
    assert_eq!(state_of(&fx, id).await, "evaluated");
    let report = json_of(app.get(&p("report"), Some(&bureau)).await, 200).await;
    let first = report["bids"][0]["seq"].as_i64().unwrap();

    let v = json_of(
        file(app, &b[1], id, "process", "评审专家打分未按评分标准。").await,
        201,
    )
    .await;
    let cid = v["id"].as_i64().unwrap();
    let t = view(&fx, id).await;
    assert_eq!(t["suspended"]["step"], "award", "{t}");
    let before = dump(app);
    let r = app
        .send_json(
            "POST",
            &p("award"),
            Some(&fx.b().await),
            &json!({"bid_seq": first}),
        )
        .await;
    let pr = problem(r, 409, "suspended_by_challenge").await;
    assert!(
        pr["message"]["zh-CN"]
            .as_str()
            .unwrap()
            .contains(&format!("#{cid}")),
        "{pr}"
    );
    assert!(
        pr["message"]["en"].as_str().unwrap().contains("Art 54"),
        "{pr}"
    );
    assert_eq!(dump(app), before, "a suspended award changed the database");
    // The page shows the suspension.
    let c = sign_in(app, "bureau").await;
    let html = c
        .get(app.url(&format!("/tenders/{id}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains(&format!("质疑 #{cid}")), "{html}");

    // Marking it as not affecting the result needs a reason; with one, the suspension lifts; back again.
    let assess = |affects: bool, reason: &str| json!({"affects_result": affects, "reason": reason});
    let r = app
        .send_json(
            "POST",
            &format!("/api/v1/challenges/{cid}/assessment"),
            Some(&fx.b().await),
            &assess(false, ""),
        )
        .await;
    let pr = problem(r, 422, "validation_failed").await;
    assert_eq!(pr["errors"][0]["field"], "reason", "{pr}");
    assert_eq!(dump(app), before);
    let v = json_of(
        app.send_json(
            "POST",
            &format!("/api/v1/challenges/{cid}/assessment"),
            Some(&fx.b().await),
            &assess(false, "所述事项不影响评审结果。"),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(v["affects_result"], false, "{v}");
    assert!(view(&fx, id).await["suspended"].is_null());
    json_of(
        app.send_json(
            "POST",
            &format!("/api/v1/challenges/{cid}/assessment"),
            Some(&fx.b().await),
            &assess(true, ""),
        )
        .await,
        200,
    )
    .await;
    let before = dump(app);
    let r = app
        .send_json(
            "POST",
            &p("award"),
            Some(&fx.b().await),
            &json!({"bid_seq": first}),
        )
        .await;
    problem(r, 409, "suspended_by_challenge").await;
    assert_eq!(dump(app), before);

    answer(&fx, cid, false).await;
    json_of(
        app.send_json(
            "POST",
            &p("award"),
            Some(&fx.b().await),
            &json!({"bid_seq": first}),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(state_of(&fx, id).await, "award_proposed");
    fx.app.stop().await;
}

crate::both_backends!(
    art53_1_documents_challenge_by_a_non_bidder_within_its_window,
    art53_1_invited_tender_documents_challenged_by_the_invited_only,
    art53_2_process_challenge_by_a_bidder_after_the_opening,
    art54_open_documents_challenge_holds_the_opening_until_answered,
    art54_upheld_documents_challenge_holds_the_opening_until_a_clarification,
    art54_open_process_challenge_refuses_the_award_until_answered,
);

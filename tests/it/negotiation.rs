//! 竞争性谈判 as 财政部令第74号 writes it, end to end on both backends: no weighted scoring (the draft is
//! refused with a price weight or scored criteria), the panel's compliance decisions, rounds of quotes with
//! the last as the final quote (Art 33), the lowest compliant final quote ranked first and awarded
//! (政府采购法 Art 38(5); Art 35–36), the result notice, award letter and contract at the final quote; at
//! least three suppliers, two only for a project moved here after a failed open tender (Art 27). Every
//! refusal names field and rule and leaves the database as it was.

use crate::helpers::rules_of;
use chrono::Duration;
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, problem};
use crate::tenders::{
    Fx, bid, bidders, create_tender, demo_evaluators, publish, setup, state_of, t0, tender_body,
};
use crate::tenders_sealed::json_of;

/// A negotiation: the tender body with no price weight and no scored criteria.
fn negotiation_body(code: &str) -> Value {
    let mut b = tender_body(code);
    b["method"] = json!("negotiation");
    b["criteria"] = json!({"price_weight_pct": "0", "items": []});
    b
}

fn opening_time() -> chrono::DateTime<chrono::Utc> {
    t0() + Duration::days(21) + Duration::hours(1)
}

/// Seat a panel of three drawn experts; each declares no conflict. Returns their user names.
async fn seat_panel(fx: &Fx, id: i64) -> Vec<String> {
    let app = &fx.app;
    let r = app
        .send_json(
            "POST",
            &format!("/api/v1/tenders/{id}/panel"),
            Some(&fx.b().await),
            &json!({"draw_experts": 3}),
        )
        .await;
    let members = json_of(r, 200).await;
    let evs = demo_evaluators(app);
    let mut names = Vec::new();
    for m in members.as_array().unwrap() {
        let uid = m["user_id"].as_i64().unwrap();
        let k = evs.iter().position(|e| *e == uid).unwrap();
        let name = format!("evaluator{}", k + 1);
        let t = app.token(&name).await;
        let r = app
            .send_json(
                "POST",
                &format!("/api/v1/tenders/{id}/declaration"),
                Some(&t),
                &json!({"conflict": false}),
            )
            .await;
        assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
        names.push(name);
    }
    assert_eq!(state_of(fx, id).await, "evaluating");
    names
}

async fn post(app: &TestApp, tok: &str, path: &str, body: &Value) -> reqwest::Response {
    app.send_json("POST", path, Some(tok), body).await
}

/// A whole negotiation from draft to contract: four responses, one not compliant; two rounds, the
/// second final; the lowest final quote (not the lowest first price) ranks first and wins; the result
/// notice, award letter and contract carry the final quote; the budget released at the award is the
/// ceiling less the final quote. Refused on the way, each leaving the database as it was: a scored draft,
/// scoring at all, a round before every response is decided, a quote from the non-compliant supplier, and
/// a second final round after the report.
async fn negotiation_from_draft_to_contract_lowest_final_quote_wins(backend: Backend) {
    let fx = setup(&backend).await;
    let app = &fx.app;

    // No weighted scoring (74号令 Art 35–36): a negotiation with a price weight and criteria is refused.
    let before = app.snapshot();
    let mut scored = tender_body("NG-2026-001");
    scored["method"] = json!("negotiation");
    let r = app
        .send_json("POST", "/api/v1/tenders", Some(&fx.b().await), &scored)
        .await;
    let p = problem(r, 422, "validation_failed").await;
    assert_eq!(
        rules_of(&p),
        vec![
            (
                "criteria.price_weight_pct".into(),
                "negotiation_unscored".into()
            ),
            ("criteria.items".into(), "negotiation_unscored".into()),
        ]
    );
    assert!(
        p["errors"][0]["message"]["zh-CN"]
            .as_str()
            .unwrap()
            .contains("第三十六条"),
        "{p}"
    );
    assert_eq!(
        app.snapshot(),
        before,
        "a refused draft changed the database"
    );

    let id = create_tender(&fx, &negotiation_body("NG-2026-001")).await;
    // Funded: publication reserves the ceiling, the award releases the ceiling less the final quote.
    let appr = crate::ledger_tenders::appropriation(app, "NG-A", "elderly", "300000").await;
    let r = post(
        app,
        &fx.b().await,
        &format!("/api/v1/tenders/{id}/appropriation"),
        &json!({"appropriation_id": appr}),
    )
    .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    publish(&fx, id).await;
    let bs = bidders(app, 4);
    // A ¥150,000, B ¥140,000, C ¥145,000, D ¥120,000 (D will be found not compliant).
    let prices = [15_000_000, 14_000_000, 14_500_000, 12_000_000];
    let mut seqs = Vec::new();
    for (i, (b, p)) in bs.iter().zip(prices).enumerate() {
        let v = json_of(bid(&fx, b, id, &format!("ng{i}"), p).await, 201).await;
        seqs.push(v["seq"].as_i64().unwrap());
    }
    let [sa, sb, sc, sd] = [seqs[0], seqs[1], seqs[2], seqs[3]];
    fx.clock.set(opening_time());
    assert_eq!(state_of(&fx, id).await, "opened");
    let panel = seat_panel(&fx, id).await;
    let ev = app.token(&panel[0]).await;
    let ev2 = app.token(&panel[1]).await;
    let p = |s: &str| format!("/api/v1/tenders/{id}/{s}");

    // Nothing is scored: the score sheet is refused.
    let before = app.snapshot();
    let r = post(app, &ev, &p("scores"), &json!({"scores": []})).await;
    problem(r, 409, "not_scored").await;
    // A round before every response is decided.
    let r = post(
        app,
        &ev,
        &p("negotiation/rounds"),
        &json!({"quotes": [{"bid_seq": sa, "price": "130000"}]}),
    )
    .await;
    problem(r, 409, "compliance_first").await;
    // A decision without a reason.
    let r = post(
        app,
        &ev,
        &p("negotiation/compliance"),
        &json!({"bid_seq": sa, "compliant": true, "reason": " "}),
    )
    .await;
    let pr = problem(r, 422, "validation_failed").await;
    assert_eq!(rules_of(&pr), vec![("reason".into(), "required".into())]);
    assert_eq!(app.snapshot(), before);

    // The panel decides each response: A, B, C compliant, D not.
    for (seq, ok, why) in [
        (sa, true, "资格、服务方案均实质性响应"),
        (sb, true, "实质性响应"),
        (sc, true, "实质性响应"),
        (sd, false, "服务人员资质不满足谈判文件要求"),
    ] {
        let tok = if seq == sb { &ev2 } else { &ev };
        let r = post(
            app,
            tok,
            &p("negotiation/compliance"),
            &json!({"bid_seq": seq, "compliant": ok, "reason": why}),
        )
        .await;
        assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    }
    let before = app.snapshot();
    let r = post(
        app,
        &ev,
        &p("negotiation/compliance"),
        &json!({"bid_seq": sd, "compliant": true, "reason": "改判"}),
    )
    .await;
    problem(r, 409, "compliance_decided").await;
    // A quote from the supplier found not compliant (74号令 Art 32), with the others' quotes.
    let r = post(
        app,
        &ev,
        &p("negotiation/rounds"),
        &json!({"quotes": [
            {"bid_seq": sa, "price": "130000"},
            {"bid_seq": sb},
            {"bid_seq": sc, "price": "138000"},
            {"bid_seq": sd, "price": "100000"}
        ]}),
    )
    .await;
    let pr = problem(r, 422, "validation_failed").await;
    assert_eq!(
        rules_of(&pr),
        vec![("quotes[3].bid_seq".into(), "compliant_bid".into())]
    );
    // A quote over the budget, one with three decimals, and a round that leaves a supplier out.
    let r = post(
        app,
        &ev,
        &p("negotiation/rounds"),
        &json!({"quotes": [
            {"bid_seq": sa, "price": "200000.01"},
            {"bid_seq": sb, "price": "1.001"}
        ]}),
    )
    .await;
    let pr = problem(r, 422, "validation_failed").await;
    let got = rules_of(&pr);
    assert_eq!(got[0], ("quotes[0].price".into(), "max_budget".into()));
    assert_eq!(got[1].0, "quotes[1].price");
    let r = post(
        app,
        &ev,
        &p("negotiation/rounds"),
        &json!({"quotes": [{"bid_seq": sa, "price": "130000"}]}),
    )
    .await;
    let pr = problem(r, 422, "validation_failed").await;
    assert!(
        rules_of(&pr)
            .iter()
            .all(|r| r == &("quotes".into(), "complete".into())),
        "{pr}"
    );
    assert_eq!(
        app.snapshot(),
        before,
        "a refused round changed the database"
    );

    // Round 1: A ¥130,000, B declines (keeps ¥140,000), C ¥138,000.
    let r = post(
        app,
        &ev,
        &p("negotiation/rounds"),
        &json!({"quotes": [
            {"bid_seq": sa, "price": "130000", "note": "压缩活动经费"},
            {"bid_seq": sb, "note": "维持原报价"},
            {"bid_seq": sc, "price": "138000"}
        ]}),
    )
    .await;
    let v = json_of(r, 200).await;
    assert_eq!(v["rounds"].as_array().unwrap().len(), 1);
    assert_eq!(v["closed"], false);
    assert_eq!(state_of(&fx, id).await, "evaluating");
    // Round 2, final: A declines (keeps ¥130,000), B ¥135,000, C ¥128,000.
    let r = post(
        app,
        &ev2,
        &p("negotiation/rounds"),
        &json!({"final": true, "quotes": [
            {"bid_seq": sa},
            {"bid_seq": sb, "price": "135000"},
            {"bid_seq": sc, "price": "128000.00", "note": "最后报价"}
        ]}),
    )
    .await;
    let v = json_of(r, 200).await;
    assert_eq!(v["closed"], true);
    let finals: Vec<(i64, String, Value)> = v["final_quotes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["bid_seq"].as_i64().unwrap(),
                f["price"].as_str().unwrap().to_string(),
                f["rank"].clone(),
            )
        })
        .collect();
    assert_eq!(
        finals,
        vec![
            (sc, "128000.00".into(), json!(1)),
            (sa, "130000.00".into(), json!(2)),
            (sb, "135000.00".into(), json!(3)),
        ]
    );
    assert_eq!(state_of(&fx, id).await, "evaluated");

    // After the report: a second final round is refused, and nothing changes.
    let before = app.snapshot();
    let r = post(
        app,
        &ev,
        &p("negotiation/rounds"),
        &json!({"final": true, "quotes": [
            {"bid_seq": sa, "price": "100000"}, {"bid_seq": sb}, {"bid_seq": sc}
        ]}),
    )
    .await;
    let pr = problem(r, 409, "wrong_state").await;
    assert!(
        pr["message"]["en"].as_str().unwrap().contains("locked"),
        "{pr}"
    );
    assert_eq!(app.snapshot(), before);

    // The report ranks by final quote, with no scores.
    let report = json_of(app.get(&p("report"), Some(&fx.b().await)).await, 200).await;
    let ranked: Vec<(i64, Value, Value, Value)> = report["bids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            (
                b["seq"].as_i64().unwrap(),
                b["rank"].clone(),
                b["final_price"].clone(),
                b["total"].clone(),
            )
        })
        .collect();
    assert_eq!(
        ranked[..3],
        [
            (sc, json!(1), json!("128000.00"), Value::Null),
            (sa, json!(2), json!("130000.00"), Value::Null),
            (sb, json!(3), json!("135000.00"), Value::Null),
        ]
    );
    assert_eq!(ranked[3].0, sd);
    assert_eq!(
        ranked[3].1,
        Value::Null,
        "the non-compliant response is not ranked"
    );

    // The award in rank order: A (second) is refused, C is named.
    let before = app.snapshot();
    let r = post(app, &fx.b().await, &p("award"), &json!({"bid_seq": sa})).await;
    let pr = problem(r, 422, "validation_failed").await;
    assert_eq!(rules_of(&pr), vec![("bid_seq".into(), "rank_order".into())]);
    assert_eq!(app.snapshot(), before);
    let r = post(app, &fx.b().await, &p("award"), &json!({"bid_seq": sc})).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let r = post(app, &fx.b().await, &p("result"), &json!({})).await;
    let v = json_of(r, 200).await;
    assert_eq!(v["state"], "publicity");
    // The public notice: the winner at its final quote, the 成交通知书, the panel named; no scores.
    let public = json_of(app.get(&format!("/api/v1/tenders/{id}"), None).await, 200).await;
    let res = &public["result"];
    assert_eq!(res["winner_id"], bs[2].org, "{public}");
    assert_eq!(res["price"], "128000.00");
    assert_eq!(res["price_fen"], 12_800_000);
    assert_eq!(res["letter"]["title_zh"], "成交通知书");
    assert_eq!(res["evaluators"].as_array().unwrap().len(), 3);
    assert!(res["scores"].as_array().unwrap().is_empty(), "{res}");
    // The rounds stay with the bureau and the panel.
    assert_eq!(app.get(&p("negotiation"), None).await.status(), 401);
    let org_tok = app.token(&bs[0].user).await;
    assert_eq!(
        app.get(&p("negotiation"), Some(&org_tok)).await.status(),
        403
    );
    let rec = json_of(app.get(&p("negotiation"), Some(&ev)).await, 200).await;
    assert_eq!(rec["rounds"].as_array().unwrap().len(), 2);
    let b_in_round_1 = rec["rounds"][0]["quotes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["bid_seq"] == sb)
        .unwrap()
        .clone();
    assert_eq!(b_in_round_1["price"], Value::Null, "B declined");
    assert_eq!(b_in_round_1["note"], "维持原报价");

    // The clock ends the publicity and the challenge window: awarded.
    let ends = chrono::NaiveDateTime::parse_from_str(
        v["challenge_ends"].as_str().unwrap(),
        "%Y-%m-%dT%H:%M:%S%.f",
    )
    .unwrap()
    .and_utc();
    fx.clock.set(ends + Duration::minutes(1));
    assert_eq!(state_of(&fx, id).await, "awarded");
    // Ceiling ¥200,000, final quote ¥128,000: ¥72,000 back to the available budget, ¥128,000 stays
    // reserved (the first response's ¥145,000 plays no part).
    use crate::ledger_tenders::{AV, RS, balances};
    assert_eq!(
        balances(app).await,
        [(AV.into(), 17_200_000), (RS.into(), 12_800_000)]
    );
    let fin = app.token("finance").await;
    let v = json_of(app.get("/api/v1/ledger/verify", Some(&fin)).await, 200).await;
    assert_eq!(v["ok"], true, "{v}");

    // The contract's amount is the final quote; its budget lines sum to it.
    let today = sanshe::tenders::today(sanshe::clock::Clock::now(&fx.clock));
    let r = post(
        app,
        &fx.b().await,
        "/api/v1/contracts",
        &json!({"tender_id": id, "contract_no": "NG-HT-1", "term_start": today.to_string()}),
    )
    .await;
    let c = json_of(r, 201).await;
    assert_eq!(c["money"]["amount_fen"], 12_800_000, "{c}");
    assert_eq!(c["money"]["amount"], "128,000.00");
    let lines: i64 = c["budget_lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["amount_fen"].as_i64().unwrap())
        .sum();
    assert_eq!(lines, 12_800_000, "{c}");

    // The timeline and the audit trail hold the negotiation.
    let staff = json_of(
        app.get(&format!("/api/v1/tenders/{id}"), Some(&fx.b().await))
            .await,
        200,
    )
    .await;
    let notes: Vec<String> = staff["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["note_zh"].as_str().map(str::to_string))
        .collect();
    assert_eq!(
        notes
            .iter()
            .filter(|n| n.contains("谈判小组记录了一项响应审查结论"))
            .count(),
        4
    );
    assert!(notes.iter().any(|n| n.contains("第 1 轮谈判")), "{notes:?}");
    assert!(
        notes.iter().any(|n| n.contains("第 2 轮最后报价")),
        "{notes:?}"
    );
    // The public timeline carries no quote, and not which response the panel found wanting (政府采购法
    // Art 38(3): nothing about other suppliers is disclosed in a negotiation).
    assert!(!public.to_string().contains("135000"), "{public}");
    assert!(
        !public.to_string().contains("未实质性响应")
            && !public.to_string().contains("not compliant"),
        "{public}"
    );
    assert!(
        !public.to_string().contains("服务人员资质不满足"),
        "the reasons stay with the staff: {public}"
    );
    use diesel::prelude::*;
    use sanshe::db::schema::audit_events as a;
    let rounds: i64 = a::table
        .filter(a::action.eq("tender.negotiation_round"))
        .count()
        .get_result(&mut app.conn())
        .unwrap();
    assert_eq!(rounds, 2);
    let decided: Vec<Option<String>> = a::table
        .filter(a::action.eq("tender.compliance"))
        .select(a::after_json)
        .load(&mut app.conn())
        .unwrap();
    assert_eq!(decided.len(), 4);
    assert!(
        decided
            .iter()
            .any(|j| j.as_deref().unwrap_or("").contains("服务人员资质不满足")),
        "{decided:?}"
    );
}
crate::both_backends!(negotiation_from_draft_to_contract_lowest_final_quote_wins);

/// 74号令 Art 27: a negotiation with fewer than three responses fails at the opening, unless it was moved
/// here after a failed open tender (recorded while a draft): then two suffice. The origin must be an open
/// tender in state failed; refusals leave the database as it was.
async fn fewer_than_three_fails_unless_moved_from_a_failed_open_tender(backend: Backend) {
    let fx = setup(&backend).await;
    let app = &fx.app;
    let bureau = fx.b().await;
    let bs = bidders(app, 2);
    // An open tender with one bid (fails at opening), a negotiation with two bids (fails), and a
    // negotiation moved from the failed open tender with two bids (goes on).
    let open = create_tender(&fx, &tender_body("OT-2026-009")).await;
    let plain = create_tender(&fx, &negotiation_body("NG-2026-002")).await;
    let moved = create_tender(&fx, &negotiation_body("NG-2026-003")).await;
    let origin = |t: i64| format!("/api/v1/tenders/{t}/negotiation/origin");

    // Before the open tender failed: refused, nothing stored.
    let before = app.snapshot();
    let r = post(
        app,
        &bureau,
        &origin(moved),
        &json!({"failed_tender_id": open}),
    )
    .await;
    let pr = problem(r, 422, "validation_failed").await;
    assert_eq!(
        rules_of(&pr),
        vec![("failed_tender_id".into(), "failed_open_tender".into())]
    );
    let r = post(
        app,
        &bureau,
        &origin(moved),
        &json!({"failed_tender_id": 999_999}),
    )
    .await;
    let pr = problem(r, 422, "validation_failed").await;
    assert_eq!(
        rules_of(&pr),
        vec![("failed_tender_id".into(), "exists".into())]
    );
    // Only a negotiation records an origin.
    let r = post(
        app,
        &bureau,
        &origin(open),
        &json!({"failed_tender_id": plain}),
    )
    .await;
    let pr = problem(r, 422, "validation_failed").await;
    assert_eq!(
        rules_of(&pr),
        vec![("failed_tender_id".into(), "negotiation_only".into())]
    );
    assert_eq!(app.snapshot(), before);

    for t in [open, plain] {
        publish(&fx, t).await;
    }
    json_of(bid(&fx, &bs[0], open, "ot0", 15_000_000).await, 201).await;
    for (i, b) in bs.iter().enumerate() {
        json_of(bid(&fx, b, plain, &format!("pl{i}"), 15_000_000).await, 201).await;
    }
    fx.clock.set(opening_time());
    assert_eq!(state_of(&fx, open).await, "failed");
    assert_eq!(
        state_of(&fx, plain).await,
        "failed",
        "two responses, not moved"
    );
    let v = json_of(
        app.get(&format!("/api/v1/tenders/{plain}"), Some(&fx.b().await))
            .await,
        200,
    )
    .await;
    assert!(v["end_reason"].as_str().unwrap().contains("3"), "{v}");

    // A failed negotiation is no failed open tender.
    let bureau = fx.b().await;
    let before = app.snapshot();
    let r = post(
        app,
        &bureau,
        &origin(moved),
        &json!({"failed_tender_id": plain}),
    )
    .await;
    let pr = problem(r, 422, "validation_failed").await;
    assert_eq!(
        rules_of(&pr),
        vec![("failed_tender_id".into(), "failed_open_tender".into())]
    );
    assert_eq!(app.snapshot(), before);
    let v = json_of(
        post(
            app,
            &bureau,
            &origin(moved),
            &json!({"failed_tender_id": open}),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(v["moved_from"], open);
    assert_eq!(v["min_suppliers"], 2);
    // Recorded once.
    let before = app.snapshot();
    let r = post(
        app,
        &bureau,
        &origin(moved),
        &json!({"failed_tender_id": open}),
    )
    .await;
    problem(r, 409, "origin_recorded").await;
    assert_eq!(app.snapshot(), before);

    // The moved negotiation runs from now: published with its own response time, two bids, opened.
    let start = sanshe::clock::Clock::now(&fx.clock);
    let mut body = crate::tenders::tender_body_at("NG-2026-003", start);
    body["method"] = json!("negotiation");
    body["criteria"] = json!({"price_weight_pct": "0", "items": []});
    let ver = app
        .get(&format!("/api/v1/tenders/{moved}"), Some(&bureau))
        .await
        .headers()
        .get("etag")
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    let r = crate::helpers::client()
        .put(app.url(&format!("/api/v1/tenders/{moved}")))
        .bearer_auth(&bureau)
        .header("If-Match", ver)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    publish(&fx, moved).await;
    // Recording the origin after publication is refused.
    let before = app.snapshot();
    let r = post(
        app,
        &fx.b().await,
        &origin(moved),
        &json!({"failed_tender_id": open}),
    )
    .await;
    problem(r, 409, "wrong_state").await;
    assert_eq!(app.snapshot(), before);
    for (i, b) in bs.iter().enumerate() {
        json_of(bid(&fx, b, moved, &format!("mv{i}"), 14_000_000).await, 201).await;
    }
    fx.clock
        .set(start + Duration::days(21) + Duration::hours(1));
    assert_eq!(
        state_of(&fx, moved).await,
        "opened",
        "two suffice when moved"
    );
}
crate::both_backends!(fewer_than_three_fails_unless_moved_from_a_failed_open_tender);

/// The pages: the panel member's page has the compliance and round forms, refused input comes back at its
/// field with what was typed (nothing stored), in Chinese and in English; the bureau's tender page shows
/// the decisions, the rounds and the final quotes, and the draft's origin form.
async fn negotiation_pages_compliance_and_rounds_with_inline_errors(backend: Backend) {
    use crate::helpers::{csrf_of, sign_in};
    let fx = setup(&backend).await;
    let app = &fx.app;
    let draft = create_tender(&fx, &negotiation_body("NG-2026-010")).await;
    let id = create_tender(&fx, &negotiation_body("NG-2026-011")).await;
    publish(&fx, id).await;
    let bs = bidders(app, 3);
    let mut seqs = Vec::new();
    for (i, b) in bs.iter().enumerate() {
        let v = json_of(
            bid(
                &fx,
                b,
                id,
                &format!("pg{i}"),
                14_000_000 + i as i64 * 100_000,
            )
            .await,
            201,
        )
        .await;
        seqs.push(v["seq"].as_i64().unwrap());
    }
    fx.clock.set(opening_time());
    assert_eq!(state_of(&fx, id).await, "opened");
    let panel = seat_panel(&fx, id).await;
    let web = sign_in(app, &panel[0]).await;
    let get = |path: String| {
        let web = web.clone();
        async move {
            let r = web.get(app.url(&path)).send().await.unwrap();
            assert_eq!(r.status(), 200, "{path}");
            r.text().await.unwrap()
        }
    };
    let score = format!("/tenders/{id}/score");
    let html = get(score.clone()).await;
    assert!(html.contains("id=\"negotiation\""), "{html}");
    for s in &seqs {
        assert!(html.contains(&format!("compliance-form-{s}")), "{html}");
    }
    assert!(
        !html.contains("id=\"round-form\""),
        "rounds wait for every decision"
    );
    let csrf = csrf_of(&html);

    // A decision without a reason: the page again, the error at the reason, nothing stored.
    let before = app.snapshot();
    let r = web
        .post(app.url(&format!("/tenders/{id}/compliance")))
        .form(&[
            ("csrf", csrf.as_str()),
            ("bid_seq", &seqs[0].to_string()),
            ("compliant", "0"),
            ("reason", ""),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let html = r.text().await.unwrap();
    assert!(html.contains("请说明理由"), "{html}");
    assert!(
        html.contains(&format!("id=\"c_{}_reason\"", seqs[0])) && html.contains("has-error"),
        "{html}"
    );
    assert_eq!(app.snapshot(), before);
    for s in &seqs {
        let r = web
            .post(app.url(&format!("/tenders/{id}/compliance")))
            .form(&[
                ("csrf", csrf.as_str()),
                ("bid_seq", &s.to_string()),
                ("compliant", "1"),
                ("reason", "实质性响应"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
    }
    let html = get(score.clone()).await;
    assert!(html.contains("id=\"round-form\""), "{html}");

    // A quote that is no amount and one over the budget: the errors at their inputs, the typed text kept.
    let before = app.snapshot();
    let (a, b, c) = (seqs[0], seqs[1], seqs[2]);
    let bad = [
        ("csrf".to_string(), csrf.clone()),
        (format!("q_{a}_price"), "十三万".to_string()),
        (format!("q_{a}_note"), String::new()),
        (format!("q_{b}_price"), "500000".to_string()),
        (format!("q_{b}_note"), String::new()),
        (format!("q_{c}_price"), String::new()),
        (format!("q_{c}_note"), "维持".to_string()),
    ];
    let r = web
        .post(app.url(&format!("/tenders/{id}/rounds")))
        .form(&bad)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let html = r.text().await.unwrap();
    assert!(html.contains("value=\"十三万\""), "the typed text is kept");
    assert!(html.contains("请输入金额"), "{html}");
    assert!(html.contains("报价不得超过预算"), "{html}");
    assert_eq!(app.snapshot(), before);

    // The final round: A ¥130,000, B ¥129,000.50, C declines.
    let good = [
        ("csrf".to_string(), csrf.clone()),
        (format!("q_{a}_price"), "130000".to_string()),
        (format!("q_{a}_note"), String::new()),
        (format!("q_{b}_price"), "129000.50".to_string()),
        (format!("q_{b}_note"), "最后报价".to_string()),
        (format!("q_{c}_price"), String::new()),
        (format!("q_{c}_note"), String::new()),
        ("final".to_string(), "1".to_string()),
    ];
    let r = web
        .post(app.url(&format!("/tenders/{id}/rounds")))
        .form(&good)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
    assert_eq!(state_of(&fx, id).await, "evaluated");
    let html = get(score.clone()).await;
    assert!(
        html.contains("id=\"final-quotes\"") && html.contains("129000.50"),
        "{html}"
    );
    assert!(
        !html.contains("id=\"round-form\""),
        "no round after the final one"
    );

    // The bureau's page, in English: the decisions, the round and the final quotes; the draft's origin form.
    let bureau = sign_in(app, "bureau").await;
    bureau
        .get(app.url("/lang/en?next=/dashboard"))
        .send()
        .await
        .unwrap();
    let page = |path: String| {
        let bureau = bureau.clone();
        async move {
            bureau
                .get(app.url(&path))
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap()
        }
    };
    let html = page(format!("/tenders/{id}")).await;
    assert!(html.contains("Competitive negotiation"), "{html}");
    assert!(html.contains("id=\"final-quotes\""), "{html}");
    assert!(html.contains("Declined (keeps its last)"), "{html}");
    let html = page(format!("/tenders/{id}/report")).await;
    assert!(html.contains("Final quote 129000.50"), "{html}");
    let html = page(format!("/tenders/{draft}")).await;
    assert!(html.contains("id=\"origin-form\""), "{html}");
}
crate::both_backends!(negotiation_pages_compliance_and_rounds_with_inline_errors);

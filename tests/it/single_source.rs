//! 单一来源 as the law writes it, end to end on both backends (政府采购法 Art 31; 实施条例 Art 38; 财政部令第74号
//! Art 38–42): below the open-tender threshold no 公示, the negotiation record (no panel) straight to the
//! award and the contract at the agreed price; at or above it the 公示 of 5 working days with objections that
//! hold the supplier's response until answered, an upheld one ending the procurement. Every refusal names
//! field and rule and leaves the database as it was; the objector stays private to the bureau.

use crate::helpers::rules_of;
use chrono::Duration;
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, csrf_of, problem, sign_in};
use crate::tenders::{Fx, bid, bidders, create_tender, publish, setup, state_of, t0, tender_body};
use crate::tenders_sealed::json_of;

/// A single source with `supplier` as the sole supplier: no criteria, no price weight, a lawful ground.
pub(crate) fn single_source_body(code: &str, budget: &str, supplier: i64) -> Value {
    let mut b = tender_body(code);
    b["method"] = json!("single_source");
    b["budget"] = json!(budget);
    b["invited"] = json!([supplier]);
    b["criteria"] = json!({"price_weight_pct": "0", "items": []});
    b["single_source_ground"] = json!("only_supplier");
    b["single_source_explanation"] =
        json!("该服务依托本组织独有的失智老人照护专利方法，只能由其提供。");
    b
}

/// Every row the single-source steps touch, with the audit chain and the outbox.
fn dump(app: &TestApp) -> String {
    use diesel::prelude::*;
    #[derive(diesel::QueryableByName, Debug)]
    struct N {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let mut c = app.conn();
    let mut counts = Vec::new();
    for t in [
        "single_source_notices",
        "single_source_objections",
        "single_source_records",
        "panel_members",
    ] {
        let q = diesel::sql_query(format!("SELECT COUNT(*) AS n FROM {t}"));
        let rows: Vec<N> = match &mut c {
            sanshe::db::DbConn::Sqlite(c) => q.load(c).unwrap(),
            sanshe::db::DbConn::Pg(c) => q.load(c).unwrap(),
        };
        counts.push((t, rows[0].n));
    }
    format!("{}\n{counts:?}", crate::page_posts::dump(app))
}

async fn post(app: &TestApp, tok: &str, path: &str, body: &Value) -> reqwest::Response {
    app.send_json("POST", path, Some(tok), body).await
}

fn record_body(staff: &[&str], price: &str) -> Value {
    json!({
        "negotiated_on": "2026-03-23",
        "place": "区民政局 3 楼会议室",
        "staff": staff,
        "cost_explanation": "人员经费占 60%，活动经费占 30%，管理费 10%。",
        "terms": "服务期 12 个月，按合同签订、中期评估、末期验收分三期付款。",
        "price": price,
    })
}

fn outbox_to(app: &TestApp, template: &str) -> Vec<String> {
    use diesel::prelude::*;
    use sanshe::db::schema::outbox as o;
    o::table
        .filter(o::template.eq(template))
        .order(o::id)
        .select(o::to_addr)
        .load(&mut app.conn())
        .unwrap()
}

fn org_email(app: &TestApp, org: i64) -> Option<String> {
    use diesel::prelude::*;
    use sanshe::db::schema::organisations as o;
    o::table
        .find(org)
        .select(o::contact_email)
        .first(&mut app.conn())
        .unwrap()
}

/// The sole supplier bids, the clock opens, the bureau writes the record at `agreed` (yuan), and the award,
/// result notice and contract follow at that price. Returns the contract JSON.
async fn record_award_contract(fx: &Fx, id: i64, seq: i64, agreed: &str, agreed_fen: i64) -> Value {
    let app = &fx.app;
    let v = json_of(
        post(
            app,
            &fx.b().await,
            &format!("/api/v1/tenders/{id}/single-source/record"),
            &record_body(&["张三", "李四"], agreed),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(v["record"]["price_fen"], agreed_fen, "{v}");
    assert_eq!(state_of(fx, id).await, "evaluated");
    // The ranking is the one response at the agreed price.
    let rep = json_of(
        app.get(&format!("/api/v1/tenders/{id}/report"), Some(&fx.b().await))
            .await,
        200,
    )
    .await;
    assert_eq!(rep["bids"][0]["rank"], 1, "{rep}");
    assert_eq!(rep["bids"][0]["total"], Value::Null, "not scored: {rep}");
    let r = post(
        app,
        &fx.b().await,
        &format!("/api/v1/tenders/{id}/award"),
        &json!({"bid_seq": seq}),
    )
    .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let r = post(
        app,
        &fx.b().await,
        &format!("/api/v1/tenders/{id}/result"),
        &json!({}),
    )
    .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    // The result notice (74号令 Art 42 with 财库〔2016〕198号): supplier, price, the negotiating staff, no
    // evaluators, no scores; the letter is a 成交通知书.
    let v = json_of(app.get(&format!("/api/v1/tenders/{id}"), None).await, 200).await;
    let res = &v["result"];
    assert_eq!(res["price_fen"], agreed_fen, "{v}");
    assert_eq!(res["negotiators"], json!(["张三", "李四"]), "{res}");
    assert_eq!(res["evaluators"], json!([]));
    assert_eq!(res["scores"], json!([]));
    assert_eq!(res["letter"]["title_zh"], "成交通知书");
    let ends = chrono::NaiveDateTime::parse_from_str(
        v["challenge_ends"].as_str().unwrap(),
        "%Y-%m-%dT%H:%M:%S%.f",
    )
    .unwrap()
    .and_utc();
    fx.clock.set(ends + Duration::minutes(1));
    assert_eq!(state_of(fx, id).await, "awarded");
    let today = sanshe::tenders::today(sanshe::clock::Clock::now(&fx.clock));
    let c = json_of(
        post(
            app,
            &fx.b().await,
            "/api/v1/contracts",
            &json!({"tender_id": id, "contract_no": format!("SS-HT-{id}"), "term_start": today.to_string()}),
        )
        .await,
        201,
    )
    .await;
    assert_eq!(c["money"]["amount_fen"], agreed_fen, "{c}");
    let lines: i64 = c["budget_lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["amount_fen"].as_i64().unwrap())
        .sum();
    assert_eq!(lines, agreed_fen, "the lines follow the agreed price: {c}");
    c
}

/// 实施条例 Art 38 (no 公示 below the threshold); 74号令 Art 42: a single source below the open-tender threshold
/// has no 公示, takes its response at once, has no panel (the panel endpoints refuse it), and its negotiation
/// record (at least 2 staff, a price within the response price and the budget) replaces the evaluation: the
/// award, result notice and contract carry the agreed price. Refused drafts (scored, no ground, two
/// suppliers) and refused records (1 staff, above the response, above the budget) name field and rule and
/// change nothing.
async fn art38_art42_below_threshold_no_notice_record_to_contract(backend: Backend) {
    let fx = setup(&backend).await;
    let app = &fx.app;
    let b = bidders(app, 2);

    // Drafts refused: scored, no ground, two suppliers.
    let before = dump(app);
    let mut bad = single_source_body("SS-2026-001", "200000", b[0].org);
    bad["criteria"] = tender_body("x")["criteria"].clone();
    bad["single_source_ground"] = Value::Null;
    bad["invited"] = json!([b[0].org, b[1].org]);
    let p = problem(
        post(app, &fx.b().await, "/api/v1/tenders", &bad).await,
        422,
        "validation_failed",
    )
    .await;
    let got = rules_of(&p);
    for want in [
        ("criteria.price_weight_pct", "single_source_unscored"),
        ("criteria.items", "single_source_unscored"),
        ("single_source_ground", "required"),
        ("invited", "exactly_one"),
    ] {
        assert!(
            got.contains(&(want.0.into(), want.1.into())),
            "{want:?} in {got:?}"
        );
    }
    assert!(p["errors"].to_string().contains("第四十二条"), "{p}");
    assert_eq!(dump(app), before, "a refused draft changed the database");

    let id = create_tender(&fx, &single_source_body("SS-2026-001", "200000", b[0].org)).await;
    publish(&fx, id).await;
    let v = json_of(
        app.get(&format!("/api/v1/tenders/{id}/single-source"), None)
            .await,
        200,
    )
    .await;
    assert_eq!(v["notice_needed"], false, "{v}");
    assert_eq!(v["notice_ends"], Value::Null);
    assert_eq!(v["waiting_for"], Value::Null);
    assert_eq!(v["supplier"]["id"], b[0].org);
    assert_eq!(v["ground"], "only_supplier");
    // No 公示, so no objections.
    let t1 = app.token(&b[1].user).await;
    problem(
        post(
            app,
            &t1,
            &format!("/api/v1/tenders/{id}/objections"),
            &json!({"reason": "不同意"}),
        )
        .await,
        409,
        "notice_closed",
    )
    .await;

    // The response is taken at once; another organisation is not invited.
    let r = bid(&fx, &b[0], id, "ss-below-1", 18_000_000).await;
    let seq = json_of(r, 201).await["seq"].as_i64().unwrap();
    let p = problem(
        bid(&fx, &b[1], id, "ss-below-2", 17_000_000).await,
        422,
        "validation_failed",
    )
    .await;
    assert!(
        rules_of(&p).contains(&("invited".into(), "not_invited".into())),
        "{p}"
    );

    fx.clock.set(t0() + Duration::days(21) + Duration::hours(2));
    assert_eq!(state_of(&fx, id).await, "opened");

    // No panel: forming one is refused.
    let before = dump(app);
    problem(
        post(
            app,
            &fx.b().await,
            &format!("/api/v1/tenders/{id}/panel"),
            &json!({"draw_experts": 3}),
        )
        .await,
        409,
        "no_panel",
    )
    .await;
    // The record's refusals, each with field and rule, nothing changed.
    let path = format!("/api/v1/tenders/{id}/single-source/record");
    for (body, want) in [
        (
            record_body(&["张三"], "175000"),
            vec![("staff", "min_staff")],
        ),
        (
            record_body(&["张三", "李四"], "180000.01"),
            vec![("price", "max_response_price")],
        ),
        (
            record_body(&["张三", "李四"], "200000.01"),
            vec![("price", "max_response_price"), ("price", "max_budget")],
        ),
    ] {
        let p = problem(
            post(app, &fx.b().await, &path, &body).await,
            422,
            "validation_failed",
        )
        .await;
        let want: Vec<(String, String)> = want
            .into_iter()
            .map(|(f, r)| (f.to_string(), r.to_string()))
            .collect();
        assert_eq!(rules_of(&p), want, "{p}");
        assert!(
            p["errors"][0]["message"]["zh-CN"].is_string()
                && p["errors"][0]["message"]["en"].is_string()
        );
    }
    assert_eq!(dump(app), before, "a refused record changed the database");
    assert_eq!(state_of(&fx, id).await, "opened");

    record_award_contract(&fx, id, seq, "175000", 17_500_000).await;
    // The supplier was told of the record.
    if let Some(e) = org_email(app, b[0].org) {
        assert!(outbox_to(app, "single_source_recorded").contains(&e));
    }
    // A second record is refused (the tender has moved on).
    problem(
        post(
            app,
            &fx.b().await,
            &path,
            &record_body(&["张三", "李四"], "170000"),
        )
        .await,
        409,
        "wrong_state",
    )
    .await;
    fx.app.stop().await;
}

crate::both_backends!(art38_art42_below_threshold_no_notice_record_to_contract);

/// 实施条例 Art 38; 74号令 Art 41: at or above the open-tender threshold a single source needs its 公示 of at
/// least 5 working days: a deadline before its end is refused at draft; during it the response is refused
/// (`notice_running`) and anyone signed in for an organisation may object; the objector is shown only to
/// the bureau and to itself; after it an unanswered objection still refuses the response
/// (`objection_unanswered`); answered (not upheld) the response is taken, and the record, award, result and
/// contract follow at the agreed price.
async fn art38_above_threshold_notice_objection_answered_then_contract(backend: Backend) {
    let fx = setup(&backend).await;
    let app = &fx.app;
    let b = bidders(app, 3);
    let (supplier, objector, other) = (&b[0], &b[1], &b[2]);

    // The deadline may not come before the 公示's end (Monday 2 March + 5 working days: 10 March 00:00).
    let before = dump(app);
    let mut early = single_source_body("SS-2026-100", "2500000", supplier.org);
    early["enquiry_deadline"] = json!(crate::tenders::bj(t0() + Duration::days(3)));
    early["bid_deadline"] = json!(crate::tenders::bj(t0() + Duration::days(6)));
    early["opening_at"] = json!(crate::tenders::bj(t0() + Duration::days(6)));
    let p = problem(
        post(app, &fx.b().await, "/api/v1/tenders", &early).await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(
        rules_of(&p),
        vec![("bid_deadline".into(), "after_notice".into())],
        "{p}"
    );
    assert_eq!(dump(app), before);
    // An open tender of that size is still refused anything but open or single source.
    let mut invited = tender_body("SS-2026-101");
    invited["budget"] = json!("2500000");
    invited["method"] = json!("consultation");
    let p = problem(
        post(app, &fx.b().await, "/api/v1/tenders", &invited).await,
        422,
        "validation_failed",
    )
    .await;
    assert!(
        rules_of(&p).contains(&("method".into(), "open_tender_required".into())),
        "{p}"
    );

    let id = create_tender(
        &fx,
        &single_source_body("SS-2026-100", "2500000", supplier.org),
    )
    .await;
    publish(&fx, id).await;
    let ss = format!("/api/v1/tenders/{id}/single-source");
    let v = json_of(app.get(&ss, None).await, 200).await;
    assert_eq!(v["notice_needed"], true, "{v}");
    assert_eq!(v["notice_ends"], "2026-03-09T16:00:00", "{v}");
    assert_eq!(v["waiting_for"], "notice_running");
    assert_eq!(v["objections_open"], true);

    // During the 公示 the response is refused, and the tender page says why in advance.
    let before = dump(app);
    let p = problem(
        bid(&fx, supplier, id, "ss-above-1", 240_000_000).await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(
        rules_of(&p),
        vec![("single_source".into(), "notice_running".into())],
        "{p}"
    );
    assert!(
        p["errors"][0]["message"]["zh-CN"]
            .as_str()
            .unwrap()
            .contains("第三十八条"),
        "{p}"
    );
    assert_eq!(dump(app), before);
    let web = sign_in(app, &supplier.user).await;
    let html = web
        .get(app.url(&format!("/tenders/{id}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("id=\"refusals\"") && html.contains("单一来源公示期"),
        "{html}"
    );
    assert!(
        html.contains("id=\"single-source\"") && html.contains("id=\"ss-notice-ends\""),
        "{html}"
    );

    // An objection with no reason is refused; one with a reason is lodged, from the page.
    let t_obj = app.token(&objector.user).await;
    let before = dump(app);
    let p = problem(
        post(
            app,
            &t_obj,
            &format!("/api/v1/tenders/{id}/objections"),
            &json!({"reason": " "}),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(rules_of(&p), vec![("reason".into(), "required".into())]);
    assert_eq!(dump(app), before);
    let obj_web = sign_in(app, &objector.user).await;
    let html = obj_web
        .get(app.url(&format!("/tenders/{id}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("id=\"objection-form\""), "{html}");
    let r = obj_web
        .post(app.url(&format!("/tenders/{id}/objections")))
        .form(&[
            ("csrf", csrf_of(&html).as_str()),
            ("reason", "本单位同样具备该服务能力，不属于唯一供应商。"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
    let n = json_of(app.get(&ss, Some(&fx.b().await)).await, 200).await["objections"][0]["n"]
        .as_i64()
        .unwrap();
    let objector_name = json_of(app.get(&ss, Some(&fx.b().await)).await, 200).await["objections"]
        [0]["objector"]
        .as_str()
        .unwrap()
        .to_string();

    // Who objected: the bureau and the objector see it; the public and other organisations do not.
    let seen = |v: &Value| v["objections"][0]["objector"].clone();
    assert_eq!(
        seen(&json_of(app.get(&ss, None).await, 200).await),
        Value::Null
    );
    let t_sup = app.token(&supplier.user).await;
    assert_eq!(
        seen(&json_of(app.get(&ss, Some(&t_sup)).await, 200).await),
        Value::Null
    );
    let t_other = app.token(&other.user).await;
    let v = json_of(app.get(&ss, Some(&t_other)).await, 200).await;
    assert_eq!(
        (seen(&v), v["objections"][0]["own"].clone()),
        (Value::Null, json!(false))
    );
    let v = json_of(app.get(&ss, Some(&t_obj)).await, 200).await;
    assert_eq!(
        (seen(&v), v["objections"][0]["own"].clone()),
        (json!(objector_name), json!(true))
    );
    let public_html = crate::helpers::client()
        .get(app.url(&format!("/tenders/{id}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        public_html.contains("供应商/单位") && !public_html.contains(&objector_name),
        "{public_html}"
    );
    let bureau_web = sign_in(app, "bureau").await;
    let html = bureau_web
        .get(app.url(&format!("/tenders/{id}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains(&objector_name) && html.contains("objection-answer-form"),
        "{html}"
    );
    // The public timeline says an objection was lodged, not by whom.
    let v = json_of(app.get(&format!("/api/v1/tenders/{id}"), None).await, 200).await;
    assert!(!v["timeline"].to_string().contains(&objector_name));
    assert!(v["timeline"].to_string().contains("异议"), "{v}");

    // After the 公示, the unanswered objection still holds the response; no new objection is taken.
    fx.clock.set(t0() + Duration::days(8));
    let before = dump(app);
    let p = problem(
        bid(&fx, supplier, id, "ss-above-2", 240_000_000).await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(
        rules_of(&p),
        vec![("single_source".into(), "objection_unanswered".into())],
        "{p}"
    );
    let t_obj = app.token(&objector.user).await;
    problem(
        post(
            app,
            &t_obj,
            &format!("/api/v1/tenders/{id}/objections"),
            &json!({"reason": "再次异议"}),
        )
        .await,
        409,
        "notice_closed",
    )
    .await;
    // An answer needs its text.
    let answer = format!("/api/v1/tenders/{id}/objections/{n}/answer");
    let p = problem(
        post(
            app,
            &fx.b().await,
            &answer,
            &json!({"answer": "", "upheld": false}),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(rules_of(&p), vec![("answer".into(), "required".into())]);
    // No such objection on this tender.
    problem(
        post(
            app,
            &fx.b().await,
            &format!("/api/v1/tenders/{id}/objections/{}/answer", n + 1000),
            &json!({"answer": "x", "upheld": false}),
        )
        .await,
        404,
        "not_found",
    )
    .await;
    assert_eq!(dump(app), before);

    let v = json_of(
        post(
            app,
            &fx.b().await,
            &answer,
            &json!({"answer": "经核实，该专利方法仅由该组织持有，异议不成立。", "upheld": false}),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(v["objections"][0]["upheld"], false, "{v}");
    assert_eq!(v["waiting_for"], Value::Null);
    if let Some(e) = org_email(app, objector.org) {
        assert!(outbox_to(app, "objection_answered").contains(&e));
    }
    problem(
        post(
            app,
            &fx.b().await,
            &answer,
            &json!({"answer": "改为成立", "upheld": true}),
        )
        .await,
        409,
        "objection_answered",
    )
    .await;

    // Now the response is taken.
    let r = bid(&fx, supplier, id, "ss-above-3", 240_000_000).await;
    let seq = json_of(r, 201).await["seq"].as_i64().unwrap();
    fx.clock.set(t0() + Duration::days(21) + Duration::hours(2));
    assert_eq!(state_of(&fx, id).await, "opened");
    // The page offers the record form to the bureau, no panel form.
    let bureau_web = sign_in(app, "bureau").await;
    let html = bureau_web
        .get(app.url(&format!("/tenders/{id}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("id=\"ss-record-form\"") && !html.contains("id=\"panel-form\""),
        "{html}"
    );
    // A record with one name, from the page: the errors at the form, nothing stored.
    let before = dump(app);
    let r = bureau_web
        .post(app.url(&format!("/tenders/{id}/single-source-record")))
        .form(&[
            ("csrf", csrf_of(&html).as_str()),
            ("negotiated_on", "2026-03-23"),
            ("place", "区民政局"),
            ("staff", "张三\n"),
            ("cost_explanation", "成本说明"),
            ("terms", "主要条款"),
            ("price", "2300000"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("2 名以上采购人员") && html.contains("id=\"ss-record-form\""),
        "{html}"
    );
    assert_eq!(dump(app), before);

    let c = record_award_contract(&fx, id, seq, "2300000", 230_000_000).await;
    assert_eq!(c["money"]["amount"], "2,300,000.00");
    fx.app.stop().await;
}

crate::both_backends!(art38_above_threshold_notice_objection_answered_then_contract);

/// 74号令 Art 41: an upheld objection means single source may not go on: the tender is cancelled with the
/// answer as its reason, the response stays refused, and the objector is told.
async fn art41_upheld_objection_cancels(backend: Backend) {
    let fx = setup(&backend).await;
    let app = &fx.app;
    let b = bidders(app, 2);
    let id = create_tender(&fx, &single_source_body("SS-2026-200", "3000000", b[0].org)).await;
    publish(&fx, id).await;
    let t_obj = app.token(&b[1].user).await;
    let v = json_of(
        post(
            app,
            &t_obj,
            &format!("/api/v1/tenders/{id}/objections"),
            &json!({"reason": "多家机构可提供该服务。"}),
        )
        .await,
        201,
    )
    .await;
    let n = v["objections"][0]["n"].as_i64().unwrap();
    assert_eq!(v["objections"][0]["own"], true);
    let v = json_of(
        post(
            app,
            &fx.b().await,
            &format!("/api/v1/tenders/{id}/objections/{n}/answer"),
            &json!({"answer": "经核实，另有两家机构具备能力，异议成立，改为公开招标。", "upheld": true}),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(v["objections"][0]["upheld"], true);
    assert_eq!(state_of(&fx, id).await, "cancelled");
    let t = json_of(app.get(&format!("/api/v1/tenders/{id}"), None).await, 200).await;
    assert!(t["end_reason"].as_str().unwrap().contains("异议"), "{t}");
    problem(
        bid(&fx, &b[0], id, "ss-upheld", 250_000_000).await,
        409,
        "bidding_closed",
    )
    .await;
    if let Some(e) = org_email(app, b[1].org) {
        assert!(outbox_to(app, "objection_answered").contains(&e));
    }
    fx.app.stop().await;
}

crate::both_backends!(art41_upheld_objection_cancels);

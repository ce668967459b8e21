//! Issue 14, the daily work: facts an organisation states count only once the bureau has verified them,
//! and each role's task queue holds what waits for it after a scripted day.

use std::collections::BTreeSet;

use chrono::{Duration, Utc};
use diesel::prelude::*;
use serde_json::{Value, json};

use crate::both_backends;
use crate::browser::Driver;
use crate::helpers::*;
use crate::tenders::{bid_body, bidders, opened_tender_fixture, tender_body_at};

/// The caller's queue as the API gives it: (kind, href) → the task.
async fn queue(app: &TestApp, token: &str) -> Vec<Value> {
    let r = app.get("/api/v1/tasks", Some(token)).await;
    assert_eq!(r.status(), 200);
    r.json::<Vec<Value>>().await.unwrap()
}

fn keys(q: &[Value]) -> BTreeSet<(String, String)> {
    q.iter()
        .map(|t| {
            (
                t["kind"].as_str().unwrap().to_string(),
                t["href"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn find<'a>(q: &'a [Value], kind: &str, href: &str) -> &'a Value {
    q.iter()
        .find(|t| t["kind"] == kind && t["href"] == href)
        .unwrap_or_else(|| panic!("no {kind} at {href} in {q:#?}"))
}

fn beijing_today() -> chrono::NaiveDate {
    sanshe::clock::beijing_date(Utc::now())
}

/// A tender published now, with these eligibility conditions.
async fn published_tender(app: &TestApp, code: &str, eligibility: Value) -> i64 {
    let bureau = app.token("bureau").await;
    let mut body = tender_body_at(code, Utc::now());
    body["eligibility"] = eligibility;
    let r = app
        .send_json("POST", "/api/v1/tenders", Some(&bureau), &body)
        .await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let id = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let r = app
        .send_json(
            "POST",
            &format!("/api/v1/tenders/{id}/publish"),
            Some(&bureau),
            &json!({}),
        )
        .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    id
}

fn verified_certified(app: &TestApp, org: i64) -> i64 {
    use sanshe::db::schema::social_workers as w;
    w::table
        .filter(w::organisation_id.eq(org))
        .filter(w::employment.ne("left"))
        .filter(w::certificate_level.ne("none"))
        .filter(w::verified_at.is_not_null())
        .count()
        .get_result(&mut app.conn())
        .unwrap()
}

/// The organisation's refusals on a tender's page ("" when it may bid).
async fn refusals(app: &TestApp, web: &reqwest::Client, tender: i64) -> String {
    let (status, html) = page_as(app, web, &format!("/tenders/{tender}")).await;
    assert_eq!(status, 200);
    match html.find("id=\"refusals\"") {
        Some(i) => html[i..i + html[i..].find("</ul>").unwrap()].to_string(),
        None => String::new(),
    }
}

/// Edit → pending → verified → counts: an organisation refused for too few certified social workers
/// registers one in the browser; the worker waits for the bureau and the refusal stands, with what to do;
/// its staff-count change waits as a change request and the old count stays; the bureau verifies the
/// worker in the browser and the refusal goes. A later change of the certificate waits again.
async fn issue14_eligibility_facts_count_once_verified(b: Backend) {
    use sanshe::db::schema::{change_requests as cr, organisations as o, social_workers as w};
    let app = TestApp::spawn_with(
        &b,
        Options {
            registry_demo: true,
            ..Default::default()
        },
    )
    .await;
    let bidder = bidders(&app, 1).remove(0);
    let have = verified_certified(&app, bidder.org);
    // One more certified social worker than the organisation has verified.
    let tender = published_tender(&app, "VF-2026-001", json!({ "min_certified": have + 1 })).await;
    let web = sign_in(&app, &bidder.user).await;
    let why = refusals(&app, &web, tender).await;
    assert!(why.contains("持证社工"), "refused for the count: {why}");
    assert!(why.contains("办法"), "with what to do: {why}");

    // The organisation registers a certified worker in the browser.
    let mut driver = Driver::start();
    let browser = driver.connect().await;
    browser
        .sign_in(&app, &bidder.user, "/registry/workers/new")
        .await;
    browser.type_into("#name", "核实测试社工").await;
    browser
        .script(
            "document.getElementById('certificate_level').value = 'social_worker';\
             document.getElementById('employment').value = 'full_time'; return true;",
        )
        .await;
    browser
        .type_into("#certificate_number", "ZJ-VF-000001")
        .await;
    browser.click("#worker-form button[type=submit]").await;
    let p = browser
        .wait_page("the new worker", |p| {
            p.path.starts_with("/registry/workers/") && p.path != "/registry/workers/new"
        })
        .await;
    assert!(p.text.contains("待核实"), "pending: {p:#?}");
    let worker: i64 = p.path.rsplit('/').next().unwrap().parse().unwrap();
    let verified: Option<chrono::NaiveDateTime> = w::table
        .find(worker)
        .select(w::verified_at)
        .first(&mut app.conn())
        .unwrap();
    assert_eq!(verified, None, "an organisation's entry waits");
    assert_eq!(verified_certified(&app, bidder.org), have);
    assert!(
        refusals(&app, &web, tender).await.contains("持证社工"),
        "the pending worker does not count"
    );

    // Its staff count: proposed, not changed.
    let staff_before: i32 = o::table
        .find(bidder.org)
        .select(o::staff_count)
        .first(&mut app.conn())
        .unwrap();
    let org_token = app.token(&bidder.user).await;
    let r = app
        .send_json(
            "PATCH",
            &format!("/api/v1/organisations/{}", bidder.org),
            Some(&org_token),
            &json!({"staff_count": staff_before + 7}),
        )
        .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let v: Value = r.json().await.unwrap();
    assert_eq!(
        v["change_request"]["changes"]["staff_count"],
        staff_before + 7
    );
    assert_eq!(
        v["organisation"]["organisation"]["staff_count"],
        staff_before
    );
    let pending: i64 = cr::table
        .filter(cr::organisation_id.eq(bidder.org))
        .filter(cr::status.eq("pending"))
        .count()
        .get_result(&mut app.conn())
        .unwrap();
    assert_eq!(pending, 1);
    let (_, mine) = page_as(&app, &web, "/my/org").await;
    let card = &mine[mine
        .find("id=\"pending-facts\"")
        .expect("the pending facts")..];
    let card = &card[..card.find("</div>").unwrap()];
    assert!(card.contains("核实测试社工"), "{card}");
    assert!(
        card.contains(&format!("{}", staff_before + 7)),
        "the proposed staff count: {card}"
    );

    // Neither the organisation nor finance is offered the verification.
    let (_, own) = page_as(&app, &web, &format!("/registry/workers/{worker}")).await;
    assert!(!own.contains("id=\"verify-form\""));

    // The bureau verifies the worker in the browser, answering the question.
    browser
        .cmd(reqwest::Method::DELETE, "/cookie", None)
        .await
        .unwrap();
    browser
        .sign_in(&app, "bureau", &format!("/registry/workers/{worker}"))
        .await;
    browser.click("#verify-form button[type=submit]").await;
    browser
        .cmd(reqwest::Method::POST, "/alert/accept", Some(json!({})))
        .await
        .expect("verifying asks first");
    let p = browser
        .wait_page("the verified worker", |p| p.text.contains("已核实。"))
        .await;
    assert!(!p.text.contains("待核实"), "{p:#?}");
    browser.close().await;
    assert_eq!(verified_certified(&app, bidder.org), have + 1);
    assert_eq!(
        refusals(&app, &web, tender).await,
        "",
        "the verified worker counts"
    );

    // A new certificate number is a new claim: it waits again, and the refusal is back.
    let r = app
        .get(
            &format!("/api/v1/social-workers/{worker}"),
            Some(&org_token),
        )
        .await;
    let mut w: Value = r.json().await.unwrap();
    assert_eq!(w["verified"], true);
    w["certificate_number"] = json!("ZJ-VF-000002");
    let r = app
        .send_json(
            "PATCH",
            &format!("/api/v1/social-workers/{worker}"),
            Some(&org_token),
            &w,
        )
        .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    assert_eq!(r.json::<Value>().await.unwrap()["verified"], false);
    assert!(refusals(&app, &web, tender).await.contains("持证社工"));

    // Refusals of the verification, each changing nothing.
    let before = app.snapshot();
    let path = format!("/api/v1/social-workers/{worker}/verify");
    let r = app.send_json("POST", &path, None, &json!({})).await;
    assert_eq!(r.status(), 401);
    let r = app
        .send_json("POST", &path, Some(&org_token), &json!({}))
        .await;
    assert_eq!(r.status(), 403, "the organisation cannot verify itself");
    let finance = app.token("finance").await;
    let r = app
        .send_json("POST", &path, Some(&finance), &json!({}))
        .await;
    assert_eq!(r.status(), 403);
    let bureau = app.token("bureau").await;
    let r = client()
        .post(app.url(&path))
        .bearer_auth(&bureau)
        .header("if-match", "\"not-the-version\"")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 412, "{}", r.text().await.unwrap());
    assert_eq!(app.snapshot(), before);
    let r = app
        .send_json("POST", &path, Some(&bureau), &json!({}))
        .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let r = app
        .send_json("POST", &path, Some(&bureau), &json!({}))
        .await;
    problem(r, 409, "already_verified").await;

    // The bureau approves the staff count: now it counts.
    let cr_id: i64 = cr::table
        .filter(cr::organisation_id.eq(bidder.org))
        .filter(cr::status.eq("pending"))
        .select(cr::id)
        .first(&mut app.conn())
        .unwrap();
    let r = app
        .send_json(
            "PATCH",
            &format!("/api/v1/change-requests/{cr_id}"),
            Some(&bureau),
            &json!({"decision": "approve"}),
        )
        .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let staff: i32 = o::table
        .find(bidder.org)
        .select(o::staff_count)
        .first(&mut app.conn())
        .unwrap();
    assert_eq!(staff, staff_before + 7);
    app.stop().await;
}

/// A scripted day, and each role's queue after it: a tender opened without a panel, a contract signed
/// (its first instalment to pay), a tender published with an enquiry, a worker registered and a staff
/// count proposed, a bid, the enquiry answered, a panel formed. Each queue holds exactly the new work on
/// top of what the demo registry had, with due dates from the rules; the dashboard shows the same rows,
/// the navigation their number, and a task past its due date is marked overdue.
async fn issue14_task_queues_after_a_scripted_day(b: Backend) {
    use sanshe::db::schema::{change_requests as cr, contract_instalments as ci};
    let app = TestApp::spawn_with(
        &b,
        Options {
            registry_demo: true,
            ..Default::default()
        },
    )
    .await;
    let bureau = app.token("bureau").await;
    let finance = app.token("finance").await;
    let evaluator = app.token("evaluator1").await;
    let bidder = bidders(&app, 1).remove(0);
    let org = app.token(&bidder.user).await;
    let base = [
        keys(&queue(&app, &bureau).await),
        keys(&queue(&app, &finance).await),
        keys(&queue(&app, &evaluator).await),
        keys(&queue(&app, &org).await),
    ];
    let today = beijing_today();
    let cal = sanshe::domain::calendar::BusinessCalendar::builtin();

    // The day.
    let opened = opened_tender_fixture(&app);
    let contract = crate::contracts::signed_contract_fixture(&app).await;
    let tender = published_tender(&app, "TQ-2026-001", json!({})).await;
    let r = app
        .send_json(
            "POST",
            &format!("/api/v1/tenders/{tender}/enquiries"),
            Some(&org),
            &json!({"question": "服务对象是否包括失能老人？"}),
        )
        .await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let enquiry = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let r = app
        .send_json(
            "POST",
            "/api/v1/social-workers",
            Some(&org),
            &json!({"organisation_id": bidder.org, "name": "待办测试社工", "certificate_level": "assistant",
                    "certificate_number": "ZJ-TQ-000001", "employment": "full_time"}),
        )
        .await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let worker = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let r = app
        .send_json(
            "PATCH",
            &format!("/api/v1/organisations/{}", bidder.org),
            Some(&org),
            &json!({"staff_count": 99}),
        )
        .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let r = app
        .send_json(
            "POST",
            &format!("/api/v1/tenders/{tender}/bids"),
            Some(&org),
            &bid_body("tq-bid", 15_000_000, bidder.worker),
        )
        .await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());

    let deadline = tender_deadline_date(&app, tender);
    let q = queue(&app, &bureau).await;
    let new: BTreeSet<_> = keys(&q).difference(&base[0]).cloned().collect();
    let tender_href = format!("/tenders/{tender}");
    let worker_href = format!("/registry/workers/{worker}");
    let changes_href = format!(
        "/registry/changes?status=pending&organisation_id={}",
        bidder.org
    );
    let opened_href = format!("/tenders/{opened}");
    assert_eq!(
        new,
        BTreeSet::from([
            ("enquiry".to_string(), tender_href.clone()),
            ("worker_check".to_string(), worker_href.clone()),
            ("change_request".to_string(), changes_href.clone()),
            ("panel".to_string(), opened_href.clone()),
        ]),
        "{q:#?}"
    );
    let e = find(&q, "enquiry", &tender_href);
    assert_eq!(e["due"], deadline.to_string(), "answered before bids close");
    let w = find(&q, "worker_check", &worker_href);
    // The review standard: 5 working days of the business calendar (SANSHE_REVIEW_WORKING_DAYS).
    let review_due = cal.add_working_days(today, 5).0;
    assert_eq!(w["due"], review_due.to_string());
    assert_eq!(w["since"], today.to_string());
    assert_eq!(find(&q, "panel", &opened_href)["due"], Value::Null);

    let q = queue(&app, &org).await;
    let new: BTreeSet<_> = keys(&q).difference(&base[3]).cloned().collect();
    assert_eq!(
        new,
        BTreeSet::from([("bid_deadline".to_string(), tender_href.clone())]),
        "{q:#?}"
    );
    assert_eq!(
        find(&q, "bid_deadline", &tender_href)["due"],
        deadline.to_string()
    );

    let q = queue(&app, &finance).await;
    let new: BTreeSet<_> = keys(&q).difference(&base[1]).cloned().collect();
    let contract_href = format!("/contracts/{contract}");
    assert_eq!(
        new,
        BTreeSet::from([("payment".to_string(), contract_href.clone())]),
        "the instalment due on signing: {q:#?}"
    );
    let accepted: chrono::NaiveDate = ci::table
        .filter(ci::contract_id.eq(contract))
        .filter(ci::accepted_on.is_not_null())
        .select(ci::accepted_on.assume_not_null())
        .first(&mut app.conn())
        .unwrap();
    assert_eq!(
        find(&q, "payment", &contract_href)["due"],
        (accepted + Duration::days(30)).to_string(),
        "SANSHE_PAYMENT_DUE_DAYS after acceptance"
    );

    // The bureau answers and forms the panel; the organisation sees the answer, the evaluator its seat.
    let r = app
        .send_json(
            "POST",
            &format!("/api/v1/enquiries/{enquiry}/answer"),
            Some(&bureau),
            &json!({"answer": "包括。"}),
        )
        .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let r = app
        .send_json(
            "POST",
            &format!("/api/v1/tenders/{opened}/panel"),
            Some(&bureau),
            &json!({"draw_experts": 5}),
        )
        .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let q = keys(&queue(&app, &bureau).await);
    assert!(!q.contains(&("enquiry".to_string(), tender_href.clone())));
    assert!(!q.contains(&("panel".to_string(), opened_href.clone())));
    let q = queue(&app, &org).await;
    assert_eq!(
        find(&q, "enquiry_answer", &tender_href)["due"],
        deadline.to_string()
    );
    let q = queue(&app, &evaluator).await;
    let new: BTreeSet<_> = keys(&q).difference(&base[2]).cloned().collect();
    assert_eq!(
        new,
        BTreeSet::from([("declaration".to_string(), opened_href.clone())])
    );
    let r = app
        .send_json(
            "POST",
            &format!("/api/v1/tenders/{opened}/declaration"),
            Some(&evaluator),
            &json!({"conflict": false}),
        )
        .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let q = keys(&queue(&app, &evaluator).await);
    assert!(q.contains(&("score_sheet".to_string(), opened_href.clone())));
    assert!(!q.contains(&("declaration".to_string(), opened_href.clone())));

    // Twenty days later the change request is overdue: marked on the dashboard, counted in the badge.
    diesel::update(cr::table.filter(cr::organisation_id.eq(bidder.org)))
        .set(cr::created_at.eq((Utc::now() - Duration::days(20)).naive_utc()))
        .execute(&mut app.conn())
        .unwrap();
    let q = queue(&app, &bureau).await;
    assert_eq!(
        find(&q, "change_request", &changes_href)["urgency"],
        "overdue"
    );
    let total: u64 = q.iter().map(|t| t["count"].as_u64().unwrap()).sum();
    let web = sign_in(&app, "bureau").await;
    let (status, html) = page_as(&app, &web, "/dashboard").await;
    assert_eq!(status, 200);
    let rows = html.matches("data-kind=\"").count();
    assert_eq!(rows, q.len(), "one row per task");
    let overdue_row = html
        .split("<tr ")
        .find(|r| r.contains("data-kind=\"change_request\""))
        .unwrap();
    assert!(overdue_row.contains("class=\"overdue\"") && overdue_row.contains("已逾期"));
    assert!(
        html.contains(&format!(">{total}</span>")) && html.contains("id=\"task-count\""),
        "the navigation's badge shows {total}"
    );
    // The badge is on every signed-in page, not only the dashboard.
    let (_, other) = page_as(&app, &web, "/tenders").await;
    assert!(other.contains("id=\"task-count\""));
    // As the officer sees it in the browser.
    let mut driver = Driver::start();
    let browser = driver.connect().await;
    browser.sign_in(&app, "bureau", "/dashboard").await;
    let seen = browser
        .script(
            "return [document.querySelectorAll('#tasks-table tbody tr').length,\
             document.getElementById('task-count').textContent,\
             document.querySelector('#tasks-table tr[data-kind=change_request]').className];",
        )
        .await;
    assert_eq!(seen, json!([q.len(), total.to_string(), "overdue"]));
    browser.close().await;
    app.stop().await;
}

/// The tender form asks for the criteria's names, not their keys: the keys the scores are stored under are
/// made for it (c1, c2, …), and the public tender page shows none.
async fn issue14_tender_form_makes_the_criteria_keys(b: Backend) {
    let app = TestApp::spawn_with(
        &b,
        Options {
            registry_demo: true,
            ..Default::default()
        },
    )
    .await;
    let web = sign_in(&app, "bureau").await;
    let (status, form) = page_as(&app, &web, "/tenders/new").await;
    assert_eq!(status, 200);
    assert!(
        form.contains("<input type=\"hidden\" name=\"crit_key_0\""),
        "the key is no field to type"
    );
    let now = Utc::now();
    let at = |d: i64| crate::tenders::bj(now + Duration::days(d));
    let fields: Vec<(&str, String)> = vec![
        ("csrf", csrf_of(&form)),
        ("code", "KEY-2026-001".into()),
        ("title", "评分项代码测试项目".into()),
        ("description", "为辖区老人提供上门服务。".into()),
        ("field", "elderly".into()),
        ("street_ids", "1".into()),
        ("budget", "200000".into()),
        ("method", "open".into()),
        ("term_months", "12".into()),
        ("price_weight_pct", "30".into()),
        ("tie_break", "draw".into()),
        ("crit_name_0", "服务方案".into()),
        ("crit_cat_0", "technical".into()),
        ("crit_max_0", "50".into()),
        ("crit_name_1", "团队配置".into()),
        ("crit_cat_1", "technical".into()),
        ("crit_max_1", "10".into()),
        ("crit_name_3", "类似业绩".into()),
        ("crit_cat_3", "commercial".into()),
        ("crit_max_3", "10".into()),
        ("visits", "3000".into()),
        ("people", "300".into()),
        ("sessions", "40".into()),
        ("satisfaction_pct", "90".into()),
        ("inst_milestone_0", "合同签订".into()),
        ("inst_pct_0", "30".into()),
        ("inst_milestone_1", "末期验收".into()),
        ("inst_pct_1", "70".into()),
        ("enquiry_deadline", at(15)),
        ("bid_deadline", at(21)),
        (
            "opening_at",
            crate::tenders::bj(now + Duration::days(21) + Duration::hours(1)),
        ),
    ];
    let r = web
        .post(app.url("/tenders/new"))
        .form(&fields)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
    let to = r.headers()["location"].to_str().unwrap().to_string();
    let id: i64 = to.trim_start_matches("/tenders/").parse().unwrap();
    let bureau = app.token("bureau").await;
    let t: Value = app
        .get(&format!("/api/v1/tenders/{id}"), Some(&bureau))
        .await
        .json()
        .await
        .unwrap();
    let items: Vec<(&str, &str)> = t["criteria"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["key"].as_str().unwrap(), i["name"].as_str().unwrap()))
        .collect();
    assert_eq!(
        items,
        [("c1", "服务方案"), ("c2", "团队配置"), ("c3", "类似业绩")]
    );
    let (_, page) = page_as(&app, &web, &to).await;
    let table = &page[page.find("id=\"tender-criteria\"").unwrap()..];
    let table = &table[..table.find("</table>").unwrap()];
    assert!(table.contains("服务方案") && !table.contains(">c1<") && !table.contains("c1"));
    app.stop().await;
}

/// Timeline notes are stored with a code and both languages, and each reader gets their own: on every tender
/// of the demo, the Chinese page shows each note's Chinese text and not its English one, the English page
/// the other way round.
async fn issue14_timeline_notes_in_the_readers_language(b: Backend) {
    use sanshe::db::schema::tenders as t;
    let app = TestApp::demo(&b).await;
    let ids: Vec<i64> = t::table
        .filter(t::state.ne("draft"))
        .select(t::id)
        .order(t::id)
        .load(&mut app.conn())
        .unwrap();
    let zh = client();
    let en = client();
    en.get(app.url("/lang/en?next=/")).send().await.unwrap();
    let escape = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
            .replace('\'', "&#x27;")
    };
    let (mut checked, mut reasons) = (0, 0);
    for id in ids {
        let v: Value = app
            .get(&format!("/api/v1/tenders/{id}"), None)
            .await
            .json()
            .await
            .unwrap();
        let (_, zh_page) = page_as(&app, &zh, &format!("/tenders/{id}")).await;
        let (_, en_page) = page_as(&app, &en, &format!("/tenders/{id}")).await;
        let section = |html: &str| -> String {
            let start = html.find("id=\"tender-timeline\"").unwrap();
            html[start..start + html[start..].find("</ol>").unwrap()].to_string()
        };
        let (zh_t, en_t) = (section(&zh_page), section(&en_page));
        for e in v["timeline"].as_array().unwrap() {
            let code = e["note_code"].as_str().unwrap_or("");
            if code.is_empty() {
                continue;
            }
            assert_ne!(code, "legacy", "the demo's notes are all new: {e}");
            let (nz, ne) = (
                escape(e["note_zh"].as_str().unwrap()),
                escape(e["note_en"].as_str().unwrap()),
            );
            assert!(zh_t.contains(&nz), "{id}: {nz}");
            assert!(en_t.contains(&ne), "{id}: {ne}");
            if nz != ne {
                assert!(
                    !zh_t.contains(&ne),
                    "{id}: English on the Chinese page: {ne}"
                );
                assert!(
                    !en_t.contains(&nz),
                    "{id}: Chinese on the English page: {nz}"
                );
                checked += 1;
            }
        }
        assert!(
            !zh_t.contains(" / ") || !en_t.contains(" / "),
            "{id}: a note in both languages"
        );
        // A failed tender's reason, kept as one text, is shown in the reader's half too.
        if let Some(reason) = v["end_reason"].as_str()
            && let Some((rz, re)) = reason.split_once(" / ")
        {
            assert!(
                zh_page.contains(&escape(rz)) && !zh_page.contains(&escape(re)),
                "{id}"
            );
            assert!(
                en_page.contains(&escape(re)) && !en_page.contains(&escape(rz)),
                "{id}"
            );
            reasons += 1;
        }
    }
    assert!(checked > 20, "{checked} notes checked");
    assert!(reasons > 0, "a failed tender in the demo");
    app.stop().await;
}

/// The demo's waiting work, each kind against the records: the bureau's winners to name (实施条例 Art 43),
/// result notices, challenges (法 Art 53), contracts to sign (法 Art 46) and incubation decisions; a bidder's
/// results while it may challenge them (法 Art 52); finance's payments and spending reviews.
async fn issue14_queues_hold_the_demos_waiting_work(b: Backend) {
    use sanshe::db::schema::{
        bids as bd, challenges as ch, contract_instalments as ci, contracts as ct,
        incubations as inc, payments as pm, spending_items as si, tenders as t, users as u,
    };
    let app = TestApp::demo(&b).await;
    let mut c = app.conn();
    let cal = sanshe::domain::calendar::BusinessCalendar::builtin();
    let day = |at: chrono::NaiveDateTime| sanshe::clock::beijing_date(at.and_utc());
    let bureau = queue(&app, &app.token("bureau").await).await;
    let of_kind = |q: &[Value], kind: &str| -> BTreeSet<String> {
        q.iter()
            .filter(|t| t["kind"] == kind)
            .map(|t| t["href"].as_str().unwrap().to_string())
            .collect()
    };

    let evaluated: Vec<(i64, Option<chrono::NaiveDateTime>)> = t::table
        .filter(t::state.eq("evaluated"))
        .select((t::id, t::evaluated_at))
        .load(&mut c)
        .unwrap();
    assert!(!evaluated.is_empty());
    for (id, at) in &evaluated {
        let due = sanshe::domain::tender::award_due(&cal, day(at.unwrap()));
        assert_eq!(
            find(&bureau, "winner", &format!("/tenders/{id}"))["due"],
            due.to_string()
        );
    }
    assert_eq!(of_kind(&bureau, "winner").len(), evaluated.len());
    let proposed: BTreeSet<String> = t::table
        .filter(t::state.eq("award_proposed"))
        .select(t::id)
        .load::<i64>(&mut c)
        .unwrap()
        .into_iter()
        .map(|id| format!("/tenders/{id}"))
        .collect();
    assert_eq!(of_kind(&bureau, "result_notice"), proposed);
    let open: Vec<(i64, chrono::NaiveDate)> = ch::table
        .filter(ch::status.eq("open"))
        .select((ch::tender_id, ch::answer_due))
        .load(&mut c)
        .unwrap();
    assert!(!open.is_empty());
    for (tid, due) in &open {
        let row = find(&bureau, "challenge", &format!("/tenders/{tid}"));
        assert!(row["due"].as_str().unwrap() <= due.to_string().as_str());
    }
    let drafts: Vec<(i64, chrono::NaiveDate)> = ct::table
        .filter(ct::state.eq("draft"))
        .select((ct::id, ct::awarded_on))
        .load(&mut c)
        .unwrap();
    for (id, awarded) in &drafts {
        assert_eq!(
            find(&bureau, "signing", &format!("/contracts/{id}"))["due"],
            (*awarded + Duration::days(30)).to_string()
        );
    }
    assert_eq!(of_kind(&bureau, "signing").len(), drafts.len());
    let applied: Vec<(i64, chrono::NaiveDate)> = inc::table
        .filter(inc::state.eq("applied"))
        .select((inc::id, inc::decision_due))
        .load(&mut c)
        .unwrap();
    for (id, due) in &applied {
        assert_eq!(
            find(
                &bureau,
                "incubation",
                &format!("/registry/incubations/{id}")
            )["due"],
            due.to_string()
        );
    }
    assert_eq!(of_kind(&bureau, "incubation").len(), applied.len());

    // A bidder on a tender whose result is out may challenge it until the window ends.
    let (tid, ends, user): (i64, Option<chrono::NaiveDateTime>, String) = bd::table
        .inner_join(t::table)
        .inner_join(u::table.on(u::id.eq(bd::submitted_by)))
        .filter(t::state.eq_any(["publicity", "challenge"]))
        .filter(bd::status.eq("active"))
        .select((t::id, t::challenge_ends, u::username))
        .first(&mut c)
        .unwrap();
    let org = queue(&app, &app.token(&user).await).await;
    assert_eq!(
        find(&org, "bid_result", &format!("/tenders/{tid}"))["due"],
        day(ends.unwrap()).to_string()
    );

    let finance = queue(&app, &app.token("finance").await).await;
    let unpaid: BTreeSet<String> = ci::table
        .inner_join(ct::table)
        .filter(ci::accepted_on.is_not_null())
        .filter(ct::state.ne("terminated"))
        .filter(diesel::dsl::not(diesel::dsl::exists(
            pm::table.filter(pm::instalment_id.eq(ci::id)),
        )))
        .select(ct::id)
        .load::<i64>(&mut c)
        .unwrap()
        .into_iter()
        .map(|id| format!("/contracts/{id}"))
        .collect();
    assert!(!unpaid.is_empty());
    assert_eq!(of_kind(&finance, "payment"), unpaid);
    let to_review: BTreeSet<String> = si::table
        .filter(si::state.eq_any(["submitted", "answered"]))
        .select(si::contract_id)
        .load::<i64>(&mut c)
        .unwrap()
        .into_iter()
        .map(|id| format!("/contracts/{id}/spending"))
        .collect();
    assert!(!to_review.is_empty());
    assert_eq!(of_kind(&finance, "spending_review"), to_review);
    app.stop().await;
}

fn tender_deadline_date(app: &TestApp, tender: i64) -> chrono::NaiveDate {
    use sanshe::db::schema::tenders as t;
    let at: chrono::NaiveDateTime = t::table
        .find(tender)
        .select(t::bid_deadline)
        .first(&mut app.conn())
        .unwrap();
    sanshe::clock::beijing_date(at.and_utc())
}

both_backends!(
    issue14_eligibility_facts_count_once_verified,
    issue14_task_queues_after_a_scripted_day,
    issue14_tender_form_makes_the_criteria_keys,
    issue14_timeline_notes_in_the_readers_language,
    issue14_queues_hold_the_demos_waiting_work
);

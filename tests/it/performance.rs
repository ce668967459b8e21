//! A contract's performance (issue 12; docs/CONTRACTS.md, Performance): progress towards the targets with
//! the anonymous heads counted as 人次 only, the bureau's satisfaction surveys (each refusal named, nothing
//! written), the weighted acceptance (DOMAIN.md, Performance: output 50, effect 30, satisfaction 10, budget
//! execution 10) worked out by hand, and who may read and write what. Both backends.
//!
//! Activities are inserted in plain SQL by [`activity`] until the activity API lands; switch that helper
//! to the API then.

use chrono::{Duration, NaiveDate, Utc};
use diesel::prelude::*;
use serde_json::{Value, json};

use crate::both_backends;
use crate::contracts::{accept, appropriation, awarded_tender, create, org_token, sign};
use crate::helpers::*;

/// The user of organisation `org` (its actor in the people services).
fn org_actor(app: &TestApp, org: i64) -> sanshe::audit::Actor {
    use sanshe::db::schema::users as u;
    let mut c = app.conn();
    let (id, name): (i64, String) = u::table
        .filter(u::org_id.eq(org))
        .order(u::id)
        .select((u::id, u::username))
        .first(&mut c)
        .unwrap();
    sanshe::audit::Actor {
        id: Some(id),
        name,
        request_id: None,
    }
}

fn people_ctx(app: &TestApp) -> sanshe::people::Ctx {
    sanshe::people::Ctx::from_config(&config(&app.db, &Options::default()))
}

/// Register a person of organisation `org` by pseudonym through the people service: (beneficiary, person).
fn beneficiary(app: &TestApp, org: i64, pseudonym: &str) -> (i64, i64) {
    use sanshe::db::schema::{beneficiaries as b, communities as cm};
    let mut c = app.conn();
    let community: i64 = cm::table.select(cm::id).first(&mut c).unwrap();
    let v = sanshe::people::beneficiaries::register(
        &mut c,
        &people_ctx(app),
        &org_actor(app, org),
        Utc::now(),
        org,
        &sanshe::people::beneficiaries::NewBeneficiary {
            pseudonym: Some(pseudonym.into()),
            group: Some("elderly".into()),
            community_id: community,
            ..Default::default()
        },
    )
    .unwrap();
    let person: i64 = b::table
        .find(v.id)
        .select(b::person_id)
        .first(&mut c)
        .unwrap();
    (v.id, person)
}

/// One group session of `contract` on `held_on` with the registered `who` (from [`beneficiary`]) and
/// `anonymous` heads, recorded through the activity service (on a clock at `held_on` when that is ahead).
fn activity(
    app: &TestApp,
    contract: i64,
    org: i64,
    held_on: NaiveDate,
    who: &[(i64, i64)],
    anonymous: i32,
) {
    use sanshe::db::schema::contracts as ct;
    let mut c = app.conn();
    let tender: i64 = ct::table
        .find(contract)
        .select(ct::tender_id)
        .first(&mut c)
        .unwrap();
    let community = *sanshe::people::activities::area(&mut c, tender)
        .unwrap()
        .keys()
        .min()
        .unwrap();
    let noon = held_on.and_hms_opt(4, 0, 0).unwrap().and_utc();
    sanshe::people::activities::record(
        &mut c,
        &people_ctx(app),
        &org_actor(app, org),
        noon.max(Utc::now()),
        org,
        contract,
        &sanshe::people::activities::NewActivity {
            held_on: held_on.to_string(),
            kind: "group".into(),
            community_id: community,
            minutes: 90,
            title: "健康讲座".into(),
            participants: who.iter().map(|(b, _)| *b).collect(),
            anonymous,
            volunteers: 2,
            volunteer_hours: Some("3".into()),
            ..Default::default()
        },
    )
    .unwrap();
}

/// Spending of `contract` in `state`, in plain SQL (the spending API is not what these tests are about).
fn spending(
    app: &TestApp,
    contract: i64,
    org_user: i64,
    spent_on: NaiveDate,
    fen: i64,
    state: &str,
) {
    use sanshe::db::schema::spending_items as si;
    diesel::insert_into(si::table)
        .values((
            si::contract_id.eq(contract),
            si::line.eq("activities"),
            si::spent_on.eq(spent_on),
            si::amount_fen.eq(fen),
            si::invoice_no.eq(format!("FP-{state}-{fen}")),
            si::invoice_key.eq(format!("fp-{state}-{fen}")),
            si::payee.eq("昆明某商贸公司"),
            si::description.eq("活动物资"),
            si::state.eq(state),
            si::created_by.eq(org_user),
            si::created_at.eq(Utc::now().naive_utc()),
        ))
        .execute(&mut app.conn())
        .unwrap();
}

fn today() -> NaiveDate {
    sanshe::clock::beijing_date(Utc::now())
}

/// The shared snapshot with the surveys and instalments: equal means nothing was written.
fn state(app: &TestApp) -> String {
    use sanshe::db::schema::{contract_instalments as ci, satisfaction_surveys as ss};
    let mut c = app.conn();
    let surveys: Vec<(i64, i64, NaiveDate, i32, i32, i32, i32, i32)> = ss::table
        .order(ss::id)
        .select((
            ss::id,
            ss::contract_id,
            ss::surveyed_on,
            ss::n1,
            ss::n2,
            ss::n3,
            ss::n4,
            ss::n5,
        ))
        .load(&mut c)
        .unwrap();
    let inst: Vec<(i64, Option<String>, Option<String>, Option<String>)> = ci::table
        .order(ci::id)
        .select((ci::id, ci::score, ci::grade, ci::performance))
        .load(&mut c)
        .unwrap();
    format!("{}\n{surveys:?}\n{inst:?}", snapshot(&mut c))
}

struct Fx {
    app: TestApp,
    id: i64,
    org: i64,
}

/// A signed contract of ¥100,000 whose 200-day term is half gone today (days 1–100 of 200), with the
/// targets 40 人次, 20 人数, 8 sessions and 90 % satisfied: the dates and targets are set in the database.
async fn setup(b: &Backend) -> Fx {
    let app = TestApp::spawn_with(
        b,
        Options {
            registry_demo: true,
            ..Default::default()
        },
    )
    .await;
    let appr = appropriation(&app, "PF-1", "500000").await;
    let (tender, org) = awarded_tender(&app, "PF-1", Some(appr));
    let id = create(&app, tender, "PF-HT-1").await["id"]
        .as_i64()
        .unwrap();
    let r = sign(&app, id, None).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    {
        use sanshe::db::schema::contracts as ct;
        let t = today();
        diesel::update(ct::table.find(id))
            .set((
                ct::term_start.eq(t - Duration::days(99)),
                ct::term_end.eq(t + Duration::days(100)),
                ct::signed_on.eq(t - Duration::days(99)),
                ct::targets
                    .eq(r#"{"visits": 40, "people": 20, "sessions": 8, "satisfaction_pct": "90"}"#),
            ))
            .execute(&mut app.conn())
            .unwrap();
    }
    Fx { app, id, org }
}

async fn get(app: &TestApp, path: &str, token: Option<&str>) -> reqwest::Response {
    app.get(path, token).await
}

async fn survey(app: &TestApp, token: &str, id: i64, body: &Value) -> reqwest::Response {
    app.send_json(
        "POST",
        &format!("/api/v1/contracts/{id}/surveys"),
        Some(token),
        body,
    )
    .await
}

/// Progress: 人次 = registered participations plus anonymous heads, 人数 = distinct registered people,
/// sessions = activities held; shares attained and the linear projection to the end of the term; the
/// tender's minimum beside each target; the anonymous heads labelled on the page.
async fn progress_counts_visits_people_and_sessions(b: Backend) {
    let fx = setup(&b).await;
    let (app, id, org) = (&fx.app, fx.id, fx.org);
    let p: Vec<(i64, i64)> = (1..=4)
        .map(|i| beneficiary(app, org, &format!("B-{i}")))
        .collect();
    let on = today() - Duration::days(10);
    activity(app, id, org, on, &[p[0], p[1], p[2]], 10);
    activity(app, id, org, on, &[p[0], p[3]], 0);
    activity(app, id, org, on, &[p[1]], 0);
    // After today: not counted yet.
    activity(app, id, org, today() + Duration::days(1), &[p[0]], 5);

    let bureau = app.token("bureau").await;
    let r = get(
        app,
        &format!("/api/v1/contracts/{id}/performance"),
        Some(&bureau),
    )
    .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let v: Value = r.json().await.unwrap();
    let row = |k: &str| {
        v["progress"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["target"] == k)
            .unwrap()
            .clone()
    };
    // 6 registered + 10 anonymous = 16 人次 of 40: 40 %; day 100 of 200: on pace for 32.
    let visits = row("visits");
    assert_eq!(visits["progress"]["achieved"], 16);
    assert_eq!(visits["progress"]["target"], 40);
    assert_eq!(visits["progress"]["attained_pct"], "40");
    assert_eq!(visits["progress"]["projected"], 32);
    // The tender's minimum (tests/it/tenders.rs: 3000 人次, 300 人数, 40 sessions, 90 %).
    assert_eq!(visits["minimum"], 3000);
    // Four distinct people of 20; three sessions of 8.
    assert_eq!(row("people")["progress"]["achieved"], 4);
    assert_eq!(row("people")["progress"]["attained_pct"], "20");
    assert_eq!(row("sessions")["progress"]["achieved"], 3);
    assert_eq!(row("sessions")["progress"]["projected"], 6);
    assert_eq!(v["anonymous_visits"], 10);
    assert_eq!(v["volunteer_minutes"], 540);
    assert_eq!(v["elapsed_pct"], "50");
    assert_eq!(v["minimum"]["people"], 300);
    assert_eq!(v["targets"]["visits"], 40);
    assert_eq!(v["satisfaction"]["target_pct"], "90");
    assert_eq!(v["satisfaction"]["summary"]["responses"], 0);
    // The next milestone (the mid-term, no. 2) previewed at today.
    assert_eq!(v["preview"]["no"], 2);
    assert_eq!(v["preview"]["evaluation"]["components"]["output"], "65");
    assert_eq!(v["preview"]["evaluation"]["score"], Value::Null);

    // The contract page: a bar per target with its figures, the anonymous heads as 人次 only, the
    // preview in the acceptance form with the no-responses warning.
    let html = sign_in(app, "bureau")
        .await
        .get(app.url(&format!("/contracts/{id}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains(r#"id="progress-visits""#), "{html}");
    assert!(html.contains("16 / 40 · 40%"), "{html}");
    assert!(html.contains("含匿名 10 人次"), "{html}");
    assert!(html.contains(r#"id="accept-preview-2""#), "{html}");
    assert!(html.contains(r#"id="no-responses-2""#), "{html}");
    assert!(html.contains(r#"name="effect_score""#), "{html}");
    assert!(html.contains(r#"id="survey-form""#), "{html}");
    // The organisation sees its own progress; finance too; neither gets the survey form.
    let own = sign_in(app, &org_user(app, org))
        .await
        .get(app.url(&format!("/contracts/{id}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(own.contains("含匿名 10 人次"));
    assert!(!own.contains(r#"id="survey-form""#));
}

fn org_user(app: &TestApp, org: i64) -> String {
    use sanshe::db::schema::users as u;
    u::table
        .filter(u::org_id.eq(org))
        .select(u::username)
        .first(&mut app.conn())
        .unwrap()
}

/// Surveys: the bureau records them (answers as a list or as n1…n5); every refusal names its field and
/// rule and writes nothing; other roles 403; a draft or closed contract 409.
async fn survey_refusals_write_nothing(b: Backend) {
    let fx = setup(&b).await;
    let (app, id) = (&fx.app, fx.id);
    let bureau = app.token("bureau").await;
    let t = today();
    let before = state(app);
    for (body, want) in [
        (
            json!({"surveyed_on": (t + Duration::days(1)).to_string(), "answers": [0, 0, 0, 1, 1]}),
            vec![("surveyed_on", "not_future")],
        ),
        (
            json!({"surveyed_on": (t - Duration::days(100)).to_string(), "answers": [0, 0, 0, 1, 1]}),
            vec![("surveyed_on", "after_signing")],
        ),
        (
            json!({"surveyed_on": t.to_string(), "answers": [0, 0, 0, 0, 0]}),
            vec![("answers", "some_response")],
        ),
        (
            json!({"surveyed_on": t.to_string(), "n1": 0, "n2": 0}),
            vec![("n1", "some_response")],
        ),
        (
            json!({"surveyed_on": t.to_string(), "answers": [1, -2, 0, 3, 4]}),
            vec![("answers[1]", "non_negative")],
        ),
        (
            json!({"surveyed_on": t.to_string(), "n4": -1, "n5": 3}),
            vec![("n4", "non_negative")],
        ),
        (
            json!({"surveyed_on": t.to_string(), "answers": [1, 2, 3]}),
            vec![("answers", "five_counts")],
        ),
        (
            json!({"surveyed_on": t.to_string(), "answers": [0, 0, 0, 1, 1], "n5": 3}),
            vec![("answers", "one_form")],
        ),
        (
            json!({"surveyed_on": "", "answers": [0, 0, 0, 0, 0]}),
            vec![("surveyed_on", "required"), ("answers", "some_response")],
        ),
    ] {
        let r = survey(app, &bureau, id, &body).await;
        let p = problem(r, 422, "validation_failed").await;
        let got = rules_of(&p);
        let want: Vec<(String, String)> = want
            .iter()
            .map(|(f, r)| (f.to_string(), r.to_string()))
            .collect();
        assert_eq!(got, want, "{body}");
        assert!(state(app) == before, "{body} wrote something");
    }
    // Other roles: 403, the provider above all.
    for user in ["finance", "admin", "evaluator1", &org_user(app, fx.org)] {
        let tok = app.token(user).await;
        let r = survey(
            app,
            &tok,
            id,
            &json!({"surveyed_on": t.to_string(), "answers": [0, 0, 0, 1, 1]}),
        )
        .await;
        assert_eq!(r.status(), 403, "{user}");
    }
    assert!(state(app) == before, "a refusal wrote something");
    // A draft: 409 contract_state.
    let (tender2, _) = awarded_tender(app, "PF-2", None);
    let draft = create(app, tender2, "PF-HT-2").await["id"]
        .as_i64()
        .unwrap();
    let before = state(app);
    let r = survey(
        app,
        &bureau,
        draft,
        &json!({"surveyed_on": t.to_string(), "answers": [0, 0, 0, 1, 1]}),
    )
    .await;
    problem(r, 409, "contract_state").await;
    assert!(state(app) == before, "a refusal wrote something");
    // No such contract: 404.
    let r = survey(
        app,
        &bureau,
        9999,
        &json!({"surveyed_on": t.to_string(), "answers": [0, 0, 0, 1, 1]}),
    )
    .await;
    assert_eq!(r.status(), 404);
    assert!(state(app) == before, "a refusal wrote something");

    // Recorded: as a list and as fields; the list sums them, newest first.
    let r = survey(
        app,
        &bureau,
        id,
        &json!({"surveyed_on": (t - Duration::days(5)).to_string(), "answers": [0, 1, 1, 4, 4], "note": "入户问卷"}),
    )
    .await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let s: Value = r.json().await.unwrap();
    assert_eq!(s["satisfaction"]["satisfied_pct"], "80");
    let r = survey(
        app,
        &bureau,
        id,
        &json!({"surveyed_on": t.to_string(), "n3": 1, "n5": 9}),
    )
    .await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let l: Value = get(
        app,
        &format!("/api/v1/contracts/{id}/surveys"),
        Some(&bureau),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(l["items"].as_array().unwrap().len(), 2);
    assert_eq!(l["items"][0]["surveyed_on"], t.to_string());
    assert_eq!(l["summary"]["answers"], json!([0, 1, 2, 4, 13]));
    assert_eq!(l["summary"]["responses"], 20);
    assert_eq!(l["summary"]["satisfied_pct"], "85");

    // The page form: the bureau records a survey; a bad one shows the errors at the form (422).
    let client = sign_in(app, "bureau").await;
    let html = client
        .get(app.url(&format!("/contracts/{id}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = csrf_of(&html);
    let before = state(app);
    let r = client
        .post(app.url(&format!("/contracts/{id}/surveys")))
        .form(&[
            ("csrf", csrf.as_str()),
            ("surveyed_on", &t.to_string()),
            ("n1", "0"),
            ("n2", "x"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    assert!(state(app) == before, "a refusal wrote something");
    let r = client
        .post(app.url(&format!("/contracts/{id}/surveys")))
        .form(&[
            ("csrf", csrf.as_str()),
            ("surveyed_on", &t.to_string()),
            ("n4", "3"),
            ("n5", "2"),
            ("note", "社区活动现场"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let html = client
        .get(app.url(&format!("/contracts/{id}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("社区活动现场"), "{html}");
    assert!(html.contains(r#"id="survey-summary""#), "{html}");
}

/// The acceptance's grade, worked out by hand (DOMAIN.md, Performance: output 50, effect 30,
/// satisfaction 10, budget execution 10). Day 100 of the 200-day term: half of each target is expected.
///
/// - output: 16 of 20 人次 expected (80 %), 4 of 10 人数 (40 %), 3 of 4 sessions (75 %): mean 65.0;
/// - effect: 85 (the evaluator's);
/// - satisfaction: 8 of 10 satisfied = 80 % against 90 %: 88.9;
/// - execution: ¥30,000 reported (a rejected ¥10,000 and spending after the date do not count) of the
///   ¥50,000 half the amount: 60.0;
/// - score: 65 × 0.5 + 85 × 0.3 + 88.9 × 0.1 + 60 × 0.1 = 32.5 + 25.5 + 8.89 + 6 = 72.89 → 72.9, 中.
///
/// The final milestone then expects the whole targets: output (40 % + 20 % + 37.5 %) ÷ 3 = 32.5,
/// execution 30 %: 16.25 + 27 (effect 90) + 8.89 + 3 = 55.14 → 55.1, 差.
async fn acceptance_grade_domain_performance_weights_by_hand(b: Backend) {
    let fx = setup(&b).await;
    let (app, id, org) = (&fx.app, fx.id, fx.org);
    let p: Vec<(i64, i64)> = (1..=4)
        .map(|i| beneficiary(app, org, &format!("B-{i}")))
        .collect();
    let on = today() - Duration::days(10);
    activity(app, id, org, on, &[p[0], p[1], p[2]], 10);
    activity(app, id, org, on, &[p[0], p[3]], 0);
    activity(app, id, org, on, &[p[1]], 0);
    let org_uid: i64 = {
        use sanshe::db::schema::users as u;
        u::table
            .filter(u::org_id.eq(org))
            .select(u::id)
            .first(&mut app.conn())
            .unwrap()
    };
    spending(app, id, org_uid, on, 2_000_000, "accepted");
    spending(app, id, org_uid, on, 1_000_000, "submitted");
    spending(app, id, org_uid, on, 1_000_000, "rejected");
    spending(
        app,
        id,
        org_uid,
        today() + Duration::days(1),
        4_000_000,
        "submitted",
    );
    let bureau = app.token("bureau").await;
    let r = survey(
        app,
        &bureau,
        id,
        &json!({"surveyed_on": on.to_string(), "answers": [0, 1, 1, 4, 4]}),
    )
    .await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());

    // A bad effect score: 422 on effect_score, nothing written.
    let before = state(app);
    let r = accept(app, id, 2, "85.55").await;
    let p422 = problem(r, 422, "validation_failed").await;
    assert_eq!(
        rules_of(&p422),
        vec![("effect_score".to_string(), "range".to_string())]
    );
    assert!(state(app) == before, "a refusal wrote something");

    let r = accept(app, id, 2, "85").await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let v: Value = r.json().await.unwrap();
    let i = &v["instalments"][1];
    assert_eq!(i["score"], "72.9");
    assert_eq!(i["grade"], "中");
    let e = &i["performance"];
    assert_eq!(e["final_milestone"], false);
    assert_eq!(e["elapsed_pct"], "50");
    assert_eq!(e["components"]["output"], "65");
    assert_eq!(e["components"]["effect"], "85");
    assert_eq!(e["components"]["satisfaction"], "88.9");
    assert_eq!(e["components"]["execution"], "60");
    assert_eq!(
        e["weights"],
        json!({"output": 50, "effect": 30, "satisfaction": 10, "execution": 10})
    );
    assert_eq!(e["attainment"][0]["target"], "visits");
    assert_eq!(e["attainment"][0]["expected"], "20");
    assert_eq!(e["attainment"][0]["achieved"], 16);
    assert_eq!(e["attainment"][0]["component_pct"], "80");
    assert_eq!(e["attainment"][1]["component_pct"], "40");
    assert_eq!(e["attainment"][2]["component_pct"], "75");
    assert_eq!(e["execution"]["expected_fen"], 5_000_000);
    assert_eq!(e["execution"]["spent_fen"], 3_000_000);
    // Kept: the performance view lists it.
    let pv: Value = get(
        app,
        &format!("/api/v1/contracts/{id}/performance"),
        Some(&bureau),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(pv["milestones"][0]["no"], 2);
    assert_eq!(pv["milestones"][0]["performance"], *e);
    assert_eq!(pv["preview"]["no"], 3);
    assert_eq!(pv["preview"]["evaluation"]["final_milestone"], true);

    let r = accept(app, id, 3, "90").await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let v: Value = r.json().await.unwrap();
    let i = &v["instalments"][2];
    assert_eq!(i["performance"]["components"]["output"], "32.5");
    assert_eq!(i["performance"]["components"]["execution"], "30");
    assert_eq!(i["score"], "55.1");
    assert_eq!(i["grade"], "差");
    // The page shows each recorded evaluation.
    let html = sign_in(app, "bureau")
        .await
        .get(app.url(&format!("/contracts/{id}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains(r#"id="evaluation-2""#), "{html}");
    assert!(html.contains("72.9"), "{html}");
}

/// Readers of the performance and the surveys: staff every contract, the organisation its own; another
/// organisation and an evaluator 404 (as the rest of the contract API); no, forged or expired token 401.
async fn who_reads_performance(b: Backend) {
    let fx = setup(&b).await;
    let (app, id) = (&fx.app, fx.id);
    let other_org: String = {
        use sanshe::db::schema::users as u;
        u::table
            .filter(u::role.eq("org"))
            .filter(u::org_id.ne(fx.org))
            .select(u::username)
            .first(&mut app.conn())
            .unwrap()
    };
    for path in [
        format!("/api/v1/contracts/{id}/performance"),
        format!("/api/v1/contracts/{id}/surveys"),
    ] {
        for user in ["bureau", "finance", "admin"] {
            let r = get(app, &path, Some(&app.token(user).await)).await;
            assert_eq!(r.status(), 200, "{path} {user}");
        }
        let r = get(app, &path, Some(&org_token(app, fx.org).await)).await;
        assert_eq!(r.status(), 200, "{path} own organisation");
        for user in [other_org.as_str(), "evaluator1"] {
            let r = get(app, &path, Some(&app.token(user).await)).await;
            assert_eq!(r.status(), 404, "{path} {user}");
        }
        assert_eq!(get(app, &path, None).await.status(), 401, "{path}");
        use crate::route_table::{OTHER_SECRET, claims, sign as jwt};
        let bureau_id: i64 = {
            use sanshe::db::schema::users as u;
            u::table
                .filter(u::username.eq("bureau"))
                .select(u::id)
                .first(&mut app.conn())
                .unwrap()
        };
        let valid = claims(bureau_id, "bureau", 0);
        let now = Utc::now().timestamp();
        let expired = sanshe::auth::Claims {
            iat: now - 7200,
            exp: now - 3600,
            ..valid.clone()
        };
        let alg = jsonwebtoken::Algorithm::HS256;
        for tok in [
            jwt(alg, OTHER_SECRET, &valid),
            jwt(alg, JWT_SECRET, &expired),
        ] {
            assert_eq!(get(app, &path, Some(&tok)).await.status(), 401, "{path}");
        }
    }
    // The contract itself stays readable by the public as a notice, without any of this.
    let pubv: Value = get(app, &format!("/api/v1/contracts/{id}"), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(pubv["targets"], Value::Null);
}

both_backends!(
    progress_counts_visits_people_and_sessions,
    survey_refusals_write_nothing,
    acceptance_grade_domain_performance_weights_by_hand,
    who_reads_performance
);

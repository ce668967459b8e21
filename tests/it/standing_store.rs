//! The stored standing that lists filter and page on: after any read, every organisation's stored status is
//! what `domain::standing::decide` gives for today; a change of its inputs re-decides it in its own
//! transaction; a move of the calendar re-decides every row before the next list answers.

use chrono::{Duration, NaiveDate, TimeZone, Utc};
use diesel::prelude::*;
use sanshe::db::schema::organisations as o;
use sanshe::domain::standing::{self, Rules};
use serde_json::{Value, json};

use crate::both_backends;
use crate::helpers::*;

/// (id, stored status, stored basis) of every organisation.
fn stored(app: &TestApp) -> Vec<(i64, String, String)> {
    o::table
        .order(o::id)
        .select((o::id, o::standing, o::standing_basis))
        .load(&mut app.conn())
        .unwrap()
}

/// Every stored standing equals the decision for `today`, and carries today's basis.
fn assert_stored_is_decided(app: &TestApp, today: NaiveDate) {
    let rows = stored(app);
    assert_eq!(rows.len(), 60, "the demo registry has 60 organisations");
    let mut c = app.conn();
    for (id, status, basis) in rows {
        let decided = sanshe::registry::orgs::standing_of(&mut c, id, today, Rules::default())
            .unwrap()
            .status;
        assert_eq!(status, decided.as_str(), "organisation {id} on {today}");
        assert_eq!(basis, standing::basis(today, Rules::default()), "{id}");
    }
}

fn count(app: &TestApp, status: &str) -> i64 {
    o::table
        .filter(o::standing.eq(status))
        .count()
        .get_result(&mut app.conn())
        .unwrap()
}

async fn list(app: &TestApp, token: &str, query: &str) -> Value {
    let r = app
        .get(&format!("/api/v1/organisations?{query}"), Some(token))
        .await;
    assert_eq!(r.status(), 200, "{query}");
    r.json().await.unwrap()
}

async fn stored_standing_follows_its_inputs_and_the_calendar(b: Backend) {
    // 2026-03-02 10:00 in Beijing.
    let clock = sanshe::clock::ManualClock::new(Utc.with_ymd_and_hms(2026, 3, 2, 2, 0, 0).unwrap());
    let app = TestApp::spawn_with(
        &b,
        Options {
            registry_demo: true,
            clock: Some(clock.clone()),
            ..Default::default()
        },
    )
    .await;
    let today = NaiveDate::from_ymd_opt(2026, 3, 2).unwrap();
    let bureau = app.token("bureau").await;

    // The first list decides what seeding left undecided; from then on stored = decided.
    let all = list(&app, &bureau, "per_page=200").await;
    assert_eq!(all["total"], 60);
    assert_stored_is_decided(&app, today);
    // The demo registry has 7 barred organisations (dishonesty, defaulters, debarment, no credit code).
    assert_eq!(count(&app, "barred"), 7);

    // The status filter is the stored one, counted and paged in the database.
    let barred = list(&app, &bureau, "status=barred&per_page=3&page=3").await;
    assert_eq!(barred["total"], 7);
    let items = barred["items"].as_array().unwrap();
    assert_eq!(
        items.len(),
        1,
        "page 3 of 3-per-page holds the seventh: {barred}"
    );
    assert_eq!(items[0]["standing"]["status"], "barred");
    assert_eq!(list(&app, &bureau, "status=nonsense").await["total"], 0);
    let flagged = list(&app, &bureau, "status=flagged&per_page=200").await;
    assert_eq!(flagged["total"], count(&app, "flagged"));
    assert!(
        flagged["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|v| v["standing"]["status"] == "flagged")
    );

    // A write re-decides in its own transaction: the column changes before any list runs.
    let eligible: i64 = o::table
        .filter(o::standing.eq("eligible"))
        .order(o::id)
        .select(o::id)
        .first(&mut app.conn())
        .unwrap();
    let r = app
        .send_json(
            "POST",
            "/api/v1/credit-listings",
            Some(&bureau),
            &json!({"organisation_id": eligible, "list": "dishonesty", "source": "信用中国",
                    "listed_on": "2026-03-01", "evidence_sha256": "a".repeat(64)}),
        )
        .await;
    assert_eq!(r.status(), 201);
    let listing: Value = r.json().await.unwrap();
    let status_of = |id: i64| -> String {
        o::table
            .find(id)
            .select(o::standing)
            .first(&mut app.conn())
            .unwrap()
    };
    assert_eq!(status_of(eligible), "barred");
    let r = app
        .send_json(
            "PATCH",
            &format!("/api/v1/credit-listings/{}", listing["id"]),
            Some(&bureau),
            &json!({"removed_on": "2026-03-02"}),
        )
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(status_of(eligible), "eligible");

    // The calendar alone: a year on, last year's annual report is missing for registered organisations
    // without one for 2026, and ratings awarded before 2022-03-02 have expired. Nothing was written, yet the
    // next list answers with standings decided for the new day.
    clock.advance(Duration::days(365));
    let bureau = app.token("bureau").await;
    let later = NaiveDate::from_ymd_opt(2027, 3, 2).unwrap();
    let before_flagged = count(&app, "flagged");
    let flagged = list(&app, &bureau, "status=flagged&per_page=200").await;
    assert_stored_is_decided(&app, later);
    assert_eq!(flagged["total"], count(&app, "flagged"));
    assert!(
        count(&app, "flagged") > before_flagged,
        "no organisation has a 2026 annual report, so more are flagged in 2027"
    );
    app.stop().await;
}

both_backends!(stored_standing_follows_its_inputs_and_the_calendar);

/// The stored counts are the counts of the rows (and on PostgreSQL stay so when folded); every search term
/// carries its organisation's current name.
fn assert_stored_equals_counted(app: &TestApp, when: &str) {
    use sanshe::db::schema::organisation_terms as ot;
    use sanshe::registry::orgs::{KeyCount, fold_counts, stored_counts};
    let mut c = app.conn();
    let counted: Vec<KeyCount> = o::table
        .group_by((o::registration, o::kind, o::standing))
        .order((o::registration, o::kind, o::standing))
        .select((
            o::registration,
            o::kind,
            o::standing,
            diesel::dsl::count_star(),
        ))
        .load::<(String, String, String, i64)>(&mut c)
        .unwrap()
        .into_iter()
        .map(|(registration, kind, standing, n)| KeyCount {
            registration,
            kind,
            standing,
            n,
        })
        .collect();
    assert!(!counted.is_empty());
    assert_eq!(stored_counts(&mut c).unwrap(), counted, "{when}");
    fold_counts(&mut c).unwrap();
    assert_eq!(stored_counts(&mut c).unwrap(), counted, "{when}, folded");
    let stale_names: i64 = ot::table
        .inner_join(o::table)
        .filter(ot::name.ne(o::name))
        .count()
        .get_result(&mut c)
        .unwrap();
    assert_eq!(stale_names, 0, "{when}: terms carrying another name");
    let orgs: i64 = o::table.count().get_result(&mut c).unwrap();
    let indexed = ot::table
        .select(ot::organisation_id)
        .distinct()
        .load::<i64>(&mut c)
        .unwrap()
        .len() as i64;
    assert_eq!(indexed, orgs, "{when}: organisations without terms");
}

/// Each total the API gives equals a count over the rows, and a search page is in the list's order.
async fn assert_totals(app: &TestApp, token: &str, when: &str) {
    let mut c = app.conn();
    let n = |q: o::BoxedQuery<'static, <sanshe::db::DbConn as diesel::Connection>::Backend>,
             c: &mut sanshe::db::DbConn|
     -> i64 { q.count().get_result(c).unwrap() };
    let cases: Vec<(&str, i64)> = vec![
        ("", n(o::table.into_boxed(), &mut c)),
        (
            "registration=registered",
            n(
                o::table
                    .filter(o::registration.eq("registered"))
                    .into_boxed(),
                &mut c,
            ),
        ),
        (
            "kind=social_group&status=eligible",
            n(
                o::table
                    .filter(o::kind.eq("social_group"))
                    .filter(o::standing.eq("eligible"))
                    .into_boxed(),
                &mut c,
            ),
        ),
        (
            "status=barred",
            n(
                o::table.filter(o::standing.eq("barred")).into_boxed(),
                &mut c,
            ),
        ),
        (
            "registration=filed&kind=community_group&status=flagged",
            n(
                o::table
                    .filter(o::registration.eq("filed"))
                    .filter(o::kind.eq("community_group"))
                    .filter(o::standing.eq("flagged"))
                    .into_boxed(),
                &mut c,
            ),
        ),
        (
            "q=%E7%A4%BE%E5%8C%BA",
            n(o::table.filter(o::name.like("%社区%")).into_boxed(), &mut c),
        ),
        (
            "q=%E7%A4%BE%E5%8C%BA&registration=registered",
            n(
                o::table
                    .filter(o::name.like("%社区%"))
                    .filter(o::registration.eq("registered"))
                    .into_boxed(),
                &mut c,
            ),
        ),
    ];
    for (query, want) in cases {
        let got = list(app, token, &format!("{query}&per_page=200")).await;
        assert_eq!(got["total"], want, "{when}: total of ?{query}");
        assert_eq!(
            got["items"].as_array().unwrap().len() as i64,
            want.min(200),
            "{when}: items of ?{query}"
        );
    }
    // The search page in the list's order: name, then id, as a sort of the rows gives it.
    let want: Vec<i64> = o::table
        .filter(o::name.like("%社区%"))
        .order((o::name, o::id))
        .select(o::id)
        .load(&mut c)
        .unwrap();
    let mut got = Vec::new();
    for page in 1.. {
        let v = list(
            app,
            token,
            &format!("q=%E7%A4%BE%E5%8C%BA&per_page=4&page={page}"),
        )
        .await;
        let items = v["items"].as_array().unwrap();
        if items.is_empty() {
            break;
        }
        got.extend(items.iter().map(|x| x["id"].as_i64().unwrap()));
    }
    assert!(want.len() > 8, "{when}: the demo has many 社区 names");
    assert_eq!(got, want, "{when}: search pages in name order");
}

async fn stored_counts_and_term_names_follow_every_change(b: Backend) {
    let clock = sanshe::clock::ManualClock::new(Utc.with_ymd_and_hms(2026, 3, 2, 2, 0, 0).unwrap());
    let app = TestApp::spawn_with(
        &b,
        Options {
            registry_demo: true,
            clock: Some(clock.clone()),
            ..Default::default()
        },
    )
    .await;
    let bureau = app.token("bureau").await;
    list(&app, &bureau, "per_page=1").await;
    assert_stored_equals_counted(&app, "seeded");
    assert_totals(&app, &bureau, "seeded").await;

    // A new organisation, then its kind, registration and name changed (filed without a code).
    let r = app
        .send_json(
            "POST",
            "/api/v1/organisations",
            Some(&bureau),
            &json!({"name": "官渡区计数测试社区服务中心", "kind": "social_group",
                    "registration": "registered",
                    "credit_code": sanshe::registry::orgs::demo_code('1', 7001)}),
        )
        .await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let id = r.json::<Value>().await.unwrap()["organisation"]["id"]
        .as_i64()
        .unwrap();
    assert_stored_equals_counted(&app, "created");
    let r = app
        .send_json(
            "PATCH",
            &format!("/api/v1/organisations/{id}"),
            Some(&bureau),
            &json!({"kind": "community_group", "registration": "filed", "credit_code": "",
                    "name": "官渡区改名测试社区互助队"}),
        )
        .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    assert_stored_equals_counted(&app, "kind, registration and name changed");

    // A listing bars another one; its removal lets it stand again.
    let eligible: i64 = o::table
        .filter(o::standing.eq("eligible"))
        .filter(o::registration.eq("registered"))
        .order(o::id)
        .select(o::id)
        .first(&mut app.conn())
        .unwrap();
    let r = app
        .send_json(
            "POST",
            "/api/v1/credit-listings",
            Some(&bureau),
            &json!({"organisation_id": eligible, "list": "debarment", "source": "政府采购网",
                    "listed_on": "2026-03-01", "evidence_sha256": "b".repeat(64)}),
        )
        .await;
    assert_eq!(r.status(), 201);
    assert_stored_equals_counted(&app, "barred by a listing");
    assert_totals(&app, &bureau, "barred by a listing").await;

    // An import of several rows in one transaction.
    let csv = format!(
        "名称,类型,统一社会信用代码\n计数导入社区一号,social_group,{}\n计数导入社区二号,foundation,{}\n计数导入三号,community_group,\n",
        sanshe::registry::orgs::demo_code('1', 7002),
        sanshe::registry::orgs::demo_code('3', 7003)
    );
    let r = app
        .send_json(
            "POST",
            "/api/v1/organisations/import",
            Some(&bureau),
            &json!({ "csv": csv }),
        )
        .await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    assert_stored_equals_counted(&app, "imported");
    assert_totals(&app, &bureau, "imported").await;

    // The calendar alone moves standings (the pass before the next list), and the counts with them.
    let before = sanshe::registry::orgs::stored_counts(&mut app.conn()).unwrap();
    clock.advance(Duration::days(365));
    let bureau = app.token("bureau").await;
    list(&app, &bureau, "per_page=1").await;
    assert_ne!(
        sanshe::registry::orgs::stored_counts(&mut app.conn()).unwrap(),
        before,
        "a year on, more organisations are flagged"
    );
    assert_stored_equals_counted(&app, "a year on");
    assert_totals(&app, &bureau, "a year on").await;

    // The dashboard's standing figures are the stored counts.
    let counts = sanshe::registry::orgs::standing_counts(
        &mut app.conn(),
        NaiveDate::from_ymd_opt(2027, 3, 2).unwrap(),
        Rules::default(),
    )
    .unwrap();
    for (s, n) in counts {
        assert_eq!(n, count(&app, s.as_str()), "{s:?}");
    }
    app.stop().await;
}

both_backends!(stored_counts_and_term_names_follow_every_change);

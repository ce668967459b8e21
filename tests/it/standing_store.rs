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

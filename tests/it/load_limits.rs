//! Load one user can cause (issue 9): an organisation's enquiries per tender and Beijing day are limited
//! (the next one refused with 429 and nothing stored, another organisation unaffected, the next day
//! allowed, the page saying so at its form); a tender's enquiries are read a page at a time, on the API and
//! on the tender page; concurrent writers all land (on SQLite, queued in the process instead of failing or
//! sleeping in SQLite's busy handler); on SQLite the server checkpoints the WAL itself, off the write path.
//! No timings: only what was answered and stored.

use chrono::Duration;
use diesel::prelude::*;
use serde_json::{Value, json};
use tokio::task::JoinSet;

use crate::both_backends;
use crate::helpers::*;
use crate::tenders::{Fx, bidders, create_tender, publish, t0, tender_body};
use sanshe::clock::ManualClock;

async fn setup(b: &Backend, per_day: u32) -> Fx {
    let clock = ManualClock::new(t0());
    let app = TestApp::spawn_with(
        b,
        Options {
            registry_demo: true,
            clock: Some(clock.clone()),
            enquiries_per_day: per_day,
            ..Default::default()
        },
    )
    .await;
    Fx { app, clock }
}

async fn ask(app: &TestApp, token: &str, tender: i64, question: &str) -> reqwest::Response {
    app.send_json(
        "POST",
        &format!("/api/v1/tenders/{tender}/enquiries"),
        Some(token),
        &json!({ "question": question }),
    )
    .await
}

fn enquiries_of_org(app: &TestApp, tender: i64, org: i64) -> i64 {
    use sanshe::db::schema::enquiries as e;
    e::table
        .filter(e::tender_id.eq(tender))
        .filter(e::organisation_id.eq(org))
        .count()
        .get_result(&mut app.conn())
        .unwrap()
}

/// Three a day per organisation and tender: the fourth is refused (429, Retry-After to Beijing midnight,
/// the rule named in both languages, nothing stored), on the API and on the page (the message at the
/// form); another organisation still asks; the next Beijing day the first asks again.
async fn enquiries_limited_per_org_and_day(b: Backend) {
    let fx = setup(&b, 3).await;
    let app = &fx.app;
    let id = create_tender(&fx, &tender_body("GD-2026-201")).await;
    publish(&fx, id).await;
    let bs = bidders(app, 2);
    let (first, second) = (&bs[0], &bs[1]);
    let t1 = app.token(&first.user).await;
    for i in 0..3 {
        let r = ask(app, &t1, id, &format!("第{i}个问题：是否需要场地？")).await;
        assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    }
    // Also asked about another tender: counted apart.
    let other = create_tender(&fx, &tender_body("GD-2026-202")).await;
    publish(&fx, other).await;
    assert_eq!(ask(app, &t1, other, "另一项目的问题").await.status(), 201);

    let snap = app.snapshot();
    let before = enquiries_of_org(app, id, first.org);
    let r = ask(app, &t1, id, "第四个问题").await;
    // t0 is 10:00 in Beijing: 14 hours to midnight.
    assert_eq!(
        r.headers()
            .get("retry-after")
            .map(|v| v.to_str().unwrap().to_string()),
        Some((14 * 3600).to_string())
    );
    let p = problem(r, 429, "enquiries_per_day").await;
    assert!(p["message"]["zh-CN"].as_str().unwrap().contains('3'), "{p}");
    assert!(p["message"]["en"].as_str().unwrap().contains("3"), "{p}");
    assert_eq!(enquiries_of_org(app, id, first.org), before);
    assert_eq!(app.snapshot(), snap, "a refused enquiry leaves no trace");

    // The page: the same refusal at the ask form, with Retry-After, nothing stored.
    let web = sign_in(app, &first.user).await;
    let html = web
        .get(app.url(&format!("/tenders/{id}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let r = web
        .post(app.url(&format!("/tenders/{id}/enquiries")))
        .form(&[
            ("csrf", csrf_of(&html).as_str()),
            ("question", "页面上的第四个问题"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429);
    assert!(r.headers().contains_key("retry-after"));
    let page = r.text().await.unwrap();
    let form = &page[page.find("id=\"ask-form\"").expect("the ask form")..];
    let form = &form[..form.find("</form>").unwrap()];
    assert!(
        form.contains("class=\"errors\"") && form.contains("3"),
        "the refusal is said at the form: {form}"
    );
    assert!(
        form.contains("页面上的第四个问题"),
        "the typed text is kept"
    );
    assert_eq!(enquiries_of_org(app, id, first.org), before);

    // Another organisation is not limited by the first one's questions.
    let t2 = app.token(&second.user).await;
    assert_eq!(ask(app, &t2, id, "另一机构的问题").await.status(), 201);

    // 23:59:59 in Beijing: still today.
    fx.clock.advance(Duration::hours(14) - Duration::seconds(1));
    let t1 = app.token(&first.user).await;
    let r = ask(app, &t1, id, "午夜前").await;
    assert_eq!(
        r.headers().get("retry-after").unwrap().to_str().unwrap(),
        "1"
    );
    problem(r, 429, "enquiries_per_day").await;
    // Midnight in Beijing: a new day.
    fx.clock.advance(Duration::seconds(1));
    let r = ask(app, &t1, id, "第二天的问题").await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    assert_eq!(enquiries_of_org(app, id, first.org), before + 1);
}

/// Twenty-five enquiries, three answered: the API answers a page at a time, newest first, with the total
/// the caller may see (public: the answered ones; the asker: its own too; the bureau: all); the tender page
/// shows one page and a pager to the rest.
async fn enquiries_paged(b: Backend) {
    let fx = setup(&b, 30).await;
    let app = &fx.app;
    let id = create_tender(&fx, &tender_body("GD-2026-203")).await;
    publish(&fx, id).await;
    let asker = &bidders(app, 1)[0];
    let t = app.token(&asker.user).await;
    let mut ids = Vec::new();
    for i in 0..25 {
        let r = ask(app, &t, id, &format!("问题编号{i:02}")).await;
        assert_eq!(r.status(), 201);
        ids.push(r.json::<Value>().await.unwrap()["id"].as_i64().unwrap());
    }
    let bureau = fx.b().await;
    for &eid in &ids[..3] {
        let r = app
            .send_json(
                "POST",
                &format!("/api/v1/enquiries/{eid}/answer"),
                Some(&bureau),
                &json!({"answer": format!("答复{eid}")}),
            )
            .await;
        assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    }
    let item_ids = |v: &Value| -> Vec<i64> {
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["id"].as_i64().unwrap())
            .collect()
    };
    let newest_first: Vec<i64> = ids.iter().rev().copied().collect();

    let public = list(app, id, None, "").await;
    assert_eq!(public["total"], 3, "{public}");
    let answered: Vec<i64> = ids[..3].iter().rev().copied().collect();
    assert_eq!(item_ids(&public), answered);
    assert!(public["items"][0]["organisation_name"].is_null());

    let own = list(app, id, Some(&t), "?per_page=10").await;
    assert_eq!(
        (own["total"].as_i64(), own["per_page"].as_i64()),
        (Some(25), Some(10))
    );
    assert_eq!(item_ids(&own), newest_first[..10]);
    let own3 = list(app, id, Some(&t), "?per_page=10&page=3").await;
    assert_eq!(item_ids(&own3), newest_first[20..]);
    let all = list(app, id, Some(&bureau), "?per_page=200").await;
    assert_eq!(item_ids(&all), newest_first);
    let r = app
        .get(&format!("/api/v1/tenders/{id}/enquiries?limit=5"), None)
        .await;
    assert_eq!(r.status(), 400, "an unknown parameter is refused");

    // The tender page: a page of 20, newest first, and a pager to the rest.
    let web = sign_in(app, &asker.user).await;
    let shown = |html: &str| -> Vec<i64> {
        html.match_indices("class=\"qa\" id=\"enquiry-")
            .map(|(i, m)| {
                let rest = &html[i + m.len()..];
                rest[..rest.find('"').unwrap()].parse().unwrap()
            })
            .collect()
    };
    let first = page(&web, app.url(&format!("/tenders/{id}"))).await;
    assert_eq!(shown(&first), newest_first[..20]);
    assert!(
        first.contains("id=\"enquiries-total\">(25)"),
        "the total is shown"
    );
    assert!(
        first.contains(&format!("href=\"/tenders/{id}?page=2#enquiries\"")),
        "a link to the next page"
    );
    let second = page(&web, app.url(&format!("/tenders/{id}?page=2"))).await;
    assert_eq!(shown(&second), newest_first[20..]);
    // Anyone else: only the answered ones.
    let anon = client()
        .get(app.url(&format!("/tenders/{id}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(shown(&anon), answered);
}

/// Sixteen PATCHes of the bureau at once, each setting an organisation's volunteer count: (status, body).
async fn burst(app: &TestApp, token: &str, targets: Vec<(i64, i64)>) -> Vec<(u16, String)> {
    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(targets.len()));
    let mut set = JoinSet::new();
    for (org, n) in targets {
        let (url, barrier, token) = (
            app.url(&format!("/api/v1/organisations/{org}")),
            barrier.clone(),
            token.to_string(),
        );
        set.spawn(async move {
            barrier.wait().await;
            let r = client()
                .patch(url)
                .bearer_auth(token)
                .json(&json!({ "volunteer_count": n }))
                .send()
                .await
                .unwrap();
            let status = r.status().as_u16();
            (status, r.text().await.unwrap())
        });
    }
    let mut out = Vec::new();
    while let Some(r) = set.join_next().await {
        out.push(r.unwrap());
    }
    out
}

/// Sixteen writers at once, twice over (one record, then sixteen records): every write answers 200 (no
/// 'database is locked', no 5xx), every change is stored, and the record's audit trail has one event per
/// write, the last of which is what is stored.
async fn concurrent_writers_all_land(b: Backend) {
    let app = TestApp::spawn_with(
        &b,
        Options {
            registry_demo: true,
            ..Default::default()
        },
    )
    .await;
    let bureau = app.token("bureau").await;
    use sanshe::db::schema::audit_events as a;
    use sanshe::db::schema::organisations as o;
    let orgs: Vec<i64> = o::table
        .order(o::id)
        .select(o::id)
        .limit(16)
        .load(&mut app.conn())
        .unwrap();
    assert_eq!(orgs.len(), 16);

    // One record, sixteen writers.
    let answers = burst(&app, &bureau, (0..16).map(|i| (orgs[0], 500 + i)).collect()).await;
    assert!(
        answers.iter().all(|(s, _)| *s == 200),
        "every write lands: {answers:?}"
    );
    let events: Vec<Option<String>> = a::table
        .filter(a::entity_type.eq("organisation"))
        .filter(a::entity_id.eq(orgs[0].to_string()))
        .filter(a::action.eq("organisation.update"))
        .order(a::seq)
        .select(a::after_json)
        .load(&mut app.conn())
        .unwrap();
    assert_eq!(events.len(), 16, "one audit event per write");
    let last: Value = serde_json::from_str(events.last().unwrap().as_deref().unwrap()).unwrap();
    let stored: i32 = o::table
        .find(orgs[0])
        .select(o::volunteer_count)
        .first(&mut app.conn())
        .unwrap();
    assert_eq!(last["volunteer_count"], stored, "{last}");

    // Sixteen records, one writer each.
    let answers = burst(
        &app,
        &bureau,
        orgs.iter().map(|&id| (id, 700 + id)).collect(),
    )
    .await;
    assert!(
        answers.iter().all(|(s, _)| *s == 200),
        "every write lands: {answers:?}"
    );
    let stored: Vec<(i64, i32)> = o::table
        .filter(o::id.eq_any(&orgs))
        .order(o::id)
        .select((o::id, o::volunteer_count))
        .load(&mut app.conn())
        .unwrap();
    for (id, n) in stored {
        assert_eq!(i64::from(n), 700 + id);
    }
}

async fn list(app: &TestApp, tender: i64, token: Option<&str>, q: &str) -> Value {
    let r = app
        .get(&format!("/api/v1/tenders/{tender}/enquiries{q}"), token)
        .await;
    assert_eq!(r.status(), 200);
    r.json::<Value>().await.unwrap()
}

async fn page(web: &reqwest::Client, url: String) -> String {
    let r = web.get(url).send().await.unwrap();
    assert_eq!(r.status(), 200);
    r.text().await.unwrap()
}

both_backends!(
    enquiries_limited_per_org_and_day,
    enquiries_paged,
    concurrent_writers_all_land,
);

#[derive(QueryableByName)]
struct AutoCheckpoint {
    #[diesel(sql_type = diesel::sql_types::Integer)]
    wal_autocheckpoint: i32,
}

/// SQLite: the server's connections make no automatic checkpoint (it would run inside some writer's
/// COMMIT, with every queued writer waiting), yet a committed write reaches the database file itself within
/// moments, through the server's own checkpoints. Read here from the file alone (`immutable=1` ignores
/// the WAL): without a checkpoint the new value would stay in the WAL until the last connection closes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wal_checkpoints_off_the_write_path() {
    let app = TestApp::spawn(&Backend::Sqlite).await;
    {
        let mut c = app.server_pool().get().unwrap();
        let r: AutoCheckpoint = diesel::sql_query("PRAGMA wal_autocheckpoint")
            .get_result(&mut *c)
            .unwrap();
        assert_eq!(r.wal_autocheckpoint, 0);
    }
    let token = app.token("admin").await;
    let user = app.create_user("wal_probe", "bureau", None, None).await;
    let r = app
        .send_json(
            "PATCH",
            &format!("/api/v1/users/{user}"),
            Some(&token),
            &json!({"display_name": "检查点 4242"}),
        )
        .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let sanshe::db::DbTarget::Sqlite(path) = &app.db.target else {
        unreachable!()
    };
    let uri = format!("file:{}?immutable=1", path.display());
    let in_file = || {
        use sanshe::db::schema::users as u;
        let mut c = diesel::sqlite::SqliteConnection::establish(&uri).unwrap();
        u::table
            .find(user)
            .select(u::display_name)
            .first::<String>(&mut c)
            // Not there yet: the table itself may still be only in the WAL.
            .ok()
    };
    let mut seen = in_file();
    for _ in 0..50 {
        if seen.as_deref() == Some("检查点 4242") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        seen = in_file();
    }
    assert_eq!(
        seen.as_deref(),
        Some("检查点 4242"),
        "the write reached the database file"
    );
    app.stop().await;
}

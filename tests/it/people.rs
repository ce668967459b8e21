//! People served (issue 12): beneficiaries registered by identity number (kept only as a keyed hash) or
//! pseudonym, activities on an organisation's own live contract, 人次 and 人数 worked out by hand on a
//! fixture of two organisations sharing people, the refusals (each leaving the database as it was), the
//! attendance CSV (all or nothing), every flag raised and not raised, and nothing identifying in what
//! others read. Both backends.

use chrono::{Duration, Utc};
use diesel::prelude::*;
use serde_json::{Value, json};

use crate::both_backends;
use crate::helpers::*;
use crate::route_table::{Op, Roles};
use crate::spending::{actor, appropriation, awarded_tender, day, signed_contract};
use crate::tenders::{Bidder, bidders};
use sanshe::auth::Role;

const FAOB: &[Role] = &[Role::Finance, Role::Admin, Role::Bureau, Role::Org];
const ORG: &[Role] = &[Role::Org];

/// The API operations of this feature, for the route table (contract 1 and beneficiary 1 do not exist
/// there: allowed callers get 404 or 422, never a change).
pub(crate) const ROUTES: &[Op] = &[
    crate::op!(
        "GET",
        "/api/v1/beneficiaries",
        "/api/v1/beneficiaries",
        Roles(ORG)
    ),
    crate::op!(
        "POST",
        "/api/v1/beneficiaries",
        "/api/v1/beneficiaries",
        Roles(ORG),
        r#"{"community_id": 0}"#
    ),
    crate::op!(
        "POST",
        "/api/v1/beneficiaries/lookup",
        "/api/v1/beneficiaries/lookup",
        Roles(ORG),
        r#"{"id_number": ""}"#
    ),
    crate::op!(
        "GET",
        "/api/v1/beneficiaries/{id}",
        "/api/v1/beneficiaries/999999",
        Roles(ORG)
    ),
    crate::op!(
        "GET",
        "/api/v1/contracts/{id}/activities",
        "/api/v1/contracts/1/activities",
        Roles(FAOB)
    ),
    crate::op!(
        "POST",
        "/api/v1/contracts/{id}/activities",
        "/api/v1/contracts/1/activities",
        Roles(ORG),
        r#"{"held_on": "", "kind": "", "community_id": 0, "minutes": 0, "title": ""}"#
    ),
    crate::op!(
        "POST",
        "/api/v1/contracts/{id}/activities/import",
        "/api/v1/contracts/1/activities/import",
        Roles(ORG),
        r#"{"csv": "date,kind,community,title,minutes,participant\n"}"#
    ),
    crate::op!(
        "GET",
        "/api/v1/people/overview",
        "/api/v1/people/overview",
        Roles(FAOB)
    ),
    crate::op!(
        "GET",
        "/api/v1/people/counts",
        "/api/v1/people/counts",
        Roles(FAOB)
    ),
    crate::op!(
        "GET",
        "/api/v1/people/counts/export",
        "/api/v1/people/counts/export",
        Roles(FAOB)
    ),
    crate::op!(
        "GET",
        "/api/v1/people/totals",
        "/api/v1/people/totals",
        crate::route_table::Public
    ),
];

/// The protected pages of this feature (a contract's activities page needs a contract: its posts are in
/// tests/it/page_posts.rs).
pub(crate) const EXPECTED_PAGES: &[(&str, &str, &[Role])] = &[("GET", "/my/people", ORG)];

/// A valid identity number from its first 17 digits.
fn id_number(first17: &str) -> String {
    format!(
        "{first17}{}",
        sanshe::domain::identity::id_check_char(first17).unwrap()
    )
}

/// Two signed elderly contracts on streets 1 and 2: `ca` won by organisation A, `cb` by B.
struct Fx {
    app: TestApp,
    a: Bidder,
    b: Bidder,
    ca: i64,
    cb: i64,
    /// Communities of street 1 (in both contracts' area) and one of a street outside it.
    inside: Vec<i64>,
    outside: i64,
}

async fn setup(backend: &Backend) -> Fx {
    use sanshe::db::schema::communities as cm;
    let app = TestApp::spawn_with(
        backend,
        Options {
            registry_demo: true,
            ..Default::default()
        },
    )
    .await;
    let appr = appropriation(&app).await;
    let bs = bidders(&app, 3);
    let t1 = awarded_tender(&app, "PS-T1", &bs, 0);
    let t2 = awarded_tender(&app, "PS-T2", &bs, 1);
    let ca = signed_contract(&app, t1, "PS-HT-1", appr);
    let cb = signed_contract(&app, t2, "PS-HT-2", appr);
    let mut c = app.conn();
    let inside: Vec<i64> = cm::table
        .filter(cm::street_id.eq(1))
        .order(cm::id)
        .select(cm::id)
        .load(&mut c)
        .unwrap();
    let outside: i64 = cm::table
        .filter(cm::street_id.gt(2))
        .order(cm::id)
        .select(cm::id)
        .first(&mut c)
        .unwrap();
    assert!(
        inside.len() >= 2,
        "the registry demo has communities on street 1"
    );
    Fx {
        a: bs[0].clone(),
        b: bs[1].clone(),
        app,
        ca,
        cb,
        inside,
        outside,
    }
}

/// What a refusal must leave as it was: the people tables, the audit chain, the outbox.
fn state(app: &TestApp) -> String {
    use sanshe::db::schema::{
        activities as ac, beneficiaries as be, participations as pa, people as pp,
    };
    let mut c = app.conn();
    let people: Vec<(i64, Option<String>)> = pp::table
        .order(pp::id)
        .select((pp::id, pp::id_hash))
        .load(&mut c)
        .unwrap();
    let bens: Vec<(i64, i64, String)> = be::table
        .order(be::id)
        .select((be::id, be::person_id, be::pseudonym))
        .load(&mut c)
        .unwrap();
    let acts: Vec<(i64, i32, i32)> = ac::table
        .order(ac::id)
        .select((ac::id, ac::registered, ac::anonymous))
        .load(&mut c)
        .unwrap();
    let parts: i64 = pa::table.count().get_result(&mut c).unwrap();
    format!(
        "{people:?}\n{bens:?}\n{acts:?}\n{parts}\n{}",
        snapshot(&mut c)
    )
}

async fn register(fx: &Fx, who: &Bidder, body: &Value) -> reqwest::Response {
    let t = fx.app.token(&who.user).await;
    fx.app
        .send_json("POST", "/api/v1/beneficiaries", Some(&t), body)
        .await
}

async fn registered(fx: &Fx, who: &Bidder, body: Value) -> i64 {
    let r = register(fx, who, &body).await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    r.json::<Value>().await.unwrap()["id"].as_i64().unwrap()
}

async fn record(fx: &Fx, who: &Bidder, contract: i64, body: &Value) -> reqwest::Response {
    let t = fx.app.token(&who.user).await;
    fx.app
        .send_json(
            "POST",
            &format!("/api/v1/contracts/{contract}/activities"),
            Some(&t),
            body,
        )
        .await
}

fn activity(fx: &Fx, days_ago: i64, kind: &str, participants: &[i64], anonymous: i64) -> Value {
    json!({
        "held_on": day(days_ago), "kind": kind, "community_id": fx.inside[0], "minutes": 90,
        "title": "长者健康小组", "participants": participants, "anonymous": anonymous,
        "volunteers": 2, "volunteer_hours": "3.5",
    })
}

async fn recorded(fx: &Fx, who: &Bidder, contract: i64, body: &Value) -> Value {
    let r = record(fx, who, contract, body).await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    r.json().await.unwrap()
}

async fn refused(r: reqwest::Response, status: u16) -> Vec<(String, String)> {
    assert_eq!(r.status(), status);
    let p: Value = r.json().await.unwrap();
    if p["errors"].is_array() {
        rules_of(&p)
    } else {
        vec![(String::new(), p["code"].as_str().unwrap_or("").to_string())]
    }
}

/// GB 11643: the identity number's checks, each refusal naming the field and the rule and writing
/// nothing; lower-case x and full-width digits are the same person; a second registration is 409.
async fn gb11643_identity_numbers_on_registration(b: Backend) {
    let fx = setup(&b).await;
    let cm = fx.inside[0];
    let good = id_number("11010519491231002"); // ends in X
    assert!(good.ends_with('X'));
    let before = state(&fx.app);
    let bad_check = format!(
        "{}{}",
        &good[..17],
        if good.ends_with('0') { '1' } else { '0' }
    );
    for (number, rule) in [
        (bad_check.as_str(), "check_character"),
        (&*id_number("44030419990230123"), "birth_date"),
        ("4403041990010112", "format"),
    ] {
        let r = register(
            &fx,
            &fx.a,
            &json!({"id_number": number, "community_id": cm}),
        )
        .await;
        assert_eq!(
            refused(r, 422).await,
            vec![("id_number".to_string(), rule.to_string())],
            "{number}"
        );
        assert_eq!(state(&fx.app), before, "a refusal wrote nothing");
    }
    // Lower case x: registered, then the full-width form of the same number is the same person.
    let lower = good.to_lowercase();
    let r = register(
        &fx,
        &fx.a,
        &json!({"id_number": lower, "community_id": cm, "name": "王秀英"}),
    )
    .await;
    assert_eq!(r.status(), 201);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["identified"], true);
    assert_eq!(v["group"], "elderly", "born 1949: 60 or older");
    assert_eq!(v["birth_year"], 1949);
    assert_eq!(v["gender"], "female");
    assert_eq!(v["name"], "王秀英");
    let full: String = good
        .chars()
        .map(|c| match c {
            '0'..='9' => char::from_u32(c as u32 + 0xFEE0).unwrap(),
            'X' => 'ｘ',
            c => c,
        })
        .collect();
    let before = state(&fx.app);
    let r = register(&fx, &fx.a, &json!({"id_number": full, "community_id": cm})).await;
    assert_eq!(refused(r, 409).await[0].1, "registered");
    assert_eq!(state(&fx.app), before);
    // Bad attributes: each named.
    let r = register(
        &fx,
        &fx.a,
        &json!({"pseudonym": "a b", "group": "nobody", "gender": "x", "birth_year": 1800, "community_id": 999999}),
    )
    .await;
    let mut rules = refused(r, 422).await;
    rules.sort();
    assert_eq!(
        rules,
        [
            ("birth_year", "range"),
            ("community_id", "exists"),
            ("gender", "one_of"),
            ("group", "one_of"),
            ("pseudonym", "pseudonym"),
        ]
        .map(|(f, r)| (f.to_string(), r.to_string()))
    );
    assert_eq!(state(&fx.app), before);
    // The smallest birth year an i32 holds is refused, not a 500 (the age guess once overflowed).
    let r = register(
        &fx,
        &fx.a,
        &json!({"pseudonym": "old", "birth_year": i32::MIN, "community_id": cm}),
    )
    .await;
    assert_eq!(
        refused(r, 422).await,
        vec![("birth_year".to_string(), "range".to_string())]
    );
    assert_eq!(state(&fx.app), before);
    // The stored person holds the hash, never the number.
    let mut c = fx.app.conn();
    use sanshe::db::schema::people as pp;
    let hashes: Vec<Option<String>> = pp::table.select(pp::id_hash).load(&mut c).unwrap();
    assert_eq!(hashes.len(), 1);
    let h = hashes[0].clone().unwrap();
    assert_eq!(h.len(), 64);
    assert!(!h.contains(&good[..17]));
    // Organisation B registers the same person: its own beneficiary, the same person.
    let r = register(&fx, &fx.b, &json!({"id_number": good, "community_id": cm})).await;
    assert_eq!(r.status(), 201);
    let n: i64 = pp::table.count().get_result(&mut c).unwrap();
    assert_eq!(n, 1, "one person for both organisations");
    // B cannot read A's beneficiary.
    let tb = fx.app.token(&fx.b.user).await;
    let id = v["id"].as_i64().unwrap();
    let r = fx
        .app
        .get(&format!("/api/v1/beneficiaries/{id}"), Some(&tb))
        .await;
    assert_eq!(r.status(), 404);
    // Lookup by number in a body: A finds its own; B's lookup returns B's own (not A's name).
    let ta = fx.app.token(&fx.a.user).await;
    let r = fx
        .app
        .send_json(
            "POST",
            "/api/v1/beneficiaries/lookup",
            Some(&ta),
            &json!({"id_number": lower}),
        )
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap()["id"], v["id"]);
    let r = fx
        .app
        .send_json(
            "POST",
            "/api/v1/beneficiaries/lookup",
            Some(&tb),
            &json!({"id_number": good}),
        )
        .await;
    let vb: Value = r.json().await.unwrap();
    assert_ne!(vb["id"], v["id"]);
    assert!(vb["name"].is_null());
}

/// 人次 and 人数 on a fixture worked out by hand:
/// - A: people a1..a5 (a1, a2 identified; a3..a5 by pseudonym); a group session with all five, a home
///   visit to a1 and a2, a community event with a1 and 40 anonymous heads.
///   A's 人次 = 5 + 2 + 1 + 40 = 48; A's 人数 = 5.
/// - B: registers a1's and a2's numbers itself plus b3 (identified); a group session with the three and
///   a home visit to b3. B's 人次 = 3 + 1 = 4, 人数 = 3.
/// - District: 人次 = 48 + 4 = 52 (40 anonymous); 人数 = 5 + 3 − 2 shared = 6 (a1 and a2 counted once).
async fn visits_and_people_deduplicated_across_organisations(b: Backend) {
    let fx = setup(&b).await;
    let cm = fx.inside[0];
    let (n1, n2, n3) = (
        id_number("11010519500101001"),
        id_number("11010519620505002"),
        id_number("11010520100909003"),
    );
    let a1 = registered(&fx, &fx.a, json!({"id_number": n1, "community_id": cm})).await;
    let a2 = registered(&fx, &fx.a, json!({"id_number": n2, "community_id": cm})).await;
    let mut pseud = Vec::new();
    for p in ["A-03", "A-04", "A-05"] {
        pseud.push(
            registered(
                &fx,
                &fx.a,
                json!({"pseudonym": p, "group": "other", "community_id": cm}),
            )
            .await,
        );
    }
    let five = [a1, a2, pseud[0], pseud[1], pseud[2]];
    let v = recorded(&fx, &fx.a, fx.ca, &activity(&fx, 20, "group", &five, 0)).await;
    assert_eq!(v["activity"]["visits"], 5);
    assert_eq!(v["delivered"]["count"]["visits"], 5);
    assert_eq!(v["delivered"]["count"]["people"], 5);
    assert_eq!(
        v["activity"]["participants"].as_array().unwrap().len(),
        5,
        "the organisation sees its own pseudonyms"
    );
    recorded(&fx, &fx.a, fx.ca, &activity(&fx, 19, "visit", &[a1, a2], 0)).await;
    let v = recorded(&fx, &fx.a, fx.ca, &activity(&fx, 18, "event", &[a1], 40)).await;
    assert_eq!(v["delivered"]["count"]["visits"], 48);
    assert_eq!(v["delivered"]["count"]["anonymous"], 40);
    assert_eq!(v["delivered"]["count"]["people"], 5);
    // B names its people by identity number in the activity itself: registered on the way.
    let mut body = activity(&fx, 17, "group", &[], 0);
    body["id_numbers"] = json!([n1, n2.to_lowercase(), n3]);
    let v = recorded(&fx, &fx.b, fx.cb, &body).await;
    assert_eq!(v["delivered"]["count"]["people"], 3);
    let b3: i64 = {
        use sanshe::db::schema::beneficiaries as be;
        let mut c = fx.app.conn();
        be::table
            .filter(be::organisation_id.eq(fx.b.org))
            .filter(be::birth_year.eq(2010))
            .select(be::id)
            .first(&mut c)
            .unwrap()
    };
    let v = recorded(&fx, &fx.b, fx.cb, &activity(&fx, 16, "visit", &[b3], 0)).await;
    assert_eq!(v["delivered"]["count"]["visits"], 4);
    // The district, for the bureau and finance alike.
    for who in ["bureau", "finance"] {
        let t = fx.app.token(who).await;
        let o: Value = fx
            .app
            .get("/api/v1/people/overview", Some(&t))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(o["total"]["visits"], 52, "{who}: {o}");
        assert_eq!(o["total"]["anonymous"], 40);
        assert_eq!(o["total"]["people"], 6, "a1 and a2 once for the district");
        assert_eq!(o["activities"], 5);
        assert_eq!(o["volunteers"], 10);
        let field = &o["by_field"][0];
        assert_eq!(
            (
                field["key"].as_str(),
                field["visits"].as_i64(),
                field["people"].as_i64()
            ),
            (Some("elderly"), Some(52), Some(6))
        );
        let street = &o["by_street"][0];
        assert_eq!(
            (street["key"].as_str(), street["people"].as_i64()),
            (Some("1"), Some(6))
        );
        // By organisation: each its own 人数, which add up to more than the district's.
        let by: Vec<Value> = fx
            .app
            .get("/api/v1/people/counts?by=organisation", Some(&t))
            .await
            .json()
            .await
            .unwrap();
        let of = |org: i64| {
            by.iter()
                .find(|l| l["key"].as_str() == Some(org.to_string().as_str()))
                .unwrap()
                .clone()
        };
        assert_eq!(
            (
                of(fx.a.org)["visits"].as_i64(),
                of(fx.a.org)["people"].as_i64()
            ),
            (Some(48), Some(5))
        );
        assert_eq!(
            (
                of(fx.b.org)["visits"].as_i64(),
                of(fx.b.org)["people"].as_i64()
            ),
            (Some(4), Some(3))
        );
        // By group: anonymous heads have no group; registered people only.
        let by: Vec<Value> = fx
            .app
            .get("/api/v1/people/counts?by=group", Some(&t))
            .await
            .json()
            .await
            .unwrap();
        let sum: i64 = by.iter().map(|l| l["visits"].as_i64().unwrap()).sum();
        assert_eq!(sum, 12, "registered participations only");
    }
    // An organisation reads its own figures only.
    let ta = fx.app.token(&fx.a.user).await;
    let o: Value = fx
        .app
        .get("/api/v1/people/overview", Some(&ta))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (o["total"]["visits"].as_i64(), o["total"]["people"].as_i64()),
        (Some(48), Some(5))
    );
    // The public: district totals only.
    let t: Value = fx
        .app
        .get("/api/v1/people/totals", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (t["total"]["visits"].as_i64(), t["total"]["people"].as_i64()),
        (Some(52), Some(6))
    );
    assert!(t.get("by_field").is_none());
    // The bureau's dashboard opens with the district overview; an organisation's does not show it.
    let (_, page) = page_as(&fx.app, &sign_in(&fx.app, "bureau").await, "/dashboard").await;
    assert!(page.contains(r#"id="overview-visits">52<"#), "{page}");
    assert!(page.contains(r#"id="overview-people">6<"#));
    let (_, page) = page_as(&fx.app, &sign_in(&fx.app, &fx.a.user).await, "/dashboard").await;
    assert!(!page.contains("district-overview"));
    // A month filter before the activities: nothing.
    let bureau = fx.app.token("bureau").await;
    let o: Value = fx
        .app
        .get("/api/v1/people/overview?to=2001-01", Some(&bureau))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(o["total"]["visits"], 0);
    // The bureau reads the activities without who took part; another organisation gets 404.
    let l: Value = fx
        .app
        .get(
            &format!("/api/v1/contracts/{}/activities", fx.ca),
            Some(&bureau),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(l["total"], 3);
    assert!(l["items"][0]["participants"].is_null());
    let tb = fx.app.token(&fx.b.user).await;
    let r = fx
        .app
        .get(
            &format!("/api/v1/contracts/{}/activities", fx.ca),
            Some(&tb),
        )
        .await;
    assert_eq!(r.status(), 404);
}

/// Refused activities: outside the term, in the future, outside the area, another's people, nobody,
/// another's contract (404), a terminated contract (409); each names the field and the rule and writes
/// nothing.
async fn activity_refusals_change_nothing(b: Backend) {
    let fx = setup(&b).await;
    let mine = registered(
        &fx,
        &fx.a,
        json!({"pseudonym": "M1", "community_id": fx.inside[0]}),
    )
    .await;
    let theirs = registered(
        &fx,
        &fx.b,
        json!({"pseudonym": "T1", "community_id": fx.inside[0]}),
    )
    .await;
    let before = state(&fx.app);
    let cases: Vec<(Value, u16, Vec<(&str, &str)>)> = vec![
        (
            {
                let mut a = activity(&fx, 200, "group", &[mine], 0);
                a["title"] = json!("x");
                a
            },
            422,
            vec![("held_on", "within_term")],
        ),
        (
            activity(&fx, -2, "group", &[mine], 0),
            422,
            vec![("held_on", "not_future")],
        ),
        (
            {
                let mut a = activity(&fx, 3, "group", &[mine], 0);
                a["community_id"] = json!(fx.outside);
                a
            },
            422,
            vec![("community_id", "in_area")],
        ),
        (
            activity(&fx, 3, "group", &[theirs], 0),
            422,
            vec![("participants[0]", "own_beneficiary")],
        ),
        (
            activity(&fx, 3, "group", &[mine, mine], 0),
            422,
            vec![("participants[1]", "unique")],
        ),
        (
            activity(&fx, 3, "group", &[], 0),
            422,
            vec![("participants", "someone")],
        ),
        (
            {
                let mut a = activity(&fx, 3, "dance", &[mine], 0);
                a["minutes"] = json!(0);
                a["id_numbers"] = json!(["123"]);
                a
            },
            422,
            vec![
                ("kind", "one_of"),
                ("minutes", "range"),
                ("id_numbers[0]", "format"),
            ],
        ),
    ];
    for (body, status, want) in cases {
        let r = record(&fx, &fx.a, fx.ca, &body).await;
        let mut got = refused(r, status).await;
        got.sort();
        let mut want: Vec<(String, String)> = want
            .iter()
            .map(|(f, r)| (f.to_string(), r.to_string()))
            .collect();
        want.sort();
        assert_eq!(got, want, "{body}");
        assert_eq!(state(&fx.app), before, "{body}: nothing written");
    }
    // Another organisation's contract: 404.
    let r = record(&fx, &fx.b, fx.ca, &activity(&fx, 3, "group", &[theirs], 0)).await;
    assert_eq!(r.status(), 404);
    assert_eq!(state(&fx.app), before);
    // A terminated contract: 409.
    let bureau = fx.app.token("bureau").await;
    let r = fx
        .app
        .send_json(
            "POST",
            &format!("/api/v1/contracts/{}/terminate", fx.ca),
            Some(&bureau),
            &json!({"reason": "服务机构主动解除合同", "ended_on": day(5)}),
        )
        .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let before = state(&fx.app);
    let r = record(&fx, &fx.a, fx.ca, &activity(&fx, 6, "group", &[mine], 0)).await;
    assert_eq!(refused(r, 409).await[0].1, "contract_state");
    assert_eq!(state(&fx.app), before);
}

async fn import(fx: &Fx, who: &Bidder, contract: i64, csv: &str) -> reqwest::Response {
    let t = fx.app.token(&who.user).await;
    client()
        .post(
            fx.app
                .url(&format!("/api/v1/contracts/{contract}/activities/import")),
        )
        .bearer_auth(t)
        .header("content-type", "text/csv; charset=utf-8")
        .body(csv.to_string())
        .send()
        .await
        .unwrap()
}

/// The attendance CSV: every bad row listed (line, column, rule) and nothing written; a good file makes
/// one activity per date, type, community, title and duration, registering unknown identity numbers.
async fn attendance_import_all_or_nothing(b: Backend) {
    use sanshe::db::schema::communities as cmt;
    let fx = setup(&b).await;
    let (code, outside_code): (String, String) = {
        let mut c = fx.app.conn();
        (
            cmt::table
                .find(fx.inside[0])
                .select(cmt::code)
                .first(&mut c)
                .unwrap(),
            cmt::table
                .find(fx.outside)
                .select(cmt::code)
                .first(&mut c)
                .unwrap(),
        )
    };
    registered(
        &fx,
        &fx.a,
        json!({"pseudonym": "P1", "community_id": fx.inside[0]}),
    )
    .await;
    registered(
        &fx,
        &fx.a,
        json!({"pseudonym": "P2", "community_id": fx.inside[0]}),
    )
    .await;
    let n = id_number("11010519450303004");
    let (d1, d2) = (day(10), day(9));
    let before = state(&fx.app);
    let wrong = format!("{}{}", &n[..17], if n.ends_with('0') { '1' } else { '0' });
    let bad = format!(
        "date,kind,community,title,minutes,participant,anonymous\n\
         {d1},group,{code},读书会,60,P1,\n\
         {d1},group,{code},读书会,60,P1,\n\
         {d1},dance,{code},读书会,60,P2,\n\
         {d2},visit,{outside_code},探访,30,P2,\n\
         {d2},visit,{code},探访,30,NOBODY,\n\
         {d2},visit,{code},探访,30,{wrong},\n\
         2001-01-01,visit,{code},探访,abc,P1,\n",
    );
    let r = import(&fx, &fx.a, fx.ca, &bad).await;
    let mut got = refused(r, 422).await;
    got.sort();
    let mut want: Vec<(String, String)> = [
        ("rows[3].participant", "unique"),
        ("rows[4].kind", "one_of"),
        ("rows[5].community_id", "in_area"),
        ("rows[6].participant", "own_beneficiary"),
        ("rows[7].participant", "check_character"),
        ("rows[8].held_on", "within_term"),
        ("rows[8].minutes", "integer"),
        ("rows[8].minutes", "range"),
    ]
    .iter()
    .map(|(f, r)| (f.to_string(), r.to_string()))
    .collect();
    want.sort();
    assert_eq!(got, want);
    assert_eq!(state(&fx.app), before, "all or nothing");
    let good = format!(
        "date,kind,community,title,minutes,participant,anonymous\n\
         {d1},group,{code},读书会,60,P1,\n\
         {d1},group,{code},读书会,60,P2,\n\
         {d1},group,{code},读书会,60,{n},\n\
         {d2},event,{code},重阳节活动,120,,80\n\
         {d2},event,{code},重阳节活动,120,P1,\n"
    );
    let r = import(&fx, &fx.a, fx.ca, &good).await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["activities"], 2);
    assert_eq!(v["participations"], 4);
    assert_eq!(v["new_beneficiaries"], 1);
    assert_eq!(v["delivered"]["count"]["visits"], 84);
    assert_eq!(v["delivered"]["count"]["people"], 3);
}

async fn flags_of(fx: &Fx, who: &str, contract: i64) -> Vec<Value> {
    let t = fx.app.token(who).await;
    let r = fx
        .app
        .get(&format!("/api/v1/contracts/{contract}/flags"), Some(&t))
        .await;
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

fn rules_in(flags: &[Value]) -> Vec<String> {
    let mut v: Vec<String> = flags
        .iter()
        .map(|f| f["rule"].as_str().unwrap().to_string())
        .collect();
    v.sort();
    v.dedup();
    v
}

/// Every people-served flag, raised by a case and not by its neighbour.
async fn flags_on_service_records(b: Backend) {
    use sanshe::db::schema::contracts as ct;
    let fx = setup(&b).await;
    let cm = fx.inside[0];
    let people = [
        "served_by_many",
        "activity_outside_term",
        "activity_outside_area",
        "visits_above_norm",
        "logged_late",
    ];
    let shared = id_number("11010519400404005");
    let a1 = registered(&fx, &fx.a, json!({"id_number": shared, "community_id": cm})).await;
    let a2 = registered(
        &fx,
        &fx.a,
        json!({"pseudonym": "only-a", "community_id": cm}),
    )
    .await;
    recorded(&fx, &fx.a, fx.ca, &activity(&fx, 10, "visit", &[a1, a2], 0)).await;
    let none = |f: &[Value]| {
        rules_in(f)
            .into_iter()
            .filter(|r| people.contains(&r.as_str()))
            .collect::<Vec<_>>()
    };
    assert!(none(&flags_of(&fx, "bureau", fx.ca).await).is_empty());
    // served_by_many: B serves the same person in the same field and quarter.
    let mut body = activity(&fx, 10, "visit", &[], 0);
    body["id_numbers"] = json!([shared]);
    recorded(&fx, &fx.b, fx.cb, &body).await;
    let f = flags_of(&fx, "bureau", fx.ca).await;
    let s: Vec<&Value> = f.iter().filter(|x| x["rule"] == "served_by_many").collect();
    assert_eq!(s.len(), 1, "{f:?}");
    let ev = s[0]["evidence_zh"].as_str().unwrap();
    assert!(ev.contains("PS-HT-2") && ev.contains("1 名"), "{ev}");
    // ... shown to the bureau, not to the organisation (it would tell A about B's service).
    assert!(
        !rules_in(&flags_of(&fx, &fx.a.user, fx.ca).await).contains(&"served_by_many".to_string())
    );
    // visits_above_norm: the norm is the contract's target 人次 per 人数; a person far above it.
    let (visits, ppl) = {
        let mut c = fx.app.conn();
        let t: String = ct::table
            .find(fx.ca)
            .select(ct::targets)
            .first(&mut c)
            .unwrap();
        let t: Value = serde_json::from_str(&t).unwrap();
        (t["visits"].as_i64().unwrap(), t["people"].as_i64().unwrap())
    };
    let norm = (visits + ppl - 1) / ppl;
    let limit = (norm * 3).max(12);
    let settings = sanshe::domain::people::Settings::default();
    assert_eq!((settings.norm_factor, settings.norm_floor), (3, 12));
    // `limit` 人次 in all (one already): at the limit, not above it.
    for i in 0..limit - 1 {
        recorded(
            &fx,
            &fx.a,
            fx.ca,
            &activity(&fx, 10 + (i % 30), "case", &[a2], 0),
        )
        .await;
    }
    assert!(
        !rules_in(&flags_of(&fx, "bureau", fx.ca).await).contains(&"visits_above_norm".to_string())
    );
    recorded(&fx, &fx.a, fx.ca, &activity(&fx, 11, "case", &[a2], 0)).await;
    let f = flags_of(&fx, &fx.a.user, fx.ca).await;
    assert!(
        rules_in(&f).contains(&"visits_above_norm".to_string()),
        "{f:?}"
    );
    // activity_outside_area: the community is moved to a street outside the contract's area.
    let admin = fx.app.token("admin").await;
    let (other_street, street_code): (i64, String) = {
        use sanshe::db::schema::{communities as cmt, streets as stt};
        let mut c = fx.app.conn();
        let s: i64 = cmt::table
            .find(fx.outside)
            .select(cmt::street_id)
            .first(&mut c)
            .unwrap();
        let code: String = stt::table.find(s).select(stt::code).first(&mut c).unwrap();
        (s, code)
    };
    let moved = fx.inside[1];
    recorded(&fx, &fx.a, fx.ca, &{
        let mut a = activity(&fx, 12, "group", &[a1], 0);
        a["community_id"] = json!(moved);
        a
    })
    .await;
    assert!(
        !rules_in(&flags_of(&fx, "bureau", fx.ca).await)
            .contains(&"activity_outside_area".to_string())
    );
    let r = fx
        .app
        .send_json(
            "PATCH",
            &format!("/api/v1/communities/{moved}"),
            Some(&admin),
            &json!({"street_id": other_street, "code": format!("{street_code}999")}),
        )
        .await;
    assert!(r.status().is_success(), "{}", r.text().await.unwrap());
    let f = flags_of(&fx, "bureau", fx.ca).await;
    assert_eq!(
        f.iter()
            .filter(|x| x["rule"] == "activity_outside_area")
            .count(),
        1,
        "{f:?}"
    );
    // logged_late: an activity held within the term but logged after it ended (the clock moved on).
    let (term_end, org) = {
        let mut c = fx.app.conn();
        ct::table
            .find(fx.cb)
            .select((ct::term_end, ct::organisation_id))
            .first::<(chrono::NaiveDate, i64)>(&mut c)
            .unwrap()
    };
    assert!(!rules_in(&flags_of(&fx, "bureau", fx.cb).await).contains(&"logged_late".to_string()));
    {
        let cfg = config(&fx.app.db, &Options::default());
        let ctx = sanshe::people::Ctx::from_config(&cfg);
        let mut c = fx.app.conn();
        let who = actor(&mut c, &fx.b.user);
        let later = term_end.and_hms_opt(12, 0, 0).unwrap().and_utc() + Duration::days(3);
        let body: sanshe::people::activities::NewActivity = serde_json::from_value(json!({
            "held_on": term_end.to_string(), "kind": "visit", "community_id": cm, "minutes": 30,
            "title": "期末探访", "anonymous": 3,
        }))
        .unwrap();
        sanshe::people::activities::record(&mut c, &ctx, &who, later, org, fx.cb, &body).unwrap();
    }
    let f = flags_of(&fx, "bureau", fx.cb).await;
    assert_eq!(
        f.iter().filter(|x| x["rule"] == "logged_late").count(),
        1,
        "{f:?}"
    );
    // activity_outside_term: B's contract is terminated before an activity it had recorded.
    assert!(!rules_in(&f).contains(&"activity_outside_term".to_string()));
    let bureau = fx.app.token("bureau").await;
    let r = fx
        .app
        .send_json(
            "POST",
            &format!("/api/v1/contracts/{}/terminate", fx.cb),
            Some(&bureau),
            &json!({"reason": "服务机构严重违约，解除合同", "ended_on": day(20)}),
        )
        .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let f = flags_of(&fx, "bureau", fx.cb).await;
    assert!(
        f.iter()
            .filter(|x| x["rule"] == "activity_outside_term")
            .count()
            >= 1,
        "{f:?}"
    );
    let _ = Utc::now();
}

/// Nothing that identifies a person in what others read: no identity number (in any of its forms), no
/// keyed hash, no name in the bureau's, finance's, the public's or another organisation's responses, the
/// CSV exports, the audit trail or the outbox.
async fn nothing_identifying_leaks(b: Backend) {
    use sanshe::db::schema::{audit_events as ae, outbox as ob, people as pp};
    let fx = setup(&b).await;
    let cm = fx.inside[0];
    let number = id_number("11010519480808006");
    let name = "李桂兰";
    let a1 = registered(
        &fx,
        &fx.a,
        json!({"id_number": number, "community_id": cm, "name": name}),
    )
    .await;
    let a2 = registered(
        &fx,
        &fx.a,
        json!({"pseudonym": "张阿姨", "community_id": cm, "name": "张淑珍"}),
    )
    .await;
    recorded(&fx, &fx.a, fx.ca, &activity(&fx, 5, "visit", &[a1, a2], 0)).await;
    let mut body = activity(&fx, 5, "visit", &[], 0);
    body["id_numbers"] = json!([number]);
    recorded(&fx, &fx.b, fx.cb, &body).await;
    let hash: String = {
        let mut c = fx.app.conn();
        pp::table
            .filter(pp::id_hash.is_not_null())
            .select(pp::id_hash.assume_not_null())
            .first(&mut c)
            .unwrap()
    };
    let secrets = [
        number.clone(),
        number[..17].to_string(),
        number[6..14].to_string(),
        hash.clone(),
        name.to_string(),
        "张淑珍".into(),
        "张阿姨".into(),
    ];
    let mut seen = Vec::new();
    for who in ["bureau", "finance", "admin"] {
        let t = fx.app.token(who).await;
        for path in [
            "/api/v1/people/overview".to_string(),
            "/api/v1/people/counts?by=contract".into(),
            "/api/v1/people/counts?by=organisation".into(),
            "/api/v1/people/counts?by=community".into(),
            "/api/v1/people/counts?by=group".into(),
            "/api/v1/people/counts?by=month".into(),
            "/api/v1/people/counts/export?by=street".into(),
            format!("/api/v1/contracts/{}/activities", fx.ca),
            format!("/api/v1/contracts/{}/flags", fx.ca),
            "/api/v1/flags".into(),
            "/api/v1/flags/export".into(),
        ] {
            let r = fx.app.get(&path, Some(&t)).await;
            assert_eq!(r.status(), 200, "{who} {path}");
            seen.push((format!("{who} {path}"), r.text().await.unwrap()));
        }
    }
    seen.push((
        "public".into(),
        fx.app
            .get("/api/v1/people/totals", None)
            .await
            .text()
            .await
            .unwrap(),
    ));
    let tb = fx.app.token(&fx.b.user).await;
    for path in [
        "/api/v1/beneficiaries".to_string(),
        format!("/api/v1/contracts/{}/activities", fx.cb),
        "/api/v1/people/overview".into(),
        format!("/api/v1/contracts/{}/flags", fx.cb),
    ] {
        seen.push((
            format!("B {path}"),
            fx.app.get(&path, Some(&tb)).await.text().await.unwrap(),
        ));
    }
    {
        let mut c = fx.app.conn();
        let audit: Vec<Option<String>> = ae::table.select(ae::after_json).load(&mut c).unwrap();
        seen.push(("audit".into(), format!("{audit:?}")));
        let mail: Vec<String> = ob::table.select(ob::body_text).load(&mut c).unwrap();
        seen.push(("outbox".into(), mail.join("\n")));
    }
    for (where_, text) in &seen {
        for s in &secrets {
            assert!(!text.contains(s.as_str()), "{s} in {where_}");
        }
    }
    // The organisation itself does see its own names.
    let ta = fx.app.token(&fx.a.user).await;
    let own = fx
        .app
        .get("/api/v1/beneficiaries", Some(&ta))
        .await
        .text()
        .await
        .unwrap();
    assert!(own.contains(name) && !own.contains(&number) && !own.contains(&hash));
}

/// The number shown in an element (the counts on the activities page).
async fn shown(browser: &crate::browser::Browser, css: &str) -> String {
    let v = browser
        .cmd(
            reqwest::Method::POST,
            "/execute/sync",
            Some(json!({"script": format!("return document.querySelector('{css}').innerText"), "args": []})),
        )
        .await
        .unwrap();
    v.as_str().unwrap_or_default().trim().to_string()
}

/// A browser journey at phone width: an organisation records a group session with five participants
/// and sees 人次 and 人数 move; the page never scrolls sideways.
async fn phone_records_a_group_session(b: Backend) {
    let fx = setup(&b).await;
    let cm = fx.inside[0];
    for p in ["P1", "P2", "P3", "P4", "P5"] {
        registered(
            &fx,
            &fx.a,
            json!({"pseudonym": p, "group": "elderly", "community_id": cm}),
        )
        .await;
    }
    let mut driver = crate::browser::Driver::start();
    let browser = driver.connect().await;
    browser
        .cmd(
            reqwest::Method::POST,
            "/window/rect",
            Some(json!({"width": 390, "height": 900})),
        )
        .await
        .unwrap();
    browser.goto(&fx.app.url("/login")).await;
    browser
        .wait_page("the sign-in page", |p| p.path == "/login")
        .await;
    browser.type_into("#username", &fx.a.user).await;
    browser.type_into("#password", PASSWORD).await;
    browser.click("#login-submit").await;
    browser
        .wait_page("the dashboard", |p| p.path == "/dashboard")
        .await;
    let url = fx.app.url(&format!("/contracts/{}/activities", fx.ca));
    browser.goto(&url).await;
    browser
        .wait_page("the activities page", |p| p.text.contains("登记一次活动"))
        .await;
    assert_eq!(shown(&browser, "#contract-visits").await, "0");
    assert_eq!(shown(&browser, "#contract-people").await, "0");
    let width = browser
        .cmd(
            reqwest::Method::POST,
            "/execute/sync",
            Some(json!({"script": "return [window.innerWidth, document.documentElement.scrollWidth]", "args": []})),
        )
        .await
        .unwrap();
    assert!(
        width[0].as_i64().unwrap() <= 390,
        "a phone-width window: {width}"
    );
    assert!(
        width[1].as_i64().unwrap() <= width[0].as_i64().unwrap(),
        "no sideways scroll: {width}"
    );
    browser.click("#kind option[value=group]").await;
    browser.type_into("#title", "长者健康小组").await;
    browser.type_into("#minutes", "90").await;
    for p in ["P1", "P2", "P3", "P4", "P5"] {
        browser.click(&format!("input[name=pick][value={p}]")).await;
    }
    browser.click("#save-activity").await;
    let page = browser
        .wait_page("the saved activity", |p| p.text.contains("已保存"))
        .await;
    assert!(page.text.contains("长者健康小组"), "{page:#?}");
    assert_eq!(shown(&browser, "#contract-visits").await, "5");
    assert_eq!(shown(&browser, "#contract-people").await, "5");
    // A second session with two of them: 人次 moves, 人数 does not.
    browser.click("#kind option[value=group]").await;
    browser.type_into("#title", "长者健康小组（二）").await;
    browser.type_into("#minutes", "60").await;
    browser.type_into("#pseudonyms", "P1 P2").await;
    browser.click("#save-activity").await;
    browser
        .wait_page("the second activity", |p| {
            p.text.contains("长者健康小组（二）")
        })
        .await;
    assert_eq!(shown(&browser, "#contract-visits").await, "7");
    assert_eq!(shown(&browser, "#contract-people").await, "5");
}

both_backends!(
    gb11643_identity_numbers_on_registration,
    visits_and_people_deduplicated_across_organisations,
    activity_refusals_change_nothing,
    attendance_import_all_or_nothing,
    flags_on_service_records,
    nothing_identifying_leaks,
    phone_records_a_group_session
);

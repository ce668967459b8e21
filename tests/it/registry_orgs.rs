//! Organisations, standing, change requests, social workers, CSV import/export and the public directory:
//! API rules end to end, refusals that leave the database unchanged, organisations limited to their own
//! data, phone masking per role, identity numbers never kept in clear.

use crate::helpers::rules_of;
use diesel::prelude::*;
use reqwest::header::CONTENT_TYPE;
use sanshe::auth::Role;
use serde_json::{Value, json};

use crate::both_backends;
use crate::helpers::*;
use crate::op;
use crate::route_table::{ANY_ROLE, Op, Public, Roles};

const BA: &[Role] = &[Role::Bureau, Role::Admin];
const BAO: &[Role] = &[Role::Bureau, Role::Admin, Role::Org];
/// Who reads the organisation registry: the bureau and administrators, and finance who audit (issue 14).
const BAF: &[Role] = &[Role::Bureau, Role::Admin, Role::Finance];
const BAFO: &[Role] = &[Role::Bureau, Role::Admin, Role::Finance, Role::Org];
/// Who reads the social-worker registry: not evaluators.
const WR: &[Role] = &[Role::Bureau, Role::Admin, Role::Finance, Role::Org];

/// This module's API operations for the route table. Write bodies are refused (422 or 404) on the demo
/// data, so the walk changes nothing. Ids assume the registry demo data (organisation 1, worker 1 of it).
pub(crate) const ROUTES: &[Op] = &[
    op!(
        "GET",
        "/api/v1/public/organisations",
        "/api/v1/public/organisations",
        Public
    ),
    op!(
        "GET",
        "/api/v1/organisations",
        "/api/v1/organisations",
        Roles(BAF)
    ),
    op!(
        "GET",
        "/api/v1/organisations/export",
        "/api/v1/organisations/export",
        Roles(BAF)
    ),
    op!(
        "POST",
        "/api/v1/organisations/import",
        "/api/v1/organisations/import",
        Roles(BA),
        r#"{"csv": "名称\n"}"#
    ),
    op!(
        "POST",
        "/api/v1/organisations",
        "/api/v1/organisations",
        Roles(BA),
        r#"{"name": "", "kind": "", "registration": ""}"#
    ),
    op!(
        "GET",
        "/api/v1/organisations/{id}",
        "/api/v1/organisations/1",
        Roles(BAFO)
    ),
    op!(
        "PATCH",
        "/api/v1/organisations/{id}",
        "/api/v1/organisations/1",
        Roles(BAO),
        r#"{"staff_count": -1}"#
    ),
    op!(
        "POST",
        "/api/v1/organisation-ratings",
        "/api/v1/organisation-ratings",
        Roles(BA),
        r#"{"organisation_id": 1, "grade": 9, "awarded_on": ""}"#
    ),
    op!(
        "POST",
        "/api/v1/organisation-inspections",
        "/api/v1/organisation-inspections",
        Roles(BA),
        r#"{"organisation_id": 1, "year": 1, "kind": "", "conclusion": "", "decided_on": ""}"#
    ),
    op!(
        "POST",
        "/api/v1/credit-listings",
        "/api/v1/credit-listings",
        Roles(BA),
        r#"{"organisation_id": 1, "list": "", "source": "", "listed_on": "", "evidence_sha256": ""}"#
    ),
    op!(
        "PATCH",
        "/api/v1/credit-listings/{id}",
        "/api/v1/credit-listings/1",
        Roles(BA),
        r#"{"removed_on": ""}"#
    ),
    op!(
        "GET",
        "/api/v1/organisations/{id}/links",
        "/api/v1/organisations/1/links",
        Roles(WR)
    ),
    op!(
        "POST",
        "/api/v1/organisations/{id}/links",
        "/api/v1/organisations/1/links",
        Roles(BA),
        r#"{"other_id": 1, "kind": "control", "note": "x"}"#
    ),
    op!(
        "DELETE",
        "/api/v1/organisations/{id}/links/{other_id}",
        "/api/v1/organisations/1/links/2",
        Roles(BA),
        "{}"
    ),
    op!(
        "GET",
        "/api/v1/change-requests",
        "/api/v1/change-requests",
        Roles(BAO)
    ),
    op!(
        "PATCH",
        "/api/v1/change-requests/{id}",
        "/api/v1/change-requests/1",
        Roles(BA),
        r#"{"decision": "maybe"}"#
    ),
    op!(
        "GET",
        "/api/v1/social-workers",
        "/api/v1/social-workers",
        Roles(WR)
    ),
    op!(
        "GET",
        "/api/v1/social-workers/counts",
        "/api/v1/social-workers/counts",
        Roles(ANY_ROLE)
    ),
    op!(
        "GET",
        "/api/v1/social-workers/export",
        "/api/v1/social-workers/export",
        Roles(WR)
    ),
    op!(
        "POST",
        "/api/v1/social-workers/import",
        "/api/v1/social-workers/import",
        Roles(BA),
        r#"{"csv": "姓名\n"}"#
    ),
    op!(
        "POST",
        "/api/v1/social-workers",
        "/api/v1/social-workers",
        Roles(BAO),
        r#"{"organisation_id": 1, "name": "", "certificate_level": "", "employment": ""}"#
    ),
    op!(
        "GET",
        "/api/v1/social-workers/{id}",
        "/api/v1/social-workers/1",
        Roles(WR)
    ),
    op!(
        "PATCH",
        "/api/v1/social-workers/{id}",
        "/api/v1/social-workers/1",
        Roles(BAO),
        r#"{"organisation_id": 1, "name": "", "certificate_level": "", "employment": ""}"#
    ),
    op!(
        "POST",
        "/api/v1/social-workers/{id}/verify",
        "/api/v1/social-workers/1/verify",
        Roles(BA),
        "{}"
    ),
];

/// This module's protected pages and their roles (pins the product's list).
pub(crate) const EXPECTED_PAGES: &[(&str, &str, &[Role])] = &[
    ("GET", "/registry/orgs", BAF),
    ("GET", "/registry/orgs/new", BA),
    ("GET", "/registry/orgs/1", BAF),
    ("GET", "/registry/orgs/1/edit", BA),
    ("GET", "/registry/changes", BA),
    ("GET", "/registry/import", BA),
    ("GET", "/registry/workers", WR),
    ("GET", "/registry/workers/new", BAO),
    ("GET", "/registry/workers/counts", ANY_ROLE),
    ("GET", "/registry/workers/1", WR),
    ("GET", "/registry/workers/1/edit", BAO),
    ("GET", "/my/org", &[Role::Org]),
];

/// This module's page form posts: (path, roles, invalid form fields besides `csrf`).
pub(crate) const PAGE_POSTS: &[(&str, &[Role], &str)] = &[
    ("/registry/orgs/new", BA, "name=&kind=&registration="),
    ("/registry/orgs/1/edit", BA, "name=&kind=&registration="),
    ("/registry/orgs/1/ratings", BA, "grade=9&awarded_on="),
    (
        "/registry/orgs/1/inspections",
        BA,
        "year=1&kind=&conclusion=&decided_on=",
    ),
    (
        "/registry/orgs/1/listings",
        BA,
        "list=&source=&listed_on=&evidence_sha256=xyz",
    ),
    ("/registry/changes/1", BA, "decision=maybe"),
    ("/registry/import/orgs", BA, "csv=%E5%90%8D%E7%A7%B0"),
    ("/registry/import/workers", BA, "csv=%E5%A7%93%E5%90%8D"),
    (
        "/registry/workers/new",
        BAO,
        "name=&certificate_level=&employment=",
    ),
    (
        "/registry/workers/1/edit",
        BAO,
        "name=&certificate_level=&employment=",
    ),
    ("/my/org", &[Role::Org], "name=&kind=&staff_count=-3"),
    ("/registry/workers/1/verify", BA, "version="),
];

/// The demo district and the registry's demo organisations and workers, plus their `org` accounts.
fn seed(app: &TestApp) {
    let mut c = app.conn();
    sanshe::registry::areas::seed_demo(&mut c).unwrap();
    sanshe::registry::orgs::seed_demo(
        &mut c,
        chrono::Utc::now(),
        "test-beneficiary-secret-0123456789abcdef",
    )
    .unwrap();
    let hash = sanshe::auth::password::hash(PASSWORD).unwrap();
    sanshe::registry::orgs::seed_org_users(&mut c, chrono::Utc::now(), &hash).unwrap();
}

fn dump_staff(app: &TestApp, org: i64) -> i32 {
    use sanshe::db::schema::organisations as o;
    o::table
        .find(org)
        .select(o::staff_count)
        .first(&mut app.conn())
        .unwrap()
}

fn today() -> chrono::NaiveDate {
    (chrono::Utc::now() + chrono::Duration::hours(8)).date_naive()
}

/// The organisation tables as text, with the foundation snapshot (users, audit chain, outbox).
fn dump(app: &TestApp) -> String {
    use sanshe::db::schema::{
        change_requests as cr, credit_listings as cl, organisation_inspections as oi,
        organisation_ratings as ora, organisations as o, social_workers as sw,
    };
    let mut c = app.conn();
    let orgs: Vec<(i64, String, Option<String>, Option<String>, i32)> = o::table
        .order(o::id)
        .select((
            o::id,
            o::name,
            o::credit_code,
            o::contact_phone,
            o::staff_count,
        ))
        .load(&mut c)
        .unwrap();
    let n = (
        ora::table.count().get_result::<i64>(&mut c).unwrap(),
        oi::table.count().get_result::<i64>(&mut c).unwrap(),
        cl::table.count().get_result::<i64>(&mut c).unwrap(),
        cr::table.count().get_result::<i64>(&mut c).unwrap(),
        sw::table.count().get_result::<i64>(&mut c).unwrap(),
    );
    format!("{orgs:?}\n{n:?}\n{}", snapshot(&mut c))
}

async fn json_of(r: reqwest::Response, status: u16) -> Value {
    let s = r.status().as_u16();
    let t = r.text().await.unwrap();
    assert_eq!(s, status, "{t}");
    serde_json::from_str(&t).unwrap_or(Value::Null)
}

fn code(kind: char, n: u32) -> String {
    sanshe::registry::orgs::demo_code(kind, n)
}

fn org_id_by_name(app: &TestApp, name: &str) -> i64 {
    use sanshe::db::schema::organisations as o;
    o::table
        .filter(o::name.eq(name))
        .select(o::id)
        .first(&mut app.conn())
        .unwrap()
}

async fn standing_end_to_end(b: Backend) {
    let app = TestApp::spawn(&b).await;
    seed(&app);
    let bureau = app.token("bureau").await;
    // The demo data: exactly one barred organisation, some flagged.
    let all = json_of(
        app.get("/api/v1/organisations?per_page=200", Some(&bureau))
            .await,
        200,
    )
    .await;
    let items = all["items"].as_array().unwrap();
    assert_eq!(all["total"], 60);
    let barred: Vec<&Value> = items
        .iter()
        .filter(|o| o["standing"]["status"] == "barred" && o["registration"] == "registered")
        .collect();
    assert_eq!(barred.len(), 1, "one barred registered organisation");
    assert_eq!(barred[0]["standing"]["reasons"][0]["code"], "dishonesty");
    assert!(
        items
            .iter()
            .filter(|o| o["standing"]["status"] == "flagged")
            .count()
            >= 3
    );
    let filtered = json_of(
        app.get(
            "/api/v1/organisations?status=barred&registration=registered",
            Some(&bureau),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(filtered["total"], 1);

    // A new organisation: full-width, lower-case, spaced code is normalised.
    let c = code('2', 9001);
    let messy: String = c
        .to_lowercase()
        .chars()
        .map(|ch| {
            if ch.is_ascii_digit() {
                char::from_u32(ch as u32 + 0xFEE0).unwrap()
            } else {
                ch
            }
        })
        .collect();
    let messy = format!(" {}-{} ", &messy[..9], &messy[9..]);
    let created = json_of(
        app.send_json("POST", "/api/v1/organisations", Some(&bureau), &json!({
            "name": "测试社会工作服务中心", "kind": "private_non_enterprise", "registration": "registered",
            "credit_code": messy, "contact_phone": "13800138000", "fields": ["elderly"], "staff_count": 4
        })).await,
        201,
    )
    .await;
    let id = created["organisation"]["id"].as_i64().unwrap();
    assert_eq!(created["organisation"]["credit_code"], c.as_str());
    // No report for last year yet: flagged, with that reason.
    assert_eq!(created["organisation"]["standing"]["status"], "flagged");
    assert_eq!(
        created["organisation"]["standing"]["reasons"][0]["code"],
        "no_annual_report"
    );
    let last = chrono::Datelike::year(&today()) - 1;
    let r = app.send_json("POST", "/api/v1/organisation-inspections", Some(&bureau), &json!({
        "organisation_id": id, "year": last, "kind": "annual_report", "conclusion": "pass", "decided_on": today().to_string()
    })).await;
    json_of(r, 201).await;
    let d = json_of(
        app.get(&format!("/api/v1/organisations/{id}"), Some(&bureau))
            .await,
        200,
    )
    .await;
    assert_eq!(d["organisation"]["standing"]["status"], "eligible");
    // A second record for the same year is refused, and nothing changes.
    let before = dump(&app);
    let v = problem(app.send_json("POST", "/api/v1/organisation-inspections", Some(&bureau), &json!({
        "organisation_id": id, "year": last, "kind": "inspection", "conclusion": "fail", "decided_on": today().to_string()
    })).await, 422, "validation_failed").await;
    assert_eq!(rules_of(&v), vec![("year".into(), "unique".into())]);
    // Dishonesty listing: barred, since the listing date; removal lifts it.
    let bad = problem(app.send_json("POST", "/api/v1/credit-listings", Some(&bureau), &json!({
        "organisation_id": id, "list": "dishonesty", "source": "信用中国", "listed_on": "2020-13-01", "evidence_sha256": "abc"
    })).await, 422, "validation_failed").await;
    assert_eq!(
        rules_of(&bad),
        vec![
            ("listed_on".into(), "date".into()),
            ("evidence_sha256".into(), "sha256".into())
        ]
    );
    assert_eq!(dump(&app), before, "refusals changed nothing");
    let listed_on = (today() - chrono::Duration::days(30)).to_string();
    let l = json_of(app.send_json("POST", "/api/v1/credit-listings", Some(&bureau), &json!({
        "organisation_id": id, "list": "dishonesty", "source": "信用中国", "listed_on": listed_on, "evidence_sha256": "A".repeat(64)
    })).await, 201).await;
    let d = json_of(
        app.get(&format!("/api/v1/organisations/{id}"), Some(&bureau))
            .await,
        200,
    )
    .await;
    assert_eq!(d["organisation"]["standing"]["status"], "barred");
    assert_eq!(
        d["organisation"]["standing"]["reasons"][0]["since"],
        listed_on.as_str()
    );
    // Abnormal list and the major tax-dishonesty list (财库〔2016〕125号) added too: every reason is listed.
    json_of(app.send_json("POST", "/api/v1/credit-listings", Some(&bureau), &json!({
        "organisation_id": id, "list": "abnormal", "source": "民政局", "listed_on": listed_on, "evidence_sha256": "b".repeat(64)
    })).await, 201).await;
    let tax = json_of(app.send_json("POST", "/api/v1/credit-listings", Some(&bureau), &json!({
        "organisation_id": id, "list": "tax_dishonesty", "source": "税务总局", "listed_on": listed_on, "evidence_sha256": "c".repeat(64)
    })).await, 201).await;
    let d = json_of(
        app.get(&format!("/api/v1/organisations/{id}"), Some(&bureau))
            .await,
        200,
    )
    .await;
    let codes: Vec<&str> = d["organisation"]["standing"]["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["code"].as_str().unwrap())
        .collect();
    assert!(
        codes.contains(&"dishonesty")
            && codes.contains(&"abnormal")
            && codes.contains(&"tax_dishonesty"),
        "{codes:?}"
    );
    for lid in [l["id"].as_i64().unwrap(), tax["id"].as_i64().unwrap()] {
        json_of(
            app.send_json(
                "PATCH",
                &format!("/api/v1/credit-listings/{lid}"),
                Some(&bureau),
                &json!({"removed_on": today().to_string()}),
            )
            .await,
            200,
        )
        .await;
    }
    let d = json_of(
        app.get(&format!("/api/v1/organisations/{id}"), Some(&bureau))
            .await,
        200,
    )
    .await;
    assert_eq!(
        d["organisation"]["standing"]["status"], "flagged",
        "only the abnormal listing is left"
    );
    // Rating: expires five years after the award; an expired one counts as none.
    let r = json_of(
        app.send_json(
            "POST",
            "/api/v1/organisation-ratings",
            Some(&bureau),
            &json!({
        "organisation_id": id, "grade": 4, "awarded_on": "2018-03-01"}),
        )
        .await,
        201,
    )
    .await;
    assert_eq!(r["expires_on"], "2023-03-01");
    let d = json_of(
        app.get(&format!("/api/v1/organisations/{id}"), Some(&bureau))
            .await,
        200,
    )
    .await;
    assert_eq!(d["organisation"]["current_rating"], Value::Null);
    app.stop().await;
}

async fn create_validation(b: Backend) {
    let app = TestApp::spawn(&b).await;
    seed(&app);
    let bureau = app.token("bureau").await;
    let taken = code('2', 1001);
    let before = dump(&app);
    let cases: Vec<(Value, Vec<(&str, &str)>)> = vec![
        (
            json!({}),
            vec![
                ("name", "required"),
                ("kind", "required"),
                ("registration", "required"),
            ],
        ),
        (
            json!({"name": "甲", "kind": "club", "registration": "registered"}),
            vec![("kind", "one_of"), ("credit_code", "required")],
        ),
        (
            json!({"name": "甲", "kind": "social_group", "registration": "registered", "credit_code": taken}),
            vec![("credit_code", "unique"), ("kind", "matches_code")],
        ),
        (
            json!({"name": "甲", "kind": "social_group", "registration": "registered", "credit_code": "52110101MJ0018899X"}),
            vec![("credit_code", "check_character")],
        ),
        (
            json!({"name": "甲", "kind": "social_group", "registration": "registered", "credit_code": "51530111IJ0001000X"}),
            vec![("credit_code", "alphabet")],
        ),
        (
            json!({"name": "甲", "kind": "social_group", "registration": "registered", "credit_code": "5153"}),
            vec![("credit_code", "length")],
        ),
        (
            json!({"name": "x".repeat(101), "kind": "community_group", "registration": "filed", "registered_on": "2199-01-01",
                "contact_phone": "12ab", "contact_email": "no-at", "staff_count": -1, "volunteer_count": 2_000_000,
                "fields": ["cooking"], "area_street_ids": [999], "street_id": 998}),
            vec![
                ("name", "max_length"),
                ("registered_on", "not_future"),
                ("contact_phone", "phone"),
                ("contact_email", "email"),
                ("staff_count", "range"),
                ("volunteer_count", "range"),
                ("fields", "one_of"),
                ("street_id", "exists"),
                ("area_street_ids", "exists"),
            ],
        ),
    ];
    for (body, want) in cases {
        let v = problem(
            app.send_json("POST", "/api/v1/organisations", Some(&bureau), &body)
                .await,
            422,
            "validation_failed",
        )
        .await;
        let got = rules_of(&v);
        let want: Vec<(String, String)> = want
            .iter()
            .map(|(f, r)| (f.to_string(), r.to_string()))
            .collect();
        assert_eq!(got, want, "{body}");
        assert!(
            v["errors"][0]["message"]["zh-CN"]
                .as_str()
                .is_some_and(|s| !s.is_empty())
        );
    }
    assert_eq!(dump(&app), before, "refused creates changed the database");
    // A filed community group needs no code.
    json_of(
        app.send_json(
            "POST",
            "/api/v1/organisations",
            Some(&bureau),
            &json!({"name": "某社区合唱团", "kind": "community_group", "registration": "filed"}),
        )
        .await,
        201,
    )
    .await;
    // Update: uniqueness excludes the organisation itself.
    let id = org_id_by_name(&app, "官渡区夕阳红养老服务中心");
    let own = code('2', 1000);
    json_of(
        app.send_json(
            "PATCH",
            &format!("/api/v1/organisations/{id}"),
            Some(&bureau),
            &json!({"credit_code": own.to_lowercase()}),
        )
        .await,
        200,
    )
    .await;
    let before = dump(&app);
    let v = problem(
        app.send_json(
            "PATCH",
            &format!("/api/v1/organisations/{id}"),
            Some(&bureau),
            &json!({"credit_code": taken}),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(rules_of(&v), vec![("credit_code".into(), "unique".into())]);
    let v = problem(
        app.send_json(
            "PATCH",
            &format!("/api/v1/organisations/{id}"),
            Some(&bureau),
            &json!({"credit_code": ""}),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(
        rules_of(&v),
        vec![("credit_code".into(), "required".into())]
    );
    assert_eq!(dump(&app), before);
    app.stop().await;
}

async fn org_user_permissions(b: Backend) {
    let app = TestApp::spawn(&b).await;
    seed(&app);
    let bureau = app.token("bureau").await;
    let mine = org_id_by_name(&app, "官渡区夕阳红养老服务中心");
    let other = org_id_by_name(&app, "官渡区阳光青少年发展中心");
    let org = app.token(&format!("org{mine:03}")).await;
    json_of(
        app.get(&format!("/api/v1/organisations/{mine}"), Some(&org))
            .await,
        200,
    )
    .await;
    let before = dump(&app);
    problem(
        app.get(&format!("/api/v1/organisations/{other}"), Some(&org))
            .await,
        404,
        "not_found",
    )
    .await;
    problem(
        app.send_json(
            "PATCH",
            &format!("/api/v1/organisations/{other}"),
            Some(&org),
            &json!({"contact_name": "某人"}),
        )
        .await,
        404,
        "not_found",
    )
    .await;
    problem(
        app.get("/api/v1/organisations", Some(&org)).await,
        403,
        "forbidden",
    )
    .await;
    problem(
        app.get("/api/v1/organisations/export", Some(&org)).await,
        403,
        "forbidden",
    )
    .await;
    let v = problem(
        app.send_json(
            "PATCH",
            &format!("/api/v1/organisations/{mine}"),
            Some(&org),
            &json!({"registration": "filed", "legal_representative": "某人"}),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(
        rules_of(&v),
        vec![
            ("registration".into(), "bureau_only".into()),
            ("legal_representative".into(), "bureau_only".into())
        ]
    );
    // Another organisation's workers are not shown, not even by id.
    let theirs: i64 = {
        use sanshe::db::schema::social_workers as sw;
        sw::table
            .filter(sw::organisation_id.eq(other))
            .select(sw::id)
            .first(&mut app.conn())
            .unwrap()
    };
    problem(
        app.get(&format!("/api/v1/social-workers/{theirs}"), Some(&org))
            .await,
        404,
        "not_found",
    )
    .await;
    let list = json_of(
        app.get("/api/v1/social-workers?per_page=200", Some(&org))
            .await,
        200,
    )
    .await;
    assert!(
        list["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|w| w["organisation_id"] == mine)
    );
    assert_eq!(dump(&app), before, "refusals changed nothing");

    // Own contacts: applied at once. Name and staff count (an eligibility fact): a pending request, both
    // unchanged until the bureau approves.
    let r = json_of(app.send_json("PATCH", &format!("/api/v1/organisations/{mine}"), Some(&org), &json!({"contact_name": "新联系人", "staff_count": 9, "name": "官渡区夕阳红康养服务中心"})).await, 200).await;
    assert_eq!(
        r["organisation"]["organisation"]["contact_name"],
        "新联系人"
    );
    let staff_before = dump_staff(&app, mine);
    assert_ne!(staff_before, 9);
    assert_eq!(
        r["organisation"]["organisation"]["staff_count"],
        staff_before
    );
    assert_eq!(r["change_request"]["changes"]["staff_count"], 9);
    assert_eq!(
        r["organisation"]["organisation"]["name"],
        "官渡区夕阳红养老服务中心"
    );
    assert_eq!(r["change_request"]["status"], "pending");
    let cr = r["change_request"]["id"].as_i64().unwrap();
    // The organisation cannot decide; rejection needs a reason; approval applies the change.
    problem(
        app.send_json(
            "PATCH",
            &format!("/api/v1/change-requests/{cr}"),
            Some(&org),
            &json!({"decision": "approve"}),
        )
        .await,
        403,
        "forbidden",
    )
    .await;
    let v = problem(
        app.send_json(
            "PATCH",
            &format!("/api/v1/change-requests/{cr}"),
            Some(&bureau),
            &json!({"decision": "reject"}),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(rules_of(&v), vec![("reason".into(), "required".into())]);
    json_of(
        app.send_json(
            "PATCH",
            &format!("/api/v1/change-requests/{cr}"),
            Some(&bureau),
            &json!({"decision": "approve"}),
        )
        .await,
        200,
    )
    .await;
    let d = json_of(
        app.get(&format!("/api/v1/organisations/{mine}"), Some(&org))
            .await,
        200,
    )
    .await;
    assert_eq!(d["organisation"]["name"], "官渡区夕阳红康养服务中心");
    assert_eq!(
        d["organisation"]["staff_count"], 9,
        "applied with the approval"
    );
    problem(
        app.send_json(
            "PATCH",
            &format!("/api/v1/change-requests/{cr}"),
            Some(&bureau),
            &json!({"decision": "approve"}),
        )
        .await,
        409,
        "already_decided",
    )
    .await;
    // A code change rejected with a reason: the code stays.
    let old_code = d["organisation"]["credit_code"]
        .as_str()
        .unwrap()
        .to_string();
    let r = json_of(
        app.send_json(
            "PATCH",
            &format!("/api/v1/organisations/{mine}"),
            Some(&org),
            &json!({"credit_code": code('2', 7777)}),
        )
        .await,
        200,
    )
    .await;
    let cr2 = r["change_request"]["id"].as_i64().unwrap();
    let x = json_of(
        app.send_json(
            "PATCH",
            &format!("/api/v1/change-requests/{cr2}"),
            Some(&bureau),
            &json!({"decision": "reject", "reason": "证照不符"}),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(x["status"], "rejected");
    let d = json_of(
        app.get(&format!("/api/v1/organisations/{mine}"), Some(&bureau))
            .await,
        200,
    )
    .await;
    assert_eq!(d["organisation"]["credit_code"], old_code.as_str());
    let mine_list = json_of(
        app.get("/api/v1/change-requests?status=", Some(&org)).await,
        200,
    )
    .await;
    assert_eq!(mine_list["total"], 2);
    // The bureau's own page of requests and the org's page render.
    let html = app.get("/my/org", None).await;
    assert_eq!(html.status(), 303);
    app.stop().await;
}

async fn workers_masking_and_identity(b: Backend) {
    let app = TestApp::spawn(&b).await;
    seed(&app);
    let bureau = app.token("bureau").await;
    let finance = app.token("finance").await;
    let mine = org_id_by_name(&app, "官渡区夕阳红养老服务中心");
    let org = app.token(&format!("org{mine:03}")).await;
    let id_number = sanshe::registry::orgs::demo_id_number(
        chrono::NaiveDate::from_ymd_opt(1990, 5, 17).unwrap(),
        901,
    );
    let mut wrong = id_number.clone();
    let last = wrong.pop().unwrap();
    wrong.push(if last == '1' { '2' } else { '1' });
    let before = dump(&app);
    let v = problem(
        app.send_json(
            "POST",
            "/api/v1/social-workers",
            Some(&bureau),
            &json!({
        "organisation_id": mine, "name": "测试社工", "id_number": wrong, "phone": "13912345678",
        "certificate_level": "social_worker", "employment": "full_time"}),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(
        rules_of(&v),
        vec![
            ("id_number".into(), "check_character".into()),
            ("certificate_number".into(), "required".into())
        ]
    );
    // An org user may not add workers to another organisation.
    let other = org_id_by_name(&app, "官渡区阳光青少年发展中心");
    let v = problem(app.send_json("POST", "/api/v1/social-workers", Some(&org), &json!({
        "organisation_id": other, "name": "某人", "certificate_level": "none", "employment": "full_time"})).await, 422, "validation_failed").await;
    assert_eq!(
        rules_of(&v),
        vec![("organisation_id".into(), "own_organisation".into())]
    );
    assert_eq!(dump(&app), before);
    let w = json_of(app.send_json("POST", "/api/v1/social-workers", Some(&org), &json!({
        "organisation_id": mine, "name": "测试社工", "id_number": format!(" {} ", id_number.to_lowercase()), "phone": "13912345678",
        "certificate_level": "social_worker", "certificate_number": "SG-TEST-1", "certified_on": "2020-06-01",
        "employment": "full_time", "street_ids": [1, 2]})).await, 201).await;
    let wid = w["id"].as_i64().unwrap();
    assert_eq!(w["phone"], "13912345678");
    // Never in clear: the column holds an HMAC, and no response carries the number.
    let stored: Option<String> = {
        use sanshe::db::schema::social_workers as sw;
        sw::table
            .find(wid)
            .select(sw::id_hash)
            .first(&mut app.conn())
            .unwrap()
    };
    let stored = stored.unwrap();
    assert_eq!(stored.len(), 64);
    assert!(stored.chars().all(|c| c.is_ascii_hexdigit()) && !stored.contains(&id_number[..17]));
    for (who, t, phone) in [
        ("bureau", &bureau, "13912345678"),
        ("org", &org, "13912345678"),
        ("finance", &finance, "139****5678"),
    ] {
        let r = app
            .get(&format!("/api/v1/social-workers/{wid}"), Some(t))
            .await;
        let text = r.text().await.unwrap();
        assert!(!text.contains(&id_number[..17]), "{who}: {text}");
        let v: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["phone"], phone, "{who}");
        assert_eq!(v["has_id_number"], true);
    }
    let csv = app
        .get(
            &format!("/api/v1/social-workers/export?organisation_id={mine}"),
            Some(&finance),
        )
        .await
        .text()
        .await
        .unwrap();
    assert!(csv.contains("139****5678") && !csv.contains("13912345678"));
    // The same identity number again in the same organisation is refused (its own data).
    let v = problem(app.send_json("POST", "/api/v1/social-workers", Some(&bureau), &json!({
        "organisation_id": mine, "name": "重复", "id_number": id_number, "certificate_level": "none", "employment": "part_time"})).await, 422, "validation_failed").await;
    assert_eq!(rules_of(&v), vec![("id_number".into(), "unique".into())]);
    // Another organisation registering the same person is told nothing: accepted like any other; only the
    // bureau sees that two organisations have the same identity number.
    let other_user = format!("org{other:03}");
    let theirs_t = app.token(&other_user).await;
    let r = app.send_json("POST", "/api/v1/social-workers", Some(&theirs_t), &json!({
        "organisation_id": other, "name": "兼职社工", "id_number": id_number, "certificate_level": "none", "employment": "part_time"})).await;
    let text = r.text().await.unwrap();
    assert!(
        text.contains("\"shares_identity\":false"),
        "the organisation is not told: {text}"
    );
    let theirs: Value = serde_json::from_str(&text).unwrap();
    for wid2 in [wid, theirs["id"].as_i64().unwrap()] {
        let v = json_of(
            app.get(&format!("/api/v1/social-workers/{wid2}"), Some(&bureau))
                .await,
            200,
        )
        .await;
        assert_eq!(v["shares_identity"], true, "the bureau sees it on {wid2}");
    }
    let v = json_of(
        app.get(&format!("/api/v1/social-workers/{wid}"), Some(&org))
            .await,
        200,
    )
    .await;
    assert_eq!(v["shares_identity"], false);
    let page = sign_in(&app, "bureau").await;
    let html = page
        .get(app.url(&format!("/registry/workers/{wid}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("另一组织登记了同一身份证号"), "{html}");
    // Evaluators do not read the registry at all; finance reads it with masked phones, on the page too.
    let evaluator = app.token("evaluator1").await;
    for path in [
        "/api/v1/social-workers".to_string(),
        format!("/api/v1/social-workers/{wid}"),
        "/api/v1/social-workers/export".to_string(),
    ] {
        problem(app.get(&path, Some(&evaluator)).await, 403, "forbidden").await;
    }
    let fin = sign_in(&app, "finance").await;
    let html = fin
        .get(app.url(&format!("/registry/workers?organisation_id={mine}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("139****5678") && !html.contains("13912345678"),
        "{html}"
    );
    assert!(
        !html.contains("id=\"new-worker\""),
        "finance does not add workers"
    );
    // Counts.
    let c = json_of(
        app.get("/api/v1/social-workers/counts", Some(&bureau))
            .await,
        200,
    )
    .await;
    let total: i64 = c["by_level"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["workers"].as_i64().unwrap())
        .sum();
    // The demo workers still employed, and the two added above.
    let employed = 150 - 150 / 12 + 2;
    assert_eq!(total, employed as i64);
    assert_eq!(c["by_street"].as_array().unwrap().len(), 8);
    let page = app.get("/registry/workers/counts", None).await;
    assert_eq!(page.status(), 303);
    app.stop().await;
}

const GOOD_ORGS: &str = "\u{feff}名称,类型,统一社会信用代码,联系电话,所在街道,服务领域,服务区域,专职人数\r\n\
导入测试一号服务中心,民办非企业单位（社会服务机构）,{C1},13800000001,关上街道,养老服务；矛盾调解,关上街道；太和街道,5\r\n\
导入测试协会,social_group,{C2},,,youth,,\r\n\
\"导入测试, 社区队\",备案社区社会组织,,,,,,0\r\n";

async fn import_all_or_nothing(b: Backend) {
    let app = TestApp::spawn(&b).await;
    seed(&app);
    let bureau = app.token("bureau").await;
    let taken = code('2', 1001);
    let bad = format!(
        "name,kind,credit_code,staff_count,fields\n\
         好的一行,private_non_enterprise,{},3,elderly\n\
         ,private_non_enterprise,{},x,elderly\n\
         重复代码,private_non_enterprise,{taken},1,\n\
         坏字段,foundation,53530111MJ0000000,1,cooking\n\
         同文件重复,private_non_enterprise,{},1,\n",
        code('2', 5001),
        code('2', 5002),
        code('2', 5001),
    );
    let before = dump(&app);
    let r = reqwest::Client::new()
        .post(app.url("/api/v1/organisations/import"))
        .bearer_auth(&bureau)
        .header(CONTENT_TYPE, "text/csv; charset=utf-8")
        .body(bad)
        .send()
        .await
        .unwrap();
    let v = problem(r, 422, "validation_failed").await;
    let want: Vec<(String, String)> = [
        ("line 3: staff_count", "integer"),
        ("line 3: name", "required"),
        ("line 4: credit_code", "unique"),
        ("line 5: credit_code", "length"),
        ("line 5: fields", "one_of"),
        ("line 6: credit_code", "unique_in_file"),
    ]
    .iter()
    .map(|(f, r)| (f.to_string(), r.to_string()))
    .collect();
    assert_eq!(rules_of(&v), want);
    assert_eq!(dump(&app), before, "a refused import stored something");
    // Unknown header: refused as a whole.
    let v = problem(
        app.send_json(
            "POST",
            "/api/v1/organisations/import",
            Some(&bureau),
            &json!({"csv": "名称,颜色\n甲,红\n"}),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(
        rules_of(&v),
        vec![("line 1: column 2".into(), "unknown_column".into())]
    );
    assert_eq!(dump(&app), before);

    // A good file with BOM and Chinese headers: every row stored, each audited.
    let (c1, c2) = (code('2', 6001), code('1', 6002));
    let good = GOOD_ORGS.replace("{C1}", &c1).replace("{C2}", &c2);
    let audit_before: i64 = {
        use sanshe::db::schema::audit_events as a;
        a::table.count().get_result(&mut app.conn()).unwrap()
    };
    let r = reqwest::Client::new()
        .post(app.url("/api/v1/organisations/import"))
        .bearer_auth(&bureau)
        .header(CONTENT_TYPE, "text/csv")
        .body(good)
        .send()
        .await
        .unwrap();
    let v = json_of(r, 201).await;
    assert_eq!(v["imported"], 3);
    let audit_after: i64 = {
        use sanshe::db::schema::audit_events as a;
        a::table.count().get_result(&mut app.conn()).unwrap()
    };
    assert_eq!(audit_after - audit_before, 3);
    let one = json_of(
        app.get(&format!("/api/v1/organisations?q={c1}"), Some(&bureau))
            .await,
        200,
    )
    .await;
    let o = &one["items"][0];
    assert_eq!(o["kind"], "private_non_enterprise");
    assert_eq!(o["fields"], json!(["elderly", "mediation"]));
    assert_eq!(o["area_street_ids"].as_array().unwrap().len(), 2);
    assert_eq!(o["street_name"], "关上街道");
    let group = json_of(
        app.get(
            "/api/v1/organisations?q=%E7%A4%BE%E5%8C%BA%E9%98%9F",
            Some(&bureau),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(group["items"][0]["name"], "导入测试, 社区队");
    assert_eq!(group["items"][0]["registration"], "filed");

    // Export of a filtered list: BOM, text/csv, and it reads back as the same rows.
    let r = app
        .get(
            "/api/v1/organisations/export?q=%E5%AF%BC%E5%85%A5%E6%B5%8B%E8%AF%95",
            Some(&bureau),
        )
        .await;
    assert_eq!(r.headers()[CONTENT_TYPE], "text/csv; charset=utf-8");
    let text = r.text().await.unwrap();
    assert!(text.starts_with('\u{feff}'));
    let recs = sanshe::registry::import::parse_csv(&text).unwrap();
    assert_eq!(recs.len(), 4, "{text}");
    let names: Vec<&str> = recs[1..].iter().map(|r| r.cells[0].as_str()).collect();
    assert_eq!(
        names,
        vec!["导入测试, 社区队", "导入测试一号服务中心", "导入测试协会"]
    );
    // Importing the export again is refused row by row for the taken codes (and stores nothing).
    let before = dump(&app);
    let v = problem(
        reqwest::Client::new()
            .post(app.url("/api/v1/organisations/import"))
            .bearer_auth(&bureau)
            .header(CONTENT_TYPE, "text/csv")
            .body(text.clone())
            .send()
            .await
            .unwrap(),
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(
        rules_of(&v),
        vec![
            ("line 3: credit_code".into(), "unique".into()),
            ("line 4: credit_code".into(), "unique".into())
        ]
    );
    assert_eq!(dump(&app), before);

    // Workers: a bad row rejects the file; a good one stores every row.
    let idn = sanshe::registry::orgs::demo_id_number(
        chrono::NaiveDate::from_ymd_opt(1988, 2, 3).unwrap(),
        777,
    );
    let bad = format!(
        "姓名,所属组织,身份证号,证书等级,证书编号,用工形式,服务街道\n甲,{c1},{idn},社会工作师,SG-IMP-1,全职,关上街道\n乙,不存在的组织,,助理社会工作师,,兼职,火星街道\n"
    );
    let before = dump(&app);
    let v = problem(
        app.send_json(
            "POST",
            "/api/v1/social-workers/import",
            Some(&bureau),
            &json!({"csv": bad}),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(
        rules_of(&v),
        vec![
            ("line 3: organisation".into(), "exists".into()),
            ("line 3: streets".into(), "exists".into()),
            ("line 3: certificate_number".into(), "required".into())
        ]
    );
    assert_eq!(dump(&app), before);
    let good = format!(
        "姓名,所属组织,身份证号,证书等级,证书编号,用工形式,服务街道\n甲,{c1},{idn},社会工作师,SG-IMP-1,全职,关上街道；太和街道\n乙,导入测试协会,,无证书,,兼职,\n"
    );
    let v = json_of(
        app.send_json(
            "POST",
            "/api/v1/social-workers/import",
            Some(&bureau),
            &json!({"csv": good}),
        )
        .await,
        201,
    )
    .await;
    assert_eq!(v["imported"], 2);
    app.stop().await;
}

async fn public_directory(b: Backend) {
    let app = TestApp::spawn(&b).await;
    seed(&app);
    let r = json_of(
        app.get("/api/v1/public/organisations?per_page=200", None)
            .await,
        200,
    )
    .await;
    assert_eq!(r["total"], 54, "registered organisations only");
    for o in r["items"].as_array().unwrap() {
        assert!(
            o.get("contact_phone").is_none() && o.get("contact_name").is_none(),
            "{o}"
        );
        assert!(o["credit_code"].is_string());
    }
    let q = json_of(
        app.get(
            "/api/v1/public/organisations?q=%E5%A4%95%E9%98%B3%E7%BA%A2",
            None,
        )
        .await,
        200,
    )
    .await;
    assert_eq!(q["total"], 1);
    let html = app
        .get("/directory?q=%E5%A4%95%E9%98%B3%E7%BA%A2", None)
        .await;
    assert_eq!(html.status(), 200);
    let html = html.text().await.unwrap();
    assert!(html.contains("官渡区夕阳红养老服务中心"));
    assert!(!html.contains("13871000000"), "no phones in the directory");
    assert!(
        !html.contains("广场舞队"),
        "filed groups are not in the directory"
    );
    app.stop().await;
}

/// The bureau's pages render with the demo data, and a bad form shows inline errors.
async fn pages_render(b: Backend) {
    let app = TestApp::spawn(&b).await;
    seed(&app);
    let bureau = app.token("bureau").await;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let cookie = format!("sanshe_session={bureau}; sanshe_csrf=tok");
    // What each page must show, worked out by hand from the demo data (src/registry/orgs.rs `seed_demo`,
    // src/registry/workers.rs `seed_demo_workers`): 54 registered organisations + 6 filed groups = 60;
    // organisation 1 is demo index 0, 官渡区夕阳红养老服务中心 (legal representative SURNAMES[0]+GIVEN[0] =
    // 李晓明, contact 杨丽华, phone 138·71000000, staff 3 + 0 = 3, volunteers 10, registered 2010-01-01, no
    // listing: 正常). Barred: index 40 (dishonesty list) and the 6 groups without a credit code = 7.
    // 150 workers; worker 1 is demo worker 0: 李雨桐 of organisation index 0, assistant (ZL, 2012, 530 →
    // ZL201200530, certified 2012-06-20), phone 135·10000000. By level, current (not `left`: i % 12 == 11,
    // 12 workers, of whom 6 assistant, 2 social_worker, 2 senior, 2 none) of 150 at i % 10 = 0–3 / 4–6 / 7 /
    // 8–9: assistant 60 − 6 = 54, social_worker 45 − 2 = 43, senior 15 − 2 = 13, none 30 − 2 = 28.
    // Organisation index 0 has workers 0, 54 and 108 (7i ≡ 0 mod 54): all in post, two certified.
    let pages: &[(&str, &[&str], &[&str])] = &[
        (
            "/registry/orgs",
            &["<h1>社会组织</h1>", "共 60", "官渡区夕阳红养老服务中心"],
            &[],
        ),
        (
            "/registry/orgs?status=barred",
            &[
                "<h1>社会组织</h1>",
                "共 7",
                "官渡区福寿养老服务社",
                "太和社区广场舞队",
            ],
            &["官渡区夕阳红养老服务中心"],
        ),
        (
            "/registry/orgs/1",
            &[
                "<h1>官渡区夕阳红养老服务中心 <span class=\"badge ok\" id=\"standing\">正常</span></h1>",
                "<h2>信用状态 · 原因</h2>",
                "<dd>李晓明</dd>",
                "<dd>杨丽华</dd>",
                "<dd>13871000000</dd>",
                "<dd>org1@demo.sanshe.local</dd>",
                "<dd>2010-01-01</dd>",
                "<dd>3 / 10</dd>",
            ],
            &[],
        ),
        (
            "/registry/orgs/1/edit",
            &[
                "<h1>修改组织 · 官渡区夕阳红养老服务中心</h1>",
                "name=\"name\" value=\"官渡区夕阳红养老服务中心\"",
                "name=\"legal_representative\" value=\"李晓明\"",
                "name=\"staff_count\" value=\"3\"",
            ],
            &[],
        ),
        (
            "/registry/orgs/new",
            &[
                "<h1>登记组织</h1>",
                "action=\"/registry/orgs/new\"",
                "关上街道",
            ],
            &["官渡区夕阳红养老服务中心"],
        ),
        (
            "/registry/changes",
            &["<h1>变更申请</h1>", "id=\"changes-table\"", "共 0"],
            &[],
        ),
        (
            "/registry/import",
            &[
                "<h1>批量导入（CSV）</h1>",
                "<h2>导入社会组织</h2>",
                "<h2>导入社会工作者</h2>",
            ],
            &[],
        ),
        (
            "/registry/workers",
            &["<h1>社会工作者</h1>", "id=\"workers-table\"", "共 150"],
            &[],
        ),
        (
            "/registry/workers/1",
            &[
                "<h1>李雨桐</h1>",
                "<dd>官渡区夕阳红养老服务中心</dd>",
                "<dd>ZL201200530</dd>",
                "<dd>2012-06-20</dd>",
                "<dd>13510000000</dd>",
            ],
            &[],
        ),
        (
            "/registry/workers/1/edit",
            &[
                "<h1>修改社工信息 · 李雨桐</h1>",
                "name=\"name\" value=\"李雨桐\"",
                "name=\"certificate_number\" value=\"ZL201200530\"",
            ],
            &[],
        ),
        (
            "/registry/workers/new",
            &[
                "<h1>登记社工</h1>",
                "action=\"/registry/workers/new\"",
                "官渡区夕阳红养老服务中心",
            ],
            &["李雨桐"],
        ),
        (
            "/registry/workers/counts",
            &[
                "<h1>社工统计</h1>",
                "<h2>按证书等级</h2>",
                "<tr><td>官渡区夕阳红养老服务中心</td><td class=\"num\">3</td><td class=\"num\">2</td></tr>",
            ],
            &[],
        ),
    ];
    assert_eq!(pages.len(), 12);
    let mut counts_html = String::new();
    for (p, shows, hides) in pages {
        let r = http
            .get(app.url(p))
            .header("cookie", &cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{p}");
        let html = r.text().await.unwrap();
        for s in *shows {
            assert!(html.contains(s), "{p} does not show {s}: {html}");
        }
        for s in *hides {
            assert!(!html.contains(s), "{p} shows {s}: {html}");
        }
        if *p == "/registry/workers/counts" {
            counts_html = html;
        }
    }
    // The bars by certificate level: each label with its value (hand counts above).
    let bar = |label: &str| -> String {
        let at = counts_html
            .find(&format!(">{label}</span>"))
            .unwrap_or_else(|| panic!("no bar {label}: {counts_html}"));
        let rest = &counts_html[at..];
        let v = &rest[rest.find("bar-value\">").expect("a bar value") + 11..];
        v[..v.find('<').unwrap()].to_string()
    };
    for (label, n) in [
        ("无证书", "28"),
        ("助理社会工作师", "54"),
        ("社会工作师", "43"),
        ("高级社会工作师", "13"),
    ] {
        assert_eq!(bar(label), n, "{label}");
    }
    let r = http
        .post(app.url("/registry/orgs/new"))
        .header("cookie", &cookie)
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body("csrf=tok&name=&kind=social_group&registration=registered&credit_code=5153")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("field-error") && html.contains("18"),
        "{html}"
    );
    let r = http
        .post(app.url("/registry/import/orgs"))
        .header("cookie", &cookie)
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body("csrf=tok&csv=%E5%90%8D%E7%A7%B0%0A%0A%2C%0A")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("import-errors") && html.contains("line 3: name"),
        "{html}"
    );
    app.stop().await;
}

both_backends!(
    standing_end_to_end,
    create_validation,
    org_user_permissions,
    workers_masking_and_identity,
    import_all_or_nothing,
    public_directory,
    pages_render
);

//! Areas, incubation bases and incubation: the API rules (parent and level, coverage, every state move legal
//! and illegal, deadlines, overdue, the funnel), refusals that leave the database unchanged, organisations
//! limited to their own records, the pages, and a browser journey (the bureau admits an application and
//! sees the funnel change).

use diesel::prelude::*;
use reqwest::header::{CONTENT_TYPE, COOKIE};
use sanshe::auth::Role;
use sanshe::domain::calendar::BusinessCalendar;
use serde_json::{Value, json};

use crate::both_backends;
use crate::helpers::*;
use crate::op;
use crate::route_table::{Op, Public, Roles};

const BUREAU_ADMIN: &[Role] = &[Role::Bureau, Role::Admin];
const BUREAU_ADMIN_ORG: &[Role] = &[Role::Bureau, Role::Admin, Role::Org];

/// This module's API operations for the route table. Write bodies are well-formed JSON that an allowed
/// caller gets refused (422, 404 or 409) with or without registry data, so the walk changes nothing. The
/// public `{id}` rows need the registry demo data (see `route_rows_on_registry_data`).
pub(crate) const ROUTES: &[Op] = &[
    op!("GET", "/api/v1/streets", "/api/v1/streets", Public),
    op!(
        "GET",
        "/api/v1/streets/export",
        "/api/v1/streets/export",
        Public
    ),
    op!("GET", "/api/v1/streets/{id}", "/api/v1/streets/1", Public),
    op!(
        "POST",
        "/api/v1/streets",
        "/api/v1/streets",
        Roles(BUREAU_ADMIN),
        r#"{"code": "1", "name": ""}"#
    ),
    op!(
        "PATCH",
        "/api/v1/streets/{id}",
        "/api/v1/streets/1",
        Roles(BUREAU_ADMIN),
        r#"{"name": ""}"#
    ),
    op!("GET", "/api/v1/communities", "/api/v1/communities", Public),
    op!(
        "GET",
        "/api/v1/communities/export",
        "/api/v1/communities/export",
        Public
    ),
    op!(
        "GET",
        "/api/v1/communities/{id}",
        "/api/v1/communities/1",
        Public
    ),
    op!(
        "POST",
        "/api/v1/communities",
        "/api/v1/communities",
        Roles(BUREAU_ADMIN),
        r#"{"street_id": 1, "code": "", "name": ""}"#
    ),
    op!(
        "PATCH",
        "/api/v1/communities/{id}",
        "/api/v1/communities/1",
        Roles(BUREAU_ADMIN),
        r#"{"grid_count": -1}"#
    ),
    op!("GET", "/api/v1/bases", "/api/v1/bases", Public),
    op!(
        "GET",
        "/api/v1/bases/export",
        "/api/v1/bases/export",
        Public
    ),
    op!("GET", "/api/v1/bases/{id}", "/api/v1/bases/1", Public),
    op!(
        "POST",
        "/api/v1/bases",
        "/api/v1/bases",
        Roles(BUREAU_ADMIN),
        r#"{"name": "", "level": "city"}"#
    ),
    op!(
        "PUT",
        "/api/v1/bases/{id}",
        "/api/v1/bases/1",
        Roles(BUREAU_ADMIN),
        r#"{"name": "", "level": "city", "onsite": true}"#
    ),
    op!("GET", "/api/v1/base-tree", "/api/v1/base-tree", Public),
    op!(
        "GET",
        "/api/v1/base-coverage",
        "/api/v1/base-coverage",
        Public
    ),
    op!(
        "GET",
        "/api/v1/incubations",
        "/api/v1/incubations",
        Roles(BUREAU_ADMIN_ORG)
    ),
    op!(
        "GET",
        "/api/v1/incubations/export",
        "/api/v1/incubations/export",
        Roles(BUREAU_ADMIN_ORG)
    ),
    op!(
        "POST",
        "/api/v1/incubations",
        "/api/v1/incubations",
        Roles(BUREAU_ADMIN_ORG),
        r#"{"base_id": 0, "organisation_id": 1}"#
    ),
    op!(
        "GET",
        "/api/v1/incubations/{id}",
        "/api/v1/incubations/1",
        Roles(BUREAU_ADMIN_ORG)
    ),
    op!(
        "PATCH",
        "/api/v1/incubations/{id}",
        "/api/v1/incubations/1",
        Roles(BUREAU_ADMIN),
        r#"{"to": "applied"}"#
    ),
    op!(
        "GET",
        "/api/v1/incubation-funnel",
        "/api/v1/incubation-funnel",
        Public
    ),
];

/// This module's protected pages and their roles (pins the product's list).
pub(crate) const EXPECTED_PAGES: &[(&str, &str, &[Role])] = &[
    ("GET", "/registry/bases/new", BUREAU_ADMIN),
    ("GET", "/registry/areas/streets/new", BUREAU_ADMIN),
    ("GET", "/registry/areas/streets/1/edit", BUREAU_ADMIN),
    ("GET", "/registry/areas/communities/new", BUREAU_ADMIN),
    ("GET", "/registry/areas/communities/1/edit", BUREAU_ADMIN),
    ("GET", "/registry/incubations", BUREAU_ADMIN_ORG),
    ("GET", "/registry/incubations/overview", BUREAU_ADMIN),
    ("GET", "/registry/incubations/new", BUREAU_ADMIN_ORG),
];

/// This module's page form posts: (path, roles, invalid form fields besides `csrf`).
pub(crate) const PAGE_POSTS: &[(&str, &[Role], &str)] = &[
    ("/registry/bases/new", BUREAU_ADMIN, "name=&level=&seats=x"),
    ("/registry/areas/streets/new", BUREAU_ADMIN, "code=1&name="),
    (
        "/registry/areas/streets/1/edit",
        BUREAU_ADMIN,
        "code=x&name=",
    ),
    (
        "/registry/areas/communities/new",
        BUREAU_ADMIN,
        "street_id=1&code=&name=&grid_count=-1",
    ),
    (
        "/registry/areas/communities/1/edit",
        BUREAU_ADMIN,
        "street_id=1&code=1&name=&grid_count=1001",
    ),
    (
        "/registry/incubations/new",
        BUREAU_ADMIN_ORG,
        "base_id=&group_name=",
    ),
];

// ---------- helpers ----------

fn insert_org(c: &mut sanshe::db::DbConn, name: &str) -> i64 {
    use sanshe::db::schema::organisations as o;
    let now = sanshe::db::now_micros(chrono::Utc::now());
    diesel::insert_into(o::table)
        .values((
            o::name.eq(name),
            o::kind.eq("social_group"),
            o::registration.eq("unregistered"),
            o::created_at.eq(now),
            o::updated_at.eq(now),
        ))
        .returning(o::id)
        .get_result(c)
        .unwrap()
}

/// Three organisations, the demo district, its bases and incubation records. Returns the organisations.
fn seed_registry(app: &TestApp) -> Vec<i64> {
    seed_registry_at(app, chrono::Utc::now())
}

/// As `seed_registry`, with the demo records dated around `now` (for an app on a fixed clock).
fn seed_registry_at(app: &TestApp, now: chrono::DateTime<chrono::Utc>) -> Vec<i64> {
    let mut c = app.conn();
    let orgs = vec![
        insert_org(&mut c, "官渡区阳光社工服务中心"),
        insert_org(&mut c, "关上邻里互助协会"),
        insert_org(&mut c, "太和青少年发展中心"),
    ];
    let cal = BusinessCalendar::builtin();
    sanshe::registry::areas::seed_demo(&mut c).unwrap();
    sanshe::registry::bases::seed_demo(&mut c, now, &cal).unwrap();
    sanshe::registry::incubations::seed_incubations(&mut c, now, &cal).unwrap();
    orgs
}

/// The registry tables and the audit trail, in a fixed order.
fn dump(app: &TestApp) -> String {
    use sanshe::db::schema::{bases as b, communities as cm, incubations as i, streets as s};
    let mut c = app.conn();
    let bases: Vec<(
        i64,
        String,
        String,
        Option<i64>,
        Option<i64>,
        Option<i64>,
        i32,
        String,
    )> = b::table
        .order(b::id)
        .select((
            b::id,
            b::name,
            b::level,
            b::parent_id,
            b::street_id,
            b::community_id,
            b::seats,
            b::services,
        ))
        .load(&mut c)
        .unwrap();
    let incs: Vec<(
        i64,
        String,
        Option<String>,
        Option<String>,
        Option<chrono::NaiveDate>,
        Option<String>,
        Option<chrono::NaiveDate>,
        Option<chrono::NaiveDate>,
        Option<String>,
        Option<String>,
    )> = i::table
        .order(i::id)
        .select((
            i::id,
            i::state,
            i::mode,
            i::stage,
            i::decided_on,
            i::reject_reason,
            i::start_on,
            i::planned_end,
            i::checklist,
            i::exit_reason,
        ))
        .load(&mut c)
        .unwrap();
    let streets: Vec<(i64, String, String)> = s::table
        .order(s::id)
        .select((s::id, s::code, s::name))
        .load(&mut c)
        .unwrap();
    let comms: Vec<(i64, String, String, i32)> = cm::table
        .order(cm::id)
        .select((cm::id, cm::code, cm::name, cm::grid_count))
        .load(&mut c)
        .unwrap();
    format!(
        "{bases:?}\n{incs:?}\n{streets:?}\n{comms:?}\n{}",
        snapshot(&mut c)
    )
}

async fn json_of(r: reqwest::Response, status: u16) -> Value {
    let s = r.status().as_u16();
    let body = r.text().await.unwrap();
    assert_eq!(s, status, "{body}");
    serde_json::from_str(&body).unwrap()
}

fn has_error(v: &Value, field: &str, rule: &str) -> bool {
    v["errors"].as_array().is_some_and(|es| {
        es.iter().any(|e| {
            e["field"] == field
                && e["rule"] == rule
                && e["message"]["zh-CN"]
                    .as_str()
                    .is_some_and(|s| !s.is_empty())
                && e["message"]["en"].as_str().is_some_and(|s| !s.is_empty())
        })
    })
}

async fn base_id_by_level(app: &TestApp, level: &str) -> Vec<Value> {
    let v = json_of(
        app.get(&format!("/api/v1/bases?level={level}&per_page=200"), None)
            .await,
        200,
    )
    .await;
    v["items"].as_array().unwrap().clone()
}

/// A new application by a group to `base`, returning its id.
async fn apply_group(app: &TestApp, token: &str, base: i64, name: &str) -> i64 {
    let v = json_of(
        app.send_json(
            "POST",
            "/api/v1/incubations",
            Some(token),
            &json!({"base_id": base, "group_name": name}),
        )
        .await,
        201,
    )
    .await;
    v["id"].as_i64().unwrap()
}

fn body_for(to: &str) -> Value {
    match to {
        "admitted" => json!({"to": to, "mode": "onsite", "stage": "sprouting"}),
        "rejected" | "exited" => json!({"to": to, "reason": "测试原因"}),
        "renewed" => json!({"to": to, "planned_end": "2099-12-31"}),
        "graduated" => json!({"to": to, "checklist": sanshe::domain::incubation::CHECKLIST.iter()
            .map(|(k, _, _)| json!({"key": k, "done": true})).collect::<Vec<_>>()}),
        _ => json!({"to": to}),
    }
}

/// The moves that lead from `applied` to `state`.
fn path_to(state: &str) -> &'static [&'static str] {
    match state {
        "applied" => &[],
        "admitted" => &["admitted"],
        "rejected" => &["rejected"],
        "incubating" => &["admitted", "incubating"],
        "renewed" => &["admitted", "incubating", "renewed"],
        "graduated" => &["admitted", "incubating", "graduated"],
        "exited" => &["admitted", "incubating", "exited"],
        _ => unreachable!(),
    }
}

async fn move_to(app: &TestApp, token: &str, id: i64, to: &str) -> reqwest::Response {
    app.send_json(
        "PATCH",
        &format!("/api/v1/incubations/{id}"),
        Some(token),
        &body_for(to),
    )
    .await
}

const STATES: [&str; 7] = [
    "applied",
    "admitted",
    "rejected",
    "incubating",
    "renewed",
    "graduated",
    "exited",
];
const LEGAL: &[(&str, &str)] = &[
    ("applied", "admitted"),
    ("applied", "rejected"),
    ("admitted", "incubating"),
    ("incubating", "renewed"),
    ("incubating", "graduated"),
    ("incubating", "exited"),
    ("renewed", "graduated"),
    ("renewed", "exited"),
];

// ---------- tests ----------

async fn areas_are_listed_and_managed(b: Backend) {
    let app = TestApp::spawn(&b).await;
    seed_registry(&app);
    let streets = json_of(app.get("/api/v1/streets", None).await, 200).await;
    let streets = streets.as_array().unwrap();
    assert_eq!(streets.len(), 8);
    assert_eq!(streets[0]["code"], "530111001");
    assert_eq!(streets[0]["name"], "关上街道");
    let comms: i64 = streets
        .iter()
        .map(|s| s["communities"].as_i64().unwrap())
        .sum();
    let grids: i64 = streets.iter().map(|s| s["grids"].as_i64().unwrap()).sum();
    assert_eq!(comms, 63);
    assert!((960..1000).contains(&grids), "{grids}");
    let sid = streets[1]["id"].as_i64().unwrap();
    let d = json_of(app.get(&format!("/api/v1/streets/{sid}"), None).await, 200).await;
    assert!(
        d["communities"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["code"].as_str().unwrap().starts_with("530111002"))
    );
    let page = json_of(
        app.get("/api/v1/communities?q=%E5%85%B3%E4%B8%8A&per_page=5", None)
            .await,
        200,
    )
    .await;
    assert!(page["total"].as_i64().unwrap() >= 3, "{page}");
    assert_eq!(
        page["items"].as_array().unwrap().len().min(5),
        page["items"].as_array().unwrap().len()
    );

    let bureau = app.token("bureau").await;
    let before = dump(&app);
    let v = problem(
        app.send_json(
            "POST",
            "/api/v1/streets",
            Some(&bureau),
            &json!({"code": "530111001", "name": "关上街道"}),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    assert!(
        has_error(&v, "code", "unique") && has_error(&v, "name", "unique"),
        "{v}"
    );
    let v = problem(
        app.send_json(
            "POST",
            "/api/v1/communities",
            Some(&bureau),
            &json!({"street_id": sid, "code": "530111009001", "name": "新社区", "grid_count": -1}),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    assert!(
        has_error(&v, "code", "street_prefix") && has_error(&v, "grid_count", "range"),
        "{v}"
    );
    assert_eq!(dump(&app), before, "refused writes changed nothing");

    let s = json_of(
        app.send_json(
            "POST",
            "/api/v1/streets",
            Some(&bureau),
            &json!({"code": "530111009", "name": "测试街道"}),
        )
        .await,
        201,
    )
    .await;
    let c = json_of(
        app.send_json(
            "POST",
            "/api/v1/communities",
            Some(&bureau),
            &json!({"street_id": s["id"], "code": "530111009001", "name": "测试社区", "grid_count": 12}),
        )
        .await,
        201,
    )
    .await;
    let c = json_of(
        app.send_json(
            "PATCH",
            &format!("/api/v1/communities/{}", c["id"]),
            Some(&bureau),
            &json!({"grid_count": 15}),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(c["grid_count"], 15);
    let n: i64 = {
        use sanshe::db::schema::audit_events as a;
        a::table
            .filter(a::action.eq_any(["street.create", "community.create", "community.update"]))
            .count()
            .get_result(&mut app.conn())
            .unwrap()
    };
    assert_eq!(n, 3, "each change audited");
    let html = app.get("/areas", None).await.text().await.unwrap();
    assert!(
        html.contains("关上街道") && html.contains("测试街道"),
        "{html}"
    );
    app.stop().await;
}

async fn base_parent_and_level_rules(b: Backend) {
    let app = TestApp::spawn(&b).await;
    {
        let mut c = app.conn();
        sanshe::registry::areas::seed_demo(&mut c).unwrap();
        // The org user below belongs to organisation 1.
        assert_eq!(insert_org(&mut c, "关上测试社会组织"), 1);
    }
    let bureau = app.token("bureau").await;
    let streets = json_of(app.get("/api/v1/streets", None).await, 200).await;
    let (s1, s2) = (
        streets[0]["id"].as_i64().unwrap(),
        streets[1]["id"].as_i64().unwrap(),
    );
    let s2_comm =
        json_of(app.get(&format!("/api/v1/streets/{s2}"), None).await, 200).await["communities"][0]
            ["id"]
            .as_i64()
            .unwrap();
    let post = |body: Value| {
        let app = &app;
        let bureau = bureau.clone();
        async move {
            app.send_json("POST", "/api/v1/bases", Some(&bureau), &body)
                .await
        }
    };
    let city = json_of(post(json!({"name": "市基地", "level": "city", "onsite": true, "seats": 10, "services": ["training", "office_space"]})).await, 201).await;
    let city = city["id"].as_i64().unwrap();
    let district = json_of(
        post(json!({"name": "区基地", "level": "district", "parent_id": city, "onsite": true}))
            .await,
        201,
    )
    .await;
    let district = district["id"].as_i64().unwrap();
    let street = json_of(post(json!({"name": "关上站", "level": "street", "parent_id": district, "street_id": s1, "virtual_mode": true})).await, 201).await;
    let street = street["id"].as_i64().unwrap();

    let before = dump(&app);
    let cases: Vec<(Value, &str, &str)> = vec![
        (
            json!({"name": "A", "level": "city", "parent_id": city, "onsite": true}),
            "parent_id",
            "forbidden",
        ),
        (
            json!({"name": "B", "level": "district", "onsite": true}),
            "parent_id",
            "required",
        ),
        (
            json!({"name": "C", "level": "street", "parent_id": city, "street_id": s1, "onsite": true}),
            "parent_id",
            "parent_level",
        ),
        (
            json!({"name": "D", "level": "community", "parent_id": district, "community_id": s2_comm, "onsite": true}),
            "parent_id",
            "parent_level",
        ),
        (
            json!({"name": "E", "level": "street", "parent_id": district, "onsite": true}),
            "street_id",
            "required",
        ),
        (
            json!({"name": "F", "level": "community", "parent_id": street, "community_id": s2_comm, "onsite": true}),
            "parent_id",
            "parent_area",
        ),
        (
            json!({"name": "G", "level": "district", "parent_id": city, "street_id": s1, "onsite": true}),
            "street_id",
            "forbidden",
        ),
        (
            json!({"name": "H", "level": "town", "onsite": true}),
            "level",
            "one_of",
        ),
        (json!({"name": "I", "level": "city"}), "modes", "required"),
        (
            json!({"name": "J", "level": "city", "onsite": true, "services": ["massage"]}),
            "services",
            "one_of",
        ),
        (
            json!({"name": "K", "level": "city", "onsite": true, "seats": -1}),
            "seats",
            "range",
        ),
        (
            json!({"name": "市基地", "level": "city", "onsite": true}),
            "name",
            "unique",
        ),
        (
            json!({"name": "L", "level": "district", "parent_id": 999999, "onsite": true}),
            "parent_id",
            "exists",
        ),
        (
            json!({"name": "M", "level": "city", "onsite": true, "operator_id": 999999}),
            "operator_id",
            "exists",
        ),
    ];
    for (body, field, rule) in cases {
        let v = problem(post(body.clone()).await, 422, "validation_failed").await;
        assert!(
            has_error(&v, field, rule),
            "{body} → want {field}/{rule}: {v}"
        );
    }
    // A base with bases under it keeps its level.
    let v = problem(
        app.send_json(
            "PUT",
            &format!("/api/v1/bases/{district}"),
            Some(&bureau),
            &json!({"name": "区基地", "level": "street", "parent_id": district, "street_id": s1, "onsite": true}),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    assert!(has_error(&v, "level", "has_children"), "{v}");
    // Neither an organisation nor an anonymous caller may write.
    let org_user = app.create_user("org-bases", "org", Some(1), None).await;
    let _ = org_user;
    let org = app.token("org-bases").await;
    let r = app
        .send_json(
            "POST",
            "/api/v1/bases",
            Some(&org),
            &json!({"name": "X", "level": "city", "onsite": true}),
        )
        .await;
    problem(r, 403, "forbidden").await;
    let r = app
        .send_json(
            "POST",
            "/api/v1/bases",
            None,
            &json!({"name": "X", "level": "city", "onsite": true}),
        )
        .await;
    problem(r, 401, "unauthorized").await;
    let after = dump(&app);
    // The org user's creation is the only change (users table).
    assert_eq!(
        after.lines().take(4).collect::<Vec<_>>(),
        before.lines().take(4).collect::<Vec<_>>(),
        "registry unchanged"
    );

    // A community base under the right street base; the community's street is filled in.
    let s1_comm =
        json_of(app.get(&format!("/api/v1/streets/{s1}"), None).await, 200).await["communities"][0]
            ["id"]
            .as_i64()
            .unwrap();
    let cb = json_of(post(json!({"name": "社区点", "level": "community", "parent_id": street, "community_id": s1_comm, "onsite": true, "contact_phone": "0871-63100000"})).await, 201).await;
    assert_eq!(cb["street_id"], s1);
    assert_eq!(cb["parent_name"], "关上站");
    // Edit: audited with before and after.
    let e = json_of(
        app.send_json(
            "PUT",
            &format!("/api/v1/bases/{}", cb["id"]),
            Some(&bureau),
            &json!({"name": "社区点（改）", "level": "community", "parent_id": street, "community_id": s1_comm, "onsite": true, "virtual_mode": true, "seats": 8, "services": ["coaching"]}),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(e["name"], "社区点（改）");
    assert_eq!(e["services"], json!(["coaching"]));
    use sanshe::db::schema::audit_events as a;
    let (bj, aj): (Option<String>, Option<String>) = a::table
        .filter(a::action.eq("base.update"))
        .select((a::before_json, a::after_json))
        .first(&mut app.conn())
        .unwrap();
    assert!(bj.unwrap().contains("社区点") && aj.unwrap().contains("社区点（改）"));
    app.stop().await;
}

async fn tree_coverage_and_list(b: Backend) {
    let app = TestApp::spawn(&b).await;
    seed_registry(&app);
    let tree = json_of(app.get("/api/v1/base-tree", None).await, 200).await;
    let roots = tree.as_array().unwrap();
    assert_eq!(roots.len(), 1);
    assert_eq!(roots[0]["level"], "city");
    let districts = roots[0]["children"].as_array().unwrap();
    assert_eq!(districts.len(), 1);
    let streets = districts[0]["children"].as_array().unwrap();
    assert_eq!(streets.len(), 8);
    let comms: usize = streets
        .iter()
        .map(|s| s["children"].as_array().unwrap().len())
        .sum();
    assert_eq!(comms, 23, "every third community");
    assert!(streets.iter().all(|s| s["level"] == "street"));

    let cov = json_of(app.get("/api/v1/base-coverage", None).await, 200).await;
    assert_eq!(
        (
            cov["streets_total"].as_i64(),
            cov["streets_covered"].as_i64(),
            cov["street_pct"].as_i64()
        ),
        (Some(8), Some(8), Some(100))
    );
    assert_eq!(
        (
            cov["communities_total"].as_i64(),
            cov["communities_covered"].as_i64(),
            cov["community_pct"].as_i64()
        ),
        (Some(63), Some(23), Some(36))
    );

    // Coverage changes when a street loses... a new street without a base lowers the street share.
    let bureau = app.token("bureau").await;
    json_of(
        app.send_json(
            "POST",
            "/api/v1/streets",
            Some(&bureau),
            &json!({"code": "530111009", "name": "新街道"}),
        )
        .await,
        201,
    )
    .await;
    let cov = json_of(app.get("/api/v1/base-coverage", None).await, 200).await;
    assert_eq!(
        (cov["streets_covered"].as_i64(), cov["street_pct"].as_i64()),
        (Some(8), Some(88))
    );

    // List: filters, search, paging.
    let v = json_of(app.get("/api/v1/bases?level=street", None).await, 200).await;
    assert_eq!(v["total"], 8);
    let sid = v["items"][0]["street_id"].as_i64().unwrap();
    let v = json_of(
        app.get(&format!("/api/v1/bases?street_id={sid}"), None)
            .await,
        200,
    )
    .await;
    assert!(
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|b| b["street_id"] == sid)
    );
    assert!(
        v["total"].as_i64().unwrap() >= 2,
        "the street base and its community bases: {v}"
    );
    let v = json_of(app.get("/api/v1/bases?per_page=5&page=2", None).await, 200).await;
    assert_eq!(v["total"], 33);
    assert_eq!(v["items"].as_array().unwrap().len(), 5);
    let v = json_of(
        app.get("/api/v1/bases?q=%E5%85%B3%E4%B8%8A", None).await,
        200,
    )
    .await;
    assert!(
        v["total"].as_i64().unwrap() >= 2
            && v["items"]
                .as_array()
                .unwrap()
                .iter()
                .all(|b| b["name"].as_str().unwrap().contains("关上")),
        "{v}"
    );

    // The public page: nested tree and the coverage chart.
    let html = app.get("/bases", None).await.text().await.unwrap();
    assert!(html.contains(r#"id="base-tree""#), "{html}");
    assert!(
        html.matches("<ul>").count() >= 9,
        "nested lists: district, street and community levels"
    );
    assert!(html.contains(r#"data-level="community""#));
    assert!(
        html.contains(r#"id="coverage-chart""#)
            && html.contains("bar-fill w-85")
            && html.contains("bar-fill w-35"),
        "{html}"
    );
    let html = app
        .get("/bases?level=community&page=2", None)
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("rel=\"prev\""), "paging kept");
    let en = reqwest::Client::new()
        .get(app.url("/bases"))
        .header(COOKIE, "sanshe_lang=en")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        en.contains("Coverage") && en.contains("Base tree"),
        "English page"
    );
    app.stop().await;
}

/// Every pair of states, driven through the API: the legal moves succeed, every other is a 409
/// `illegal_transition` naming both states and changes nothing.
async fn every_transition_legal_and_illegal(b: Backend) {
    let app = TestApp::spawn(&b).await;
    seed_registry(&app);
    let bureau = app.token("bureau").await;
    let city = base_id_by_level(&app, "city").await[0]["id"]
        .as_i64()
        .unwrap();
    let mut wrong = Vec::new();
    let mut n = 0;
    for from in STATES {
        for to in STATES {
            n += 1;
            let id = apply_group(&app, &bureau, city, &format!("状态组 {from}-{to}")).await;
            for step in path_to(from) {
                let r = move_to(&app, &bureau, id, step).await;
                assert_eq!(
                    r.status(),
                    200,
                    "reaching {from} by {step}: {}",
                    r.text().await.unwrap()
                );
            }
            let legal = LEGAL.contains(&(from, to));
            let before = dump(&app);
            let r = move_to(&app, &bureau, id, to).await;
            if legal {
                let v = json_of(r, 200).await;
                if v["state"] != to {
                    wrong.push(format!("{from} → {to}: state {}", v["state"]));
                }
            } else {
                let v = problem(r, 409, "illegal_transition").await;
                let (zh, en) = (
                    v["message"]["zh-CN"].as_str().unwrap(),
                    v["message"]["en"].as_str().unwrap(),
                );
                if !(en.contains(from) && en.contains(to) && zh.contains(from) && zh.contains(to)) {
                    wrong.push(format!("{from} → {to}: message does not name both: {v}"));
                }
                if dump(&app) != before {
                    wrong.push(format!("{from} → {to}: refused but the database changed"));
                }
            }
        }
    }
    assert_eq!(n, 49);
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    app.stop().await;
}

async fn deadlines_overdue_and_field_rules(b: Backend) {
    // A fixed clock: Tuesday 2025-09-30, 10:00 in Beijing (02:00 UTC), the eve of the National Day holiday.
    // The calendar data (src/domain/prc-holidays.csv) has 2025-10-01..10-08 off and Saturday 2025-10-11 as a
    // make-up working day. Every date below is worked out by hand from that.
    let now = chrono::DateTime::parse_from_rfc3339("2025-09-30T02:00:00Z")
        .unwrap()
        .with_timezone(&chrono::Utc);
    let app = TestApp::spawn_with(
        &b,
        Options {
            clock: Some(sanshe::clock::ManualClock::new(now)),
            ..Default::default()
        },
    )
    .await;
    seed_registry_at(&app, now);
    let bureau = app.token("bureau").await;
    let bases = base_id_by_level(&app, "community").await;
    // A community base offering only one mode, to test "offered".
    let only_virtual = bases
        .iter()
        .find(|b| b["virtual_mode"] == true && b["onsite"] == false)
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let city = base_id_by_level(&app, "city").await[0]["id"]
        .as_i64()
        .unwrap();

    let id = apply_group(&app, &bureau, city, "期限测试组").await;
    let v = json_of(
        app.get(&format!("/api/v1/incubations/{id}"), Some(&bureau))
            .await,
        200,
    )
    .await;
    assert_eq!(v["applied_on"], "2025-09-30");
    // Decision within 5 working days of Tue 09-30: 10-01..10-08 are holidays, so Thu 10-09 (1), Fri 10-10 (2),
    // Sat 10-11 make-up day (3), Mon 10-13 (4), Tue 10-14 (5).
    assert_eq!(v["decision_due"], "2025-10-14");
    assert_eq!(v["overdue"], false);
    assert_eq!(v["state"], "applied");

    // Field rules: each refusal names field and rule, and changes nothing.
    let before = dump(&app);
    let cases: Vec<(Value, &str, &str)> = vec![
        (json!({"to": "admitted"}), "mode", "required"),
        (json!({"to": "admitted"}), "stage", "required"),
        (
            json!({"to": "admitted", "mode": "boat", "stage": "adult"}),
            "stage",
            "one_of",
        ),
        (
            json!({"to": "rejected", "reason": "  "}),
            "reason",
            "required",
        ),
        (json!({"to": "hatched"}), "to", "one_of"),
    ];
    for (body, field, rule) in &cases {
        let v = problem(
            app.send_json(
                "PATCH",
                &format!("/api/v1/incubations/{id}"),
                Some(&bureau),
                body,
            )
            .await,
            422,
            "validation_failed",
        )
        .await;
        assert!(has_error(&v, field, rule), "{body}: {v}");
        assert_eq!(dump(&app), before, "{body}: a refusal changes nothing");
    }
    let vid = apply_group(&app, &bureau, only_virtual, "只虚拟组").await;
    let before2 = dump(&app);
    let v = problem(
        app.send_json(
            "PATCH",
            &format!("/api/v1/incubations/{vid}"),
            Some(&bureau),
            &json!({"to": "admitted", "mode": "onsite", "stage": "gestation"}),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    assert!(has_error(&v, "mode", "offered"), "{v}");
    assert_eq!(dump(&app), before2);

    // Admit, start with defaults: planned end two years on.
    json_of(move_to(&app, &bureau, id, "admitted").await, 200).await;
    let v = json_of(move_to(&app, &bureau, id, "incubating").await, 200).await;
    assert_eq!(v["start_on"], "2025-09-30");
    // The test app's incubation term is two years: 2025-09-30 → 2027-09-30.
    assert_eq!(v["planned_end"], "2027-09-30");
    assert_eq!(v["mode"], "onsite");
    assert_eq!(v["stage"], "sprouting");
    let before = dump(&app);
    let v = problem(
        app.send_json(
            "PATCH",
            &format!("/api/v1/incubations/{id}"),
            Some(&bureau),
            &json!({"to": "renewed", "planned_end": "2025-09-30"}),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    assert!(has_error(&v, "planned_end", "after_current"), "{v}");
    let v = problem(
        app.send_json(
            "PATCH",
            &format!("/api/v1/incubations/{id}"),
            Some(&bureau),
            &json!({"to": "graduated", "checklist": [{"key": "registered", "done": true}, {"key": "governance", "done": true}, {"key": "finance", "done": false}]}),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    for k in ["finance", "projects", "staff", "premises"] {
        assert!(has_error(&v, &format!("checklist.{k}"), "done"), "{k}: {v}");
    }
    assert!(!has_error(&v, "checklist.registered", "done"));
    let v = problem(
        app.send_json(
            "PATCH",
            &format!("/api/v1/incubations/{id}"),
            Some(&bureau),
            &json!({"to": "exited"}),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    assert!(has_error(&v, "reason", "required"), "{v}");
    assert_eq!(dump(&app), before, "refusals change nothing");

    // Exit: space due back within 15 working days.
    let v = json_of(move_to(&app, &bureau, id, "exited").await, 200).await;
    assert_eq!(v["exited_on"], "2025-09-30");
    // 15 working days after Tue 09-30: 10-09, 10-10, 10-11 (make-up Saturday), 10-13..10-17 (5 → 8),
    // 10-20..10-24 (→ 13), Mon 10-27 (14), Tue 10-28 (15).
    assert_eq!(v["space_return_due"], "2025-10-28");
    assert_eq!(v["exit_reason"], "测试原因");

    // Graduation records the checklist.
    let gid = apply_group(&app, &bureau, city, "出壳测试组").await;
    for s in ["admitted", "incubating", "graduated"] {
        json_of(move_to(&app, &bureau, gid, s).await, 200).await;
    }
    let v = json_of(
        app.get(&format!("/api/v1/incubations/{gid}"), Some(&bureau))
            .await,
        200,
    )
    .await;
    assert_eq!(
        v["checklist"].as_array().unwrap().len(),
        sanshe::domain::incubation::CHECKLIST.len()
    );
    assert!(
        v["checklist"]
            .as_array()
            .unwrap()
            .iter()
            .all(|i| i["done"] == true)
    );

    // Overdue: an application whose decision was due in the past.
    let late = apply_group(&app, &bureau, city, "逾期测试组").await;
    {
        use sanshe::db::schema::incubations as i;
        // Applied Sunday 2025-08-31 (30 days before 09-30); 5 working days on is Fri 2025-09-05 (no holiday
        // in that week), long past.
        let d = |s: &str| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        diesel::update(i::table.find(late))
            .set((
                i::applied_on.eq(d("2025-08-31")),
                i::decision_due.eq(d("2025-09-05")),
            ))
            .execute(&mut app.conn())
            .unwrap();
    }
    let v = json_of(
        app.get(
            "/api/v1/incubations?overdue=true&per_page=200",
            Some(&bureau),
        )
        .await,
        200,
    )
    .await;
    let items = v["items"].as_array().unwrap();
    assert!(items.iter().any(|i| i["id"] == late));
    assert!(
        items
            .iter()
            .all(|i| i["overdue"] == true && i["state"] == "applied"),
        "{v}"
    );
    assert!(!items.iter().any(|i| i["id"] == id || i["id"] == gid));
    let html = reqwest::Client::new()
        .get(app.url("/registry/incubations?overdue=1"))
        .header(COOKIE, format!("sanshe_session={bureau}"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("badge bad overdue") && html.contains("逾期测试组"),
        "{html}"
    );
    json_of(move_to(&app, &bureau, late, "admitted").await, 200).await;
    let v = json_of(
        app.get(&format!("/api/v1/incubations/{late}"), Some(&bureau))
            .await,
        200,
    )
    .await;
    assert_eq!(v["overdue"], false, "decided: no longer overdue");
    let f = json_of(app.get("/api/v1/incubation-funnel", None).await, 200).await;
    let overdue_after = f["overdue"].as_i64().unwrap();
    let v = json_of(
        app.get(
            "/api/v1/incubations?overdue=true&per_page=200",
            Some(&bureau),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(v["total"].as_i64().unwrap(), overdue_after);
    app.stop().await;
}

async fn funnel_changes_after_an_admission(b: Backend) {
    let app = TestApp::spawn(&b).await;
    seed_registry(&app);
    let bureau = app.token("bureau").await;
    let district = base_id_by_level(&app, "district").await[0]["id"]
        .as_i64()
        .unwrap();
    let id = apply_group(&app, &bureau, district, "漏斗测试组").await;
    let before = json_of(
        app.get(&format!("/api/v1/bases/{district}"), None).await,
        200,
    )
    .await["funnel"]
        .clone();
    let report_before = json_of(app.get("/api/v1/incubation-funnel", None).await, 200).await;
    json_of(move_to(&app, &bureau, id, "admitted").await, 200).await;
    let after = json_of(
        app.get(&format!("/api/v1/bases/{district}"), None).await,
        200,
    )
    .await["funnel"]
        .clone();
    assert_eq!(after["applied"], before["applied"]);
    assert_eq!(
        after["admitted"].as_i64().unwrap(),
        before["admitted"].as_i64().unwrap() + 1
    );
    assert_eq!(after["incubating"], before["incubating"]);
    let report = json_of(app.get("/api/v1/incubation-funnel", None).await, 200).await;
    assert_eq!(
        report["total"]["admitted"].as_i64().unwrap(),
        report_before["total"]["admitted"].as_i64().unwrap() + 1
    );
    let lvl = |r: &Value| {
        r["by_level"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["level"] == "district")
            .unwrap()["funnel"]["admitted"]
            .as_i64()
            .unwrap()
    };
    assert_eq!(lvl(&report), lvl(&report_before) + 1);
    // The funnel sums over levels to the total, and every state is present in the demo data.
    for k in [
        "applied",
        "admitted",
        "incubating",
        "graduated",
        "exited",
        "rejected",
    ] {
        let sum: i64 = report["by_level"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["funnel"][k].as_i64().unwrap())
            .sum();
        assert_eq!(sum, report["total"][k].as_i64().unwrap(), "{k}");
        assert!(
            report["total"][k].as_i64().unwrap() > 0,
            "demo data has {k}"
        );
    }
    // Every state in the seed.
    let v = json_of(
        app.get("/api/v1/incubations?per_page=200", Some(&bureau))
            .await,
        200,
    )
    .await;
    for s in STATES {
        assert!(
            v["items"]
                .as_array()
                .unwrap()
                .iter()
                .any(|i| i["state"] == s),
            "seeded {s}"
        );
    }
    // The base page shows the admitted bar.
    let html = app
        .get(&format!("/bases/{district}"), None)
        .await
        .text()
        .await
        .unwrap();
    assert!(
        html.contains(&format!(r#"id="funnel-admitted">{}<"#, after["admitted"])),
        "{html}"
    );
    let html = reqwest::Client::new()
        .get(app.url("/registry/incubations/overview"))
        .header(COOKIE, format!("sanshe_session={bureau}"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains(r#"id="funnel-total""#)
            && html.contains(r#"id="funnel-level-district""#)
            && html.contains("bar-fill w-"),
        "{html}"
    );
    app.stop().await;
}

async fn organisations_see_and_apply_only_for_themselves(b: Backend) {
    let app = TestApp::spawn(&b).await;
    let orgs = seed_registry(&app);
    let (own, other) = (orgs[0], orgs[1]);
    app.create_user("org-own", "org", Some(own), None).await;
    let org = app.token("org-own").await;
    let bureau = app.token("bureau").await;
    let city = base_id_by_level(&app, "city").await[0]["id"]
        .as_i64()
        .unwrap();

    let v = json_of(
        app.get("/api/v1/incubations?per_page=200", Some(&org))
            .await,
        200,
    )
    .await;
    let mine: i64 = {
        use sanshe::db::schema::incubations as i;
        i::table
            .filter(i::organisation_id.eq(own))
            .count()
            .get_result(&mut app.conn())
            .unwrap()
    };
    assert!(mine > 0);
    assert_eq!(v["total"].as_i64().unwrap(), mine);
    assert!(
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|i| i["organisation_id"] == own),
        "{v}"
    );
    // Asking for another's records by filter still yields only its own (none).
    let v = json_of(
        app.get(
            &format!("/api/v1/incubations?organisation_id={other}"),
            Some(&org),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(v["total"], 0);
    let theirs: i64 = {
        use sanshe::db::schema::incubations as i;
        i::table
            .filter(i::organisation_id.eq(other))
            .select(i::id)
            .first(&mut app.conn())
            .unwrap()
    };
    problem(
        app.get(&format!("/api/v1/incubations/{theirs}"), Some(&org))
            .await,
        404,
        "not_found",
    )
    .await;
    let r = reqwest::Client::new()
        .get(app.url(&format!("/registry/incubations/{theirs}")))
        .header(COOKIE, format!("sanshe_session={org}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);

    let before = dump(&app);
    problem(
        app.send_json(
            "POST",
            "/api/v1/incubations",
            Some(&org),
            &json!({"base_id": city, "organisation_id": other}),
        )
        .await,
        403,
        "forbidden",
    )
    .await;
    problem(
        app.send_json(
            "POST",
            "/api/v1/incubations",
            Some(&org),
            &json!({"base_id": city, "group_name": "冒名团体"}),
        )
        .await,
        403,
        "forbidden",
    )
    .await;
    let mine_id = v_first(&app, &org).await;
    problem(
        app.send_json(
            "PATCH",
            &format!("/api/v1/incubations/{mine_id}"),
            Some(&org),
            &json!({"to": "admitted", "mode": "onsite", "stage": "startup"}),
        )
        .await,
        403,
        "forbidden",
    )
    .await;
    assert_eq!(dump(&app), before, "refusals change nothing");

    // Its own application, through the page form.
    let street = base_id_by_level(&app, "street").await;
    let target = street
        .iter()
        .map(|b| b["id"].as_i64().unwrap())
        .find(|b| {
            use sanshe::db::schema::incubations as i;
            i::table
                .filter(i::organisation_id.eq(own).and(i::base_id.eq(*b)))
                .count()
                .get_result::<i64>(&mut app.conn())
                .unwrap()
                == 0
        })
        .unwrap();
    let http = client();
    let r = http
        .post(app.url("/registry/incubations/new"))
        .header(COOKIE, format!("sanshe_session={org}; sanshe_csrf=tok1"))
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(format!(
            "csrf=tok1&base_id={target}&organisation_id={other}&group_name=x"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
    let v = json_of(
        app.get("/api/v1/incubations?per_page=200&state=applied", Some(&org))
            .await,
        200,
    )
    .await;
    let new = v["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["base_id"] == target)
        .expect("applied")
        .clone();
    assert_eq!(
        new["organisation_id"], own,
        "the form applies for the user's own organisation only"
    );
    assert!(new["group_name"].is_null());
    // A second open application to the same base is refused.
    let v = problem(
        app.send_json(
            "POST",
            "/api/v1/incubations",
            Some(&org),
            &json!({"base_id": target, "organisation_id": own}),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    assert!(has_error(&v, "organisation_id", "duplicate"), "{v}");
    // It sees its own record page, without action forms.
    let html = reqwest::Client::new()
        .get(app.url(&format!("/registry/incubations/{}", new["id"])))
        .header(COOKIE, format!("sanshe_session={org}"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("官渡区阳光社工服务中心") && !html.contains("form-admitted"),
        "{html}"
    );
    // The bureau sees everyone's.
    let v = json_of(
        app.get("/api/v1/incubations?per_page=200", Some(&bureau))
            .await,
        200,
    )
    .await;
    assert!(v["total"].as_i64().unwrap() > mine);
    app.stop().await;
}

async fn v_first(app: &TestApp, token: &str) -> i64 {
    let v = json_of(app.get("/api/v1/incubations", Some(token)).await, 200).await;
    v["items"][0]["id"].as_i64().unwrap()
}

async fn record_pages_forms_and_refusals(b: Backend) {
    let app = TestApp::spawn(&b).await;
    seed_registry(&app);
    let bureau = app.token("bureau").await;
    let city = base_id_by_level(&app, "city").await[0]["id"]
        .as_i64()
        .unwrap();
    let id = apply_group(&app, &bureau, city, "页面测试组").await;
    let http = client();
    let cookie = format!("sanshe_session={bureau}; sanshe_csrf=tok2");
    let get = |path: String, cookie: String| {
        let http = http.clone();
        let url = app.url(&path);
        async move { http.get(url).header(COOKIE, cookie).send().await.unwrap() }
    };
    let html = get(format!("/registry/incubations/{id}"), cookie.clone())
        .await
        .text()
        .await
        .unwrap();
    assert!(
        html.contains(r#"id="form-admitted""#) && html.contains(r#"id="form-rejected""#),
        "{html}"
    );
    assert!(!html.contains(r#"id="form-graduated""#));
    let post = |body: String| {
        let http = http.clone();
        let url = app.url(&format!("/registry/incubations/{id}"));
        let cookie = cookie.clone();
        async move {
            http.post(url)
                .header(COOKIE, cookie)
                .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(body)
                .send()
                .await
                .unwrap()
        }
    };
    let before = dump(&app);
    // Missing reason: 422 with the error inline in the reject form.
    let r = post("csrf=tok2&to=rejected&reason=".into()).await;
    assert_eq!(r.status(), 422);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("field-error") && html.contains("必填"),
        "{html}"
    );
    // An illegal move: 409 naming both states.
    let r = post("csrf=tok2&to=graduated&cl_registered=on".into()).await;
    assert_eq!(r.status(), 409);
    let html = r.text().await.unwrap();
    assert!(
        html.contains(r#"id="transition-problem""#)
            && html.contains("出壳")
            && html.contains("已申请"),
        "{html}"
    );
    // No CSRF token: refused.
    let r = http
        .post(app.url(&format!("/registry/incubations/{id}")))
        .header(COOKIE, format!("sanshe_session={bureau}"))
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body("to=admitted&mode=onsite&stage=gestation")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(dump(&app), before);
    // Admit through the form.
    let r = post("csrf=tok2&to=admitted&mode=onsite&stage=gestation".into()).await;
    assert_eq!(r.status(), 303);
    let v = json_of(
        app.get(&format!("/api/v1/incubations/{id}"), Some(&bureau))
            .await,
        200,
    )
    .await;
    assert_eq!(
        (v["state"].as_str(), v["stage"].as_str()),
        (Some("admitted"), Some("gestation"))
    );

    // Base form: inline errors, then a good base.
    let r = http
        .post(app.url("/registry/bases/new"))
        .header(COOKIE, cookie.clone())
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(format!(
            "csrf=tok2&name=%E6%96%B0%E5%9F%BA%E5%9C%B0&level=street&parent_id={city}&onsite=on"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("上级基地须为区级基地") && html.contains("街道级基地须选择街道"),
        "{html}"
    );
    let r = http
        .post(app.url("/registry/bases/new"))
        .header(COOKIE, cookie.clone())
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(format!("csrf=tok2&name=%E6%96%B0%E5%B8%82%E5%9F%BA%E5%9C%B0&level=district&parent_id={city}&onsite=on&svc_training=on&seats=5"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let loc = r.headers()["location"].to_str().unwrap().to_string();
    let html = app.get(&loc, None).await.text().await.unwrap();
    assert!(
        html.contains("新市基地") && html.contains("能力培训"),
        "{html}"
    );
    let edit = format!("{}/edit", loc.replace("/bases/", "/registry/bases/"));
    let html = get(edit.clone(), cookie.clone())
        .await
        .text()
        .await
        .unwrap();
    assert!(
        html.contains(r#"id="base-form""#) && html.contains("新市基地"),
        "{html}"
    );

    // The record page and the base edit page refuse other roles, and send strangers to sign in.
    app.create_user("org-pages", "org", Some(1), None).await;
    for (user, status) in [("evaluator1", 403), ("finance", 403)] {
        let t = app.token(user).await;
        for path in [format!("/registry/incubations/{id}"), edit.clone()] {
            let r = get(path.clone(), format!("sanshe_session={t}")).await;
            assert_eq!(r.status(), status, "{path} as {user}");
        }
    }
    let t = app.token("org-pages").await;
    assert_eq!(
        get(edit.clone(), format!("sanshe_session={t}"))
            .await
            .status(),
        403
    );
    let r = http
        .post(app.url(&format!("/registry/incubations/{id}")))
        .header(COOKIE, format!("sanshe_session={t}; sanshe_csrf=tok3"))
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body("csrf=tok3&to=rejected&reason=x")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403, "an organisation cannot decide");
    for path in [format!("/registry/incubations/{id}"), edit] {
        let r = http.get(app.url(&path)).send().await.unwrap();
        assert_eq!(r.status(), 303, "{path} anonymous");
    }
    // A calendar warning is shown for a year without holiday data.
    {
        use sanshe::db::schema::incubations as i;
        let d = chrono::NaiveDate::from_ymd_opt(2031, 3, 3).unwrap();
        diesel::update(i::table.find(id))
            .set((
                i::applied_on.eq(d),
                i::decision_due.eq(d + chrono::Duration::days(7)),
            ))
            .execute(&mut app.conn())
            .unwrap();
    }
    let html = get(format!("/registry/incubations/{id}"), cookie.clone())
        .await
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("calendar-warning") && html.contains("2031"),
        "{html}"
    );
    let v = json_of(
        app.get(&format!("/api/v1/incubations/{id}"), Some(&bureau))
            .await,
        200,
    )
    .await;
    assert!(
        v["calendar_warnings"][0]["en"]
            .as_str()
            .unwrap()
            .contains("2031"),
        "{v}"
    );
    app.stop().await;
}

/// The bureau signs in, opens an application, admits it and sees the funnel of the base change.
async fn browser_bureau_admits_and_sees_the_funnel(b: Backend) {
    use crate::browser::Driver;
    let app = TestApp::spawn(&b).await;
    seed_registry(&app);
    let bureau = app.token("bureau").await;
    let city = base_id_by_level(&app, "city").await[0]["id"]
        .as_i64()
        .unwrap();
    let id = apply_group(&app, &bureau, city, "浏览器测试组").await;
    let admitted_before = json_of(app.get(&format!("/api/v1/bases/{city}"), None).await, 200).await
        ["funnel"]["admitted"]
        .as_i64()
        .unwrap();

    let mut driver = Driver::start();
    let browser = driver.connect().await;
    browser
        .goto(&app.url("/login?next=/registry/incubations%3Fstate%3Dapplied"))
        .await;
    browser
        .wait_page("the sign-in page", |p| p.path == "/login")
        .await;
    browser.type_into("#username", "bureau").await;
    browser.type_into("#password", PASSWORD).await;
    browser.click("#login-submit").await;
    let p = browser
        .wait_page("the applications", |p| p.path == "/registry/incubations")
        .await;
    assert!(p.text.contains("浏览器测试组"), "{p:#?}");
    browser.click(&format!("#open-{id}")).await;
    let p = browser
        .wait_page("the record", |p| {
            p.path == format!("/registry/incubations/{id}")
        })
        .await;
    assert!(p.text.contains("已申请"), "{p:#?}");
    browser.click("#do-admitted").await;
    // The decision asks first (issue 14): accepting the question sends it (no question open: an error).
    browser
        .cmd(
            reqwest::Method::POST,
            "/alert/accept",
            Some(serde_json::json!({})),
        )
        .await
        .unwrap();
    let p = browser
        .wait_page("the admitted record", |p| p.text.contains("状态已变更"))
        .await;
    assert!(p.text.contains("已入驻"), "{p:#?}");
    browser.click("#base-link").await;
    let p = browser
        .wait_page("the base page", |p| p.path == format!("/bases/{city}"))
        .await;
    assert!(p.text.contains("孵化漏斗"), "{p:#?}");
    let shown = browser.attr("#funnel-admitted", "id").await;
    assert_eq!(shown.as_deref(), Some("funnel-admitted"));
    let text = browser
        .cmd(
            reqwest::Method::POST,
            "/execute/sync",
            Some(json!({"script": "return document.getElementById('funnel-admitted').textContent;", "args": []})),
        )
        .await
        .unwrap();
    assert_eq!(
        text.as_str().unwrap().trim(),
        (admitted_before + 1).to_string(),
        "the funnel counts the admission"
    );
    browser.close().await;
    app.stop().await;
}

/// The inline error shown in the form field `field` (the `div.field` holding `<label for="field">`), and
/// whether that field is marked `has-error`.
fn field_error(html: &str, field: &str) -> Option<String> {
    let label = html
        .find(&format!(r#"<label for="{field}">"#))
        .unwrap_or_else(|| panic!("no field {field}"));
    let start = html[..label].rfind("<div class=\"field").unwrap();
    let end = label + html[label..].find("</div>").unwrap();
    let div = &html[start..end];
    let marked = div.starts_with(r#"<div class="field has-error""#);
    let err = div.find(r#"<p class="field-error">"#).map(|i| {
        let rest = &div[i + 23..];
        rest[..rest.find("</p>").unwrap()].to_string()
    });
    assert_eq!(marked, err.is_some(), "{field}: {div}");
    err
}

/// GET a form page with `c`, then post `fields` with the page's CSRF token.
async fn post_form(
    app: &TestApp,
    c: &reqwest::Client,
    page: &str,
    action: &str,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    let r = c.get(app.url(page)).send().await.unwrap();
    assert_eq!(r.status(), 200, "{page}");
    let html = r.text().await.unwrap();
    assert!(html.contains(&format!(r#"action="{action}""#)), "{html}");
    let csrf = csrf_of(&html);
    let mut form = vec![("csrf", csrf.as_str())];
    form.extend_from_slice(fields);
    c.post(app.url(action)).form(&form).send().await.unwrap()
}

/// The bureau and administrators create and edit streets and communities through the forms; every rule
/// is shown inline with the entered values kept and nothing stored; other roles are refused; the links to
/// the forms are shown only to those who may use them.
async fn area_forms_create_edit_and_refuse(b: Backend) {
    let app = TestApp::spawn(&b).await;
    seed_registry(&app);
    let streets = json_of(app.get("/api/v1/streets", None).await, 200).await;
    let (s1, s2) = (&streets[0], &streets[1]);
    let s1_id = s1["id"].as_i64().unwrap();
    let s1_code = s1["code"].as_str().unwrap().to_string();
    let d1 = json_of(
        app.get(&format!("/api/v1/streets/{s1_id}"), None).await,
        200,
    )
    .await;
    let (c1, c2) = (&d1["communities"][0], &d1["communities"][1]);
    let c1_id = c1["id"].as_i64().unwrap();
    let bureau = sign_in(&app, "bureau").await;

    // Links to the forms: shown to the bureau, not to the public nor to other roles.
    let html = bureau
        .get(app.url("/areas"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains(r#"href="/registry/areas/streets/new""#)
            && html.contains(r#"href="/registry/areas/communities/new""#)
            && html.contains(&format!(r#"href="/registry/areas/streets/{s1_id}/edit""#)),
        "{html}"
    );
    let html = bureau
        .get(app.url(&format!("/areas/{s1_id}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains(&format!(
            r#"href="/registry/areas/communities/new?street_id={s1_id}""#
        )) && html.contains(&format!(
            r#"href="/registry/areas/communities/{c1_id}/edit""#
        )) && html.contains(&format!(r#"href="/registry/areas/streets/{s1_id}/edit""#)),
        "{html}"
    );
    let evaluator = sign_in(&app, "evaluator1").await;
    for path in ["/areas".to_string(), format!("/areas/{s1_id}")] {
        let anon = app.get(&path, None).await.text().await.unwrap();
        let eval = evaluator
            .get(app.url(&path))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        for html in [anon, eval] {
            assert!(html.contains("streets-table") || html.contains("communities-table"));
            assert!(!html.contains("/registry/areas/"), "{path}: {html}");
        }
    }

    // Create a street, then a community in it, through the forms.
    let r = post_form(
        &app,
        &bureau,
        "/registry/areas/streets/new",
        "/registry/areas/streets/new",
        &[("code", " 530111009 "), ("name", "测试街道")],
    )
    .await;
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
    let loc = r.headers()["location"].to_str().unwrap().to_string();
    let sid: i64 = loc.strip_prefix("/areas/").unwrap().parse().unwrap();
    let html = bureau
        .get(app.url(&loc))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("街道已创建。") && html.contains("测试街道") && html.contains("530111009"),
        "{html}"
    );
    let v = json_of(app.get(&format!("/api/v1/streets/{sid}"), None).await, 200).await;
    assert_eq!(
        (v["street"]["code"].as_str(), v["street"]["name"].as_str()),
        (Some("530111009"), Some("测试街道"))
    );

    let new_comm = format!("/registry/areas/communities/new?street_id={sid}");
    let html = bureau
        .get(app.url(&new_comm))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains(&format!(r#"<option value="{sid}" selected>"#)),
        "the street is preselected: {html}"
    );
    let r = post_form(
        &app,
        &bureau,
        &new_comm,
        "/registry/areas/communities/new",
        &[
            ("street_id", &sid.to_string()),
            ("code", "530111009001"),
            ("name", "测试社区"),
            ("grid_count", "15"),
        ],
    )
    .await;
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
    assert_eq!(r.headers()["location"], format!("/areas/{sid}").as_str());
    let html = bureau
        .get(app.url(&format!("/areas/{sid}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("社区已创建。") && html.contains("测试社区") && html.contains("530111009001"),
        "{html}"
    );
    let v = json_of(app.get(&format!("/api/v1/streets/{sid}"), None).await, 200).await;
    let cid = v["communities"][0]["id"].as_i64().unwrap();
    assert_eq!(v["street"]["communities"], 1);
    assert_eq!(v["street"]["grids"], 15);

    // Edit the community (moving nothing but its name and grids) and the street.
    let edit_comm = format!("/registry/areas/communities/{cid}/edit");
    let html = bureau
        .get(app.url(&edit_comm))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains(r#"value="测试社区""#)
            && html.contains(r#"value="530111009001""#)
            && html.contains(r#"value="15""#)
            && html.contains(&format!(r#"<option value="{sid}" selected>"#)),
        "the form shows the stored values: {html}"
    );
    let r = post_form(
        &app,
        &bureau,
        &edit_comm,
        &edit_comm,
        &[
            ("street_id", &sid.to_string()),
            ("code", "530111009002"),
            ("name", "测试社区二"),
            ("grid_count", "20"),
        ],
    )
    .await;
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
    let v = json_of(
        app.get(&format!("/api/v1/communities/{cid}"), None).await,
        200,
    )
    .await;
    assert_eq!(
        (
            v["code"].as_str(),
            v["name"].as_str(),
            v["grid_count"].as_i64()
        ),
        (Some("530111009002"), Some("测试社区二"), Some(20))
    );
    let edit_street = format!("/registry/areas/streets/{sid}/edit");
    let r = post_form(
        &app,
        &bureau,
        &edit_street,
        &edit_street,
        &[("code", "530111009"), ("name", "测试街道新名")],
    )
    .await;
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
    assert_eq!(r.headers()["location"], format!("/areas/{sid}").as_str());
    let html = bureau
        .get(app.url(&format!("/areas/{sid}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("街道已保存。") && html.contains("测试街道新名"),
        "{html}"
    );
    // Administrators may use the forms too.
    let admin = sign_in(&app, "admin").await;
    let r = post_form(
        &app,
        &admin,
        &edit_comm,
        &edit_comm,
        &[
            ("street_id", &sid.to_string()),
            ("code", "530111009002"),
            ("name", "测试社区二"),
            ("grid_count", "21"),
        ],
    )
    .await;
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());

    // Every rule, inline in its field, with the entered values kept and nothing stored.
    let long = "长".repeat(51);
    let s2_code = s2["code"].as_str().unwrap();
    let s2_name = s2["name"].as_str().unwrap();
    let c1_code = c1["code"].as_str().unwrap();
    let c2_code = c2["code"].as_str().unwrap();
    let c2_name = c2["name"].as_str().unwrap();
    let other_street_code = format!("{s2_code}001");
    // Another street's code that is also taken breaks two rules; the page shows both.
    let prefix_msg = format!("社区代码须以街道代码 {s1_code} 开头。 该代码已被使用。");
    let s1_str = s1_id.to_string();
    let edit_s1 = format!("/registry/areas/streets/{s1_id}/edit");
    let edit_c1 = format!("/registry/areas/communities/{c1_id}/edit");
    type Case<'a> = (&'a str, Vec<(&'a str, &'a str)>, Vec<(&'a str, &'a str)>);
    let cases: Vec<Case> = vec![
        (
            "/registry/areas/streets/new",
            vec![("code", ""), ("name", "  ")],
            vec![("code", "必填。"), ("name", "必填。")],
        ),
        (
            "/registry/areas/streets/new",
            vec![("code", "53011100A"), ("name", &long)],
            vec![
                ("code", "街道代码为 9 位数字。"),
                ("name", "名称最多 50 个字。"),
            ],
        ),
        (
            "/registry/areas/streets/new",
            vec![("code", &s1_code), ("name", s2_name)],
            vec![("code", "该代码已被使用。"), ("name", "该名称已被使用。")],
        ),
        (
            &edit_s1,
            vec![("code", s2_code), ("name", s2_name)],
            vec![("code", "该代码已被使用。"), ("name", "该名称已被使用。")],
        ),
        (
            &edit_s1,
            vec![("code", "5301110011"), ("name", "")],
            vec![("code", "街道代码为 9 位数字。"), ("name", "必填。")],
        ),
        (
            "/registry/areas/communities/new",
            vec![
                ("street_id", ""),
                ("code", "530111001099"),
                ("name", "新社区"),
                ("grid_count", "3"),
            ],
            vec![("street_id", "必填。")],
        ),
        (
            "/registry/areas/communities/new",
            vec![
                ("street_id", "x"),
                ("code", "530111001099"),
                ("name", "新社区"),
                ("grid_count", "many"),
            ],
            vec![("street_id", "须为整数。"), ("grid_count", "须为整数。")],
        ),
        (
            "/registry/areas/communities/new",
            vec![
                ("street_id", "999999"),
                ("code", ""),
                ("name", ""),
                ("grid_count", "1001"),
            ],
            vec![
                ("street_id", "没有这个街道。"),
                ("code", "必填。"),
                ("name", "必填。"),
                ("grid_count", "网格数须在 0–1000 之间。"),
            ],
        ),
        (
            "/registry/areas/communities/new",
            vec![
                ("street_id", &s1_str),
                ("code", "53011100109"),
                ("name", &long),
                ("grid_count", "-1"),
            ],
            vec![
                ("code", "社区代码为 12 位数字。"),
                ("name", "名称最多 50 个字。"),
                ("grid_count", "网格数须在 0–1000 之间。"),
            ],
        ),
        (
            "/registry/areas/communities/new",
            vec![
                ("street_id", &s1_str),
                ("code", &other_street_code),
                ("name", c2_name),
                ("grid_count", "3"),
            ],
            vec![("code", &prefix_msg), ("name", "该街道已有同名社区。")],
        ),
        (
            "/registry/areas/communities/new",
            vec![
                ("street_id", &s1_str),
                ("code", c1_code),
                ("name", "新社区"),
                ("grid_count", "3"),
            ],
            vec![("code", "该代码已被使用。")],
        ),
        (
            &edit_c1,
            vec![
                ("street_id", &s1_str),
                ("code", c2_code),
                ("name", c2_name),
                ("grid_count", "3"),
            ],
            vec![
                ("code", "该代码已被使用。"),
                ("name", "该街道已有同名社区。"),
            ],
        ),
        (
            &edit_c1,
            vec![
                ("street_id", &s1_str),
                ("code", c1_code),
                ("name", "新名"),
                ("grid_count", "3.5"),
            ],
            vec![("grid_count", "须为整数。")],
        ),
    ];
    let before = dump(&app);
    for (action, fields, want) in &cases {
        // Each form posts to the address it is shown at.
        let r = post_form(&app, &bureau, action, action, fields).await;
        let what = format!("{action} {fields:?}");
        assert_eq!(r.status(), 422, "{what}");
        let html = r.text().await.unwrap();
        assert!(html.contains("请更正标出的字段。"), "{what}: {html}");
        for (field, msg) in want {
            assert_eq!(
                field_error(&html, field).as_deref(),
                Some(*msg),
                "{what}: {field}"
            );
        }
        for (field, value) in fields {
            if want.iter().all(|(f, _)| f != field) {
                assert_eq!(field_error(&html, field), None, "{what}: {field}");
            }
            let shown = if *field == "street_id" {
                value.is_empty()
                    || html.contains(&format!(r#"<option value="{value}" selected>"#))
                    || !html.contains(&format!(r#"<option value="{value}""#))
            } else {
                html.contains(&format!(r#"name="{field}" value="{value}""#))
            };
            assert!(shown, "{what}: {field} keeps {value:?}");
        }
        assert_eq!(dump(&app), before, "{what}: nothing stored");
    }

    // Without the page's CSRF token, and for other roles, nothing happens either.
    let r = bureau
        .post(app.url("/registry/areas/streets/new"))
        .form(&[("code", "530111010"), ("name", "无令牌街道")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    app.create_user("org-areas", "org", Some(1), None).await;
    let mut others = Vec::new();
    for user in ["evaluator1", "finance", "org-areas"] {
        let c = sign_in(&app, user).await;
        let csrf = csrf_of(
            &c.get(app.url("/account"))
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap(),
        );
        others.push((user, c, csrf));
    }
    // (Creating the user and signing in changed the users; the refusals below change nothing.)
    let before = dump(&app);
    for (user, c, csrf) in &others {
        for (page, fields) in [
            (
                "/registry/areas/streets/new".to_string(),
                vec![("code", "530111010"), ("name", "越权街道")],
            ),
            (
                edit_s1.clone(),
                vec![("code", s1_code.as_str()), ("name", "越权改名")],
            ),
            (
                "/registry/areas/communities/new".to_string(),
                vec![
                    ("street_id", s1_str.as_str()),
                    ("code", "530111001099"),
                    ("name", "越权社区"),
                    ("grid_count", "1"),
                ],
            ),
            (
                edit_c1.clone(),
                vec![
                    ("street_id", s1_str.as_str()),
                    ("code", c1_code),
                    ("name", "越权改名"),
                    ("grid_count", "1"),
                ],
            ),
        ] {
            let r = c.get(app.url(&page)).send().await.unwrap();
            assert_eq!(r.status(), 403, "GET {page} as {user}");
            let mut form = vec![("csrf", csrf.as_str())];
            form.extend(fields);
            let r = c.post(app.url(&page)).form(&form).send().await.unwrap();
            assert_eq!(r.status(), 403, "POST {page} as {user}");
            let r = client()
                .post(app.url(&page))
                .form(&form)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 303, "POST {page} anonymous");
        }
    }
    assert_eq!(dump(&app), before, "refused posts store nothing");
    // A street or community that does not exist: not found.
    for page in [
        "/registry/areas/streets/999999/edit",
        "/registry/areas/communities/999999/edit",
    ] {
        let r = bureau.get(app.url(page)).send().await.unwrap();
        assert_eq!(r.status(), 404, "{page}");
    }
    app.stop().await;
}

/// This module's route-table rows on registry demo data: public rows answer 2xx, allowed roles are never
/// refused, other roles are, and the sample write bodies change nothing.
async fn route_rows_on_registry_data(b: Backend) {
    let app = TestApp::spawn(&b).await;
    let orgs = seed_registry(&app);
    app.create_user("org1", "org", Some(orgs[0]), None).await;
    let users = [
        (Role::Admin, "admin"),
        (Role::Bureau, "bureau"),
        (Role::Evaluator, "evaluator1"),
        (Role::Finance, "finance"),
        (Role::Org, "org1"),
    ];
    let mut tokens = Vec::new();
    for (r, u) in users {
        tokens.push((r, app.token(u).await));
    }
    let before = dump(&app);
    for op in ROUTES {
        let body: Value = op
            .body
            .map(|b| serde_json::from_str(b).unwrap())
            .unwrap_or(Value::Null);
        let send = |t: Option<String>| {
            let app = &app;
            let body = body.clone();
            async move {
                if op.method == "GET" {
                    app.get(op.path, t.as_deref()).await
                } else {
                    app.send_json(op.method, op.path, t.as_deref(), &body).await
                }
            }
        };
        match op.access {
            Public => {
                let r = send(None).await;
                assert!(
                    r.status().is_success(),
                    "{} {}: {}",
                    op.method,
                    op.path,
                    r.status()
                );
            }
            Roles(roles) => {
                for (role, t) in &tokens {
                    let s = send(Some(t.clone())).await.status().as_u16();
                    if roles.contains(role) {
                        assert!(
                            ![400, 401, 403, 415].contains(&s) && s < 500,
                            "{} {} as {role:?}: {s}",
                            op.method,
                            op.path
                        );
                    } else {
                        assert_eq!(s, 403, "{} {} as {role:?}", op.method, op.path);
                    }
                }
                assert_eq!(send(None).await.status(), 401);
            }
        }
    }
    assert_eq!(dump(&app), before, "the sample bodies change nothing");
    app.stop().await;
}

both_backends!(
    route_rows_on_registry_data,
    areas_are_listed_and_managed,
    area_forms_create_edit_and_refuse,
    base_parent_and_level_rules,
    tree_coverage_and_list,
    every_transition_legal_and_illegal,
    deadlines_overdue_and_field_rules,
    funnel_changes_after_an_admission,
    organisations_see_and_apply_only_for_themselves,
    record_pages_forms_and_refusals,
    browser_bureau_admits_and_sees_the_funnel,
    exports_hold_exactly_the_filtered_lists,
    incubation_export_roles_and_own_records,
    export_links_carry_the_filters,
);

// ---------- CSV exports ----------

/// The rows of a CSV export (header first), after checking the content type, the attachment name and the
/// BOM. Parsed with the project's own CSV reader.
async fn csv_rows(r: reqwest::Response, filename: &str) -> Vec<Vec<String>> {
    let status = r.status().as_u16();
    let ct = r
        .headers()
        .get(CONTENT_TYPE)
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    let cd = r
        .headers()
        .get("content-disposition")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    let bytes = r.bytes().await.unwrap();
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&bytes));
    assert_eq!(ct, "text/csv; charset=utf-8");
    assert_eq!(cd, format!("attachment; filename=\"{filename}\""));
    assert!(
        bytes.starts_with(&[0xEF, 0xBB, 0xBF]),
        "UTF-8 BOM first: {:?}",
        &bytes[..bytes.len().min(8)]
    );
    let text = std::str::from_utf8(&bytes[3..]).unwrap();
    assert!(!text.starts_with('\u{feff}'), "one BOM only");
    assert!(text.ends_with("\r\n"), "lines end in CRLF");
    sanshe::registry::import::parse_csv(text)
        .unwrap()
        .into_iter()
        .map(|r| r.cells)
        .collect()
}

/// Every item of a paged JSON list (small pages, so paging is really walked).
async fn all_pages(app: &TestApp, path: &str, token: Option<&str>) -> Vec<Value> {
    let sep = if path.contains('?') { '&' } else { '?' };
    let mut out = Vec::new();
    for page in 1.. {
        let v = json_of(
            app.get(&format!("{path}{sep}per_page=7&page={page}"), token)
                .await,
            200,
        )
        .await;
        let items = v["items"].as_array().unwrap().clone();
        let total = v["total"].as_u64().unwrap() as usize;
        let done = items.is_empty();
        out.extend(items);
        if done || out.len() >= total {
            assert_eq!(out.len(), total, "{path}");
            break;
        }
    }
    out
}

fn s(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(x) => x.clone(),
        other => other.to_string(),
    }
}

/// The export of `list` with `query` against every page of the JSON list with the same query: same rows,
/// same order, the id column and the given (column, JSON field) pairs equal. Returns the row count.
async fn export_matches_list(
    app: &TestApp,
    list: &str,
    query: &str,
    token: Option<&str>,
    filename: &str,
    header: &[&str],
    cols: &[(usize, &str)],
) -> usize {
    let path = |p: &str| {
        if query.is_empty() {
            p.to_string()
        } else {
            format!("{p}?{query}")
        }
    };
    let items = all_pages(app, &path(list), token).await;
    let rows = csv_rows(
        app.get(&path(&format!("{list}/export")), token).await,
        filename,
    )
    .await;
    assert_eq!(rows[0], header, "{list}?{query}: header row");
    let rows = &rows[1..];
    assert_eq!(rows.len(), items.len(), "{list}?{query}");
    for (r, i) in rows.iter().zip(&items) {
        assert_eq!(r.len(), header.len(), "{r:?}");
        assert_eq!(r[0], s(&i["id"]), "{list}?{query}: order and ids");
        for (c, field) in cols {
            assert_eq!(r[*c], s(&i[*field]), "{list}?{query}: {field}");
        }
    }
    rows.len()
}

const INC_HEADER: &[&str] = &[
    "编号",
    "名称",
    "社会组织编号",
    "孵化基地",
    "基地层级",
    "状态",
    "决定逾期",
    "入驻方式",
    "孵化阶段",
    "申请日期",
    "决定期限",
    "决定日期",
    "不予入驻原因",
    "开始日期",
    "计划结束日期",
    "出壳日期",
    "退驻日期",
    "退驻原因",
    "场地归还期限",
];
const INC_COLS: &[(usize, &str)] = &[
    (1, "name"),
    (2, "organisation_id"),
    (3, "base_name"),
    (9, "applied_on"),
    (10, "decision_due"),
    (11, "decided_on"),
    (13, "start_on"),
    (14, "planned_end"),
];
const BASE_HEADER: &[&str] = &[
    "编号",
    "名称",
    "层级",
    "上级基地",
    "街道",
    "社区",
    "运营机构",
    "工位数",
    "地址",
    "联系人",
    "联系电话",
    "入驻方式",
    "服务内容",
];
const BASE_COLS: &[(usize, &str)] = &[
    (1, "name"),
    (3, "parent_name"),
    (4, "street_name"),
    (5, "community_name"),
    (6, "operator_name"),
    (7, "seats"),
    (8, "address"),
    (10, "contact_phone"),
];
const COMMUNITY_HEADER: &[&str] = &["编号", "社区代码", "社区", "街道代码", "街道", "网格数"];
const COMMUNITY_COLS: &[(usize, &str)] = &[(1, "code"), (2, "name"), (5, "grid_count")];

async fn exports_hold_exactly_the_filtered_lists(b: Backend) {
    let app = TestApp::spawn(&b).await;
    let orgs = seed_registry(&app);
    let bureau = app.token("bureau").await;
    let before = dump(&app);

    // Incubation records: every filter of the list, alone and combined.
    let all = all_pages(&app, "/api/v1/incubations", Some(&bureau)).await;
    assert!(all.len() > 7, "several pages of records");
    let named = all
        .iter()
        .find(|i| i["group_name"].is_string())
        .expect("a group's record");
    let part: String = s(&named["name"]).chars().skip(1).take(2).collect();
    let org_rec = all
        .iter()
        .find(|i| i["organisation_id"].is_i64())
        .map(|i| i["organisation_id"].as_i64().unwrap())
        .unwrap_or(orgs[0]);
    let base_id = s(&all[0]["base_id"]);
    let queries = [
        String::new(),
        "state=applied".into(),
        "state=incubating".into(),
        "level=community".into(),
        format!(
            "level={}&state={}",
            s(&all[0]["base_level"]),
            s(&all[0]["state"])
        ),
        "overdue=true".into(),
        format!("q={}", urlencoding(&part)),
        format!("organisation_id={org_rec}"),
        format!("base_id={base_id}"),
        "state=nonsense".into(),
    ];
    let mut counts = Vec::new();
    for q in &queries {
        counts.push(
            export_matches_list(
                &app,
                "/api/v1/incubations",
                q,
                Some(&bureau),
                "incubations.csv",
                INC_HEADER,
                INC_COLS,
            )
            .await,
        );
    }
    assert_eq!(counts[0], all.len());
    assert!(counts[1..9].iter().all(|n| *n > 0), "{counts:?}");
    assert!(counts[1..].iter().all(|n| *n < all.len()), "{counts:?}");
    assert_eq!(counts[9], 0);
    // The labels are the Chinese ones, the overdue column agrees with the filter.
    let rows = csv_rows(
        app.get("/api/v1/incubations/export?overdue=true", Some(&bureau))
            .await,
        "incubations.csv",
    )
    .await;
    assert!(rows[1..].iter().all(|r| r[5] == "已申请"), "{rows:?}");
    assert!(rows[1..].iter().all(|r| r[6] == "是"), "{rows:?}");

    // Bases: public, filtered by level, street and search.
    let bases = all_pages(&app, "/api/v1/bases", None).await;
    let street_id = bases
        .iter()
        .find(|b| b["level"] == "street")
        .map(|b| s(&b["street_id"]))
        .unwrap();
    let word = bases
        .iter()
        .find(|b| b["level"] == "street")
        .map(|b| s(&b["name"]))
        .unwrap();
    let mut counts = Vec::new();
    for q in [
        String::new(),
        "level=community".into(),
        "level=street".into(),
        format!("street_id={street_id}"),
        format!("q={}", urlencoding(&word)),
        format!("level=community&q={}", urlencoding("社区")),
    ] {
        counts.push(
            export_matches_list(
                &app,
                "/api/v1/bases",
                &q,
                None,
                "bases.csv",
                BASE_HEADER,
                BASE_COLS,
            )
            .await,
        );
    }
    assert_eq!(counts[0], bases.len());
    assert!(
        counts[1..5].iter().all(|n| *n > 0 && *n < bases.len()),
        "{counts:?}"
    );
    let rows = csv_rows(
        app.get("/api/v1/bases/export?level=street", None).await,
        "bases.csv",
    )
    .await;
    assert!(rows[1..].iter().all(|r| r[2] == "街道级"), "{rows:?}");

    // Streets: the whole list, as the list shows it.
    let streets = json_of(app.get("/api/v1/streets", None).await, 200).await;
    let streets = streets.as_array().unwrap();
    assert_eq!(streets.len(), 8);
    let rows = csv_rows(app.get("/api/v1/streets/export", None).await, "streets.csv").await;
    assert_eq!(rows[0], ["编号", "街道代码", "街道", "社区数", "网格数"]);
    assert_eq!(rows.len() - 1, streets.len());
    for (r, st) in rows[1..].iter().zip(streets) {
        let want: Vec<String> = ["id", "code", "name", "communities", "grids"]
            .iter()
            .map(|k| s(&st[*k]))
            .collect();
        assert_eq!(r, &want);
    }

    // Communities: by street and by search.
    let first_street = s(&streets[0]["id"]);
    let mut counts = Vec::new();
    for q in [
        String::new(),
        format!("street_id={first_street}"),
        format!("q={}", s(&streets[1]["code"])),
        format!("q={}", urlencoding("社区")),
    ] {
        counts.push(
            export_matches_list(
                &app,
                "/api/v1/communities",
                &q,
                None,
                "communities.csv",
                COMMUNITY_HEADER,
                COMMUNITY_COLS,
            )
            .await,
        );
    }
    assert_eq!(counts[0], 63);
    assert!(counts[1..3].iter().all(|n| *n > 0 && *n < 63), "{counts:?}");
    let rows = csv_rows(
        app.get(
            &format!("/api/v1/communities/export?street_id={first_street}"),
            None,
        )
        .await,
        "communities.csv",
    )
    .await;
    assert!(
        rows[1..]
            .iter()
            .all(|r| r[3] == s(&streets[0]["code"]) && r[4] == s(&streets[0]["name"])),
        "{rows:?}"
    );

    assert_eq!(dump(&app), before, "exports change nothing");
    app.stop().await;
}

fn urlencoding(v: &str) -> String {
    url::form_urlencoded::byte_serialize(v.as_bytes()).collect()
}

async fn incubation_export_roles_and_own_records(b: Backend) {
    let app = TestApp::spawn(&b).await;
    let orgs = seed_registry(&app);
    let (own, other) = (orgs[0], orgs[1]);
    app.create_user("org-own", "org", Some(own), None).await;
    let org = app.token("org-own").await;
    let mine: Vec<i64> = {
        use sanshe::db::schema::incubations as i;
        i::table
            .filter(i::organisation_id.eq(own))
            .order((i::applied_on.desc(), i::id.desc()))
            .select(i::id)
            .load(&mut app.conn())
            .unwrap()
    };
    assert!(!mine.is_empty());
    let rows = csv_rows(
        app.get("/api/v1/incubations/export", Some(&org)).await,
        "incubations.csv",
    )
    .await;
    let ids: Vec<i64> = rows[1..].iter().map(|r| r[0].parse().unwrap()).collect();
    assert_eq!(
        ids, mine,
        "an organisation exports its own records, all of them"
    );
    assert!(rows[1..].iter().all(|r| r[2] == own.to_string()));
    // The same filters as its list, and never another's records.
    for q in ["", "state=applied", "level=community", "overdue=true"] {
        export_matches_list(
            &app,
            "/api/v1/incubations",
            q,
            Some(&org),
            "incubations.csv",
            INC_HEADER,
            INC_COLS,
        )
        .await;
    }
    let rows = csv_rows(
        app.get(
            &format!("/api/v1/incubations/export?organisation_id={other}"),
            Some(&org),
        )
        .await,
        "incubations.csv",
    )
    .await;
    assert_eq!(
        rows,
        vec![INC_HEADER.iter().map(|h| h.to_string()).collect::<Vec<_>>()]
    );

    // Wrong roles and no token.
    for u in ["evaluator1", "finance"] {
        let t = app.token(u).await;
        problem(
            app.get("/api/v1/incubations/export", Some(&t)).await,
            403,
            "forbidden",
        )
        .await;
    }
    assert_eq!(
        app.get("/api/v1/incubations/export", None).await.status(),
        401
    );
    // A malformed filter is a problem, not a file.
    let bureau = app.token("bureau").await;
    let r = app
        .get("/api/v1/incubations/export?overdue=maybe", Some(&bureau))
        .await;
    assert_eq!(r.status(), 400);
    app.stop().await;
}

async fn export_links_carry_the_filters(b: Backend) {
    let app = TestApp::spawn(&b).await;
    let orgs = seed_registry(&app);
    app.create_user("org-own", "org", Some(orgs[0]), None).await;
    let org = app.token("org-own").await;
    let bureau = app.token("bureau").await;
    let page = |path: String, token: Option<String>| {
        let app = &app;
        async move {
            let mut r = reqwest::Client::new().get(app.url(&path));
            if let Some(t) = token {
                r = r.header(COOKIE, format!("sanshe_session={t}"));
            }
            let r = r.send().await.unwrap();
            assert_eq!(r.status(), 200, "{path}");
            r.text().await.unwrap()
        }
    };
    let link = |html: &str, id: &str| -> String {
        let at = html
            .find(&format!("id=\"{id}\""))
            .unwrap_or_else(|| panic!("{id} in page"));
        let start = html[..at].rfind("href=\"").unwrap() + 6;
        let end = start + html[start..].find('"').unwrap();
        html[start..end].replace("&amp;", "&").replace("&#38;", "&")
    };
    let html = page(
        "/registry/incubations?state=applied&level=community&overdue=1&q=".into(),
        Some(bureau.clone()),
    )
    .await;
    assert!(html.contains("导出 CSV"));
    let l = link(&html, "export-incubations");
    assert_eq!(
        l,
        "/api/v1/incubations/export?state=applied&level=community&overdue=true"
    );
    // Followed with the session cookie, the link gives the list's rows (an organisation: its own).
    for t in [&bureau, &org] {
        let r = reqwest::Client::new()
            .get(app.url(&l))
            .header(COOKIE, format!("sanshe_session={t}"))
            .send()
            .await
            .unwrap();
        let rows = csv_rows(r, "incubations.csv").await;
        let items = all_pages(
            &app,
            "/api/v1/incubations?state=applied&level=community&overdue=true",
            Some(t),
        )
        .await;
        let ids: Vec<String> = items.iter().map(|i| s(&i["id"])).collect();
        let got: Vec<String> = rows[1..].iter().map(|r| r[0].clone()).collect();
        assert_eq!(got, ids);
    }
    let html = page("/registry/incubations".into(), Some(org.clone())).await;
    assert_eq!(
        link(&html, "export-incubations"),
        "/api/v1/incubations/export"
    );

    let html = page("/bases?level=street&street_id=2&q=%E5%AE%98".into(), None).await;
    assert_eq!(
        link(&html, "export-bases"),
        "/api/v1/bases/export?q=%E5%AE%98&level=street&street_id=2"
    );
    let html = page("/bases?street_id=".into(), None).await;
    assert_eq!(link(&html, "export-bases"), "/api/v1/bases/export");
    let html = page("/areas".into(), None).await;
    assert_eq!(link(&html, "export-streets"), "/api/v1/streets/export");
    assert_eq!(
        link(&html, "export-communities"),
        "/api/v1/communities/export"
    );
    let html = page("/areas/3".into(), None).await;
    assert_eq!(
        link(&html, "export-communities"),
        "/api/v1/communities/export?street_id=3"
    );
    app.stop().await;
}

//! Input no handler may see (issue 9): a control character (NUL above all: PostgreSQL refuses it with an
//! error, SQLite stores it) in any JSON string at any depth, page form field, query parameter or path
//! segment is refused before the handler runs, naming where it was, and nothing is stored; a JSON array or
//! scalar where an object belongs is a 400; dates and date-times are read strictly (`2026-1-1`,
//! `+2026-01-01`, padding, the year 9999 are refused) and schedules have a horizon.
//!
//! Each refusal is paired with the same request without the bad part being taken, so the refusal is the
//! control character's (or the date's), not some other rule's.

use reqwest::header::CONTENT_TYPE;
use serde_json::{Value, json};

use crate::both_backends;
use crate::helpers::*;
use crate::tenders::{Fx, bid_body, bidders, create_tender, publish, setup, tender_body};

/// Every string leaf of a JSON body, at any depth: (JSON pointer, the path the API names it by).
fn string_leaves(v: &Value, ptr: &str, shown: &str, out: &mut Vec<(String, String)>) {
    match v {
        Value::String(_) => out.push((ptr.to_string(), shown.to_string())),
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                string_leaves(x, &format!("{ptr}/{i}"), &format!("{shown}[{i}]"), out);
            }
        }
        Value::Object(m) => {
            for (k, x) in m {
                let s = if shown.is_empty() {
                    k.clone()
                } else {
                    format!("{shown}.{k}")
                };
                let p = format!("{ptr}/{}", k.replace('~', "~0").replace('/', "~1"));
                string_leaves(x, &p, &s, out);
            }
        }
        _ => {}
    }
}

/// The body with `bad` spliced into the middle of the string at `ptr`.
fn spliced(body: &Value, ptr: &str, bad: &str) -> Value {
    let mut v = body.clone();
    let s = v.pointer_mut(ptr).expect("a string leaf");
    let t = s.as_str().unwrap().to_string();
    let mid = t
        .char_indices()
        .nth(t.chars().count() / 2)
        .map_or(t.len(), |(i, _)| i);
    *s = Value::String(format!("{}{bad}{}", &t[..mid], &t[mid..]));
    v
}

/// The (field, rule) pairs of a 422.
fn rules(v: &Value) -> Vec<(String, String)> {
    v["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("no errors in {v}"))
        .iter()
        .map(|e| {
            (
                e["field"].as_str().unwrap().to_string(),
                e["rule"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// Send `body` once per string in it (at any depth) with a NUL (and once with ESC) inside that string:
/// each is a 422 naming exactly that string with the rule `control_character`, and changes nothing. Then
/// the body as is, whose response is returned (the caller checks that it is taken).
async fn every_string_refused(
    app: &TestApp,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: &Value,
) -> reqwest::Response {
    let mut leaves = Vec::new();
    string_leaves(body, "", "", &mut leaves);
    assert!(!leaves.is_empty());
    for (i, (ptr, field)) in leaves.iter().enumerate() {
        let bad = if i % 3 == 2 { "\u{1b}" } else { "\u{0}" };
        let before = app.snapshot();
        let r = app
            .send_json(method, path, token, &spliced(body, ptr, bad))
            .await;
        let v = problem(r, 422, "validation_failed").await;
        assert_eq!(
            rules(&v),
            [(field.clone(), "control_character".to_string())],
            "{method} {path} {field}: {v}"
        );
        let m = &v["errors"][0]["message"];
        assert!(
            m["zh-CN"].as_str().unwrap().contains("控制字符")
                && m["en"].as_str().unwrap().contains("control character"),
            "{v}"
        );
        assert_eq!(
            app.snapshot(),
            before,
            "{method} {path} {field} changed data"
        );
    }
    app.send_json(method, path, token, body).await
}

async fn expect_status(r: reqwest::Response, status: u16) -> Value {
    let got = r.status().as_u16();
    let text = r.text().await.unwrap();
    assert_eq!(got, status, "{text}");
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

async fn nul_in_every_json_text(b: Backend) {
    let fx: Fx = setup(&b).await;
    let app = &fx.app;
    let (admin, bureau) = (app.token("admin").await, fx.b().await);
    let bidder = bidders(app, 1).remove(0);

    // Sign-in: both fields; no login attempt is counted or stored.
    let r = every_string_refused(
        app,
        "POST",
        "/api/v1/auth/login",
        None,
        &json!({"username": "bureau", "password": PASSWORD}),
    )
    .await;
    expect_status(r, 200).await;

    // A user.
    let user = json!({"username": "input-user", "display_name": "输入测试", "role": "bureau",
        "email": "input@example.org", "password": PASSWORD});
    let r = every_string_refused(app, "POST", "/api/v1/users", Some(&admin), &user).await;
    expect_status(r, 201).await;

    // An organisation, then a change of it.
    let org = json!({"name": "官渡区输入测试互助会", "kind": "community_group", "registration": "filed",
        "registered_on": "2020-05-01", "registration_authority": "官渡区民政局",
        "legal_representative": "张三", "contact_name": "李四", "contact_phone": "13912345678",
        "contact_email": "org@example.org", "address": "官渡区关上街道 1 号", "fields": ["elderly"]});
    let r = every_string_refused(app, "POST", "/api/v1/organisations", Some(&bureau), &org).await;
    let created = expect_status(r, 201).await;
    let oid = created["organisation"]["id"].as_i64().unwrap();
    let patch =
        json!({"contact_name": "王五", "address": "官渡区关上街道 2 号", "fields": ["elderly"]});
    let r = every_string_refused(
        app,
        "PATCH",
        &format!("/api/v1/organisations/{oid}"),
        Some(&bureau),
        &patch,
    )
    .await;
    expect_status(r, 200).await;

    // A social worker.
    let worker = json!({"organisation_id": bidder.org, "name": "输入社工", "phone": "13912345678",
        "certificate_level": "social_worker", "certificate_number": "SG-INPUT-1",
        "certified_on": "2020-06-01", "employment": "full_time"});
    let r = every_string_refused(
        app,
        "POST",
        "/api/v1/social-workers",
        Some(&bureau),
        &worker,
    )
    .await;
    expect_status(r, 201).await;

    // A tender draft (strings nested in criteria, instalments and targets too).
    let r = every_string_refused(
        app,
        "POST",
        "/api/v1/tenders",
        Some(&bureau),
        &tender_body("GD-IN-001"),
    )
    .await;
    let tid = expect_status(r, 201).await["id"].as_i64().unwrap();
    publish(&fx, tid).await;

    // An enquiry and a bid (plan, budget lines, attachments) by an organisation.
    let t = app.token(&bidder.user).await;
    let r = every_string_refused(
        app,
        "POST",
        &format!("/api/v1/tenders/{tid}/enquiries"),
        Some(&t),
        &json!({"question": "服务对象是否包括失能老人？"}),
    )
    .await;
    expect_status(r, 201).await;
    let r = every_string_refused(
        app,
        "POST",
        &format!("/api/v1/tenders/{tid}/bids"),
        Some(&t),
        &bid_body("input-bid-1", 18_000_000, bidder.worker),
    )
    .await;
    expect_status(r, 201).await;

    // A control character in a key is named too.
    let v = problem(
        app.send_json(
            "POST",
            "/api/v1/users",
            Some(&admin),
            &json!({"username": "k", "display_name": "k", "role": "bureau", "password": PASSWORD, "x\u{0}": 1}),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(
        rules(&v),
        [("x\\u{0}".to_string(), "control_character".to_string())]
    );
    // An imported file, read by the handler itself, is refused the same way, as a file and as JSON.
    for path in [
        "/api/v1/organisations/import",
        "/api/v1/social-workers/import",
    ] {
        let before = app.snapshot();
        let r = client()
            .post(app.url(path))
            .bearer_auth(&bureau)
            .header(CONTENT_TYPE, "text/csv")
            .body("名称\n甲\u{0}乙\n")
            .send()
            .await
            .unwrap();
        let v = problem(r, 422, "validation_failed").await;
        assert_eq!(
            rules(&v),
            [("file".to_string(), "control_character".to_string())]
        );
        let r = app
            .send_json(
                "POST",
                path,
                Some(&bureau),
                &json!({"csv": "名称\n甲\u{0}乙\n"}),
            )
            .await;
        let v = problem(r, 422, "validation_failed").await;
        assert_eq!(
            rules(&v),
            [("csv".to_string(), "control_character".to_string())],
            "{v}"
        );
        assert_eq!(app.snapshot(), before, "{path}");
    }
    // Line breaks and tabs are text (an enquiry has paragraphs).
    let r = app
        .send_json(
            "POST",
            &format!("/api/v1/tenders/{tid}/enquiries"),
            Some(&t),
            &json!({"question": "第一段。\r\n\t第二段？"}),
        )
        .await;
    expect_status(r, 201).await;
}

/// GET `path` with a query parameter holding a NUL: 400 `invalid_query` naming the parameter; without it,
/// 200.
async fn query_refused(app: &TestApp, path: &str, param: &str, token: Option<&str>) {
    let r = app
        .get(&format!("{path}?page=1&{param}=%E7%A4%BE%00"), token)
        .await;
    let v = problem(r, 400, "invalid_query").await;
    for m in [&v["message"]["zh-CN"], &v["message"]["en"]] {
        assert!(
            m.as_str().unwrap().contains(&format!("“{param}”")),
            "{path}: {v}"
        );
    }
    let r = app.get(&format!("{path}?page=1&{param}=%07"), token).await;
    problem(r, 400, "invalid_query").await;
    let r = app
        .get(&format!("{path}?page=1&{param}=%E7%A4%BE"), token)
        .await;
    assert_eq!(r.status(), 200, "{path}: {}", r.text().await.unwrap());
}

async fn nul_in_queries_and_paths(b: Backend) {
    let fx: Fx = setup(&b).await;
    let app = &fx.app;
    let (admin, bureau) = (app.token("admin").await, fx.b().await);
    let before = app.snapshot();

    query_refused(app, "/api/v1/organisations", "q", Some(&bureau)).await;
    query_refused(app, "/api/v1/public/organisations", "q", None).await;
    query_refused(app, "/api/v1/tenders", "q", Some(&bureau)).await;
    query_refused(app, "/api/v1/social-workers", "q", Some(&bureau)).await;
    query_refused(app, "/api/v1/users", "q", Some(&admin)).await;
    query_refused(app, "/api/v1/audit-events", "actor", Some(&admin)).await;
    query_refused(app, "/api/v1/organisations/export", "q", Some(&bureau)).await;

    // A path segment: 400, never a 500 (PostgreSQL) or a lookup.
    for p in [
        "/api/v1/organisations/%00",
        "/api/v1/organisations/1%00",
        "/api/v1/tenders/1/enquiries%00",
        "/api/v1/no%00such",
    ] {
        problem(app.get(p, Some(&bureau)).await, 400, "invalid_path").await;
    }

    // Pages: the search lists and a path, shown as the error page in the page's language.
    let c = sign_in(app, "bureau").await;
    for (path, param) in [
        ("/directory", "q"),
        ("/tenders", "q"),
        ("/registry/orgs", "q"),
        ("/registry/workers", "q"),
        ("/login", "next"),
    ] {
        let r = c
            .get(app.url(&format!("{path}?{param}=%E7%A4%BE%00")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400, "{path}");
        assert!(
            r.headers()[CONTENT_TYPE]
                .to_str()
                .unwrap()
                .starts_with("text/html")
        );
        let html = r.text().await.unwrap();
        assert!(
            html.contains("id=\"error-message\"") && html.contains(&format!("“{param}”")),
            "{path}: {html}"
        );
        let r = c
            .get(app.url(&format!("{path}?{param}=%E7%A4%BE")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{path}");
    }
    for p in ["/registry/orgs/%00", "/tenders/%00", "/static/app%00.css"] {
        let r = c.get(app.url(p)).send().await.unwrap();
        assert_eq!(r.status(), 400, "{p}");
    }
    assert_eq!(app.snapshot(), before);
}

/// A page form post with the CSRF token of the page at `form_page`.
async fn post_form(
    app: &TestApp,
    c: &reqwest::Client,
    form_page: &str,
    to: &str,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    let html = c
        .get(app.url(form_page))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let token = csrf_of(&html);
    let mut pairs: Vec<(&str, &str)> = vec![("csrf", token.as_str())];
    pairs.extend_from_slice(fields);
    c.post(app.url(to)).form(&pairs).send().await.unwrap()
}

/// Post a page form once per field with a NUL in that field: 422, the error page naming the field, nothing
/// stored. Returns the response of the form as given.
async fn every_form_field_refused(
    app: &TestApp,
    c: &reqwest::Client,
    form_page: &str,
    to: &str,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    for i in 0..fields.len() {
        let bad: Vec<(String, String)> = fields
            .iter()
            .enumerate()
            .map(|(j, (k, v))| {
                let v = if i == j {
                    format!("{v}\u{0}")
                } else {
                    v.to_string()
                };
                (k.to_string(), v)
            })
            .collect();
        let bad: Vec<(&str, &str)> = bad.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let before = app.snapshot();
        let r = post_form(app, c, form_page, to, &bad).await;
        assert_eq!(r.status(), 422, "{to} {}", fields[i].0);
        let html = r.text().await.unwrap();
        let field = fields[i].0;
        assert!(
            html.contains("id=\"error-details\"")
                && html.contains(&format!("{field}: "))
                && html.contains("U+0000"),
            "{to} {field}: {html}"
        );
        assert_eq!(app.snapshot(), before, "{to} {field} changed data");
    }
    post_form(app, c, form_page, to, fields).await
}

async fn nul_in_page_forms(b: Backend) {
    let fx: Fx = setup(&b).await;
    let app = &fx.app;

    // The sign-in page: no 500 on PostgreSQL, no attempt counted; then the same form signs in.
    let c = client();
    let r = every_form_field_refused(
        app,
        &c,
        "/login",
        "/login",
        &[
            ("username", "bureau"),
            ("password", PASSWORD),
            ("next", "/dashboard"),
        ],
    )
    .await;
    assert_eq!(r.status(), 303);

    // The organisation form, the user form and the tender form.
    let c = sign_in(app, "bureau").await;
    let r = every_form_field_refused(
        app,
        &c,
        "/registry/orgs/new",
        "/registry/orgs/new",
        &[
            ("name", "官渡区页面测试互助会"),
            ("kind", "community_group"),
            ("registration", "filed"),
            ("contact_name", "李四"),
            ("address", "官渡区关上街道 3 号"),
        ],
    )
    .await;
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
    let r = every_form_field_refused(
        app,
        &c,
        "/tenders/new",
        "/tenders/new",
        &[
            ("code", "GD-PG-001"),
            ("title", "页面测试项目"),
            ("description", "两行\r\n说明"),
        ],
    )
    .await;
    // Taken as far as the form goes: the draft's own rules answer (not a control character).
    assert_eq!(r.status(), 422);
    assert!(!r.text().await.unwrap().contains("U+0000"));
    let c = sign_in(app, "admin").await;
    let r = every_form_field_refused(
        app,
        &c,
        "/admin/users/new",
        "/admin/users/new",
        &[
            ("username", "page-input"),
            ("display_name", "页面输入"),
            ("email", "page@example.org"),
            ("role", "bureau"),
            ("password", PASSWORD),
        ],
    )
    .await;
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
}

async fn json_of_the_wrong_shape(b: Backend) {
    let app = TestApp::spawn(&b).await;
    let (admin, bureau) = (app.token("admin").await, app.token("bureau").await);
    let before = app.snapshot();
    for (path, token) in [
        ("/api/v1/auth/login", None),
        ("/api/v1/users", Some(admin.as_str())),
        ("/api/v1/organisations", Some(bureau.as_str())),
        ("/api/v1/tenders", Some(bureau.as_str())),
    ] {
        for body in [
            json!([]),
            json!([{"username": "bureau", "password": PASSWORD}]),
            json!("bureau"),
            json!(12),
            json!(null),
            json!(true),
        ] {
            let r = app.send_json("POST", path, token, &body).await;
            let v = problem(r, 400, "invalid_json").await;
            assert!(
                v["message"]["en"]
                    .as_str()
                    .unwrap()
                    .contains("body must be a JSON object"),
                "{path} {body}: {v}"
            );
        }
    }
    // Not even by position: serde alone would read `["bureau", password]` as a sign-in.
    let r = app
        .send_json(
            "POST",
            "/api/v1/auth/login",
            None,
            &json!(["bureau", PASSWORD]),
        )
        .await;
    problem(r, 400, "invalid_json").await;
    assert_eq!(app.snapshot(), before);
}

const BAD_DATES: &[&str] = &[
    "+2026-01-01",
    "2026-1-1",
    "2020-01-1",
    " 2020-01-01",
    "2020-01-01 ",
    "2020-01-01x",
    "02020-01-01",
    "2020/01/01",
    "2020-02-30",
    "9999-01-01",
    "1899-12-31",
    "2020-01-01T00:00",
];

/// POST `body` with `field` set to each bad date: 422 naming `field` with `rule`; nothing stored.
async fn dates_refused(
    app: &TestApp,
    path: &str,
    token: &str,
    body: &Value,
    field: &str,
    bad: &[&str],
    rule: &str,
) {
    for d in bad {
        let mut v = body.clone();
        v[field] = json!(d);
        let before = app.snapshot();
        let p = problem(
            app.send_json("POST", path, Some(token), &v).await,
            422,
            "validation_failed",
        )
        .await;
        assert!(
            rules(&p).contains(&(field.to_string(), rule.to_string())),
            "{path} {field}={d:?}: {p}"
        );
        assert_eq!(app.snapshot(), before, "{path} {field}={d:?}");
    }
}

async fn strict_dates(b: Backend) {
    let fx: Fx = setup(&b).await;
    let app = &fx.app;
    let bureau = fx.b().await;
    let bidder = bidders(app, 1).remove(0);

    // Registration date, then the same body with a good date is taken.
    let org = json!({"name": "官渡区日期测试互助会", "kind": "community_group", "registration": "filed",
        "registered_on": "2020-05-01"});
    dates_refused(
        app,
        "/api/v1/organisations",
        &bureau,
        &org,
        "registered_on",
        BAD_DATES,
        "date",
    )
    .await;
    expect_status(
        app.send_json("POST", "/api/v1/organisations", Some(&bureau), &org)
            .await,
        201,
    )
    .await;

    // A social worker's certificate date.
    let worker = json!({"organisation_id": bidder.org, "name": "日期社工", "certificate_level": "social_worker",
        "certificate_number": "SG-DATE-1", "certified_on": "2020-06-01", "employment": "full_time"});
    dates_refused(
        app,
        "/api/v1/social-workers",
        &bureau,
        &worker,
        "certified_on",
        BAD_DATES,
        "date",
    )
    .await;
    expect_status(
        app.send_json("POST", "/api/v1/social-workers", Some(&bureau), &worker)
            .await,
        201,
    )
    .await;

    // An inspection's decision date.
    let insp = json!({"organisation_id": bidder.org, "year": 2010, "kind": "inspection",
        "conclusion": "pass", "decided_on": "2020-03-01"});
    dates_refused(
        app,
        "/api/v1/organisation-inspections",
        &bureau,
        &insp,
        "decided_on",
        BAD_DATES,
        "date",
    )
    .await;
    expect_status(
        app.send_json(
            "POST",
            "/api/v1/organisation-inspections",
            Some(&bureau),
            &insp,
        )
        .await,
        201,
    )
    .await;

    // Tender deadlines: the documented forms only, and not beyond the horizon (ten years).
    let tender = tender_body("GD-DT-001");
    let bad_times = [
        "+2026-03-23T10:00",
        "2026-3-23T10:00",
        "2026-03-23T9:00",
        " 2026-03-23T10:00",
        "2026-03-23T10:00 ",
        "2026-03-23T10:00:60",
        "2026-03-23",
        "9999-03-23T10:00",
        "9999-12-31T23:59:59Z",
    ];
    for field in ["enquiry_deadline", "bid_deadline", "opening_at"] {
        dates_refused(
            app,
            "/api/v1/tenders",
            &bureau,
            &tender,
            field,
            &bad_times,
            "datetime",
        )
        .await;
        // 2037 is a date, but more than ten years after the clock (2 March 2026).
        dates_refused(
            app,
            "/api/v1/tenders",
            &bureau,
            &tender,
            field,
            &["2037-03-23T10:00", "2036-03-02T10:00:01+08:00"],
            "horizon",
        )
        .await;
    }
    let mut all_far = tender.clone();
    for field in ["enquiry_deadline", "bid_deadline", "opening_at"] {
        all_far[field] = json!("9999-12-31T23:59");
    }
    let p = problem(
        app.send_json("POST", "/api/v1/tenders", Some(&bureau), &all_far)
            .await,
        422,
        "validation_failed",
    )
    .await;
    for field in ["enquiry_deadline", "bid_deadline", "opening_at"] {
        assert!(
            rules(&p).contains(&(field.to_string(), "datetime".to_string())),
            "{p}"
        );
    }
    // The documented forms are taken: Beijing time with or without seconds, or with an offset.
    let mut t = tender.clone();
    t["enquiry_deadline"] = json!("2026-03-17 10:00");
    t["bid_deadline"] = json!("2026-03-23T02:00:00Z");
    create_tender(&fx, &t).await;
    create_tender(&fx, &tender_body("GD-DT-002")).await;

    // The audit list's day filter reads dates the same way.
    let admin = app.token("admin").await;
    for d in ["2026-1-1", "+2026-01-01", "9999-01-01"] {
        let p = problem(
            app.get(&format!("/api/v1/audit-events?from={d}"), Some(&admin))
                .await,
            422,
            "validation_failed",
        )
        .await;
        assert_eq!(rules(&p), [("from".to_string(), "date".to_string())], "{d}");
    }
    assert_eq!(
        app.get("/api/v1/audit-events?from=2026-01-01", Some(&admin))
            .await
            .status(),
        200
    );
}

both_backends!(
    nul_in_every_json_text,
    nul_in_queries_and_paths,
    nul_in_page_forms,
    json_of_the_wrong_shape,
    strict_dates,
);

//! No lost updates: for every PATCH and PUT route, concurrent writes to one record all land (or, for a
//! one-way step, exactly one wins and the others are told), each audit event's `before` is the previous
//! event's `after`, and a write that names a version (`If-Match`, the form's hidden field) that is no longer
//! current is refused with 412 `stale_version`, carrying the current values, and changes nothing.

use diesel::prelude::*;
use serde_json::{Value, json};
use tokio::task::JoinSet;

use crate::both_backends;
use crate::helpers::*;

/// One request of a burst: method, path, bearer token, body, `If-Match`.
#[derive(Clone)]
struct Req {
    method: &'static str,
    path: String,
    token: String,
    body: Value,
    if_match: Option<String>,
}

fn req(method: &'static str, path: &str, token: &str, body: Value) -> Req {
    Req {
        method,
        path: path.to_string(),
        token: token.to_string(),
        body,
        if_match: None,
    }
}

/// Send every request at once (they wait at a barrier); (status, body) of each, in the order given. Any
/// refusal is problem+json; nothing answers 5xx.
async fn burst(app: &TestApp, reqs: Vec<Req>) -> Vec<(u16, Value)> {
    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(reqs.len()));
    let mut set = JoinSet::new();
    for (i, r) in reqs.into_iter().enumerate() {
        let (url, barrier) = (app.url(&r.path), barrier.clone());
        set.spawn(async move {
            barrier.wait().await;
            let mut b = client()
                .request(r.method.parse().unwrap(), url)
                .bearer_auth(&r.token)
                .json(&r.body);
            if let Some(v) = &r.if_match {
                b = b.header("If-Match", v);
            }
            let resp = b.send().await.unwrap();
            let status = resp.status().as_u16();
            let ct = resp
                .headers()
                .get("content-type")
                .map(|v| v.to_str().unwrap_or("").to_string())
                .unwrap_or_default();
            let v: Value = resp.json().await.unwrap_or(Value::Null);
            assert!(status < 500, "{status} {v}");
            if status >= 400 {
                assert_eq!(ct, "application/problem+json", "{status} {v}");
            }
            (i, status, v)
        });
    }
    let mut out = Vec::new();
    while let Some(r) = set.join_next().await {
        out.push(r.unwrap());
    }
    out.sort_by_key(|(i, _, _)| *i);
    out.into_iter().map(|(_, s, v)| (s, v)).collect()
}

/// The audit trail of one record: each event's `before` equals the previous event's `after` (the first
/// event with a `before` may follow nothing recorded, e.g. seeded data). Returns how many events it checked.
fn audit_is_continuous(app: &TestApp, entity: &str, id: i64) -> usize {
    use sanshe::db::schema::audit_events as a;
    let rows: Vec<(i64, String, Option<String>, Option<String>)> = a::table
        .filter(a::entity_type.eq(entity))
        .filter(a::entity_id.eq(id.to_string()))
        .order(a::seq)
        .select((a::seq, a::action, a::before_json, a::after_json))
        .load(&mut app.conn())
        .unwrap();
    let parse = |s: &Option<String>| {
        s.as_deref()
            .map(|t| serde_json::from_str::<Value>(t).unwrap())
    };
    let keys = |v: &Value| {
        v.as_object()
            .map(|o| o.keys().cloned().collect::<Vec<_>>())
            .unwrap_or_default()
    };
    // A record can have several facets with their own events (a tender's life-cycle state, its terms): an
    // event continues the last one that recorded the same facet (the same fields).
    let mut checked = 0;
    for (i, (seq, action, before, _)) in rows.iter().enumerate() {
        let Some(before) = parse(before) else {
            continue;
        };
        let prev = rows[..i].iter().rev().find_map(|(s, act, _, after)| {
            parse(after)
                .filter(|a| keys(a) == keys(&before))
                .map(|a| (s, act, a))
        });
        if let Some((pseq, pact, after)) = prev {
            assert_eq!(
                before, after,
                "{entity} {id}: event {seq} ({action}) starts from what event {pseq} ({pact}) left"
            );
            checked += 1;
        }
    }
    checked
}

async fn etag_of(app: &TestApp, path: &str, token: &str) -> (Value, String) {
    let r = app.get(path, Some(token)).await;
    assert_eq!(r.status(), 200, "{path}");
    let tag = r
        .headers()
        .get("etag")
        .unwrap_or_else(|| panic!("{path} gives an ETag"))
        .to_str()
        .unwrap()
        .to_string();
    (r.json().await.unwrap(), tag)
}

fn one_id(app: &TestApp, sql: &str) -> i64 {
    #[derive(QueryableByName)]
    struct Id {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        id: i64,
    }
    diesel::sql_query(sql)
        .get_result::<Id>(&mut app.conn())
        .unwrap()
        .id
}

async fn demo(b: &Backend) -> TestApp {
    TestApp::spawn_with(
        b,
        Options {
            registry_demo: true,
            ..Default::default()
        },
    )
    .await
}

/// PATCH /organisations: the bureau changes the volunteer and staff counts and the address while the
/// organisation changes its phone and contact, all at once, twenty times over; every change lands every time
/// and the audit trail is continuous.
async fn organisation_patches_both_land(b: Backend) {
    let app = demo(&b).await;
    let bureau = app.token("bureau").await;
    let id = one_id(&app, "SELECT MIN(id) AS id FROM organisations");
    let org = app.token(&format!("org{id:03}")).await;
    let path = format!("/api/v1/organisations/{id}");
    for i in 0..20 {
        let phone = format!("139{i:08}");
        let answers = burst(
            &app,
            vec![
                req("PATCH", &path, &bureau, json!({"volunteer_count": 100 + i})),
                req("PATCH", &path, &org, json!({"contact_phone": phone})),
                req(
                    "PATCH",
                    &path,
                    &bureau,
                    json!({"address": format!("测试路{i}号")}),
                ),
                req(
                    "PATCH",
                    &path,
                    &org,
                    json!({"contact_name": format!("联系人{i}")}),
                ),
                req("PATCH", &path, &bureau, json!({"staff_count": 10 + i})),
            ],
        )
        .await;
        assert!(answers.iter().all(|(s, _)| *s == 200), "{answers:?}");
        let (v, _) = etag_of(&app, &path, &bureau).await;
        let o = &v["organisation"];
        assert_eq!(o["volunteer_count"], 100 + i, "round {i}: {o}");
        assert_eq!(o["contact_phone"], phone, "round {i}: {o}");
        assert_eq!(o["address"], format!("测试路{i}号"), "round {i}: {o}");
        assert_eq!(o["contact_name"], format!("联系人{i}"), "round {i}: {o}");
        assert_eq!(o["staff_count"], 10 + i, "round {i}: {o}");
    }
    assert!(audit_is_continuous(&app, "organisation", id) >= 99);
}

/// PATCH /users: two administrators change the name and the e-mail at once; both land.
async fn user_patches_both_land(b: Backend) {
    let app = TestApp::spawn(&b).await;
    let admin = app.token("admin").await;
    let id = app.create_user("clerk9", "bureau", None, None).await;
    let path = format!("/api/v1/users/{id}");
    for i in 0..10 {
        let answers = burst(
            &app,
            vec![
                req(
                    "PATCH",
                    &path,
                    &admin,
                    json!({"display_name": format!("办事员{i}")}),
                ),
                req(
                    "PATCH",
                    &path,
                    &admin,
                    json!({"email": format!("c{i}@example.cn")}),
                ),
            ],
        )
        .await;
        assert!(answers.iter().all(|(s, _)| *s == 200), "{answers:?}");
        let (v, _) = etag_of(&app, &path, &admin).await;
        assert_eq!(v["display_name"], format!("办事员{i}"));
        assert_eq!(v["email"], format!("c{i}@example.cn"));
    }
    assert!(audit_is_continuous(&app, "user", id) >= 19);
}

/// PATCH /streets and /communities: name and code (grid count) changed at once; both land.
async fn area_patches_both_land(b: Backend) {
    let app = demo(&b).await;
    let bureau = app.token("bureau").await;
    let street = one_id(&app, "SELECT MIN(id) AS id FROM streets");
    // On another street: a community's code starts with its street's, which this test changes.
    let community = one_id(
        &app,
        &format!("SELECT MIN(id) AS id FROM communities WHERE street_id <> {street}"),
    );
    let spath = format!("/api/v1/streets/{street}");
    let cpath = format!("/api/v1/communities/{community}");
    let (s0, _) = etag_of(&app, &spath, &bureau).await;
    let district = s0["street"]["code"].as_str().unwrap()[..6].to_string();
    for i in 0..10 {
        let code = format!("{district}9{i:02}");
        let answers = burst(
            &app,
            vec![
                req(
                    "PATCH",
                    &spath,
                    &bureau,
                    json!({"name": format!("测试街道{i}")}),
                ),
                req("PATCH", &spath, &bureau, json!({"code": code})),
                req(
                    "PATCH",
                    &cpath,
                    &bureau,
                    json!({"name": format!("测试社区{i}")}),
                ),
                req("PATCH", &cpath, &bureau, json!({"grid_count": 10 + i})),
            ],
        )
        .await;
        assert!(answers.iter().all(|(s, _)| *s == 200), "{answers:?}");
        let (s, _) = etag_of(&app, &spath, &bureau).await;
        assert_eq!(s["street"]["name"], format!("测试街道{i}"));
        assert_eq!(s["street"]["code"], code);
        let (c, _) = etag_of(&app, &cpath, &bureau).await;
        assert_eq!(c["name"], format!("测试社区{i}"));
        assert_eq!(c["grid_count"], 10 + i);
    }
    assert!(audit_is_continuous(&app, "street", street) >= 19);
    assert!(audit_is_continuous(&app, "community", community) >= 19);
}

/// The routes that replace a whole record (PUT /bases, PUT /tenders, PATCH /social-workers with the full
/// state): two writers who read the same version race; exactly one lands, the other gets 412 with the
/// current values, and the loser's values are nowhere. Without a version both land, one after the other,
/// and the audit trail says so.
async fn full_replacements_refuse_the_stale_writer(b: Backend) {
    let app = demo(&b).await;
    let bureau = app.token("bureau").await;

    // A draft tender.
    let draft = crate::tenders::tender_body_at("LU-1", chrono::Utc::now());
    let r = app
        .send_json("POST", "/api/v1/tenders", Some(&bureau), &draft)
        .await;
    assert_eq!(r.status(), 201);
    let tender = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let base = one_id(&app, "SELECT MIN(id) AS id FROM bases");
    let worker = one_id(&app, "SELECT MIN(id) AS id FROM social_workers");

    for (path, edit) in [
        (format!("/api/v1/tenders/{tender}"), "title"),
        (format!("/api/v1/bases/{base}"), "name"),
        (format!("/api/v1/social-workers/{worker}"), "name"),
    ] {
        let method = if path.contains("social-workers") {
            "PATCH"
        } else {
            "PUT"
        };
        // The state to send back is the record's input: read it the way a client would.
        let input = input_of(&app, &path, &bureau).await;
        for round in 0..5 {
            let (_, tag) = etag_of(&app, &path, &bureau).await;
            let mut a = input.clone();
            a[edit] = json!(format!("甲{round}"));
            let mut b2 = input.clone();
            b2[edit] = json!(format!("乙{round}"));
            let mut ra = req(method, &path, &bureau, a);
            ra.if_match = Some(tag.clone());
            let mut rb = req(method, &path, &bureau, b2);
            rb.if_match = Some(tag.clone());
            let before = app.snapshot();
            let answers = burst(&app, vec![ra, rb]).await;
            let won: Vec<usize> = (0..2).filter(|i| answers[*i].0 == 200).collect();
            assert_eq!(won.len(), 1, "{path}: one writer wins: {answers:?}");
            let lost = &answers[1 - won[0]];
            assert_eq!(lost.0, 412, "{path}: {answers:?}");
            assert_eq!(lost.1["code"], "stale_version");
            let winner = if won[0] == 0 { "甲" } else { "乙" };
            assert_eq!(
                lost.1["current"][edit],
                format!("{winner}{round}"),
                "{path}: the 412 shows what is there now"
            );
            assert_ne!(app.snapshot(), before);
            let (now, tag2) = etag_of(&app, &path, &bureau).await;
            assert_ne!(tag2, tag, "{path}: a change gives a new version");
            assert!(now.to_string().contains(&format!("{winner}{round}")));
            // The stale version stays refused, and a refusal changes nothing.
            let before = app.snapshot();
            let mut again = req(method, &path, &bureau, input.clone());
            again.if_match = Some(tag);
            let answers = burst(&app, vec![again]).await;
            assert_eq!(answers[0].0, 412, "{path}");
            assert_eq!(app.snapshot(), before, "{path}: a 412 changes nothing");
        }
        // Without a version, both land one after the other.
        let mut a = input.clone();
        a[edit] = json!("丙");
        let mut b2 = input.clone();
        b2[edit] = json!("丁");
        let answers = burst(
            &app,
            vec![
                req(method, &path, &bureau, a),
                req(method, &path, &bureau, b2),
            ],
        )
        .await;
        assert!(
            answers.iter().all(|(s, _)| *s == 200),
            "{path}: {answers:?}"
        );
    }
    assert!(audit_is_continuous(&app, "tender", tender) >= 6);
    assert!(audit_is_continuous(&app, "base", base) >= 6);
    assert!(audit_is_continuous(&app, "social_worker", worker) >= 6);
}

/// The body that reproduces a record, as its edit form would send it.
async fn input_of(app: &TestApp, path: &str, token: &str) -> Value {
    let (v, _) = etag_of(app, path, token).await;
    if path.contains("/tenders/") {
        let mut t = crate::tenders::tender_body_at("LU-1", chrono::Utc::now());
        t["title"] = v["title"].clone();
        return t;
    }
    if path.contains("/bases/") {
        let b = &v["base"];
        return json!({
            "name": b["name"], "level": b["level"], "parent_id": b["parent_id"], "street_id": b["street_id"],
            "community_id": b["community_id"], "operator_id": b["operator_id"], "seats": b["seats"],
            "address": b["address"], "contact_name": b["contact_name"], "contact_phone": b["contact_phone"],
            "onsite": b["onsite"], "virtual_mode": b["virtual_mode"], "services": b["services"],
        });
    }
    json!({
        "organisation_id": v["organisation_id"], "name": v["name"], "phone": "13800001111",
        "certificate_level": v["certificate_level"], "certificate_number": v["certificate_number"],
        "certified_on": v["certified_on"], "employment": v["employment"], "street_ids": [],
    })
}

/// One-way steps (PATCH /incubations, /credit-listings, /change-requests): the same step sent twice at once
/// is taken once; the other answer says it was already taken, and the trail has one event.
async fn one_way_steps_are_taken_once(b: Backend) {
    let app = demo(&b).await;
    let bureau = app.token("bureau").await;

    let inc = one_id(
        &app,
        "SELECT MIN(id) AS id FROM incubations WHERE state = 'applied'",
    );
    let path = format!("/api/v1/incubations/{inc}");
    let body = json!({"to": "admitted", "mode": "onsite", "stage": "sprouting"});
    let answers = burst(
        &app,
        vec![
            req("PATCH", &path, &bureau, body.clone()),
            req("PATCH", &path, &bureau, body),
        ],
    )
    .await;
    let mut s: Vec<u16> = answers.iter().map(|(s, _)| *s).collect();
    s.sort();
    assert_eq!(s, vec![200, 409], "{answers:?}");
    audit_is_continuous(&app, "incubation", inc);

    // A listing, removed twice at once.
    let org = one_id(&app, "SELECT MIN(id) AS id FROM organisations");
    let today = (chrono::Utc::now() + chrono::Duration::hours(8)).date_naive();
    let r = app
        .send_json(
            "POST",
            "/api/v1/credit-listings",
            Some(&bureau),
            &json!({"organisation_id": org, "list": "abnormal", "source": "信用中国",
                "listed_on": (today - chrono::Duration::days(10)).to_string(), "evidence_sha256": "a".repeat(64)}),
        )
        .await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let listing = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let path = format!("/api/v1/credit-listings/{listing}");
    let body = json!({"removed_on": today.to_string()});
    let answers = burst(
        &app,
        vec![
            req("PATCH", &path, &bureau, body.clone()),
            req("PATCH", &path, &bureau, body),
        ],
    )
    .await;
    let mut s: Vec<u16> = answers.iter().map(|(s, _)| *s).collect();
    s.sort();
    assert_eq!(s, vec![200, 422], "{answers:?}");

    // A change request approved and rejected at once: one decision.
    let orgt = app.token(&format!("org{org:03}")).await;
    let r = app
        .send_json(
            "PATCH",
            &format!("/api/v1/organisations/{org}"),
            Some(&orgt),
            &json!({"name": "官渡区并发测试中心"}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let cr = r.json::<Value>().await.unwrap()["change_request"]["id"]
        .as_i64()
        .unwrap();
    let path = format!("/api/v1/change-requests/{cr}");
    let answers = burst(
        &app,
        vec![
            req("PATCH", &path, &bureau, json!({"decision": "approve"})),
            req(
                "PATCH",
                &path,
                &bureau,
                json!({"decision": "reject", "reason": "重复"}),
            ),
        ],
    )
    .await;
    let mut s: Vec<u16> = answers.iter().map(|(s, _)| *s).collect();
    s.sort();
    assert_eq!(s, vec![200, 409], "{answers:?}");
    use sanshe::db::schema::audit_events as a;
    let decided: i64 = a::table
        .filter(a::entity_type.eq("change_request"))
        .filter(a::entity_id.eq(cr.to_string()))
        .filter(a::action.ne("change_request.create"))
        .count()
        .get_result(&mut app.conn())
        .unwrap();
    assert_eq!(decided, 1, "one decision recorded");
    audit_is_continuous(&app, "organisation", org);
}

/// If-Match on a PATCH: the current version passes and gives the next; an old one gets 412 with the
/// current values and changes nothing; `*` and no header mean "whatever is there".
async fn if_match_on_a_patch(b: Backend) {
    let app = demo(&b).await;
    let bureau = app.token("bureau").await;
    let id = one_id(&app, "SELECT MIN(id) AS id FROM organisations");
    let path = format!("/api/v1/organisations/{id}");
    let (_, v1) = etag_of(&app, &path, &bureau).await;
    let send = |tag: &str, body: Value| {
        let mut r = req("PATCH", &path, &bureau, body);
        r.if_match = Some(tag.to_string());
        r
    };
    let a = burst(&app, vec![send(&v1, json!({"volunteer_count": 7}))]).await;
    assert_eq!(a[0].0, 200, "{a:?}");
    let (_, v2) = etag_of(&app, &path, &bureau).await;
    assert_ne!(v1, v2);
    let before = app.snapshot();
    let a = burst(&app, vec![send(&v1, json!({"volunteer_count": 8}))]).await;
    assert_eq!(a[0].0, 412, "{a:?}");
    assert_eq!(a[0].1["code"], "stale_version");
    assert_eq!(a[0].1["current"]["volunteer_count"], 7);
    assert_eq!(format!("\"{}\"", a[0].1["version"].as_str().unwrap()), v2);
    assert!(
        a[0].1["message"]["zh-CN"]
            .as_str()
            .unwrap()
            .contains("他人修改")
    );
    assert_eq!(app.snapshot(), before, "a 412 changes nothing");
    let a = burst(&app, vec![send("*", json!({"volunteer_count": 9}))]).await;
    assert_eq!(a[0].0, 200, "{a:?}");
}

/// The edit page: a form opened before someone else's change comes back with 412, the notice "changed by
/// someone else", both values side by side and the typed values kept; nothing is saved until the person
/// sends it again (now carrying the current version).
async fn edit_page_shows_the_other_change(b: Backend) {
    let app = demo(&b).await;
    let id = one_id(&app, "SELECT MIN(id) AS id FROM organisations");
    let page = sign_in(&app, "bureau").await;
    let url = app.url(&format!("/registry/orgs/{id}/edit"));
    let html = page.get(&url).send().await.unwrap().text().await.unwrap();
    let version = hidden(&html, "version");
    let mut fields = form_fields(&html);
    // Someone else changes the phone meanwhile.
    let bureau = app.token("bureau").await;
    let r = app
        .send_json(
            "PATCH",
            &format!("/api/v1/organisations/{id}"),
            Some(&bureau),
            &json!({"contact_phone": "13700000001"}),
        )
        .await;
    assert_eq!(r.status(), 200);
    set(&mut fields, "contact_phone", "13900000002");
    set(&mut fields, "version", &version);
    let before = app.snapshot();
    let r = page.post(&url).form(&fields).send().await.unwrap();
    assert_eq!(r.status(), 412);
    let html = r.text().await.unwrap();
    assert!(html.contains("此记录在您打开后已被他人修改"), "{html}");
    assert!(html.contains("13700000001") && html.contains("13900000002"));
    assert_eq!(app.snapshot(), before, "nothing saved");
    // Sending it again, with the version the page now carries, saves it.
    let version2 = hidden(&html, "version");
    assert_ne!(version2, version);
    set(&mut fields, "version", &version2);
    set(&mut fields, "csrf", &csrf_of(&html));
    let r = page.post(&url).form(&fields).send().await.unwrap();
    assert_eq!(r.status(), 303);
    let (v, _) = etag_of(&app, &format!("/api/v1/organisations/{id}"), &bureau).await;
    assert_eq!(v["organisation"]["contact_phone"], "13900000002");
    // The same notice in English: the version the form carries is stale again after another change.
    let r = app
        .send_json(
            "PATCH",
            &format!("/api/v1/organisations/{id}"),
            Some(&bureau),
            &json!({"contact_phone": "13700000003"}),
        )
        .await;
    assert_eq!(r.status(), 200);
    page.get(app.url("/lang/en?next=/")).send().await.unwrap();
    let r = page.post(&url).form(&fields).send().await.unwrap();
    assert_eq!(r.status(), 412);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("Changed by someone else since you opened it"),
        "{html}"
    );
    assert!(html.contains("13700000003"));
}

fn hidden(html: &str, name: &str) -> String {
    let key = format!("name=\"{name}\" value=\"");
    let at = html
        .find(&key)
        .unwrap_or_else(|| panic!("no {name} in the form"))
        + key.len();
    html[at..].split('"').next().unwrap().to_string()
}

/// The org form's text inputs and selected options, as a browser would send them.
fn form_fields(html: &str) -> Vec<(String, String)> {
    let form = &html[html.find("id=\"org-form\"").unwrap()..];
    let form = &form[..form.find("</form>").unwrap()];
    let mut out = Vec::new();
    for part in form.split("<input").skip(1) {
        let tag = &part[..part.find('>').unwrap_or(part.len())];
        let attr = |a: &str| {
            let k = format!("{a}=\"");
            tag.find(&k)
                .map(|i| tag[i + k.len()..].split('"').next().unwrap().to_string())
        };
        let Some(name) = attr("name") else { continue };
        let kind = attr("type").unwrap_or_default();
        if (kind == "checkbox" || kind == "radio") && !tag.contains("checked") {
            continue;
        }
        out.push((name, attr("value").unwrap_or_default()));
    }
    for part in form.split("<select").skip(1) {
        let name = part
            .split("name=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap();
        let body = &part[..part.find("</select>").unwrap()];
        let val = body
            .split("<option")
            .find(|o| o.contains(" selected"))
            .and_then(|o| o.split("value=\"").nth(1))
            .map(|v| v.split('"').next().unwrap().to_string())
            .unwrap_or_default();
        out.push((name.to_string(), val));
    }
    out
}

fn set(fields: &mut Vec<(String, String)>, k: &str, v: &str) {
    fields.retain(|(n, _)| n != k);
    fields.push((k.to_string(), v.to_string()));
}

both_backends!(
    organisation_patches_both_land,
    user_patches_both_land,
    area_patches_both_land,
    full_replacements_refuse_the_stale_writer,
    one_way_steps_are_taken_once,
    if_match_on_a_patch,
    edit_page_shows_the_other_change,
);

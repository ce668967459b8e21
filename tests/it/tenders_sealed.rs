//! Sealed bids under pressure, on both backends: the deadline to the microsecond, idempotent retries, a
//! leak hunt over every tender endpoint, page, e-mail, stored byte and log line as every role before the
//! opening, commitments that catch a tampered bid (API, library and `sanshe verify`), fifty organisations
//! bidding in the last second, conflicts of interest with the award passing on, and refused bids that
//! change nothing.
//!
//! Tokens live one hour on the server's (moved) clock: every test signs in again after moving it.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde_json::{Value, json};

use crate::helpers::{Backend, PASSWORD, TestApp, TestDb, client, problem, sign_in};
use crate::tenders::{
    Bidder, bid_body, bidders, create_tender, demo_evaluators, publish, setup, t0, tender_body,
    yuan,
};
use sanshe::db::schema::{bids, organisations, outbox};

// ---------------------------------------------------------------------------------------------------------
// Helpers.

fn parse_ts(s: &str) -> NaiveDateTime {
    NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f").unwrap_or_else(|e| panic!("{s}: {e}"))
}

/// The public view of a tender (anonymous: no token to expire when the clock moves).
async fn tender_json(app: &TestApp, id: i64) -> Value {
    let r = app.get(&format!("/api/v1/tenders/{id}"), None).await;
    assert_eq!(r.status(), 200, "tender {id}");
    r.json().await.unwrap()
}

async fn state(app: &TestApp, id: i64) -> String {
    tender_json(app, id).await["state"]
        .as_str()
        .unwrap()
        .to_string()
}

/// The bid deadline as the API returns it (UTC, naive, microseconds kept).
async fn deadline_of(app: &TestApp, id: i64) -> DateTime<Utc> {
    parse_ts(tender_json(app, id).await["bid_deadline"].as_str().unwrap()).and_utc()
}

async fn opening_of(app: &TestApp, id: i64) -> DateTime<Utc> {
    parse_ts(tender_json(app, id).await["opening_at"].as_str().unwrap()).and_utc()
}

async fn post_bid(app: &TestApp, token: &str, tender: i64, body: &Value) -> reqwest::Response {
    app.send_json(
        "POST",
        &format!("/api/v1/tenders/{tender}/bids"),
        Some(token),
        body,
    )
    .await
}

pub(crate) async fn json_of(r: reqwest::Response, status: u16) -> Value {
    let s = r.status().as_u16();
    let text = r.text().await.unwrap();
    assert_eq!(s, status, "{text}");
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

#[derive(Queryable, Debug, PartialEq, Eq, Clone)]
struct StoredBid {
    id: i64,
    tender_id: i64,
    organisation_id: i64,
    status: String,
    submitted_at: NaiveDateTime,
    idem_key: String,
    commitment: String,
    opened_json: Option<String>,
    price_fen: Option<i64>,
    status_reason: Option<String>,
}

fn stored_bids(app: &TestApp) -> Vec<StoredBid> {
    bids::table
        .order(bids::id)
        .select((
            bids::id,
            bids::tender_id,
            bids::organisation_id,
            bids::status,
            bids::submitted_at,
            bids::idem_key,
            bids::commitment,
            bids::opened_json,
            bids::price_fen,
            bids::status_reason,
        ))
        .load(&mut app.conn())
        .unwrap()
}

/// The harness snapshot (users, audit chain, outbox) plus every bid, tender, timeline row and panel seat.
fn snap(app: &TestApp) -> String {
    use sanshe::db::schema::{panel_members as pm, tender_events as te, tenders as t};
    let mut c = app.conn();
    let tenders: Vec<(
        i64,
        String,
        NaiveDateTime,
        NaiveDateTime,
        Option<i64>,
        NaiveDateTime,
    )> = t::table
        .order(t::id)
        .select((
            t::id,
            t::state,
            t::bid_deadline,
            t::opening_at,
            t::award_bid_id,
            t::updated_at,
        ))
        .load(&mut c)
        .unwrap();
    let events: i64 = te::table.count().get_result(&mut c).unwrap();
    let panel: Vec<(i64, i64, Option<String>)> = pm::table
        .order((pm::tender_id, pm::user_id))
        .select((pm::tender_id, pm::user_id, pm::declaration))
        .load(&mut c)
        .unwrap();
    let sealed: Vec<(i64, Vec<u8>)> = bids::table
        .order(bids::id)
        .select((bids::id, bids::sealed))
        .load(&mut c)
        .unwrap();
    format!(
        "{}\n{:?}\n{sealed:?}\n{tenders:?}\n{events}\n{panel:?}",
        app.snapshot(),
        stored_bids(app)
    )
}

/// Every queued e-mail: (template, to, subject, text, html).
fn mails(app: &TestApp) -> Vec<(String, String, String, String, String)> {
    outbox::table
        .order(outbox::id)
        .select((
            outbox::template,
            outbox::to_addr,
            outbox::subject,
            outbox::body_text,
            outbox::body_html,
        ))
        .load(&mut app.conn())
        .unwrap()
}

fn set_contact(app: &TestApp, org: i64, email: &str) {
    diesel::update(organisations::table.find(org))
        .set(organisations::contact_email.eq(Some(email)))
        .execute(&mut app.conn())
        .unwrap();
}

fn tender_ctx(app: &TestApp) -> sanshe::tenders::Ctx {
    sanshe::tenders::Ctx::from_config(&crate::helpers::config(&app.db, &Default::default()))
}

/// Assert a 422 `validation_failed` naming exactly these (field, rule) pairs, each with both messages.
async fn refused_with(r: reqwest::Response, expect: &[(String, String)]) -> Value {
    let p = problem(r, 422, "validation_failed").await;
    let errors = p["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("no errors: {p}"));
    for e in errors {
        for k in ["field", "rule"] {
            assert!(
                e[k].as_str().is_some_and(|s| !s.is_empty()),
                "{k} missing: {e}"
            );
        }
        for lang in ["zh-CN", "en"] {
            assert!(
                e["message"][lang].as_str().is_some_and(|s| !s.is_empty()),
                "{lang} message missing: {e}"
            );
        }
    }
    let got: BTreeSet<(String, String)> = errors
        .iter()
        .map(|e| {
            (
                e["field"].as_str().unwrap().to_string(),
                e["rule"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let want: BTreeSet<(String, String)> = expect.iter().cloned().collect();
    assert_eq!(got, want, "{p}");
    assert_eq!(errors.len(), expect.len(), "each reason once: {p}");
    p
}

fn pair(f: &str, r: &str) -> (String, String) {
    (f.to_string(), r.to_string())
}

// ---------------------------------------------------------------------------------------------------------
// 1. The deadline, to the microsecond.

async fn deadline_edge(backend: Backend) {
    let fx = setup(&backend).await;
    let app = &fx.app;
    let id = create_tender(&fx, &tender_body("DL-2026-001")).await;
    publish(&fx, id).await;
    // A second tender whose deadline is not on a whole second.
    let mut frac = tender_body("DL-2026-002");
    frac["bid_deadline"] = json!("2026-03-23T10:00:00.250000+08:00");
    frac["opening_at"] = json!("2026-03-23T11:00:00+08:00");
    let id2 = create_tender(&fx, &frac).await;
    publish(&fx, id2).await;
    let b = bidders(app, 3);

    let deadline = deadline_of(app, id).await;
    assert_eq!(deadline, t0() + Duration::days(21));
    let just_before = deadline - Duration::microseconds(1);
    fx.clock.set(just_before);
    let tok: Vec<String> =
        futures_util::future::join_all(b.iter().map(|x| app.token(&x.user))).await;

    // One microsecond before: accepted, stamped with that very instant.
    let body_a = bid_body("edge-a", 10_000_000, b[0].worker);
    let receipt = json_of(post_bid(app, &tok[0], id, &body_a).await, 201).await;
    assert_eq!(
        parse_ts(receipt["submitted_at"].as_str().unwrap()),
        just_before.naive_utc(),
        "{receipt}"
    );
    let seq = receipt["seq"].as_i64().unwrap();
    let row = stored_bids(app).into_iter().find(|x| x.id == seq).unwrap();
    assert_eq!(
        row.submitted_at,
        just_before.naive_utc(),
        "stored with microseconds"
    );
    assert_eq!(row.status, "active");
    assert_eq!(state(app, id).await, "published");

    // At the deadline itself: refused, and no bid or e-mail appears. (The first request after the deadline
    // also closes the tender, which the timeline records.)
    let (bids_before, mails_before) = (stored_bids(app), mails(app));
    fx.clock.set(deadline);
    let r = post_bid(
        app,
        &tok[1],
        id,
        &bid_body("edge-b", 10_500_000, b[1].worker),
    )
    .await;
    problem(r, 409, "bidding_closed").await;
    assert_eq!(stored_bids(app), bids_before);
    assert_eq!(mails(app), mails_before);
    assert_eq!(state(app, id).await, "closed");
    // Once closed, a refused bid changes nothing at all.
    let before = snap(app);
    let r = post_bid(
        app,
        &tok[1],
        id,
        &bid_body("edge-b2", 10_500_000, b[1].worker),
    )
    .await;
    problem(r, 409, "bidding_closed").await;
    assert_eq!(snap(app), before, "a late bid changed the database");

    // The accepted bid's retry after the deadline gets the same receipt; nothing is written.
    let again = json_of(post_bid(app, &tok[0], id, &body_a).await, 201).await;
    assert_eq!(again, receipt);
    assert_eq!(again["commitment"], receipt["commitment"]);
    assert_eq!(snap(app), before, "a retry wrote something");
    // The same key with other content is refused, also after the deadline.
    let mut other = body_a.clone();
    other["price"] = json!(yuan(9_900_000));
    other["budget"] = bid_body("x", 9_900_000, b[0].worker)["budget"].clone();
    let r = post_bid(app, &tok[0], id, &other).await;
    problem(r, 409, "idempotency_key_reused").await;
    assert_eq!(snap(app), before);

    // A deadline with a fraction of a second keeps it, and the same edge holds there.
    let d2 = deadline_of(app, id2).await;
    assert_eq!(
        d2,
        "2026-03-23T02:00:00.25Z".parse::<DateTime<Utc>>().unwrap()
    );
    fx.clock.set(d2 - Duration::microseconds(1));
    let r = json_of(
        post_bid(
            app,
            &tok[1],
            id2,
            &bid_body("edge2-b", 11_000_000, b[1].worker),
        )
        .await,
        201,
    )
    .await;
    assert_eq!(
        parse_ts(r["submitted_at"].as_str().unwrap()),
        (d2 - Duration::microseconds(1)).naive_utc()
    );
    fx.clock.set(d2);
    let r = post_bid(
        app,
        &tok[2],
        id2,
        &bid_body("edge2-c", 11_000_000, b[2].worker),
    )
    .await;
    problem(r, 409, "bidding_closed").await;
    let late: Vec<_> = stored_bids(app)
        .into_iter()
        .filter(|x| x.tender_id == id2 && x.submitted_at >= d2.naive_utc())
        .collect();
    assert!(late.is_empty(), "{late:?}");
    fx.app.stop().await;
}

// ---------------------------------------------------------------------------------------------------------
// 2. Idempotent retries, one after another and at the same moment.

async fn idempotent_retry(backend: Backend) {
    let fx = setup(&backend).await;
    let app = &fx.app;
    let id = create_tender(&fx, &tender_body("ID-2026-001")).await;
    publish(&fx, id).await;
    let b = bidders(app, 2);
    set_contact(app, b[0].org, "retry-one@example.test");
    set_contact(app, b[1].org, "retry-two@example.test");
    let t0k = app.token(&b[0].user).await;
    let t1k = app.token(&b[1].user).await;

    let body = bid_body("retry-1", 11_111_100, b[0].worker);
    let first = json_of(post_bid(app, &t0k, id, &body).await, 201).await;
    let second = json_of(post_bid(app, &t0k, id, &body).await, 201).await;
    assert_eq!(first, second, "the retry returns the first receipt");
    let rows: Vec<_> = stored_bids(app)
        .into_iter()
        .filter(|x| x.organisation_id == b[0].org)
        .collect();
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0].id, first["seq"].as_i64().unwrap());
    let receipts = |to: &str| {
        mails(app)
            .iter()
            .filter(|m| m.0 == "bid_receipt" && m.1 == to)
            .count()
    };
    assert_eq!(receipts("retry-one@example.test"), 1);
    let mine = json_of(
        app.get(&format!("/api/v1/tenders/{id}/bids/mine"), Some(&t0k))
            .await,
        200,
    )
    .await;
    assert_eq!(mine["receipt"], first);
    assert_eq!(mine["history"].as_array().unwrap().len(), 0, "{mine}");

    // Five copies of one submission in flight at once: one bid, one receipt e-mail, five equal answers.
    let body = bid_body("retry-2", 12_222_200, b[1].worker);
    let answers = futures_util::future::join_all((0..5).map(|_| async {
        let r = post_bid(app, &t1k, id, &body).await;
        (r.status().as_u16(), r.text().await.unwrap())
    }))
    .await;
    for (s, text) in &answers {
        assert_eq!(*s, 201, "{text}");
    }
    let bodies: BTreeSet<&String> = answers.iter().map(|(_, t)| t).collect();
    assert_eq!(bodies.len(), 1, "{answers:?}");
    let rows: Vec<_> = stored_bids(app)
        .into_iter()
        .filter(|x| x.organisation_id == b[1].org)
        .collect();
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(receipts("retry-two@example.test"), 1);
    let audited: i64 = {
        use sanshe::db::schema::audit_events as a;
        a::table
            .filter(a::action.eq(sanshe::audit::SEALED))
            .filter(a::entity_type.eq("bid"))
            .count()
            .get_result(&mut app.conn())
            .unwrap()
    };
    assert_eq!(audited, 2, "one (sealed) audit event per bid");
    fx.app.stop().await;
}

// ---------------------------------------------------------------------------------------------------------
// 3. Nothing of a sealed bid leaks before the opening.

/// What one bid holds that nobody else may see before the opening.
struct Secret {
    tag: String,
    price_fen: i64,
    plan: String,
    file_name: String,
    file: String,
}

impl Secret {
    fn new(tag: &str, price_fen: i64) -> Secret {
        Secret {
            tag: tag.to_string(),
            price_fen,
            plan: format!("密封方案{tag}：每周上门探访 PLAN-{tag}-Q7"),
            file_name: format!("方案-{tag}-NM.txt"),
            file: format!("ATTACHMENT-BODY-{tag}-K9P2 附件正文"),
        }
    }

    fn body(&self, key: &str, worker: i64) -> Value {
        let mut v = bid_body(key, self.price_fen, worker);
        v["plan"] = json!(self.plan);
        v["attachments"] =
            json!([{"name": self.file_name, "content_base64": B64.encode(&self.file)}]);
        v
    }

    /// Every text form of the price and the budget lines, and the plan, file name and file body.
    fn strings(&self) -> Vec<String> {
        let p = self.price_fen;
        let staff = p * 40 / 100;
        let mgmt = p / 10;
        let mut out = vec![
            self.plan.clone(),
            self.file_name.clone(),
            self.file.clone(),
            p.to_string(),
        ];
        for fen in [p, staff, mgmt, p - staff - mgmt] {
            out.push(sanshe::money::yuan(fen));
            out.push(sanshe::money::yuan_grouped(fen));
        }
        // The ASCII markers alone too: the plan shortened, the file name made ASCII-safe for a header.
        out.push(self.plan.split(' ').nth(1).unwrap().to_string());
        out.push(format!("{}-NM", self.tag));
        out
    }
}

/// A caller: a token for the API, a cookie session for pages, and which bid (if any) is its own.
struct Who {
    name: String,
    token: Option<String>,
    pages: reqwest::Client,
    own: Option<usize>,
}

fn assert_clean(text: &str, forbidden: &[String], what: &str) {
    for s in forbidden {
        if let Some(i) = text.find(s.as_str()) {
            let from = text[..i]
                .char_indices()
                .rev()
                .nth(120)
                .map(|(i, _)| i)
                .unwrap_or(0);
            let to = (i + s.len() + 120).min(text.len());
            let to = (to..=text.len())
                .find(|j| text.is_char_boundary(*j))
                .unwrap();
            panic!("{what} shows sealed content {s:?}: …{}…", &text[from..to]);
        }
    }
}

/// Status and everything a caller receives: headers and body.
async fn fetch(
    c: &reqwest::Client,
    method: &str,
    url: &str,
    token: Option<&str>,
    body: Option<&Value>,
) -> (u16, String) {
    let mut r = c.request(method.parse().unwrap(), url);
    if let Some(t) = token {
        r = r.bearer_auth(t);
    }
    if let Some(b) = body {
        r = r.json(b);
    }
    let r = r.send().await.unwrap();
    let status = r.status().as_u16();
    let mut text = String::new();
    for (k, v) in r.headers() {
        text.push_str(&format!("{k}: {}\n", String::from_utf8_lossy(v.as_bytes())));
    }
    text.push_str(&String::from_utf8_lossy(&r.bytes().await.unwrap()));
    (status, text)
}

/// Every file under `dir`, recursively.
fn files_under(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(files_under(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}

async fn sealed_leak_test(backend: Backend) {
    let fx = setup(&backend).await;
    let app = &fx.app;
    let audit_from: i64 = {
        use sanshe::db::schema::audit_events as a;
        a::table
            .select(diesel::dsl::max(a::seq))
            .first::<Option<i64>>(&mut app.conn())
            .unwrap()
            .unwrap_or(0)
    };
    let id = create_tender(&fx, &tender_body("LK-2026-001")).await;
    publish(&fx, id).await;
    let b = bidders(app, 4);
    for (i, x) in b.iter().enumerate() {
        set_contact(app, x.org, &format!("leak-bidder-{i}@example.test"));
    }
    let secrets = [
        Secret::new("ALPHA7731", 13_792_458),
        Secret::new("BRAVO4417", 18_645_137),
        Secret::new("CHARLIE9053", 15_927_364),
    ];
    let mut seqs = Vec::new();
    for (i, s) in secrets.iter().enumerate() {
        let t = app.token(&b[i].user).await;
        let r = json_of(
            post_bid(app, &t, id, &s.body(&format!("leak-{i}"), b[i].worker)).await,
            201,
        )
        .await;
        seqs.push(r["seq"].as_i64().unwrap());
    }
    // An enquiry and a refused bid from the bidders too, so that those paths are walked with content about.
    let t_b = app.token(&b[1].user).await;
    let mut wrong = secrets[1].body("leak-wrong", b[1].worker);
    wrong["budget"][0]["amount"] = json!("1.00");
    let r = post_bid(app, &t_b, id, &wrong).await;
    assert_eq!(r.status(), 422);
    let all: Vec<String> = secrets.iter().flat_map(Secret::strings).collect();
    let forbidden_for = |own: Option<usize>| -> Vec<String> {
        secrets
            .iter()
            .enumerate()
            .filter(|(i, _)| Some(*i) != own)
            .flat_map(|(_, s)| s.strings())
            .collect()
    };

    // Stored: only ciphertext; no price column, no opened content.
    for row in stored_bids(app).iter().filter(|x| x.tender_id == id) {
        assert!(
            row.price_fen.is_none() && row.opened_json.is_none(),
            "{row:?}"
        );
    }
    let sealed: Vec<Vec<u8>> = bids::table
        .select(bids::sealed)
        .load(&mut app.conn())
        .unwrap();
    for ct in &sealed {
        assert_clean(&String::from_utf8_lossy(ct), &all, "a sealed column");
    }

    // The bidder itself sees its own bid (so this test can fail).
    let t_a = app.token(&b[0].user).await;
    let (s, mine) = fetch(
        &client(),
        "GET",
        &app.url(&format!("/api/v1/tenders/{id}/bids/mine")),
        Some(&t_a),
        None,
    )
    .await;
    assert_eq!(s, 200, "{mine}");
    for needle in [
        secrets[0].price_fen.to_string(),
        secrets[0].plan.clone(),
        secrets[0].file_name.clone(),
    ] {
        assert!(
            mine.contains(&needle),
            "the bidder does not see its own {needle}: {mine}"
        );
    }
    let (s, file) = fetch(
        &client(),
        "GET",
        &app.url(&format!(
            "/api/v1/tenders/{id}/bids/{}/attachments/0",
            seqs[0]
        )),
        Some(&t_a),
        None,
    )
    .await;
    assert_eq!(s, 200);
    assert!(file.contains(&secrets[0].file), "{file}");

    // Every caller: anonymous, staff of each role, an organisation that did not bid, and each bidder.
    let mut whos = vec![Who {
        name: "anonymous".into(),
        token: None,
        pages: client(),
        own: None,
    }];
    for u in ["admin", "bureau", "finance", "evaluator1"] {
        whos.push(Who {
            name: u.into(),
            token: Some(app.token(u).await),
            pages: sign_in(app, u).await,
            own: None,
        });
    }
    whos.push(Who {
        name: format!("{} (no bid)", b[3].user),
        token: Some(app.token(&b[3].user).await),
        pages: sign_in(app, &b[3].user).await,
        own: None,
    });
    for (i, x) in b.iter().take(3).enumerate() {
        whos.push(Who {
            name: format!("{} (bidder {i})", x.user),
            token: Some(app.token(&x.user).await),
            pages: sign_in(app, &x.user).await,
            own: Some(i),
        });
    }

    let before = snap(app);
    let tender_path = |p: &str| -> String {
        let prefix = "/api/v1/tenders/1";
        match p.strip_prefix(prefix) {
            Some(rest) if rest.is_empty() || rest.starts_with('/') => {
                format!("/api/v1/tenders/{id}{rest}")
            }
            _ => p.to_string(),
        }
    };
    let audit_seqs: Vec<i64> = {
        use sanshe::db::schema::audit_events as a;
        a::table
            .filter(a::seq.gt(audit_from))
            .order(a::seq)
            .select(a::seq)
            .load(&mut app.conn())
            .unwrap()
    };
    assert!(audit_seqs.len() >= 5, "the bids and the tender are audited");
    let mut calls = 0usize;
    for who in &whos {
        let forbidden = forbidden_for(who.own);
        let api = client();
        let tok = who.token.as_deref();
        // The tender API, every operation, with the route table's bodies.
        for op in crate::tenders::ROUTES {
            if op.method == "POST" && op.path.ends_with("/bids/withdraw") && who.own.is_some() {
                continue; // would really withdraw the caller's own bid
            }
            let body: Option<Value> = op.body.map(|b| serde_json::from_str(b).unwrap());
            let paths: Vec<String> = if op.path.contains("/attachments/") {
                seqs.iter()
                    .map(|s| format!("/api/v1/tenders/{id}/bids/{s}/attachments/0"))
                    .collect()
            } else {
                vec![tender_path(op.path)]
            };
            for p in paths {
                let what = format!("{} {p} as {}", op.method, who.name);
                let (s, text) = fetch(&api, op.method, &app.url(&p), tok, body.as_ref()).await;
                calls += 1;
                assert!(s < 500, "{what}: {s} {text}");
                if op.method != "GET" {
                    assert!(
                        !(200..300).contains(&s),
                        "{what} changed something: {s} {text}"
                    );
                }
                let own_attachment = who
                    .own
                    .is_some_and(|i| p.contains(&format!("/bids/{}/", seqs[i])));
                if !own_attachment {
                    assert_clean(&text, &forbidden, &what);
                } else {
                    assert_eq!(s, 200, "{what}");
                }
            }
        }
        // The rest of what a caller can read over the API.
        let mut gets = vec![
            "/api/v1/tenders".to_string(),
            "/api/v1/tenders?state=open".into(),
            "/api/v1/tenders?q=LK-2026".into(),
            "/api/v1/my/bids".into(),
            "/api/v1/me".into(),
            "/api/v1/public/organisations".into(),
            "/api/v1/audit-events?per_page=100".into(),
            "/api/v1/audit-events?per_page=100&page=2".into(),
            "/api/v1/audit-events?entity_type=bid&per_page=100".into(),
        ];
        for x in &b {
            gets.push(format!("/api/v1/organisations/{}", x.org));
        }
        for s in &audit_seqs {
            gets.push(format!("/api/v1/audit-events/{s}"));
        }
        for p in &gets {
            let what = format!("GET {p} as {}", who.name);
            let (s, text) = fetch(&api, "GET", &app.url(p), tok, None).await;
            calls += 1;
            assert!(s < 500, "{what}: {s}");
            assert_clean(&text, &forbidden, &what);
            // The same through the session cookie.
            let (s, text) = fetch(&who.pages, "GET", &app.url(p), None, None).await;
            assert!(s < 500, "{what} (cookie): {s}");
            assert_clean(&text, &forbidden, &format!("{what} (cookie)"));
        }
        // 87号令 Art 33, bids secret until opening: an attachment of a bid that is not the caller's answers
        // exactly as a receipt that does not exist, on the API and on the page, so the answers do not count
        // the bids. The "no such" probes: a receipt number nobody has, and a real receipt under a tender
        // it does not belong to.
        let ghost = seqs.iter().max().unwrap() + 1_000;
        let probe = |seq: i64, tender: i64| {
            (
                format!("/api/v1/tenders/{tender}/bids/{seq}/attachments/0"),
                format!("/tenders/{tender}/bids/{seq}/attachments/0"),
            )
        };
        let answer = |s: u16, text: &str| -> (u16, String) {
            let kind = serde_json::from_str::<Value>(text)
                .ok()
                .and_then(|v| v["type"].as_str().map(str::to_string))
                .unwrap_or_default();
            (s, kind)
        };
        let mut uniform = Vec::new();
        for (seq, tender) in [(ghost, id), (seqs[0], id + 1_000)].into_iter().chain(
            seqs.iter()
                .enumerate()
                .filter(|(i, _)| who.own != Some(*i))
                .map(|(_, s)| (*s, id)),
        ) {
            let (api_path, page_path) = probe(seq, tender);
            let (s, text) = fetch(&api, "GET", &app.url(&api_path), tok, None).await;
            let (ps, _) = fetch(&who.pages, "GET", &app.url(&page_path), None, None).await;
            uniform.push((
                answer(s, &text),
                ps,
                format!("receipt {seq} of tender {tender}"),
            ));
        }
        let (first_api, first_page, _) = uniform[0].clone();
        for (api_answer, page_status, what) in &uniform {
            assert_eq!(
                api_answer, &first_api,
                "API answer as {} for {what} differs from a receipt that does not exist",
                who.name
            );
            assert_eq!(
                *page_status, first_page,
                "page answer as {} for {what} differs from a receipt that does not exist",
                who.name
            );
        }
        if who.token.is_some() {
            // Signed in with a role that may read attachments: the API and the page both say "not found";
            // finance is refused by role alike on both, whatever the receipt.
            let expect = if who.name == "finance" { 403 } else { 404 };
            assert_eq!(first_api.0, expect, "API as {}", who.name);
            assert_eq!(first_page, expect, "page as {}", who.name);
        }
        // Every page about tenders (pages the web UI does not have answer 404, which is fine).
        let mut pages = vec![
            "/".to_string(),
            "/tenders".into(),
            "/tenders?q=LK-2026".into(),
            format!("/tenders/{id}"),
            format!("/tenders/{id}/commitments"),
            format!("/tenders/{id}/report"),
            format!("/tenders/{id}/score"),
            format!("/tenders/{id}/bid"),
            format!("/tenders/{id}/edit"),
            "/my/bids".into(),
            "/evaluations".into(),
            "/dashboard".into(),
            "/audit".into(),
            "/my/org".into(),
        ];
        for s in &seqs {
            pages.push(format!("/tenders/{id}/bids/{s}/attachments/0"));
        }
        for x in &b {
            pages.push(format!("/registry/orgs/{}", x.org));
        }
        for s in &audit_seqs {
            pages.push(format!("/audit/{s}"));
        }
        for p in &pages {
            let what = format!("page {p} as {}", who.name);
            let (s, text) = fetch(&who.pages, "GET", &app.url(p), None, None).await;
            calls += 1;
            if let Some(i) = who.own
                && *p == format!("/tenders/{id}/bid")
            {
                // Before the deadline a bidder's own bid page opens, filled with its own bid.
                assert_eq!(s, 200, "{what}: {text}");
                assert!(
                    text.contains(&secrets[i].plan),
                    "{what}: the bidder's own bid page does not show its plan"
                );
            }
            assert!(s < 500, "{what}: {s} {text}");
            let own_attachment = who
                .own
                .is_some_and(|i| p.contains(&format!("/bids/{}/", seqs[i])));
            if !own_attachment {
                assert_clean(&text, &forbidden, &what);
            }
        }
    }
    assert!(calls > 500, "{calls} calls");
    assert_eq!(
        snap(app),
        before,
        "walking the endpoints changed the database"
    );

    // No e-mail carries content, not even to its own bidder.
    let queued = mails(app);
    assert!(queued.iter().filter(|m| m.0 == "bid_receipt").count() >= 3);
    for (template, to, subject, text, html) in &queued {
        assert_clean(
            &format!("{subject}\n{text}\n{html}"),
            &all,
            &format!("the {template} e-mail to {to}"),
        );
    }
    // Nor the audit trail, the timeline, or any stored byte (the SQLite file itself, the mail files).
    {
        use sanshe::db::schema::{audit_events as a, tender_events as te};
        let mut c = app.conn();
        let rows: Vec<(Option<String>, Option<String>)> = a::table
            .select((a::before_json, a::after_json))
            .load(&mut c)
            .unwrap();
        for (x, y) in rows {
            assert_clean(&format!("{x:?}{y:?}"), &all, "an audit event");
        }
        let notes: Vec<Option<String>> = te::table.select(te::note).load(&mut c).unwrap();
        assert_clean(&format!("{notes:?}"), &all, "the timeline");
    }
    let raw: Vec<String> = secrets
        .iter()
        .flat_map(|s| {
            [
                s.plan.clone(),
                s.file.clone(),
                s.file_name.clone(),
                format!("\"price_fen\":{}", s.price_fen),
            ]
        })
        .collect();
    for f in files_under(&app.db.dir) {
        let bytes = std::fs::read(&f).unwrap_or_default();
        assert_clean(
            &String::from_utf8_lossy(&bytes),
            &raw,
            &f.display().to_string(),
        );
    }

    // After the opening the bureau reads every bid (the positive control).
    fx.clock.set(opening_of(app, id).await);
    assert_eq!(state(app, id).await, "opened");
    let bureau = app.token("bureau").await;
    let (s, opened) = fetch(
        &client(),
        "GET",
        &app.url(&format!("/api/v1/tenders/{id}/bids")),
        Some(&bureau),
        None,
    )
    .await;
    assert_eq!(s, 200, "{opened}");
    for (i, sec) in secrets.iter().enumerate() {
        assert!(
            opened.contains(&sanshe::money::yuan_grouped(sec.price_fen)),
            "{opened}"
        );
        assert!(opened.contains(&sec.plan), "{opened}");
        let (s, file) = fetch(
            &client(),
            "GET",
            &app.url(&format!(
                "/api/v1/tenders/{id}/bids/{}/attachments/0",
                seqs[i]
            )),
            Some(&bureau),
            None,
        )
        .await;
        assert_eq!(s, 200);
        assert!(file.contains(&sec.file));
    }
    let commitments = json_of(
        app.get(&format!("/api/v1/tenders/{id}/commitments"), None)
            .await,
        200,
    )
    .await;
    assert_eq!(commitments.as_array().unwrap().len(), 3);
    let (s, page) = fetch(
        &client(),
        "GET",
        &app.url(&format!("/tenders/{id}/commitments")),
        None,
        None,
    )
    .await;
    // The commitments page is public: after the opening anyone reads it, every commitment on it.
    assert_eq!(s, 200, "the public commitments page after opening: {page}");
    for c in commitments.as_array().unwrap() {
        assert!(
            page.contains(c["commitment"].as_str().unwrap()),
            "the public commitments page after opening"
        );
    }

    // The log: the same server program, started from the command line on this database with the most
    // verbose log, takes a bid, a refused bid and reads of its own bid; no line carries any of it.
    let db = fx.app.stop().await;
    log_carries_no_bid_content(&db, &b[0]).await;
}

/// Run `sanshe serve` with `SANSHE_LOG=debug` on `db` (already seeded), bid through it, and read its log.
async fn log_carries_no_bid_content(db: &Arc<TestDb>, bidder: &Bidder) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_sanshe"))
        .arg("serve")
        .env("DATABASE_URL", db.url())
        .env("SANSHE_DATA_DIR", &db.dir)
        .env("SANSHE_LISTEN", "127.0.0.1:0")
        .env("SANSHE_LOG", "debug")
        .env_remove("SANSHE_DEMO_PASSWORD")
        .env_remove("SANSHE_JWT_SECRET")
        .env_remove("SMTP_URL")
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Drain both pipes on threads: a debug log can fill a pipe and stall the server.
    let mut err = child.stderr.take().unwrap();
    let err_thread = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        s
    });
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut printed = String::new();
    let addr = loop {
        let mut line = String::new();
        assert!(
            out.read_line(&mut line).unwrap() > 0,
            "serve exited early: {printed}"
        );
        printed.push_str(&line);
        if let Some(rest) = line.split("Open http://").nth(1) {
            break rest.split('/').next().unwrap().to_string();
        }
    };
    let out_thread = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = out.read_to_string(&mut s);
        s
    });
    let base = format!("http://{addr}");
    let http = client();
    let login = |u: String| {
        let http = http.clone();
        let base = base.clone();
        async move {
            let r = http
                .post(format!("{base}/api/v1/auth/login"))
                .json(&json!({"username": u, "password": PASSWORD}))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200);
            r.json::<Value>().await.unwrap()["token"]
                .as_str()
                .unwrap()
                .to_string()
        }
    };
    let bureau = login("bureau".into()).await;
    let org = login(bidder.user.clone()).await;
    let now = Utc::now();
    let r = http
        .post(format!("{base}/api/v1/tenders"))
        .bearer_auth(&bureau)
        .json(&crate::tenders::tender_body_at("LOG-2026-001", now))
        .send()
        .await
        .unwrap();
    let tid = json_of(r, 201).await["id"].as_i64().unwrap();
    let r = http
        .post(format!("{base}/api/v1/tenders/{tid}/publish"))
        .bearer_auth(&bureau)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    json_of(r, 200).await;
    let secret = Secret::new("LOGDELTA2203", 19_283_746);
    let r = http
        .post(format!("{base}/api/v1/tenders/{tid}/bids"))
        .bearer_auth(&org)
        .json(&secret.body("log-1", bidder.worker))
        .send()
        .await
        .unwrap();
    let seq = json_of(r, 201).await["seq"].as_i64().unwrap();
    // Refused bids whose messages quote the price back to the bidder.
    let mut wrong = secret.body("log-2", bidder.worker);
    wrong["budget"][1]["amount"] = json!("1.00");
    let r = http
        .post(format!("{base}/api/v1/tenders/{tid}/bids"))
        .bearer_auth(&org)
        .json(&wrong)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let mut reused = secret.body("log-1", bidder.worker);
    reused["plan"] = json!(format!("{} 改", secret.plan));
    let r = http
        .post(format!("{base}/api/v1/tenders/{tid}/bids"))
        .bearer_auth(&org)
        .json(&reused)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 409);
    let r = http
        .get(format!("{base}/api/v1/tenders/{tid}/bids/mine"))
        .bearer_auth(&org)
        .send()
        .await
        .unwrap();
    assert!(json_of(r, 200).await.to_string().contains(&secret.plan));
    let r = http
        .get(format!(
            "{base}/api/v1/tenders/{tid}/bids/{seq}/attachments/0"
        ))
        .bearer_auth(&org)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // Before the opening the bureau is told the bids are sealed, and an attachment is "not found" as for
    // a receipt that does not exist.
    for (p, status) in [
        (format!("/api/v1/tenders/{tid}/bids"), 409),
        (
            format!("/api/v1/tenders/{tid}/bids/{seq}/attachments/0"),
            404,
        ),
    ] {
        let r = http
            .get(format!("{base}{p}"))
            .bearer_auth(&bureau)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), status, "{p}");
    }
    // Wait (bounded) for the mail worker to deliver the receipt to its file, then stop the server. The
    // refused and reused submissions queue nothing: exactly one receipt for this tender, sent, one file.
    let receipt_rows = |c: &mut sanshe::db::DbConn| -> Vec<(i64, String)> {
        outbox::table
            .filter(outbox::template.eq("bid_receipt"))
            .filter(outbox::subject.like("%LOG-2026-001%"))
            .order(outbox::id)
            .select((outbox::id, outbox::status))
            .load(c)
            .unwrap()
    };
    let mut c = db.conn();
    crate::helpers::wait_for(20, "the LOG-2026-001 bid receipt to be sent", || {
        receipt_rows(&mut c).iter().any(|(_, st)| st == "sent")
    })
    .await;
    let rows = receipt_rows(&mut c);
    assert_eq!(rows.len(), 1, "exactly one receipt: {rows:?}");
    let eml = db
        .dir
        .join("outbox")
        .join(format!("{:08}-bid_receipt.eml", rows[0].0));
    assert!(eml.is_file(), "the delivered receipt {}", eml.display());
    child.kill().unwrap();
    child.wait().unwrap();
    let log = err_thread.join().unwrap();
    let stdout = format!("{printed}{}", out_thread.join().unwrap());
    assert!(log.contains("/bids"), "the requests are in the log:\n{log}");
    assert_clean(&log, &secret.strings(), "the server log");
    assert_clean(&stdout, &secret.strings(), "the server's standard output");
    for f in files_under(&db.dir.join("outbox")) {
        let text = String::from_utf8_lossy(&std::fs::read(&f).unwrap()).into_owned();
        assert_clean(&text, &secret.strings(), &f.display().to_string());
    }
}

// ---------------------------------------------------------------------------------------------------------
// 4. Commitments catch a bid altered in the database.

fn verify_cli(db: &TestDb, seal_secret: &str) -> (i32, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_sanshe"))
        .arg("verify")
        .env("DATABASE_URL", db.url())
        .env("SANSHE_DATA_DIR", &db.dir)
        .env("SANSHE_SEAL_SECRET", seal_secret)
        .env("SANSHE_LOG", "warn")
        .env_remove("SANSHE_DEMO_PASSWORD")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    (
        o.status.code().unwrap_or(-1),
        format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        ),
    )
}

async fn commitments_detect_tampering(backend: Backend) {
    let fx = setup(&backend).await;
    let app = &fx.app;
    let id = create_tender(&fx, &tender_body("CM-2026-001")).await;
    publish(&fx, id).await;
    let b = bidders(app, 3);
    let prices = [10_100_000i64, 12_300_000, 14_500_000];
    let mut seqs = Vec::new();
    for (i, p) in prices.iter().enumerate() {
        let t = app.token(&b[i].user).await;
        let r = json_of(
            post_bid(app, &t, id, &bid_body(&format!("cm{i}"), *p, b[i].worker)).await,
            201,
        )
        .await;
        seqs.push(r["seq"].as_i64().unwrap());
    }
    fx.clock.set(opening_of(app, id).await);
    assert_eq!(state(app, id).await, "opened");
    let ctx = tender_ctx(app);
    let seal_secret = crate::helpers::config(&app.db, &Default::default())
        .seal_secret
        .expose()
        .to_string();
    let checks = || async {
        let v = json_of(
            app.get(&format!("/api/v1/tenders/{id}/commitments"), None)
                .await,
            200,
        )
        .await;
        // By receipt number (the page's order is the time of submission; this clock stands still).
        let mut by_seq: Vec<(i64, bool)> = v
            .as_array()
            .unwrap()
            .iter()
            .map(|c| (c["seq"].as_i64().unwrap(), c["ok"].as_bool().unwrap()))
            .collect();
        by_seq.sort();
        let (_, bad) = sanshe::tenders::bids::verify_all(&mut app.conn(), &ctx).unwrap();
        (by_seq, bad)
    };

    // As opened: every commitment holds, for the API, the library and the command.
    let (api, bad) = checks().await;
    let mut sorted = seqs.clone();
    sorted.sort();
    assert_eq!(api, sorted.iter().map(|s| (*s, true)).collect::<Vec<_>>());
    assert!(bad.is_empty(), "{bad:?}");
    let (code, out) = verify_cli(&app.db, &seal_secret);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("bid commitments: ok, 3 opened bids"), "{out}");

    let rows = stored_bids(app);
    let row = |seq: i64| rows.iter().find(|r| r.id == seq).unwrap().clone();
    let expect_bad = |api: &[(i64, bool)], seq: i64| {
        for (s, ok) in api {
            assert_eq!(*ok, *s != seq, "commitment of {s}: {api:?}");
        }
    };

    // 1. The stored price is lowered by ¥1.
    let b1 = row(seqs[1]);
    diesel::update(bids::table.find(b1.id))
        .set(bids::price_fen.eq(b1.price_fen.unwrap() - 100))
        .execute(&mut app.conn())
        .unwrap();
    let (api, bad) = checks().await;
    expect_bad(&api, b1.id);
    assert_eq!(bad, vec![b1.id]);
    let (code, out) = verify_cli(&app.db, &seal_secret);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains(&format!("receipts [{}]", b1.id)), "{out}");
    assert!(
        out.contains("audit chain: ok"),
        "the audit chain is not what failed: {out}"
    );
    diesel::update(bids::table.find(b1.id))
        .set(bids::price_fen.eq(b1.price_fen))
        .execute(&mut app.conn())
        .unwrap();
    assert!(checks().await.1.is_empty());

    // 2. The published content is altered, price column and JSON together (so the columns agree).
    let b2 = row(seqs[2]);
    let old = format!("\"price_fen\":{}", prices[2]);
    let json2 = b2.opened_json.clone().unwrap();
    assert!(json2.contains(&old), "{json2}");
    let forged = json2.replace(&old, &format!("\"price_fen\":{}", prices[2] - 1_000_000));
    diesel::update(bids::table.find(b2.id))
        .set((
            bids::opened_json.eq(&forged),
            bids::price_fen.eq(prices[2] - 1_000_000),
        ))
        .execute(&mut app.conn())
        .unwrap();
    let (api, bad) = checks().await;
    expect_bad(&api, b2.id);
    assert_eq!(bad, vec![b2.id]);
    let (code, out) = verify_cli(&app.db, &seal_secret);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains(&format!("receipts [{}]", b2.id)), "{out}");
    // The JSON alone, the price column left as it was.
    diesel::update(bids::table.find(b2.id))
        .set(bids::price_fen.eq(prices[2]))
        .execute(&mut app.conn())
        .unwrap();
    assert_eq!(checks().await.1, vec![b2.id]);
    diesel::update(bids::table.find(b2.id))
        .set(bids::opened_json.eq(&json2))
        .execute(&mut app.conn())
        .unwrap();
    assert!(checks().await.1.is_empty());

    // 3. The sealed copy is altered: it no longer decrypts to the published bytes.
    let b0 = row(seqs[0]);
    let mut ct: Vec<u8> = bids::table
        .find(b0.id)
        .select(bids::sealed)
        .first(&mut app.conn())
        .unwrap();
    ct[0] ^= 1;
    diesel::update(bids::table.find(b0.id))
        .set(bids::sealed.eq(&ct))
        .execute(&mut app.conn())
        .unwrap();
    let (api, bad) = checks().await;
    expect_bad(&api, b0.id);
    assert_eq!(bad, vec![b0.id]);
    let (code, _) = verify_cli(&app.db, &seal_secret);
    assert_eq!(code, 1);
    fx.app.stop().await;
}

// ---------------------------------------------------------------------------------------------------------
// 5. Fifty organisations in the last second.

/// Register `n` new organisations through the API, each with a social worker and an org user.
async fn new_bidders(app: &TestApp, n: usize) -> Vec<Bidder> {
    let bureau = app.token("bureau").await;
    let admin = app.token("admin").await;
    let mut out = Vec::new();
    for i in 0..n {
        let r = app
            .send_json(
                "POST",
                "/api/v1/organisations",
                Some(&bureau),
                &json!({
                    "name": format!("官渡区压力测试社会工作服务中心{i:02}"),
                    "kind": "private_non_enterprise",
                    "registration": "registered",
                    "credit_code": sanshe::registry::orgs::demo_code('2', 9_000_000 + i as u32),
                    "contact_email": format!("burst{i:02}@example.test"),
                    "fields": ["elderly"],
                    "staff_count": 6
                }),
            )
            .await;
        let org = json_of(r, 201).await["organisation"]["id"]
            .as_i64()
            .unwrap();
        let r = app
            .send_json(
                "POST",
                "/api/v1/social-workers",
                Some(&bureau),
                &json!({"organisation_id": org, "name": format!("压测社工{i:02}"), "certificate_level": "none", "employment": "full_time"}),
            )
            .await;
        let worker = json_of(r, 201).await["id"].as_i64().unwrap();
        let user = format!("burst{i:02}");
        let r = app
            .send_json(
                "POST",
                "/api/v1/users",
                Some(&admin),
                &json!({"username": user, "display_name": format!("压测 {i}"), "role": "org", "org_id": org, "password": PASSWORD}),
            )
            .await;
        json_of(r, 201).await;
        out.push(Bidder { org, user, worker });
    }
    out
}

async fn fifty_bidders_in_the_last_second(backend: Backend) {
    let started = std::time::Instant::now();
    let fx = setup(&backend).await;
    let app = &fx.app;
    let id = create_tender(&fx, &tender_body("LS-2026-001")).await;
    publish(&fx, id).await;
    let b = new_bidders(app, 50).await;
    let deadline = deadline_of(app, id).await;
    fx.clock.set(deadline - Duration::seconds(1));
    let mut prepared = Vec::new();
    for (i, x) in b.iter().enumerate() {
        let token = app.token(&x.user).await;
        prepared.push((
            token,
            bid_body(
                &format!("burst-{i}"),
                15_000_000 + i as i64 * 1_000,
                x.worker,
            ),
        ));
    }

    // All fifty at once; when the twentieth answer is back the clock reaches the deadline.
    const MOVE_AFTER: usize = 20;
    let answered = Arc::new(AtomicUsize::new(0));
    let reached = Arc::new(tokio::sync::Notify::new());
    let mover = {
        let (reached, clock) = (reached.clone(), fx.clock.clone());
        tokio::spawn(async move {
            reached.notified().await;
            clock.set(deadline);
        })
    };
    let tasks: Vec<_> = prepared
        .into_iter()
        .enumerate()
        .map(|(i, (token, body))| {
            let url = app.url(&format!("/api/v1/tenders/{id}/bids"));
            let (answered, reached) = (answered.clone(), reached.clone());
            tokio::spawn(async move {
                let r = client()
                    .post(url)
                    .bearer_auth(token)
                    .json(&body)
                    .send()
                    .await
                    .unwrap();
                let status = r.status().as_u16();
                let v: Value = r.json().await.unwrap();
                if answered.fetch_add(1, Ordering::SeqCst) + 1 == MOVE_AFTER {
                    reached.notify_one();
                }
                (i, status, v)
            })
        })
        .collect();
    let mut results = Vec::new();
    for t in tasks {
        results.push(t.await.unwrap());
    }
    mover.await.unwrap();

    let mut acknowledged = Vec::new();
    for (i, status, v) in &results {
        match status {
            201 => acknowledged.push((
                *i,
                v["seq"].as_i64().unwrap(),
                v["commitment"].as_str().unwrap().to_string(),
            )),
            409 => assert_eq!(v["code"], "bidding_closed", "{v}"),
            s => panic!("bidder {i}: {s} {v}"),
        }
    }
    let refused = results.len() - acknowledged.len();
    assert!(
        acknowledged.len() >= MOVE_AFTER - 1,
        "{} acknowledged",
        acknowledged.len()
    );
    assert!(
        refused >= 1,
        "the clock reached the deadline with 30 bids in flight; none was refused"
    );

    let stored: Vec<StoredBid> = stored_bids(app)
        .into_iter()
        .filter(|x| x.tender_id == id)
        .collect();
    for (i, seq, commitment) in &acknowledged {
        let row = stored
            .iter()
            .find(|r| r.id == *seq)
            .unwrap_or_else(|| panic!("acknowledged bid {seq} is missing"));
        assert_eq!(row.organisation_id, b[*i].org);
        assert_eq!(&row.commitment, commitment);
        assert_eq!(row.status, "active");
        assert!(row.submitted_at < deadline.naive_utc(), "{row:?}");
    }
    let late: Vec<_> = stored
        .iter()
        .filter(|r| r.submitted_at >= deadline.naive_utc())
        .collect();
    assert!(
        late.is_empty(),
        "bids stored at or after the deadline: {late:?}"
    );
    assert_eq!(
        stored.iter().filter(|r| r.status == "active").count(),
        acknowledged.len()
    );
    assert_eq!(stored.len(), acknowledged.len(), "a refused bid left a row");
    let seqs: BTreeSet<i64> = acknowledged.iter().map(|a| a.1).collect();
    assert_eq!(seqs.len(), acknowledged.len(), "receipt numbers are unique");
    let receipts = mails(app)
        .iter()
        .filter(|m| m.0 == "bid_receipt" && m.1.starts_with("burst"))
        .count();
    assert_eq!(
        receipts,
        acknowledged.len(),
        "one receipt e-mail per acknowledged bid"
    );

    // At the opening every acknowledged bid is there and checks against its receipt.
    fx.clock.set(opening_of(app, id).await);
    assert_eq!(state(app, id).await, "opened");
    let v = json_of(
        app.get(&format!("/api/v1/tenders/{id}/commitments"), None)
            .await,
        200,
    )
    .await;
    let opened: BTreeSet<i64> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["seq"].as_i64().unwrap())
        .collect();
    assert_eq!(opened, seqs);
    assert!(v.as_array().unwrap().iter().all(|c| c["ok"] == true));
    eprintln!(
        "fifty_bidders_in_the_last_second ({}): {} acknowledged, {refused} refused, {:?}",
        backend.name(),
        acknowledged.len(),
        started.elapsed()
    );
    fx.app.stop().await;
}

// ---------------------------------------------------------------------------------------------------------
// 6. Conflicts of interest, recusal, and the award passing on.

fn scores(seqs: &[i64]) -> Value {
    let mut s = Vec::new();
    for seq in seqs {
        s.push(json!({"bid_seq": seq, "criterion": "plan", "points": "40"}));
        s.push(json!({"bid_seq": seq, "criterion": "team", "points": "8"}));
        s.push(json!({"bid_seq": seq, "criterion": "exp", "points": "5"}));
    }
    json!({ "scores": s })
}

async fn conflicted_evaluator_refused_and_award_passes_on(backend: Backend) {
    let fx = setup(&backend).await;
    let app = &fx.app;
    let id = create_tender(&fx, &tender_body("CF-2026-001")).await;
    publish(&fx, id).await;
    let id2 = create_tender(&fx, &tender_body("CF-2026-002")).await;
    publish(&fx, id2).await;
    let b = bidders(app, 5);
    // Equal scores everywhere: the price alone ranks A, B, C, D.
    let prices = [10_000_000i64, 11_000_000, 12_000_000, 13_000_000];
    let mut seq = Vec::new();
    let mut seq2 = Vec::new();
    for (i, p) in prices.iter().enumerate() {
        let t = app.token(&b[i].user).await;
        let r = json_of(
            post_bid(app, &t, id, &bid_body(&format!("cf{i}"), *p, b[i].worker)).await,
            201,
        )
        .await;
        seq.push(r["seq"].as_i64().unwrap());
        if i < 3 {
            let r = json_of(
                post_bid(
                    app,
                    &t,
                    id2,
                    &bid_body(&format!("cf2-{i}"), *p, b[i].worker),
                )
                .await,
                201,
            )
            .await;
            seq2.push(r["seq"].as_i64().unwrap());
        }
    }
    // Evaluators: the five of the demo, one the registry links to bidder A, and (later) a spare linked to an
    // organisation that did not bid.
    let linked = app.create_user("ev_linked", "evaluator", None, None).await;
    let link = |user: i64, org: i64, relation: &'static str| async move {
        let bureau = app.token("bureau").await;
        let r = app
            .send_json(
                "POST",
                &format!("/api/v1/evaluators/{user}/links"),
                Some(&bureau),
                &json!({"organisation_id": org, "relation": relation}),
            )
            .await;
        json_of(r, 200).await
    };
    let v = link(linked, b[0].org, "board").await;
    assert_eq!(v[0]["organisation_id"], b[0].org, "{v}");
    let evs = demo_evaluators(app);
    assert_eq!(evs.len(), 5);

    fx.clock.set(opening_of(app, id).await);
    assert_eq!(state(app, id).await, "opened");
    assert_eq!(state(app, id2).await, "opened");
    let bureau = app.token("bureau").await;
    let ev_tok: Vec<String> = futures_util::future::join_all(
        (1..=5).map(|k| async move { app.token(&format!("evaluator{k}")).await }),
    )
    .await;
    let post = |path: String, tok: String, body: Value| async move {
        app.send_json("POST", &path, Some(&tok), &body).await
    };
    let p = |s: &str| format!("/api/v1/tenders/{id}/{s}");

    // The linked evaluator is refused from the panel as the buyer's representative (and never in the
    // draw's pool), and nothing is seated.
    let before = snap(app);
    let r = post(
        p("panel"),
        bureau.clone(),
        json!({"draw_experts": 4, "buyer_rep_ids": [linked]}),
    )
    .await;
    let pr = problem(r, 422, "validation_failed").await;
    let conflict: Vec<&Value> = pr["errors"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["rule"] == "conflict_of_interest")
        .collect();
    assert_eq!(conflict.len(), 1, "{pr}");
    assert_eq!(conflict[0]["field"], "buyer_rep_ids");
    assert!(
        conflict[0]["message"]["zh-CN"]
            .as_str()
            .unwrap()
            .contains("测试 ev_linked"),
        "{pr}"
    );
    assert_eq!(snap(app), before);
    json_of(
        post(
            p("panel"),
            bureau.clone(),
            json!({"draw_experts": evs.len()}),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(state(app, id).await, "evaluating");

    // Evaluator 1 is linked to bidder B after being seated: it cannot declare itself free of conflict.
    link(evs[0], b[1].org, "relative").await;
    let r = post(
        p("declaration"),
        ev_tok[0].clone(),
        json!({"conflict": false}),
    )
    .await;
    problem(r, 409, "conflict_of_interest").await;
    // It declares the conflict (a note is required), is recused, and the bids stay hidden from it.
    let r = post(
        p("declaration"),
        ev_tok[0].clone(),
        json!({"conflict": true}),
    )
    .await;
    assert_eq!(
        problem(r, 422, "validation_failed").await["errors"][0]["field"],
        "note"
    );
    let m = json_of(
        post(
            p("declaration"),
            ev_tok[0].clone(),
            json!({"conflict": true, "note": "近亲属在投标人B任职"}),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(m["declaration"], "conflict");
    problem(
        app.get(&p("sheet"), Some(&ev_tok[0])).await,
        409,
        "declare_first",
    )
    .await;
    problem(
        post(p("scores"), ev_tok[0].clone(), scores(&seq)).await,
        409,
        "declare_first",
    )
    .await;
    problem(
        post(
            p("declaration"),
            ev_tok[0].clone(),
            json!({"conflict": false}),
        )
        .await,
        409,
        "already_declared",
    )
    .await;
    let r = app
        .get(
            &format!("/api/v1/tenders/{id}/bids/{}/attachments/0", seq[0]),
            Some(&ev_tok[0]),
        )
        .await;
    assert_eq!(
        r.status(),
        404,
        "a recused evaluator cannot fetch a bid's files"
    );
    let (s, page) = fetch(
        &sign_in(app, "evaluator1").await,
        "GET",
        &app.url(&format!("/tenders/{id}/score")),
        None,
        None,
    )
    .await;
    assert!(s < 500);
    assert_clean(
        &page,
        &[
            sanshe::money::yuan_grouped(prices[0]),
            bid_body("x", prices[0], 0)["plan"]
                .as_str()
                .unwrap()
                .to_string(),
        ],
        "the score page of a recused evaluator",
    );

    // The four others score; four seated members are not a valid panel, so the evaluation stays open.
    for t in &ev_tok[1..] {
        json_of(
            post(p("declaration"), t.clone(), json!({"conflict": false})).await,
            200,
        )
        .await;
        let sheet = json_of(app.get(&p("sheet"), Some(t)).await, 200).await;
        assert_eq!(sheet["bids"].as_array().unwrap().len(), 4);
        json_of(post(p("scores"), t.clone(), scores(&seq)).await, 200).await;
    }
    assert_eq!(
        state(app, id).await,
        "evaluating",
        "a panel of four (one recused) cannot complete"
    );
    // The bureau draws a replacement; an evaluator linked to an organisation that did not bid may sit
    // (the pool is that one evaluator: the others are seated or linked to a bidder).
    let spare = app.create_user("ev_spare", "evaluator", None, None).await;
    link(spare, b[4].org, "employee").await;
    let spare_tok = app.token("ev_spare").await;
    let panel = json_of(
        post(p("panel"), bureau.clone(), json!({"draw_experts": 1})).await,
        200,
    )
    .await;
    assert_eq!(panel.as_array().unwrap().len(), 6);
    json_of(
        post(
            p("declaration"),
            spare_tok.clone(),
            json!({"conflict": false}),
        )
        .await,
        200,
    )
    .await;
    json_of(
        post(p("scores"), spare_tok.clone(), scores(&seq)).await,
        200,
    )
    .await;
    assert_eq!(state(app, id).await, "evaluated");

    let report = json_of(app.get(&p("report"), Some(&bureau)).await, 200).await;
    assert_eq!(report["locked"], true);
    let ranked: Vec<(i64, i64)> = report["bids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| (x["seq"].as_i64().unwrap(), x["rank"].as_i64().unwrap()))
        .collect();
    assert_eq!(
        ranked,
        vec![(seq[0], 1), (seq[1], 2), (seq[2], 3), (seq[3], 4)]
    );
    assert_eq!(
        report["bids"][0]["by_evaluator"].as_array().unwrap().len(),
        5,
        "the recused member's scores do not count"
    );

    // A is confirmed and published; then A withdraws during the publicity and the award passes to B.
    let v = json_of(
        post(p("award"), bureau.clone(), json!({"bid_seq": seq[0]})).await,
        200,
    )
    .await;
    assert_eq!(v["state"], "award_proposed");
    let v = json_of(post(p("result"), bureau.clone(), json!({})).await, 200).await;
    assert_eq!(v["state"], "publicity");
    assert_eq!(v["result"]["winner_id"], b[0].org);
    assert_eq!(v["result"]["panel_size"], 5);
    let t_a = app.token(&b[0].user).await;
    let r = post(p("bids/withdraw"), t_a.clone(), json!({})).await;
    assert_eq!(
        problem(r, 422, "validation_failed").await["errors"][0]["field"],
        "reason"
    );
    let r = post(
        p("bids/withdraw"),
        t_a.clone(),
        json!({"reason": "核心团队成员离职，无法履约。"}),
    )
    .await;
    assert_eq!(r.status(), 204, "{}", r.text().await.unwrap());
    assert_eq!(state(app, id).await, "award_proposed");
    let report = json_of(app.get(&p("report"), Some(&bureau)).await, 200).await;
    assert_eq!(report["award_seq"], seq[1], "{report}");
    assert!(
        report["award_reason"]
            .as_str()
            .is_some_and(|r| !r.is_empty())
    );
    let a = report["bids"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["seq"] == seq[0])
        .unwrap();
    assert_eq!(a["status"], "withdrawn");
    let v = json_of(post(p("result"), bureau.clone(), json!({})).await, 200).await;
    assert_eq!(v["state"], "publicity");
    assert_eq!(v["result"]["winner_id"], b[1].org);
    assert_eq!(v["result"]["price"], yuan(prices[1]));
    let timeline: Vec<&str> = v["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["to_state"].as_str().unwrap())
        .collect();
    assert_eq!(
        timeline.iter().filter(|s| **s == "publicity").count(),
        2,
        "{timeline:?}"
    );

    // The second tender: a disqualification before the award leaves two valid bids of the three required.
    let r = app
        .send_json(
            "POST",
            &format!("/api/v1/tenders/{id2}/disqualify"),
            Some(&bureau),
            &json!({"bid_seq": seq2[1], "reason": "资格证明材料不实。"}),
        )
        .await;
    let v = json_of(r, 200).await;
    assert_eq!(v["state"], "failed", "{v}");
    assert!(v["end_reason"].as_str().unwrap().contains('2'), "{v}");
    let r = app
        .send_json(
            "POST",
            &format!("/api/v1/tenders/{id2}/panel"),
            Some(&bureau),
            &json!({"draw_experts": evs.len()}),
        )
        .await;
    assert_eq!(r.status(), 409, "a failed tender takes no panel");
    fx.app.stop().await;
}

// ---------------------------------------------------------------------------------------------------------
// 7. Refused bids: every reason named, nothing stored.

async fn bad_input_changes_nothing(backend: Backend) {
    let fx = setup(&backend).await;
    let app = &fx.app;
    let id = create_tender(&fx, &tender_body("BI-2026-001")).await;
    publish(&fx, id).await;
    let mut strict = tender_body("BI-2026-002");
    strict["eligibility"] = json!({
        "min_rating": 5, "min_certified": 10000,
        "supervisor_required": true, "min_certificate_level": "senior"
    });
    let strict_id = create_tender(&fx, &strict).await;
    publish(&fx, strict_id).await;
    let b = bidders(app, 2);
    let org_name = |org: i64| -> String {
        organisations::table
            .find(org)
            .select(organisations::name)
            .first(&mut app.conn())
            .unwrap()
    };
    // The expected refusals below are worked out by hand from the demo registry (src/registry/orgs.rs
    // `seed_demo`, src/registry/workers.rs `seed_demo_workers`) on the fixed clock t0 = 2026-03-02 (Beijing):
    // - the one barred organisation is demo index 40, 官渡区福寿养老服务社: on the dishonesty list (listed 200
    //   days before t0), registered with a credit code and a passed 2025 inspection, so its only reason is
    //   `dishonesty`. Its rating (index 40: awarded 6 years back, 2020-06-01) expired 2025-06-01; staff_count
    //   3 + (40*7 % 40) = 3; its workers are demo workers 52 (assistant) and 106 (social_worker, part time).
    // - the first bidder is demo index 0, 官渡区夕阳红养老服务中心 (org001): rating likewise expired, staff 3,
    //   current workers 0 (assistant), 54 (social_worker) and 108 (none).
    // Against the strict tender (5A, 10000 staff, 10000 certified, a supervisor, a senior worker) both fail
    // rating, staff, certified count and the senior level; both have a social_worker, so a supervisor.
    assert_eq!(
        org_name(b[0].org),
        "官渡区夕阳红养老服务中心",
        "the premise above"
    );
    let barred: i64 = organisations::table
        .filter(organisations::name.eq("官渡区福寿养老服务社"))
        .select(organisations::id)
        .first(&mut app.conn())
        .unwrap();
    app.create_user("barred_org", "org", Some(barred), None)
        .await;
    let barred_worker: Option<i64> = {
        use sanshe::db::schema::social_workers as w;
        w::table
            .filter(w::organisation_id.eq(barred))
            .select(w::id)
            .first(&mut app.conn())
            .optional()
            .unwrap()
    };

    let t = app.token(&b[0].user).await;
    let t_barred = app.token("barred_org").await;
    let w = b[0].worker;
    let valid = |key: &str| bid_body(key, 15_000_000, w);

    let mut cases: Vec<(&str, String, i64, Value, Vec<(String, String)>)> = Vec::new();
    cases.push((
        "over the ceiling",
        t.clone(),
        id,
        bid_body("bad-ceiling", 20_000_001, w),
        vec![pair("price", "max_budget")],
    ));
    let mut v = valid("bad-sum");
    v["budget"][1]["amount"] = json!("1.00");
    cases.push((
        "lines not summing to the price",
        t.clone(),
        id,
        v,
        vec![pair("budget", "sum_price")],
    ));
    let mut v = valid("bad-mgmt");
    v["budget"] = json!([
        {"line": "staff", "amount": "60000.00"},
        {"line": "activities", "amount": "67500.00"},
        {"line": "management", "amount": "22500.00"}
    ]);
    cases.push((
        "management fee of 15 %",
        t.clone(),
        id,
        v,
        vec![pair("budget", "line_max")],
    ));
    let mut v = valid("bad-staff");
    v["staff"] = json!([b[1].worker]);
    cases.push((
        "another organisation's worker",
        t.clone(),
        id,
        v,
        vec![pair("staff", "own_workers")],
    ));
    let mut v = valid("bad-targets");
    v["targets"] =
        json!({"visits": 2999, "people": 300, "sessions": 39, "satisfaction_pct": "89.99"});
    cases.push((
        "targets below the tender's",
        t.clone(),
        id,
        v,
        vec![
            pair("targets.visits", "min_target"),
            pair("targets.sessions", "min_target"),
            pair("targets.satisfaction_pct", "min_target"),
        ],
    ));
    let mut v = bid_body("bad-all", 20_000_001, w);
    v["budget"][2]["amount"] = json!("3000000.00");
    v["staff"] = json!([b[1].worker]);
    v["targets"]["people"] = json!(1);
    v["plan"] = json!("  ");
    v["attachments"] = json!([{"name": "a/b.txt", "content_base64": "%%%"}]);
    cases.push((
        "everything wrong at once",
        t.clone(),
        id,
        v,
        vec![
            pair("price", "max_budget"),
            pair("plan", "required"),
            pair("budget", "sum_price"),
            pair("budget", "line_max"),
            pair("staff", "own_workers"),
            pair("targets.people", "min_target"),
            pair("attachments[0].name", "file_name"),
            pair("attachments[0].content_base64", "base64"),
        ],
    ));
    // The barred organisation: every barred reason (here the one listing), on a tender without conditions…
    let barred_reasons = vec![pair("standing", "dishonesty")];
    let barred_body = bid_body("barred-1", 15_000_000, barred_worker.unwrap_or(w));
    cases.push((
        "a barred organisation",
        t_barred.clone(),
        id,
        barred_body.clone(),
        barred_reasons.clone(),
    ));
    // …and with every unmet condition of a strict tender after them; an eligible-standing organisation
    // gets the conditions alone (both miss the same three, worked out above; neither misses the supervisor).
    let unmet = vec![
        pair("eligibility.min_rating", "min_rating"),
        pair("eligibility.min_certified", "min_certified"),
        pair("eligibility.min_certificate_level", "min_level"),
    ];
    let mut want = barred_reasons.clone();
    want.extend(unmet.iter().cloned());
    cases.push((
        "a barred organisation on a strict tender",
        t_barred.clone(),
        strict_id,
        bid_body("barred-2", 15_000_000, barred_worker.unwrap_or(w)),
        want,
    ));
    cases.push((
        "conditions unmet",
        t.clone(),
        strict_id,
        valid("strict-1"),
        unmet,
    ));

    for (what, token, tender, body, expect) in &cases {
        let before = snap(app);
        let r = post_bid(app, token, *tender, body).await;
        let p = refused_with(r, expect).await;
        assert_eq!(
            snap(app),
            before,
            "{what}: the refusal changed the database ({p})"
        );
    }
    // And none of them used up its idempotency key: the valid bid under one of those keys is accepted.
    let r = post_bid(app, &t, id, &valid("bad-sum")).await;
    json_of(r, 201).await;
    fx.app.stop().await;
}

/// Before the opening a bid leaves no trace anyone but its bidder can read: the audit trail (API, list and
/// detail pages) and the dashboards of the administrator and finance say "a sealed bid was received" with
/// no tender, organisation or bid; the administrator's mail counters do not count receipts; and receipt
/// numbers are not a sequence, so two receipts do not tell how many bids arrived in between. After the
/// opening the same events are shown in full, and the chain, which covers the sealed rows, still verifies.
async fn sealed_bids_leave_no_trace(backend: Backend) {
    let fx = setup(&backend).await;
    let app = &fx.app;
    let id = create_tender(&fx, &tender_body("TR-2026-001")).await;
    publish(&fx, id).await;
    // Pending and sent together: the mail worker moves messages from one to the other meanwhile.
    let count_mail = || {
        let (pending, sent) = sanshe::mail::counts(&mut app.conn()).unwrap();
        pending + sent
    };
    let mail_before = count_mail();
    let b = bidders(app, 3);
    let mut seqs = Vec::new();
    let last_before: i64 = {
        use sanshe::db::schema::audit_events as a;
        a::table
            .select(diesel::dsl::max(a::seq))
            .first::<Option<i64>>(&mut app.conn())
            .unwrap()
            .unwrap_or(0)
    };
    // Who bid, and with which receipt: the bidders' accounts and receipt numbers anywhere, their names in
    // anything recorded since the bids (older registry events name organisations, as they should).
    let mut secrets: Vec<String> = vec![format!("\"tender_id\":{id}")];
    let mut names: Vec<String> = Vec::new();
    for (i, bidder) in b.iter().enumerate() {
        let t = app.token(&bidder.user).await;
        let r = json_of(
            post_bid(
                app,
                &t,
                id,
                &bid_body(&format!("tr{i}"), 10_000_000 + i as i64, bidder.worker),
            )
            .await,
            201,
        )
        .await;
        let seq = r["seq"].as_i64().unwrap();
        seqs.push(seq);
        secrets.push(bidder.user.clone());
        secrets.push(seq.to_string());
        let name: String = organisations::table
            .find(bidder.org)
            .select(organisations::name)
            .first(&mut app.conn())
            .unwrap();
        names.push(name);
    }
    assert_eq!(count_mail(), mail_before, "receipts are not counted");
    assert!(seqs.iter().all(|s| *s >= 1_000_000_000), "{seqs:?}");
    assert!(
        seqs.windows(2).all(|w| (w[1] - w[0]).abs() > 1),
        "receipt numbers are not a sequence: {seqs:?}"
    );
    let no_secret = |what: &str, text: &str| {
        for s in &secrets {
            assert!(
                !text.contains(s.as_str()),
                "{what} shows {s:?} before the opening"
            );
        }
    };
    let sealed_seqs: Vec<i64> = {
        use sanshe::db::schema::audit_events as a;
        a::table
            .filter(a::action.eq(sanshe::audit::SEALED))
            .select(a::seq)
            .load(&mut app.conn())
            .unwrap()
    };
    assert_eq!(sealed_seqs.len(), 3);
    for who in ["admin", "finance"] {
        let token = app.token(who).await;
        let api = app
            .get("/api/v1/audit-events?per_page=100", Some(&token))
            .await
            .text()
            .await
            .unwrap();
        no_secret(&format!("{who}'s audit API"), &api);
        let v: Value = serde_json::from_str(&api).unwrap();
        let since: Vec<&Value> = v["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["seq"].as_i64().unwrap() > last_before)
            .collect();
        assert_eq!(since.len(), 3, "{since:?}");
        let since = serde_json::to_string(&since).unwrap();
        for n in &names {
            assert!(
                !since.contains(n.as_str()),
                "{who}: the bid events name {n}"
            );
        }
        let page = sign_in(app, who).await;
        for path in ["/audit?per_page=100".to_string(), "/dashboard".to_string()]
            .into_iter()
            .chain(sealed_seqs.iter().map(|s| format!("/audit/{s}")))
        {
            let html = page
                .get(app.url(&path))
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            no_secret(&format!("{who}'s {path}"), &html);
            if path.starts_with("/audit/") {
                for n in &names {
                    assert!(!html.contains(n.as_str()), "{who}'s {path} names {n}");
                }
            }
            if path.starts_with("/audit") {
                assert!(html.contains("收到一份密封投标"), "{who}'s {path}: {html}");
            }
        }
    }
    // After the opening: the events in full.
    fx.clock.set(opening_of(app, id).await);
    assert_eq!(state(app, id).await, "opened");
    let admin = app.token("admin").await;
    let v: Value = app
        .get(
            "/api/v1/audit-events?action=sealed&per_page=100",
            Some(&admin),
        )
        .await
        .json()
        .await
        .unwrap();
    let mut shown: Vec<(String, i64)> = v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let u = &e["unsealed"];
            (
                u["action"].as_str().unwrap_or("still sealed").to_string(),
                u["entity_id"]
                    .as_str()
                    .and_then(|s| s.parse().ok())
                    .unwrap_or(0),
            )
        })
        .collect();
    shown.sort_by_key(|(_, s)| *s);
    let mut want: Vec<(String, i64)> = seqs
        .iter()
        .map(|s| ("bid.submit".to_string(), *s))
        .collect();
    want.sort_by_key(|(_, s)| *s);
    assert_eq!(shown, want);
    let r: Value = app
        .get("/api/v1/audit-events/verify", Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(r["ok"], true, "{r}");
    fx.app.stop().await;
}

crate::both_backends!(
    sealed_bids_leave_no_trace,
    deadline_edge,
    idempotent_retry,
    sealed_leak_test,
    commitments_detect_tampering,
    fifty_bidders_in_the_last_second,
    conflicted_evaluator_refused_and_award_passes_on,
    bad_input_changes_nothing,
);

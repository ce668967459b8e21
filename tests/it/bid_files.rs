//! Bid files (issue 15): sent with a bid as `multipart/form-data`, sealed into the file store as they
//! arrive, committed to by hash, readable before the opening by their bidder alone and afterwards by the
//! bureau (never the public); refused bids keep nothing; small JSON attachments move into the store. On
//! the local disk and on moto's S3, both database backends.

use std::sync::Arc;

use chrono::{Duration, Utc};
use serde_json::{Value, json};

use crate::both_backends;
use crate::files::{Store, pdf, sha256_hex, tempdir};
use crate::helpers::{Backend, Options, SEAL_SECRET, TestApp, problem};
use crate::tenders::{Fx, bid_body, bidders, create_tender, publish, t0, tender_body};

async fn setup(b: &Backend, store: &Store, bid_max: u64) -> Fx {
    let clock = sanshe::clock::ManualClock::new(t0());
    let mut files = store.settings(20 * 1024 * 1024);
    files.bid_max = bid_max;
    let app = TestApp::spawn_with(
        b,
        Options {
            registry_demo: true,
            clock: Some(clock.clone()),
            files: Some(files),
            ..Default::default()
        },
    )
    .await;
    Fx { app, clock }
}

/// A bid as `multipart/form-data`: its JSON in the part `bid`, then each file as a part `files`.
fn bid_multipart(bid: Option<&Value>, files: &[(&str, &[u8])]) -> (String, Vec<u8>) {
    let boundary = "----sanshe-bid-boundary-41c8";
    let mut body = Vec::new();
    if let Some(bid) = bid {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"bid\"\r\nContent-Type: application/json\r\n\r\n{bid}\r\n"
            )
            .as_bytes(),
        );
    }
    for (name, bytes) in files {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"{name}\"\r\nContent-Type: application/pdf\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

async fn send(
    fx: &Fx,
    token: Option<&str>,
    tender: i64,
    (content_type, body): (String, Vec<u8>),
) -> reqwest::Response {
    let mut r = crate::helpers::client()
        .post(fx.app.url(&format!("/api/v1/tenders/{tender}/bids")))
        .header("content-type", content_type)
        .body(body);
    if let Some(t) = token {
        r = r.bearer_auth(t);
    }
    r.send().await.unwrap()
}

/// A bid without inline attachments (its files come as parts).
fn plain_bid(key: &str, price_fen: i64, worker: i64) -> Value {
    let mut v = bid_body(key, price_fen, worker);
    v["attachments"] = json!([]);
    v
}

/// Whether any 32-byte run of `plain` is in any stored object.
fn in_clear(objects: &[(String, Vec<u8>)], plain: &[u8]) -> bool {
    let runs: std::collections::HashSet<&[u8]> = plain.windows(32).step_by(16).collect();
    objects
        .iter()
        .any(|(_, bytes)| bytes.windows(32).any(|w| runs.contains(w)))
}

fn verify(fx: &Fx, store: &Store) -> (i32, String) {
    let mut c = crate::cli::sanshe(&fx.app.db);
    c.arg("verify").env("SANSHE_SEAL_SECRET", SEAL_SECRET);
    for (k, v) in store.env() {
        c.env(k, v);
    }
    let (code, out, err) = crate::cli::run(&mut c);
    (code, format!("{out}{err}"))
}

/// A time of a published tender (`bid_deadline`, `opening_at`) as the public API gives it (UTC).
async fn time_of(fx: &Fx, id: i64, field: &str) -> chrono::DateTime<Utc> {
    let t: Value = fx
        .app
        .get(&format!("/api/v1/tenders/{id}"), None)
        .await
        .json()
        .await
        .unwrap();
    let s = t[field].as_str().unwrap();
    chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f")
        .unwrap_or_else(|e| panic!("{s}: {e}"))
        .and_utc()
}

/// A bid's files sent as parts: sealed as they arrive (no run of their bytes anywhere in the store,
/// nothing under their hashes, no `files` row to say they exist), committed to by name, size and hash;
/// a retry keeps nothing more; before the opening only the bidder reads them, afterwards the bureau
/// too and still not the public, whose commitments show hashes only. `sanshe verify` opens each one
/// and catches an altered byte, and the altered file is never delivered whole.
async fn issue15_bid_files_sealed_until_opening(b: Backend) {
    let dir = tempdir();
    for store in Store::all(&dir) {
        let fx = setup(&b, &store, 100 * 1024 * 1024).await;
        let id = create_tender(&fx, &tender_body("BF-1")).await;
        publish(&fx, id).await;
        let bs = bidders(&fx.app, 3);
        let (a, other) = (&bs[0], &bs[1]);
        // Two more bids without files: an open tender opens with three (fewer fail it).
        for (i, x) in bs[1..].iter().enumerate() {
            let t = fx.app.token(&x.user).await;
            let r = fx
                .app
                .send_json(
                    "POST",
                    &format!("/api/v1/tenders/{id}/bids"),
                    Some(&t),
                    &plain_bid(&format!("bf-{i}"), 16_000_000 + i as i64, x.worker),
                )
                .await;
            assert_eq!(r.status(), 201);
        }
        let ta = fx.app.token(&a.user).await;
        let tech = pdf(300 * 1024, 21);
        let scan = pdf(70 * 1024, 22);
        let bid = plain_bid("bf-a", 15_000_000, a.worker);
        let parts = [
            ("投标文件（技术部分）.pdf", tech.as_slice()),
            ("资格证明.pdf", scan.as_slice()),
        ];
        let r = send(&fx, Some(&ta), id, bid_multipart(Some(&bid), &parts)).await;
        assert_eq!(r.status(), 201, "{store:?}: {}", r.text().await.unwrap());
        let seq = r.json::<Value>().await.unwrap()["seq"].as_i64().unwrap();

        let objects = store.objects().await;
        assert_eq!(
            objects.len(),
            2,
            "{store:?}: {:?}",
            objects.iter().map(|o| &o.0)
        );
        assert!(
            objects.iter().all(|o| o.0.starts_with("sealed/")),
            "{store:?}: only sealed objects, nothing under a hash, no temporary"
        );
        assert!(
            !in_clear(&objects, &tech) && !in_clear(&objects, &scan),
            "{store:?}"
        );
        let rows: i64 = {
            use diesel::prelude::*;
            sanshe::db::schema::files::table
                .count()
                .get_result(&mut fx.app.conn())
                .unwrap()
        };
        assert_eq!(rows, 0, "no row outside the sealed bid names its files");

        // The same key and content again: the first receipt, and the second copy is not kept.
        let r = send(&fx, Some(&ta), id, bid_multipart(Some(&bid), &parts)).await;
        assert_eq!(r.json::<Value>().await.unwrap()["seq"], seq);
        assert_eq!(
            store.objects().await.len(),
            2,
            "{store:?}: a retry keeps nothing more"
        );

        // The bidder sees its files committed by hash and reads them back exact.
        let mine: Value = fx
            .app
            .get(&format!("/api/v1/tenders/{id}/bids/mine"), Some(&ta))
            .await
            .json()
            .await
            .unwrap();
        let listed = &mine["content"]["attachments"];
        assert_eq!(listed[0]["sha256"], sha256_hex(&tech), "{mine}");
        assert_eq!(listed[0]["size"], tech.len());
        assert_eq!(listed[1]["name"], "资格证明.pdf");
        let url = format!("/api/v1/tenders/{id}/bids/{seq}/attachments/0");
        let r = fx.app.get(&url, Some(&ta)).await;
        assert_eq!(r.status(), 200);
        let cd = r.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .to_string();
        assert!(cd.contains("filename*=UTF-8''"), "{cd}");
        assert!(
            r.bytes().await.unwrap() == tech,
            "{store:?}: read back exact"
        );
        // Nobody else before the opening, as if there were no such bid.
        let to = fx.app.token(&other.user).await;
        let bureau = fx.b().await;
        for t in [&to, &bureau] {
            assert_eq!(fx.app.get(&url, Some(t)).await.status(), 404);
        }
        assert_eq!(fx.app.get(&url, None).await.status(), 401);

        // Opened: the bureau reads it, the other bidder and the public still do not (tokens anew: the
        // old ones expired as the clock moved).
        fx.clock
            .set(time_of(&fx, id, "opening_at").await + Duration::minutes(1));
        let (to, bureau) = (fx.app.token(&other.user).await, fx.b().await);
        let t: Value = fx
            .app
            .get(&format!("/api/v1/tenders/{id}"), Some(&bureau))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(t["state"], "opened", "{t}");
        let r = fx
            .app
            .get(
                &format!("/api/v1/tenders/{id}/bids/{seq}/attachments/1"),
                Some(&bureau),
            )
            .await;
        assert_eq!(r.status(), 200);
        assert!(
            r.bytes().await.unwrap() == scan,
            "{store:?}: the bureau reads it exact"
        );
        assert_eq!(fx.app.get(&url, Some(&to)).await.status(), 404);
        assert_eq!(fx.app.get(&url, None).await.status(), 401);
        // The public's commitments carry no file's name; the bureau's show the hashes committed to.
        let public = fx
            .app
            .get(&format!("/api/v1/tenders/{id}/commitments"), None)
            .await
            .text()
            .await
            .unwrap();
        assert!(
            public.contains(&seq.to_string()) && !public.contains("资格证明"),
            "{public}"
        );
        let whole = fx
            .app
            .get(&format!("/api/v1/tenders/{id}/commitments"), Some(&bureau))
            .await
            .text()
            .await
            .unwrap();
        assert!(whole.contains(&sha256_hex(&tech)) && whole.contains(&sha256_hex(&scan)));

        // verify opens each file; one flipped byte is caught and never delivered whole.
        let (code, out) = verify(&fx, &store);
        assert_eq!(code, 0, "{store:?}: {out}");
        assert!(out.contains("bid files: ok, 2 sealed files"), "{out}");
        let (name, mut bytes) = store
            .objects()
            .await
            .into_iter()
            .max_by_key(|o| o.1.len())
            .unwrap();
        bytes[100_000] ^= 0x01;
        store.tamper(&name, bytes).await;
        let (code, out) = verify(&fx, &store);
        assert_eq!(code, 1, "{store:?}: {out}");
        assert!(
            out.contains(&format!("receipt {seq} {name} altered")),
            "{out}"
        );
        let got = fx.app.get(&url, Some(&bureau)).await.bytes().await;
        assert!(
            got.as_ref().map_or(true, |g| g.len() < tech.len()),
            "{store:?}: an altered file was delivered whole"
        );
        fx.app.stop().await;
    }
}

/// Every refused bid with files keeps none of them, in the store or the database: a file of a kind not
/// accepted, files over the bid's total, a bid whose fields are refused, no bid part, a body cut off,
/// files to keep from a bid there is not, after the deadline, and callers who may not bid.
async fn issue15_refused_bid_files_keep_nothing(b: Backend) {
    use diesel::prelude::*;
    let dir = tempdir();
    for store in Store::all(&dir) {
        // One MiB a bid, so the total needs only small files.
        let fx = setup(&b, &store, 1024 * 1024).await;
        let id = create_tender(&fx, &tender_body("BF-2")).await;
        publish(&fx, id).await;
        let a = &bidders(&fx.app, 1)[0];
        let ta = fx.app.token(&a.user).await;
        let bids_now = |fx: &Fx| -> i64 {
            sanshe::db::schema::bids::table
                .count()
                .get_result(&mut fx.app.conn())
                .unwrap()
        };
        let before = (fx.app.snapshot(), bids_now(&fx));
        let ok = plain_bid("bf-r", 15_000_000, a.worker);
        let mut bad_price = ok.clone();
        bad_price["price"] = json!("十五万");
        let mut keep = ok.clone();
        keep["keep_files"] = json!([0]);
        let small = pdf(20 * 1024, 31);
        let big = pdf(600 * 1024, 32);
        let cases: Vec<(&str, (String, Vec<u8>), &str, &str)> = vec![
            (
                "a text file named .pdf",
                bid_multipart(Some(&ok), &[("说明.pdf", b"plain words, not a PDF at all")]),
                "files",
                "file_type",
            ),
            (
                "two files over the bid's MiB",
                bid_multipart(Some(&ok), &[("a.pdf", &big), ("b.pdf", &big)]),
                "files",
                "too_large",
            ),
            (
                "a price that is no number",
                bid_multipart(Some(&bad_price), &[("a.pdf", &small)]),
                "price",
                "",
            ),
            (
                "no bid part",
                bid_multipart(None, &[("a.pdf", &small)]),
                "bid",
                "required",
            ),
            (
                "files to keep without a bid",
                bid_multipart(Some(&keep), &[("a.pdf", &small)]),
                "keep_files",
                "no_such_file",
            ),
        ];
        for (what, body, field, rule) in cases {
            let r = send(&fx, Some(&ta), id, body).await;
            let p = problem(r, 422, "validation_failed").await;
            let e = p["errors"]
                .as_array()
                .unwrap()
                .iter()
                .find(|e| e["field"] == field)
                .unwrap_or_else(|| panic!("{what}: {p}"));
            assert!(rule.is_empty() || e["rule"] == rule, "{what}: {p}");
            assert!(
                !e["message"]["zh-CN"].as_str().unwrap_or("").is_empty()
                    && !e["message"]["en"].as_str().unwrap_or("").is_empty(),
                "{p}"
            );
            assert!(
                store.objects().await.is_empty(),
                "{store:?}: {what} kept a file"
            );
        }
        // Cut off halfway through a file.
        let (ct, body) = bid_multipart(Some(&ok), &[("a.pdf", &big)]);
        let cut = body[..body.len() / 2].to_vec();
        let r = send(&fx, Some(&ta), id, (ct, cut)).await;
        problem(r, 400, "upload_incomplete").await;
        // Callers who may not bid.
        let body = || bid_multipart(Some(&ok), &[("a.pdf", &small)]);
        assert_eq!(send(&fx, None, id, body()).await.status(), 401);
        for user in ["bureau", "finance"] {
            let t = fx.app.token(user).await;
            assert_eq!(
                send(&fx, Some(&t), id, body()).await.status(),
                403,
                "{user}"
            );
        }
        assert_eq!((fx.app.snapshot(), bids_now(&fx)), before, "{store:?}");
        // After the deadline (which closes the tender, a change of its own), refused before the file is
        // taken.
        fx.clock.set(time_of(&fx, id, "bid_deadline").await);
        let ta = fx.app.token(&a.user).await;
        let r = send(&fx, Some(&ta), id, body()).await;
        problem(r, 409, "bidding_closed").await;
        assert!(store.objects().await.is_empty(), "{store:?}");
        assert_eq!(bids_now(&fx), before.1, "{store:?}");
        fx.app.stop().await;
    }
}

/// Small files sent inline in a JSON bid move into the store, sealed, just after the bid is kept; a bid kept
/// with its files inside (before the store, or by a crash before the move) moves at start-up, and
/// `sanshe verify` says so until then. A replacement keeps the current bid's files without sending them
/// again.
async fn issue15_inline_attachments_move_into_the_store(b: Backend) {
    let dir = tempdir();
    let store = Store::Local(dir.join("files"));
    let fx = setup(&b, &store, 100 * 1024 * 1024).await;
    let id = create_tender(&fx, &tender_body("BF-3")).await;
    publish(&fx, id).await;
    let bs = bidders(&fx.app, 2);
    let (a, other) = (&bs[0], &bs[1]);
    let ta = fx.app.token(&a.user).await;
    // bid_body carries 方案.txt inline (base64 of 方案内容).
    let r = crate::tenders::bid(&fx, a, id, "inline-1", 15_000_000).await;
    assert_eq!(r.status(), 201);
    let seq_a = r.json::<Value>().await.unwrap()["seq"].as_i64().unwrap();
    // Moved just after the answer: the bid names a sealed object.
    let cfg = crate::helpers::config(&fx.app.db, &Options::default());
    let ctx = Arc::new(sanshe::tenders::Ctx::from_config(&cfg));
    let moved = |ctx: &sanshe::tenders::Ctx| {
        sanshe::tenders::bids::sealed_files(&mut fx.app.conn(), ctx)
            .unwrap()
            .sealed
            .len()
    };
    for _ in 0..100 {
        if moved(&ctx) == 1 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(moved(&ctx), 1, "moved into the store");
    let objects = store.objects().await;
    assert_eq!(objects.len(), 1, "moved into the store");
    assert!(objects[0].0.starts_with("sealed/"));
    assert!(
        !in_clear(&objects, "方案内容方案内容".as_bytes())
            && !String::from_utf8_lossy(&objects[0].1).contains("方案内容")
    );
    let att = |seq: i64, n: usize| format!("/api/v1/tenders/{id}/bids/{seq}/attachments/{n}");
    let got = fx
        .app
        .get(&att(seq_a, 0), Some(&ta))
        .await
        .bytes()
        .await
        .unwrap();
    assert_eq!(got.as_ref(), "方案内容".as_bytes());

    // A bid kept with its file inside, as every bid was before the store.
    let (user_b, clock) = {
        use diesel::prelude::*;
        let id: i64 = sanshe::db::schema::users::table
            .filter(sanshe::db::schema::users::username.eq(&other.user))
            .select(sanshe::db::schema::users::id)
            .first(&mut fx.app.conn())
            .unwrap();
        (id, fx.clock.clone())
    };
    let input = serde_json::from_value(bid_body("inline-2", 14_000_000, other.worker)).unwrap();
    let actor = sanshe::audit::Actor::system("bid-files-test");
    let seq_b = sanshe::tenders::bids::submit(
        &mut fx.app.conn(),
        &ctx,
        &actor,
        user_b,
        other.org,
        &clock,
        id,
        &input,
    )
    .unwrap()
    .seq;
    let (code, out) = verify(&fx, &store);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("bid files: ok, 1 sealed files, 1 still inside their bids"),
        "{out}"
    );
    let pool = sanshe::db::connect(&fx.app.db.target, 2).unwrap();
    let files = sanshe::files::Store::open(store.settings(20 * 1024 * 1024)).unwrap();
    let moved = sanshe::tenders::bids::move_all_inline(&pool, &ctx, &files)
        .await
        .unwrap();
    assert_eq!(moved, 1);
    let (code, out) = verify(&fx, &store);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("bid files: ok, 2 sealed files\n"), "{out}");
    let tb = fx.app.token(&other.user).await;
    let got = fx
        .app
        .get(&att(seq_b, 0), Some(&tb))
        .await
        .bytes()
        .await
        .unwrap();
    assert_eq!(got.as_ref(), "方案内容".as_bytes());

    // A replacement keeps file 0 of the current bid and adds one: the kept file is not stored again.
    let report = pdf(90 * 1024, 33);
    let mut bid = plain_bid("inline-3", 14_500_000, a.worker);
    bid["keep_files"] = json!([0]);
    let r = send(
        &fx,
        Some(&ta),
        id,
        bid_multipart(Some(&bid), &[("服务方案.pdf", &report)]),
    )
    .await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let replaced = r.json::<Value>().await.unwrap();
    assert_eq!(replaced["replaced"], seq_a);
    let seq_c = replaced["seq"].as_i64().unwrap();
    assert_eq!(store.objects().await.len(), 3);
    let got = fx
        .app
        .get(&att(seq_c, 0), Some(&ta))
        .await
        .bytes()
        .await
        .unwrap();
    assert_eq!(got.as_ref(), "方案内容".as_bytes());
    let got = fx
        .app
        .get(&att(seq_c, 1), Some(&ta))
        .await
        .bytes()
        .await
        .unwrap();
    assert!(got == report);
    fx.app.stop().await;
}

both_backends!(
    issue15_bid_files_sealed_until_opening,
    issue15_refused_bid_files_keep_nothing,
    issue15_inline_attachments_move_into_the_store
);

/// The browser journey: an organisation fills in its bid, picks a 5 MiB PDF, and watches the progress
/// bar while it is sent; after the opening the bureau downloads the file from the tender's page, byte
/// for byte.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue15_a_bid_file_uploaded_with_progress_in_the_browser() {
    let dir = tempdir();
    let store = Store::Local(dir.join("files"));
    // On the real time (the browser's cookies expire by it), moved on by hand to the opening.
    let now = Utc::now();
    let clock = sanshe::clock::ManualClock::new(now);
    let app = TestApp::spawn_with(
        &Backend::Sqlite,
        Options {
            registry_demo: true,
            clock: Some(clock.clone()),
            files: Some(store.settings(20 * 1024 * 1024)),
            ..Default::default()
        },
    )
    .await;
    let fx = Fx { app, clock };
    let id = create_tender(&fx, &crate::tenders::tender_body_at("BF-4", now)).await;
    publish(&fx, id).await;
    let a = bidders(&fx.app, 1)[0].clone();
    let doc = pdf(5 * 1024 * 1024, 41);
    let local = dir.join("投标文件.pdf");
    std::fs::write(&local, &doc).unwrap();

    let mut driver = crate::browser::Driver::start();
    let browser = driver.connect().await;
    let page = format!("/tenders/{id}/bid");
    browser.sign_in(&fx.app, &a.user, &page).await;
    browser.resize(390, 900).await;
    browser
        .assert_no_sideways_scroll("the bid form with its file field, 390 px")
        .await;
    browser.resize(1280, 900).await;
    browser
        .script(
            "sessionStorage.setItem('seen', '[]');
             const send = XMLHttpRequest.prototype.send;
             XMLHttpRequest.prototype.send = function (body) {
               this.upload.addEventListener('progress', () => {
                 const box = document.querySelector('#bid-form .upload-progress');
                 const seen = JSON.parse(sessionStorage.getItem('seen'));
                 seen.push([document.querySelector('#upload-progress').value, !box.hidden,
                            document.querySelector('#bid-submit').disabled]);
                 sessionStorage.setItem('seen', JSON.stringify(seen));
               });
               return send.call(this, body);
             };",
        )
        .await;
    for (field, value) in [
        ("#price", "150000.00"),
        ("#plan", "每周上门探访独居老人，建立档案并定期回访。"),
        ("#budget_staff", "60000.00"),
        ("#budget_activities", "75000.00"),
        ("#budget_management", "15000.00"),
    ] {
        browser.type_into(field, value).await;
    }
    browser
        .click(&format!("input[name=staff][value=\"{}\"]", a.worker))
        .await;
    browser
        .type_into("#bid-files", local.to_str().unwrap())
        .await;
    browser.click("#bid-submit").await;
    let receipt = browser
        .wait_page("the receipt", |p| {
            p.text.contains("回执") || p.text.contains("#")
        })
        .await;
    let seen: Vec<(u64, bool, bool)> = serde_json::from_str(
        browser
            .script("return sessionStorage.getItem('seen');")
            .await
            .as_str()
            .unwrap(),
    )
    .unwrap();
    assert!(
        !seen.is_empty() && seen.iter().all(|s| s.1 && s.2),
        "the bar showed, the button waited: {seen:?}"
    );
    assert_eq!(seen.last().unwrap().0, 100, "{seen:?}");
    let seq = browser
        .script("return document.querySelector('#receipt-seq').innerText;")
        .await;
    let seq: i64 = seq
        .as_str()
        .unwrap()
        .trim_start_matches('#')
        .parse()
        .unwrap_or_else(|_| panic!("no receipt: {}", receipt.text));
    let objects = store.objects().await;
    assert_eq!(objects.len(), 1);
    assert!(!in_clear(&objects, &doc), "sealed at rest");

    // Opened: the bureau downloads it from the tender's page.
    let opening = time_of(&fx, id, "opening_at").await;
    fx.clock.set(opening + Duration::minutes(1));
    browser
        .cmd(reqwest::Method::DELETE, "/cookie", None)
        .await
        .unwrap();
    browser
        .sign_in(&fx.app, "bureau", &format!("/tenders/{id}"))
        .await;
    browser
        .wait_page("the opened bids", |p| p.text.contains("投标文件.pdf"))
        .await;
    let href = browser.attr("#opened-bids .bid-files a", "href").await;
    assert_eq!(
        href.as_deref(),
        Some(format!("/tenders/{id}/bids/{seq}/attachments/0").as_str())
    );
    browser.click("#opened-bids .bid-files a").await;
    let file = driver.downloads().join("投标文件.pdf");
    crate::helpers::wait_for(30, "the download", || {
        std::fs::metadata(&file).is_ok_and(|m| m.len() == doc.len() as u64)
    })
    .await;
    assert!(
        std::fs::read(&file).unwrap() == doc,
        "downloaded byte for byte"
    );
    browser.close().await;
    fx.app.stop().await;
}

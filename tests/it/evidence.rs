//! Evidence as real files (issue 15): a spending item's invoice scan, a milestone's evaluation report, an
//! activity's sign-in sheet and a credit listing's evidence are files in the store, linked to their record,
//! whose SHA-256 the record keeps. They come with the record (`multipart/form-data`: the record as JSON in
//! `data`, then `file`) or after it, for the hash the record declared (a CSV import, an API client); the
//! bureau, finance and the record's organisation read them, nobody else; every refusal keeps nothing in
//! the database or the store. On the local disk and on S3, both database backends; the pages likewise.

use diesel::prelude::*;
use serde_json::{Value, json};

use crate::both_backends;
use crate::files::{Store, multipart, pdf, sha256_hex, tempdir};
use crate::helpers::*;
use crate::spending::{appropriation, awarded_tender, day, signed_contract};
use crate::tenders::bidders;

struct Fx {
    app: TestApp,
    /// The organisation that holds the contract, and one that does not.
    a: String,
    b: String,
    b_org: i64,
    contract: i64,
    community: i64,
}

async fn setup(b: &Backend, store: &Store) -> Fx {
    let app = TestApp::spawn_with(
        b,
        Options {
            registry_demo: true,
            files: Some(store.settings(20 * 1024 * 1024)),
            ..Default::default()
        },
    )
    .await;
    let appr = appropriation(&app).await;
    let bs = bidders(&app, 3);
    let tender = awarded_tender(&app, "EV-T1", &bs, 0);
    let contract = signed_contract(&app, tender, "EV-HT-1", appr);
    let community = {
        use sanshe::db::schema::communities as cm;
        cm::table
            .filter(cm::street_id.eq(1))
            .order(cm::id)
            .select(cm::id)
            .first(&mut app.conn())
            .unwrap()
    };
    Fx {
        a: bs[0].user.clone(),
        b: bs[1].user.clone(),
        b_org: bs[1].org,
        app,
        contract,
        community,
    }
}

/// A `multipart/form-data` post: the record as JSON in `data` (when given), then the file.
async fn post_file(
    app: &TestApp,
    token: Option<&str>,
    path: &str,
    data: Option<&Value>,
    name: &str,
    bytes: &[u8],
) -> reqwest::Response {
    let data = data.map(Value::to_string);
    let fields: Vec<(&str, &str)> = data.iter().map(|d| ("data", d.as_str())).collect();
    let (ct, body) = multipart(&fields, name, bytes);
    let mut r = client()
        .post(app.url(path))
        .header("content-type", ct)
        .body(body);
    if let Some(t) = token {
        r = r.bearer_auth(t);
    }
    r.send().await.unwrap()
}

async fn evidence_of(app: &TestApp, token: &str, purpose: &str, id: i64) -> Vec<Value> {
    let r = app
        .get(&format!("/api/v1/evidence/{purpose}/{id}"), Some(token))
        .await;
    assert_eq!(r.status(), 200, "{purpose} {id}");
    r.json().await.unwrap()
}

/// The store's objects, once the deletions of refused uploads have run.
async fn settled_objects(store: &Store, want: usize) -> usize {
    for _ in 0..50 {
        let n = store.objects().await.len();
        if n == want {
            return n;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    store.objects().await.len()
}

fn item(invoice: &str) -> Value {
    json!({"date": day(10), "line": "activities", "amount": "1280.50", "invoice_no": invoice, "payee": "某某文具店", "description": "小组活动材料"})
}

async fn issue15_evidence_is_a_real_file_linked_to_its_record(b: Backend) {
    let dir = tempdir();
    for store in Store::all(&dir) {
        let fx = setup(&b, &store).await;
        let app = &fx.app;
        let (ta, tb) = (app.token(&fx.a).await, app.token(&fx.b).await);
        let (bureau, finance) = (app.token("bureau").await, app.token("finance").await);
        let spend = format!("/api/v1/contracts/{}/spending", fx.contract);

        // A spending item and its invoice scan in one request.
        let scan = pdf(200 * 1024, 21);
        let r = post_file(
            app,
            Some(&ta),
            &spend,
            Some(&item("EV-1")),
            "发票扫描件.pdf",
            &scan,
        )
        .await;
        assert_eq!(r.status(), 201, "{store:?}: {}", r.text().await.unwrap());
        let v: Value = r.json().await.unwrap();
        let item_id = v["id"].as_i64().unwrap();
        assert_eq!(v["evidence_sha256"], sha256_hex(&scan));
        let files = evidence_of(app, &ta, "spending_evidence", item_id).await;
        assert_eq!(files.len(), 1, "{files:?}");
        assert_eq!(
            (files[0]["name"].as_str(), files[0]["sha256"].as_str()),
            (Some("发票扫描件.pdf"), Some(sha256_hex(&scan).as_str()))
        );
        let href = files[0]["href"].as_str().unwrap().to_string();
        // Read by the organisation, finance and the bureau; not by another organisation or the public.
        for t in [&ta, &finance, &bureau] {
            let r = app.get(&href, Some(t)).await;
            assert_eq!(r.status(), 200);
            assert_eq!(r.bytes().await.unwrap().as_ref(), scan.as_slice());
        }
        assert_eq!(app.get(&href, Some(&tb)).await.status(), 404);
        assert_eq!(app.get(&href, None).await.status(), 404);
        let list = format!("/api/v1/evidence/spending_evidence/{item_id}");
        assert_eq!(app.get(&list, Some(&tb)).await.status(), 404);
        assert_eq!(app.get(&list, None).await.status(), 401);

        // Refused with the record: a typed hash that is not the file's, a file of a kind not accepted, a
        // bad field beside a good file, no record at all. Nothing is kept, in the database or the store.
        let before = app.snapshot();
        let kept = store.objects().await.len();
        let mut wrong = item("EV-2");
        wrong["evidence_sha256"] = json!("ab".repeat(32));
        let r = post_file(
            app,
            Some(&ta),
            &spend,
            Some(&wrong),
            "发票.pdf",
            &pdf(3000, 22),
        )
        .await;
        let p = problem(r, 422, "validation_failed").await;
        assert_eq!(
            rules_of(&p),
            vec![("evidence_sha256".into(), "hash_mismatch".into())]
        );
        let r = post_file(
            app,
            Some(&ta),
            &spend,
            Some(&item("EV-2")),
            "发票.pdf",
            b"MZ\x90\x00 not a pdf",
        )
        .await;
        let p = problem(r, 422, "validation_failed").await;
        assert_eq!(rules_of(&p), vec![("file".into(), "file_type".into())]);
        let mut bad = item("EV-2");
        bad["amount"] = json!("-5");
        let r = post_file(
            app,
            Some(&ta),
            &spend,
            Some(&bad),
            "发票.pdf",
            &pdf(3000, 23),
        )
        .await;
        let p = problem(r, 422, "validation_failed").await;
        assert!(rules_of(&p).iter().any(|(f, _)| f == "amount"), "{p}");
        let r = post_file(app, Some(&ta), &spend, None, "发票.pdf", &pdf(3000, 24)).await;
        let p = problem(r, 422, "validation_failed").await;
        assert_eq!(rules_of(&p), vec![("data".into(), "required".into())]);
        // Another organisation's contract: 404, and the file is not kept either.
        let other = post_file(
            app,
            Some(&tb),
            &spend,
            Some(&item("EV-2")),
            "发票.pdf",
            &pdf(3000, 25),
        )
        .await;
        assert_eq!(other.status(), 404);
        assert_eq!(
            app.snapshot(),
            before,
            "{store:?}: a refusal changed the database"
        );
        assert_eq!(
            settled_objects(&store, kept).await,
            kept,
            "{store:?}: a refused upload was kept"
        );

        // Declared first (JSON), the file after: only that file, once, by the item's own organisation.
        let scan2 = pdf(50 * 1024, 26);
        let mut declared = item("EV-3");
        declared["evidence_sha256"] = json!(sha256_hex(&scan2).to_uppercase());
        let r = app.send_json("POST", &spend, Some(&ta), &declared).await;
        assert_eq!(r.status(), 201);
        let id2 = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
        let mut cmd = crate::cli::sanshe(&app.db);
        cmd.arg("verify").envs(store.env());
        let (_, out, _) = crate::cli::run(&mut cmd);
        // (The registry demo's credit listings declare files too: the harness seeds no files.)
        let line = out
            .lines()
            .find(|l| l.starts_with("evidence: "))
            .unwrap_or("");
        assert!(
            line.contains("declare a file not uploaded yet")
                && line.contains("spending_evidence 1"),
            "{out}"
        );
        let add = format!("/api/v1/evidence/spending_evidence/{id2}");
        let before = app.snapshot();
        let r = post_file(app, Some(&ta), &add, None, "补传.pdf", &pdf(3000, 27)).await;
        let p = problem(r, 422, "validation_failed").await;
        assert_eq!(rules_of(&p), vec![("file".into(), "hash_mismatch".into())]);
        assert_eq!(
            post_file(app, Some(&tb), &add, None, "补传.pdf", &scan2)
                .await
                .status(),
            404
        );
        assert_eq!(
            post_file(app, Some(&bureau), &add, None, "补传.pdf", &scan2)
                .await
                .status(),
            403
        );
        assert_eq!(
            post_file(app, None, &add, None, "补传.pdf", &scan2)
                .await
                .status(),
            401
        );
        assert_eq!(
            app.snapshot(),
            before,
            "{store:?}: a refused file changed the database"
        );
        assert_eq!(
            settled_objects(&store, kept).await,
            kept,
            "{store:?}: a refused file was kept"
        );
        let r = post_file(app, Some(&ta), &add, None, "补传.pdf", &scan2).await;
        assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
        let r = post_file(app, Some(&ta), &add, None, "补传.pdf", &scan2).await;
        problem(r, 409, "evidence_present").await;
        let r = app
            .send_json("POST", &spend, Some(&ta), &item("EV-4"))
            .await;
        let id3 = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
        let r = post_file(
            app,
            Some(&ta),
            &format!("/api/v1/evidence/spending_evidence/{id3}"),
            None,
            "x.pdf",
            &scan2,
        )
        .await;
        problem(r, 409, "no_declared_file").await;

        // The milestone's evaluation report, with the acceptance.
        let c: Value = app
            .get(&format!("/api/v1/contracts/{}", fx.contract), Some(&bureau))
            .await
            .json()
            .await
            .unwrap();
        let pending = c["instalments"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["status"] == "pending")
            .unwrap()
            .clone();
        let report = pdf(150 * 1024, 28);
        let acc =
            json!({"accepted_on": day(0), "effect_score": "88", "evaluator": "第三方评估中心"});
        let path = format!(
            "/api/v1/contracts/{}/instalments/{}/acceptance",
            fx.contract, pending["no"]
        );
        let r = post_file(app, Some(&ta), &path, Some(&acc), "评估报告.pdf", &report).await;
        assert_eq!(
            r.status(),
            403,
            "an organisation does not accept its own milestone"
        );
        let r = post_file(
            app,
            Some(&bureau),
            &path,
            Some(&acc),
            "评估报告.pdf",
            &report,
        )
        .await;
        assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
        let v: Value = r.json().await.unwrap();
        let inst = v["instalments"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["no"] == pending["no"])
            .unwrap()
            .clone();
        assert_eq!(inst["report_sha256"], sha256_hex(&report));
        let files = evidence_of(app, &ta, "milestone_report", inst["id"].as_i64().unwrap()).await;
        assert_eq!(files[0]["sha256"], sha256_hex(&report));

        // An activity and its sign-in sheet.
        let sheet = pdf(80 * 1024, 29);
        let act = json!({"held_on": day(3), "kind": "group", "community_id": fx.community, "minutes": 90, "title": "长者健康小组", "anonymous": 12});
        let path = format!("/api/v1/contracts/{}/activities", fx.contract);
        let r = post_file(app, Some(&ta), &path, Some(&act), "签到表.pdf", &sheet).await;
        assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["activity"]["evidence_sha256"], sha256_hex(&sheet));
        let aid = v["activity"]["id"].as_i64().unwrap();
        assert_eq!(
            evidence_of(app, &finance, "sign_in_sheet", aid).await.len(),
            1
        );
        let sheet_list = format!("/api/v1/evidence/sign_in_sheet/{aid}");
        assert_eq!(app.get(&sheet_list, Some(&tb)).await.status(), 404);

        // A credit listing and its evidence (the bureau's).
        let evidence = pdf(60 * 1024, 30);
        let listing = json!({"organisation_id": fx.b_org, "list": "abnormal", "source": "民政局", "listed_on": day(1)});
        let r = post_file(
            app,
            Some(&bureau),
            "/api/v1/credit-listings",
            Some(&listing),
            "公告.pdf",
            &evidence,
        )
        .await;
        assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["evidence_sha256"], sha256_hex(&evidence));
        let listed = v["id"].as_i64().unwrap();
        assert_eq!(
            evidence_of(app, &tb, "credit_evidence", listed).await.len(),
            1
        );
        let r = app
            .get(
                &format!("/api/v1/evidence/credit_evidence/{listed}"),
                Some(&ta),
            )
            .await;
        assert_eq!(r.status(), 404, "another organisation's listing evidence");

        // Every one is checked by `sanshe verify`, and an altered one is caught and not delivered whole.
        // (Only its files section is looked at: this fixture's bids were sealed under the harness's
        // secret, which the command here does not have.)
        let verify = || {
            let mut c = crate::cli::sanshe(&app.db);
            c.arg("verify");
            for (k, v) in store.env() {
                c.env(k, v);
            }
            crate::cli::run(&mut c)
        };
        let (_, out, err) = verify();
        // Nothing of this test waits for its file (the registry demo's listings, seeded without files, do).
        let waiting = out
            .lines()
            .find(|l| l.starts_with("evidence: "))
            .unwrap_or("");
        assert!(
            out.contains("files: ok, 5 stored files for 5 records")
                && ["milestone_report", "spending_evidence", "sign_in_sheet"]
                    .iter()
                    .all(|p| !waiting.contains(p)),
            "{store:?}: {out}{err}"
        );
        let name = store
            .objects()
            .await
            .into_iter()
            .find(|(n, _)| n.ends_with(&sha256_hex(&scan)))
            .unwrap()
            .0;
        let mut altered = scan.clone();
        altered[9000] ^= 0xff;
        store.tamper(&name, altered).await;
        let (code, out, _) = verify();
        assert_eq!(code, 1, "{out}");
        assert!(
            out.contains(&format!("{} altered", sha256_hex(&scan)))
                && !out.lines().any(|l| l.starts_with("files: ok")),
            "{out}"
        );
        let got = app.get(&href, Some(&finance)).await.bytes().await;
        assert!(
            got.as_ref().map_or(true, |b| b.len() < scan.len()),
            "{store:?}: an altered file was delivered whole"
        );
        fx.app.stop().await;
    }
}

both_backends!(issue15_evidence_is_a_real_file_linked_to_its_record);

/// A page form posted as `multipart/form-data` by a signed-in client: its fields (after the page's CSRF
/// token), then the file (no name and no bytes: none chosen).
async fn post_page(
    app: &TestApp,
    c: &reqwest::Client,
    form_page: &str,
    action: &str,
    fields: &[(&str, &str)],
    file: (&str, &[u8]),
) -> reqwest::Response {
    let (_, html) = page_as(app, c, form_page).await;
    let csrf = csrf_of(&html);
    let mut all = vec![("csrf", csrf.as_str())];
    all.extend_from_slice(fields);
    let (ct, body) = multipart(&all, file.0, file.1);
    c.post(app.url(action))
        .header("content-type", ct)
        .body(body)
        .send()
        .await
        .unwrap()
}

fn see_other(r: &reqwest::Response) -> String {
    assert_eq!(r.status(), 303, "{:?}", r.headers());
    r.headers()["location"].to_str().unwrap().to_string()
}

/// The file's download link as a page shows it.
fn file_link(html: &str, name: &str) -> bool {
    html.contains("href=\"/files/") && html.contains(name)
}

/// The pages: a file picked with a spending item, an acceptance, an activity and a credit listing is kept
/// and linked from the record's row; a refused file comes back at its form with what was typed and keeps
/// nothing; a hash declared by a CSV import is shown as waiting for its file, which is added from the row.
async fn issue15_evidence_from_the_pages(b: Backend) {
    let dir = tempdir();
    let store = Store::Local(dir.join("files"));
    let fx = setup(&b, &store).await;
    let app = &fx.app;
    let (ct, org) = (fx.contract, sign_in(app, &fx.a).await);
    let spending = format!("/contracts/{ct}/spending");
    let today = day(0);
    let fields = [
        ("date", today.as_str()),
        ("line", "activities"),
        ("amount", "88.00"),
        ("invoice_no", "PG-1"),
        ("payee", "文具店"),
        ("description", "活动材料"),
    ];
    // A file of a kind not accepted: the form again with the reason and what was typed; nothing kept.
    let before = app.snapshot();
    let r = post_page(
        app,
        &org,
        &spending,
        &spending,
        &fields,
        ("发票.exe", b"MZ\x90\x00 not a pdf"),
    )
    .await;
    assert_eq!(r.status(), 422);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("按文件内容判断") && html.contains("PG-1"),
        "{html}"
    );
    assert_eq!(app.snapshot(), before);
    assert_eq!(
        settled_objects(&store, 0).await,
        0,
        "a refused file was kept"
    );
    // No file chosen: the item is kept without evidence (it is optional).
    let r = post_page(app, &org, &spending, &spending, &fields, ("", b"")).await;
    see_other(&r);
    // With its invoice scan: linked from the item's row.
    let scan = pdf(20 * 1024, 41);
    let mut f2 = fields;
    f2[3] = ("invoice_no", "PG-2");
    let r = post_page(
        app,
        &org,
        &spending,
        &spending,
        &f2,
        ("发票扫描件.pdf", &scan),
    )
    .await;
    see_other(&r);
    let (_, html) = page_as(app, &org, &spending).await;
    assert!(file_link(&html, "发票扫描件.pdf"), "{html}");
    // Finance sees the link and downloads the file from it.
    let fin = sign_in(app, "finance").await;
    let (_, html) = page_as(app, &fin, &spending).await;
    let i = html.find("发票扫描件.pdf").unwrap();
    let start = html[..i].rfind("href=\"").unwrap() + 6;
    let href = &html[start..start + html[start..].find('"').unwrap()];
    let got = fin.get(app.url(href)).send().await.unwrap();
    assert_eq!(got.status(), 200);
    assert_eq!(got.bytes().await.unwrap().as_ref(), scan.as_slice());

    // A CSV import declares a hash: the row waits for its file, added from the row.
    let sheet = pdf(10 * 1024, 42);
    let csv = format!(
        "date,line,amount,invoice_no,payee,description,evidence_sha256\n{today},activities,12.00,PG-3,文具店,材料,{}\n",
        sha256_hex(&sheet)
    );
    let (_, html) = page_as(app, &org, &spending).await;
    let r = org
        .post(app.url(&format!("{spending}/import")))
        .form(&[("csrf", csrf_of(&html).as_str()), ("csv", csv.as_str())])
        .send()
        .await
        .unwrap();
    see_other(&r);
    let (_, html) = page_as(app, &org, &spending).await;
    assert!(html.contains("文件未上传（已登记 SHA-256）"), "{html}");
    let i = html.find("action=\"/evidence/spending_evidence/").unwrap() + 8;
    let action = html[i..i + html[i..].find('"').unwrap()].to_string();
    // Another file than the declared one: back with the reason, nothing kept.
    let before = app.snapshot();
    let r = post_page(
        app,
        &org,
        &spending,
        &action,
        &[("back", &spending)],
        ("签到.pdf", &pdf(9000, 43)),
    )
    .await;
    assert_eq!(see_other(&r), spending);
    assert_eq!(app.snapshot(), before);
    let r = post_page(
        app,
        &org,
        &spending,
        &action,
        &[("back", &spending)],
        ("补传凭证.pdf", &sheet),
    )
    .await;
    assert_eq!(see_other(&r), spending);
    let (_, html) = page_as(app, &org, &spending).await;
    assert!(
        file_link(&html, "补传凭证.pdf") && !html.contains("文件未上传"),
        "{html}"
    );

    // The bureau accepts a milestone with its evaluation report; the contract page links it.
    let bureau = sign_in(app, "bureau").await;
    let page = format!("/contracts/{ct}");
    let (_, html) = page_as(app, &bureau, &page).await;
    let i = html
        .find(&format!("action=\"/contracts/{ct}/instalments/"))
        .unwrap()
        + 8;
    let action = html[i..i + html[i..].find('"').unwrap()].to_string();
    let report = pdf(30 * 1024, 44);
    let acc = [
        ("accepted_on", today.as_str()),
        ("effect_score", "90"),
        ("evaluator", "第三方评估中心"),
    ];
    let r = post_page(
        app,
        &bureau,
        &page,
        &action,
        &acc,
        ("中期评估报告.pdf", &report),
    )
    .await;
    see_other(&r);
    let (_, html) = page_as(app, &bureau, &page).await;
    assert!(file_link(&html, "中期评估报告.pdf"), "{html}");
    let (_, html) = page_as(app, &org, &page).await;
    assert!(
        file_link(&html, "中期评估报告.pdf"),
        "the organisation sees its report"
    );

    // An activity with its sign-in sheet.
    let acts = format!("/contracts/{ct}/activities");
    let community = fx.community.to_string();
    let act = [
        ("held_on", today.as_str()),
        ("kind", "group"),
        ("community_id", community.as_str()),
        ("minutes", "60"),
        ("title", "亲子阅读"),
        ("anonymous", "8"),
    ];
    let r = post_page(
        app,
        &org,
        &acts,
        &acts,
        &act,
        ("签到表.pdf", &pdf(12 * 1024, 45)),
    )
    .await;
    see_other(&r);
    let (_, html) = page_as(app, &org, &acts).await;
    assert!(file_link(&html, "签到表.pdf"), "{html}");

    // A credit listing with its evidence, on the organisation's page.
    let orgp = format!("/registry/orgs/{}", fx.b_org);
    let listing = [
        ("list", "abnormal"),
        ("source", "民政局"),
        ("listed_on", today.as_str()),
    ];
    let r = post_page(
        app,
        &bureau,
        &orgp,
        &format!("{orgp}/listings"),
        &listing,
        ("异常名录公告.pdf", &pdf(8 * 1024, 46)),
    )
    .await;
    see_other(&r);
    let (_, html) = page_as(app, &bureau, &orgp).await;
    assert!(file_link(&html, "异常名录公告.pdf"), "{html}");
    fx.app.stop().await;
}

both_backends!(issue15_evidence_from_the_pages);

/// In Chromium, as an organisation would on a phone: a spending item imported with a declared SHA-256
/// waits for its file on its row; the file picked there uploads with the page's progress, the row then
/// links it; the page fits 390 px in both languages.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue15_evidence_added_from_its_row_in_the_browser() {
    let dir = tempdir();
    let store = Store::Local(dir.join("files"));
    let fx = setup(&Backend::Sqlite, &store).await;
    let app = &fx.app;
    let scan = pdf(2 * 1024 * 1024, 51);
    let csv = format!(
        "date,line,amount,invoice_no,payee,description,evidence_sha256\n{},activities,36.50,BR-1,文具店,彩纸和胶水,{}\n",
        day(2),
        sha256_hex(&scan)
    );
    let t = app.token(&fx.a).await;
    let r = client()
        .post(app.url(&format!(
            "/api/v1/contracts/{}/spending/import",
            fx.contract
        )))
        .bearer_auth(&t)
        .header("content-type", "text/csv; charset=utf-8")
        .body(csv)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let items: Value = app
        .get(
            &format!("/api/v1/contracts/{}/spending", fx.contract),
            Some(&t),
        )
        .await
        .json()
        .await
        .unwrap();
    let id = items["items"]["items"][0]["id"].as_i64().unwrap();
    let local = dir.join("发票扫描件.pdf");
    std::fs::write(&local, &scan).unwrap();

    let mut driver = crate::browser::Driver::start();
    let browser = driver.connect().await;
    let page = format!("/contracts/{}/spending", fx.contract);
    browser.sign_in(app, &fx.a, &page).await;
    browser.resize(390, 900).await;
    let cell = format!("#evidence-spending_evidence-{id}");
    browser
        .wait_page("the row waits for its file", |p| {
            p.text.contains("文件未上传（已登记 SHA-256）")
        })
        .await;
    browser
        .assert_no_sideways_scroll("the spending page with a row waiting for its file, 390 px")
        .await;
    browser.goto(&app.url("/lang/en")).await;
    browser.goto(&app.url(&page)).await;
    browser
        .wait_page("the same in English", |p| {
            p.text.contains("File not uploaded (SHA-256 declared)")
        })
        .await;
    browser
        .assert_no_sideways_scroll("the spending page in English, 390 px")
        .await;
    browser
        .script(
            "sessionStorage.setItem('seen', '0');
             const send = XMLHttpRequest.prototype.send;
             XMLHttpRequest.prototype.send = function (body) {
               this.upload.addEventListener('progress', () => {
                 const box = document.querySelector('.inline-upload .upload-progress');
                 if (!box.hidden) sessionStorage.setItem('seen', '1');
               });
               return send.call(this, body);
             };",
        )
        .await;
    browser
        .type_into(&format!("{cell} input[type=file]"), local.to_str().unwrap())
        .await;
    browser.click(&format!("{cell} button[type=submit]")).await;
    browser
        .wait_page("the row links its file", |p| {
            p.text.contains("发票扫描件.pdf") && !p.text.contains("File not uploaded")
        })
        .await;
    let seen = browser
        .script("return sessionStorage.getItem('seen');")
        .await;
    assert_eq!(seen.as_str(), Some("1"), "the progress bar showed");
    browser
        .assert_no_sideways_scroll("the row with its file, 390 px")
        .await;
    let files = evidence_of(app, &t, "spending_evidence", id).await;
    assert_eq!(files[0]["sha256"], sha256_hex(&scan));
    browser.close().await;
    fx.app.stop().await;
}

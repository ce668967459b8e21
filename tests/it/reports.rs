//! Reports (issue 13): the 三社联动 report on the demo data, its figures equal to what the other endpoints
//! give for the same period, its PDF read by the real tools (pdftotext, pdffonts, pdfinfo, qpdf, pdftoppm),
//! the bureau's text in it, the refusals (each a problem+json naming the field and the rule, nothing
//! changed), and the command line. Both backends.

use std::process::Command;
use std::sync::Arc;

use chrono::Datelike;
use serde_json::{Value, json};

use crate::both_backends;
use crate::cli::{run, sanshe};
use crate::helpers::*;
use crate::route_table::{Op, Roles};
use sanshe::auth::Role;

const BFA: &[Role] = &[Role::Bureau, Role::Finance, Role::Admin];
const BUREAU: &[Role] = &[Role::Bureau];

/// The report pages and their roles, for the route table.
pub(crate) const EXPECTED_PAGES: &[(&str, &str, &[Role])] =
    &[("GET", "/reports/three-society", BFA)];

/// The API operations of this feature, for the route table.
pub(crate) const ROUTES: &[Op] = &[
    crate::op!(
        "GET",
        "/api/v1/reports/three-society",
        "/api/v1/reports/three-society",
        Roles(BFA)
    ),
    crate::op!(
        "GET",
        "/api/v1/reports/three-society/pdf",
        "/api/v1/reports/three-society/pdf",
        Roles(BFA)
    ),
    crate::op!(
        "GET",
        "/api/v1/reports/three-society/texts",
        "/api/v1/reports/three-society/texts",
        Roles(BFA)
    ),
    crate::op!(
        "PUT",
        "/api/v1/reports/three-society/texts",
        "/api/v1/reports/three-society/texts",
        Roles(BUREAU),
        r#"{"problems": "", "next_steps": ""}"#
    ),
];

/// Run a tool on a file; its standard output, or the test fails with its error.
pub(crate) fn tool(cmd: &str, args: &[&str]) -> String {
    let out = Command::new(cmd)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{cmd} (scripts/setup-test-deps installs it): {e}"));
    assert!(
        out.status.success(),
        "{cmd} {args:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Dark pixels of page 1 rendered in grey at 50 dpi (a binary PGM).
pub(crate) fn dark_pixels(pdf: &std::path::Path) -> usize {
    let base = pdf.with_extension("page");
    tool(
        "pdftoppm",
        &[
            "-gray",
            "-r",
            "50",
            "-f",
            "1",
            "-l",
            "1",
            pdf.to_str().unwrap(),
            base.to_str().unwrap(),
        ],
    );
    let dir = pdf.parent().unwrap();
    let stem = base.file_name().unwrap().to_str().unwrap().to_string();
    let file = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(&stem) && n.ends_with(".pgm"))
        })
        .expect("pdftoppm wrote a page");
    let bytes = std::fs::read(file).unwrap();
    // P5, width, height, maxval, each followed by one whitespace byte, then the pixels.
    let mut fields = 0;
    let mut i = 0;
    while fields < 4 {
        while bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        while !bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        fields += 1;
    }
    bytes[i + 1..].iter().filter(|b| **b < 128).count()
}

pub(crate) fn squash(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect()
}

fn yuan(fen: i64) -> String {
    sanshe::reports::yuan(fen)
}

pub(crate) async fn json_of(app: &TestApp, path: &str, token: &str) -> Value {
    let r = app.get(path, Some(token)).await;
    assert_eq!(r.status(), 200, "{path}");
    r.json().await.unwrap()
}

async fn issue13_three_society_report_on_the_demo(b: Backend) {
    let db = Arc::new(TestDb::demo(&b).await.0);
    let app = TestApp::start_on(db.clone(), Options::default()).await;
    let (bureau, finance) = (app.token("bureau").await, app.token("finance").await);
    // Last year: a whole year of the demo's contracts, payments and people served.
    let year = sanshe::clock::beijing_date(chrono::Utc::now()).year() - 1;
    let q = format!("year={year}");
    let r = json_of(
        &app,
        &format!("/api/v1/reports/three-society?{q}"),
        &finance,
    )
    .await;

    // People served: the overview of the same months, figure for figure.
    let o = json_of(
        &app,
        &format!("/api/v1/people/overview?from={year}-01&to={year}-12"),
        &bureau,
    )
    .await;
    assert!(
        r["people"]["people"].as_i64().unwrap() > 1000,
        "{}",
        r["people"]
    );
    assert_eq!(r["people"], o["total"]);
    assert_eq!(r["people_by_field"], o["by_field"]);
    assert_eq!(r["people_by_street"], o["by_street"]);
    assert_eq!(r["people_by_month"], o["by_month"]);
    assert_eq!(r["activities"], o["activities"]);
    assert_eq!(r["volunteers"], o["volunteers"]);
    // Funds: the budget execution of that year.
    let e = json_of(&app, &format!("/api/v1/ledger/execution?{q}"), &finance).await;
    for k in ["appropriated_fen", "committed_fen", "paid_fen", "rate"] {
        assert_eq!(r["funds"][k], e["total"][k], "{k}");
    }
    assert!(r["funds"]["paid_fen"].as_i64().unwrap() > 0);
    // Projects: the contracts signed that year, with their amounts and what was paid on them.
    let list = json_of(
        &app,
        &format!("/api/v1/contracts?{q}&per_page=100"),
        &finance,
    )
    .await;
    let signed: Vec<&Value> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["state"] != "draft")
        .collect();
    let projects = r["projects"].as_array().unwrap();
    assert_eq!(projects.len(), signed.len());
    assert!(projects.len() >= 10);
    for c in &signed {
        let p = projects
            .iter()
            .find(|p| p["contract_id"] == c["id"])
            .unwrap_or_else(|| panic!("contract {} missing", c["id"]));
        assert_eq!(p["amount_fen"], c["amount_fen"]);
        assert_eq!(p["paid_fen"], c["paid_fen"]);
    }
    let funds: i64 = r["purchased_by_field"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["funds_fen"].as_i64().unwrap())
        .sum();
    let amounts: i64 = signed
        .iter()
        .map(|c| c["amount_fen"].as_i64().unwrap())
        .sum();
    assert_eq!(funds, amounts);
    // Each project's 人次 and 人数: the breakdown by contract of the same months.
    let by_contract = json_of(
        &app,
        &format!("/api/v1/people/counts?by=contract&from={year}-01&to={year}-12"),
        &bureau,
    )
    .await;
    for p in projects {
        let line = by_contract
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["key"].as_str() == Some(&p["contract_id"].to_string()));
        match line {
            Some(l) => {
                assert_eq!(p["count"]["visits"], l["visits"]);
                assert_eq!(p["count"]["people"], l["people"]);
            }
            None => assert_eq!(p["count"]["visits"], 0),
        }
    }

    // The bureau's text for sections 4 and 5; refused text changes nothing.
    let before = app.snapshot();
    let long = "问".repeat(5001);
    let p = problem(
        app.send_json(
            "PUT",
            &format!("/api/v1/reports/three-society/texts?{q}"),
            Some(&bureau),
            &json!({"problems": long, "next_steps": "x"}),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    assert!(
        rules_of(&p).contains(&("problems".into(), "max_length".into())),
        "{p}"
    );
    assert_eq!(app.snapshot(), before);
    let texts = json!({"problems": "部分社区服务覆盖不足，志愿者流失。", "next_steps": "推进社区基金会试点，完善项目绩效评价。"});
    let r2 = app
        .send_json(
            "PUT",
            &format!("/api/v1/reports/three-society/texts?{q}"),
            Some(&bureau),
            &texts,
        )
        .await;
    assert_eq!(r2.status(), 200);
    let saved = json_of(
        &app,
        &format!("/api/v1/reports/three-society/texts?{q}"),
        &finance,
    )
    .await;
    assert_eq!(saved, texts);

    // The PDF, read by the real tools.
    let resp = app
        .get(
            &format!("/api/v1/reports/three-society/pdf?{q}"),
            Some(&finance),
        )
        .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "application/pdf");
    let disposition = resp.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(disposition.contains("filename*=UTF-8''"), "{disposition}");
    let bytes = resp.bytes().await.unwrap();
    assert!(bytes.starts_with(b"%PDF-"));
    assert!(bytes.len() < 1024 * 1024, "{} bytes", bytes.len());
    let file = db.dir.join("three-society.pdf");
    std::fs::write(&file, &bytes).unwrap();
    let path = file.to_str().unwrap();
    let fonts = tool("pdffonts", &[path]);
    let rows: Vec<&str> = fonts.lines().skip(2).collect();
    assert!(!rows.is_empty(), "{fonts}");
    for row in rows {
        // name, type…, encoding, emb, sub, uni: every font embedded and subset.
        let cols: Vec<&str> = row.split_whitespace().collect();
        let n = cols.len();
        assert_eq!(&cols[n - 5..n - 2], &["yes", "yes", "yes"], "{fonts}");
    }
    tool("qpdf", &["--check", path]);
    let info = tool("pdfinfo", &[path]);
    assert!(
        info.contains(&format!("{year}年三社联动工作报告")),
        "{info}"
    );
    assert!(
        info.contains("Author:") && info.contains("区民政局"),
        "{info}"
    );
    assert!(
        info.contains("Page size:") && info.contains("595.") && info.contains("841."),
        "{info}"
    );
    let pages: usize = info
        .lines()
        .find_map(|l| l.strip_prefix("Pages:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap();
    let text = squash(&tool("pdftotext", &[path, "-"]));
    for heading in [
        "一、总体情况",
        "二、主要举措",
        "三、工作成效",
        "四、存在的问题",
        "五、下一步工作打算",
        "附表1项目清单",
        "图4服务人次按月份",
    ] {
        assert!(text.contains(heading), "{heading} missing");
    }
    for n in 1..=pages {
        assert!(
            text.contains(&format!("第{n}页共{pages}页")),
            "page {n} of {pages}"
        );
    }
    let people = &r["people"];
    assert!(text.contains(&format!(
        "服务{}人次（其中匿名人次{}），服务{}人",
        people["visits"], people["anonymous"], people["people"]
    )));
    assert!(text.contains(&yuan(r["funds"]["paid_fen"].as_i64().unwrap())));
    assert!(text.contains(&yuan(funds)));
    assert!(text.contains("推进社区基金会试点，完善项目绩效评价。"));
    assert!(text.contains(&format!("账本#{}", r["digest"]["seq"])));
    let first = projects[0]["provider"].as_str().unwrap();
    assert!(text.contains(&squash(first)), "{first}");
    assert!(dark_pixels(&file) > 500, "page 1 is blank");

    // Refusals: a period that is not one, a street that does not exist.
    for (query, field, rule) in [
        ("year=1999", "year", "range"),
        ("", "year", "period"),
        (&*format!("year={year}&quarter=5"), "quarter", "range"),
        ("from=2025-07&to=2025-03", "to", "after_from"),
        ("from=2025-13&to=2025-14", "from", "month"),
        (&*format!("year={year}&street=999999"), "street", "exists"),
    ] {
        for path in [
            "/api/v1/reports/three-society",
            "/api/v1/reports/three-society/pdf",
        ] {
            let p = problem(
                app.get(&format!("{path}?{query}"), Some(&finance)).await,
                422,
                "validation_failed",
            )
            .await;
            assert!(
                rules_of(&p).contains(&(field.into(), rule.into())),
                "{query}: {p}"
            );
        }
    }

    // A street's report: only what belongs to it.
    let street = r["people_by_street"][0]["key"]
        .as_str()
        .unwrap()
        .to_string();
    let s = json_of(
        &app,
        &format!("/api/v1/reports/three-society?{q}&street={street}"),
        &finance,
    )
    .await;
    let in_street = &r["people_by_street"][0];
    assert_eq!(s["people"]["visits"], in_street["visits"]);
    assert_eq!(s["people"]["people"], in_street["people"]);
    assert!(s["communities"].as_i64().unwrap() < r["communities"].as_i64().unwrap());

    // The same report as a web page (bureau, finance, administrators): every section and chart, the
    // figures of the JSON, the bureau's text and the link to the PDF of the same period.
    let web = sign_in(&app, "bureau").await;
    let (status, html) = page_as(&app, &web, &format!("/reports/three-society?{q}")).await;
    assert_eq!(status, 200, "{html}");
    for s in [
        "一、总体情况",
        "二、主要举措",
        "三、工作成效",
        "四、存在的问题",
        "五、下一步工作打算",
        "附录",
        "图1 孵化漏斗",
        "图2 资金按领域",
        "图3 项目与资金按街道",
        "图4 服务人次按月份",
        "附表1 项目清单",
        "附表2 持证社会工作者",
        "附表3 孵化基地",
        texts["next_steps"].as_str().unwrap(),
        &format!("服务 {} 人次", people["visits"]),
        &format!("服务 {} 人（", people["people"]),
        &yuan(r["funds"]["paid_fen"].as_i64().unwrap()),
        &format!("/api/v1/reports/three-society/pdf?year={year}"),
        "id=\"texts-form\"",
    ] {
        assert!(html.contains(s), "the page lacks {s}");
    }
    assert_eq!(
        html.matches("<td><a href=\"/contracts/").count(),
        r["projects"].as_array().unwrap().len()
    );
    // Finance reads it; only the bureau writes the text.
    let (status, fin_html) = page_as(
        &app,
        &sign_in(&app, "finance").await,
        &format!("/reports/three-society?{q}"),
    )
    .await;
    assert_eq!(status, 200);
    assert!(fin_html.contains("一、总体情况") && !fin_html.contains("id=\"texts-form\""));
    // A period that is not one: said at the top of the page, no report.
    let (status, bad) = page_as(
        &app,
        &web,
        &format!("/reports/three-society?year={year}&quarter=5"),
    )
    .await;
    assert_eq!(status, 200);
    assert!(bad.contains("id=\"report-error\"") && bad.contains("季度为 1 至 4"));
    assert!(!bad.contains("一、总体情况"));
    // The text form: a refused text is shown at its field and changes nothing; a good one is saved and
    // the page redirects back to the report (a reload does not send it again).
    let post_texts = |next_steps: String| {
        let (c, url, csrf, year) = (
            web.clone(),
            app.url("/reports/three-society/texts"),
            csrf_of(&html),
            year.to_string(),
        );
        async move {
            c.post(url)
                .form(&[
                    ("csrf", csrf.as_str()),
                    ("year", year.as_str()),
                    ("problems", "部分社区服务覆盖不足。"),
                    ("next_steps", next_steps.as_str()),
                ])
                .send()
                .await
                .unwrap()
        }
    };
    let before = app.snapshot();
    let resp = post_texts("步".repeat(5001)).await;
    assert_eq!(resp.status(), 422);
    let body = resp.text().await.unwrap();
    assert!(body.contains("field-error") && body.contains("每部分不超过 5000 字"));
    assert_eq!(app.snapshot(), before);
    let resp = post_texts("网页填写：扩大社区基金会试点。".into()).await;
    assert_eq!(resp.status(), 303);
    assert_eq!(
        resp.headers()["location"],
        format!("/reports/three-society?year={year}#texts").as_str()
    );
    let saved = json_of(
        &app,
        &format!("/api/v1/reports/three-society/texts?{q}"),
        &finance,
    )
    .await;
    assert_eq!(saved["next_steps"], "网页填写：扩大社区基金会试点。");

    // The command line: the same report into a file, and a refusal in words.
    app.stop().await;
    let out = db.dir.join("cli.pdf");
    let (code, stdout, err) = run(sanshe(&db).args([
        "report",
        "three-society",
        "--year",
        &year.to_string(),
        "--out",
        out.to_str().unwrap(),
    ]));
    assert_eq!(code, 0, "{err}");
    assert!(
        stdout.contains("三社联动") && stdout.contains("bytes"),
        "{stdout}"
    );
    let cli_text = squash(&tool("pdftotext", &[out.to_str().unwrap(), "-"]));
    assert!(cli_text.contains(&format!("服务{}人次", people["visits"])));
    let (code, _, err) = run(sanshe(&db).args([
        "report",
        "three-society",
        "--year",
        &year.to_string(),
        "--quarter",
        "9",
        "--out",
        db.dir.join("bad.pdf").to_str().unwrap(),
    ]));
    assert_ne!(code, 0);
    assert!(err.contains("季度") || err.contains("quarter"), "{err}");
    assert!(!db.dir.join("bad.pdf").exists());
}

both_backends!(issue13_three_society_report_on_the_demo);

/// The browser journey: the bureau writes the next steps on the report page, generates the district's
/// report (progress, then a download) and finds its words in the downloaded PDF; the page fits a phone in
/// both languages.
async fn issue13_bureau_writes_next_steps_generates_and_downloads_the_report(b: Backend) {
    let app = TestApp::spawn(&b).await;
    let mut driver = crate::browser::Driver::start();
    let browser = driver.connect().await;
    browser.goto(&app.url("/login")).await;
    browser
        .wait_page("the sign-in page", |p| p.path == "/login")
        .await;
    browser.type_into("#username", "bureau").await;
    browser.type_into("#password", PASSWORD).await;
    browser.click("#login-submit").await;
    browser
        .wait_page("the dashboard", |p| p.path == "/dashboard")
        .await;
    // The report is in the bureau's navigation.
    browser
        .click("nav.main a[href='/reports/three-society']")
        .await;
    let year = sanshe::clock::beijing_date(chrono::Utc::now()).year();
    let p = browser
        .wait_page("the report page", |p| p.text.contains("一、总体情况"))
        .await;
    assert!(
        p.text.contains(&format!("{year}年三社联动工作报告")),
        "{p:#?}"
    );
    assert!(p.text.contains("（未填写）"), "no next steps yet: {p:#?}");

    let words = "浏览器填写：推进社区基金会试点，完善项目绩效评价。";
    browser.type_into("#next_steps", words).await;
    browser.click("#texts-save").await;
    let p = browser
        .wait_page("the saved text", |p| p.text.contains("报告文字已保存"))
        .await;
    assert_eq!(p.query, format!("?year={year}"), "{p:#?}");
    let shown = browser
        .script("return document.querySelector('#next-steps-text').innerText")
        .await;
    assert_eq!(shown.as_str(), Some(words));

    browser.click("#report-pdf").await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let status = loop {
        let s = browser
            .script("return document.querySelector('#report-status').innerText")
            .await;
        let s = s.as_str().unwrap_or_default().to_string();
        if s.contains("报告已生成") || s.contains("失败") {
            break s;
        }
        assert!(std::time::Instant::now() < deadline, "no report: {s}");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    assert!(status.contains("KB"), "{status}");
    let link = browser
        .script("var a = document.querySelector('#report-download'); return [a.hidden, a.href, a.download]")
        .await;
    assert_eq!(link[0], false, "the download link is shown: {link}");
    assert!(link[1].as_str().unwrap().starts_with("blob:"), "{link}");
    assert_eq!(
        link[2].as_str(),
        Some(format!("三社联动报告-{year}年.pdf").as_str())
    );
    // The browser saved it: a PDF with the bureau's words in it.
    let file = driver
        .downloads()
        .join(format!("三社联动报告-{year}年.pdf"));
    crate::helpers::wait_for(30, "the downloaded PDF", || file.is_file()).await;
    let mut bytes = std::fs::read(&file).unwrap();
    for _ in 0..50 {
        if bytes.ends_with(b"%%EOF\n") || bytes.ends_with(b"%%EOF") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        bytes = std::fs::read(&file).unwrap();
    }
    assert!(bytes.starts_with(b"%PDF-"), "a PDF");
    let text = squash(&tool("pdftotext", &[file.to_str().unwrap(), "-"]));
    assert!(
        text.contains(&squash(words)),
        "the next steps are in the PDF"
    );

    // A phone, in both languages: nothing scrolls sideways.
    browser.resize(390, 844).await;
    browser
        .goto(&app.url(&format!("/reports/three-society?year={year}")))
        .await;
    browser
        .wait_page("the report at phone width", |p| {
            p.text.contains("一、总体情况")
        })
        .await;
    browser
        .assert_no_sideways_scroll("the report page, zh-CN, 390 px")
        .await;
    browser.click("a#lang-switch").await;
    let p = browser
        .wait_page("the English report page", |p| p.lang == "en")
        .await;
    assert!(p.text.contains("Generate the PDF"), "{p:#?}");
    browser
        .assert_no_sideways_scroll("the report page, en, 390 px")
        .await;
    browser.close().await;
}

both_backends!(issue13_bureau_writes_next_steps_generates_and_downloads_the_report);

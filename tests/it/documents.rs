//! Issue 13's documents as PDFs, on the demo data (a copy of the run's one seeding), on both backends: the
//! contract statement, the award notice and award letter, the evaluation report, the bid receipt and the
//! audit report. Each is read by the real tools (pdftotext, pdffonts, pdfinfo, qpdf; one page rendered by
//! pdftoppm), its figures compared with the API's for the same thing, its readers and refusals walked (no
//! token, a forged token, the wrong role, another organisation's), and bad input refused with a
//! problem+json naming the field. Each check below is named after what it shows
//! and, where a law requires the content, the article.

use std::sync::Arc;

use chrono::{Datelike, NaiveDateTime};
use jsonwebtoken::Algorithm;
use serde_json::Value;

use crate::both_backends;
use crate::helpers::*;
use crate::reports::{dark_pixels, json_of, squash, tool};
use crate::route_table::{OTHER_SECRET, Op, Public, Roles, claims, sign};
use sanshe::auth::Role;

const SPENDING_READERS: &[Role] = &[Role::Finance, Role::Admin, Role::Bureau, Role::Org];
const BFA: &[Role] = &[Role::Bureau, Role::Finance, Role::Admin];
const BAEF: &[Role] = &[Role::Bureau, Role::Admin, Role::Evaluator, Role::Finance];
const LETTER: &[Role] = &[Role::Bureau, Role::Org];
const ORG: &[Role] = &[Role::Org];

/// The API operations of the documents, for the route table. In its fixture tender 2 has a published
/// result (`contracts::signed_contract_fixture`).
pub(crate) const ROUTES: &[Op] = &[
    crate::op!(
        "GET",
        "/api/v1/contracts/{id}/statement/pdf",
        "/api/v1/contracts/1/statement/pdf",
        Roles(SPENDING_READERS)
    ),
    crate::op!(
        "GET",
        "/api/v1/tenders/{id}/award-notice/pdf",
        "/api/v1/tenders/2/award-notice/pdf",
        Public
    ),
    crate::op!(
        "GET",
        "/api/v1/tenders/{id}/award-letter/pdf",
        "/api/v1/tenders/2/award-letter/pdf",
        Roles(LETTER)
    ),
    crate::op!(
        "GET",
        "/api/v1/tenders/{id}/evaluation-report/pdf",
        "/api/v1/tenders/2/evaluation-report/pdf",
        Roles(BAEF)
    ),
    crate::op!(
        "GET",
        "/api/v1/tenders/{id}/bids/mine/receipt/pdf",
        "/api/v1/tenders/1/bids/mine/receipt/pdf",
        Roles(ORG)
    ),
    crate::op!(
        "GET",
        "/api/v1/reports/audit/pdf",
        "/api/v1/reports/audit/pdf",
        Roles(BFA)
    ),
];

fn yuan(fen: i64) -> String {
    sanshe::reports::yuan(fen)
}

fn fen(v: &Value) -> i64 {
    v.as_i64().unwrap_or_else(|| panic!("not fen: {v}"))
}

/// A stored instant (naive UTC, as the API sends it) in Beijing time, as the documents print it.
fn beijing(v: &Value) -> String {
    let at = NaiveDateTime::parse_from_str(v.as_str().unwrap(), "%Y-%m-%dT%H:%M:%S%.f").unwrap();
    sanshe::reports::beijing_time(at)
}

struct Demo {
    app: TestApp,
    db: Arc<TestDb>,
    bureau: String,
    finance: String,
    admin: String,
}

impl Demo {
    async fn get(&self, path: &str, token: Option<&str>) -> reqwest::Response {
        self.app.get(path, token).await
    }

    /// The PDF at `path` for `token`, checked by the tools: a download with a UTF-8 file name, every font
    /// embedded and subset, a sound file, A4, the title and author set, 第 n 页 共 N 页 on every page.
    /// Returns the text without white space.
    async fn pdf(&self, path: &str, token: Option<&str>, name: &str, title: &str) -> String {
        let resp = self.get(path, token).await;
        assert_eq!(resp.status(), 200, "{path}");
        assert_eq!(resp.headers()["content-type"], "application/pdf");
        let disposition = resp.headers()["content-disposition"].to_str().unwrap();
        assert!(disposition.contains("filename*=UTF-8''"), "{disposition}");
        let bytes = resp.bytes().await.unwrap();
        assert!(bytes.starts_with(b"%PDF-"));
        assert!(bytes.len() < 512 * 1024, "{path}: {} bytes", bytes.len());
        let file = self.db.dir.join(format!("{name}.pdf"));
        std::fs::write(&file, &bytes).unwrap();
        let p = file.to_str().unwrap();
        let fonts = tool("pdffonts", &[p]);
        let rows: Vec<&str> = fonts.lines().skip(2).collect();
        assert!(!rows.is_empty(), "{fonts}");
        for row in rows {
            let cols: Vec<&str> = row.split_whitespace().collect();
            let n = cols.len();
            assert_eq!(&cols[n - 5..n - 2], &["yes", "yes", "yes"], "{fonts}");
        }
        tool("qpdf", &["--check", p]);
        let info = tool("pdfinfo", &[p]);
        assert!(info.contains(title), "{title}: {info}");
        assert!(
            info.contains("Author:") && info.contains("区民政局"),
            "{info}"
        );
        assert!(info.contains("595.") && info.contains("841."), "{info}");
        let pages: usize = info
            .lines()
            .find_map(|l| l.strip_prefix("Pages:"))
            .and_then(|v| v.trim().parse().ok())
            .unwrap();
        let text = squash(&tool("pdftotext", &[p, "-"]));
        for n in 1..=pages {
            assert!(
                text.contains(&format!("第{n}页共{pages}页")),
                "{name}: page {n} of {pages}"
            );
        }
        assert!(text.contains("账本#"), "{name}: the ledger digest");
        text
    }

    /// The refusals every protected document gives: no token and a forged one (401), each role not
    /// allowed (403).
    async fn refusals(&self, path: &str, forbidden: &[&str]) {
        problem(self.get(path, None).await, 401, "unauthorized").await;
        let forged = sign(Algorithm::HS256, OTHER_SECRET, &claims(1, "admin", 0));
        problem(self.get(path, Some(&forged)).await, 401, "unauthorized").await;
        for user in forbidden {
            let t = self.app.token(user).await;
            problem(self.get(path, Some(&t)).await, 403, "forbidden").await;
        }
    }
}

async fn demo(b: &Backend) -> Demo {
    let db = Arc::new(TestDb::demo(b).await.0);
    let app = TestApp::start_on(db.clone(), Options::default()).await;
    let (bureau, finance, admin) = (
        app.token("bureau").await,
        app.token("finance").await,
        app.token("admin").await,
    );
    Demo {
        app,
        db,
        bureau,
        finance,
        admin,
    }
}

fn org_user(org: &Value) -> String {
    format!("org{:03}", fen(org))
}

/// A token of an organisation that did not bid on `tender` (one that holds a contract, so it has an
/// account).
async fn other_org(d: &Demo, tender: i64) -> String {
    let bids = json_of(&d.app, &format!("/api/v1/tenders/{tender}/bids"), &d.bureau).await;
    let bidders: Vec<i64> = bids
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["organisation_id"].as_i64().unwrap())
        .collect();
    let list = json_of(&d.app, "/api/v1/contracts?per_page=200", &d.finance).await;
    let o = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["organisation_id"].as_i64().unwrap())
        .find(|o| !bidders.contains(o))
        .expect("an organisation that did not bid");
    d.app.token(&format!("org{o:03}")).await
}

async fn first_tender(d: &Demo, state: &str) -> i64 {
    let l = json_of(
        &d.app,
        &format!("/api/v1/tenders?state={state}&per_page=5"),
        &d.bureau,
    )
    .await;
    l["items"][0]["id"]
        .as_i64()
        .unwrap_or_else(|| panic!("no {state} tender in the demo"))
}

/// The statement's totals equal the contract, its payments and its spending as the API gives them.
async fn contract_statement_equals_the_contract_api(d: &Demo) {
    let list = json_of(&d.app, "/api/v1/contracts?per_page=200", &d.finance).await;
    let items = list["items"].as_array().unwrap();
    // A contract with payments and spending flags, if there is one; else one with payments.
    let flags = json_of(&d.app, "/api/v1/flags?per_page=200", &d.finance).await;
    let flagged: Vec<i64> = flags["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["contract_id"].as_i64())
        .collect();
    // A paid contract with spending reported, and flags if there is one.
    let mut spent = Vec::new();
    for c in items.iter().filter(|c| fen(&c["paid_fen"]) > 0).take(40) {
        let sp = json_of(
            &d.app,
            &format!("/api/v1/contracts/{}/spending", c["id"]),
            &d.finance,
        )
        .await;
        if fen(&sp["summary"]["reported_fen"]) > 0 {
            spent.push(c);
        }
    }
    let c = *spent
        .iter()
        .find(|c| flagged.contains(&c["id"].as_i64().unwrap()))
        .or(spent.first())
        .expect("a paid contract with spending in the demo");
    let id = c["id"].as_i64().unwrap();
    let v = json_of(&d.app, &format!("/api/v1/contracts/{id}"), &d.finance).await;
    let sp = json_of(
        &d.app,
        &format!("/api/v1/contracts/{id}/spending"),
        &d.finance,
    )
    .await;
    let fl = json_of(&d.app, &format!("/api/v1/contracts/{id}/flags"), &d.finance).await;
    let no = v["contract_no"].as_str().unwrap();
    let path = format!("/api/v1/contracts/{id}/statement/pdf");
    let text = d
        .pdf(
            &path,
            Some(&d.finance),
            "statement",
            &format!("合同结算单（资金对账单） {no}"),
        )
        .await;
    for h in [
        "合同结算单（资金对账单）",
        "一、合同基本情况",
        "二、资金结算情况",
        "三、付款节点",
        "四、付款记录",
        "五、支出情况（按预算科目）",
        "六、审计提示",
    ] {
        assert!(text.contains(h), "{h} missing");
    }
    assert!(text.contains(no));
    assert!(text.contains(&squash(v["organisation"].as_str().unwrap())));
    let m = &v["money"];
    for k in ["amount_fen", "committed_fen", "accrued_fen", "paid_fen"] {
        assert!(
            text.contains(&yuan(fen(&m[k]))),
            "{k}: {}",
            yuan(fen(&m[k]))
        );
    }
    assert_eq!(fen(&m["paid_fen"]), fen(&c["paid_fen"]));
    assert!(text.contains(&format!(
        "应付未付{}",
        yuan(fen(&m["accrued_fen"]) - fen(&m["paid_fen"]))
    )));
    let mut payments = 0;
    for i in v["instalments"].as_array().unwrap() {
        assert!(text.contains(&format!(
            "第{}期{}",
            i["no"],
            squash(i["milestone"].as_str().unwrap())
        )));
        assert!(text.contains(&yuan(fen(&i["amount_fen"]))));
        if let Some(p) = i["payment"].as_object() {
            payments += fen(&p["amount_fen"]);
            assert!(text.contains(p["voucher_no"].as_str().unwrap()), "voucher");
            assert!(text.contains(p["paid_on"].as_str().unwrap()), "paid on");
        }
    }
    assert_eq!(
        payments,
        fen(&m["paid_fen"]),
        "the payments add up to what was paid"
    );
    let s = &sp["summary"];
    for l in s["lines"].as_array().unwrap() {
        let budget = fen(&l["budget_fen"]);
        let reported = fen(&l["reported_fen"]);
        assert!(
            text.contains(&format!(
                "{}{}{}{}{}",
                l["line_zh"].as_str().unwrap(),
                yuan(budget),
                yuan(reported),
                yuan(fen(&l["accepted_fen"])),
                yuan(budget - reported)
            )),
            "line {}",
            l["line"]
        );
    }
    assert!(text.contains(&format!(
        "合计{}{}{}",
        yuan(fen(&s["budget_fen"])),
        yuan(fen(&s["reported_fen"])),
        yuan(fen(&s["accepted_fen"]))
    )));
    let flags = fl.as_array().unwrap();
    assert!(text.contains(&format!("表4审计提示（共{}条）", flags.len())));
    for f in flags {
        assert!(text.contains(&squash(f["rule_label"].as_str().unwrap())));
    }
    let file = d.db.dir.join("statement.pdf");
    assert!(dark_pixels(&file) > 500, "page 1 is blank");

    // The contract's organisation reads its own; another organisation gets 404, as the contract API.
    let own = d.app.token(&org_user(&v["organisation_id"])).await;
    assert_eq!(d.get(&path, Some(&own)).await.status(), 200);
    let other = items
        .iter()
        .find(|x| x["organisation_id"] != v["organisation_id"])
        .expect("another organisation's contract");
    let other = d.app.token(&org_user(&other["organisation_id"])).await;
    problem(d.get(&path, Some(&other)).await, 404, "not_found").await;
    assert_eq!(
        d.get(&format!("/api/v1/contracts/{id}/spending"), Some(&other))
            .await
            .status(),
        404
    );
    for t in [&d.bureau, &d.admin] {
        assert_eq!(d.get(&path, Some(t)).await.status(), 200);
    }
    d.refusals(&path, &["evaluator1"]).await;
    problem(
        d.get("/api/v1/contracts/999999/statement/pdf", Some(&d.finance))
            .await,
        404,
        "not_found",
    )
    .await;
}

/// The award notice names the evaluators (政府采购法实施条例 Art 43; 87号令 Art 69) and holds the customary
/// sections; it is public once the result is published and refused before.
async fn award_notice_names_evaluators_implementing_regulations_art43(d: &Demo) -> i64 {
    let id = first_tender(d, "publicity").await;
    let t = json_of(&d.app, &format!("/api/v1/tenders/{id}"), &d.bureau).await;
    let r = &t["result"];
    let code = t["code"].as_str().unwrap();
    let title = t["title"].as_str().unwrap();
    let path = format!("/api/v1/tenders/{id}/award-notice/pdf");
    let text = d.pdf(&path, None, "award-notice", title).await;
    for h in [
        "一、项目编号",
        "二、项目名称",
        "四、主要标的信息",
        "五、评审专家名单",
        "六、代理服务收费标准及金额",
        "七、公告期限",
        "八、其他补充事宜",
        "九、联系方式",
    ] {
        assert!(text.contains(h), "{h} missing");
    }
    assert!(text.contains("结果公告"));
    assert!(text.contains(code));
    let evaluators = r["evaluators"].as_array().unwrap();
    assert!(!evaluators.is_empty());
    for e in evaluators {
        assert!(text.contains(&squash(e.as_str().unwrap())), "evaluator {e}");
    }
    assert!(text.contains(&squash(r["winner_name"].as_str().unwrap())));
    if let Some(cc) = r["winner_credit_code"].as_str() {
        assert!(text.contains(cc));
    }
    assert!(text.contains(&yuan(fen(&r["price_fen"]))));
    assert!(text.contains("个工作日"));
    for s in r["scores"].as_array().unwrap() {
        assert!(text.contains(&format!(
            "{}{}{}",
            s["rank"],
            squash(s["organisation_name"].as_str().unwrap()),
            s["total"].as_str().unwrap()
        )));
    }
    assert!(text.contains("区民政局"));
    // Anyone signed in reads it too.
    assert_eq!(d.get(&path, Some(&d.finance)).await.status(), 200);

    // Before the result is published: 409; a draft: 404, as the tender itself.
    for state in ["award_proposed", "evaluated"] {
        let early = first_tender(d, state).await;
        problem(
            d.get(&format!("/api/v1/tenders/{early}/award-notice/pdf"), None)
                .await,
            409,
            "result_not_published",
        )
        .await;
    }
    let draft = first_tender(d, "draft").await;
    problem(
        d.get(&format!("/api/v1/tenders/{draft}/award-notice/pdf"), None)
            .await,
        404,
        "not_found",
    )
    .await;
    id
}

/// The award letter goes to the winner with its amount and the duty to sign within 30 days (政府采购法
/// Art 46); the bureau reads it; no other organisation does.
async fn award_letter_binds_the_winner_to_sign_within_30_days_procurement_law_art46(
    d: &Demo,
    id: i64,
) {
    let t = json_of(&d.app, &format!("/api/v1/tenders/{id}"), &d.bureau).await;
    let r = &t["result"];
    let l = &r["letter"];
    let path = format!("/api/v1/tenders/{id}/award-letter/pdf");
    let winner = d.app.token(&org_user(&r["winner_id"])).await;
    let text = d
        .pdf(
            &path,
            Some(&winner),
            "award-letter",
            l["title_zh"].as_str().unwrap(),
        )
        .await;
    assert!(text.contains(&format!("{}：", squash(r["winner_name"].as_str().unwrap()))));
    assert!(text.contains(&yuan(fen(&r["price_fen"]))));
    assert!(text.contains("三十日内"));
    assert!(text.contains("第四十六条"));
    assert!(text.contains(l["no"].as_str().unwrap()));
    let sign_by =
        chrono::NaiveDate::parse_from_str(l["sign_by"].as_str().unwrap(), "%Y-%m-%d").unwrap();
    assert!(text.contains(&sign_by.format("%Y年%-m月%-d日").to_string()));
    assert!(text.contains("（盖章）"));
    assert_eq!(d.get(&path, Some(&d.bureau)).await.status(), 200);
    // Another organisation does not get the winner's letter, nor a bidder that lost.
    let other = other_org(d, id).await;
    problem(d.get(&path, Some(&other)).await, 404, "not_found").await;
    let bids = json_of(&d.app, &format!("/api/v1/tenders/{id}/bids"), &d.bureau).await;
    if let Some(loser) = bids
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["organisation_id"] != r["winner_id"])
    {
        let loser = d.app.token(&org_user(&loser["organisation_id"])).await;
        problem(d.get(&path, Some(&loser)).await, 404, "not_found").await;
    }
    d.refusals(&path, &["finance", "admin", "evaluator1"]).await;
    let early = first_tender(d, "award_proposed").await;
    problem(
        d.get(
            &format!("/api/v1/tenders/{early}/award-letter/pdf"),
            Some(&d.bureau),
        )
        .await,
        409,
        "result_not_published",
    )
    .await;
}

/// The evaluation report holds what 87号令 Art 44 lists: the panel and their declarations, every
/// evaluator's points per criterion, the price scores, the ranking, the bidders and the result, with a
/// signature line for every member; the readers of the report API, and 409 before the report is locked.
async fn evaluation_report_holds_what_order_87_art44_lists(d: &Demo, id: i64) {
    let r = json_of(&d.app, &format!("/api/v1/tenders/{id}/report"), &d.bureau).await;
    assert_eq!(r["locked"], true);
    let t = json_of(&d.app, &format!("/api/v1/tenders/{id}"), &d.bureau).await;
    let path = format!("/api/v1/tenders/{id}/evaluation-report/pdf");
    let text = d
        .pdf(
            &path,
            Some(&d.bureau),
            "evaluation-report",
            &format!("{}评审报告", t["title"].as_str().unwrap()),
        )
        .await;
    for h in [
        "第四十四条",
        "一、项目概况",
        "二、评审委员会成员及回避声明",
        "三、投标人名单与开标记录",
        "四、评审方法和标准",
        "五、评审专家评分",
        "六、价格分与排序",
        "七、评审结果",
        "评审委员会成员签字",
    ] {
        assert!(text.contains(h), "{h} missing");
    }
    let panel = r["panel"].as_array().unwrap();
    for m in panel {
        let name = squash(m["name"].as_str().unwrap());
        assert!(text.contains(&name), "member {name}");
        // A signature line for every member: 评审专家（签字）：name.
        assert!(
            text.contains(&format!("（签字）：{name}")),
            "signature of {name}"
        );
    }
    assert!(text.contains("声明与投标人无利害关系"));
    for k in r["criteria"]["items"].as_array().unwrap() {
        assert!(
            text.contains(&squash(k["name"].as_str().unwrap())),
            "criterion {k}"
        );
    }
    for b in r["bids"].as_array().unwrap() {
        assert!(text.contains(&squash(b["organisation_name"].as_str().unwrap())));
        for e in b["by_evaluator"].as_array().unwrap() {
            let points: Vec<&str> = e["points"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p.as_str().unwrap())
                .collect();
            // The evaluator's row: name, each criterion's points, the sum.
            assert!(
                text.contains(&format!(
                    "{}{}{}",
                    squash(e["evaluator"].as_str().unwrap()),
                    points.concat(),
                    e["sum"].as_str().unwrap()
                )),
                "points of {} for #{}",
                e["evaluator"],
                b["seq"]
            );
        }
        if let (Some(rank), Some(total)) = (b["rank"].as_u64(), b["total"].as_str()) {
            assert!(text.contains(&format!(
                "{rank}{}",
                squash(b["organisation_name"].as_str().unwrap())
            )));
            assert!(text.contains(total));
            if let Some(ps) = b["price_score"].as_str() {
                assert!(text.contains(ps));
            }
        }
    }
    // The panel's evaluators read it (theirs only); the bureau and administrators any.
    assert_eq!(d.get(&path, Some(&d.admin)).await.status(), 200);
    let seated: Vec<i64> = panel
        .iter()
        .map(|m| m["user_id"].as_i64().unwrap())
        .collect();
    let (mut on, mut off) = (0, 0);
    for n in 1..=5 {
        let tok = d.app.token(&format!("evaluator{n}")).await;
        let me = json_of(&d.app, "/api/v1/me", &tok).await;
        let s = d.get(&path, Some(&tok)).await.status();
        let api = d
            .get(&format!("/api/v1/tenders/{id}/report"), Some(&tok))
            .await
            .status();
        assert_eq!(s, api, "the same rule as the report API");
        if seated.contains(&me["id"].as_i64().unwrap()) {
            assert_eq!(s, 200);
            on += 1;
        } else {
            assert_eq!(s, 404);
            off += 1;
        }
    }
    assert!(on > 0, "{on} on the panel, {off} off");
    // Finance audits the award: the locked report, as JSON, PDF and page (issue 14).
    assert_eq!(d.get(&path, Some(&d.finance)).await.status(), 200);
    let api = json_of(&d.app, &format!("/api/v1/tenders/{id}/report"), &d.finance).await;
    assert_eq!(api, r, "finance reads the bureau's report");
    let finance = sign_in(&d.app, "finance").await;
    let (status, html) = page_as(&d.app, &finance, &format!("/tenders/{id}/report")).await;
    assert_eq!(status, 200);
    assert!(html.contains("id=\"evaluation-report-pdf\""));
    assert!(
        !html.contains("<form method=\"post\" action=\"/tenders"),
        "read-only"
    );
    d.refusals(&path, &[&org_user(&t["result"]["winner_id"])])
        .await;
    // Before the report is locked: 409 for every reader.
    let open = first_tender(d, "evaluating").await;
    problem(
        d.get(
            &format!("/api/v1/tenders/{open}/evaluation-report/pdf"),
            Some(&d.bureau),
        )
        .await,
        409,
        "report_not_locked",
    )
    .await;
    // Finance waits for the lock too; its page says so instead of showing the scores.
    problem(
        d.get(&format!("/api/v1/tenders/{open}/report"), Some(&d.finance))
            .await,
        409,
        "report_not_locked",
    )
    .await;
    let (status, html) = page_as(&d.app, &finance, &format!("/tenders/{open}/report")).await;
    assert_eq!(status, 200);
    assert!(
        html.contains("id=\"report-unlocked\"") && !html.contains("id=\"evaluation-report-pdf\"")
    );
}

/// The bid receipt: its number, the time received in Beijing, the commitment and how to check it, never
/// the sealed price; the organisation's own only.
async fn bid_receipt_shows_the_commitment_not_the_price(d: &Demo, id: i64) {
    let t = json_of(&d.app, &format!("/api/v1/tenders/{id}"), &d.bureau).await;
    let winner = d.app.token(&org_user(&t["result"]["winner_id"])).await;
    let own = json_of(&d.app, &format!("/api/v1/tenders/{id}/bids/mine"), &winner).await;
    let rc = &own["receipt"];
    let path = format!("/api/v1/tenders/{id}/bids/mine/receipt/pdf");
    let text = d
        .pdf(
            &path,
            Some(&winner),
            "receipt",
            &format!("投标回执 #{}", rc["seq"]),
        )
        .await;
    assert!(text.contains(&format!("回执编号#{}", rc["seq"])));
    assert!(text.contains(&format!(
        "接收时间{}（北京时间）",
        squash(&beijing(&rc["submitted_at"]))
    )));
    assert!(
        text.contains(rc["commitment"].as_str().unwrap()),
        "the commitment"
    );
    assert!(text.contains(&format!("/api/v1/tenders/{id}/commitments")));
    let price = fen(&own["content"]["price_fen"]);
    let plain = format!("{}.{:02}", price / 100, price % 100);
    for p in [yuan(price), sanshe::money::yuan_grouped(price), plain] {
        assert!(!text.contains(&p), "the receipt shows the price {p}");
    }
    // An organisation without a bid on this tender: 404.
    let other = other_org(d, id).await;
    problem(d.get(&path, Some(&other)).await, 404, "not_found").await;
    d.refusals(&path, &["bureau", "finance", "admin", "evaluator1"])
        .await;
}

/// The audit report: every flag of the period, grouped by contract, its totals equal to the flags API for
/// the same months; a bad period is a 422 naming the field.
async fn audit_report_equals_the_flags_api(d: &Demo) {
    let year = sanshe::clock::beijing_date(chrono::Utc::now()).year() - 1;
    let q = format!("from={year}-01&to={year}-12");
    let path = format!("/api/v1/reports/audit/pdf?{q}");
    let text = d
        .pdf(
            &path,
            Some(&d.finance),
            "audit",
            &format!("{year}年1月至{year}年12月审计报告"),
        )
        .await;
    let mut flags: Vec<Value> = Vec::new();
    for page in 1.. {
        let l = json_of(
            &d.app,
            &format!("/api/v1/flags?{q}&per_page=200&page={page}"),
            &d.finance,
        )
        .await;
        let items = l["items"].as_array().unwrap().clone();
        let n = items.len();
        flags.extend(items);
        if n < 200 {
            assert_eq!(flags.len() as i64, fen(&l["total"]));
            break;
        }
    }
    assert!(!flags.is_empty(), "the demo has audit flags in {year}");
    // The same months as a year: the same flags.
    let by_year = json_of(
        &d.app,
        &format!("/api/v1/flags?year={year}&per_page=1"),
        &d.finance,
    )
    .await;
    assert_eq!(fen(&by_year["total"]), flags.len() as i64);
    let mut contracts = std::collections::BTreeSet::new();
    let mut per_rule: std::collections::BTreeMap<String, (String, String, usize)> =
        Default::default();
    for f in &flags {
        contracts.insert(f["contract_no"].as_str().unwrap().to_string());
        let e = per_rule
            .entry(f["rule"].as_str().unwrap().to_string())
            .or_insert((
                f["rule_label"].as_str().unwrap().to_string(),
                f["severity"].as_str().unwrap().to_string(),
                0,
            ));
        e.2 += 1;
    }
    assert!(text.contains(&format!(
        "报告期内共有{}个合同存在审计提示，合计{}条",
        contracts.len(),
        flags.len()
    )));
    for (label, severity, n) in per_rule.values() {
        let sev = match severity.as_str() {
            "high" => "高",
            "medium" => "中",
            _ => "低",
        };
        assert!(
            text.contains(&format!("{}{sev}{n}", squash(label))),
            "{label}: {n}"
        );
    }
    assert!(text.contains(&format!("合计{}", flags.len())));
    for no in &contracts {
        let n = flags
            .iter()
            .filter(|f| f["contract_no"] == no.as_str())
            .count();
        assert!(text.contains(&format!("{no}的审计提示（{n}条）")), "{no}");
    }
    for f in flags.iter().filter(|f| f["item_id"].is_i64()).take(5) {
        assert!(
            text.contains(&format!("支出#{}", f["item_id"])),
            "item {}",
            f["item_id"]
        );
    }
    assert_eq!(d.get(&path, Some(&d.bureau)).await.status(), 200);
    assert_eq!(d.get(&path, Some(&d.admin)).await.status(), 200);
    problem(
        d.get(&path, Some(&other_org(d, 2).await)).await,
        403,
        "forbidden",
    )
    .await;
    d.refusals(&path, &["evaluator1"]).await;
    // A bad period: 422 naming the field and the rule.
    for (query, field, rule) in [
        ("", "from", "required"),
        ("from=2025-03", "to", "required"),
        ("from=2025-13&to=2025-14", "from", "month"),
        ("from=2025-07&to=2025-03", "to", "after_from"),
        ("from=march&to=2025-03", "from", "month"),
    ] {
        let p = problem(
            d.get(
                &format!("/api/v1/reports/audit/pdf?{query}"),
                Some(&d.finance),
            )
            .await,
            422,
            "validation_failed",
        )
        .await;
        assert!(
            rules_of(&p).contains(&(field.into(), rule.into())),
            "{query}: {p}"
        );
        // The flags API refuses the same months the same way.
        if !query.is_empty() {
            let p = problem(
                d.get(&format!("/api/v1/flags?{query}"), Some(&d.finance))
                    .await,
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
}

/// The pages link the documents, and a link works with the page's session cookie alone.
async fn pages_link_the_documents(d: &Demo, tender: i64) {
    let finance = sign_in(&d.app, "finance").await;
    let list = json_of(&d.app, "/api/v1/contracts?per_page=1", &d.finance).await;
    let id = list["items"][0]["id"].as_i64().unwrap();
    let html = finance
        .get(d.app.url(&format!("/contracts/{id}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let link = format!("/api/v1/contracts/{id}/statement/pdf");
    assert!(
        html.contains(&link),
        "the contract page links its statement"
    );
    let r = finance.get(d.app.url(&link)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/pdf");
    let html = finance
        .get(d.app.url("/flags"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("action=\"/api/v1/reports/audit/pdf\""),
        "the flags page"
    );
    let bureau = sign_in(&d.app, "bureau").await;
    let html = bureau
        .get(d.app.url(&format!("/tenders/{tender}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains(&format!("/api/v1/tenders/{tender}/award-notice/pdf")));
    assert!(html.contains(&format!("/api/v1/tenders/{tender}/award-letter/pdf")));
    let html = bureau
        .get(d.app.url(&format!("/tenders/{tender}/report")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains(&format!("/api/v1/tenders/{tender}/evaluation-report/pdf")));
}

async fn issue13_documents_on_the_demo(b: Backend) {
    let d = demo(&b).await;
    contract_statement_equals_the_contract_api(&d).await;
    let tender = award_notice_names_evaluators_implementing_regulations_art43(&d).await;
    award_letter_binds_the_winner_to_sign_within_30_days_procurement_law_art46(&d, tender).await;
    evaluation_report_holds_what_order_87_art44_lists(&d, tender).await;
    bid_receipt_shows_the_commitment_not_the_price(&d, tender).await;
    audit_report_equals_the_flags_api(&d).await;
    pages_link_the_documents(&d, tender).await;
    d.app.stop().await;
}

both_backends!(issue13_documents_on_the_demo);

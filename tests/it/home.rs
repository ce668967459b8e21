//! Issue 14, what a visitor meets first: the public home page (the district's figures, open tenders by
//! deadline, the latest notices and results), the site footer with the sponsor and its filings, and error
//! pages that keep the signed-in header.

use diesel::prelude::*;
use sanshe::db::DbConn;

use crate::both_backends;
use crate::helpers::*;

/// The text between an element's opening tag with this id and the next `</`.
fn text_of<'a>(html: &'a str, id: &str) -> &'a str {
    let start = html
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no #{id}"));
    let rest = &html[start..];
    let rest = &rest[rest.find('>').unwrap() + 1..];
    &rest[..rest.find("</").unwrap()]
}

/// The tender ids of the rows of a section, in order.
fn tender_rows(section: &str) -> Vec<i64> {
    section
        .split("data-tender=\"")
        .skip(1)
        .map(|s| s[..s.find('"').unwrap()].parse().unwrap())
        .collect()
}

fn section<'a>(html: &'a str, id: &str) -> &'a str {
    let start = html
        .find(&format!("<section id=\"{id}\""))
        .or_else(|| html.find(&format!("id=\"{id}\"")))
        .unwrap_or_else(|| panic!("no section #{id}"));
    let rest = &html[start..];
    &rest[..rest.find("</section>").unwrap()]
}

fn money(fen: i64) -> String {
    sanshe::money::yuan_grouped(fen)
}

/// The public home page on the demo: every figure equals the database's count, the open tenders come
/// nearest deadline first and are the ones still taking bids, the latest results are the newest result
/// notices; the footer names the sponsor, its address and contact, and says the filings are not yet made;
/// the API documentation is linked from the footer, not the navigation.
async fn issue14_home_page_shows_the_district(b: Backend) {
    use sanshe::db::schema::{bases, contracts, organisations, payments, tenders};
    let app = TestApp::demo(&b).await;
    let anon = client();
    let (status, html) = page_as(&app, &anon, "/").await;
    assert_eq!(status, 200);

    let mut c = app.conn();
    let orgs: i64 = organisations::table
        .filter(organisations::registration.eq("registered"))
        .count()
        .get_result(&mut c)
        .unwrap();
    let n_bases: i64 = bases::table.count().get_result(&mut c).unwrap();
    let amounts: Vec<i64> = contracts::table
        .select(contracts::amount_fen)
        .load(&mut c)
        .unwrap();
    let paid: Vec<i64> = payments::table
        .select(payments::amount_fen)
        .load(&mut c)
        .unwrap();
    assert!(orgs > 10 && n_bases > 5 && amounts.len() > 50 && !paid.is_empty());
    assert_eq!(text_of(&html, "fig-orgs"), orgs.to_string());
    assert_eq!(text_of(&html, "fig-bases"), n_bases.to_string());
    assert_eq!(text_of(&html, "fig-projects"), amounts.len().to_string());
    assert_eq!(text_of(&html, "fig-funds"), money(amounts.iter().sum()));
    assert_eq!(text_of(&html, "fig-paid"), money(paid.iter().sum()));

    // Open tenders: what the public list calls open, nearest deadline first.
    let open: serde_json::Value = app
        .get("/api/v1/tenders?state=open&per_page=100", None)
        .await
        .json()
        .await
        .unwrap();
    let mut want: Vec<(String, i64)> = open["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["bid_deadline"].as_str().unwrap().to_string(),
                t["id"].as_i64().unwrap(),
            )
        })
        .collect();
    assert!(!want.is_empty(), "the demo has open tenders");
    want.sort();
    let want: Vec<i64> = want.into_iter().take(6).map(|(_, id)| id).collect();
    assert_eq!(tender_rows(section(&html, "open-tenders")), want);

    // The latest result notices, newest first.
    let results: Vec<(i64, String)> = tenders::table
        .filter(tenders::result_published_at.is_not_null())
        .order((tenders::result_published_at.desc(), tenders::id.desc()))
        .limit(6)
        .select((tenders::id, tenders::title))
        .load(&mut c)
        .unwrap();
    assert_eq!(results.len(), 6);
    let latest = section(&html, "latest-results");
    let mut at = 0;
    for (id, title) in &results {
        let i = latest[at..]
            .find(&format!("href=\"/tenders/{id}\""))
            .unwrap_or_else(|| panic!("result of tender {id} missing or out of order"));
        at += i + 1;
        assert!(latest.contains(&html_escape(title)), "{title}");
    }

    // The footer: the sponsor, address, contact; filings not yet made; the API documentation there only.
    let footer = &html[html.find("<footer").unwrap()..];
    for s in [
        "主办单位：区民政局",
        "地址：幸福路 1 号",
        "联系方式：0871-12345678",
        "ICP备案号：尚未备案",
        "公安备案号：尚未备案",
        "href=\"/api/docs/\"",
    ] {
        assert!(footer.contains(s), "{s} missing from the footer");
    }
    let nav = &html[html.find("<nav").unwrap()..html.find("</nav>").unwrap()];
    assert!(
        !nav.contains("/api/docs/"),
        "the API documentation left the navigation"
    );

    // In English: English labels, no full-width punctuation in the footer's own words.
    let en = client();
    en.get(app.url("/lang/en?next=/")).send().await.unwrap();
    let (_, html) = page_as(&app, &en, "/").await;
    let footer = &html[html.find("<footer").unwrap()..];
    assert!(footer.contains("Run by: 区民政局") && footer.contains("ICP filing: not yet filed"));
    assert!(!footer.contains('：'), "{footer}");
    assert!(html.contains("Open for bids") && html.contains("Registered organisations"));
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&#34;")
        .replace('\'', "&#39;")
}

/// An error page keeps the reader's signed-in header (name, role, sign-out) and the footer: a page that
/// does not exist, a record that does not exist, a page the role may not open. Signed out, it offers the
/// sign-in link instead.
async fn issue14_error_pages_keep_the_signed_in_header(b: Backend) {
    let app = TestApp::registry_demo(&b).await;
    let bureau = sign_in(&app, "bureau").await;
    let org = sign_in(&app, "org001").await;
    for (who, c, path, status) in [
        ("bureau", &bureau, "/no-such-page", 404),
        ("bureau", &bureau, "/tenders/999999", 404),
        ("org001", &org, "/registry/orgs", 403),
        ("org001", &org, "/tenders/new", 403),
    ] {
        let (got, html) = page_as(&app, c, path).await;
        assert_eq!(got, status, "{who} {path}");
        assert!(html.contains("id=\"error-message\""), "{path}: {html}");
        assert!(
            html.contains("id=\"who\"") && html.contains("id=\"logout\""),
            "{who} {path}: the error page lost the signed-in header"
        );
        assert!(
            html.contains("name=\"csrf\" value=\"") && !html.contains("name=\"csrf\" value=\"\""),
            "{path}: sign-out needs the CSRF token"
        );
        assert!(html.contains("主办单位：区民政局"), "{path}: the footer");
        assert!(
            html.contains(&format!("next={path}\""))
                || html.contains(&format!("next={}\"", path.replace('/', "%2F"))),
            "{path}: the language switch returns to the same page"
        );
    }
    // Signed out: the sign-in link, no name.
    let (got, html) = page_as(&app, &client(), "/no-such-page").await;
    assert_eq!(got, 404);
    assert!(html.contains("id=\"login-link\"") && !html.contains("id=\"who\""));
}

/// Finance audits: it reads the organisation registry (list, record, export) on the pages and the API,
/// read-only: no form on its pages, and a change it sends is refused with the database unchanged.
async fn issue14_finance_reads_the_registry_read_only(b: Backend) {
    let app = TestApp::registry_demo(&b).await;
    let finance = sign_in(&app, "finance").await;
    let (status, html) = page_as(&app, &finance, "/dashboard").await;
    assert_eq!(status, 200);
    assert!(
        html.contains("href=\"/registry/orgs\""),
        "finance has the registry in its menu"
    );
    let (status, html) = page_as(&app, &finance, "/registry/orgs").await;
    assert_eq!(status, 200);
    assert!(html.contains("官渡区夕阳红养老服务中心") && html.contains("id=\"export-orgs\""));
    assert!(!html.contains("id=\"new-org\"") && !html.contains("/registry/import"));
    let (status, html) = page_as(&app, &finance, "/registry/orgs/1").await;
    assert_eq!(status, 200);
    assert!(html.contains("id=\"read-only\"") && html.contains("id=\"ratings\""));
    assert!(
        !html.contains("<form method=\"post\" action=\"/registry"),
        "no form for finance"
    );
    assert!(!html.contains("/registry/orgs/1/edit"));
    for path in [
        "/registry/orgs/1/edit",
        "/registry/orgs/new",
        "/registry/changes",
    ] {
        let (status, _) = page_as(&app, &finance, path).await;
        assert_eq!(status, 403, "{path}");
    }

    let token = app.token("finance").await;
    for path in [
        "/api/v1/organisations",
        "/api/v1/organisations/1",
        "/api/v1/organisations/export",
    ] {
        assert_eq!(app.get(path, Some(&token)).await.status(), 200, "{path}");
    }
    let before = app.snapshot();
    let r = app
        .send_json(
            "PATCH",
            "/api/v1/organisations/1",
            Some(&token),
            &serde_json::json!({"staff_count": 99}),
        )
        .await;
    problem(r, 403, "forbidden").await;
    let r = app
        .send_json(
            "POST",
            "/api/v1/organisation-ratings",
            Some(&token),
            &serde_json::json!({"organisation_id": 1, "grade": 5, "awarded_on": "2026-01-01"}),
        )
        .await;
    problem(r, 403, "forbidden").await;
    assert_eq!(app.snapshot(), before);
}

/// A tender's public timeline names roles, never login names: the bureau as the sponsor (区民政局), the
/// panel, the system; a challenge's filer only as "a supplier". The same in the API's timeline.
async fn issue14_public_timelines_keep_login_names_private(b: Backend) {
    use sanshe::db::schema::{tender_events as e, users as u};
    let app = TestApp::demo(&b).await;
    let mut c = app.conn();
    // A tender where a supplier acted (filed a challenge), and every login name that ever acted.
    let by_org: i64 = e::table
        .inner_join(u::table.on(u::username.eq(e::actor_name)))
        .filter(u::role.eq("org"))
        .select(e::tender_id)
        .first(&mut c)
        .unwrap();
    let names: Vec<String> = e::table
        .select(e::actor_name)
        .distinct()
        .load(&mut c)
        .unwrap();
    assert!(
        names.iter().any(|n| n == "bureau") && names.len() > 3,
        "{names:?}"
    );
    let (status, html) = page_as(&app, &client(), &format!("/tenders/{by_org}")).await;
    assert_eq!(status, 200);
    let start = html.find("id=\"tender-timeline\"").unwrap();
    let timeline = &html[start..start + html[start..].find("</ol>").unwrap()];
    for n in &names {
        assert!(
            !timeline.contains(&format!("· {n}<")),
            "login name {n} on the public timeline"
        );
    }
    assert!(
        timeline.contains("· 区民政局<") && timeline.contains("· 供应商<"),
        "{timeline}"
    );
    let t: serde_json::Value = app
        .get(&format!("/api/v1/tenders/{by_org}"), None)
        .await
        .json()
        .await
        .unwrap();
    let actors: Vec<&str> = t["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["actor"].as_str().unwrap())
        .collect();
    assert!(
        actors.contains(&"supplier") && actors.contains(&"bureau"),
        "{actors:?}"
    );
    assert!(
        actors
            .iter()
            .all(|a| ["bureau", "panel", "supplier", "system"].contains(a))
    );
    assert!(
        !t["timeline"].to_string().contains("org0"),
        "no login name in the API's timeline"
    );
}

/// `/my/bids` shows each organisation its own outcome once a result is out: the winner "本组织中标", a
/// bidder that lost "未中标" (the tender's own state no longer reads "已中标" to everyone).
async fn issue14_my_bids_show_the_organisations_own_outcome(b: Backend) {
    use sanshe::db::schema::{bids, tenders as t};
    let app = TestApp::demo(&b).await;
    let mut c = app.conn();
    let (tender, award): (i64, i64) = t::table
        .filter(t::state.eq("contracted"))
        .filter(t::award_bid_id.is_not_null())
        .order(t::id.desc())
        .select((t::id, t::award_bid_id.assume_not_null()))
        .first(&mut c)
        .unwrap();
    // Each bidding organisation by the account that submitted its bid.
    let bidders: Vec<(i64, i64, String)> = bids::table
        .inner_join(
            sanshe::db::schema::users::table
                .on(sanshe::db::schema::users::id.eq(bids::submitted_by)),
        )
        .filter(bids::tender_id.eq(tender))
        .select((
            bids::id,
            bids::organisation_id,
            sanshe::db::schema::users::username,
        ))
        .load(&mut c)
        .unwrap();
    let winner = bidders.iter().find(|b| b.0 == award).unwrap();
    let loser = bidders
        .iter()
        .find(|b| b.1 != winner.1)
        .expect("a bidder that lost");
    let row = |html: &str| -> String {
        let i = html
            .find(&format!("href=\"/tenders/{tender}\""))
            .expect("the tender in my bids");
        let row = &html[i..];
        row[..row.find("</tr>").unwrap()].to_string()
    };
    for (user, outcome, not) in [(&winner.2, "won", "lost"), (&loser.2, "lost", "won")] {
        let me = sign_in(&app, user).await;
        let (status, html) = page_as(&app, &me, "/my/bids").await;
        assert_eq!(status, 200);
        let r = row(&html);
        assert!(
            r.contains(&format!("data-outcome=\"{outcome}\"")),
            "{user}: {r}"
        );
        assert!(
            !r.contains(&format!("data-outcome=\"{not}\"")),
            "{user}: {r}"
        );
        assert!(!r.contains("已中标"), "{r}");
    }
}

/// The bases list in the order of the tree: city, district, streets, communities (alphabetical level keys
/// put communities before the district).
async fn issue14_bases_listed_in_tree_order(b: Backend) {
    let app = TestApp::registry_demo(&b).await;
    let r: serde_json::Value = app
        .get("/api/v1/bases?per_page=100", None)
        .await
        .json()
        .await
        .unwrap();
    let rank = |l: &str| {
        ["city", "district", "street", "community"]
            .iter()
            .position(|x| *x == l)
    };
    let ranks: Vec<usize> = r["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| rank(b["level"].as_str().unwrap()).unwrap())
        .collect();
    assert!(ranks.contains(&1) && ranks.contains(&3), "{ranks:?}");
    assert!(ranks.windows(2).all(|w| w[0] <= w[1]), "{ranks:?}");
}

/// The form of a page whose action is `action`: from its opening tag to its end.
fn form_of<'a>(html: &'a str, action: &str) -> &'a str {
    let start = html
        .find(&format!("action=\"{action}\""))
        .unwrap_or_else(|| panic!("no form posting to {action}"));
    let start = html[..start].rfind("<form").unwrap();
    &html[start..start + html[start..].find("</form>").unwrap()]
}

/// Irreversible steps ask first, naming what will happen: confirming a winner, publishing a result (with
/// the publicity period), answering a challenge (with no answer chosen for the clerk: sent without one it
/// is refused at the field and nothing changes), recording a contract, filing a challenge, an incubation
/// decision, approving or rejecting a change request.
async fn issue14_irreversible_forms_ask_first(b: Backend) {
    use sanshe::db::schema::{challenges as ch, incubations as inc, tenders as t, users as u};
    let app = TestApp::demo(&b).await;
    let mut c = app.conn();
    let in_state = |c: &mut DbConn, s: &str| -> i64 {
        t::table
            .filter(t::state.eq(s))
            .select(t::id)
            .first(c)
            .unwrap_or_else(|_| panic!("a tender in state {s}"))
    };
    let bureau = sign_in(&app, "bureau").await;
    let asks = |form: &str, words: &str| {
        let i = form
            .find("data-confirm=\"")
            .unwrap_or_else(|| panic!("no question: {form}"));
        let q = &form[i + 14..];
        let q = &q[..q.find('"').unwrap()];
        assert!(q.contains(words), "{q} should say {words}");
    };

    let id = in_state(&mut c, "evaluated");
    let (_, html) = page_as(&app, &bureau, &format!("/tenders/{id}")).await;
    asks(
        form_of(&html, &format!("/tenders/{id}/confirm")),
        "结果公告",
    );
    let id = in_state(&mut c, "award_proposed");
    let (_, html) = page_as(&app, &bureau, &format!("/tenders/{id}")).await;
    asks(
        form_of(&html, &format!("/tenders/{id}/publish-result")),
        "公示期 1 个工作日",
    );

    let (cid, tid): (i64, i64) = ch::table
        .filter(ch::status.eq("open"))
        .select((ch::id, ch::tender_id))
        .first(&mut c)
        .unwrap();
    let answer = format!("/tenders/{tid}/challenges/{cid}/answer");
    let (_, html) = page_as(&app, &bureau, &format!("/tenders/{tid}")).await;
    let form = form_of(&html, &answer);
    asks(form, "不能修改");
    assert!(
        form.contains("name=\"upheld\"") && !form.contains("checked"),
        "{form}"
    );
    let before = app.snapshot();
    let r = bureau
        .post(app.url(&answer))
        .form(&[
            ("csrf", csrf_of(&html).as_str()),
            ("answer", "经核查，质疑事项不成立。"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let html = r.text().await.unwrap();
    // The reason at the top of the page, not only at the form further down.
    let top = &html[html
        .find("id=\"action-errors\"")
        .expect("the reason at the top")..];
    assert!(top[..top.find("</div>").unwrap()].contains("请选择质疑成立或不成立。"));
    assert!(html.find("id=\"action-errors\"") < html.find("id=\"tender-timeline\""));
    assert_eq!(app.snapshot(), before, "nothing changed");
    // A refused record form lists every reason at its top too.
    let (_, page) = page_as(&app, &bureau, "/registry/orgs/1").await;
    let r = bureau
        .post(app.url("/registry/orgs/1/ratings"))
        .form(&[
            ("csrf", csrf_of(&page).as_str()),
            ("grade", "3"),
            ("awarded_on", "not-a-date"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let html = r.text().await.unwrap();
    let top = &html[html
        .find("id=\"form-errors\"")
        .expect("the summary at the top")..];
    let top = &top[..top.find("</div>").unwrap()];
    assert!(top.contains("<li>"), "{top}");
    assert_eq!(app.snapshot(), before, "nothing changed");

    // A bidder during the result's publicity: filing a challenge asks first.
    let id = in_state(&mut c, "publicity");
    let bidder: String = sanshe::db::schema::bids::table
        .inner_join(u::table.on(u::id.eq(sanshe::db::schema::bids::submitted_by)))
        .filter(sanshe::db::schema::bids::tender_id.eq(id))
        .select(u::username)
        .first(&mut c)
        .unwrap();
    let org = sign_in(&app, &bidder).await;
    let (_, html) = page_as(&app, &org, &format!("/tenders/{id}")).await;
    asks(
        form_of(&html, &format!("/tenders/{id}/challenges")),
        "不能撤回",
    );

    let applied: i64 = inc::table
        .filter(inc::state.eq("applied"))
        .select(inc::id)
        .first(&mut c)
        .unwrap();
    let (_, html) = page_as(&app, &bureau, &format!("/registry/incubations/{applied}")).await;
    asks(
        form_of(&html, &format!("/registry/incubations/{applied}")),
        "不能撤销",
    );

    // A change request from an organisation, then the bureau's list.
    let (user, org_id): (String, i64) = u::table
        .filter(u::role.eq("org"))
        .select((u::username, u::org_id.assume_not_null()))
        .first(&mut c)
        .unwrap();
    let token = app.token(&user).await;
    let r = app
        .send_json(
            "PATCH",
            &format!("/api/v1/organisations/{org_id}"),
            Some(&token),
            &serde_json::json!({"name": "官渡区更名测试社会工作服务中心"}),
        )
        .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let (_, html) = page_as(&app, &bureau, "/registry/changes").await;
    let approve = html.find("value=\"approve\"").expect("a pending request");
    asks(
        &html[html[..approve].rfind("<form").unwrap()..approve],
        "确定批准",
    );
    let reject = html.find("value=\"reject\"").unwrap();
    asks(
        &html[html[..reject].rfind("<form").unwrap()..reject],
        "确定驳回",
    );
    // An awarded tender without its contract yet: recording the contract asks, saying it cannot be undone.
    let (to_contract, _) = crate::contracts::awarded_tender(&app, "ASK-C-1", None);
    let (_, html) = page_as(&app, &bureau, &format!("/tenders/{to_contract}")).await;
    asks(
        form_of(&html, &format!("/tenders/{to_contract}/contract")),
        "登记后不能删除",
    );

    // In the browser: submitting each irreversible form, filled in as a clerk would, asks in the page's
    // words; answering no sends nothing.
    let confirm_tender = in_state(&mut c, "evaluated");
    let publish_tender = in_state(&mut c, "award_proposed");
    let challenged = format!("/tenders/{tid}");
    // (page, the form, what to fill in or click first, what the question says)
    let forms: [(String, String, Vec<(&str, &str)>, &str); 8] = [
        (
            format!("/tenders/{confirm_tender}"),
            "#confirm-form".into(),
            vec![],
            "结果公告",
        ),
        (
            format!("/tenders/{publish_tender}"),
            "#publish-result-form".into(),
            vec![],
            "公示期 1 个工作日",
        ),
        (
            challenged.clone(),
            format!("form[action='{answer}']"),
            vec![
                ("input[name=upheld][value=\"0\"]", ""),
                ("textarea[name=answer]", "经核查，质疑事项不成立。"),
            ],
            "不能修改",
        ),
        (
            format!("/registry/incubations/{applied}"),
            format!("form[data-confirm][action='/registry/incubations/{applied}']"),
            vec![],
            "不能撤销",
        ),
        (
            "/registry/changes".to_string(),
            "form[data-confirm][action^='/registry/changes/']:has(input[value=approve])".into(),
            vec![],
            "确定批准",
        ),
        (
            "/registry/changes".to_string(),
            "form[data-confirm][action^='/registry/changes/']:has(input[value=reject])".into(),
            vec![],
            "确定驳回",
        ),
        (
            format!("/tenders/{to_contract}"),
            "#contract-form".into(),
            vec![("#contract_no", "HT-ASK-1"), ("#term_start", "2027-01-04")],
            "登记后不能删除",
        ),
        (
            format!("/tenders/{id}"),
            "#challenge-form".into(),
            vec![("#grounds", "评分依据不足，请求复核。")],
            "不能撤回",
        ),
    ];
    let mut driver = crate::browser::Driver::start();
    let browser = driver.connect().await;
    let before = app.snapshot();
    for (i, (page, form, fill, words)) in forms.iter().enumerate() {
        // The bureau's forms, then the bidder's challenge.
        match i {
            0 => browser.sign_in(&app, "bureau", page).await,
            7 => browser.sign_in(&app, &bidder, page).await,
            _ => browser.goto(&app.url(page)).await,
        }
        for (field, text) in fill {
            if text.is_empty() {
                browser.click(&format!("{form} {field}")).await;
            } else {
                // Set as a picker would (a date field takes no typed ISO date in every locale).
                browser
                    .script(&format!(
                        "document.querySelector({:?}).value = {text:?};",
                        format!("{form} {field}")
                    ))
                    .await;
            }
        }
        browser.click(&format!("{form} button[type=submit]")).await;
        let text = browser
            .cmd(reqwest::Method::GET, "/alert/text", None)
            .await
            .unwrap_or_else(|e| panic!("{page}: no question asked: {e}"));
        assert!(text.as_str().unwrap().contains(words), "{page}: {text}");
        browser
            .cmd(
                reqwest::Method::POST,
                "/alert/dismiss",
                Some(serde_json::json!({})),
            )
            .await
            .unwrap();
    }
    browser.close().await;
    assert_eq!(app.snapshot(), before, "answering no sent nothing");
}

/// The administrator picks an organisation account's organisation by name, not by a numeric id.
async fn issue14_admin_picks_the_organisation_by_name(b: Backend) {
    let app = TestApp::registry_demo(&b).await;
    let admin = sign_in(&app, "admin").await;
    let (status, html) = page_as(&app, &admin, "/admin/users/new").await;
    assert_eq!(status, 200);
    let picker = &html[html.find("<select id=\"org_id\"").expect("a pick list")..];
    let picker = &picker[..picker.find("</select>").unwrap()];
    assert!(
        picker.contains("<option value=\"1\">官渡区夕阳红养老服务中心</option>"),
        "{picker}"
    );
    assert!(!html.contains("inputmode=\"numeric\" name=\"org_id\""));
    let r = admin
        .post(app.url("/admin/users/new"))
        .form(&[
            ("csrf", csrf_of(&html).as_str()),
            ("username", "xiyanghong2"),
            ("display_name", "夕阳红 第二账户"),
            ("email", ""),
            ("role", "org"),
            ("org_id", "1"),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
    let u = sanshe::users::find_by_username(&mut app.conn(), "xiyanghong2")
        .unwrap()
        .unwrap();
    assert_eq!(u.org_id, Some(1));
    // The edit form shows it chosen.
    let (_, html) = page_as(&app, &admin, &format!("/admin/users/{}", u.id)).await;
    assert!(html.contains("<option value=\"1\" selected>官渡区夕阳红养老服务中心</option>"));
}

/// `/evaluations` pages an evaluator's panels 20 at a time, those still waiting for its scores first.
async fn issue14_evaluations_paged_pending_first(b: Backend) {
    use sanshe::db::schema::{panel_members as pm, users as u};
    let app = TestApp::demo(&b).await;
    let mut c = app.conn();
    // An evaluator with a panel still waiting for its scores, and how many panels it sits on.
    let (user, uid): (String, i64) = pm::table
        .inner_join(u::table.on(u::id.eq(pm::user_id)))
        .filter(pm::submitted_at.is_null())
        .select((u::username, u::id))
        .first(&mut c)
        .unwrap();
    let panels: i64 = pm::table
        .filter(pm::user_id.eq(uid))
        .count()
        .get_result(&mut c)
        .unwrap();
    assert!(panels > 20, "{user} sits on {panels} panels");
    let me = sign_in(&app, &user).await;
    let (status, html) = page_as(&app, &me, "/evaluations").await;
    assert_eq!(status, 200);
    let body = &html[html.find("<tbody>").unwrap()..html.find("</tbody>").unwrap()];
    let rows: Vec<&str> = body.split("<tr>").skip(1).collect();
    assert_eq!(rows.len(), 20, "one page of 20");
    assert!(
        rows[0].contains("未提交"),
        "a pending panel first: {}",
        rows[0]
    );
    let pending = rows.iter().take_while(|r| r.contains("未提交")).count();
    assert!(
        rows[pending..].iter().all(|r| !r.contains("未提交")),
        "pending ones together, first"
    );
    let pages = (panels + 19) / 20;
    assert!(html.contains(&format!("1 / {pages}")), "the pager");
    let (status, html) = page_as(&app, &me, &format!("/evaluations?page={pages}")).await;
    assert_eq!(status, 200);
    let body = &html[html.find("<tbody>").unwrap()..html.find("</tbody>").unwrap()];
    assert_eq!(
        body.split("<tr>").skip(1).count() as i64,
        panels - 20 * (pages - 1),
        "the last page holds the rest"
    );
}

/// The incubation list's CSV export honours the list's active filters: the link carries them, and the
/// file holds exactly the rows the filtered list counts.
async fn issue14_incubation_export_honours_the_filters(b: Backend) {
    let app = TestApp::registry_demo(&b).await;
    let bureau = sign_in(&app, "bureau").await;
    let (status, html) = page_as(&app, &bureau, "/registry/incubations?state=incubating").await;
    assert_eq!(status, 200);
    let total: usize = {
        let i = html.find("共 ").unwrap() + "共 ".len();
        html[i..]
            .split_whitespace()
            .next()
            .unwrap()
            .parse()
            .unwrap()
    };
    let i = html.find("id=\"export-incubations\"").unwrap();
    let href = &html[html[..i].rfind("href=\"").unwrap() + 6..];
    let href = href[..href.find('"').unwrap()].replace("&amp;", "&");
    assert!(
        total > 0 && href.contains("state=incubating"),
        "{total} {href}"
    );
    let csv = bureau
        .get(app.url(&href))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let rows = csv.lines().skip(1).filter(|l| !l.trim().is_empty()).count();
    assert_eq!(rows, total, "{csv}");
    assert!(
        csv.lines()
            .skip(1)
            .all(|l| l.is_empty() || l.contains("在孵")),
        "{csv}"
    );
}

/// Say no before the work: an organisation that may not bid sees every reason on the bid page instead of
/// a form that fails on submit; "only tenders we can bid on" lists exactly the open tenders whose page
/// shows it no reason against bidding.
async fn issue14_say_no_before_the_work(b: Backend) {
    use sanshe::db::schema::users as u;
    let app = TestApp::demo(&b).await;
    let bureau = app.token("bureau").await;
    let open: serde_json::Value = app
        .get("/api/v1/tenders?state=open&per_page=100", None)
        .await
        .json()
        .await
        .unwrap();
    let open: Vec<i64> = open["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_i64().unwrap())
        .collect();
    assert!(!open.is_empty());

    // A barred organisation, given an account.
    let barred: serde_json::Value = app
        .get(
            "/api/v1/organisations?status=barred&per_page=1",
            Some(&bureau),
        )
        .await
        .json()
        .await
        .unwrap();
    let barred = barred["items"][0]["id"]
        .as_i64()
        .expect("a barred organisation");
    app.create_user("barred-org", "org", Some(barred), None)
        .await;
    let web = sign_in(&app, "barred-org").await;
    let (status, html) = page_as(&app, &web, &format!("/tenders/{}/bid", open[0])).await;
    assert_eq!(status, 200);
    assert!(html.contains("id=\"refusals\""), "the reasons");
    assert!(
        !html.contains("id=\"bid-form\""),
        "no form that would fail on submit"
    );
    let (_, html) = page_as(&app, &web, "/tenders?state=open&can_bid=1").await;
    assert!(!html.contains("data-tender=\""), "nothing it can bid on");
    assert!(
        html.contains("id=\"can-bid\" checked"),
        "the filter stays on"
    );

    // An organisation in good standing: the filter agrees with each tender's own page.
    let user: String = u::table
        .filter(u::role.eq("org"))
        .filter(u::org_id.ne(barred))
        .select(u::username)
        .order(u::id)
        .first(&mut app.conn())
        .unwrap();
    let web = sign_in(&app, &user).await;
    let (_, html) = page_as(&app, &web, "/tenders?state=open&can_bid=1").await;
    let listed = tender_rows(&html);
    let mut may = Vec::new();
    for id in &open {
        let (_, page) = page_as(&app, &web, &format!("/tenders/{id}")).await;
        if !page.contains("id=\"refusals\"") {
            may.push(*id);
        }
    }
    let mut listed_sorted = listed.clone();
    listed_sorted.sort();
    may.sort();
    assert_eq!(listed_sorted, may, "{user}");
    assert!(!may.is_empty(), "{user} may bid on something");
}

/// English pages use English punctuation: no full-width colon or bracket in a page's own words (these
/// pages carry no Chinese prose as data).
async fn issue14_english_pages_use_english_punctuation(b: Backend) {
    let app = TestApp::demo(&b).await;
    for (user, paths) in [
        (
            "bureau",
            &["/dashboard", "/registry/orgs/1", "/contracts/1"][..],
        ),
        ("finance", &["/finance/execution", "/dashboard"][..]),
    ] {
        let c = sign_in(&app, user).await;
        c.get(app.url("/lang/en?next=/")).send().await.unwrap();
        for path in paths {
            let (status, html) = page_as(&app, &c, path).await;
            assert_eq!(status, 200, "{path}");
            assert!(
                html.starts_with("<!doctype html>\n<html lang=\"en\""),
                "{path} in English"
            );
            // The text between tags.
            let text: Vec<&str> = html
                .split('>')
                .filter_map(|s| s.split('<').next())
                .filter(|t| t.contains(['：', '（', '）']))
                .collect();
            assert!(text.is_empty(), "{user} {path}: {text:?}");
        }
    }
}

both_backends!(
    issue14_english_pages_use_english_punctuation,
    issue14_say_no_before_the_work,
    issue14_incubation_export_honours_the_filters,
    issue14_evaluations_paged_pending_first,
    issue14_admin_picks_the_organisation_by_name,
    issue14_irreversible_forms_ask_first,
    issue14_bases_listed_in_tree_order,
    issue14_my_bids_show_the_organisations_own_outcome,
    issue14_public_timelines_keep_login_names_private,
    issue14_home_page_shows_the_district,
    issue14_error_pages_keep_the_signed_in_header,
    issue14_finance_reads_the_registry_read_only
);

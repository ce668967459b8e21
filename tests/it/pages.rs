//! The web UI over plain HTTP: sign-in form with CSRF, dashboards, language, forms with inline errors.

use crate::both_backends;
use crate::helpers::*;

async fn sign_in_dashboard_language_sign_out(b: Backend) {
    let app = TestApp::spawn(&b).await;
    for (user, role) in [
        ("admin", "admin"),
        ("bureau", "bureau"),
        ("finance", "finance"),
        ("evaluator2", "evaluator"),
    ] {
        let c = sign_in(&app, user).await;
        let html = c
            .get(app.url("/dashboard"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(html.contains(&format!("data-role=\"{role}\"")), "{user}");
        assert!(html.contains("工作台") && html.contains("<html lang=\"zh-CN\">"));
        let nav_users = html.contains("href=\"/admin/users\"");
        assert_eq!(nav_users, role == "admin", "user admin link only for admin");
        assert_eq!(
            html.contains("href=\"/audit\""),
            role == "admin" || role == "finance"
        );
    }
    let c = sign_in(&app, "admin").await;
    let html = c
        .get(app.url("/dashboard"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("id=\"card-chain\"")
            && html.contains("id=\"card-mail\"")
            && html.contains("id=\"card-users\"")
    );

    let r = c
        .get(app.url("/lang/en?next=/dashboard"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/dashboard");
    let html = c
        .get(app.url("/dashboard"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("<html lang=\"en\">")
            && html.contains("Dashboard")
            && !html.contains("工作台")
    );
    // An outside `next` is not followed.
    let r = c
        .get(app.url("/lang/zh-CN?next=//evil.example/"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["location"], "/dashboard");

    // Sign-out needs the form's CSRF token.
    let r = c
        .post(app.url("/logout"))
        .form(&[("csrf", "forged")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(
        c.get(app.url("/dashboard")).send().await.unwrap().status(),
        200,
        "still signed in"
    );
    let csrf = csrf_of(&html);
    let r = c
        .post(app.url("/logout"))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let r = c.get(app.url("/dashboard")).send().await.unwrap();
    assert_eq!(r.status(), 303);
    assert!(
        r.headers()["location"]
            .to_str()
            .unwrap()
            .starts_with("/login?next=")
    );
    app.stop().await;
}

async fn login_form_errors_and_csrf(b: Backend) {
    let app = TestApp::spawn(&b).await;
    let c = client();
    let html = c
        .get(app.url("/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = csrf_of(&html);
    let r = c
        .post(app.url("/login"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("username", "bureau"),
            ("password", "nope-nope-nope"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let body = r.text().await.unwrap();
    assert!(
        body.contains("id=\"login-error\"") && body.contains("用户名或密码不正确"),
        "{body}"
    );
    assert!(body.contains("value=\"bureau\""), "the username is kept");
    // Without the CSRF cookie's token the form is refused, whatever the password.
    let r = client()
        .post(app.url("/login"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("username", "bureau"),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    app.stop().await;
}

async fn user_form_inline_errors_then_create(b: Backend) {
    let app = TestApp::spawn(&b).await;
    let c = sign_in(&app, "admin").await;
    let html = c
        .get(app.url("/admin/users/new"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = csrf_of(&html);
    let snap = app.snapshot();
    let r = c
        .post(app.url("/admin/users/new"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("username", "x y"),
            ("display_name", ""),
            ("email", "bad"),
            ("role", "org"),
            ("org_id", ""),
            ("password", "short"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let body = r.text().await.unwrap();
    assert_eq!(body.matches("class=\"field-error\"").count(), 5, "{body}");
    assert!(body.contains("组织用户须绑定一个组织"));
    assert!(body.contains("value=\"x y\""), "entered values are kept");
    assert_eq!(app.snapshot(), snap);
    let r = c
        .post(app.url("/admin/users/new"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("username", "liu"),
            ("display_name", "刘洋"),
            ("email", ""),
            ("role", "bureau"),
            ("org_id", ""),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let loc = r.headers()["location"].to_str().unwrap().to_string();
    let html = c
        .get(app.url(&loc))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("用户已创建") && html.contains("刘洋"));
    let list = c
        .get(app.url("/admin/users?q=%E5%88%98"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(list.contains("liu") && !list.contains(">evaluator1<"));
    // Deactivate from the page.
    let r = c
        .post(app.url(&loc))
        .form(&[("csrf", csrf.as_str()), ("status", "deactivate")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let html = c
        .get(app.url(&loc))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("id=\"activate\""));
    // The audit page shows both changes and the chain as intact.
    let audit = c
        .get(app.url("/audit?actor=admin"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        audit.contains("user.create")
            && audit.contains("user.deactivate")
            && audit.contains("id=\"chain-status\"")
    );
    let bad = c
        .get(app.url("/audit?from=yesterday"))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 422);
    assert!(bad.text().await.unwrap().contains("YYYY-MM-DD"));
    app.stop().await;
}

async fn account_password_change_form(b: Backend) {
    let app = TestApp::spawn(&b).await;
    let c = sign_in(&app, "finance").await;
    let html = c
        .get(app.url("/account"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = csrf_of(&html);
    let r = c
        .post(app.url("/account/password"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("current_password", PASSWORD),
            ("new_password", "finance-new-pw-1"),
            ("confirm_password", "finance-new-pw-2"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("id=\"confirm_password-error\"")
    );
    let r = c
        .post(app.url("/account/password"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("current_password", PASSWORD),
            ("new_password", "finance-new-pw-1"),
            ("confirm_password", "finance-new-pw-1"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    // The browser got a fresh session cookie and stays signed in.
    let html = c
        .get(app.url("/account"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("密码已修改"), "flash shown");
    app.token_with("finance", "finance-new-pw-1").await;
    app.stop().await;
}

#[tokio::test]
async fn templates_use_only_known_strings() {
    // Every ctx.t("…") key in the templates exists in the translation table.
    let mut missing = Vec::new();
    for dir in [
        "templates/layouts",
        "templates/pages",
        "templates/pages/registry",
        "templates/pages/tenders",
    ] {
        for e in std::fs::read_dir(dir).unwrap() {
            let path = e.unwrap().path();
            if !path.is_file() {
                continue;
            }
            let text = std::fs::read_to_string(path).unwrap();
            for part in text.split("ctx.t(\"").skip(1) {
                let key = &part[..part.find('"').unwrap()];
                if !sanshe::i18n::all_strings().any(|(k, _, _)| *k == key) {
                    missing.push(key.to_string());
                }
            }
        }
    }
    assert!(missing.is_empty(), "{missing:?}");
}

both_backends!(
    sign_in_dashboard_language_sign_out,
    login_form_errors_and_csrf,
    user_form_inline_errors_then_create,
    account_password_change_form
);

async fn bureau_dashboard_shows_the_registry(b: Backend) {
    let app = TestApp::spawn_with(
        &b,
        Options {
            registry_demo: true,
            ..Default::default()
        },
    )
    .await;
    let c = sign_in(&app, "bureau").await;
    let html = c
        .get(app.url("/dashboard"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for card in [
        "card-standing",
        "card-coverage",
        "card-funnel",
        "card-workers",
    ] {
        assert!(html.contains(&format!("id=\"{card}\"")), "{card} missing");
    }
    // The figures are the registry's own: the same as the API's.
    let token = app.token("bureau").await;
    let cov: serde_json::Value = app
        .get("/api/v1/base-coverage", Some(&token))
        .await
        .json()
        .await
        .unwrap();
    let streets = format!(
        "{}% ({}/{})",
        cov["street_pct"], cov["streets_covered"], cov["streets_total"]
    );
    let communities = format!(
        "{}% ({}/{})",
        cov["community_pct"], cov["communities_covered"], cov["communities_total"]
    );
    assert!(
        html.contains(&streets) && html.contains(&communities),
        "{streets} {communities}"
    );
    // An organisation's navigation leads to its own record and to its incubation applications, not to the
    // bureau's registry.
    let o = sign_in(&app, "org001").await;
    let html = o
        .get(app.url("/dashboard"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("href=\"/my/org\"") && html.contains("href=\"/registry/incubations\""));
    assert!(
        !html.contains("href=\"/registry/orgs\"") && !html.contains("href=\"/registry/workers\"")
    );
    // Finance sees no registry figures; the admin does.
    let f = sign_in(&app, "finance").await;
    assert!(
        !f.get(app.url("/dashboard"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
            .contains("card-funnel")
    );
    app.stop().await;
}

both_backends!(bureau_dashboard_shows_the_registry);

/// A write from a page wakes the mail worker like one from the API: with the worker's idle poll at ten
/// minutes, the welcome mail of a user created on the admin page is still sent within seconds.
async fn a_page_write_wakes_the_mail_worker(b: Backend) {
    let app = TestApp::spawn_with(
        &b,
        Options {
            mail_poll: std::time::Duration::from_secs(600),
            ..Default::default()
        },
    )
    .await;
    // Let the worker's first pass (at start) go by, so only a wake can send what comes next.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let c = sign_in(&app, "admin").await;
    let html = c
        .get(app.url("/admin/users/new"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let r = c
        .post(app.url("/admin/users/new"))
        .form(&[
            ("csrf", csrf_of(&html).as_str()),
            ("username", "wake"),
            ("display_name", "唤醒"),
            ("email", "wake@example.test"),
            ("role", "bureau"),
            ("org_id", ""),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let status = || -> Option<String> {
        use diesel::prelude::*;
        use sanshe::db::schema::outbox as o;
        o::table
            .filter(o::to_addr.eq("wake@example.test"))
            .select(o::status)
            .first(&mut app.conn())
            .ok()
    };
    assert!(status().is_some(), "the welcome mail is queued");
    wait_for(
        10,
        "the welcome mail sent without waiting for the poll",
        || status().as_deref() == Some("sent"),
    )
    .await;
    app.stop().await;
}

both_backends!(a_page_write_wakes_the_mail_worker);

/// `next` stays on this site whatever a link smuggles into it (a tab or newline browsers drop, a
/// backslash they read as a slash), on the language switch and the sign-in form alike, and never breaks
/// the response.
async fn next_stays_on_this_site(b: Backend) {
    let app = TestApp::spawn(&b).await;
    for q in [
        "/%09/evil.example",
        "/%0a/x",
        "/%0d%0aSet-Cookie:%20x=1",
        "/%5Cevil.example",
        "//evil.example",
        "https://evil.example/",
    ] {
        for path in [format!("/lang/en?next={q}"), format!("/login?next={q}")] {
            let r = client().get(app.url(&path)).send().await.unwrap();
            let status = r.status().as_u16();
            assert!(status < 500, "{path}: {status}");
            if let Some(loc) = r.headers().get("location") {
                let loc = loc.to_str().unwrap();
                assert!(
                    loc.starts_with('/') && !loc.starts_with("//") && !loc.contains("evil"),
                    "{path} redirects to {loc}"
                );
            }
            let html = r.text().await.unwrap();
            assert!(!html.contains("evil.example\""), "{path}: {html}");
        }
    }
    app.stop().await;
}

both_backends!(next_stays_on_this_site);

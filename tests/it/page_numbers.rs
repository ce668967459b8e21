//! A number field that is not a number is a field error on every page form: 422, the form again with the
//! message at the field and the text as typed, and nothing written (no -1 or 0 sent in its place).

use crate::both_backends;
use crate::helpers::*;

/// The `<div class="field…">` holding the input named `name`.
fn field_block<'a>(html: &'a str, name: &str) -> &'a str {
    let at = html
        .find(&format!("name=\"{name}\""))
        .unwrap_or_else(|| panic!("no field {name}"));
    let start = html[..at].rfind("<div class=\"field").expect("field div");
    let end = at + html[at..].find("</div>").expect("end of field div");
    &html[start..end]
}

/// Post `fields` to `path` from the form on `page`, and check the refusal of `field` typed as `typed`.
async fn refused(
    app: &TestApp,
    c: &reqwest::Client,
    page: &str,
    path: &str,
    fields: &[(&str, &str)],
    field: &str,
    typed: &str,
) {
    let html = c
        .get(app.url(page))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = csrf_of(&html);
    let mut form: Vec<(&str, &str)> = vec![("csrf", csrf.as_str()), (field, typed)];
    form.extend_from_slice(fields);
    let before = crate::page_posts::dump(app);
    let r = c.post(app.url(path)).form(&form).send().await.unwrap();
    assert_eq!(r.status(), 422, "{path}");
    let html = r.text().await.unwrap();
    let block = field_block(&html, field);
    assert!(block.contains("has-error"), "{path}: {block}");
    assert!(
        block.contains("须为整数。"),
        "{path}: no number message at {field}: {block}"
    );
    assert!(
        block.contains(&format!("value=\"{typed}\"")),
        "{path}: {typed} not shown again: {block}"
    );
    assert_eq!(crate::page_posts::dump(app), before, "{path} changed data");
}

async fn page_forms_refuse_text_for_numbers(b: Backend) {
    let app = TestApp::spawn_with(
        &b,
        Options {
            registry_demo: true,
            ..Default::default()
        },
    )
    .await;
    let org: i64 = {
        use diesel::prelude::*;
        use sanshe::db::schema::organisations as o;
        o::table
            .order(o::id)
            .select(o::id)
            .first(&mut app.conn())
            .unwrap()
    };
    let c = sign_in(&app, "bureau").await;
    // An organisation's inspection, on its detail page.
    refused(
        &app,
        &c,
        &format!("/registry/orgs/{org}"),
        &format!("/registry/orgs/{org}/inspections"),
        &[
            ("kind", "annual"),
            ("conclusion", "qualified"),
            ("decided_on", "2025-03-01"),
        ],
        "year",
        "二〇二四",
    )
    .await;
    // The tender form's term.
    refused(
        &app,
        &c,
        "/tenders/new",
        "/tenders/new",
        &[
            ("code", "NUM-2026-001"),
            ("title", "社区养老服务"),
            ("budget", "100000"),
            ("method", "open"),
            ("price_weight_pct", "30"),
        ],
        "term_months",
        "十二",
    )
    .await;
    // A base's seats.
    refused(
        &app,
        &c,
        "/registry/bases/new",
        "/registry/bases/new",
        &[("name", "数字基地"), ("level", "district")],
        "seats",
        "abc",
    )
    .await;
    // An organisation's staff count, on its edit form.
    refused(
        &app,
        &c,
        &format!("/registry/orgs/{org}/edit"),
        &format!("/registry/orgs/{org}/edit"),
        &[("name", "某社会组织"), ("kind", "social_group")],
        "staff_count",
        "many",
    )
    .await;
}

both_backends!(page_forms_refuse_text_for_numbers);

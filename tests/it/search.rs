//! Organisation search through the term index answers exactly what reading every name and code would: the
//! same organisations, the same count, for short, long, code and one-character queries; it follows a
//! rename at once; and a registry whose terms are missing (after the migration) is indexed by its first
//! search.

use diesel::prelude::*;
use sanshe::db::schema::{organisation_terms as ot, organisations as o};
use serde_json::{Value, json};

use crate::both_backends;
use crate::helpers::*;

/// Ids of the organisations whose name or credit code contains `q`, read row by row (case folded, a code
/// compared without spaces or hyphens, as people type codes).
fn by_reading_every_row(app: &TestApp, q: &str) -> Vec<i64> {
    let rows: Vec<(i64, String, Option<String>)> = o::table
        .select((o::id, o::name, o::credit_code))
        .load(&mut app.conn())
        .unwrap();
    let name_q = q.trim().to_lowercase();
    let code_q: String = q
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .collect::<String>()
        .to_lowercase();
    let mut ids: Vec<i64> = rows
        .into_iter()
        .filter(|(_, n, c)| {
            n.to_lowercase().contains(&name_q)
                || c.as_deref()
                    .is_some_and(|c| !code_q.is_empty() && c.to_lowercase().contains(&code_q))
        })
        .map(|(id, _, _)| id)
        .collect();
    ids.sort();
    ids
}

/// Ids and total the API gives for `q` (all pages).
async fn by_search(app: &TestApp, token: &str, q: &str) -> (Vec<i64>, i64) {
    let path = format!(
        "/api/v1/organisations?per_page=200&q={}",
        url::form_urlencoded::byte_serialize(q.as_bytes()).collect::<String>()
    );
    let r = app.get(&path, Some(token)).await;
    assert_eq!(r.status(), 200, "{path}");
    let v: Value = r.json().await.unwrap();
    let mut ids: Vec<i64> = v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["id"].as_i64().unwrap())
        .collect();
    ids.sort();
    (ids, v["total"].as_i64().unwrap())
}

async fn search_matches_reading_every_row(b: Backend) {
    let app = TestApp::spawn_with(
        &b,
        Options {
            registry_demo: true,
            ..Default::default()
        },
    )
    .await;
    let bureau = app.token("bureau").await;
    let code: String = o::table
        .filter(o::credit_code.is_not_null())
        .select(o::credit_code.assume_not_null())
        .first(&mut app.conn())
        .unwrap();
    let queries = [
        "社区".to_string(),
        "服务中心".into(),
        "养老".into(),
        "官渡区".into(),
        "中".into(),
        "不存在的名字".into(),
        code[2..8].to_string(),
        code[2..8].to_lowercase(),
        format!("{}-{}", &code[..4], &code[4..10]),
        code.clone(),
    ];
    let check = |label: &'static str| {
        let app = &app;
        let bureau = &bureau;
        let queries = &queries;
        async move {
            let mut some = 0;
            for q in queries {
                let want = by_reading_every_row(app, q);
                let (got, total) = by_search(app, bureau, q).await;
                assert_eq!(got, want, "{label}: q={q}");
                assert_eq!(total, want.len() as i64, "{label}: total for q={q}");
                some += usize::from(!want.is_empty());
            }
            assert!(some >= 6, "{label}: most queries find something ({some})");
        }
    };
    check("indexed at seeding").await;

    // A rename is found under the new name at once, and no longer under the old one.
    let id: i64 = o::table
        .order(o::id)
        .select(o::id)
        .first(&mut app.conn())
        .unwrap();
    let r = app
        .send_json(
            "PATCH",
            &format!("/api/v1/organisations/{id}"),
            Some(&bureau),
            &json!({"name": "官渡区晨曦互助社"}),
        )
        .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    assert_eq!(by_search(&app, &bureau, "晨曦").await, (vec![id], 1));
    check("after a rename").await;

    // No terms at all, as after the migration: the first search writes them, and answers the same.
    {
        let mut c = app.conn();
        diesel::delete(ot::table).execute(&mut c).unwrap();
        diesel::update(o::table)
            .set(o::search_version.eq(0))
            .execute(&mut c)
            .unwrap();
    }
    check("after losing every term").await;
    let stale: i64 = o::table
        .filter(o::search_version.ne(sanshe::domain::search::VERSION))
        .count()
        .get_result(&mut app.conn())
        .unwrap();
    assert_eq!(stale, 0);
    app.stop().await;
}

both_backends!(search_matches_reading_every_row);

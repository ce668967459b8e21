//! Related suppliers (政府采购法实施条例 Art 18): the bureau records links between organisations; of two
//! linked organisations the second to bid on a tender is refused, naming the first; a withdrawn bid no
//! longer bars; unlinked organisations bid freely. Refused link requests leave the database as it was.

use diesel::prelude::*;
use serde_json::{Value, json};

use crate::helpers::{Backend, problem};
use crate::tenders::{Fx, bid, bidders, create_tender, publish, setup, tender_body};
use crate::tenders_sealed::json_of;

async fn link(fx: &Fx, org: i64, body: &Value) -> reqwest::Response {
    fx.app
        .send_json(
            "POST",
            &format!("/api/v1/organisations/{org}/links"),
            Some(&fx.b().await),
            body,
        )
        .await
}

/// Rows of the links table and the audit trail's length: what a refused request must leave alone.
fn links_dump(fx: &Fx) -> String {
    use sanshe::db::schema::{audit_events as a, organisation_links as ol};
    let mut c = fx.app.conn();
    let links: Vec<(i64, i64, String, String)> = ol::table
        .order((ol::organisation_a, ol::organisation_b))
        .select((ol::organisation_a, ol::organisation_b, ol::kind, ol::note))
        .load(&mut c)
        .unwrap();
    let audit: i64 = a::table.count().get_result(&mut c).unwrap();
    format!("{links:?} {audit}")
}

fn name_of(fx: &Fx, org: i64) -> String {
    use sanshe::db::schema::organisations as o;
    o::table
        .find(org)
        .select(o::name)
        .first(&mut fx.app.conn())
        .unwrap()
}

/// 实施条例 Art 18: A and B under one responsible person; A bids, B is refused naming A (field
/// `organisation`, rule `related_bidder`) and nothing is stored; an unlinked C bids; once A withdraws, B
/// bids. The link reads the same from both ends; the bid page of B says why in advance.
async fn art18_second_related_bidder_is_refused_naming_the_first(backend: Backend) {
    let fx = setup(&backend).await;
    let bs = bidders(&fx.app, 3);
    let (a, b, c) = (&bs[0], &bs[1], &bs[2]);
    let v = json_of(
        link(
            &fx,
            b.org,
            &json!({"other_id": a.org, "kind": "same_responsible_person", "note": "两家单位法定代表人均为张某（登记证书）。"}),
        )
        .await,
        201,
    )
    .await;
    assert_eq!(v["other_id"], a.org);
    assert_eq!(v["kind"], "same_responsible_person");
    for (from, to) in [(a.org, b.org), (b.org, a.org)] {
        let l = json_of(
            fx.app
                .get(
                    &format!("/api/v1/organisations/{from}/links"),
                    Some(&fx.b().await),
                )
                .await,
            200,
        )
        .await;
        assert_eq!(l.as_array().unwrap().len(), 1, "{l}");
        assert_eq!(l[0]["other_id"], to);
    }

    let id = create_tender(&fx, &tender_body("REL-1")).await;
    publish(&fx, id).await;
    json_of(bid(&fx, a, id, "a1", 15_000_000).await, 201).await;
    let before = crate::page_posts::dump(&fx.app);
    let p = problem(
        bid(&fx, b, id, "b1", 16_000_000).await,
        422,
        "validation_failed",
    )
    .await;
    let e = &p["errors"][0];
    assert_eq!(
        (&e["field"], &e["rule"]),
        (&json!("organisation"), &json!("related_bidder")),
        "{p}"
    );
    let zh = e["message"]["zh-CN"].as_str().unwrap();
    assert!(
        zh.contains(&name_of(&fx, a.org))
            && zh.contains("单位负责人为同一人")
            && zh.contains("第十八条"),
        "{zh}"
    );
    assert_eq!(
        crate::page_posts::dump(&fx.app),
        before,
        "a refused bid changed the database"
    );

    // The bid page tells B before it fills the form.
    let cb = crate::helpers::sign_in(&fx.app, &b.user).await;
    let html = cb
        .get(fx.app.url(&format!("/tenders/{id}/bid")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("第十八条"), "the bid page does not say why");

    json_of(bid(&fx, c, id, "c1", 17_000_000).await, 201).await;
    let r = fx
        .app
        .send_json(
            "POST",
            &format!("/api/v1/tenders/{id}/bids/withdraw"),
            Some(&fx.app.token(&a.user).await),
            &json!({}),
        )
        .await;
    assert_eq!(r.status(), 204);
    json_of(bid(&fx, b, id, "b2", 16_000_000).await, 201).await;
    // Now A, related to the bidder B, is refused in turn, naming B.
    let p = problem(
        bid(&fx, a, id, "a2", 15_000_000).await,
        422,
        "validation_failed",
    )
    .await;
    assert!(
        p["errors"][0]["message"]["zh-CN"]
            .as_str()
            .unwrap()
            .contains(&name_of(&fx, b.org)),
        "{p}"
    );
    fx.app.stop().await;
}

/// Bad link requests: to itself, to an unknown organisation (id or credit code), without kind or
/// evidence: 422 naming each field, nothing changed; the same pair again (either order) is 409; ending it
/// is 204 and a second end 404.
async fn link_input_refusals_and_duplicates(backend: Backend) {
    let fx = setup(&backend).await;
    let bs = bidders(&fx.app, 2);
    let (a, b) = (bs[0].org, bs[1].org);
    let before = links_dump(&fx);
    for (body, field, rule) in [
        (
            json!({"other_id": a, "kind": "control", "note": "x"}),
            "other_id",
            "not_itself",
        ),
        (
            json!({"other_id": 999_999, "kind": "control", "note": "x"}),
            "other_id",
            "exists",
        ),
        (
            json!({"other_credit_code": "91350100M000100Y43", "kind": "control", "note": "x"}),
            "other_credit_code",
            "exists",
        ),
        (
            json!({"kind": "control", "note": "x"}),
            "other_id",
            "required",
        ),
        (
            json!({"other_id": b, "kind": "cousins", "note": "x"}),
            "kind",
            "one_of",
        ),
        (
            json!({"other_id": b, "kind": "control", "note": " "}),
            "note",
            "required",
        ),
    ] {
        let p = problem(link(&fx, a, &body).await, 422, "validation_failed").await;
        assert_eq!(
            (&p["errors"][0]["field"], &p["errors"][0]["rule"]),
            (&json!(field), &json!(rule)),
            "{body}: {p}"
        );
        assert_eq!(links_dump(&fx), before, "{body} changed the database");
    }
    let r = link(
        &fx,
        999_999,
        &json!({"other_id": a, "kind": "control", "note": "x"}),
    )
    .await;
    assert_eq!(r.status(), 404);
    json_of(
        link(
            &fx,
            a,
            &json!({"other_id": b, "kind": "control", "note": "甲出资设立乙。"}),
        )
        .await,
        201,
    )
    .await;
    let after = links_dump(&fx);
    problem(
        link(
            &fx,
            b,
            &json!({"other_id": a, "kind": "same_responsible_person", "note": "y"}),
        )
        .await,
        409,
        "link_exists",
    )
    .await;
    assert_eq!(links_dump(&fx), after);
    let del = |x: i64, y: i64| {
        let fx = &fx;
        async move {
            fx.app
                .send_json(
                    "DELETE",
                    &format!("/api/v1/organisations/{x}/links/{y}"),
                    Some(&fx.b().await),
                    &json!({}),
                )
                .await
                .status()
                .as_u16()
        }
    };
    assert_eq!(del(b, a).await, 204);
    assert_eq!(del(a, b).await, 404);
    assert_eq!(
        json_of(
            fx.app
                .get(
                    &format!("/api/v1/organisations/{a}/links"),
                    Some(&fx.b().await)
                )
                .await,
            200
        )
        .await,
        json!([])
    );
    fx.app.stop().await;
}

/// Who may: no token 401; an evaluator may not read links, an organisation may not record them (403);
/// an organisation reads its own links and not another's (404); finance reads.
async fn link_access(backend: Backend) {
    let fx = setup(&backend).await;
    let bs = bidders(&fx.app, 2);
    let (a, b) = (&bs[0], &bs[1]);
    let path = format!("/api/v1/organisations/{}/links", a.org);
    assert_eq!(fx.app.get(&path, None).await.status(), 401);
    assert_eq!(fx.app.get(&path, Some("not.a.token")).await.status(), 401);
    assert_eq!(
        fx.app
            .get(&path, Some(&fx.app.token("evaluator1").await))
            .await
            .status(),
        403
    );
    assert_eq!(
        fx.app
            .get(&path, Some(&fx.app.token("finance").await))
            .await
            .status(),
        200
    );
    assert_eq!(
        fx.app
            .get(&path, Some(&fx.app.token(&a.user).await))
            .await
            .status(),
        200
    );
    assert_eq!(
        fx.app
            .get(&path, Some(&fx.app.token(&b.user).await))
            .await
            .status(),
        404
    );
    let before = links_dump(&fx);
    let r = fx
        .app
        .send_json(
            "POST",
            &path,
            Some(&fx.app.token(&a.user).await),
            &json!({"other_id": b.org, "kind": "control", "note": "x"}),
        )
        .await;
    problem(r, 403, "forbidden").await;
    assert_eq!(links_dump(&fx), before);
    fx.app.stop().await;
}

crate::both_backends!(
    art18_second_related_bidder_is_refused_naming_the_first,
    link_input_refusals_and_duplicates,
    link_access,
);

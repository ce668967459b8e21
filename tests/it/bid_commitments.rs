//! Field-wise bid commitments after opening, on both backends: the public (and bidders, finance, evaluators
//! off the panel or not yet declared, or recused) reads bidder, price and the other fields' hashes only,
//! and recomputes the receipt's commitment from them with an implementation written here from the
//! documented algorithm; the bureau, administrators and declared panel members read every field. No social
//! worker's name and no plan text reaches a public answer or page (87号令 Art 41; 实施条例 Art 9).

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::helpers::{Backend, client, problem, sign_in};
use crate::tenders::{bid_body, bidders, create_tender, publish, setup, tender_body};

const FIELDS: [&str; 8] = [
    "tender_id",
    "organisation_id",
    "price_fen",
    "plan",
    "budget",
    "staff",
    "targets",
    "attachments",
];
const PUBLIC: [&str; 3] = ["tender_id", "organisation_id", "price_fen"];

/// The documented algorithm, independently: leaf = SHA-256("sanshe-bid-field/2" 0x00 name 0x00 value 0x00
/// salt); root = SHA-256("sanshe-bid/2" 0x00 leaves…). A disclosed field must hash to its stated leaf.
fn recompute(fields: &[Value]) -> String {
    let mut root = Sha256::new();
    root.update(b"sanshe-bid/2\0");
    for f in fields {
        let stated = hex::decode(f["hash"].as_str().unwrap()).unwrap();
        if let (Some(v), Some(s)) = (f["value"].as_str(), f["salt"].as_str()) {
            let mut h = Sha256::new();
            h.update(b"sanshe-bid-field/2\0");
            h.update(f["name"].as_str().unwrap().as_bytes());
            h.update(b"\0");
            h.update(v.as_bytes());
            h.update(b"\0");
            h.update(hex::decode(s).unwrap());
            assert_eq!(h.finalize().to_vec(), stated, "the leaf of {f}");
        }
        root.update(&stated);
    }
    hex::encode(root.finalize())
}

fn names(c: &Value) -> Vec<String> {
    c["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap().to_string())
        .collect()
}

/// What a reader gets: `true` when every field, the canonical bytes and the nonce are disclosed, `false`
/// when only the public fields are; anything in between fails.
fn whole(v: &Value, receipts: &[(i64, String)]) -> bool {
    let cs = v.as_array().unwrap();
    assert_eq!(cs.len(), receipts.len(), "{v}");
    let mut kinds = Vec::new();
    for c in cs {
        let seq = c["seq"].as_i64().unwrap();
        let (_, committed) = receipts.iter().find(|(s, _)| *s == seq).unwrap();
        assert_eq!(c["commitment"].as_str().unwrap(), committed);
        assert_eq!(c["scheme"], 2);
        assert_eq!(c["ok"], true);
        assert_eq!(names(c), FIELDS);
        assert_eq!(&recompute(c["fields"].as_array().unwrap()), committed);
        let disclosed: Vec<&str> = c["fields"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["value"].is_string())
            .map(|f| f["name"].as_str().unwrap())
            .collect();
        let full = c["canonical"].is_string();
        assert_eq!(c["nonce"].is_string(), full, "{c}");
        if full {
            assert_eq!(disclosed, FIELDS, "{c}");
        } else {
            assert_eq!(disclosed, PUBLIC, "{c}");
        }
        kinds.push(full);
    }
    assert!(kinds.iter().all(|k| *k == kinds[0]));
    kinds[0]
}

async fn commitments_disclose_by_reader(backend: Backend) {
    let fx = setup(&backend).await;
    let app = &fx.app;
    let id = create_tender(&fx, &tender_body("FW-2026-001")).await;
    publish(&fx, id).await;
    let b = bidders(app, 3);
    let prices = [10_100_000i64, 12_300_000, 14_500_000];
    let mut receipts = Vec::new();
    let mut secret = Vec::new();
    for (i, p) in prices.iter().enumerate() {
        let t = app.token(&b[i].user).await;
        let body = bid_body(&format!("fw{i}"), *p, b[i].worker);
        let r = app
            .send_json(
                "POST",
                &format!("/api/v1/tenders/{id}/bids"),
                Some(&t),
                &body,
            )
            .await;
        assert_eq!(r.status(), 201);
        let v: Value = r.json().await.unwrap();
        receipts.push((
            v["seq"].as_i64().unwrap(),
            v["commitment"].as_str().unwrap().to_string(),
        ));
        secret.push(body["plan"].as_str().unwrap().to_string());
        let name: String = {
            use diesel::prelude::*;
            use sanshe::db::schema::social_workers as w;
            w::table
                .find(b[i].worker)
                .select(w::name)
                .first(&mut app.conn())
                .unwrap()
        };
        secret.push(name);
    }
    let path = format!("/api/v1/tenders/{id}/commitments");
    problem(app.get(&path, None).await, 409, "sealed").await;

    fx.clock
        .set(crate::tenders::t0() + chrono::Duration::days(21) + chrono::Duration::hours(1));
    let get = |tok: Option<String>| {
        let path = path.clone();
        async move {
            let r = app.get(&path, tok.as_deref()).await;
            assert_eq!(r.status(), 200);
            let text = r.text().await.unwrap();
            (serde_json::from_str::<Value>(&text).unwrap(), text)
        }
    };
    let leaks = |text: &str| -> Vec<String> {
        secret
            .iter()
            .filter(|s| text.contains(s.as_str()))
            .cloned()
            .collect()
    };

    // The public: bidder and price, hashes of the rest; the root recomputes to each receipt.
    let (v, text) = get(None).await;
    assert!(!whole(&v, &receipts));
    assert_eq!(leaks(&text), Vec::<String>::new(), "public answer: {text}");
    for c in v.as_array().unwrap() {
        let price = c["fields"][2]["value"]
            .as_str()
            .unwrap()
            .parse::<i64>()
            .unwrap();
        assert!(prices.contains(&price));
        let org = c["fields"][1]["value"]
            .as_str()
            .unwrap()
            .parse::<i64>()
            .unwrap();
        assert!(b.iter().any(|x| x.org == org));
    }
    // The same for a bidder, finance and an evaluator who is not on the panel.
    let outsider = app.create_user("ev_outside", "evaluator", None, None).await;
    assert!(outsider > 0);
    for who in [b[0].user.as_str(), "finance", "ev_outside"] {
        let (v, text) = get(Some(app.token(who).await)).await;
        assert!(!whole(&v, &receipts), "{who}");
        assert_eq!(leaks(&text), Vec::<String>::new(), "{who}: {text}");
    }
    // The bureau and administrators read every field.
    for who in ["bureau", "admin"] {
        let (v, text) = get(Some(app.token(who).await)).await;
        assert!(whole(&v, &receipts), "{who}");
        assert_eq!(
            leaks(&text).len(),
            secret.len(),
            "{who} reads every plan and name"
        );
    }

    // The panel: undeclared and recused members read what the public reads; a member who declared no
    // conflict reads every field.
    let bureau = app.token("bureau").await;
    let evs: Vec<i64> = {
        use diesel::prelude::*;
        use sanshe::db::schema::users as u;
        u::table
            .filter(u::username.like("evaluator%"))
            .order(u::username)
            .select(u::id)
            .load(&mut app.conn())
            .unwrap()
    };
    // The outsider leaves the pool, so the draw seats exactly the five of the demo.
    {
        use diesel::prelude::*;
        use sanshe::db::schema::users as u;
        diesel::update(u::table.find(outsider))
            .set(u::active.eq(false))
            .execute(&mut app.conn())
            .unwrap();
    }
    let r = app
        .send_json(
            "POST",
            &format!("/api/v1/tenders/{id}/panel"),
            Some(&bureau),
            &json!({"draw_experts": evs.len()}),
        )
        .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let declare = |who: &'static str, body: Value| async move {
        let t = app.token(who).await;
        let r = app
            .send_json(
                "POST",
                &format!("/api/v1/tenders/{id}/declaration"),
                Some(&t),
                &body,
            )
            .await;
        assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    };
    let (v, text) = get(Some(app.token("evaluator1").await)).await;
    assert!(!whole(&v, &receipts), "undeclared");
    assert_eq!(leaks(&text), Vec::<String>::new());
    declare("evaluator1", json!({"conflict": false})).await;
    let (v, _) = get(Some(app.token("evaluator1").await)).await;
    assert!(whole(&v, &receipts), "declared no conflict");
    declare(
        "evaluator2",
        json!({"conflict": true, "note": "曾在投标人处任职"}),
    )
    .await;
    let (v, text) = get(Some(app.token("evaluator2").await)).await;
    assert!(!whole(&v, &receipts), "recused");
    assert_eq!(leaks(&text), Vec::<String>::new());

    // The page says the same: anonymous readers see commitments and prices, no plan and no name.
    let page = client()
        .get(app.url(&format!("/tenders/{id}/commitments")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for (_, c) in &receipts {
        assert!(page.contains(c.as_str()), "the public page shows {c}");
    }
    assert!(
        page.contains("101,000.00"),
        "the public page shows the prices"
    );
    assert_eq!(leaks(&page), Vec::<String>::new(), "public page");
    let bureau_page = sign_in(app, "bureau")
        .await
        .get(app.url(&format!("/tenders/{id}/commitments")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(leaks(&bureau_page).len(), secret.len(), "the bureau's page");

    // A bid sealed before field-wise commitments (scheme 1: SHA-256(canonical ‖ nonce)) still checks, and
    // its content stays with the whole-bid readers.
    let (seq, _) = receipts[0].clone();
    {
        use diesel::prelude::*;
        use sanshe::db::schema::bids;
        let (canonical, nonce): (Option<String>, Option<String>) = bids::table
            .find(seq)
            .select((bids::opened_json, bids::commit_nonce))
            .first(&mut app.conn())
            .unwrap();
        let mut h = Sha256::new();
        h.update(canonical.unwrap().as_bytes());
        h.update(hex::decode(nonce.unwrap()).unwrap());
        diesel::update(bids::table.find(seq))
            .set((
                bids::commit_scheme.eq(1),
                bids::commitment.eq(hex::encode(h.finalize())),
            ))
            .execute(&mut app.conn())
            .unwrap();
    }
    let of = |v: &Value| {
        v.as_array()
            .unwrap()
            .iter()
            .find(|c| c["seq"] == seq)
            .unwrap()
            .clone()
    };
    let (v, text) = get(None).await;
    let c = of(&v);
    assert_eq!(
        (c["scheme"].clone(), c["ok"].clone()),
        (json!(1), json!(true)),
        "{c}"
    );
    assert_eq!(c["fields"], json!([]));
    assert!(c["canonical"].is_null() && c["nonce"].is_null());
    assert_eq!(leaks(&text), Vec::<String>::new());
    let (v, _) = get(Some(app.token("bureau").await)).await;
    assert!(of(&v)["canonical"].is_string());
    fx.app.stop().await;
}

crate::both_backends!(commitments_disclose_by_reader);

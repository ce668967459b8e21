//! The shared types under the services, against a real database: the audit trail recorded and verified
//! through `chain` (the ledger's future chain), bid submission through `idempotency` with typed ids, bid
//! statuses stored as the same text the column's CHECK allows, and `Fen` at the money edge.

use chrono::{Duration, Utc};
use diesel::prelude::*;
use sanshe::audit::{Actor, AuditEvent};
use sanshe::chain::{self, Break};
use sanshe::clock::Clock;
use sanshe::db::schema::{audit_events as a, bids, users as u};
use sanshe::domain::bid::BidStatus;
use sanshe::domain::ids::{OrgId, TenderId, UserId};
use sanshe::domain::money::Fen;
use sanshe::error::AppError;

use crate::both_backends;
use crate::helpers::*;
use crate::tenders::{bid_body, bidders, tender_body_at};

fn events(c: &mut sanshe::db::DbConn) -> Vec<AuditEvent> {
    a::table
        .order(a::seq)
        .select(AuditEvent::as_select())
        .load(c)
        .unwrap()
}

async fn audit_trail_is_a_chain(b: Backend) {
    let db = TestDb::new(&b);
    let mut c = db.conn();
    sanshe::db::migrate(&mut c).unwrap();
    let actor = Actor::system("types-test");
    let now = Utc::now();
    for i in 0..3 {
        sanshe::db::write_tx(&mut c, |c| {
            sanshe::audit::record(
                c,
                &actor,
                now,
                "test.event",
                "thing",
                Some(i.to_string()),
                None,
                Some(serde_json::json!({ "i": i, "text": "ab\",\"c" })),
            )
        })
        .unwrap();
    }
    let all = events(&mut c);
    assert!(all.len() >= 3);
    assert_eq!(all[0].prev_hash, chain::GENESIS);
    // The generic verifier and the audit report agree on the stored rows.
    let v = chain::verify(all.clone());
    assert_eq!(v.broken, None);
    let report = sanshe::audit::verify(&mut c).unwrap();
    assert!(report.ok, "{report:?}");
    assert_eq!(
        (report.events, report.head_seq, report.head_hash.as_str()),
        (v.count, v.head_seq, v.head_hash.as_str())
    );
    // Each stored hash is the chain's hash of the event linked to its predecessor.
    for e in &all {
        assert_eq!(e.hash, sanshe::audit::compute_hash(e));
    }
    // An edit of the second event (in memory: the table refuses UPDATE) is reported at its seq.
    let mut edited = all.clone();
    edited[1].actor_name.push('!');
    assert_eq!(
        chain::verify(edited).broken,
        Some(Break::Altered { seq: all[1].seq })
    );
    // Reordered rows are caught too.
    let mut reordered = all.clone();
    reordered.swap(1, 2);
    assert_eq!(
        chain::verify(reordered).broken.map(|x| x.seq()),
        Some(all[1].seq)
    );
}

async fn keyed_bids_with_typed_ids(b: Backend) {
    let app = TestApp::spawn_with(
        &b,
        Options {
            registry_demo: true,
            ..Default::default()
        },
    )
    .await;
    let cfg = config(&app.db, &Options::default());
    let ctx = sanshe::tenders::Ctx::from_config(&cfg);
    let mut c = app.conn();
    let actor = Actor::system("types-test");
    let start = Utc::now() - Duration::days(2);
    let uid = |c: &mut sanshe::db::DbConn, name: &str| -> UserId {
        u::table
            .filter(u::username.eq(name))
            .select(u::id)
            .first::<i64>(c)
            .unwrap()
            .into()
    };
    let bureau = uid(&mut c, "bureau");
    let input = serde_json::from_value(tender_body_at("TY-1", start)).unwrap();
    let v = sanshe::tenders::create(&mut c, &ctx, &actor, bureau.get(), start, &input).unwrap();
    let tender = TenderId::from(v.id);
    sanshe::tenders::publish(&mut c, &ctx, &actor, start, tender.get()).unwrap();
    let clock = sanshe::clock::ManualClock::new(start + Duration::days(1));
    let bidder = &bidders(&app, 1)[0];
    let (org, user) = (OrgId::from(bidder.org), uid(&mut c, &bidder.user));
    let submit = |c: &mut sanshe::db::DbConn, key: &str, price: i64| {
        let input = serde_json::from_value(bid_body(key, price, bidder.worker)).unwrap();
        sanshe::tenders::bids::submit(c, &ctx, &actor, user, org, &clock, tender, &input)
    };

    // A new key: a new active bid. The same key and content: the first receipt again, no new row.
    let first = submit(&mut c, "ty-1", 12_345_600).unwrap();
    assert_eq!(first.bid_status(), Some(BidStatus::Active));
    let again = submit(&mut c, "ty-1", 12_345_600).unwrap();
    assert_eq!(
        (again.seq, &again.commitment),
        (first.seq, &first.commitment)
    );
    let count = |c: &mut sanshe::db::DbConn| -> i64 {
        bids::table
            .filter(bids::tender_id.eq(tender.get()))
            .count()
            .get_result(c)
            .unwrap()
    };
    assert_eq!(count(&mut c), 1);
    // The same key with other content: 409, nothing stored.
    match submit(&mut c, "ty-1", 12_000_000) {
        Err(AppError::Conflict { code, .. }) => assert_eq!(code, "idempotency_key_reused"),
        other => panic!("{other:?}"),
    }
    // A bad key is a field error before anything is read.
    match submit(&mut c, "   ", 12_000_000) {
        Err(AppError::Validation(v)) => assert_eq!(v[0].field, "idempotency_key"),
        other => panic!("{other:?}"),
    }
    assert_eq!(count(&mut c), 1);

    // A new key replaces the bid; the statuses are stored as the same text as always.
    let second = submit(&mut c, "ty-2", 12_000_000).unwrap();
    assert_eq!(second.replaced, Some(first.seq));
    let old = sanshe::tenders::bids::find_bid(&mut c, first.seq).unwrap();
    assert_eq!(old.bid_status(), Some(BidStatus::Replaced));
    assert_eq!(old.status, "replaced");
    assert_eq!(
        sanshe::tenders::bids::active_bidders(&mut c, tender).unwrap(),
        vec![org.get()]
    );
    let own = sanshe::tenders::bids::own_bid(&mut c, &ctx, org, tender)
        .unwrap()
        .unwrap();
    assert_eq!(own.receipt.seq, second.seq);
    let content = own.content.unwrap();
    assert_eq!(content.price_amount(), Fen::new(12_000_000));
    assert_eq!(content.price(), "120,000.00");
    assert_eq!(content.price_amount().to_string(), "¥120,000.00");
    assert_eq!(
        Fen::sum(content.budget.iter().map(|l| l.amount())),
        Ok(content.price_amount()),
        "the budget lines sum to the price in fen"
    );

    sanshe::tenders::bids::withdraw(&mut c, &ctx, &actor, org, clock.now(), tender, None).unwrap();
    let row = sanshe::tenders::bids::find_bid(&mut c, second.seq).unwrap();
    assert_eq!(row.bid_status(), Some(BidStatus::Withdrawn));
    assert!(sanshe::audit::verify(&mut c).unwrap().ok);
    app.stop().await;
}

both_backends!(audit_trail_is_a_chain, keyed_bids_with_typed_ids);

/// The four statuses are exactly the ones the `bids.status` CHECK allows, on both backends: no migration.
#[test]
fn bid_statuses_match_the_stored_text() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
    for backend in ["sqlite", "postgres"] {
        let sql =
            std::fs::read_to_string(root.join(backend).join("2026-11-26-000003_tenders/up.sql"))
                .unwrap();
        let list = BidStatus::ALL
            .iter()
            .map(|s| format!("'{}'", s.as_str()))
            .collect::<Vec<_>>()
            .join(", ");
        assert!(
            sql.contains(&format!("status TEXT NOT NULL CHECK (status IN ({list}))")),
            "{backend}: {list}"
        );
    }
}

#[test]
fn money_paths_keep_working() {
    assert_eq!(sanshe::money::yuan_grouped(123_456_789), "1,234,567.89");
    assert_eq!(
        sanshe::money::yuan_grouped(Fen::new(123_456_789)),
        "1,234,567.89"
    );
    assert_eq!(sanshe::money::parse_yuan("1,000.50"), Ok(100_050));
    assert_eq!("1,000.50".parse::<Fen>(), Ok(Fen::new(100_050)));
}

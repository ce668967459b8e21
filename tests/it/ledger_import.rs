//! Bulk import of ledger entries (issue 10, speed): an import leaves the ledger exactly as posting the same
//! entries one by one does (same sequence numbers, hashes, postings and balances, `verify` ok), and an
//! entry that breaks a rule, or reuses a key, refuses its whole batch by name with the database unchanged.
//! Both backends.

use chrono::Utc;
use diesel::prelude::*;
use sanshe::db::DbConn;
use sanshe::db::schema::{ledger_balances as lb, ledger_entries as le, ledger_postings as lp};
use sanshe::domain::ledger::{Account, Bucket, Kind, Line, Refs, Stage};
use sanshe::ledger::appropriations::{self, NewAppropriation, Yuan};
use sanshe::ledger::synthetic::{Budget, Synthetic};
use sanshe::ledger::{NewEntry, import, post};

use crate::both_backends;
use crate::helpers::*;

both_backends!(import_is_posting_one_by_one, a_bad_entry_refuses_its_batch);

/// Every row of the ledger's tables, in order: equal means the same ledger.
fn ledger_rows(c: &mut DbConn) -> String {
    let entries: Vec<(
        i64,
        String,
        Option<i64>,
        Option<i64>,
        String,
        String,
        String,
    )> = le::table
        .order(le::seq)
        .select((
            le::seq,
            le::kind,
            le::contract_id,
            le::reverses_seq,
            le::idem_key,
            le::request_hash,
            le::hash,
        ))
        .load(c)
        .unwrap();
    let postings: Vec<(i64, i32, String, i64)> = lp::table
        .order((lp::entry_seq, lp::line))
        .select((lp::entry_seq, lp::line, lp::account, lp::amount_fen))
        .load(c)
        .unwrap();
    let balances: Vec<(String, i64, i64, i64)> = lb::table
        .order(lb::account)
        .select((lb::account, lb::balance_fen, lb::postings, lb::last_seq))
        .load(c)
        .unwrap();
    format!("{entries:?}\n{postings:?}\n{balances:?}")
}

fn finance(c: &mut DbConn) -> sanshe::audit::Actor {
    use sanshe::db::schema::users as u;
    let id: i64 = u::table
        .filter(u::username.eq("finance"))
        .select(u::id)
        .first(c)
        .unwrap();
    sanshe::audit::Actor {
        id: Some(id),
        name: "finance".into(),
        request_id: None,
    }
}

/// A fresh app with a tender and two budgets of ¥50,000,000 recorded by finance; the budgets to
/// generate from and the tender ids.
async fn ledger_app(b: &Backend, now: chrono::DateTime<Utc>) -> (TestApp, Vec<Budget>, Vec<i64>) {
    let app = TestApp::spawn_with(
        b,
        Options {
            registry_demo: true,
            ..Default::default()
        },
    )
    .await;
    let mut c = app.conn();
    let tender = {
        let cfg = config(&app.db, &Options::default());
        let ctx = sanshe::tenders::Ctx::from_config(&cfg);
        let bureau: i64 = sanshe::db::schema::users::table
            .filter(sanshe::db::schema::users::username.eq("bureau"))
            .select(sanshe::db::schema::users::id)
            .first(&mut c)
            .unwrap();
        let input =
            serde_json::from_value(crate::tenders::tender_body_at("IMP-1", Utc::now())).unwrap();
        let actor = sanshe::audit::Actor::system("test");
        sanshe::tenders::create(&mut c, &ctx, &actor, bureau, Utc::now(), &input)
            .unwrap()
            .id
    };
    let actor = finance(&mut c);
    let settings = sanshe::ledger::Settings::default();
    let mut budgets = Vec::new();
    for (i, field) in [Some("elderly"), None].into_iter().enumerate() {
        appropriations::create(
            &mut c,
            &settings,
            &actor,
            now,
            &NewAppropriation {
                year: 2026,
                fund: "general".into(),
                field: field.map(str::to_string),
                amount: Yuan::Text("50000000.00".into()),
                document_no: format!("IMP-{i}"),
                note: None,
                date: Some("2026-01-05".into()),
                idempotency_key: format!("imp-appropriation-{i}"),
            },
        )
        .unwrap();
        budgets.push(Budget {
            bucket: Bucket {
                year: 2026,
                fund: "general".into(),
                field: field.map(str::to_string),
            },
            available_fen: 5_000_000_000,
        });
    }
    drop(c);
    (app, budgets, vec![tender])
}

fn generated(budgets: &[Budget], tenders: &[i64], head: i64, n: u64) -> Vec<NewEntry> {
    Synthetic::new(SEED, budgets.to_vec(), tenders.to_vec(), head, n, "imp").collect()
}

/// A seed whose 400 entries include every kind (a reversal among them).
const SEED: u64 = 11;

async fn import_is_posting_one_by_one(b: Backend) {
    let now = Utc::now();
    let (one, budgets, tenders) = ledger_app(&b, now).await;
    let (bulk, _, _) = ledger_app(&b, now).await;
    let mut c1 = one.conn();
    let mut c2 = bulk.conn();
    let head = sanshe::ledger::digest(&mut c1).unwrap().seq;
    assert_eq!(ledger_rows(&mut c1), ledger_rows(&mut c2));
    let entries = generated(&budgets, &tenders, head, 400);
    for k in [
        Kind::Reservation,
        Kind::Release,
        Kind::Commitment,
        Kind::Accrual,
        Kind::Disbursement,
        Kind::Reversal,
    ] {
        assert!(entries.iter().any(|e| e.kind == k), "no {k} generated");
    }
    let actor = finance(&mut c1);
    for e in &entries {
        let p = post(&mut c1, &actor, now, e).unwrap();
        assert!(!p.replayed);
    }
    // Batches of 64: reversals of an entry in the same batch and of one in an earlier batch.
    let r = import(&mut c2, &actor, now, entries.clone(), 64).unwrap();
    assert_eq!((r.entries, r.batches), (400, 7));
    assert_eq!(r.head, sanshe::ledger::digest(&mut c1).unwrap());
    assert_eq!(ledger_rows(&mut c1), ledger_rows(&mut c2));
    for c in [&mut c1, &mut c2] {
        let v = sanshe::ledger::verify(c).unwrap();
        assert!(v.ok, "{v:?}");
        assert_eq!(v.entries, head + 400);
    }
    one.stop().await;
    bulk.stop().await;
}

fn line(account: String, amount: i64) -> Line {
    Line { account, amount }
}

async fn a_bad_entry_refuses_its_batch(b: Backend) {
    use actix_web::ResponseError;
    let now = Utc::now();
    let (app, budgets, tenders) = ledger_app(&b, now).await;
    let mut c = app.conn();
    let actor = finance(&mut c);
    let head = sanshe::ledger::digest(&mut c).unwrap().seq;
    let good = generated(&budgets, &tenders, head, 120);
    import(&mut c, &actor, now, good.clone(), 50).unwrap();
    let before = ledger_rows(&mut c);
    let head = sanshe::ledger::digest(&mut c).unwrap().seq;
    let next = generated(&budgets, &tenders, head, 20)
        .into_iter()
        .enumerate()
        .map(|(i, mut e)| {
            e.idem_key = format!("next-{i}");
            e
        })
        .collect::<Vec<_>>();
    // Entry 7 reserves more than the budget holds: the batch of 20 is refused, naming it and the rule.
    let bucket = budgets[0].bucket.clone();
    let mut over = next.clone();
    over[7] = NewEntry {
        date: over[7].date,
        kind: Kind::Reservation,
        memo: "超额预留".into(),
        refs: Refs {
            tender: Some(tenders[0]),
            ..Default::default()
        },
        idem_key: "over".into(),
        lines: vec![
            line(
                Account::Budget(Stage::Reserved, bucket.clone()).name(),
                10_000_000_000,
            ),
            line(
                Account::Budget(Stage::Available, bucket).name(),
                -10_000_000_000,
            ),
        ],
    };
    let e = import(&mut c, &actor, now, over, 100).unwrap_err();
    let sanshe::error::AppError::Validation(errs) = &e else {
        panic!("{e:?}")
    };
    assert_eq!(
        (errs[0].field.as_str(), errs[0].rule.as_str()),
        ("entries[7].postings[1].amount", "available_non_negative")
    );
    assert!(errs[0].message.en.contains("\"over\""), "{errs:?}");
    assert_eq!(ledger_rows(&mut c), before);
    // A key already in the ledger, and a key twice in one batch: 409, nothing written.
    let mut reused = next.clone();
    reused[3].idem_key = good[5].idem_key.clone();
    let mut twice = next.clone();
    twice[9].idem_key = twice[2].idem_key.clone();
    for (batch, at) in [(reused, 3), (twice, 9)] {
        let e = import(&mut c, &actor, now, batch, 100).unwrap_err();
        assert_eq!(
            (e.status_code().as_u16(), e.code()),
            (409, "idempotency_key_reused")
        );
        assert!(
            e.message()
                .en
                .contains(&format!("Entry {at} of the import")),
            "{e:?}"
        );
        assert_eq!(ledger_rows(&mut c), before);
    }
    // A reversal of a reversal, both in the batch.
    let target = head + 1;
    let orig = &next[0];
    let negate = |lines: &[Line]| {
        lines
            .iter()
            .map(|l| line(l.account.clone(), -l.amount))
            .collect::<Vec<_>>()
    };
    let rev = |key: &str, reverses: i64, lines: Vec<Line>| NewEntry {
        date: orig.date,
        kind: Kind::Reversal,
        memo: "冲销".into(),
        refs: Refs {
            reverses: Some(reverses),
            ..orig.refs.clone()
        },
        idem_key: key.into(),
        lines,
    };
    let batch = vec![
        orig.clone(),
        rev("r1", target, negate(&orig.lines)),
        rev("r2", target + 1, orig.lines.clone()),
    ];
    let e = import(&mut c, &actor, now, batch.clone(), 100).unwrap_err();
    assert_eq!(e.code(), "reversal_of_reversal", "{e:?}");
    assert_eq!(ledger_rows(&mut c), before);
    // Without it the batch goes in, and the ledger verifies.
    import(&mut c, &actor, now, batch[..2].to_vec(), 100).unwrap();
    let v = sanshe::ledger::verify(&mut c).unwrap();
    assert!(v.ok && v.entries == head + 2, "{v:?}");
    drop(c);
    app.stop().await;
}

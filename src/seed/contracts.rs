//! Demo contracts: one for each awarded project of the purchase history but the most recent few, created,
//! signed, started, accepted and paid through the contract service itself (so every ledger entry, audit
//! event and invariant is the real one and `sanshe verify` passes), each step at the date it would have
//! happened. The dates are deterministic and give finance a few things to find: contracts signed later than
//! 30 days after the award, notices later than 2 working days, payments later than the due days, and
//! accepted instalments still waiting for payment. Organisations are not e-mailed about the past.

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc};
use diesel::prelude::*;

use crate::audit::Actor;
use crate::contracts::{self, AcceptInput, NewContract, PayInput, SignInput};
use crate::db::DbConn;
use crate::db::schema::{appropriations as ap, tenders, users};
use crate::error::AppError;

/// The most recent awards stay unsigned: the bureau's work of today.
pub const UNSIGNED_RECENT: usize = 4;

/// The SplitMix64 step, so the demo's dates repeat on every run.
fn mix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn roll(seed: u64, lo: i64, hi: i64) -> i64 {
    lo + (mix(seed) % (hi - lo + 1) as u64) as i64
}

/// 10:00 in Beijing on `d`.
fn at(d: NaiveDate) -> DateTime<Utc> {
    crate::clock::shanghai()
        .from_local_datetime(&d.and_hms_opt(10, 0, 0).expect("a valid time"))
        .single()
        .expect("Beijing has no DST")
        .with_timezone(&Utc)
}

fn actor(conn: &mut DbConn, username: &str) -> Result<Actor, AppError> {
    let id: i64 = users::table
        .filter(users::username.eq(username))
        .select(users::id)
        .first(conn)?;
    Ok(Actor {
        id: Some(id),
        name: username.into(),
        request_id: None,
    })
}

/// The appropriations a contract of `field` signed in `year` may draw on, best first: the general budget
/// of its field, the lottery fund (elderly), the higher-level subsidy for any field.
fn candidates(conn: &mut DbConn, year: i32, field: &str) -> QueryResult<Vec<i64>> {
    let rows: Vec<(i64, String, Option<String>)> = ap::table
        .filter(ap::year.eq(year))
        .order(ap::id)
        .select((ap::id, ap::fund, ap::field))
        .load(conn)?;
    let rank = |fund: &str, f: &Option<String>| match (fund, f.as_deref()) {
        ("general", Some(x)) if x == field => Some(0),
        (_, Some(x)) if x == field => Some(1),
        (_, None) => Some(2),
        _ => None,
    };
    let mut c: Vec<(i32, i64)> = rows
        .iter()
        .filter_map(|(id, fund, f)| rank(fund, f).map(|r| (r, *id)))
        .collect();
    c.sort();
    Ok(c.into_iter().map(|(_, id)| id).collect())
}

/// What [`seed_demo`] did.
#[derive(Debug, Default)]
pub struct Seeded {
    pub contracts: usize,
    pub payments: usize,
}

/// Create the history's contracts as the bureau and finance would have, step by step at their dates.
pub fn seed_demo(
    conn: &mut DbConn,
    ctx: &contracts::Ctx,
    now: DateTime<Utc>,
) -> Result<Seeded, AppError> {
    let ctx = contracts::Ctx {
        send_mail: false,
        ..ctx.clone()
    };
    let today = crate::clock::beijing_date(now);
    let bureau = actor(conn, "bureau")?;
    let finance = actor(conn, "finance")?;
    let awarded: Vec<(i64, String, chrono::NaiveDateTime, i32)> = tenders::table
        .filter(tenders::state.eq("awarded"))
        .filter(tenders::awarded_at.is_not_null())
        .order((tenders::awarded_at.asc(), tenders::id.asc()))
        .select((
            tenders::id,
            tenders::field,
            tenders::awarded_at.assume_not_null(),
            tenders::term_months,
        ))
        .load(conn)?;
    let signable = awarded.len().saturating_sub(UNSIGNED_RECENT);
    let mut out = Seeded::default();
    for (k, (tender, field, awarded_at, _)) in awarded.into_iter().take(signable).enumerate() {
        let seed = 0xC0_7000 + k as u64;
        let awarded_on = crate::clock::beijing_date(awarded_at.and_utc());
        // Most sign within three weeks; every seventeenth late (> 30 days: 政府采购法 Art 46).
        let sign_after = if k % 17 == 8 {
            roll(seed, 33, 45)
        } else {
            roll(seed, 5, 21)
        };
        let signed_on = awarded_on + Duration::days(sign_after);
        if signed_on + Duration::days(7) > today {
            continue;
        }
        let no = format!("GD-{}-HT-{:03}", signed_on.year(), k + 1);
        let c = contracts::create(
            conn,
            &ctx,
            &bureau,
            at(awarded_on + Duration::days(1)).min(now),
            &NewContract {
                tender_id: tender,
                contract_no: no,
                term_start: (signed_on + Duration::days(1)).to_string(),
                appropriation_id: None,
            },
        )?;
        // The notice goes up the same day, except every thirteenth a week later (> 2 working days).
        let notice_on = if k % 13 == 6 {
            signed_on + Duration::days(7)
        } else {
            signed_on
        };
        let mut signed = false;
        for appropriation in candidates(conn, signed_on.year(), &field)? {
            let r = contracts::sign(
                conn,
                &ctx,
                &bureau,
                at(notice_on),
                c.id,
                &SignInput {
                    signed_on: signed_on.to_string(),
                    appropriation_id: Some(appropriation),
                },
            );
            match r {
                Ok(_) => {
                    signed = true;
                    break;
                }
                // That budget is spent: the next one.
                Err(AppError::Validation(v))
                    if v.iter().any(|f| f.rule == "available_non_negative") => {}
                Err(e) => return Err(e),
            }
        }
        if !signed {
            tracing::warn!(tender, "no demo budget left for the contract; left a draft");
            continue;
        }
        out.contracts += 1;
        let start = signed_on + Duration::days(1);
        if start <= today {
            contracts::start(conn, &ctx, &bureau, at(start), c.id)?;
        }
        let view = contracts::get(conn, &ctx, contracts::Reader::Staff, c.id)?;
        let (term_start, term_end) = (view.term_start, view.term_end);
        let mid = term_start + Duration::days((term_end - term_start).num_days() / 2);
        let mut paid_all = true;
        let mut last_paid = signed_on;
        for i in &view.instalments {
            let no = i.no;
            let s = mix(seed ^ (no as u64) << 8);
            let accepted_on = if i.on_signing {
                signed_on
            } else if (no as usize) < view.instalments.len() {
                mid + Duration::days(roll(s, 0, 10))
            } else {
                term_end + Duration::days(roll(s, 5, 20))
            };
            if accepted_on > today {
                paid_all = false;
                break;
            }
            if !i.on_signing {
                let score = roll(s ^ 1, 780, 965);
                contracts::accept(
                    conn,
                    &ctx,
                    &bureau,
                    at(accepted_on),
                    c.id,
                    no,
                    &AcceptInput {
                        accepted_on: accepted_on.to_string(),
                        score: format!("{}.{}", score / 10, score % 10),
                        evaluator: "官渡区社会组织评估中心".into(),
                        report_sha256: format!(
                            "{:016x}{:016x}{:016x}{:016x}",
                            mix(s),
                            mix(s ^ 2),
                            mix(s ^ 3),
                            mix(s ^ 4)
                        ),
                    },
                )?;
            }
            // Paid within three weeks; every eleventh late (> the due days); the newest waits.
            let pay_after = if (k + no as usize) % 11 == 3 {
                roll(s ^ 5, 38, 50)
            } else {
                roll(s ^ 5, 3, 20)
            };
            let paid_on = accepted_on + Duration::days(pay_after);
            if paid_on > today - Duration::days(2) {
                paid_all = false;
                continue;
            }
            contracts::pay(
                conn,
                &ctx,
                &finance,
                at(paid_on),
                c.id,
                &PayInput {
                    idempotency_key: format!("seed-payment-{}-{no}", c.id),
                    instalment: no,
                    voucher_no: format!("JZ-{}-{:04}", paid_on.year(), out.payments + 1),
                    paid_on: Some(paid_on.to_string()),
                },
            )?;
            out.payments += 1;
            last_paid = last_paid.max(paid_on);
        }
        let close_on = last_paid + Duration::days(3);
        if paid_all && close_on <= today {
            contracts::close(conn, &ctx, &bureau, at(close_on), c.id)?;
        }
    }
    Ok(out)
}

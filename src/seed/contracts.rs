//! Demo contracts: one for each awarded project of the purchase history, created and (all but the most
//! recent few, left as drafts to sign) signed, started, accepted and paid through the contract service itself (so every ledger entry, audit
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

/// The most recent awards get a draft contract only: the bureau's work of today.
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
    pub spending_items: usize,
}

/// Create the history's contracts as the bureau and finance would have, step by step at their dates, and
/// the spending reports on those still running.
pub fn seed_demo(
    conn: &mut DbConn,
    ctx: &contracts::Ctx,
    now: DateTime<Utc>,
) -> Result<Seeded, AppError> {
    let mut out = sign_awarded(conn, ctx, now)?;
    let finance = actor(conn, "finance")?;
    let ctx = contracts::Ctx {
        send_mail: false,
        ..ctx.clone()
    };
    out.spending_items = spending(conn, &ctx, now, &finance)?;
    Ok(out)
}

/// A contract for each awarded tender that has none, created, signed, started, accepted, paid and closed as
/// its dates imply (the newest [`UNSIGNED_RECENT`] left as drafts).
pub fn sign_awarded(
    conn: &mut DbConn,
    ctx: &contracts::Ctx,
    now: DateTime<Utc>,
) -> Result<Seeded, AppError> {
    use crate::db::schema::contracts as ct;
    let ctx = contracts::Ctx {
        send_mail: false,
        ..ctx.clone()
    };
    let today = crate::clock::beijing_date(now);
    let bureau = actor(conn, "bureau")?;
    let finance = actor(conn, "finance")?;
    type Awarded = (
        i64,
        String,
        chrono::NaiveDateTime,
        Option<chrono::NaiveDateTime>,
    );
    let awarded: Vec<Awarded> = tenders::table
        .filter(tenders::state.eq("awarded"))
        .filter(tenders::awarded_at.is_not_null())
        .filter(diesel::dsl::not(diesel::dsl::exists(
            ct::table.filter(ct::tender_id.eq(tenders::id)),
        )))
        .order((tenders::awarded_at.asc(), tenders::id.asc()))
        .select((
            tenders::id,
            tenders::field,
            tenders::awarded_at.assume_not_null(),
            tenders::result_published_at,
        ))
        .load(conn)?;
    let signable = awarded.len().saturating_sub(UNSIGNED_RECENT);
    let mut out = Seeded::default();
    // Contract numbers continue after those already made.
    let made = ct::table.count().get_result::<i64>(conn)? as usize;
    for (k, (tender, field, awarded_at, letter_at)) in awarded.into_iter().enumerate() {
        let seed = 0xC0_7000 + k as u64;
        // The award is final at the end of the challenge window; the 30 days to sign run from the award
        // letter, issued with the result notice about two weeks before (政府采购法 Art 46).
        let awarded_on = crate::clock::beijing_date(awarded_at.and_utc());
        let letter_on = letter_at.map_or(awarded_on, |l| crate::clock::beijing_date(l.and_utc()));
        // Most sign within a week or so of the final award; every seventeenth late.
        let signed_on = if k % 17 == 8 {
            (letter_on + Duration::days(roll(seed, 33, 45))).max(awarded_on + Duration::days(2))
        } else {
            awarded_on + Duration::days(roll(seed, 2, 9))
        };
        // The newest awards get their draft contract, to be signed: the bureau's work of today.
        let unsigned = k >= signable || signed_on + Duration::days(7) > today;
        let no = format!("GD-{}-HT-{:03}", signed_on.year(), made + k + 1);
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
        if unsigned {
            continue;
        }
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
                        effect_score: format!("{}.{}", score / 10, score % 10),
                        evaluator: "官渡区社会组织评估中心".into(),
                        report_sha256: super::evidence::sha256(&super::evidence::pdf(
                            &super::evidence::report_text(&view.contract_no, no),
                        )),
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

/// Spending reports on the contracts still running: about two fifths of each budget line so far, most
/// accepted by finance, one queried and one rejected; and what an auditor should find: one invoice claimed
/// by two organisations, and one contract whose management fee is over the cap.
fn spending(
    conn: &mut DbConn,
    ctx: &contracts::Ctx,
    now: DateTime<Utc>,
    finance: &Actor,
) -> Result<usize, AppError> {
    use crate::contracts::spending::{self, NewItem, ReviewInput};
    use crate::db::schema::contracts as ct;
    let today = crate::clock::beijing_date(now);
    let live: Vec<(i64, i64, NaiveDate)> = ct::table
        .filter(ct::state.eq_any(["in_progress", "midterm_accepted"]))
        .order(ct::id.asc())
        .select((ct::id, ct::organisation_id, ct::term_start))
        .limit(12)
        .load(conn)?;
    let mut n = 0;
    // (organisation, invoice) of the first claim, and whether another organisation claimed it again.
    let mut shared: Option<(i64, String)> = None;
    let mut claimed_twice = false;
    for (k, (id, org, start)) in live.into_iter().enumerate() {
        let Some(user): Option<String> = users::table
            .filter(users::org_id.eq(org))
            .order(users::id)
            .select(users::username)
            .first(conn)
            .optional()?
        else {
            continue;
        };
        let who = actor(conn, &user)?;
        let row = contracts::find_row(conn, id)?;
        let days = (today - start).num_days().max(1);
        for (j, line) in row.budget_lines().iter().enumerate() {
            let s = mix(0x5BE0_0000 + (k * 16 + j) as u64);
            // Two fifths of the line, in whole yuan; the third contract's management fee at 12 % of the
            // contract, over the usual 10 % cap.
            let fen = if k == 2 && line.line == "management" {
                row.amount_fen * 12 / 100
            } else {
                line.amount_fen * 2 / 5
            };
            let yuan = fen / 100;
            if yuan <= 0 {
                continue;
            }
            let spent_on = start + Duration::days(roll(s, 0, days - 1));
            let mut invoice = format!("{}{:08}", 53_001 + k, mix(s ^ 9) % 100_000_000);
            // The same invoice claimed by two organisations.
            if j == 1 {
                match &shared {
                    None => shared = Some((org, invoice.clone())),
                    Some((o, i)) if *o != org && !claimed_twice => {
                        invoice = i.clone();
                        claimed_twice = true;
                    }
                    _ => {}
                }
            }
            let item = spending::report(
                conn,
                &who,
                now,
                org,
                id,
                &NewItem {
                    date: spent_on.to_string(),
                    line: line.line.clone(),
                    amount: format!("{yuan}.00"),
                    invoice_no: invoice,
                    payee: [
                        "昆明市官渡区文印中心",
                        "云南惠民超市",
                        "社工督导费（专家）",
                        "官渡区税务局",
                    ][(s % 4) as usize]
                        .into(),
                    description: format!("{}支出", spending::line_names(&line.line).0),
                    evidence_sha256: None,
                },
            )?;
            n += 1;
            // Finance has looked at the older ones.
            let decision = match (k + j) % 7 {
                0 => Some(("query", "请补充活动签到表。")),
                5 if k > 3 => Some(("reject", "发票抬头与机构名称不符。")),
                1..=4 => Some(("accept", "")),
                _ => None,
            };
            if let Some((d, note)) = decision {
                spending::review(
                    conn,
                    ctx,
                    finance,
                    now,
                    item.id,
                    &ReviewInput {
                        decision: d.into(),
                        note: Some(note.into()),
                    },
                )?;
            }
        }
    }
    Ok(n)
}

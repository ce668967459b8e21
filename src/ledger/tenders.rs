//! A tender's budget on the ledger (issue 10, "Budgets"): the bureau names the appropriation a draft tender
//! draws on; publishing reserves the tender's ceiling in that budget (422 `available_non_negative` when the
//! available amount is short, and the tender stays a draft); the final award releases the ceiling less the
//! winning price; a winner's refusal to sign after it takes that release back ([`on_award_refused`]), so
//! the next award releases against the whole ceiling again; a failed or cancelled tender releases what is
//! still reserved. Every state change of a tender passes through `tenders::move_state`, which calls
//! [`on_move`] in its transaction, so no path can move a tender without its budget following. Each entry
//! has a fixed key per tender and step, so it is posted at most once.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use super::{NewEntry, post};
use crate::audit::Actor;
use crate::db::DbConn;
use crate::db::schema::{
    ledger_balances as lb, ledger_entries as le, ledger_postings as lp, tender_funding as tf,
    tenders,
};
use crate::domain::ledger::{Account, Bucket, Kind, Line, Refs, Stage};
use crate::domain::tender::State;
use crate::error::{AppError, FieldError};

/// Which appropriation a tender draws on.
#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FundingInput {
    pub appropriation_id: i64,
}

/// A tender's funding as shown.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Funding {
    pub tender_id: i64,
    pub appropriation_id: i64,
    /// The budget it draws on, e.g. `2026:general:elderly`.
    pub bucket: String,
    /// The tender's ceiling, reserved at publication (fen, yuan).
    pub ceiling_fen: i64,
    pub ceiling: String,
    /// Available in that budget now (fen, yuan).
    pub available_fen: i64,
    pub available: String,
    /// Still reserved for this tender (fen).
    pub reserved_fen: i64,
    #[schema(value_type = String)]
    pub named_at: NaiveDateTime,
}

fn balance(conn: &mut DbConn, account: &str) -> QueryResult<i64> {
    Ok(lb::table
        .find(account)
        .select(lb::balance_fen)
        .first(conn)
        .optional()?
        .unwrap_or(0))
}

/// What is still reserved for a tender: its postings on its budget's reserved account.
pub fn reserved_for(conn: &mut DbConn, tender: i64, account: &str) -> QueryResult<i64> {
    let amounts: Vec<i64> = lp::table
        .inner_join(le::table)
        .filter(le::tender_id.eq(tender))
        .filter(lp::account.eq(account))
        .select(lp::amount_fen)
        .load(conn)?;
    Ok(amounts.iter().sum())
}

/// Has the step with this key been posted already (a move made again changes nothing)?
fn posted(conn: &mut DbConn, key: &str) -> QueryResult<bool> {
    Ok(le::table
        .filter(le::idem_key.eq(key))
        .select(le::seq)
        .first::<i64>(conn)
        .optional()?
        .is_some())
}

/// How many refusals to sign after a final award re-reserved their award's release ([`on_award_refused`]).
fn refusals_reserved(conn: &mut DbConn, tender: i64) -> QueryResult<i64> {
    le::table
        .filter(le::idem_key.like(format!("tender:{tender}:refusal-%")))
        .count()
        .get_result(conn)
}

/// The tender's funding, if it names an appropriation.
pub fn funding(conn: &mut DbConn, tender: i64) -> Result<Option<Funding>, AppError> {
    let Some((appropriation_id, named_at)): Option<(i64, NaiveDateTime)> = tf::table
        .find(tender)
        .select((tf::appropriation_id, tf::named_at))
        .first(conn)
        .optional()?
    else {
        return Ok(None);
    };
    let ceiling: i64 = tenders::table
        .find(tender)
        .select(tenders::budget_fen)
        .first(conn)?;
    let bucket =
        super::appropriations::bucket(conn, appropriation_id)?.ok_or(AppError::NotFound)?;
    let available = balance(
        conn,
        &Account::Budget(Stage::Available, bucket.clone()).name(),
    )?;
    let reserved = reserved_for(
        conn,
        tender,
        &Account::Budget(Stage::Reserved, bucket.clone()).name(),
    )?;
    Ok(Some(Funding {
        tender_id: tender,
        appropriation_id,
        bucket: bucket.path(),
        ceiling_fen: ceiling,
        ceiling: crate::money::yuan(ceiling),
        available_fen: available,
        available: crate::money::yuan(available),
        reserved_fen: reserved,
        named_at,
    }))
}

/// Name (or change) the appropriation a draft tender draws on. The appropriation must exist and be for the
/// tender's field or for any field. Audited.
pub fn name(
    conn: &mut DbConn,
    actor: &Actor,
    now: DateTime<Utc>,
    tender: i64,
    input: &FundingInput,
) -> Result<Funding, AppError> {
    crate::db::write_tx(conn, |c| {
        crate::db::lock_row(c, "tenders", tender)?;
        let (state, field): (String, String) = tenders::table
            .find(tender)
            .select((tenders::state, tenders::field))
            .first(c)?;
        if state != State::Draft.as_str() {
            return Err(AppError::conflict(
                "wrong_state",
                "只有草稿状态的招标项目可以指定预算指标。",
                "Only a draft tender can name the appropriation it draws on.",
            ));
        }
        let Some(Bucket {
            field: appr_field, ..
        }) = super::appropriations::bucket(c, input.appropriation_id)?
        else {
            return Err(AppError::field(
                "appropriation_id",
                "exists",
                "没有这个预算指标。",
                "There is no such appropriation.",
            ));
        };
        if appr_field.as_deref().is_some_and(|f| f != field) {
            return Err(AppError::field(
                "appropriation_id",
                "field_mismatch",
                "该预算指标限定于其他服务领域。",
                "That appropriation is for another service field.",
            ));
        }
        let user = actor
            .id
            .ok_or_else(|| AppError::internal("naming an appropriation needs a signed-in user"))?;
        let before: Option<i64> = tf::table
            .find(tender)
            .select(tf::appropriation_id)
            .first(c)
            .optional()?;
        diesel::delete(tf::table.find(tender)).execute(c)?;
        diesel::insert_into(tf::table)
            .values((
                tf::tender_id.eq(tender),
                tf::appropriation_id.eq(input.appropriation_id),
                tf::named_by.eq(user),
                tf::named_at.eq(crate::db::now_micros(now)),
            ))
            .execute(c)?;
        crate::audit::record(
            c,
            actor,
            now,
            "tender.appropriation",
            "tender",
            Some(tender.to_string()),
            before.map(|a| serde_json::json!({ "appropriation_id": a })),
            Some(serde_json::json!({ "appropriation_id": input.appropriation_id })),
        )?;
        funding(c, tender)?.ok_or(AppError::NotFound)
    })
}

/// The ledger's part of a tender's move to `to` (called by `tenders::move_state`, in its transaction).
pub fn on_move(
    conn: &mut DbConn,
    actor: &Actor,
    now: DateTime<Utc>,
    tender: i64,
    to: State,
) -> Result<(), AppError> {
    if !matches!(
        to,
        State::Published | State::Awarded | State::Failed | State::Cancelled
    ) {
        return Ok(());
    }
    let Some(appropriation) = tf::table
        .find(tender)
        .select(tf::appropriation_id)
        .first::<i64>(conn)
        .optional()?
    else {
        return Ok(());
    };
    let bucket = super::appropriations::bucket(conn, appropriation)?.ok_or(AppError::NotFound)?;
    let (code, ceiling, award_bid): (String, i64, Option<i64>) = tenders::table
        .find(tender)
        .select((tenders::code, tenders::budget_fen, tenders::award_bid_id))
        .first(conn)?;
    let reserved_acct = Account::Budget(Stage::Reserved, bucket.clone()).name();
    let available_acct = Account::Budget(Stage::Available, bucket).name();
    let entry = |kind: Kind, step: &str, memo: String, amount: i64| NewEntry {
        date: crate::clock::beijing_date(now),
        kind,
        memo,
        refs: Refs {
            tender: Some(tender),
            appropriation: Some(appropriation),
            ..Default::default()
        },
        idem_key: format!("tender:{tender}:{step}"),
        lines: if kind == Kind::Reservation {
            vec![
                Line {
                    account: reserved_acct.clone(),
                    amount,
                },
                Line {
                    account: available_acct.clone(),
                    amount: -amount,
                },
            ]
        } else {
            vec![
                Line {
                    account: available_acct.clone(),
                    amount,
                },
                Line {
                    account: reserved_acct.clone(),
                    amount: -amount,
                },
            ]
        },
    };
    let step = match to {
        State::Published => "reservation".to_string(),
        // Each refusal after a final award re-reserved that award's release: the award after it is a
        // step of its own, numbered by the refusals before it.
        State::Awarded => match refusals_reserved(conn, tender)? {
            0 => "award-release".to_string(),
            n => format!("award-release-{n}"),
        },
        _ => "release".to_string(),
    };
    if posted(conn, &format!("tender:{tender}:{step}"))? {
        return Ok(());
    }
    match to {
        State::Published => {
            let e = entry(
                Kind::Reservation,
                "reservation",
                format!("招标项目 {code} 发布：预留最高限价"),
                ceiling,
            );
            match post(conn, actor, now, &e) {
                Ok(_) => Ok(()),
                Err(AppError::Validation(v))
                    if v.iter().any(|f| f.rule == "available_non_negative") =>
                {
                    let available = balance(conn, &available_acct)?;
                    Err(AppError::Validation(vec![FieldError::new(
                        "appropriation_id",
                        "available_non_negative",
                        format!(
                            "预算指标可用额不足：可用 {} 元，最高限价 {} 元。",
                            crate::money::yuan(available),
                            crate::money::yuan(ceiling)
                        ),
                        format!(
                            "Not enough available in the appropriation: ¥{} available, the ceiling is ¥{}.",
                            crate::money::yuan(available),
                            crate::money::yuan(ceiling)
                        ),
                    )]))
                }
                Err(e) => Err(e),
            }
        }
        State::Awarded => {
            // The award's price (a negotiation's final quote), the one reading the contract uses too.
            let price: Option<i64> = match award_bid {
                Some(b) => {
                    Some(crate::tenders::evaluation::negotiation::award_price(conn, b)?.get())
                }
                None => None,
            };
            let outstanding = reserved_for(conn, tender, &reserved_acct)?;
            let amount = price
                .map_or(0, |p| ceiling.saturating_sub(p))
                .clamp(0, outstanding.max(0));
            if amount > 0 {
                let e = entry(
                    Kind::Release,
                    &step,
                    format!("招标项目 {code} 定标：释放最高限价与中标价之差"),
                    amount,
                );
                post(conn, actor, now, &e)?;
            }
            Ok(())
        }
        _ => {
            let outstanding = reserved_for(conn, tender, &reserved_acct)?;
            if outstanding > 0 {
                let what = if to == State::Failed {
                    "流标"
                } else {
                    "取消"
                };
                let e = entry(
                    Kind::Release,
                    "release",
                    format!("招标项目 {code} {what}：释放全部预留"),
                    outstanding,
                );
                post(conn, actor, now, &e)?;
            }
            Ok(())
        }
    }
}

/// A winner refused to sign after the final award (实施条例 Art 43): what that award released goes back into
/// the tender's reservation, so the next award releases the ceiling less its own price. Before the final
/// award nothing was released and nothing moves.
pub fn on_award_refused(
    conn: &mut DbConn,
    actor: &Actor,
    now: DateTime<Utc>,
    tender: i64,
    bid: i64,
) -> Result<(), AppError> {
    let Some(appropriation) = tf::table
        .find(tender)
        .select(tf::appropriation_id)
        .first::<i64>(conn)
        .optional()?
    else {
        return Ok(());
    };
    let key = format!("tender:{tender}:refusal-{bid}");
    if posted(conn, &key)? {
        return Ok(());
    }
    let bucket = super::appropriations::bucket(conn, appropriation)?.ok_or(AppError::NotFound)?;
    let (code, ceiling): (String, i64) = tenders::table
        .find(tender)
        .select((tenders::code, tenders::budget_fen))
        .first(conn)?;
    let reserved_acct = Account::Budget(Stage::Reserved, bucket.clone()).name();
    let available_acct = Account::Budget(Stage::Available, bucket).name();
    let released = ceiling - reserved_for(conn, tender, &reserved_acct)?;
    if released <= 0 {
        return Ok(());
    }
    let e = NewEntry {
        date: crate::clock::beijing_date(now),
        kind: Kind::Reservation,
        memo: format!("招标项目 {code} 中标人拒绝签订合同：重新预留定标时释放的额度"),
        refs: Refs {
            tender: Some(tender),
            appropriation: Some(appropriation),
            ..Default::default()
        },
        idem_key: key,
        lines: vec![
            Line {
                account: reserved_acct,
                amount: released,
            },
            Line {
                account: available_acct,
                amount: -released,
            },
        ],
    };
    post(conn, actor, now, &e)?;
    Ok(())
}

//! Paying an instalment (finance): one disbursement entry and one payment row, at most once per
//! instalment, idempotent by key, never by the person who accepted the milestone.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use super::*;
use crate::audit::Actor;
use crate::domain::ledger::{Kind, Line, Refs};
use crate::error::Checks;
use crate::ledger::{NewEntry, post};
use crate::mail::templates as mails;

/// A payment of one instalment.
#[derive(Clone, Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PayInput {
    /// A key of the client's: a retry with the same key and content returns the first payment; the same
    /// key with other content is 409 `idempotency_key_reused`.
    pub idempotency_key: String,
    /// The instalment's number in the schedule (1, 2, 3 …).
    pub instalment: i32,
    /// The accounting voucher number (记账凭证号), unique.
    pub voucher_no: String,
    /// The day paid (YYYY-MM-DD), from the signing to today; today when absent.
    pub paid_on: Option<String>,
}

/// What [`pay`] did.
pub struct Paid {
    pub payment: PaymentView,
    /// A retry: the first payment, nothing new written.
    pub replayed: bool,
}

fn payment(conn: &mut DbConn, ctx: &Ctx, id: i64) -> Result<PaymentView, AppError> {
    let p: PaymentRow = pm::table
        .find(id)
        .select(PaymentRow::as_select())
        .first(conn)?;
    let accepted_on: Option<NaiveDate> = ci::table
        .find(p.instalment_id)
        .select(ci::accepted_on)
        .first(conn)?;
    let names = user_names(conn, &[p.paid_by])?;
    Ok(payment_view(&p, &names, accepted_on, ctx.payment_due_days))
}

/// Pay an accepted instalment of a contract (finance). Refused: an instalment not yet accepted (409
/// `accepted_first`), one already paid (409 `paid_once`, also for a concurrent second payment), a payer who
/// accepted the milestone (403 `separation_of_duties`), a voucher number already used (409), a closed
/// contract or a draft. A payment later than the due days after acceptance is allowed and flagged.
pub fn pay(
    conn: &mut DbConn,
    ctx: &Ctx,
    actor: &Actor,
    now: DateTime<Utc>,
    id: i64,
    input: &PayInput,
) -> Result<Paid, AppError> {
    let today = crate::clock::beijing_date(now);
    let key = crate::idempotency::check_key(&input.idempotency_key)?.to_string();
    let voucher = input.voucher_no.trim().to_string();
    let paid_on_text = input
        .paid_on
        .as_deref()
        .map(str::trim)
        .unwrap_or("")
        .to_string();
    let rhash =
        crate::idempotency::request_hash(&(id, input.instalment, &voucher, &paid_on_text), &[]);
    let user = actor
        .id
        .ok_or_else(|| AppError::internal("a payment needs a signed-in payer"))?;
    crate::db::write_tx(conn, |conn| -> Result<Paid, AppError> {
        // Payments meet under the chains' locks (audit, then ledger), so keyed retries and two payments of
        // one instalment are decided one after the other.
        crate::chain::AUDIT.lock(conn)?;
        crate::chain::LEDGER.lock(conn)?;
        let seen: Option<(String, i64)> = pm::table
            .filter(pm::idem_key.eq(&key))
            .select((pm::request_hash, pm::id))
            .first(conn)
            .optional()?;
        if let Some(stored) = seen {
            return match crate::idempotency::decide(Some(stored), &rhash) {
                crate::idempotency::Decision::Replay(pid) => Ok(Paid {
                    payment: payment(conn, ctx, pid)?,
                    replayed: true,
                }),
                _ => Err(crate::idempotency::conflict("付款", "payment")),
            };
        }
        let row = find_row(conn, id)?;
        if !(row.state().is_live() || row.state() == State::Terminated) {
            return Err(AppError::conflict(
                "contract_state",
                format!("合同当前为“{}”，不能付款。", row.state().label(true)),
                format!(
                    "The contract is {}: nothing can be paid.",
                    row.state().label(false)
                ),
            ));
        }
        let Some(i) = instalments(conn, id)?
            .into_iter()
            .find(|i| i.no == input.instalment)
        else {
            return Err(AppError::field(
                "instalment",
                "exists",
                "合同没有这一期。",
                "The contract has no such instalment.",
            ));
        };
        let already: Option<i64> = pm::table
            .filter(pm::instalment_id.eq(i.id))
            .select(pm::id)
            .first(conn)
            .optional()?;
        if let Some(p) = already {
            return Err(AppError::conflict(
                "paid_once",
                format!("第 {} 期已支付（付款 #{p}），每期只能支付一次。", i.no),
                format!(
                    "Instalment {} was already paid (payment #{p}); each is paid once.",
                    i.no
                ),
            ));
        }
        let Some(accepted_on) = i.accepted_on else {
            return Err(AppError::conflict(
                "accepted_first",
                format!(
                    "第 {} 期（{}）尚未验收，验收后才能支付。",
                    i.no, i.milestone
                ),
                format!(
                    "Instalment {} ({}) is not accepted yet: accept it before paying.",
                    i.no, i.milestone
                ),
            ));
        };
        if i.accepted_by == Some(user) {
            return Err(AppError::forbidden_rule(
                "separation_of_duties",
                "验收该期的人员不能支付该期。",
                "The person who accepted a milestone cannot pay it.",
            ));
        }
        let mut c = Checks::new();
        if voucher.is_empty() || voucher.chars().count() > 40 {
            c.add(
                "voucher_no",
                "required",
                "请填写记账凭证号（至多 40 字）。",
                "Give the voucher number (at most 40 characters).",
            );
        } else if pm::table
            .filter(pm::voucher_no.eq(&voucher))
            .select(pm::id)
            .first::<i64>(conn)
            .optional()?
            .is_some()
        {
            c.add(
                "voucher_no",
                "unique",
                "该凭证号已用于另一笔付款。",
                "That voucher number is already used by another payment.",
            );
        }
        let paid_on = if paid_on_text.is_empty() {
            Some(today)
        } else {
            c.date("paid_on", Some(&paid_on_text))
        };
        if let (Some(d), Some(s)) = (paid_on, row.signed_on)
            && (d < s || d > today)
        {
            c.add(
                "paid_on",
                "range",
                "付款日期须在签约之后、今天之前。",
                "The payment date lies between the signing and today.",
            );
        }
        c.finish()?;
        let paid_on = paid_on.expect("checked");
        let appropriation = row
            .appropriation_id
            .ok_or_else(|| AppError::internal("a signed contract without its appropriation"))?;
        let fund: String = ap::table.find(appropriation).select(ap::fund).first(conn)?;
        let posted = post(
            conn,
            actor,
            now,
            &NewEntry {
                date: paid_on,
                kind: Kind::Disbursement,
                memo: format!(
                    "合同 {} 第 {} 期（{}）付款，凭证 {voucher}",
                    row.contract_no, i.no, i.milestone
                ),
                refs: Refs {
                    contract: Some(row.id),
                    instalment: Some(i.id),
                    appropriation: Some(appropriation),
                    tender: Some(row.tender_id),
                    ..Default::default()
                },
                idem_key: format!("contract:{}:instalment:{}:disbursement", row.id, i.no),
                lines: vec![
                    Line {
                        account: Account::Payable(row.organisation_id).name(),
                        amount: i.amount_fen,
                    },
                    Line {
                        account: Account::Treasury(fund).name(),
                        amount: -i.amount_fen,
                    },
                ],
            },
        )?;
        let pid: i64 = diesel::insert_into(pm::table)
            .values((
                pm::contract_id.eq(row.id),
                pm::instalment_id.eq(i.id),
                pm::amount_fen.eq(i.amount_fen),
                pm::voucher_no.eq(&voucher),
                pm::paid_on.eq(paid_on),
                pm::idem_key.eq(&key),
                pm::request_hash.eq(&rhash),
                pm::ledger_seq.eq(posted.entry.seq),
                pm::paid_by.eq(user),
                pm::created_at.eq(crate::db::now_micros(now)),
            ))
            .returning(pm::id)
            .get_result(conn)?;
        rules::check_progress(progress(conn, &row)?).map_err(crate::ledger::refusal)?;
        crate::audit::record(
            conn,
            actor,
            now,
            "contract.pay",
            "contract",
            Some(row.id.to_string()),
            None,
            Some(serde_json::json!({
                "payment_id": pid, "instalment": i.no, "amount_fen": i.amount_fen,
                "voucher_no": voucher, "paid_on": paid_on.to_string(), "entry_seq": posted.entry.seq,
                "late": rules::paid_late(accepted_on, paid_on, ctx.payment_due_days),
            })),
        )?;
        let url = ctx.url(row.id);
        super::lifecycle::notify(conn, ctx, now, row.organisation_id, |name| {
            mails::PaymentMade {
                recipient: name,
                contract_no: row.contract_no.clone(),
                title: row.title.clone(),
                what_zh: format!(
                    "第 {} 期（{}）{} 元已于 {paid_on} 支付，凭证号 {voucher}。",
                    i.no,
                    i.milestone,
                    crate::money::yuan_grouped(i.amount_fen)
                ),
                what_en: format!(
                    "Instalment {} ({}) of ¥{} was paid on {paid_on}, voucher {voucher}.",
                    i.no,
                    i.milestone,
                    crate::money::yuan_grouped(i.amount_fen)
                ),
                url: url.clone(),
            }
        })?;
        Ok(Paid {
            payment: payment(conn, ctx, pid)?,
            replayed: false,
        })
    })
}

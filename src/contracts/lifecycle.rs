//! A contract's life: created from the final award (a draft), signed (commitment; the signing instalment
//! accrues; the tender becomes `contracted`; the contract notice appears), started, its milestones accepted
//! in order (accruals), then closed, or terminated with a reason (the unaccrued commitment is released).

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::*;
use crate::audit::Actor;
use crate::db::schema::bids;
use crate::domain::contract::Grade;
use crate::domain::ledger::{Bucket, Kind, Line, Refs};
use crate::domain::tender::State as TenderState;
use crate::error::{Checks, FieldError};
use crate::ledger::{NewEntry, post};
use crate::mail::templates as mails;

/// A contract to create from a tender's final award.
#[derive(Clone, Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewContract {
    pub tender_id: i64,
    /// The contract number, unique (e.g. `GD-2026-HT-001`).
    pub contract_no: String,
    /// The first day of the term (YYYY-MM-DD); the term lasts the tender's months.
    pub term_start: String,
    /// The appropriation it draws on; defaults to the tender's.
    pub appropriation_id: Option<i64>,
}

fn audit(
    conn: &mut DbConn,
    actor: &Actor,
    now: DateTime<Utc>,
    action: &str,
    id: i64,
    after: serde_json::Value,
) -> QueryResult<()> {
    crate::audit::record(
        conn,
        actor,
        now,
        action,
        "contract",
        Some(id.to_string()),
        None,
        Some(after),
    )
    .map(|_| ())
}

fn wrong_state(s: State, what_zh: &str, what_en: &str) -> AppError {
    AppError::conflict(
        "contract_state",
        format!("合同当前为“{}”，不能{what_zh}。", s.label(true)),
        format!("The contract is {}: it cannot {what_en}.", s.label(false)),
    )
}

/// The appropriation's budget and field (None when there is no such appropriation).
fn check_appropriation(
    conn: &mut DbConn,
    c: &mut Checks,
    appropriation: i64,
    field: &str,
) -> QueryResult<()> {
    match crate::ledger::appropriations::bucket(conn, appropriation)? {
        None => c.add(
            "appropriation_id",
            "exists",
            "没有这个预算指标。",
            "There is no such appropriation.",
        ),
        Some(b) if b.field.as_deref().is_some_and(|f| f != field) => c.add(
            "appropriation_id",
            "field_mismatch",
            "该预算指标限定于其他服务领域。",
            "That appropriation is for another service field.",
        ),
        Some(_) => {}
    }
    Ok(())
}

/// Create the draft contract of a tender's final award: the winner, amount = the award's price
/// (`negotiation::award_price`: a negotiation's final quote, else the bid's price), the winning bid's budget
/// lines (scaled to a final quote below the bid's price) and offered targets, the instalments of the tender's template in fen (the
/// last takes the rounding remainder), the term from `term_start` for the tender's months. One contract per
/// tender (409 `contract_exists`, also for a concurrent second create).
pub fn create(
    conn: &mut DbConn,
    ctx: &Ctx,
    actor: &Actor,
    now: DateTime<Utc>,
    input: &NewContract,
) -> Result<ContractView, AppError> {
    let user = actor
        .id
        .ok_or_else(|| AppError::internal("a contract needs a signed-in author"))?;
    let id = crate::db::write_tx(conn, |conn| -> Result<i64, AppError> {
        crate::db::lock_row(conn, "tenders", input.tender_id)?;
        let t = crate::tenders::find_row(conn, input.tender_id).map_err(|e| match e {
            AppError::NotFound => AppError::field(
                "tender_id",
                "exists",
                "没有这个招标项目。",
                "There is no such tender.",
            ),
            e => e,
        })?;
        if let Some(existing) = of_tender(conn, t.id)? {
            return Err(AppError::conflict(
                "contract_exists",
                format!("该项目已有合同（#{existing}）。"),
                format!("This tender already has a contract (#{existing})."),
            ));
        }
        if t.state() != TenderState::Awarded {
            return Err(AppError::conflict(
                "tender_state",
                "只有已定标（质疑期结束）的项目可以创建合同。",
                "A contract is created only from a final award (after the challenge period).",
            ));
        }
        // An open challenge that may affect the result (a process challenge can come after the award)
        // suspends the contract (实施条例 Art 54).
        crate::tenders::evaluation::refuse_if_suspended(
            conn,
            t.id,
            crate::domain::tender::Suspendable::Award,
        )?;
        let mut c = Checks::new();
        let contract_no = c.text("contract_no", &input.contract_no, 40);
        let start = c.required_date("term_start", &input.term_start);
        // The signing clock runs from the award letter, issued with the result notice (政府采购法 Art 46).
        let awarded_on = t
            .result_published_at
            .or(t.awarded_at)
            .map(|a| crate::clock::beijing_date(a.and_utc()))
            .unwrap_or_else(|| crate::clock::beijing_date(now));
        if let Some(s) = start
            && s < awarded_on
        {
            c.add(
                "term_start",
                "after_award",
                "服务期不能早于中标（成交）通知书发出之日。",
                "The term cannot start before the award letter.",
            );
        }
        let appropriation = match input.appropriation_id {
            Some(a) => Some(a),
            None => crate::ledger::tenders::funding(conn, t.id)?.map(|f| f.appropriation_id),
        };
        if let Some(a) = appropriation {
            check_appropriation(conn, &mut c, a, &t.field)?;
        }
        let exists: bool = ct::table
            .filter(ct::contract_no.eq(&contract_no))
            .select(ct::id)
            .first::<i64>(conn)
            .optional()?
            .is_some();
        if exists {
            c.add(
                "contract_no",
                "unique",
                "合同编号已被使用。",
                "That contract number is taken.",
            );
        }
        c.finish()?;
        let bid_id = t
            .award_bid_id
            .ok_or_else(|| AppError::internal("an awarded tender without its bid"))?;
        let opened: Option<String> = bids::table
            .find(bid_id)
            .select(bids::opened_json)
            .first(conn)?;
        let content: crate::tenders::bids::BidContent = opened
            .as_deref()
            .and_then(|j| serde_json::from_str(j).ok())
            .ok_or_else(|| AppError::internal("the winning bid was not opened"))?;
        // The award's price: a negotiation's final quote (74号令 Art 33), else the bid's price; the winning
        // response's budget lines follow it so they still sum to the amount.
        let amount = crate::tenders::evaluation::negotiation::award_price(conn, bid_id)?;
        let budget =
            crate::domain::tender::scale_budget(&content.budget, content.price_amount(), amount);
        let template = t.instalments();
        let amounts = crate::domain::tender::instalment_amounts(amount, &template)
            .map_err(|e| AppError::internal(format!("instalments: {e}")))?;
        let start = start.expect("checked");
        let ts = crate::db::now_micros(now);
        let id: i64 = diesel::insert_into(ct::table)
            .values((
                ct::tender_id.eq(t.id),
                ct::bid_id.eq(bid_id),
                ct::organisation_id.eq(content.organisation_id),
                ct::appropriation_id.eq(appropriation),
                ct::contract_no.eq(&contract_no),
                ct::title.eq(&t.title),
                ct::amount_fen.eq(amount.get()),
                ct::term_start.eq(start),
                ct::term_end.eq(rules::term_end(start, t.term_months.max(1) as u32)),
                ct::budget_lines.eq(serde_json::to_string(&budget).expect("json")),
                ct::targets.eq(serde_json::to_string(&content.targets).expect("json")),
                ct::state.eq(State::Draft.as_str()),
                ct::awarded_on.eq(awarded_on),
                ct::created_by.eq(user),
                ct::created_at.eq(ts),
                ct::updated_at.eq(ts),
            ))
            .returning(ct::id)
            .get_result(conn)?;
        let count = template.len();
        for (i, (it, a)) in template.iter().zip(&amounts).enumerate() {
            diesel::insert_into(ci::table)
                .values((
                    ci::contract_id.eq(id),
                    ci::no.eq(i as i32 + 1),
                    ci::milestone.eq(&it.milestone),
                    ci::pct.eq(it.pct.normalize().to_string()),
                    ci::amount_fen.eq(a.get()),
                    // Only the first instalment can be a prepayment on signing, and never the only one.
                    ci::on_signing
                        .eq(i == 0 && count > 1 && rules::is_signing_milestone(&it.milestone)),
                ))
                .execute(conn)?;
        }
        audit(
            conn,
            actor,
            now,
            "contract.create",
            id,
            serde_json::json!({
                "tender_id": t.id, "contract_no": contract_no, "amount_fen": amount.get(),
                "term_start": start.to_string(), "appropriation_id": appropriation,
            }),
        )?;
        Ok(id)
    })?;
    get(conn, ctx, Reader::Staff, id)
}

/// The signing.
#[derive(Clone, Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignInput {
    /// The day both parties signed (YYYY-MM-DD), between the award and today.
    pub signed_on: String,
    /// The appropriation, when the draft names none.
    pub appropriation_id: Option<i64>,
}

fn entry(
    date: NaiveDate,
    kind: Kind,
    memo: String,
    refs: Refs,
    key: String,
    lines: Vec<(String, i64)>,
) -> NewEntry {
    NewEntry {
        date,
        kind,
        memo,
        refs,
        idem_key: key,
        lines: lines
            .into_iter()
            .map(|(account, amount)| Line { account, amount })
            .collect(),
    }
}

/// Post the accrual of one instalment (its milestone accepted): the budget moves from committed to
/// expended and the organisation is owed the amount.
fn accrue(
    conn: &mut DbConn,
    actor: &Actor,
    now: DateTime<Utc>,
    row: &ContractRow,
    bucket: &Bucket,
    i: &InstalmentRow,
    date: NaiveDate,
) -> Result<(), AppError> {
    if i.amount_fen == 0 {
        return Ok(());
    }
    let a = i.amount_fen;
    post(
        conn,
        actor,
        now,
        &entry(
            date,
            Kind::Accrual,
            format!(
                "合同 {} 第 {} 期（{}）验收确认",
                row.contract_no, i.no, i.milestone
            ),
            Refs {
                contract: Some(row.id),
                instalment: Some(i.id),
                appropriation: row.appropriation_id,
                tender: Some(row.tender_id),
                ..Default::default()
            },
            format!("contract:{}:instalment:{}:accrual", row.id, i.no),
            vec![
                (Account::Budget(Stage::Expended, bucket.clone()).name(), a),
                (Account::Budget(Stage::Committed, bucket.clone()).name(), -a),
                (Account::Expenses(bucket.clone()).name(), a),
                (Account::Payable(row.organisation_id).name(), -a),
            ],
        ),
    )?;
    Ok(())
}

fn check_invariant(conn: &mut DbConn, row: &ContractRow) -> Result<(), AppError> {
    rules::check_progress(progress(conn, row)?).map_err(crate::ledger::refusal)
}

/// E-mail the organisation's contacts (through the outbox, in the transaction).
pub(super) fn notify<E: crate::mail::Email>(
    conn: &mut DbConn,
    ctx: &Ctx,
    now: DateTime<Utc>,
    org: i64,
    make: impl Fn(String) -> E,
) -> QueryResult<()> {
    if !ctx.send_mail {
        return Ok(());
    }
    for (name, email) in crate::tenders::contacts(conn, &[org])? {
        crate::mail::enqueue(conn, now, &email, &make(name))?;
    }
    Ok(())
}

/// Sign a draft (bureau): commits the amount in its budget (from the tender's reservation, else from the
/// available budget: 422 `available_non_negative` on `appropriation_id` when short), accrues a signing
/// instalment, publishes the contract notice today, and moves the tender to `contracted`. Signing later
/// than 30 days after the award is allowed and flagged (政府采购法 Art 46).
pub fn sign(
    conn: &mut DbConn,
    ctx: &Ctx,
    actor: &Actor,
    now: DateTime<Utc>,
    id: i64,
    input: &SignInput,
) -> Result<ContractView, AppError> {
    let today = crate::clock::beijing_date(now);
    crate::db::write_tx(conn, |conn| -> Result<(), AppError> {
        crate::db::lock_row(conn, "contracts", id)?;
        let mut row = find_row(conn, id)?;
        if row.state() != State::Draft {
            return Err(wrong_state(row.state(), "签订", "be signed"));
        }
        // An open challenge that may affect the result suspends signing (实施条例 Art 54).
        crate::tenders::evaluation::refuse_if_suspended(
            conn,
            row.tender_id,
            crate::domain::tender::Suspendable::Award,
        )?;
        let field: String = tenders::table
            .find(row.tender_id)
            .select(tenders::field)
            .first(conn)?;
        let mut c = Checks::new();
        let signed_on = c.required_date("signed_on", &input.signed_on);
        if let Some(d) = signed_on
            && (d < row.awarded_on || d > today)
        {
            c.add(
                "signed_on",
                "range",
                "签约日期须在定标之后、今天之前。",
                "The signing date lies between the award and today.",
            );
        }
        let appropriation = input.appropriation_id.or(row.appropriation_id);
        match appropriation {
            Some(a) => check_appropriation(conn, &mut c, a, &field)?,
            None => c.add(
                "appropriation_id",
                "required",
                "签订合同须指定所用预算指标。",
                "Name the appropriation the contract draws on.",
            ),
        }
        c.finish()?;
        let (signed_on, appropriation) =
            (signed_on.expect("checked"), appropriation.expect("checked"));
        let bucket = crate::ledger::appropriations::bucket(conn, appropriation)?
            .ok_or(AppError::NotFound)?;
        row.appropriation_id = Some(appropriation);
        let refs = Refs {
            contract: Some(row.id),
            tender: Some(row.tender_id),
            appropriation: Some(appropriation),
            ..Default::default()
        };
        let amount = row.amount_fen;
        let reserved_acct = Account::Budget(Stage::Reserved, bucket.clone()).name();
        let available_acct = Account::Budget(Stage::Available, bucket.clone()).name();
        let committed_acct = Account::Budget(Stage::Committed, bucket.clone()).name();
        // A reservation the tender still holds in another budget than the contract's goes back there.
        if let Some(f) = crate::ledger::tenders::funding(conn, row.tender_id)?
            && f.appropriation_id != appropriation
            && f.reserved_fen > 0
            && let Some(other) = crate::ledger::appropriations::bucket(conn, f.appropriation_id)?
            && other != bucket
        {
            post(
                conn,
                actor,
                now,
                &entry(
                    signed_on,
                    Kind::Release,
                    format!("合同 {} 签订于其他预算：释放原预留", row.contract_no),
                    Refs {
                        contract: None,
                        appropriation: Some(f.appropriation_id),
                        ..refs.clone()
                    },
                    format!("contract:{id}:other-budget-release"),
                    vec![
                        (
                            Account::Budget(Stage::Available, other.clone()).name(),
                            f.reserved_fen,
                        ),
                        (
                            Account::Budget(Stage::Reserved, other).name(),
                            -f.reserved_fen,
                        ),
                    ],
                ),
            )?;
        }
        // What the tender still has reserved in this budget covers the commitment; anything else comes
        // from the available budget (a tender that named no appropriation, or another one).
        let reserved = crate::ledger::tenders::reserved_for(conn, row.tender_id, &reserved_acct)?;
        let from_reserved = reserved.clamp(0, amount);
        if reserved > from_reserved {
            post(
                conn,
                actor,
                now,
                &entry(
                    signed_on,
                    Kind::Release,
                    format!("合同 {} 签订：释放多余预留", row.contract_no),
                    Refs {
                        contract: None,
                        ..refs.clone()
                    },
                    format!("contract:{id}:excess-release"),
                    vec![
                        (available_acct.clone(), reserved - from_reserved),
                        (reserved_acct.clone(), from_reserved - reserved),
                    ],
                ),
            )?;
        }
        let memo = format!("合同 {} 签订：预算承诺", row.contract_no);
        if from_reserved > 0 {
            post(
                conn,
                actor,
                now,
                &entry(
                    signed_on,
                    Kind::Commitment,
                    memo.clone(),
                    refs.clone(),
                    format!("contract:{id}:commitment"),
                    vec![
                        (committed_acct.clone(), from_reserved),
                        (reserved_acct.clone(), -from_reserved),
                    ],
                ),
            )?;
        }
        let rest = amount - from_reserved;
        if rest > 0 {
            let e = entry(
                signed_on,
                Kind::Commitment,
                memo,
                refs.clone(),
                format!("contract:{id}:commitment-available"),
                vec![(committed_acct, rest), (available_acct.clone(), -rest)],
            );
            if let Err(e) = post(conn, actor, now, &e) {
                return Err(match e {
                    AppError::Validation(v)
                        if v.iter().any(|f| f.rule == "available_non_negative") =>
                    {
                        let available: i64 = crate::db::schema::ledger_balances::table
                            .find(&available_acct)
                            .select(crate::db::schema::ledger_balances::balance_fen)
                            .first(conn)
                            .optional()?
                            .unwrap_or(0);
                        AppError::Validation(vec![FieldError::new(
                            "appropriation_id",
                            "available_non_negative",
                            format!(
                                "预算指标可用额不足：可用 {} 元，合同尚需 {} 元。",
                                crate::money::yuan(available),
                                crate::money::yuan(rest)
                            ),
                            format!(
                                "Not enough available in the appropriation: ¥{} available, the contract needs ¥{}.",
                                crate::money::yuan(available),
                                crate::money::yuan(rest)
                            ),
                        )])
                    }
                    e => e,
                });
            }
        }
        let user = actor.id;
        for i in instalments(conn, id)?.iter().filter(|i| i.on_signing) {
            accrue(conn, actor, now, &row, &bucket, i, signed_on)?;
            diesel::update(ci::table.find(i.id))
                .set((
                    ci::accepted_on.eq(signed_on),
                    ci::accepted_by.eq(user),
                    ci::accepted_at.eq(crate::db::now_micros(now)),
                ))
                .execute(conn)?;
        }
        diesel::update(ct::table.find(id))
            .set((
                ct::state.eq(State::Signed.as_str()),
                ct::appropriation_id.eq(appropriation),
                ct::signed_on.eq(signed_on),
                ct::notice_on.eq(today),
                ct::signed_by.eq(user),
                ct::updated_at.eq(crate::db::now_micros(now)),
            ))
            .execute(conn)?;
        // The tender's `contracted` follows from the contract.
        diesel::update(tenders::table.find(row.tender_id))
            .set(tenders::contract_signed_on.eq(signed_on))
            .execute(conn)?;
        crate::tenders::move_state(
            conn,
            actor,
            now,
            row.tender_id,
            TenderState::Awarded,
            TenderState::Contracted,
            Some(crate::domain::tender::Note::ContractSigned {
                contract_no: row.contract_no.clone(),
            }),
        )?;
        check_invariant(conn, &row)?;
        audit(
            conn,
            actor,
            now,
            "contract.sign",
            id,
            serde_json::json!({
                "signed_on": signed_on.to_string(), "appropriation_id": appropriation,
                "late": rules::signed_late(row.awarded_on, signed_on),
            }),
        )?;
        let url = ctx.url(id);
        notify(conn, ctx, now, row.organisation_id, |name| {
            mails::ContractSigned {
                recipient: name,
                contract_no: row.contract_no.clone(),
                title: row.title.clone(),
                what_zh: format!(
                    "合同已签订（{signed_on}），金额 {} 元，服务期 {} 至 {}。",
                    crate::money::yuan_grouped(row.amount_fen),
                    row.term_start,
                    row.term_end
                ),
                what_en: format!(
                    "The contract was signed on {signed_on}: ¥{}, term {} to {}.",
                    crate::money::yuan_grouped(row.amount_fen),
                    row.term_start,
                    row.term_end
                ),
                url: url.clone(),
            }
        })?;
        Ok(())
    })?;
    get(conn, ctx, Reader::Staff, id)
}

/// Start the service (bureau): signed → in progress.
pub fn start(
    conn: &mut DbConn,
    ctx: &Ctx,
    actor: &Actor,
    now: DateTime<Utc>,
    id: i64,
) -> Result<ContractView, AppError> {
    crate::db::write_tx(conn, |conn| -> Result<(), AppError> {
        crate::db::lock_row(conn, "contracts", id)?;
        let row = find_row(conn, id)?;
        if row.state() != State::Signed {
            return Err(wrong_state(row.state(), "开始履约", "start"));
        }
        diesel::update(ct::table.find(id))
            .set((
                ct::state.eq(State::InProgress.as_str()),
                ct::updated_at.eq(crate::db::now_micros(now)),
            ))
            .execute(conn)?;
        audit(
            conn,
            actor,
            now,
            "contract.start",
            id,
            serde_json::json!({}),
        )?;
        Ok(())
    })?;
    get(conn, ctx, Reader::Staff, id)
}

/// A milestone's acceptance.
#[derive(Clone, Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AcceptInput {
    /// The day of the acceptance (YYYY-MM-DD), from the signing to today.
    pub accepted_on: String,
    /// The evaluator's effect score (绩效评价的效果得分), 0–100 with at most one decimal, as text (e.g.
    /// `"86.5"`). It is one of the four weighted components of the milestone's score (docs/CONTRACTS.md,
    /// Performance); the grade follows from the weighted score (≥ 90 优, ≥ 80 良, ≥ 60 中, < 60 差).
    pub effect_score: String,
    /// Who evaluated (a person or a third-party evaluator).
    pub evaluator: String,
    /// SHA-256 of the evaluation report file, 64 hexadecimal digits: the uploaded report's when it comes
    /// with the acceptance (then it may be left out), else the report to upload afterwards.
    #[serde(default)]
    pub report_sha256: String,
}

/// Accept the milestone of instalment `no` (bureau), in schedule order: accrues the instalment, and the
/// contract becomes mid-term accepted (final accepted for the last milestone). The performance evaluation
/// at the acceptance date (`performance::evaluate_at`, read inside the transaction) gives the score and the
/// grade, and is kept with the instalment.
pub fn accept(
    conn: &mut DbConn,
    ctx: &Ctx,
    actor: &Actor,
    now: DateTime<Utc>,
    id: i64,
    no: i32,
    input: &AcceptInput,
) -> Result<ContractView, AppError> {
    let today = crate::clock::beijing_date(now);
    crate::db::write_tx(conn, |conn| -> Result<(), AppError> {
        crate::db::lock_row(conn, "contracts", id)?;
        let row = find_row(conn, id)?;
        if !matches!(
            row.state(),
            State::Signed | State::InProgress | State::MidtermAccepted
        ) {
            return Err(wrong_state(row.state(), "验收", "accept a milestone"));
        }
        let all = instalments(conn, id)?;
        let Some(i) = all.iter().find(|i| i.no == no) else {
            return Err(AppError::NotFound);
        };
        if i.accepted_on.is_some() {
            return Err(AppError::conflict(
                "accepted_once",
                format!("第 {no} 期已验收。"),
                format!("Instalment {no} was already accepted."),
            ));
        }
        if let Some(before) = all.iter().find(|x| x.no < no && x.accepted_on.is_none()) {
            return Err(AppError::conflict(
                "milestone_order",
                format!("请先验收第 {} 期（{}）。", before.no, before.milestone),
                format!(
                    "Accept instalment {} ({}) first.",
                    before.no, before.milestone
                ),
            ));
        }
        let mut c = Checks::new();
        let accepted_on = c.required_date("accepted_on", &input.accepted_on);
        if let (Some(d), Some(s)) = (accepted_on, row.signed_on)
            && (d < s || d > today)
        {
            c.add(
                "accepted_on",
                "range",
                "验收日期须在签约之后、今天之前。",
                "The acceptance lies between the signing and today.",
            );
        }
        let effect = match input.effect_score.trim().parse::<Decimal>() {
            Ok(s) if rules::score_ok(s) => Some(s),
            _ => {
                c.add(
                    "effect_score",
                    "range",
                    "效果得分为 0–100，至多一位小数。",
                    "The effect score is 0–100 with at most one decimal.",
                );
                None
            }
        };
        let evaluator = c.text("evaluator", &input.evaluator, 60);
        let report = input.report_sha256.trim().to_ascii_lowercase();
        if !crate::domain::text::is_sha256_hex(&report) {
            c.add(
                "report_sha256",
                "sha256",
                "请上传评估报告文件（或填写其 SHA-256，64 位十六进制）。",
                "Upload the evaluation report (or give its SHA-256, 64 hexadecimal digits).",
            );
        }
        c.finish()?;
        let (accepted_on, effect) = (accepted_on.expect("checked"), effect.expect("checked"));
        let evaluation = super::performance::evaluate_at(
            conn,
            ctx,
            &row,
            accepted_on,
            no as usize >= all.len(),
            Some(effect),
        )?;
        let score = evaluation
            .score
            .ok_or_else(|| AppError::internal("an evaluation with its effect has a score"))?;
        let grade = Grade::of(score);
        let appropriation = row
            .appropriation_id
            .ok_or_else(|| AppError::internal("a signed contract without its appropriation"))?;
        let bucket = crate::ledger::appropriations::bucket(conn, appropriation)?
            .ok_or(AppError::NotFound)?;
        accrue(conn, actor, now, &row, &bucket, i, accepted_on)?;
        diesel::update(ci::table.find(i.id))
            .set((
                ci::accepted_on.eq(accepted_on),
                ci::score.eq(score.normalize().to_string()),
                ci::grade.eq(grade.as_str()),
                ci::performance.eq(serde_json::to_string(&evaluation).expect("json")),
                ci::evaluator.eq(&evaluator),
                ci::report_sha256.eq(&report),
                ci::accepted_by.eq(actor.id),
                ci::accepted_at.eq(crate::db::now_micros(now)),
            ))
            .execute(conn)?;
        let next = rules::after_acceptance(no as usize, all.len());
        diesel::update(ct::table.find(id))
            .set((
                ct::state.eq(next.as_str()),
                ct::updated_at.eq(crate::db::now_micros(now)),
            ))
            .execute(conn)?;
        check_invariant(conn, &row)?;
        audit(
            conn,
            actor,
            now,
            "contract.accept",
            id,
            serde_json::json!({
                "instalment": no, "accepted_on": accepted_on.to_string(),
                "effect_score": effect.normalize().to_string(), "score": score.to_string(),
                "grade": grade.as_str(), "components": &evaluation.components,
                "evaluator": evaluator, "report_sha256": report,
            }),
        )?;
        let url = ctx.url(id);
        notify(conn, ctx, now, row.organisation_id, |name| {
            mails::MilestoneAccepted {
                recipient: name,
                contract_no: row.contract_no.clone(),
                title: row.title.clone(),
                what_zh: format!(
                    "第 {no} 期（{}）已于 {accepted_on} 验收，评分 {score}，等级 {}；应付 {} 元。",
                    i.milestone,
                    grade.as_str(),
                    crate::money::yuan_grouped(i.amount_fen)
                ),
                what_en: format!(
                    "Milestone {no} ({}) was accepted on {accepted_on}: score {score}, grade {}; ¥{} is payable.",
                    i.milestone,
                    grade.label(false),
                    crate::money::yuan_grouped(i.amount_fen)
                ),
                url: url.clone(),
            }
        })?;
        Ok(())
    })?;
    get(conn, ctx, Reader::Staff, id)
}

/// Ending a contract early.
#[derive(Clone, Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TerminateInput {
    pub reason: String,
    /// The day it ends (YYYY-MM-DD), from the signing to today; today when absent.
    pub ended_on: Option<String>,
}

/// Release what a contract still has committed and not accrued (termination, or closing under budget).
fn release_rest(
    conn: &mut DbConn,
    actor: &Actor,
    now: DateTime<Utc>,
    row: &ContractRow,
    date: NaiveDate,
    why: &str,
) -> Result<i64, AppError> {
    let p = progress(conn, row)?;
    let rest = p.committed - p.accrued;
    if rest <= 0 {
        return Ok(0);
    }
    let appropriation = row
        .appropriation_id
        .ok_or_else(|| AppError::internal("a signed contract without its appropriation"))?;
    let bucket =
        crate::ledger::appropriations::bucket(conn, appropriation)?.ok_or(AppError::NotFound)?;
    post(
        conn,
        actor,
        now,
        &entry(
            date,
            Kind::Release,
            format!("合同 {} {why}：释放未确认的承诺", row.contract_no),
            Refs {
                contract: Some(row.id),
                appropriation: Some(appropriation),
                tender: Some(row.tender_id),
                ..Default::default()
            },
            format!("contract:{}:release", row.id),
            vec![
                (
                    Account::Budget(Stage::Available, bucket.clone()).name(),
                    rest,
                ),
                (Account::Budget(Stage::Committed, bucket).name(), -rest),
            ],
        ),
    )?;
    Ok(rest)
}

/// Terminate a signed contract with a reason (bureau): the commitment not yet accrued is released to the
/// available budget; what was accepted stays owed and payable.
pub fn terminate(
    conn: &mut DbConn,
    ctx: &Ctx,
    actor: &Actor,
    now: DateTime<Utc>,
    id: i64,
    input: &TerminateInput,
) -> Result<ContractView, AppError> {
    let today = crate::clock::beijing_date(now);
    crate::db::write_tx(conn, |conn| -> Result<(), AppError> {
        crate::db::lock_row(conn, "contracts", id)?;
        let row = find_row(conn, id)?;
        if !row.state().is_live() {
            return Err(wrong_state(row.state(), "终止", "be terminated"));
        }
        let mut c = Checks::new();
        let reason = c.text("reason", &input.reason, 500);
        let ended_on = match input.ended_on.as_deref().filter(|s| !s.trim().is_empty()) {
            None => Some(today),
            Some(d) => c.required_date("ended_on", d),
        };
        if let (Some(d), Some(s)) = (ended_on, row.signed_on)
            && (d < s || d > today)
        {
            c.add(
                "ended_on",
                "range",
                "终止日期须在签约之后、今天之前。",
                "The end lies between the signing and today.",
            );
        }
        c.finish()?;
        let ended_on = ended_on.expect("checked");
        let released = release_rest(conn, actor, now, &row, ended_on, "终止")?;
        diesel::update(ct::table.find(id))
            .set((
                ct::state.eq(State::Terminated.as_str()),
                ct::end_reason.eq(&reason),
                ct::ended_on.eq(ended_on),
                ct::updated_at.eq(crate::db::now_micros(now)),
            ))
            .execute(conn)?;
        check_invariant(conn, &row)?;
        audit(
            conn,
            actor,
            now,
            "contract.terminate",
            id,
            serde_json::json!({"reason": reason, "ended_on": ended_on.to_string(), "released_fen": released}),
        )?;
        Ok(())
    })?;
    get(conn, ctx, Reader::Staff, id)
}

/// Close a finally accepted contract whose instalments are all paid (bureau); any commitment left is
/// released.
pub fn close(
    conn: &mut DbConn,
    ctx: &Ctx,
    actor: &Actor,
    now: DateTime<Utc>,
    id: i64,
) -> Result<ContractView, AppError> {
    let today = crate::clock::beijing_date(now);
    crate::db::write_tx(conn, |conn| -> Result<(), AppError> {
        crate::db::lock_row(conn, "contracts", id)?;
        let row = find_row(conn, id)?;
        if row.state() != State::FinalAccepted {
            return Err(wrong_state(row.state(), "结项", "be closed"));
        }
        let p = progress(conn, &row)?;
        if p.paid < p.accrued {
            return Err(AppError::conflict(
                "unpaid_instalments",
                format!(
                    "尚有 {} 元已验收未支付，付清后才能结项。",
                    crate::money::yuan_grouped(p.accrued - p.paid)
                ),
                format!(
                    "¥{} is accepted but unpaid: pay it before closing.",
                    crate::money::yuan_grouped(p.accrued - p.paid)
                ),
            ));
        }
        let released = release_rest(conn, actor, now, &row, today, "结项")?;
        diesel::update(ct::table.find(id))
            .set((
                ct::state.eq(State::Closed.as_str()),
                ct::ended_on.eq(today),
                ct::updated_at.eq(crate::db::now_micros(now)),
            ))
            .execute(conn)?;
        check_invariant(conn, &row)?;
        audit(
            conn,
            actor,
            now,
            "contract.close",
            id,
            serde_json::json!({"released_fen": released}),
        )?;
        Ok(())
    })?;
    get(conn, ctx, Reader::Staff, id)
}

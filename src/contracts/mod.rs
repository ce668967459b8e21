//! Contracts (issue 10; docs/CONTRACTS.md): the bureau creates a contract from a final award and signs it
//! (the ledger's commitment; the tender becomes `contracted`; the public contract notice appears), accepts
//! its milestones (accruals), finance pays its instalments (disbursements), and the organisation reports
//! its spending against the budget lines. Every step is one write transaction with its ledger entries, its
//! audit event and its e-mails; every refusal names the field and the rule and writes nothing.
//!
//! Here: the types, reading a contract and the list; `lifecycle` (create, sign, start, accept, terminate,
//! close), `payments` (pay an instalment).

pub mod flags;
pub mod lifecycle;
pub mod payments;
pub mod performance;
pub mod spending;

use std::sync::Arc;

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use crate::auth::Role;
use crate::db::schema::{
    appropriations as ap, contract_instalments as ci, contracts as ct, ledger_entries as le,
    ledger_postings as lp, organisations, payments as pm, tenders, users,
};
use crate::db::{DbConn, Paged, Paging};
use crate::domain::calendar::BusinessCalendar;
use crate::domain::contract::{self as rules, Progress, State};
use crate::domain::ledger::{Account, Stage};
use crate::domain::tender::{BudgetLine, Targets};
use crate::error::AppError;

pub use lifecycle::*;
pub use payments::*;

/// What contracts need from the configuration.
#[derive(Clone, Debug)]
pub struct Ctx {
    pub cal: Arc<BusinessCalendar>,
    pub ledger: crate::ledger::Settings,
    /// Days after acceptance within which an instalment is due (`SANSHE_PAYMENT_DUE_DAYS`, default 30).
    pub payment_due_days: i64,
    pub public_url: String,
    /// E-mail organisations about their contracts (off while the demo's history is seeded).
    pub send_mail: bool,
    /// Weights of an acceptance's performance evaluation (`SANSHE_PERFORMANCE_WEIGHTS`).
    pub weights: crate::domain::performance::Weights,
}

impl Ctx {
    pub fn from_config(c: &crate::config::Config) -> Ctx {
        Ctx {
            cal: c.calendar.clone(),
            ledger: c.ledger.clone(),
            payment_due_days: c.payment_due_days,
            public_url: c.public_url.clone(),
            send_mail: true,
            weights: c.performance_weights,
        }
    }

    pub fn url(&self, id: i64) -> String {
        format!("{}/contracts/{id}", self.public_url.trim_end_matches('/'))
    }
}

/// Who reads a contract: staff (bureau, finance, administrators) everything; an organisation its own
/// contracts; everyone else only what the contract notice shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reader {
    Staff,
    Org(i64),
    Public,
}

impl Reader {
    /// The reader a signed-in user (or, with `None`, a visitor) is.
    pub fn of(user: Option<&crate::auth::CurrentUser>) -> Reader {
        match user.map(|u| (u.role, u.org_id)) {
            Some((Role::Bureau | Role::Finance | Role::Admin, _)) => Reader::Staff,
            Some((Role::Org, Some(org))) => Reader::Org(org),
            _ => Reader::Public,
        }
    }

    /// May this reader see the whole contract (instalments, acceptances, payments, spending, flags)?
    pub fn reads_whole(self, organisation: i64) -> bool {
        match self {
            Reader::Staff => true,
            Reader::Org(o) => o == organisation,
            Reader::Public => false,
        }
    }
}

#[derive(Queryable, Selectable, Clone, Debug)]
#[diesel(table_name = ct)]
pub struct ContractRow {
    pub id: i64,
    pub tender_id: i64,
    pub bid_id: i64,
    pub organisation_id: i64,
    pub appropriation_id: Option<i64>,
    pub contract_no: String,
    pub title: String,
    pub amount_fen: i64,
    pub term_start: NaiveDate,
    pub term_end: NaiveDate,
    pub budget_lines: String,
    pub targets: String,
    pub state: String,
    pub awarded_on: NaiveDate,
    pub signed_on: Option<NaiveDate>,
    pub notice_on: Option<NaiveDate>,
    pub signed_by: Option<i64>,
    pub end_reason: Option<String>,
    pub ended_on: Option<NaiveDate>,
    pub created_by: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl ContractRow {
    pub fn state(&self) -> State {
        State::parse(&self.state).unwrap_or(State::Draft)
    }
    pub fn budget_lines(&self) -> Vec<BudgetLine> {
        serde_json::from_str(&self.budget_lines).unwrap_or_default()
    }
    pub fn targets(&self) -> Option<Targets> {
        serde_json::from_str(&self.targets).ok()
    }
}

#[derive(Queryable, Selectable, Clone, Debug)]
#[diesel(table_name = ci)]
pub struct InstalmentRow {
    pub id: i64,
    pub contract_id: i64,
    pub no: i32,
    pub milestone: String,
    pub pct: String,
    pub amount_fen: i64,
    pub on_signing: bool,
    pub accepted_on: Option<NaiveDate>,
    pub score: Option<String>,
    pub grade: Option<String>,
    pub evaluator: Option<String>,
    pub report_sha256: Option<String>,
    pub accepted_by: Option<i64>,
    pub accepted_at: Option<NaiveDateTime>,
    /// The performance evaluation recorded with the acceptance (JSON of `domain::performance::Evaluation`).
    pub performance: Option<String>,
}

#[derive(Queryable, Selectable, Clone, Debug)]
#[diesel(table_name = pm)]
pub struct PaymentRow {
    pub id: i64,
    pub contract_id: i64,
    pub instalment_id: i64,
    pub amount_fen: i64,
    pub voucher_no: String,
    pub paid_on: NaiveDate,
    pub idem_key: String,
    pub request_hash: String,
    pub ledger_seq: i64,
    pub paid_by: i64,
    pub created_at: NaiveDateTime,
}

/// A payment as shown.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct PaymentView {
    pub id: i64,
    pub instalment_id: i64,
    pub amount_fen: i64,
    pub amount: String,
    pub voucher_no: String,
    #[schema(value_type = String)]
    pub paid_on: NaiveDate,
    /// The ledger entry of the disbursement.
    pub ledger_seq: i64,
    pub paid_by: String,
    /// Paid more than the due days after acceptance.
    pub late: bool,
}

/// One instalment with its acceptance and payment.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct InstalmentView {
    pub id: i64,
    pub no: i32,
    pub milestone: String,
    /// Share of the contract amount, percent.
    pub pct: String,
    pub amount_fen: i64,
    pub amount: String,
    /// Accrues on signing (a prepayment).
    pub on_signing: bool,
    /// `pending`, `accepted` (accrued, payable) or `paid`.
    pub status: String,
    #[schema(value_type = Option<String>)]
    pub accepted_on: Option<NaiveDate>,
    /// The weighted performance score (`domain::performance`), 0–100 with one decimal.
    pub score: Option<String>,
    /// 优 / 良 / 中 / 差.
    pub grade: Option<String>,
    /// The evaluation behind the score: each target's attainment at the acceptance, the components and
    /// the weights (absent for the signing, and for acceptances recorded before evaluations were kept).
    pub performance: Option<crate::domain::performance::Evaluation>,
    pub evaluator: Option<String>,
    pub report_sha256: Option<String>,
    pub accepted_by: Option<String>,
    /// The day payment falls due (acceptance + due days).
    #[schema(value_type = Option<String>)]
    pub due_on: Option<NaiveDate>,
    pub payment: Option<PaymentView>,
}

/// A contract's money on the ledger, in fen and yuan.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Money {
    pub amount_fen: i64,
    pub committed_fen: i64,
    pub accrued_fen: i64,
    pub paid_fen: i64,
    pub amount: String,
    pub committed: String,
    pub accrued: String,
    pub paid: String,
    /// Accrued and not yet paid: owed to the organisation.
    pub payable: String,
}

impl Money {
    fn of(p: Progress) -> Money {
        let y = crate::money::yuan_grouped;
        Money {
            amount_fen: p.amount,
            committed_fen: p.committed,
            accrued_fen: p.accrued,
            paid_fen: p.paid,
            amount: y(p.amount),
            committed: y(p.committed),
            accrued: y(p.accrued),
            paid: y(p.paid),
            payable: y(p.accrued - p.paid),
        }
    }
}

/// A contract as its readers see it. The public (and any organisation for another's contract) gets the
/// contract notice only: `instalments`, `budget_lines` and `targets` are empty and `money` has only the
/// amount and what was paid.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct ContractView {
    pub id: i64,
    pub contract_no: String,
    pub title: String,
    pub tender_id: i64,
    pub tender_code: String,
    pub field: String,
    pub organisation_id: i64,
    pub organisation: String,
    pub credit_code: Option<String>,
    pub state: String,
    pub state_label: String,
    #[schema(value_type = String)]
    pub term_start: NaiveDate,
    #[schema(value_type = String)]
    pub term_end: NaiveDate,
    #[schema(value_type = String)]
    pub awarded_on: NaiveDate,
    #[schema(value_type = Option<String>)]
    pub signed_on: Option<NaiveDate>,
    /// The day the contract notice (合同公告) appeared.
    #[schema(value_type = Option<String>)]
    pub notice_on: Option<NaiveDate>,
    pub end_reason: Option<String>,
    #[schema(value_type = Option<String>)]
    pub ended_on: Option<NaiveDate>,
    pub appropriation_id: Option<i64>,
    /// The budget it draws on, e.g. `2026:general:elderly`.
    pub bucket: Option<String>,
    pub money: Money,
    pub budget_lines: Vec<BudgetLine>,
    pub targets: Option<Targets>,
    pub instalments: Vec<InstalmentView>,
    /// Whether the reader sees the whole contract.
    pub whole: bool,
}

/// The contract's money from its ledger entries: committed = what sits in its budget's Committed and
/// Expended accounts (commitments less releases), accrued = Expended, paid = what left the treasury.
pub fn progress(conn: &mut DbConn, c: &ContractRow) -> QueryResult<Progress> {
    let postings: Vec<(String, i64)> = lp::table
        .inner_join(le::table)
        .filter(le::contract_id.eq(c.id))
        .select((lp::account, lp::amount_fen))
        .load(conn)?;
    let mut p = Progress {
        amount: c.amount_fen,
        ..Default::default()
    };
    for (account, amount) in postings {
        if let Some(a) = Account::parse(&account) {
            p.add_posting(&a, amount);
        }
    }
    Ok(p)
}

pub fn find_row(conn: &mut DbConn, id: i64) -> Result<ContractRow, AppError> {
    ct::table
        .find(id)
        .select(ContractRow::as_select())
        .first(conn)
        .optional()?
        .ok_or(AppError::NotFound)
}

pub fn instalments(conn: &mut DbConn, contract: i64) -> QueryResult<Vec<InstalmentRow>> {
    ci::table
        .filter(ci::contract_id.eq(contract))
        .order(ci::no.asc())
        .select(InstalmentRow::as_select())
        .load(conn)
}

pub(crate) fn user_names(
    conn: &mut DbConn,
    ids: &[i64],
) -> QueryResult<std::collections::HashMap<i64, String>> {
    Ok(users::table
        .filter(users::id.eq_any(ids))
        .select((users::id, users::display_name))
        .load::<(i64, String)>(conn)?
        .into_iter()
        .collect())
}

/// One contract for a reader: 404 for a draft unless staff, and for an organisation's draft of another.
pub fn get(
    conn: &mut DbConn,
    ctx: &Ctx,
    reader: Reader,
    id: i64,
) -> Result<ContractView, AppError> {
    let row = find_row(conn, id)?;
    if !row.state().is_public() && !matches!(reader, Reader::Staff) {
        return Err(AppError::NotFound);
    }
    view(conn, ctx, reader, row)
}

pub fn view(
    conn: &mut DbConn,
    ctx: &Ctx,
    reader: Reader,
    row: ContractRow,
) -> Result<ContractView, AppError> {
    let whole = reader.reads_whole(row.organisation_id);
    let (code, field): (String, String) = tenders::table
        .find(row.tender_id)
        .select((tenders::code, tenders::field))
        .first(conn)?;
    let (organisation, credit_code): (String, Option<String>) = organisations::table
        .find(row.organisation_id)
        .select((organisations::name, organisations::credit_code))
        .first(conn)?;
    let bucket = match row.appropriation_id {
        Some(a) => crate::ledger::appropriations::bucket(conn, a)?.map(|b| b.path()),
        None => None,
    };
    let p = progress(conn, &row)?;
    let mut money = Money::of(p);
    let mut instalments_v = Vec::new();
    if whole {
        let rows = instalments(conn, row.id)?;
        let pays: Vec<PaymentRow> = pm::table
            .filter(pm::contract_id.eq(row.id))
            .select(PaymentRow::as_select())
            .load(conn)?;
        let mut ids: Vec<i64> = rows.iter().filter_map(|i| i.accepted_by).collect();
        ids.extend(pays.iter().map(|p| p.paid_by));
        let names = user_names(conn, &ids)?;
        for i in rows {
            let payment = pays
                .iter()
                .find(|p| p.instalment_id == i.id)
                .map(|p| payment_view(p, &names, i.accepted_on, ctx.payment_due_days));
            instalments_v.push(InstalmentView {
                id: i.id,
                no: i.no,
                milestone: i.milestone.clone(),
                pct: i.pct.clone(),
                amount_fen: i.amount_fen,
                amount: crate::money::yuan_grouped(i.amount_fen),
                on_signing: i.on_signing,
                status: if payment.is_some() {
                    "paid"
                } else if i.accepted_on.is_some() {
                    "accepted"
                } else {
                    "pending"
                }
                .into(),
                accepted_on: i.accepted_on,
                score: i.score.clone(),
                grade: i.grade.clone(),
                performance: i
                    .performance
                    .as_deref()
                    .and_then(|j| serde_json::from_str(j).ok()),
                evaluator: i.evaluator.clone(),
                report_sha256: i.report_sha256.clone(),
                accepted_by: i.accepted_by.and_then(|u| names.get(&u).cloned()),
                due_on: i
                    .accepted_on
                    .map(|d| d + chrono::Duration::days(ctx.payment_due_days)),
                payment,
            });
        }
    } else {
        // The notice shows the amount and what was paid, nothing of the ledger's inner stages.
        money.committed_fen = 0;
        money.accrued_fen = 0;
        money.committed = String::new();
        money.accrued = String::new();
        money.payable = String::new();
    }
    let state = row.state();
    Ok(ContractView {
        id: row.id,
        contract_no: row.contract_no.clone(),
        title: row.title.clone(),
        tender_id: row.tender_id,
        tender_code: code,
        field,
        organisation_id: row.organisation_id,
        organisation,
        credit_code,
        state: state.as_str().into(),
        state_label: state.label(true).into(),
        term_start: row.term_start,
        term_end: row.term_end,
        awarded_on: row.awarded_on,
        signed_on: row.signed_on,
        notice_on: row.notice_on,
        end_reason: row.end_reason.clone(),
        ended_on: row.ended_on,
        appropriation_id: if whole { row.appropriation_id } else { None },
        bucket: if whole { bucket } else { None },
        money,
        budget_lines: if whole {
            row.budget_lines()
        } else {
            Vec::new()
        },
        targets: if whole { row.targets() } else { None },
        instalments: instalments_v,
        whole,
    })
}

fn payment_view(
    p: &PaymentRow,
    names: &std::collections::HashMap<i64, String>,
    accepted_on: Option<NaiveDate>,
    due_days: i64,
) -> PaymentView {
    PaymentView {
        id: p.id,
        instalment_id: p.instalment_id,
        amount_fen: p.amount_fen,
        amount: crate::money::yuan_grouped(p.amount_fen),
        voucher_no: p.voucher_no.clone(),
        paid_on: p.paid_on,
        ledger_seq: p.ledger_seq,
        paid_by: names.get(&p.paid_by).cloned().unwrap_or_default(),
        late: accepted_on.is_some_and(|a| rules::paid_late(a, p.paid_on, due_days)),
    }
}

/// Filters of the contract list.
#[derive(Clone, Debug, Default, Deserialize, Serialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ContractFilter {
    /// Words of the contract number, title or organisation name.
    pub q: Option<String>,
    /// One of the states (`draft`, `signed`, `in_progress`, …).
    pub state: Option<String>,
    /// The signing year.
    pub year: Option<i32>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

/// One line of the contract list.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct ContractLine {
    pub id: i64,
    pub contract_no: String,
    pub title: String,
    pub tender_id: i64,
    pub organisation_id: i64,
    pub organisation: String,
    pub state: String,
    pub state_label: String,
    pub amount_fen: i64,
    pub amount: String,
    pub paid_fen: i64,
    pub paid: String,
    #[schema(value_type = Option<String>)]
    pub signed_on: Option<NaiveDate>,
    #[schema(value_type = String)]
    pub term_end: NaiveDate,
}

/// The contracts a reader may list, newest first, filtered and paged in the database: staff all, an
/// organisation its own signed ones, the public the signed ones (the contract notices).
pub fn list(
    conn: &mut DbConn,
    reader: Reader,
    f: &ContractFilter,
) -> Result<Paged<ContractLine>, AppError> {
    let paging = Paging::new(f.page, f.per_page);
    let state = f
        .state
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            State::parse(s).ok_or_else(|| {
                AppError::field(
                    "state",
                    "one_of",
                    "没有这个合同状态。",
                    "There is no such contract state.",
                )
            })
        })
        .transpose()?;
    let q = f.q.as_deref().map(str::trim).filter(|s| !s.is_empty());
    let filtered = || {
        let mut b = ct::table.inner_join(organisations::table).into_boxed();
        match reader {
            Reader::Staff => {}
            Reader::Org(o) => b = b.filter(ct::organisation_id.eq(o)),
            Reader::Public => b = b.filter(ct::state.ne(State::Draft.as_str())),
        }
        if let Some(s) = state {
            b = b.filter(ct::state.eq(s.as_str()));
        }
        if let Some(y) = f.year {
            let (from, to) = (
                NaiveDate::from_ymd_opt(y, 1, 1),
                NaiveDate::from_ymd_opt(y, 12, 31),
            );
            if let (Some(from), Some(to)) = (from, to) {
                b = b.filter(ct::signed_on.between(from, to));
            }
        }
        if let Some(q) = q {
            let pat = crate::db::like_pattern(q);
            b = b.filter(
                crate::db::lower(ct::contract_no)
                    .like(pat.clone())
                    .escape('\\')
                    .or(crate::db::lower(ct::title).like(pat.clone()).escape('\\'))
                    .or(crate::db::lower(organisations::name).like(pat).escape('\\')),
            );
        }
        b
    };
    let total: i64 = filtered().count().get_result(conn)?;
    let rows: Vec<(ContractRow, String)> = filtered()
        .order(ct::id.desc())
        .offset(paging.offset())
        .limit(paging.limit())
        .select((ContractRow::as_select(), organisations::name))
        .load(conn)?;
    let ids: Vec<i64> = rows.iter().map(|r| r.0.id).collect();
    let paid: std::collections::HashMap<i64, i64> = pm::table
        .filter(pm::contract_id.eq_any(&ids))
        .select((pm::contract_id, pm::amount_fen))
        .load::<(i64, i64)>(conn)?
        .into_iter()
        .fold(Default::default(), |mut m, (c, a)| {
            *m.entry(c).or_insert(0) += a;
            m
        });
    let items = rows
        .into_iter()
        .map(|(r, org)| {
            let s = r.state();
            let paid_fen = paid.get(&r.id).copied().unwrap_or(0);
            ContractLine {
                id: r.id,
                contract_no: r.contract_no,
                title: r.title,
                tender_id: r.tender_id,
                organisation_id: r.organisation_id,
                organisation: org,
                state: s.as_str().into(),
                state_label: s.label(true).into(),
                amount_fen: r.amount_fen,
                amount: crate::money::yuan_grouped(r.amount_fen),
                paid_fen,
                paid: crate::money::yuan_grouped(paid_fen),
                signed_on: r.signed_on,
                term_end: r.term_end,
            }
        })
        .collect();
    Ok(paging.of(items, total))
}

/// The contract of a tender, if one was created.
pub fn of_tender(conn: &mut DbConn, tender: i64) -> QueryResult<Option<i64>> {
    ct::table
        .filter(ct::tender_id.eq(tender))
        .select(ct::id)
        .first(conn)
        .optional()
}

/// The header of the contract list CSV.
pub const LIST_HEADER: &[&str] = &[
    "合同编号 Contract no.",
    "项目 Title",
    "服务机构 Organisation",
    "状态 State",
    "合同金额 Amount (CNY)",
    "已付 Paid (CNY)",
    "签订日期 Signed on",
    "服务期止 Term ends",
];

/// Every line of the filtered list (all pages) as CSV, UTF-8 with BOM.
pub fn export_csv(
    conn: &mut DbConn,
    reader: Reader,
    f: &ContractFilter,
) -> Result<String, AppError> {
    let mut rows = Vec::new();
    let mut page = 1;
    loop {
        let p = list(
            conn,
            reader,
            &ContractFilter {
                page: Some(page),
                per_page: Some(200),
                ..f.clone()
            },
        )?;
        let n = p.items.len();
        rows.extend(p.items.into_iter().map(|l| {
            vec![
                l.contract_no,
                l.title,
                l.organisation,
                l.state_label,
                crate::money::yuan(l.amount_fen),
                crate::money::yuan(l.paid_fen),
                l.signed_on.map(|d| d.to_string()).unwrap_or_default(),
                l.term_end.to_string(),
            ]
        }));
        if n < 200 {
            break;
        }
        page += 1;
    }
    Ok(crate::registry::import::csv_document(LIST_HEADER, rows))
}

/// The header of the statement CSV.
pub const STATEMENT_HEADER: &[&str] = &[
    "期次 No.",
    "付款节点 Milestone",
    "比例 Share (%)",
    "金额 Amount (CNY)",
    "验收日期 Accepted on",
    "评分 Score",
    "等级 Grade",
    "付款日期 Paid on",
    "凭证号 Voucher",
    "逾期 Late",
];

/// The statement of one contract as CSV (staff, or the contract's organisation): one row per instalment,
/// then the totals, the spending accepted per budget line (with its budget and what was reported), and the
/// ledger digest.
pub fn statement_csv(
    conn: &mut DbConn,
    ctx: &Ctx,
    reader: Reader,
    id: i64,
) -> Result<String, AppError> {
    let v = get(conn, ctx, reader, id)?;
    if !v.whole {
        return Err(AppError::NotFound);
    }
    let digest = crate::ledger::digest(conn)?;
    let mut rows: Vec<Vec<String>> = v
        .instalments
        .iter()
        .map(|i| {
            let p = i.payment.as_ref();
            vec![
                i.no.to_string(),
                i.milestone.clone(),
                i.pct.clone(),
                crate::money::yuan(i.amount_fen),
                i.accepted_on.map(|d| d.to_string()).unwrap_or_default(),
                i.score.clone().unwrap_or_default(),
                i.grade.clone().unwrap_or_default(),
                p.map(|p| p.paid_on.to_string()).unwrap_or_default(),
                p.map(|p| p.voucher_no.clone()).unwrap_or_default(),
                if p.is_some_and(|p| p.late) {
                    "是 yes"
                } else {
                    ""
                }
                .into(),
            ]
        })
        .collect();
    let total = |label: &str, fen: i64| {
        let mut r = vec![String::new(); STATEMENT_HEADER.len()];
        r[1] = label.into();
        r[3] = crate::money::yuan(fen);
        r
    };
    rows.push(total("合同金额 Amount", v.money.amount_fen));
    rows.push(total("已确认 Accrued", v.money.accrued_fen));
    rows.push(total("已支付 Paid", v.money.paid_fen));
    // Spending by budget line against its budget; the accepted amount in the amount column.
    for l in spending::summary(conn, reader, id)?.lines {
        rows.push(total(
            &format!(
                "已认可支出 Accepted spending: {} {}（预算 budget {}；已报 reported {}{}）",
                l.line_zh,
                l.line_en,
                l.budget,
                l.reported,
                if l.over {
                    "；超预算 over budget"
                } else {
                    ""
                }
            ),
            l.accepted_fen,
        ));
    }
    let mut d = vec![String::new(); STATEMENT_HEADER.len()];
    d[1] = format!("账本摘要 Ledger digest {}", digest.text());
    rows.push(d);
    Ok(crate::registry::import::csv_document(
        STATEMENT_HEADER,
        rows,
    ))
}

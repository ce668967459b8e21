//! Audit flags from the database (docs/SPENDING.md): the contracts a reader may see, their spending items,
//! instalments and payments, each rule decided by its function in `domain::flags`. Flags are computed when
//! read, never stored, so they always follow the data (an item rejected by finance stops counting at once).
//!
//! The contract filters (contract, organisation, signing year, the reader's own organisation) are applied
//! in the database; the rule filter and the paging then work on the flags of those contracts.

use std::collections::HashMap;

use chrono::NaiveDate;
use diesel::prelude::*;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::spending::{COUNTED, ItemRow, line_names};
use super::{ContractRow, Reader};
use crate::db::schema::{
    contract_instalments as ci, contracts as ct, organisations, payments as pm,
    spending_items as si,
};
use crate::db::{DbConn, Paged, Paging};
use crate::domain::calendar::BusinessCalendar;
use crate::domain::contract::State;
use crate::domain::flags::{self as rules, Claim, Evidence, Flag, Rule};
use crate::error::AppError;

/// An instalment's number, acceptance day and payment day.
type Instalment = (i32, Option<NaiveDate>, Option<NaiveDate>);

/// What the flags need from the configuration.
#[derive(Clone, Debug)]
pub struct Ctx {
    pub cal: std::sync::Arc<BusinessCalendar>,
    pub payment_due_days: i64,
    /// The programme's management-fee cap, percent of the contract amount (`SANSHE_LINE_SHARES`); none:
    /// no such flag.
    pub management_fee_cap_pct: Option<Decimal>,
    pub settings: rules::Settings,
    /// The norm of 人次 per person (people-served flags).
    pub people: crate::domain::people::Settings,
}

impl Ctx {
    pub fn from_config(c: &crate::config::Config) -> Ctx {
        Ctx {
            cal: c.calendar.clone(),
            payment_due_days: c.payment_due_days,
            management_fee_cap_pct: c.tender_rules.max_share("management"),
            settings: c.flags.clone(),
            people: c.people.clone(),
        }
    }
}

/// Filters of the flag list.
#[derive(Clone, Debug, Default, Deserialize, Serialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct FlagFilter {
    /// One rule (`line_overspent`, `management_over_cap`, `labour_over_cap`, `forbidden_category`,
    /// `outside_term`, `duplicate_invoice`, `paid_before_acceptance`, `paid_late`, `signed_late`,
    /// `notice_late`, `served_by_many`, `activity_outside_term`, `activity_outside_area`,
    /// `visits_above_norm`, `logged_late`).
    pub rule: Option<String>,
    /// One contract.
    pub contract: Option<i64>,
    /// One organisation.
    pub organisation: Option<i64>,
    /// The contracts signed in this year.
    pub year: Option<i32>,
    /// The contracts signed from this month (YYYY-MM), with `to` (the audit report's period).
    pub from: Option<String>,
    /// … to this month (YYYY-MM), inclusive.
    pub to: Option<String>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

/// The months `from`–`to` (YYYY-MM, both given, `to` not before `from`) as their first and last day;
/// `None` when neither is given. 422 naming `from` or `to` and the rule (`required`, `month`,
/// `after_from`).
pub fn months(
    from: Option<&str>,
    to: Option<&str>,
) -> Result<Option<(NaiveDate, NaiveDate)>, AppError> {
    fn given(v: Option<&str>) -> Option<&str> {
        v.map(str::trim).filter(|s| !s.is_empty())
    }
    let (from, to) = (given(from), given(to));
    if from.is_none() && to.is_none() {
        return Ok(None);
    }
    let mut c = crate::error::Checks::new();
    let mut month = |field: &str, v: Option<&str>| -> Option<NaiveDate> {
        let Some(v) = v else {
            c.add(
                field,
                "required",
                "请同时给出起止月份（YYYY-MM）。",
                "Give both months (YYYY-MM).",
            );
            return None;
        };
        c.month(field, Some(v))
    };
    let (first, last) = (month("from", from), month("to", to));
    if let (Some(a), Some(b)) = (first, last)
        && b < a
    {
        c.add(
            "to",
            "after_from",
            "结束月份不能早于开始月份。",
            "The last month cannot come before the first.",
        );
    }
    c.finish()?;
    match (first, last) {
        (Some(a), Some(b)) => {
            let end = b
                .checked_add_months(chrono::Months::new(1))
                .and_then(|d| d.pred_opt())
                .unwrap_or(b);
            Ok(Some((a, end)))
        }
        _ => Ok(None),
    }
}

fn parse_rule(f: &FlagFilter) -> Result<Option<Rule>, AppError> {
    f.rule
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            Rule::parse(s).ok_or_else(|| {
                AppError::field(
                    "rule",
                    "one_of",
                    "没有这条审计规则。",
                    "There is no such audit rule.",
                )
            })
        })
        .transpose()
}

/// The flags a reader may see (staff all, an organisation its own), filtered and paged, the most serious
/// first, then by contract (newest first).
pub fn flags(
    conn: &mut DbConn,
    ctx: &Ctx,
    reader: Reader,
    today: NaiveDate,
    f: &FlagFilter,
) -> Result<Paged<Flag>, AppError> {
    let all = compute(conn, ctx, reader, today, f)?;
    Ok(Paging::new(f.page, f.per_page).slice(all))
}

/// Every flag of one contract (404 when the reader may not see it).
pub fn for_contract(
    conn: &mut DbConn,
    ctx: &Ctx,
    reader: Reader,
    today: NaiveDate,
    id: i64,
) -> Result<Vec<Flag>, AppError> {
    super::spending::readable(conn, reader, id)?;
    compute(
        conn,
        ctx,
        reader,
        today,
        &FlagFilter {
            contract: Some(id),
            ..Default::default()
        },
    )
}

/// Every flag the filter selects (no paging), in the list's order: what the audit report shows.
pub fn all(
    conn: &mut DbConn,
    ctx: &Ctx,
    reader: Reader,
    today: NaiveDate,
    f: &FlagFilter,
) -> Result<Vec<Flag>, AppError> {
    compute(conn, ctx, reader, today, f)
}

/// The header of the flag CSV.
pub const CSV_HEADER: &[&str] = &[
    "规则 Rule",
    "严重程度 Severity",
    "合同编号 Contract no.",
    "服务机构 Organisation",
    "支出项 Item",
    "说明 Evidence",
    "Evidence",
    "链接 Link",
];

/// The filtered flags (all pages) as CSV, UTF-8 with BOM.
pub fn export_csv(
    conn: &mut DbConn,
    ctx: &Ctx,
    reader: Reader,
    today: NaiveDate,
    public_url: &str,
    f: &FlagFilter,
) -> Result<String, AppError> {
    let all = compute(conn, ctx, reader, today, f)?;
    let base = public_url.trim_end_matches('/');
    let rows = all.into_iter().map(|fl| {
        vec![
            format!("{} {}", fl.rule.label(true), fl.rule.as_str()),
            fl.severity.label(true).to_string(),
            fl.contract_no,
            fl.organisation,
            fl.item_id.map(|i| i.to_string()).unwrap_or_default(),
            fl.evidence_zh,
            fl.evidence_en,
            format!("{base}{}", fl.link),
        ]
    });
    Ok(crate::registry::import::csv_document(CSV_HEADER, rows))
}

fn compute(
    conn: &mut DbConn,
    ctx: &Ctx,
    reader: Reader,
    today: NaiveDate,
    f: &FlagFilter,
) -> Result<Vec<Flag>, AppError> {
    let only = parse_rule(f)?;
    let period = months(f.from.as_deref(), f.to.as_deref())?;
    let mut q = ct::table
        .inner_join(organisations::table)
        .filter(ct::state.ne(State::Draft.as_str()))
        .into_boxed();
    match reader {
        Reader::Staff => {}
        Reader::Org(o) => q = q.filter(ct::organisation_id.eq(o)),
        Reader::Public => return Ok(Vec::new()),
    }
    if let Some(c) = f.contract {
        q = q.filter(ct::id.eq(c));
    }
    if let Some(o) = f.organisation {
        q = q.filter(ct::organisation_id.eq(o));
    }
    if let Some(y) = f.year {
        match (
            NaiveDate::from_ymd_opt(y, 1, 1),
            NaiveDate::from_ymd_opt(y, 12, 31),
        ) {
            (Some(from), Some(to)) => q = q.filter(ct::signed_on.between(from, to)),
            _ => {
                return Err(AppError::field(
                    "year",
                    "range",
                    "年份无效。",
                    "Not a valid year.",
                ));
            }
        }
    }
    if let Some((from, to)) = period {
        q = q.filter(ct::signed_on.between(from, to));
    }
    let contracts: Vec<(ContractRow, String)> = q
        .order(ct::id.desc())
        .select((ContractRow::as_select(), organisations::name))
        .load(conn)?;
    let ids: Vec<i64> = contracts.iter().map(|(c, _)| c.id).collect();
    let mut items: HashMap<i64, Vec<ItemRow>> = HashMap::new();
    let mut instalments: HashMap<i64, Vec<Instalment>> = HashMap::new();
    let mut claims: HashMap<String, Vec<(i64, Claim)>> = HashMap::new();
    for chunk in ids.chunks(500) {
        let rows: Vec<ItemRow> = si::table
            .filter(si::contract_id.eq_any(chunk))
            .filter(si::state.eq_any(COUNTED))
            .order(si::id.asc())
            .select(ItemRow::as_select())
            .load(conn)?;
        let keys: Vec<String> = rows.iter().map(|r| r.invoice_key.clone()).collect();
        for r in rows {
            items.entry(r.contract_id).or_default().push(r);
        }
        // Every claim, of any contract and organisation, of the invoices these items carry.
        for keys in keys.chunks(500) {
            let found: Vec<(i64, String, String, String)> = si::table
                .inner_join(ct::table.inner_join(organisations::table))
                .filter(si::invoice_key.eq_any(keys))
                .filter(si::state.eq_any(COUNTED))
                .select((
                    si::id,
                    si::invoice_key,
                    ct::contract_no,
                    organisations::name,
                ))
                .load(conn)?;
            for (id, key, contract_no, organisation) in found {
                let v = claims.entry(key).or_default();
                if !v.iter().any(|(i, _)| *i == id) {
                    v.push((
                        id,
                        Claim {
                            item_id: id,
                            contract_no,
                            organisation,
                        },
                    ));
                }
            }
        }
        let rows: Vec<(i64, i32, Option<NaiveDate>, Option<NaiveDate>)> = ci::table
            .left_join(pm::table)
            .filter(ci::contract_id.eq_any(chunk))
            .order((ci::contract_id, ci::no))
            .select((
                ci::contract_id,
                ci::no,
                ci::accepted_on,
                pm::paid_on.nullable(),
            ))
            .load(conn)?;
        for (c, no, accepted, paid) in rows {
            instalments.entry(c).or_default().push((no, accepted, paid));
        }
    }
    let mut out = Vec::new();
    for (c, org) in &contracts {
        let mut add = |rule: Rule, item: Option<i64>, e: Option<Evidence>| {
            let Some(e) = e else { return };
            if only.is_some_and(|o| o != rule) {
                return;
            }
            out.push(Flag {
                rule,
                rule_label: rule.label(true).into(),
                severity: rule.severity(),
                contract_id: c.id,
                contract_no: c.contract_no.clone(),
                organisation_id: c.organisation_id,
                organisation: org.clone(),
                item_id: item,
                activity_id: None,
                evidence_zh: e.zh,
                evidence_en: e.en,
                link: match item {
                    Some(i) => format!("/contracts/{}/spending#item-{i}", c.id),
                    None => format!("/contracts/{}", c.id),
                },
            });
        };
        // The contract's deadlines.
        if let Some(s) = c.signed_on {
            add(Rule::SignedLate, None, rules::signed_late(c.awarded_on, s));
            if let Some(n) = c.notice_on {
                add(Rule::NoticeLate, None, rules::notice_late(&ctx.cal, s, n));
            }
        }
        // Its payments.
        for (no, accepted, paid) in instalments.get(&c.id).map(Vec::as_slice).unwrap_or(&[]) {
            if let Some(p) = paid {
                add(
                    Rule::PaidBeforeAcceptance,
                    None,
                    rules::paid_before_acceptance(*no, *accepted, *p),
                );
            }
            if let Some(a) = accepted {
                add(
                    Rule::PaidLate,
                    None,
                    rules::payment_late(*no, *a, *paid, today, ctx.payment_due_days),
                );
            }
        }
        // Its spending, by line, then item by item.
        let its = items.get(&c.id).map(Vec::as_slice).unwrap_or(&[]);
        let spent = |line: &str| -> i64 {
            its.iter()
                .filter(|i| i.line == line)
                .map(|i| i.amount_fen)
                .sum()
        };
        for b in c.budget_lines() {
            let (zh, en) = line_names(&b.line);
            add(
                Rule::LineOverspent,
                None,
                rules::line_overspent(zh, en, b.amount_fen, spent(&b.line)),
            );
        }
        if let Some(cap) = ctx.management_fee_cap_pct {
            add(
                Rule::ManagementOverCap,
                None,
                rules::management_over_cap(c.amount_fen, spent("management"), cap),
            );
        }
        add(
            Rule::LabourOverCap,
            None,
            rules::labour_over_cap(c.amount_fen, spent("staff"), ctx.settings.labour_cap_pct),
        );
        for i in its {
            add(
                Rule::ForbiddenCategory,
                Some(i.id),
                rules::forbidden_category(
                    &i.description,
                    &i.payee,
                    &ctx.settings.forbidden_keywords,
                ),
            );
            add(
                Rule::OutsideTerm,
                Some(i.id),
                rules::outside_term(i.spent_on, c.term_start, c.term_end),
            );
            let others: Vec<Claim> = claims
                .get(&i.invoice_key)
                .map(|v| {
                    v.iter()
                        .filter(|(id, _)| *id != i.id)
                        .map(|(_, c)| c.clone())
                        .collect()
                })
                .unwrap_or_default();
            add(
                Rule::DuplicateInvoice,
                Some(i.id),
                rules::duplicate_invoice(&i.invoice_no, &others),
            );
        }
    }
    // Their service records.
    let rows: Vec<ContractRow> = contracts.iter().map(|(c, _)| c.clone()).collect();
    let names: HashMap<i64, (&ContractRow, &String)> =
        contracts.iter().map(|(c, o)| (c.id, (c, o))).collect();
    for r in crate::people::flags::for_contracts(conn, &ctx.people, &rows, reader == Reader::Staff)?
    {
        if only.is_some_and(|o| o != r.rule) {
            continue;
        }
        let Some((c, org)) = names.get(&r.contract_id) else {
            continue;
        };
        out.push(Flag {
            rule: r.rule,
            rule_label: r.rule.label(true).into(),
            severity: r.rule.severity(),
            contract_id: c.id,
            contract_no: c.contract_no.clone(),
            organisation_id: c.organisation_id,
            organisation: (*org).clone(),
            item_id: None,
            activity_id: r.activity_id,
            evidence_zh: r.evidence.zh,
            evidence_en: r.evidence.en,
            link: match r.activity_id {
                Some(a) => format!("/contracts/{}/activities#activity-{a}", c.id),
                None => format!("/contracts/{}/activities", c.id),
            },
        });
    }
    // The most serious first; within a severity, contracts newest first (their order above).
    out.sort_by_key(|f| (f.severity, std::cmp::Reverse(f.contract_id)));
    Ok(out)
}

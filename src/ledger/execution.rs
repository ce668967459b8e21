//! Budget execution (预算执行): for each budget (year, fund, field) what was appropriated, is reserved for
//! published tenders, is committed by signed contracts, was accrued on accepted milestones and was paid,
//! with the execution rate (paid ÷ appropriated); the same by street (of the contracts' tenders), and the
//! payments by month and by field for the charts. The budget stages are a read of the balances the ledger
//! keeps; what was paid comes from the payments (the treasury account is per fund only).

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use super::{Digest, Settings};
use crate::db::DbConn;
use crate::db::schema::{
    appropriations as ap, contracts as ct, ledger_balances as lb, ledger_entries as le,
    ledger_postings as lp, payments as pm, streets, tender_streets as ts,
};
use crate::domain::contract::Progress;
use crate::domain::ledger::{Account, Bucket, Stage};
use crate::error::AppError;

/// Which budgets to show.
#[derive(Clone, Debug, Default, Deserialize, Serialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExecutionFilter {
    pub year: Option<i32>,
    /// A fund code (`general`, `lottery`, …).
    pub fund: Option<String>,
    /// A service field (`elderly`, …); `common` for budgets of no particular field.
    pub field: Option<String>,
}

/// The money of one budget (or one total), in fen and grouped yuan.
#[derive(Clone, Debug, Default, Serialize, utoipa::ToSchema)]
pub struct Figures {
    pub appropriated_fen: i64,
    pub reserved_fen: i64,
    /// Committed by contracts, accrued included (commitments less releases).
    pub committed_fen: i64,
    pub accrued_fen: i64,
    pub paid_fen: i64,
    pub available_fen: i64,
    /// Paid ÷ appropriated, percent with one decimal (empty when nothing was appropriated).
    pub rate: String,
}

impl Figures {
    fn add(&mut self, o: &Figures) {
        self.appropriated_fen += o.appropriated_fen;
        self.reserved_fen += o.reserved_fen;
        self.committed_fen += o.committed_fen;
        self.accrued_fen += o.accrued_fen;
        self.paid_fen += o.paid_fen;
        self.available_fen += o.available_fen;
    }
    fn rated(mut self) -> Figures {
        self.rate = rate(self.paid_fen, self.appropriated_fen);
        self
    }
}

/// `part ÷ whole` in percent with one decimal, exact integer arithmetic (rounded half up).
pub fn rate(part: i64, whole: i64) -> String {
    if whole <= 0 {
        return String::new();
    }
    let tenths = (part as i128 * 1000 * 2 + whole as i128) / (whole as i128 * 2);
    format!("{}.{}", tenths / 10, tenths % 10)
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct BudgetRow {
    pub year: i32,
    pub fund: String,
    pub fund_label: String,
    /// None for a budget of any field.
    pub field: Option<String>,
    pub figures: Figures,
}

/// Contracts of one street's tenders (a district-wide tender under the district).
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct StreetRow {
    pub street_id: Option<i64>,
    pub street: String,
    pub contracts: i64,
    pub contracted_fen: i64,
    pub accrued_fen: i64,
    pub paid_fen: i64,
    pub rate: String,
}

/// Paid in one month, and the total paid by its end (of the budgets shown).
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct MonthRow {
    /// `YYYY-MM`.
    pub month: String,
    pub paid_fen: i64,
    pub cumulative_fen: i64,
}

/// The budgets of one field (`common` for budgets of any field).
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct FieldFigures {
    pub field: String,
    pub figures: Figures,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Execution {
    pub rows: Vec<BudgetRow>,
    pub total: Figures,
    /// The same budgets by field.
    pub by_field: Vec<FieldFigures>,
    pub by_street: Vec<StreetRow>,
    pub by_month: Vec<MonthRow>,
    pub digest: Digest,
}

fn keep(f: &ExecutionFilter, b: &Bucket) -> bool {
    let field = b.field.as_deref().unwrap_or(crate::domain::ledger::COMMON);
    f.year.is_none_or(|y| y == b.year)
        && f.fund
            .as_deref()
            .filter(|s| !s.is_empty())
            .is_none_or(|x| x == b.fund)
        && f.field
            .as_deref()
            .filter(|s| !s.is_empty())
            .is_none_or(|x| x == field)
}

/// Budget execution for the budgets the filter keeps, read in one transaction (one digest).
pub fn execution(
    conn: &mut DbConn,
    s: &Settings,
    f: &ExecutionFilter,
) -> Result<Execution, AppError> {
    conn.transaction::<_, AppError, _>(|c| {
        let mut by_bucket: BTreeMap<Bucket, Figures> = BTreeMap::new();
        let balances: Vec<(String, i64)> = lb::table
            .filter(lb::account.like("Budget:%"))
            .select((lb::account, lb::balance_fen))
            .load(c)?;
        for (account, bal) in balances {
            let Some(Account::Budget(stage, b)) = Account::parse(&account) else {
                continue;
            };
            if !keep(f, &b) {
                continue;
            }
            let x = by_bucket.entry(b).or_default();
            match stage {
                Stage::Appropriated => x.appropriated_fen -= bal,
                Stage::Available => x.available_fen += bal,
                Stage::Reserved => x.reserved_fen += bal,
                Stage::Committed => x.committed_fen += bal,
                Stage::Expended => {
                    x.committed_fen += bal;
                    x.accrued_fen += bal;
                }
            }
        }
        // Payments by the budget of their contract's appropriation, and by month.
        let pays: Vec<(i64, NaiveDate, i64, i32, String, Option<String>)> = pm::table
            .inner_join(ct::table.on(ct::id.eq(pm::contract_id)))
            .inner_join(ap::table.on(ct::appropriation_id.eq(ap::id.nullable())))
            .select((
                pm::contract_id,
                pm::paid_on,
                pm::amount_fen,
                ap::year,
                ap::fund,
                ap::field,
            ))
            .load(c)?;
        let mut months: BTreeMap<String, i64> = BTreeMap::new();
        let mut kept_contracts = std::collections::HashSet::new();
        for (contract, paid_on, amount, year, fund, field) in pays {
            let b = Bucket { year, fund, field };
            if !keep(f, &b) {
                continue;
            }
            kept_contracts.insert(contract);
            by_bucket.entry(b).or_default().paid_fen += amount;
            *months
                .entry(format!("{:04}-{:02}", paid_on.year(), paid_on.month()))
                .or_insert(0) += amount;
        }
        let mut cum = 0;
        let by_month = months
            .into_iter()
            .map(|(month, paid_fen)| {
                cum += paid_fen;
                MonthRow {
                    month,
                    paid_fen,
                    cumulative_fen: cum,
                }
            })
            .collect();
        let mut total = Figures::default();
        let mut fields: BTreeMap<String, Figures> = BTreeMap::new();
        let mut rows = Vec::new();
        for (b, x) in by_bucket {
            total.add(&x);
            fields
                .entry(
                    b.field
                        .clone()
                        .unwrap_or_else(|| crate::domain::ledger::COMMON.into()),
                )
                .or_default()
                .add(&x);
            rows.push(BudgetRow {
                fund_label: s.fund(&b.fund).map_or(b.fund.clone(), |f| f.zh.clone()),
                year: b.year,
                fund: b.fund,
                field: b.field,
                figures: x.rated(),
            });
        }
        rows.sort_by(|a, b| (b.year, &a.fund, &a.field).cmp(&(a.year, &b.fund, &b.field)));
        let by_street = streets_of(c, f)?;
        Ok(Execution {
            rows,
            total: total.rated(),
            by_field: fields
                .into_iter()
                .map(|(field, v)| FieldFigures {
                    field,
                    figures: v.rated(),
                })
                .collect(),
            by_street,
            by_month,
            digest: super::digest(c)?,
        })
    })
}

/// The signed contracts of the filtered budgets by the street of their tender.
fn streets_of(c: &mut DbConn, f: &ExecutionFilter) -> Result<Vec<StreetRow>, AppError> {
    let rows: Vec<(i64, i64, i64, i32, String, Option<String>)> = ct::table
        .inner_join(ap::table.on(ct::appropriation_id.eq(ap::id.nullable())))
        .filter(ct::signed_on.is_not_null())
        .select((
            ct::id,
            ct::tender_id,
            ct::amount_fen,
            ap::year,
            ap::fund,
            ap::field,
        ))
        .load(c)?;
    let rows: Vec<(i64, i64, i64)> = rows
        .into_iter()
        .filter(|(_, _, _, year, fund, field)| {
            keep(
                f,
                &Bucket {
                    year: *year,
                    fund: fund.clone(),
                    field: field.clone(),
                },
            )
        })
        .map(|(id, t, a, ..)| (id, t, a))
        .collect();
    let ids: Vec<i64> = rows.iter().map(|r| r.0).collect();
    // Accrued and paid per contract from its ledger postings.
    let mut progress: BTreeMap<i64, Progress> = BTreeMap::new();
    for chunk in ids.chunks(500) {
        let p: Vec<(Option<i64>, String, i64)> = lp::table
            .inner_join(le::table)
            .filter(le::contract_id.eq_any(chunk))
            .select((le::contract_id, lp::account, lp::amount_fen))
            .load(c)?;
        for (cid, account, amount) in p {
            if let (Some(cid), Some(a)) = (cid, Account::parse(&account)) {
                progress.entry(cid).or_default().add_posting(&a, amount);
            }
        }
    }
    let tender_ids: Vec<i64> = rows.iter().map(|r| r.1).collect();
    let mut street_of: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
    for chunk in tender_ids.chunks(500) {
        let t: Vec<(i64, i64)> = ts::table
            .filter(ts::tender_id.eq_any(chunk))
            .select((ts::tender_id, ts::street_id))
            .load(c)?;
        for (tid, sid) in t {
            street_of.entry(tid).or_default().push(sid);
        }
    }
    let names: BTreeMap<i64, String> = streets::table
        .select((streets::id, streets::name))
        .load::<(i64, String)>(c)?
        .into_iter()
        .collect();
    let mut out: BTreeMap<Option<i64>, StreetRow> = BTreeMap::new();
    for (id, tender, amount) in rows {
        // A tender of one street counts there; of several or none, under the district as a whole.
        let key = match street_of.get(&tender).map(Vec::as_slice) {
            Some([s]) => Some(*s),
            _ => None,
        };
        let r = out.entry(key).or_insert_with(|| StreetRow {
            street_id: key,
            street: key
                .and_then(|k| names.get(&k).cloned())
                .unwrap_or_else(|| "全区 / District-wide".into()),
            contracts: 0,
            contracted_fen: 0,
            accrued_fen: 0,
            paid_fen: 0,
            rate: String::new(),
        });
        r.contracts += 1;
        r.contracted_fen += amount;
        let p = progress.get(&id).copied().unwrap_or_default();
        r.accrued_fen += p.accrued;
        r.paid_fen += p.paid;
    }
    Ok(out
        .into_values()
        .map(|mut r| {
            r.rate = rate(r.paid_fen, r.contracted_fen);
            r
        })
        .collect())
}

/// The header of the execution CSV.
pub const HEADER: &[&str] = &[
    "年度 Year",
    "资金来源 Fund",
    "领域 Field",
    "预算数 Appropriated (CNY)",
    "预留 Reserved (CNY)",
    "已承诺 Committed (CNY)",
    "已确认 Accrued (CNY)",
    "已支付 Paid (CNY)",
    "可用 Available (CNY)",
    "执行率 Rate (%)",
];

/// The execution table as CSV (UTF-8 with BOM) with a total row and the digest.
pub fn csv(e: &Execution) -> String {
    let y = crate::money::yuan;
    let line = |year: String, fund: String, field: String, x: &Figures| {
        vec![
            year,
            fund,
            field,
            y(x.appropriated_fen),
            y(x.reserved_fen),
            y(x.committed_fen),
            y(x.accrued_fen),
            y(x.paid_fen),
            y(x.available_fen),
            x.rate.clone(),
        ]
    };
    let rows = e
        .rows
        .iter()
        .map(|r| {
            line(
                r.year.to_string(),
                r.fund_label.clone(),
                r.field.clone().unwrap_or_default(),
                &r.figures,
            )
        })
        .chain([
            line("合计 Total".into(), String::new(), String::new(), &e.total),
            {
                let mut d = vec![String::new(); HEADER.len()];
                d[0] = format!("账本摘要 Ledger digest {}", e.digest.text());
                d
            },
        ]);
    crate::registry::import::csv_document(HEADER, rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_is_exact_to_one_decimal() {
        assert_eq!(rate(1, 3), "33.3");
        assert_eq!(rate(2, 3), "66.7");
        assert_eq!(rate(0, 5), "0.0");
        assert_eq!(rate(5, 5), "100.0");
        assert_eq!(rate(1, 0), "");
        assert_eq!(rate(1_450_000_000, 2_100_000_000), "69.0");
    }
}

//! Budget appropriations (预算指标): finance records each one per year and fund source, optionally for one
//! service field; each posts an `appropriation` entry (appropriated → available of its bucket) in the
//! same transaction, with its audit event. Amounts come in as yuan with at most two decimals and are kept
//! in fen. A key makes the request idempotent: a retry gets the first appropriation back.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use super::{Digest, NewEntry, Settings};
use crate::audit::Actor;
use crate::db::schema::{appropriations as ap, ledger_balances as lb, ledger_entries as le};
use crate::db::{DbConn, Paged, Paging};
use crate::domain::ledger::{Account, Bucket, Kind, Line, Refs, Stage};
use crate::error::{AppError, Checks};

/// An amount as sent: yuan as a string (`"150000.50"`), or whole yuan as a JSON integer. A JSON number
/// with a fraction is refused: the JSON reader keeps it only as a binary float, and money never passes
/// through one.
#[derive(Clone, Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum Yuan {
    Text(String),
    #[schema(value_type = i64)]
    Number(serde_json::Number),
}

impl Yuan {
    /// The decimal text of the amount; `None` for a JSON number with a fraction (held as a float).
    pub fn text(&self) -> Option<String> {
        match self {
            Yuan::Text(s) => Some(s.clone()),
            Yuan::Number(n) if n.is_i64() || n.is_u64() => Some(n.to_string()),
            Yuan::Number(_) => None,
        }
    }
}

/// A new appropriation.
#[derive(Clone, Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAppropriation {
    /// Budget year, e.g. 2026.
    pub year: i32,
    /// Fund source code (`general` 一般公共预算, `lottery` 福彩公益金, `transfer` 上级补助; configurable).
    pub fund: String,
    /// Service field (e.g. `elderly`); absent for a budget of any field.
    #[serde(default)]
    pub field: Option<String>,
    /// Amount in yuan, at most two decimals, e.g. `"1500000.00"`.
    #[schema(value_type = String, example = "1500000.00")]
    pub amount: Yuan,
    /// The budget document (指标文号), e.g. `官财社〔2026〕12号`.
    pub document_no: String,
    #[serde(default)]
    pub note: Option<String>,
    /// Date of the entry (YYYY-MM-DD); today (Beijing) when absent.
    #[serde(default)]
    pub date: Option<String>,
    /// Client-chosen key: a retry with the same key and content returns the first appropriation.
    pub idempotency_key: String,
}

/// An appropriation as shown, with its bucket's available amount now.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct AppropriationView {
    pub id: i64,
    pub year: i32,
    pub fund: String,
    pub fund_label: String,
    pub field: Option<String>,
    pub amount_fen: i64,
    /// Yuan, two decimals.
    pub amount: String,
    pub document_no: String,
    pub note: String,
    #[schema(value_type = String)]
    pub date: NaiveDate,
    #[schema(value_type = String)]
    pub created_at: NaiveDateTime,
    /// The ledger entry it posted.
    pub entry_seq: Option<i64>,
    /// The accounts of its budget, e.g. `2026:general:elderly`.
    pub bucket: String,
    /// What is available in its budget (year, fund, field) now, in fen and yuan.
    pub available_fen: i64,
    pub available: String,
}

type Row = (
    i64,
    i32,
    String,
    Option<String>,
    i64,
    String,
    String,
    NaiveDate,
    NaiveDateTime,
);

fn columns() -> (
    ap::id,
    ap::year,
    ap::fund,
    ap::field,
    ap::amount_fen,
    ap::document_no,
    ap::note,
    ap::entry_date,
    ap::created_at,
) {
    (
        ap::id,
        ap::year,
        ap::fund,
        ap::field,
        ap::amount_fen,
        ap::document_no,
        ap::note,
        ap::entry_date,
        ap::created_at,
    )
}

fn bucket_of(r: &Row) -> Bucket {
    Bucket {
        year: r.1,
        fund: r.2.clone(),
        field: r.3.clone(),
    }
}

/// Shape rows, reading each bucket's available balance and each row's entry.
fn views(
    conn: &mut DbConn,
    s: &Settings,
    rows: Vec<Row>,
) -> Result<Vec<AppropriationView>, AppError> {
    let ids: Vec<i64> = rows.iter().map(|r| r.0).collect();
    let entries: Vec<(Option<i64>, i64)> = le::table
        .filter(le::appropriation_id.eq_any(&ids))
        .filter(le::kind.eq(Kind::Appropriation.as_str()))
        .select((le::appropriation_id, le::seq))
        .load(conn)?;
    let accounts: Vec<String> = rows
        .iter()
        .map(|r| Account::Budget(Stage::Available, bucket_of(r)).name())
        .collect();
    let balances: Vec<(String, i64)> = lb::table
        .filter(lb::account.eq_any(&accounts))
        .select((lb::account, lb::balance_fen))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .zip(accounts)
        .map(|(r, acct)| {
            let available = balances.iter().find(|(a, _)| *a == acct).map_or(0, |b| b.1);
            AppropriationView {
                fund_label: s.fund(&r.2).map_or_else(|| r.2.clone(), |f| f.zh.clone()),
                bucket: bucket_of(&r).path(),
                entry_seq: entries.iter().find(|e| e.0 == Some(r.0)).map(|e| e.1),
                id: r.0,
                year: r.1,
                fund: r.2,
                field: r.3,
                amount_fen: r.4,
                amount: crate::money::yuan(r.4),
                document_no: r.5,
                note: r.6,
                date: r.7,
                created_at: r.8,
                available_fen: available,
                available: crate::money::yuan(available),
            }
        })
        .collect())
}

/// The budget years accepted.
pub const YEARS: std::ops::RangeInclusive<i32> = 2000..=2100;

/// Check every field at once; the amount in fen, the field (None for any) and the date when all hold.
fn check(
    s: &Settings,
    n: &NewAppropriation,
    today: NaiveDate,
) -> Result<(i64, Option<String>, NaiveDate), AppError> {
    let mut c = Checks::new();
    if !YEARS.contains(&n.year) {
        c.add(
            "year",
            "range",
            "预算年度须在 2000–2100 之间。",
            "The budget year is between 2000 and 2100.",
        );
    }
    if s.fund(n.fund.trim()).is_none() {
        let names: Vec<String> = s
            .funds
            .iter()
            .map(|f| format!("{} ({})", f.code, f.zh))
            .collect();
        c.add(
            "fund",
            "one_of",
            format!("资金来源须为：{}。", names.join("、")),
            format!("The fund source is one of: {}.", names.join(", ")),
        );
    }
    let field = n
        .field
        .as_deref()
        .map(str::trim)
        .filter(|f| !f.is_empty())
        .map(str::to_string);
    if let Some(f) = &field
        && !crate::domain::vocab::one_of(crate::registry::orgs::FIELDS, f)
    {
        c.add(
            "field",
            "one_of",
            format!(
                "服务领域须为：{}。",
                crate::domain::vocab::keys(crate::registry::orgs::FIELDS)
            ),
            format!(
                "The service field is one of: {}.",
                crate::domain::vocab::keys(crate::registry::orgs::FIELDS)
            ),
        );
    }
    let amount = match n.amount.text() {
        Some(t) => crate::money::check_yuan(&mut c, "amount", &t, true),
        None => {
            c.add(
                "amount",
                "decimal_as_text",
                "带小数的金额请以字符串提交，例如 \"12.34\"。",
                "Send an amount with decimals as a string, e.g. \"12.34\".",
            );
            None
        }
    };
    if c.required("document_no", &n.document_no) && n.document_no.trim().chars().count() > 100 {
        c.add(
            "document_no",
            "max_length",
            "指标文号至多 100 字。",
            "At most 100 characters.",
        );
    }
    if n.note.as_deref().is_some_and(|t| t.chars().count() > 500) {
        c.add(
            "note",
            "max_length",
            "备注至多 500 字。",
            "At most 500 characters.",
        );
    }
    let date = match n.date.as_deref().map(str::trim).filter(|d| !d.is_empty()) {
        None => Some(today),
        Some(d) => {
            let p = crate::domain::dates::parse_date(d);
            if p.is_none() {
                c.add(
                    "date",
                    "date",
                    "日期格式应为 YYYY-MM-DD。",
                    "Dates are written YYYY-MM-DD.",
                );
            }
            p
        }
    };
    if let Err(AppError::Validation(v)) = crate::idempotency::check_key(&n.idempotency_key) {
        c.extend(v);
    }
    c.finish()?;
    Ok((amount.expect("checked"), field, date.expect("checked")))
}

/// What [`create`] did.
pub struct Created {
    pub view: AppropriationView,
    /// A retry of an earlier request: nothing new was written.
    pub replayed: bool,
}

/// Record an appropriation and post its entry, with the audit event, in one transaction.
pub fn create(
    conn: &mut DbConn,
    s: &Settings,
    actor: &Actor,
    now: DateTime<Utc>,
    n: &NewAppropriation,
) -> Result<Created, AppError> {
    let today = crate::clock::beijing_date(now);
    let (amount, field, date) = check(s, n, today)?;
    let key = n.idempotency_key.trim().to_string();
    let fund = n.fund.trim().to_string();
    let document_no = n.document_no.trim().to_string();
    let note = n.note.as_deref().unwrap_or("").trim().to_string();
    let rhash = crate::idempotency::request_hash(
        &(n.year, &fund, &field, amount, &document_no, &note, date),
        &[],
    );
    let user = actor
        .id
        .ok_or_else(|| AppError::internal("an appropriation needs a signed-in author"))?;
    crate::db::write_tx(conn, |c| {
        // Keyed requests meet under the chains' locks (audit, then ledger: the one order), so two retries
        // cannot both insert.
        crate::chain::AUDIT.lock(c)?;
        crate::chain::LEDGER.lock(c)?;
        let seen: Option<(String, i64)> = ap::table
            .filter(ap::idem_key.eq(&key))
            .select((ap::request_hash, ap::id))
            .first(c)
            .optional()?;
        if let Some(stored) = seen {
            return match crate::idempotency::decide(Some(stored), &rhash) {
                crate::idempotency::Decision::Replay(id) => Ok(Created {
                    view: get(c, s, id)?,
                    replayed: true,
                }),
                _ => Err(crate::idempotency::conflict("预算指标", "appropriation")),
            };
        }
        let id: i64 = diesel::insert_into(ap::table)
            .values((
                ap::year.eq(n.year),
                ap::fund.eq(&fund),
                ap::field.eq(&field),
                ap::amount_fen.eq(amount),
                ap::document_no.eq(&document_no),
                ap::note.eq(&note),
                ap::entry_date.eq(date),
                ap::idem_key.eq(&key),
                ap::request_hash.eq(&rhash),
                ap::created_by.eq(user),
                ap::created_at.eq(crate::db::now_micros(now)),
            ))
            .returning(ap::id)
            .get_result(c)?;
        let bucket = Bucket {
            year: n.year,
            fund: fund.clone(),
            field: field.clone(),
        };
        let label = s.fund(&fund).map_or(fund.as_str(), |f| f.zh.as_str());
        let posted = super::post(
            c,
            actor,
            now,
            &NewEntry {
                date,
                kind: Kind::Appropriation,
                memo: format!("{}年{label}预算指标 {document_no}", n.year),
                refs: Refs {
                    appropriation: Some(id),
                    ..Default::default()
                },
                idem_key: format!("appropriation:{id}"),
                lines: vec![
                    Line {
                        account: Account::Budget(Stage::Available, bucket.clone()).name(),
                        amount,
                    },
                    Line {
                        account: Account::Budget(Stage::Appropriated, bucket).name(),
                        amount: -amount,
                    },
                ],
            },
        )?;
        crate::audit::record(
            c,
            actor,
            now,
            "appropriation.create",
            "appropriation",
            Some(id.to_string()),
            None,
            Some(serde_json::json!({
                "year": n.year, "fund": fund, "field": field, "amount_fen": amount,
                "document_no": document_no, "note": note, "date": date.to_string(),
                "entry_seq": posted.entry.seq,
            })),
        )?;
        Ok(Created {
            view: get(c, s, id)?,
            replayed: false,
        })
    })
}

/// One appropriation.
/// The budget (year, fund, field) an appropriation is for; `None` when there is no such appropriation.
pub fn bucket(conn: &mut DbConn, appropriation: i64) -> QueryResult<Option<Bucket>> {
    Ok(ap::table
        .find(appropriation)
        .select((ap::year, ap::fund, ap::field))
        .first::<(i32, String, Option<String>)>(conn)
        .optional()?
        .map(|(year, fund, field)| Bucket { year, fund, field }))
}

pub fn get(conn: &mut DbConn, s: &Settings, id: i64) -> Result<AppropriationView, AppError> {
    let r: Row = ap::table.find(id).select(columns()).first(conn)?;
    Ok(views(conn, s, vec![r])?.remove(0))
}

/// Filters of the list.
#[derive(Debug, Default, Clone, Deserialize, Serialize, utoipa::IntoParams)]
// An unknown parameter is refused (400 naming it), not silently ignored.
#[serde(deny_unknown_fields)]
pub struct AppropriationFilter {
    /// Words of the document number or the note.
    pub q: Option<String>,
    pub year: Option<i32>,
    /// Fund source code.
    pub fund: Option<String>,
    /// Service field.
    pub field: Option<String>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

/// A page of appropriations, newest year first, then newest recorded; filtered in the database.
pub fn list(
    conn: &mut DbConn,
    s: &Settings,
    f: &AppropriationFilter,
) -> Result<Paged<AppropriationView>, AppError> {
    let paging = Paging::new(f.page, f.per_page);
    let q = f.q.as_deref().map(str::trim).filter(|q| !q.is_empty());
    let fund = f.fund.as_deref().map(str::trim).filter(|q| !q.is_empty());
    let field = f.field.as_deref().map(str::trim).filter(|q| !q.is_empty());
    let build = || {
        let mut b = ap::table.into_boxed();
        if let Some(q) = q {
            let p = crate::db::like_pattern(q);
            b = b.filter(
                crate::db::lower(ap::document_no)
                    .like(p.clone())
                    .escape('\\')
                    .or(crate::db::lower(ap::note).like(p).escape('\\')),
            );
        }
        if let Some(y) = f.year {
            b = b.filter(ap::year.eq(y));
        }
        if let Some(fu) = fund {
            b = b.filter(ap::fund.eq(fu.to_string()));
        }
        if let Some(fi) = field {
            b = b.filter(ap::field.eq(fi.to_string()));
        }
        b
    };
    let total: i64 = build().count().get_result(conn)?;
    let rows: Vec<Row> = build()
        .order((ap::year.desc(), ap::id.desc()))
        .offset(paging.offset())
        .limit(paging.limit())
        .select(columns())
        .load(conn)?;
    let items = views(conn, s, rows)?;
    Ok(paging.of(items, total))
}

/// The years that have appropriations, newest first (for the list's filter).
pub fn years(conn: &mut DbConn) -> Result<Vec<i32>, AppError> {
    Ok(ap::table
        .select(ap::year)
        .distinct()
        .order(ap::year.desc())
        .load(conn)?)
}

/// The ledger digest, for pages that show it.
pub fn digest(conn: &mut DbConn) -> Result<Digest, AppError> {
    super::digest(conn)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new(amount: &str) -> NewAppropriation {
        NewAppropriation {
            year: 2026,
            fund: "general".into(),
            field: Some("elderly".into()),
            amount: Yuan::Text(amount.into()),
            document_no: "官财社〔2026〕1号".into(),
            note: None,
            date: None,
            idempotency_key: "k".into(),
        }
    }

    fn rules_of(e: AppError) -> Vec<(String, String)> {
        match e {
            AppError::Validation(v) => v.into_iter().map(|f| (f.field, f.rule)).collect(),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn amounts_are_exact_yuan() {
        let s = Settings::default();
        let today = NaiveDate::from_ymd_opt(2026, 3, 1).unwrap();
        assert_eq!(check(&s, &new("1500000.5"), today).unwrap().0, 150_000_050);
        let json = |amount: serde_json::Value| -> NewAppropriation {
            serde_json::from_value(serde_json::json!({
                "year": 2026, "fund": "general", "amount": amount, "document_no": "x", "idempotency_key": "k"
            }))
            .unwrap()
        };
        assert_eq!(check(&s, &json("12.34".into()), today).unwrap().0, 1234);
        assert_eq!(check(&s, &json(1200.into()), today).unwrap().0, 120_000);
        // A fraction in a JSON number would have been a float: refused, never rounded.
        assert_eq!(
            rules_of(check(&s, &json(serde_json::json!(12.34)), today).unwrap_err()),
            [("amount".to_string(), "decimal_as_text".to_string())]
        );
        assert_eq!(
            rules_of(check(&s, &new("1.001"), today).unwrap_err()),
            [("amount".to_string(), "max_two_decimals".to_string())]
        );
        let mut bad = new("0");
        bad.fund = "other".into();
        bad.field = Some("cars".into());
        bad.year = 1999;
        bad.document_no = " ".into();
        bad.idempotency_key = "".into();
        bad.date = Some("2026-1-1".into());
        let rules = rules_of(check(&s, &bad, today).unwrap_err());
        for want in [
            ("year", "range"),
            ("fund", "one_of"),
            ("field", "one_of"),
            ("amount", "positive"),
            ("document_no", "required"),
            ("idempotency_key", "required"),
            ("date", "date"),
        ] {
            assert!(
                rules.contains(&(want.0.to_string(), want.1.to_string())),
                "{want:?} in {rules:?}"
            );
        }
    }
}

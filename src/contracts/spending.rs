//! Spending reports (docs/SPENDING.md): an organisation reports what it spent under its own live contract
//! against the contract's budget lines, one item at a time or as a CSV file (all or nothing); finance
//! accepts, rejects (with a reason) or queries (with a question) each item; the organisation answers a
//! query, which goes back to finance. Every step is one write transaction with its audit event; a
//! rejection or a query e-mails the organisation's contacts. Reads: the items of a contract, paged, and a
//! summary per budget line (budget, reported, accepted).
//!
//! Items are reported on a live contract only (signed, in progress, mid-term or final accepted): a draft
//! has no budget yet, and a closed or terminated contract's accounts are settled. Finance reviews an item
//! whatever the contract's state.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use super::{ContractRow, Ctx, Reader, find_row};
use crate::audit::Actor;
use crate::db::schema::{spending_items as si, users};
use crate::db::{DbConn, Paged, Paging};
use crate::domain::flags::invoice_key;
use crate::domain::tender::BUDGET_LINES;
use crate::error::{AppError, Checks};
use crate::mail::templates as mails;

/// The states of an item: reported (`submitted`), then `accepted` or `rejected` by finance, or `queried`
/// (a question) → `answered` by the organisation → reviewed again.
pub const STATES: &[(&str, &str, &str)] = &[
    ("submitted", "待审核", "Submitted"),
    ("queried", "待答复", "Queried"),
    ("answered", "已答复", "Answered"),
    ("accepted", "已认可", "Accepted"),
    ("rejected", "已驳回", "Rejected"),
];

/// States that count as reported spending (every one but `rejected`).
pub const COUNTED: &[&str] = &["submitted", "queried", "answered", "accepted"];

/// The CSV columns, in the order of the template.
pub const CSV_COLUMNS: &[&str] = &[
    "date",
    "line",
    "amount",
    "invoice_no",
    "payee",
    "description",
    "evidence_sha256",
];

/// One spending item as reported (JSON body, a form, or a CSV row).
#[derive(Clone, Debug, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewItem {
    /// The day spent (YYYY-MM-DD), not after today.
    pub date: String,
    /// A budget line of the contract (`staff`, `activities`, … or its Chinese name).
    pub line: String,
    /// Yuan as text, at most two decimals, above 0 (e.g. `"1280.50"`).
    pub amount: String,
    /// The invoice number (发票号码); the same invoice claimed twice anywhere is flagged.
    pub invoice_no: String,
    pub payee: String,
    pub description: String,
    /// SHA-256 of the evidence file (invoice scan), 64 hexadecimal digits.
    pub evidence_sha256: Option<String>,
}

/// A spending item as shown.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct ItemView {
    pub id: i64,
    pub contract_id: i64,
    pub line: String,
    pub line_zh: String,
    pub line_en: String,
    #[schema(value_type = String)]
    pub date: NaiveDate,
    pub amount_fen: i64,
    /// Yuan, two decimals.
    pub amount: String,
    pub invoice_no: String,
    pub payee: String,
    pub description: String,
    pub evidence_sha256: Option<String>,
    /// `submitted`, `queried`, `answered`, `accepted` or `rejected`.
    pub state: String,
    /// The reason of a rejection, or finance's question.
    pub review_note: Option<String>,
    pub reviewed_by: Option<String>,
    #[schema(value_type = Option<String>)]
    pub reviewed_at: Option<NaiveDateTime>,
    /// The organisation's answer to a query.
    pub answer: Option<String>,
    #[schema(value_type = Option<String>)]
    pub answered_at: Option<NaiveDateTime>,
    #[schema(value_type = String)]
    pub created_at: NaiveDateTime,
}

#[derive(Queryable, Selectable, Clone, Debug)]
#[diesel(table_name = si)]
pub struct ItemRow {
    pub id: i64,
    pub contract_id: i64,
    pub line: String,
    pub spent_on: NaiveDate,
    pub amount_fen: i64,
    pub invoice_no: String,
    pub invoice_key: String,
    pub payee: String,
    pub description: String,
    pub evidence_sha256: Option<String>,
    pub state: String,
    pub review_note: Option<String>,
    pub reviewed_by: Option<i64>,
    pub reviewed_at: Option<NaiveDateTime>,
    pub answer: Option<String>,
    pub answered_at: Option<NaiveDateTime>,
    pub created_by: i64,
    pub created_at: NaiveDateTime,
}

/// The Chinese and English names of a budget line key.
pub fn line_names(key: &str) -> (&'static str, &'static str) {
    BUDGET_LINES
        .iter()
        .find(|(k, _, _)| *k == key)
        .map(|(_, zh, en)| (*zh, *en))
        .unwrap_or(("其他", "Other"))
}

fn view(r: ItemRow, names: &std::collections::HashMap<i64, String>) -> ItemView {
    let (zh, en) = line_names(&r.line);
    ItemView {
        id: r.id,
        contract_id: r.contract_id,
        line_zh: zh.into(),
        line_en: en.into(),
        line: r.line,
        date: r.spent_on,
        amount_fen: r.amount_fen,
        amount: crate::money::yuan(r.amount_fen),
        invoice_no: r.invoice_no,
        payee: r.payee,
        description: r.description,
        evidence_sha256: r.evidence_sha256,
        state: r.state,
        review_note: r.review_note,
        reviewed_by: r.reviewed_by.and_then(|u| names.get(&u).cloned()),
        reviewed_at: r.reviewed_at,
        answer: r.answer,
        answered_at: r.answered_at,
        created_at: r.created_at,
    }
}

fn views(conn: &mut DbConn, rows: Vec<ItemRow>) -> QueryResult<Vec<ItemView>> {
    let ids: Vec<i64> = rows.iter().filter_map(|r| r.reviewed_by).collect();
    let names: std::collections::HashMap<i64, String> = users::table
        .filter(users::id.eq_any(&ids))
        .select((users::id, users::display_name))
        .load::<(i64, String)>(conn)?
        .into_iter()
        .collect();
    Ok(rows.into_iter().map(|r| view(r, &names)).collect())
}

fn item_row(conn: &mut DbConn, id: i64) -> Result<ItemRow, AppError> {
    si::table
        .find(id)
        .select(ItemRow::as_select())
        .first(conn)
        .optional()?
        .ok_or(AppError::NotFound)
}

/// One item for a reader: 404 when there is none or it is another organisation's.
pub fn get(conn: &mut DbConn, reader: Reader, id: i64) -> Result<ItemView, AppError> {
    let r = item_row(conn, id)?;
    readable(conn, reader, r.contract_id)?;
    Ok(views(conn, vec![r])?.remove(0))
}

/// The contract, when this reader may see its spending: staff any (not a draft's, which has none), an
/// organisation its own; 404 otherwise (one answer for "no such" and "not yours").
pub fn readable(conn: &mut DbConn, reader: Reader, contract: i64) -> Result<ContractRow, AppError> {
    let row = find_row(conn, contract)?;
    if !reader.reads_whole(row.organisation_id) {
        return Err(AppError::NotFound);
    }
    Ok(row)
}

/// The organisation's own contract, open for reporting: 404 for another's, 409 `contract_state` unless
/// live.
fn own_live(conn: &mut DbConn, org: i64, contract: i64) -> Result<ContractRow, AppError> {
    let row = readable(conn, Reader::Org(org), contract)?;
    if !row.state().is_live() {
        return Err(AppError::conflict(
            "contract_state",
            format!(
                "合同当前为“{}”，不能报告支出（须已签订、未结项或终止）。",
                row.state().label(true)
            ),
            format!(
                "The contract is {}: spending is reported on a signed contract that is not closed or terminated.",
                row.state().label(false)
            ),
        ));
    }
    Ok(row)
}

/// A checked item, ready to store.
#[derive(Clone, Debug)]
struct Checked {
    spent_on: NaiveDate,
    line: String,
    amount_fen: i64,
    invoice_no: String,
    invoice_key: String,
    payee: String,
    description: String,
    evidence_sha256: Option<String>,
}

/// Check one item against the contract, naming each field `{prefix}{column}` (`date`, or `rows[3].date`
/// for line 3 of a CSV file).
fn check(
    c: &mut Checks,
    prefix: &str,
    row: &ContractRow,
    today: NaiveDate,
    n: &NewItem,
) -> Option<Checked> {
    let before = c.errors().len();
    let f = |col: &str| format!("{prefix}{col}");
    let spent_on = if n.date.trim().is_empty() {
        c.add(&f("date"), "required", "必填。", "Required.");
        None
    } else {
        c.date(&f("date"), Some(&n.date))
    };
    if let Some(d) = spent_on
        && d > today
    {
        c.add(
            &f("date"),
            "not_future",
            "支出日期不能晚于今天。",
            "The spending date cannot be after today.",
        );
    }
    let lines = row.budget_lines();
    let typed = n.line.trim();
    let line = lines
        .iter()
        .find(|l| {
            let (zh, _) = line_names(&l.line);
            l.line.eq_ignore_ascii_case(typed) || zh == typed
        })
        .map(|l| l.line.clone());
    if typed.is_empty() {
        c.add(&f("line"), "required", "必填。", "Required.");
    } else if line.is_none() {
        let zh: Vec<String> = lines
            .iter()
            .map(|l| format!("{}（{}）", line_names(&l.line).0, l.line))
            .collect();
        let en: Vec<&str> = lines.iter().map(|l| l.line.as_str()).collect();
        c.add(
            &f("line"),
            "one_of",
            format!("预算科目须为本合同的科目之一：{}。", zh.join("、")),
            format!(
                "The line is one of the contract's budget lines: {}.",
                en.join(", ")
            ),
        );
    }
    let amount = crate::money::check_yuan(c, &f("amount"), &n.amount, true);
    let invoice_no = c.text(&f("invoice_no"), &n.invoice_no, 50);
    let key = invoice_key(&invoice_no);
    if !invoice_no.is_empty() && key.is_empty() {
        c.add(
            &f("invoice_no"),
            "required",
            "发票号码不能只有空格和连字符。",
            "An invoice number is more than spaces and hyphens.",
        );
    }
    let payee = c.text(&f("payee"), &n.payee, 100);
    let description = c.text(&f("description"), &n.description, 500);
    let evidence = n
        .evidence_sha256
        .as_deref()
        .map(|s| s.trim().to_ascii_lowercase())
        .filter(|s| !s.is_empty());
    if let Some(e) = &evidence
        && !crate::domain::text::is_sha256_hex(e)
    {
        c.add(
            &f("evidence_sha256"),
            "sha256",
            "凭证文件的 SHA-256 为 64 位十六进制数字。",
            "The evidence file's SHA-256 is 64 hexadecimal digits.",
        );
    }
    if c.errors().len() > before {
        return None;
    }
    Some(Checked {
        spent_on: spent_on?,
        line: line?,
        amount_fen: amount?,
        invoice_no,
        invoice_key: key,
        payee,
        description,
        evidence_sha256: evidence,
    })
}

fn insert(
    conn: &mut DbConn,
    actor: &Actor,
    now: DateTime<Utc>,
    user: i64,
    contract: i64,
    it: &Checked,
    source: &str,
) -> Result<i64, AppError> {
    let id: i64 = diesel::insert_into(si::table)
        .values((
            si::contract_id.eq(contract),
            si::line.eq(&it.line),
            si::spent_on.eq(it.spent_on),
            si::amount_fen.eq(it.amount_fen),
            si::invoice_no.eq(&it.invoice_no),
            si::invoice_key.eq(&it.invoice_key),
            si::payee.eq(&it.payee),
            si::description.eq(&it.description),
            si::evidence_sha256.eq(&it.evidence_sha256),
            si::state.eq("submitted"),
            si::created_by.eq(user),
            si::created_at.eq(crate::db::now_micros(now)),
        ))
        .returning(si::id)
        .get_result(conn)?;
    crate::audit::record(
        conn,
        actor,
        now,
        "spending.report",
        "spending_item",
        Some(id.to_string()),
        None,
        Some(serde_json::json!({
            "contract_id": contract, "line": it.line, "date": it.spent_on.to_string(),
            "amount_fen": it.amount_fen, "invoice_no": it.invoice_no, "payee": it.payee,
            "description": it.description, "evidence_sha256": it.evidence_sha256, "source": source,
        })),
    )?;
    Ok(id)
}

fn author(actor: &Actor) -> Result<i64, AppError> {
    actor
        .id
        .ok_or_else(|| AppError::internal("spending needs a signed-in author"))
}

/// Report one item on the organisation's own live contract (an `org` user). 422 naming each bad field and
/// its rule (nothing written), 404 for another's contract, 409 `contract_state` unless live.
pub fn report(
    conn: &mut DbConn,
    actor: &Actor,
    now: DateTime<Utc>,
    org: i64,
    contract: i64,
    n: &NewItem,
) -> Result<ItemView, AppError> {
    let user = author(actor)?;
    let today = crate::clock::beijing_date(now);
    let id = crate::db::write_tx(conn, |conn| -> Result<i64, AppError> {
        crate::db::lock_row(conn, "contracts", contract)?;
        let row = own_live(conn, org, contract)?;
        let mut c = Checks::new();
        let it = check(&mut c, "", &row, today, n);
        c.finish()?;
        insert(
            conn,
            actor,
            now,
            user,
            contract,
            &it.expect("checked"),
            "single",
        )
    })?;
    get(conn, Reader::Org(org), id)
}

/// What an import stored.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Imported {
    pub created: usize,
    pub items: Vec<ItemView>,
}

/// Import items from CSV (UTF-8, a BOM is fine; header `date,line,amount,invoice_no,payee,description,
/// evidence_sha256`, the last column optional). All or nothing: every row is checked first, and any bad
/// row refuses the file with every error as `rows[LINE].COLUMN` (LINE = the file's line number, the header
/// being line 1) and its rule; nothing is written. A good file is stored in one transaction, each item
/// with its audit event.
pub fn import_csv(
    conn: &mut DbConn,
    actor: &Actor,
    now: DateTime<Utc>,
    org: i64,
    contract: i64,
    csv: &str,
) -> Result<Imported, AppError> {
    let user = author(actor)?;
    let today = crate::clock::beijing_date(now);
    let ids = crate::db::write_tx(conn, |conn| -> Result<Vec<i64>, AppError> {
        crate::db::lock_row(conn, "contracts", contract)?;
        let row = own_live(conn, org, contract)?;
        let items = parse_file(csv)?;
        let mut c = Checks::new();
        let mut good = Vec::new();
        for (line, n) in &items {
            if let Some(it) = check(&mut c, &format!("rows[{line}]."), &row, today, n) {
                good.push(it);
            }
        }
        c.finish()?;
        let mut ids = Vec::new();
        for it in &good {
            ids.push(insert(conn, actor, now, user, contract, it, "csv")?);
        }
        Ok(ids)
    })?;
    let rows: Vec<ItemRow> = si::table
        .filter(si::id.eq_any(&ids))
        .order(si::id.asc())
        .select(ItemRow::as_select())
        .load(conn)?;
    Ok(Imported {
        created: ids.len(),
        items: views(conn, rows)?,
    })
}

/// The rows of a spending CSV with their line numbers; a bad header or no rows refuses the file.
fn parse_file(csv: &str) -> Result<Vec<(usize, NewItem)>, AppError> {
    let t = crate::registry::import::read_table(csv, CSV_COLUMNS, 6, 2000)?;
    Ok(t.rows
        .iter()
        .map(|r| {
            (
                r.line,
                NewItem {
                    date: t.cell(r, "date"),
                    line: t.cell(r, "line"),
                    amount: t.cell(r, "amount"),
                    invoice_no: t.cell(r, "invoice_no"),
                    payee: t.cell(r, "payee"),
                    description: t.cell(r, "description"),
                    evidence_sha256: Some(t.cell(r, "evidence_sha256")),
                },
            )
        })
        .collect())
}

/// Finance's decision on an item.
#[derive(Clone, Debug, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewInput {
    /// `accept`, `reject` or `query`.
    pub decision: String,
    /// The reason of a rejection or the question of a query (required for both); a remark on acceptance.
    pub note: Option<String>,
}

/// Review an item (finance): accept, reject with a reason, or query with a question; only an item that
/// awaits review (submitted or answered: 409 `spending_state` otherwise). A rejection or a query e-mails
/// the organisation's contacts.
pub fn review(
    conn: &mut DbConn,
    ctx: &Ctx,
    actor: &Actor,
    now: DateTime<Utc>,
    id: i64,
    input: &ReviewInput,
) -> Result<ItemView, AppError> {
    let user = author(actor)?;
    crate::db::write_tx(conn, |conn| -> Result<(), AppError> {
        crate::db::lock_row(conn, "spending_items", id)?;
        let it = item_row(conn, id)?;
        let row = find_row(conn, it.contract_id)?;
        let mut c = Checks::new();
        let decision = input.decision.trim();
        let (state, verb_zh, verb_en) = match decision {
            "accept" => ("accepted", "认可", "accepted"),
            "reject" => ("rejected", "驳回", "rejected"),
            "query" => ("queried", "质询", "queried"),
            _ => {
                c.add(
                    "decision",
                    "one_of",
                    "审核结论须为 accept（认可）、reject（驳回）或 query（质询）。",
                    "The decision is accept, reject or query.",
                );
                ("", "", "")
            }
        };
        let note = input.note.as_deref().unwrap_or("").trim().to_string();
        if matches!(decision, "reject" | "query") && note.is_empty() {
            c.add(
                "note",
                "required",
                if decision == "reject" {
                    "驳回须说明理由。"
                } else {
                    "质询须写明问题。"
                },
                if decision == "reject" {
                    "A rejection gives its reason."
                } else {
                    "A query asks its question."
                },
            );
        } else if note.chars().count() > 1000 {
            c.add(
                "note",
                "max_length",
                "至多 1000 字。",
                "At most 1000 characters.",
            );
        }
        c.finish()?;
        if !matches!(it.state.as_str(), "submitted" | "answered") {
            return Err(AppError::conflict(
                "spending_state",
                format!(
                    "该支出当前为“{}”，不在待审核状态。",
                    state_label(&it.state, true)
                ),
                format!(
                    "The item is {}: it is not awaiting review.",
                    state_label(&it.state, false)
                ),
            ));
        }
        diesel::update(si::table.find(id))
            .set((
                si::state.eq(state),
                si::review_note.eq(Some(&note).filter(|n| !n.is_empty())),
                si::reviewed_by.eq(user),
                si::reviewed_at.eq(crate::db::now_micros(now)),
            ))
            .execute(conn)?;
        crate::audit::record(
            conn,
            actor,
            now,
            "spending.review",
            "spending_item",
            Some(id.to_string()),
            Some(serde_json::json!({"state": it.state, "review_note": it.review_note})),
            Some(serde_json::json!({"state": state, "review_note": note, "contract_id": row.id})),
        )?;
        if state != "accepted" {
            let url = format!("{}/spending", ctx.url(row.id));
            let (line_zh, line_en) = line_names(&it.line);
            super::lifecycle::notify(conn, ctx, now, row.organisation_id, |name| {
                mails::SpendingReviewed {
                    recipient: name,
                    contract_no: row.contract_no.clone(),
                    title: row.title.clone(),
                    what_zh: format!(
                        "财务{verb_zh}了第 {id} 项支出（{}，{line_zh}，{} 元，发票 {}）：{note}{}",
                        it.spent_on,
                        crate::money::yuan_grouped(it.amount_fen),
                        it.invoice_no,
                        if state == "queried" {
                            "（请在系统中答复）"
                        } else {
                            ""
                        }
                    ),
                    what_en: format!(
                        "Finance {verb_en} spending item {id} ({}, {line_en}, ¥{}, invoice {}): {note}{}",
                        it.spent_on,
                        crate::money::yuan_grouped(it.amount_fen),
                        it.invoice_no,
                        if state == "queried" {
                            " (please answer in the system)"
                        } else {
                            ""
                        }
                    ),
                    url: url.clone(),
                }
            })?;
        }
        Ok(())
    })?;
    get(conn, Reader::Staff, id)
}

/// The organisation's answer to a query.
#[derive(Clone, Debug, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AnswerInput {
    pub answer: String,
}

/// Answer finance's query on one's own item (an `org` user): queried → answered, back to finance. 404 for
/// another's item, 409 `spending_state` unless queried.
pub fn answer(
    conn: &mut DbConn,
    actor: &Actor,
    now: DateTime<Utc>,
    org: i64,
    id: i64,
    input: &AnswerInput,
) -> Result<ItemView, AppError> {
    crate::db::write_tx(conn, |conn| -> Result<(), AppError> {
        crate::db::lock_row(conn, "spending_items", id)?;
        let it = item_row(conn, id)?;
        readable(conn, Reader::Org(org), it.contract_id)?;
        let mut c = Checks::new();
        let a = c.text("answer", &input.answer, 1000);
        c.finish()?;
        if it.state != "queried" {
            return Err(AppError::conflict(
                "spending_state",
                format!(
                    "该支出当前为“{}”，没有待答复的质询。",
                    state_label(&it.state, true)
                ),
                format!(
                    "The item is {}: there is no query to answer.",
                    state_label(&it.state, false)
                ),
            ));
        }
        diesel::update(si::table.find(id))
            .set((
                si::state.eq("answered"),
                si::answer.eq(&a),
                si::answered_at.eq(crate::db::now_micros(now)),
            ))
            .execute(conn)?;
        crate::audit::record(
            conn,
            actor,
            now,
            "spending.answer",
            "spending_item",
            Some(id.to_string()),
            Some(serde_json::json!({"state": it.state, "answer": it.answer})),
            Some(serde_json::json!({"state": "answered", "answer": a})),
        )?;
        Ok(())
    })?;
    get(conn, Reader::Org(org), id)
}

/// The label of an item state.
pub fn state_label(state: &str, zh: bool) -> String {
    crate::domain::vocab::label(STATES, state, zh)
}

/// Filters of a contract's items.
#[derive(Clone, Debug, Default, Deserialize, Serialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct SpendingFilter {
    /// One of the states (`submitted`, `queried`, `answered`, `accepted`, `rejected`).
    pub state: Option<String>,
    /// A budget line key.
    pub line: Option<String>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

/// A contract's items, newest spending first, filtered and paged in the database.
pub fn list(
    conn: &mut DbConn,
    reader: Reader,
    contract: i64,
    f: &SpendingFilter,
) -> Result<Paged<ItemView>, AppError> {
    readable(conn, reader, contract)?;
    let paging = Paging::new(f.page, f.per_page);
    let state = f.state.as_deref().map(str::trim).filter(|s| !s.is_empty());
    if let Some(s) = state
        && !STATES.iter().any(|(k, _, _)| *k == s)
    {
        return Err(AppError::field(
            "state",
            "one_of",
            "没有这个支出状态。",
            "There is no such spending state.",
        ));
    }
    let line = f.line.as_deref().map(str::trim).filter(|s| !s.is_empty());
    let filtered = || {
        let mut b = si::table.filter(si::contract_id.eq(contract)).into_boxed();
        if let Some(s) = state {
            b = b.filter(si::state.eq(s));
        }
        if let Some(l) = line {
            b = b.filter(si::line.eq(l));
        }
        b
    };
    let total: i64 = filtered().count().get_result(conn)?;
    let rows: Vec<ItemRow> = filtered()
        .order((si::spent_on.desc(), si::id.desc()))
        .offset(paging.offset())
        .limit(paging.limit())
        .select(ItemRow::as_select())
        .load(conn)?;
    Ok(paging.of(views(conn, rows)?, total))
}

/// One budget line: its budget, what was reported (not rejected) and what finance accepted.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct LineSummary {
    pub line: String,
    pub line_zh: String,
    pub line_en: String,
    pub budget_fen: i64,
    pub reported_fen: i64,
    pub accepted_fen: i64,
    pub budget: String,
    pub reported: String,
    pub accepted: String,
    /// Reported above the line's budget.
    pub over: bool,
    /// Reported and accepted as percent of the budget, 0–100 (for a bar; `over` says when beyond).
    pub reported_pct: u32,
    pub accepted_pct: u32,
}

/// A contract's spending by budget line.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Summary {
    pub contract_id: i64,
    pub contract_no: String,
    pub title: String,
    pub organisation_id: i64,
    pub state: String,
    /// Spending may be reported now (the contract is live).
    pub open: bool,
    #[schema(value_type = String)]
    pub term_start: NaiveDate,
    #[schema(value_type = String)]
    pub term_end: NaiveDate,
    pub lines: Vec<LineSummary>,
    pub budget_fen: i64,
    pub reported_fen: i64,
    pub accepted_fen: i64,
}

fn bar(part: i64, whole: i64) -> u32 {
    if whole <= 0 {
        return if part > 0 { 100 } else { 0 };
    }
    ((i128::from(part) * 100 / i128::from(whole)).clamp(0, 100)) as u32
}

/// Reported and accepted fen per (line, state) of one contract, summed in the database.
pub fn sums(conn: &mut DbConn, contract: i64) -> QueryResult<Vec<(String, String, i64)>> {
    si::table
        .filter(si::contract_id.eq(contract))
        .group_by((si::line, si::state))
        .select((
            si::line,
            si::state,
            diesel::dsl::sql::<diesel::sql_types::BigInt>("CAST(SUM(amount_fen) AS BIGINT)"),
        ))
        .load(conn)
}

/// The per-line summary of a contract's spending.
pub fn summary(conn: &mut DbConn, reader: Reader, contract: i64) -> Result<Summary, AppError> {
    let row = readable(conn, reader, contract)?;
    let sums = sums(conn, contract)?;
    let total = |line: &str, states: &[&str]| -> i64 {
        sums.iter()
            .filter(|(l, s, _)| l == line && states.contains(&s.as_str()))
            .map(|(_, _, a)| *a)
            .sum()
    };
    let lines: Vec<LineSummary> = row
        .budget_lines()
        .into_iter()
        .map(|b| {
            let (zh, en) = line_names(&b.line);
            let reported = total(&b.line, COUNTED);
            let accepted = total(&b.line, &["accepted"]);
            LineSummary {
                line_zh: zh.into(),
                line_en: en.into(),
                budget: crate::money::yuan(b.amount_fen),
                reported: crate::money::yuan(reported),
                accepted: crate::money::yuan(accepted),
                over: reported > b.amount_fen,
                reported_pct: bar(reported, b.amount_fen),
                accepted_pct: bar(accepted, b.amount_fen),
                line: b.line,
                budget_fen: b.amount_fen,
                reported_fen: reported,
                accepted_fen: accepted,
            }
        })
        .collect();
    Ok(Summary {
        contract_id: row.id,
        contract_no: row.contract_no.clone(),
        title: row.title.clone(),
        organisation_id: row.organisation_id,
        state: row.state().as_str().into(),
        open: row.state().is_live(),
        term_start: row.term_start,
        term_end: row.term_end,
        budget_fen: lines.iter().map(|l| l.budget_fen).sum(),
        reported_fen: lines.iter().map(|l| l.reported_fen).sum(),
        accepted_fen: lines.iter().map(|l| l.accepted_fen).sum(),
        lines,
    })
}

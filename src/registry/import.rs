//! CSV import and export of organisations and social workers.
//!
//! Files are UTF-8, with or without a byte-order mark; headers may be Chinese or English (see [`ORG_COLUMNS`]
//! and [`WORKER_COLUMNS`]). Every row is validated with the same rules as a single entry; one bad row rejects
//! the whole file, and the refusal lists every bad row as `line N: column` with the rule. A good file is
//! stored in one transaction, each row with its audit event. Exports carry a BOM so spreadsheet programs
//! read the Chinese correctly, and use the same headers, so an export imports again.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;

use crate::audit::{self, Actor};
use crate::auth::CurrentUser;
use crate::db::schema::{organisations as o, streets as st};
use crate::db::{DbConn, write_tx};
use crate::error::{AppError, Checks};
use crate::registry::orgs::{self, OrgInput, OrgView};
use crate::registry::workers::{self, WorkerInput, WorkerView};

/// Organisation columns: (key, Chinese header, what it holds). Headers match the key or the Chinese name.
pub const ORG_COLUMNS: &[(&str, &str, &str)] = &[
    ("name", "名称", "required; at most 100 characters"),
    (
        "kind",
        "类型",
        "社会团体 / 民办非企业单位（社会服务机构） / 基金会 / 备案社区社会组织 / 企业 / 其他, or the keys social_group, private_non_enterprise, foundation, community_group, enterprise, other",
    ),
    (
        "registration",
        "登记状态",
        "已登记 / 已备案 / 未登记（孵化中） or registered / filed / unregistered; empty: registered when a code is given, else filed",
    ),
    (
        "credit_code",
        "统一社会信用代码",
        "18 characters, checked; required when registered; unique",
    ),
    ("registered_on", "登记日期", "YYYY-MM-DD"),
    ("registration_authority", "登记管理机关", "text"),
    ("legal_representative", "法定代表人", "text"),
    ("contact_name", "联系人", "text"),
    ("contact_phone", "联系电话", "7–20 digits"),
    ("contact_email", "电子邮箱", "an e-mail address"),
    ("address", "地址", "text"),
    ("street", "所在街道", "street name or code"),
    ("staff_count", "专职人数", "whole number"),
    ("volunteer_count", "志愿者人数", "whole number"),
    (
        "fields",
        "服务领域",
        "service fields (names or keys) separated by ； ; 、 or |",
    ),
    (
        "areas",
        "服务区域",
        "streets served (names or codes) separated by ； ; 、 or |",
    ),
    (
        "current_rating",
        "当前等级",
        "export only; ignored on import",
    ),
    ("standing", "信用状态", "export only; ignored on import"),
];

pub const WORKER_COLUMNS: &[(&str, &str, &str)] = &[
    ("name", "姓名", "required"),
    (
        "organisation",
        "所属组织",
        "the organisation's credit code or exact name",
    ),
    (
        "id_number",
        "身份证号",
        "18 characters, checked; stored only as a keyed hash",
    ),
    ("phone", "手机号", "7–20 digits"),
    (
        "certificate_level",
        "证书等级",
        "无证书 / 助理社会工作师 / 社会工作师 / 高级社会工作师 or none / assistant / social_worker / senior",
    ),
    (
        "certificate_number",
        "证书编号",
        "required with a certificate; unique",
    ),
    ("certified_on", "取证日期", "YYYY-MM-DD"),
    (
        "employment",
        "用工形式",
        "全职 / 兼职 / 已离职 or full_time / part_time / left",
    ),
    (
        "streets",
        "服务街道",
        "streets served (names or codes) separated by ； ; 、 or |",
    ),
];

const EXPORT_ONLY: &[&str] = &["current_rating", "standing"];

/// A CSV record with the file line it starts on (the header is line 1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub line: usize,
    pub cells: Vec<String>,
}

/// Read CSV text (RFC 4180: commas, double quotes doubled inside quoted cells, CRLF or LF). A leading BOM is
/// dropped. Blank lines are skipped.
pub fn parse_csv(text: &str) -> Result<Vec<Record>, (usize, &'static str)> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut out = Vec::new();
    let mut cells: Vec<String> = Vec::new();
    let mut cell = String::new();
    let mut line = 1;
    let mut start = 1;
    let mut in_quotes = false;
    let mut quoted_cell = false;
    let mut chars = text.chars().peekable();
    let mut end_record =
        |cells: &mut Vec<String>, cell: &mut String, start: usize, quoted: bool| {
            cells.push(std::mem::take(cell));
            let rec = std::mem::take(cells);
            if !(rec.len() == 1 && rec[0].trim().is_empty() && !quoted) {
                out.push(Record {
                    line: start,
                    cells: rec,
                });
            }
        };
    while let Some(c) = chars.next() {
        if in_quotes {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    cell.push('"');
                }
                '"' => in_quotes = false,
                '\n' => {
                    line += 1;
                    cell.push('\n');
                }
                _ => cell.push(c),
            }
            continue;
        }
        match c {
            '"' if cell.is_empty() => {
                in_quotes = true;
                quoted_cell = true;
            }
            ',' => cells.push(std::mem::take(&mut cell)),
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' | '\r' => {
                end_record(&mut cells, &mut cell, start, quoted_cell);
                quoted_cell = false;
                line += 1;
                start = line;
            }
            _ => cell.push(c),
        }
    }
    if in_quotes {
        return Err((start, "unterminated_quote"));
    }
    if !cell.is_empty() || !cells.is_empty() {
        end_record(&mut cells, &mut cell, start, quoted_cell);
    }
    Ok(out)
}

/// A CSV file with a header naming its columns: the columns in file order and the data rows.
#[derive(Debug)]
pub struct Table {
    keys: Vec<&'static str>,
    pub rows: Vec<Record>,
}

impl Table {
    /// A row's cell under a column, trimmed; empty when the file has no such column.
    pub fn cell(&self, r: &Record, k: &str) -> String {
        self.keys
            .iter()
            .position(|x| *x == k)
            .and_then(|i| r.cells.get(i))
            .map(|s| s.trim().to_string())
            .unwrap_or_default()
    }
}

/// Read a CSV file whose header names some of `columns` (in any order, any case): the first `required`
/// columns must be there, nothing unknown or repeated, one to `max_rows` data rows. Every header fault is
/// reported at once, as `header[N]` (unknown, repeated) or `header` (missing), each with its rule.
pub fn read_table(
    csv: &str,
    columns: &[&'static str],
    required: usize,
    max_rows: usize,
) -> Result<Table, AppError> {
    use crate::error::FieldError;
    let recs = parse_csv(csv).map_err(|(line, _)| {
        file_error(
            "csv",
            format!("第 {line} 行起的引号没有闭合。"),
            format!("The quote opened on line {line} is never closed."),
        )
    })?;
    let empty = || {
        file_error(
            "empty",
            "文件须有表头和至少一行数据。".into(),
            "The file needs a header and at least one row.".into(),
        )
    };
    let mut recs = recs.into_iter();
    let Some(head) = recs.next() else {
        return Err(empty());
    };
    let rows: Vec<Record> = recs.collect();
    let mut errs = Vec::new();
    let mut keys: Vec<&'static str> = Vec::new();
    for (i, h) in head.cells.iter().enumerate() {
        let h = h.trim();
        match columns.iter().find(|k| k.eq_ignore_ascii_case(h)) {
            Some(k) if keys.contains(k) => errs.push(FieldError::new(
                &format!("header[{}]", i + 1),
                "duplicate_column",
                format!("列“{h}”重复。"),
                format!("Column {h:?} appears twice."),
            )),
            Some(k) => keys.push(k),
            None => {
                errs.push(FieldError::new(
                    &format!("header[{}]", i + 1),
                    "unknown_column",
                    format!("未知列“{h}”。表头为：{}。", columns.join(",")),
                    format!(
                        "Unknown column {h:?}. The header is: {}.",
                        columns.join(",")
                    ),
                ));
                keys.push("");
            }
        }
    }
    for k in &columns[..required] {
        if !keys.contains(k) {
            errs.push(FieldError::new(
                "header",
                "required_column",
                format!("缺少“{k}”列。"),
                format!("The column {k} is missing."),
            ));
        }
    }
    if !errs.is_empty() {
        return Err(AppError::Validation(errs));
    }
    if rows.is_empty() {
        return Err(empty());
    }
    if rows.len() > max_rows {
        return Err(file_error(
            "max_rows",
            format!("一个文件至多 {max_rows} 行。"),
            format!("At most {max_rows} rows a file."),
        ));
    }
    Ok(Table { keys, rows })
}

/// Write one CSV line (quoted where needed), ending in CRLF. A cell a spreadsheet would run as a formula
/// (starting with `=`, `+`, `-`, `@`, a tab or a carriage return) gets a leading `'`, so a name typed as
/// `=HYPERLINK(…)` is shown, never run (OWASP, CSV injection).
pub fn csv_line(cells: &[String]) -> String {
    let mut s = cells
        .iter()
        .map(|c| {
            let c = &if c.starts_with(['=', '+', '-', '@', '\t', '\r']) {
                format!("'{c}")
            } else {
                c.clone()
            };
            if c.contains([',', '"', '\n', '\r']) || c.starts_with(' ') || c.ends_with(' ') {
                format!("\"{}\"", c.replace('"', "\"\""))
            } else {
                c.clone()
            }
        })
        .collect::<Vec<_>>()
        .join(",");
    s.push_str("\r\n");
    s
}

/// A whole CSV document as the exports write it: a UTF-8 BOM (so spreadsheet programs read the Chinese
/// right), the header row, then one line per row, each line ending in CRLF.
pub fn csv_document<I>(header: &[&str], rows: I) -> String
where
    I: IntoIterator<Item = Vec<String>>,
{
    let mut out = String::from("\u{feff}");
    out.push_str(&csv_line(
        &header.iter().map(|h| h.to_string()).collect::<Vec<_>>(),
    ));
    for r in rows {
        out.push_str(&csv_line(&r));
    }
    out
}

fn file_error(rule: &str, zh: String, en: String) -> AppError {
    AppError::Validation(vec![crate::error::FieldError::new("file", rule, zh, en)])
}

/// Map the header row to column keys; unknown or repeated headers refuse the file.
fn header_keys(
    rec: &Record,
    columns: &[(&'static str, &'static str, &'static str)],
) -> Result<Vec<&'static str>, AppError> {
    let mut keys = Vec::new();
    let mut errs = Vec::new();
    for (i, h) in rec.cells.iter().enumerate() {
        let h = h.trim();
        match columns
            .iter()
            .find(|(k, zh, _)| k.eq_ignore_ascii_case(h) || *zh == h)
        {
            Some((k, _, _)) if keys.contains(k) => errs.push(crate::error::FieldError::new(
                &format!("line 1: column {}", i + 1),
                "duplicate_column",
                format!("列“{h}”重复。"),
                format!("Column {h:?} appears twice."),
            )),
            Some((k, _, _)) => keys.push(*k),
            None => {
                let known = columns
                    .iter()
                    .map(|(k, zh, _)| format!("{zh}/{k}"))
                    .collect::<Vec<_>>()
                    .join(", ");
                errs.push(crate::error::FieldError::new(
                    &format!("line 1: column {}", i + 1),
                    "unknown_column",
                    format!("未知列“{h}”。可用列：{known}。"),
                    format!("Unknown column {h:?}. Columns: {known}."),
                ));
                keys.push("");
            }
        }
    }
    if !keys.contains(&"name") {
        errs.push(crate::error::FieldError::new(
            "line 1: name",
            "required_column",
            "缺少“名称/姓名”列。",
            "The name column is missing.",
        ));
    }
    if errs.is_empty() {
        Ok(keys)
    } else {
        Err(AppError::Validation(errs))
    }
}

fn split_list(s: &str) -> Vec<String> {
    s.split(['；', ';', '、', '|'])
        .map(str::trim)
        .filter(|x| !x.is_empty())
        .map(str::to_string)
        .collect()
}

fn records_of(text: &str) -> Result<Vec<Record>, AppError> {
    let recs = parse_csv(text).map_err(|(line, _)| {
        file_error(
            "csv",
            format!("第 {line} 行起的引号没有闭合。"),
            format!("The quote opened on line {line} is never closed."),
        )
    })?;
    if recs.len() < 2 {
        return Err(file_error(
            "empty",
            "文件须有表头和至少一行数据。".into(),
            "The file needs a header and at least one row.".into(),
        ));
    }
    Ok(recs)
}

struct StreetIndex(Vec<(i64, String, String)>);

impl StreetIndex {
    fn load(conn: &mut DbConn) -> QueryResult<StreetIndex> {
        Ok(StreetIndex(
            st::table.select((st::id, st::code, st::name)).load(conn)?,
        ))
    }
    fn find(&self, s: &str) -> Option<i64> {
        let s = s.trim();
        self.0
            .iter()
            .find(|(_, code, name)| code == s || name == s)
            .map(|(id, _, _)| *id)
    }
    fn name(&self, id: i64) -> String {
        self.0
            .iter()
            .find(|(i, _, _)| *i == id)
            .map(|(_, _, n)| n.clone())
            .unwrap_or_default()
    }
}

fn cell<'a>(keys: &[&str], rec: &'a Record, key: &str) -> &'a str {
    keys.iter()
        .position(|k| *k == key)
        .and_then(|i| rec.cells.get(i))
        .map(|s| s.trim())
        .unwrap_or("")
}

fn count_cell(checks: &mut Checks, field: &str, v: &str) -> Option<i64> {
    if v.is_empty() {
        return None;
    }
    match v.parse::<i64>() {
        Ok(n) => Some(n),
        Err(_) => {
            checks.add(
                field,
                "integer",
                "应为整数。",
                "A whole number is expected.",
            );
            None
        }
    }
}

/// What an import stored.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ImportResult {
    pub imported: usize,
    pub ids: Vec<i64>,
}

fn check_width(checks: &mut Checks, rec: &Record, width: usize) {
    if rec.cells.len() != width {
        checks.add(
            &format!("line {}: row", rec.line),
            "columns",
            format!("此行有 {} 列，表头有 {width} 列。", rec.cells.len()),
            format!(
                "This row has {} cells; the header has {width}.",
                rec.cells.len()
            ),
        );
    }
}

/// Import organisations: all rows or none.
pub fn import_orgs(
    conn: &mut DbConn,
    actor: &Actor,
    now: DateTime<Utc>,
    rules: crate::domain::standing::Rules,
    text: &str,
) -> Result<ImportResult, AppError> {
    let recs = records_of(text)?;
    let keys = header_keys(&recs[0], ORG_COLUMNS)?;
    let today = crate::clock::beijing_date(now);
    let ts = crate::db::now_micros(now);
    let imported = write_tx(conn, |conn| {
        let streets = StreetIndex::load(conn)?;
        let mut checks = Checks::new();
        let mut cleans = Vec::new();
        let mut codes: HashMap<String, usize> = HashMap::new();
        for rec in &recs[1..] {
            let line = rec.line;
            let f = |k: &str| format!("line {line}: {k}");
            check_width(&mut checks, rec, keys.len());
            let c = |k: &str| cell(&keys, rec, k);
            let mut inp = OrgInput {
                name: c("name").to_string(),
                kind: orgs::key_of(orgs::KINDS, c("kind"))
                    .map(str::to_string)
                    .unwrap_or_else(|| c("kind").to_string()),
                registration: orgs::key_of(orgs::REGISTRATIONS, c("registration"))
                    .map(str::to_string)
                    .unwrap_or_else(|| c("registration").to_string()),
                credit_code: Some(c("credit_code").to_string()),
                registered_on: Some(c("registered_on").to_string()),
                registration_authority: Some(c("registration_authority").to_string()),
                legal_representative: Some(c("legal_representative").to_string()),
                contact_name: Some(c("contact_name").to_string()),
                contact_phone: Some(c("contact_phone").to_string()),
                contact_email: Some(c("contact_email").to_string()),
                address: Some(c("address").to_string()),
                ..Default::default()
            };
            if inp.registration.is_empty() {
                inp.registration = if c("credit_code").is_empty() {
                    "filed".into()
                } else {
                    "registered".into()
                };
            }
            inp.staff_count = count_cell(&mut checks, &f("staff_count"), c("staff_count"));
            inp.volunteer_count =
                count_cell(&mut checks, &f("volunteer_count"), c("volunteer_count"));
            if !c("street").is_empty() {
                match streets.find(c("street")) {
                    Some(id) => inp.street_id = Some(id),
                    None => checks.add(
                        &f("street"),
                        "exists",
                        format!("街道“{}”不存在。", c("street")),
                        format!("No street {:?}.", c("street")),
                    ),
                }
            }
            for fl in split_list(c("fields")) {
                inp.fields.push(
                    orgs::key_of(orgs::FIELDS, &fl)
                        .map(str::to_string)
                        .unwrap_or(fl),
                );
            }
            for a in split_list(c("areas")) {
                match streets.find(&a) {
                    Some(id) => inp.area_street_ids.push(id),
                    None => checks.add(
                        &f("areas"),
                        "exists",
                        format!("街道“{a}”不存在。"),
                        format!("No street {a:?}."),
                    ),
                }
            }
            if let Some(clean) = orgs::validate(conn, &inp, None, today, &mut checks, &f)? {
                if let Some(code) = &clean.credit_code
                    && let Some(first) = codes.insert(code.clone(), line)
                {
                    checks.add(
                        &f("credit_code"),
                        "unique_in_file",
                        format!("与第 {first} 行的统一社会信用代码重复。"),
                        format!("The same credit code as line {first}."),
                    );
                }
                cleans.push(clean);
            }
        }
        checks.finish()?;
        let mut ids = Vec::new();
        for c in &cleans {
            let id = orgs::insert_clean(conn, ts, c)?;
            audit::record(
                conn,
                actor,
                now,
                "organisation.import",
                "organisation",
                Some(id.to_string()),
                None,
                Some(
                    serde_json::json!({"name": c.name, "kind": c.kind, "credit_code": c.credit_code}),
                ),
            )?;
            ids.push(id);
        }
        orgs::redecide(conn, &ids, today, rules)?;
        Ok::<_, AppError>(ImportResult {
            imported: ids.len(),
            ids,
        })
    })?;
    // Each inserted row appended a change row to the counts on PostgreSQL; folded after the commit, not
    // inside the import's transaction (`orgs::fold_counts`).
    orgs::fold_counts(conn)?;
    Ok(imported)
}

/// Import social workers: all rows or none.
pub fn import_workers(
    conn: &mut DbConn,
    actor: &Actor,
    now: DateTime<Utc>,
    secret: &str,
    text: &str,
) -> Result<ImportResult, AppError> {
    let recs = records_of(text)?;
    let keys = header_keys(&recs[0], WORKER_COLUMNS)?;
    let today = crate::clock::beijing_date(now);
    let ts = crate::db::now_micros(now);
    write_tx(conn, |conn| {
        let streets = StreetIndex::load(conn)?;
        let org_index: Vec<(i64, String, Option<String>)> = o::table
            .select((o::id, o::name, o::credit_code))
            .load(conn)?;
        let mut checks = Checks::new();
        let mut cleans = Vec::new();
        let mut seen_ids: HashMap<String, usize> = HashMap::new();
        let mut seen_certs: HashMap<String, usize> = HashMap::new();
        for rec in &recs[1..] {
            let line = rec.line;
            let f = |k: &str| format!("line {line}: {k}");
            check_width(&mut checks, rec, keys.len());
            let c = |k: &str| cell(&keys, rec, k);
            let mut inp = WorkerInput {
                name: c("name").to_string(),
                id_number: Some(c("id_number").to_string()),
                phone: Some(c("phone").to_string()),
                certificate_level: crate::registry::orgs::key_of(
                    workers::LEVELS,
                    c("certificate_level"),
                )
                .map(str::to_string)
                .unwrap_or_else(|| c("certificate_level").to_string()),
                certificate_number: Some(c("certificate_number").to_string()),
                certified_on: Some(c("certified_on").to_string()),
                employment: crate::registry::orgs::key_of(workers::EMPLOYMENTS, c("employment"))
                    .map(str::to_string)
                    .unwrap_or_else(|| c("employment").to_string()),
                ..Default::default()
            };
            let org = c("organisation");
            let code = crate::domain::credit_code::normalise(org);
            let by_code: Vec<i64> = org_index
                .iter()
                .filter(|(_, _, cc)| cc.as_deref() == Some(code.as_str()))
                .map(|(id, _, _)| *id)
                .collect();
            let by_name: Vec<i64> = org_index
                .iter()
                .filter(|(_, n, _)| n == org)
                .map(|(id, _, _)| *id)
                .collect();
            let mut org_bad = false;
            match (by_code.as_slice(), by_name.as_slice()) {
                _ if org.is_empty() => {
                    checks.add(&f("organisation"), "required", "必填。", "Required.");
                    org_bad = true;
                }
                ([id], _) | ([], [id]) => inp.organisation_id = *id,
                ([], []) => {
                    checks.add(
                        &f("organisation"),
                        "exists",
                        format!("找不到组织“{org}”。"),
                        format!("No organisation {org:?}."),
                    );
                    org_bad = true;
                }
                _ => {
                    checks.add(
                        &f("organisation"),
                        "ambiguous",
                        format!("有多个组织名为“{org}”，请填写统一社会信用代码。"),
                        format!("Several organisations are named {org:?}; give the credit code."),
                    );
                    org_bad = true;
                }
            }
            for s in split_list(c("streets")) {
                match streets.find(&s) {
                    Some(id) => inp.street_ids.push(id),
                    None => checks.add(
                        &f("streets"),
                        "exists",
                        format!("街道“{s}”不存在。"),
                        format!("No street {s:?}."),
                    ),
                }
            }
            // Validate without the organisation check when the organisation was already reported.
            let mut row_checks = Checks::new();
            let clean = workers::validate(conn, secret, &inp, None, today, &mut row_checks, &f)?;
            for e in row_checks.errors() {
                if !(org_bad && e.field == f("organisation_id")) {
                    let field = if e.field == f("organisation_id") {
                        f("organisation")
                    } else if e.field == f("street_ids") {
                        f("streets")
                    } else {
                        e.field.clone()
                    };
                    checks.add(&field, &e.rule, e.message.zh.clone(), e.message.en.clone());
                }
            }
            if let Some(clean) = clean {
                if let Some(h) = &clean.id_hash
                    && let Some(first) = seen_ids.insert(h.clone(), line)
                {
                    checks.add(
                        &f("id_number"),
                        "unique_in_file",
                        format!("与第 {first} 行的身份证号重复。"),
                        format!("The same identity number as line {first}."),
                    );
                }
                if let Some(n) = &clean.certificate_number
                    && let Some(first) = seen_certs.insert(n.clone(), line)
                {
                    checks.add(
                        &f("certificate_number"),
                        "unique_in_file",
                        format!("与第 {first} 行的证书编号重复。"),
                        format!("The same certificate number as line {first}."),
                    );
                }
                cleans.push(clean);
            }
        }
        checks.finish()?;
        let mut ids = Vec::new();
        for c in &cleans {
            // Only the bureau imports: its file is its verification.
            let id = workers::insert_clean(conn, ts, c, true)?;
            audit::record(
                conn,
                actor,
                now,
                "social_worker.import",
                "social_worker",
                Some(id.to_string()),
                None,
                Some(
                    serde_json::json!({"name": c.name, "organisation_id": c.organisation_id, "certificate_level": c.certificate_level}),
                ),
            )?;
            ids.push(id);
        }
        Ok(ImportResult {
            imported: ids.len(),
            ids,
        })
    })
}

/// Organisations as CSV (with BOM), Chinese headers and labels, importable again.
pub fn export_orgs(conn: &mut DbConn, rows: &[OrgView]) -> Result<String, AppError> {
    let streets = StreetIndex::load(conn)?;
    let mut out = String::from("\u{feff}");
    out.push_str(&csv_line(
        &ORG_COLUMNS
            .iter()
            .map(|(_, zh, _)| zh.to_string())
            .collect::<Vec<_>>(),
    ));
    for v in rows {
        let o = |x: &Option<String>| x.clone().unwrap_or_default();
        out.push_str(&csv_line(&[
            v.name.clone(),
            orgs::label(orgs::KINDS, &v.kind, true),
            orgs::label(orgs::REGISTRATIONS, &v.registration, true),
            o(&v.credit_code),
            v.registered_on.map(|d| d.to_string()).unwrap_or_default(),
            o(&v.registration_authority),
            o(&v.legal_representative),
            o(&v.contact_name),
            o(&v.contact_phone),
            o(&v.contact_email),
            o(&v.address),
            o(&v.street_name),
            v.staff_count.to_string(),
            v.volunteer_count.to_string(),
            v.fields
                .iter()
                .map(|f| orgs::label(orgs::FIELDS, f, true))
                .collect::<Vec<_>>()
                .join("；"),
            v.area_street_ids
                .iter()
                .map(|s| streets.name(*s))
                .collect::<Vec<_>>()
                .join("；"),
            v.current_rating
                .map(|g| format!("{g}A"))
                .unwrap_or_default(),
            v.standing.status.label_zh().to_string(),
        ]));
    }
    Ok(out)
}

/// Social workers as CSV (with BOM); phones as the viewer may see them, never identity numbers.
pub fn export_workers(
    conn: &mut DbConn,
    _by: &CurrentUser,
    rows: &[WorkerView],
) -> Result<String, AppError> {
    let codes: HashMap<i64, Option<String>> = o::table
        .select((o::id, o::credit_code))
        .load::<(i64, Option<String>)>(conn)?
        .into_iter()
        .collect();
    let mut out = String::from("\u{feff}");
    out.push_str(&csv_line(
        &WORKER_COLUMNS
            .iter()
            .map(|(_, zh, _)| zh.to_string())
            .collect::<Vec<_>>(),
    ));
    for w in rows {
        let org = codes
            .get(&w.organisation_id)
            .cloned()
            .flatten()
            .unwrap_or_else(|| w.organisation_name.clone());
        out.push_str(&csv_line(&[
            w.name.clone(),
            org,
            String::new(),
            w.phone.clone().unwrap_or_default(),
            orgs::label(workers::LEVELS, &w.certificate_level, true),
            w.certificate_number.clone().unwrap_or_default(),
            w.certified_on.map(|d| d.to_string()).unwrap_or_default(),
            orgs::label(workers::EMPLOYMENTS, &w.employment, true),
            w.street_names.join("；"),
        ]));
    }
    Ok(out)
}

/// The column documentation, for the import page and the OpenAPI description.
pub fn columns_doc(columns: &[(&str, &str, &str)]) -> String {
    columns
        .iter()
        .filter(|(k, _, _)| !EXPORT_ONLY.contains(k))
        .map(|(k, zh, what)| format!("{zh} / {k}: {what}"))
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_quotes_bom_crlf_and_blank_lines() {
        let t = "\u{feff}名称,地址\r\n\"甲, 乙\",\"说 \"\"好\"\"\"\r\n\r\n丙,\"多\n行\"\n丁,x";
        let r = parse_csv(t).unwrap();
        assert_eq!(r.len(), 4);
        assert_eq!(r[0].cells, vec!["名称", "地址"]);
        assert_eq!(r[1].cells, vec!["甲, 乙", "说 \"好\""]);
        assert_eq!(r[1].line, 2);
        assert_eq!(r[2].line, 4);
        assert_eq!(r[2].cells, vec!["丙", "多\n行"]);
        assert_eq!(r[3].line, 6);
        assert!(parse_csv("a,\"b\nc").is_err());
    }

    #[test]
    fn lines_round_trip() {
        let cells = vec!["a,b".to_string(), "x\"y".into(), " z".into(), "普通".into()];
        let line = csv_line(&cells);
        assert_eq!(parse_csv(&line).unwrap()[0].cells, cells);
    }

    /// OWASP CSV injection: every export neutralises a cell a spreadsheet would run as a formula.
    #[test]
    fn formula_cells_are_neutralised() {
        let cells: Vec<String> = [
            "=1+1", "+86 139", "-2", "@SUM(A1)", "\tx", "\rx", "a=b", "普通",
        ]
        .map(String::from)
        .to_vec();
        let back = &parse_csv(&csv_line(&cells)).unwrap()[0].cells;
        assert_eq!(
            back,
            &[
                "'=1+1",
                "'+86 139",
                "'-2",
                "'@SUM(A1)",
                "'\tx",
                "'\rx",
                "a=b",
                "普通"
            ]
        );
    }
}

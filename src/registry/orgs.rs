//! Organisations: identity and credit code, registration, contacts, service fields and areas, ratings, annual
//! inspections and credit listings; the standing computed from them (`domain::standing`); the public directory;
//! demo data. Every change is audited in its transaction.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use crate::audit::{self, Actor};
use crate::auth::{CurrentUser, Role};
use crate::clock::beijing_date;
use crate::db::schema::{
    credit_listings as cl, organisation_areas as oa, organisation_fields as of,
    organisation_inspections as oi, organisation_ratings as ora, organisations as o, streets as st,
};
use crate::db::{DbConn, write_tx};
use crate::domain::credit_code::CreditCode;
use crate::domain::standing::{self, Standing};
use crate::error::{AppError, Checks};

/// Organisation kinds: (key, zh, en).
pub const KINDS: &[(&str, &str, &str)] = &[
    ("social_group", "社会团体", "Social group"),
    (
        "private_non_enterprise",
        "民办非企业单位（社会服务机构）",
        "Private non-enterprise unit",
    ),
    ("foundation", "基金会", "Foundation"),
    (
        "community_group",
        "备案社区社会组织",
        "Filed community group",
    ),
    ("enterprise", "企业", "Enterprise"),
    ("other", "其他", "Other"),
];

pub const REGISTRATIONS: &[(&str, &str, &str)] = &[
    ("registered", "已登记", "Registered"),
    ("filed", "已备案", "Filed"),
    (
        "unregistered",
        "未登记（孵化中）",
        "Unregistered (in incubation)",
    ),
];

/// Service fields.
pub const FIELDS: &[(&str, &str, &str)] = &[
    ("elderly", "养老服务", "Elderly services"),
    ("youth", "青少年服务", "Youth"),
    ("children", "儿童服务", "Children"),
    ("disability", "助残服务", "Disability support"),
    ("relief", "社会救助", "Relief and assistance"),
    ("community_governance", "社区治理", "Community governance"),
    ("mediation", "矛盾调解", "Mediation"),
    ("women_family", "妇女家庭", "Women and families"),
    ("health", "健康服务", "Health"),
    ("culture", "文化体育", "Culture and sport"),
    ("environment", "环境保护", "Environment"),
    ("volunteering", "志愿服务", "Volunteering"),
];

pub const LISTS: &[(&str, &str, &str)] = &[
    ("dishonesty", "严重违法失信名单", "Serious-dishonesty list"),
    ("court_defaulter", "失信被执行人", "Court defaulter"),
    ("debarment", "政府采购禁入名单", "Procurement debarment"),
    ("abnormal", "活动异常名录", "Abnormal-activity list"),
];

pub const INSPECTION_KINDS: &[(&str, &str, &str)] = &[
    ("inspection", "年检", "Annual inspection"),
    ("annual_report", "年报", "Annual report"),
];

pub const CONCLUSIONS: &[(&str, &str, &str)] = &[
    ("pass", "合格", "Pass"),
    ("basic_pass", "基本合格", "Basic pass"),
    ("fail", "不合格", "Fail"),
];

pub use crate::domain::vocab::{key_of, label};
use crate::domain::vocab::{keys, one_of};

#[derive(Queryable, Selectable, Debug, Clone, Serialize)]
#[diesel(table_name = o)]
pub struct OrgRow {
    pub id: i64,
    pub name: String,
    pub kind: String,
    pub registration: String,
    pub credit_code: Option<String>,
    pub registered_on: Option<NaiveDate>,
    pub registration_authority: Option<String>,
    pub legal_representative: Option<String>,
    pub contact_name: Option<String>,
    pub contact_phone: Option<String>,
    pub contact_email: Option<String>,
    pub address: Option<String>,
    pub street_id: Option<i64>,
    pub staff_count: i32,
    pub volunteer_count: i32,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Queryable, Selectable, Debug, Clone, Serialize, utoipa::ToSchema)]
#[diesel(table_name = ora)]
pub struct RatingRow {
    pub id: i64,
    pub organisation_id: i64,
    /// 1–5 (1A–5A)
    pub grade: i32,
    #[schema(value_type = String)]
    pub awarded_on: NaiveDate,
    #[schema(value_type = String)]
    pub expires_on: NaiveDate,
    #[serde(skip)]
    pub created_at: NaiveDateTime,
}

#[derive(Queryable, Selectable, Debug, Clone, Serialize, utoipa::ToSchema)]
#[diesel(table_name = oi)]
pub struct InspectionRow {
    pub id: i64,
    pub organisation_id: i64,
    pub year: i32,
    /// inspection (年检) or annual_report (年报)
    pub kind: String,
    /// pass, basic_pass or fail
    pub conclusion: String,
    #[schema(value_type = String)]
    pub decided_on: NaiveDate,
    #[serde(skip)]
    pub created_at: NaiveDateTime,
}

#[derive(Queryable, Selectable, Debug, Clone, Serialize, utoipa::ToSchema)]
#[diesel(table_name = cl)]
pub struct ListingRow {
    pub id: i64,
    pub organisation_id: i64,
    /// dishonesty, court_defaulter, debarment or abnormal
    pub list: String,
    pub source: String,
    #[schema(value_type = String)]
    pub listed_on: NaiveDate,
    #[schema(value_type = Option<String>)]
    pub removed_on: Option<NaiveDate>,
    pub evidence_sha256: String,
    #[serde(skip)]
    pub created_at: NaiveDateTime,
}

/// An organisation as the bureau (and the organisation itself) sees it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OrgView {
    pub id: i64,
    pub name: String,
    pub kind: String,
    pub registration: String,
    pub credit_code: Option<String>,
    #[schema(value_type = Option<String>)]
    pub registered_on: Option<NaiveDate>,
    pub registration_authority: Option<String>,
    pub legal_representative: Option<String>,
    pub contact_name: Option<String>,
    pub contact_phone: Option<String>,
    pub contact_email: Option<String>,
    pub address: Option<String>,
    pub street_id: Option<i64>,
    pub street_name: Option<String>,
    pub staff_count: i32,
    pub volunteer_count: i32,
    /// Service fields (keys).
    pub fields: Vec<String>,
    /// Streets served.
    pub area_street_ids: Vec<i64>,
    /// Grade (1–5) of the rating in force today; an expired rating counts as none.
    pub current_rating: Option<i32>,
    pub standing: Standing,
    #[schema(value_type = String)]
    pub created_at: NaiveDateTime,
    #[schema(value_type = String)]
    pub updated_at: NaiveDateTime,
}

/// An organisation with its history.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OrgDetail {
    pub organisation: OrgView,
    pub ratings: Vec<RatingRow>,
    pub inspections: Vec<InspectionRow>,
    pub listings: Vec<ListingRow>,
}

/// What the public directory shows: never contacts or phones.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PublicOrg {
    pub id: i64,
    pub name: String,
    pub kind: String,
    pub credit_code: Option<String>,
    pub current_rating: Option<i32>,
    pub fields: Vec<String>,
}

/// A new organisation (also the merged state an update is checked against).
#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct OrgInput {
    #[serde(default)]
    pub name: String,
    /// social_group, private_non_enterprise, foundation, community_group, enterprise or other
    #[serde(default)]
    pub kind: String,
    /// registered, filed or unregistered
    #[serde(default)]
    pub registration: String,
    /// Unified social credit code; required when registered. Spaces, hyphens, full-width and lower case are
    /// normalised.
    #[serde(default)]
    pub credit_code: Option<String>,
    /// YYYY-MM-DD
    #[serde(default)]
    pub registered_on: Option<String>,
    #[serde(default)]
    pub registration_authority: Option<String>,
    #[serde(default)]
    pub legal_representative: Option<String>,
    #[serde(default)]
    pub contact_name: Option<String>,
    #[serde(default)]
    pub contact_phone: Option<String>,
    #[serde(default)]
    pub contact_email: Option<String>,
    #[serde(default)]
    pub address: Option<String>,
    /// The street of the address.
    #[serde(default)]
    pub street_id: Option<i64>,
    #[serde(default)]
    pub staff_count: Option<i64>,
    #[serde(default)]
    pub volunteer_count: Option<i64>,
    /// Service fields: elderly, youth, children, disability, relief, community_governance, mediation, …
    #[serde(default)]
    pub fields: Vec<String>,
    /// Streets served.
    #[serde(default)]
    pub area_street_ids: Vec<i64>,
}

/// A change. An `org` user may change contacts, counts, fields and areas; a change of name, kind or credit
/// code by an `org` user becomes a change request for the bureau; other fields are the bureau's.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct OrgPatch {
    pub name: Option<String>,
    pub kind: Option<String>,
    pub registration: Option<String>,
    /// Empty string clears the code (allowed only when not registered).
    pub credit_code: Option<String>,
    pub registered_on: Option<String>,
    pub registration_authority: Option<String>,
    pub legal_representative: Option<String>,
    pub contact_name: Option<String>,
    pub contact_phone: Option<String>,
    pub contact_email: Option<String>,
    pub address: Option<String>,
    pub street_id: Option<i64>,
    pub staff_count: Option<i64>,
    pub volunteer_count: Option<i64>,
    pub fields: Option<Vec<String>>,
    pub area_street_ids: Option<Vec<i64>>,
}

/// A validated organisation.
#[derive(Debug, Clone, PartialEq)]
pub struct Clean {
    pub name: String,
    pub kind: String,
    pub registration: String,
    pub credit_code: Option<String>,
    pub registered_on: Option<NaiveDate>,
    pub registration_authority: Option<String>,
    pub legal_representative: Option<String>,
    pub contact_name: Option<String>,
    pub contact_phone: Option<String>,
    pub contact_email: Option<String>,
    pub address: Option<String>,
    pub street_id: Option<i64>,
    pub staff_count: i32,
    pub volunteer_count: i32,
    pub fields: Vec<String>,
    pub areas: Vec<i64>,
}

fn opt(s: &Option<String>) -> Option<String> {
    s.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// Parse a YYYY-MM-DD date, adding a `date` error when malformed.
pub fn check_date(checks: &mut Checks, field: &str, v: &Option<String>) -> Option<NaiveDate> {
    let s = opt(v)?;
    match NaiveDate::parse_from_str(&s, "%Y-%m-%d") {
        Ok(d) => Some(d),
        Err(_) => {
            checks.add(
                field,
                "date",
                "日期格式应为 YYYY-MM-DD。",
                "A date is written YYYY-MM-DD.",
            );
            None
        }
    }
}

/// A phone number: digits, spaces, hyphens and a leading +, 7–20 characters.
pub fn check_phone(checks: &mut Checks, field: &str, v: &Option<String>) -> Option<String> {
    let s = opt(v)?;
    let ok = (7..=20).contains(&s.chars().count())
        && s.chars()
            .enumerate()
            .all(|(i, c)| c.is_ascii_digit() || c == '-' || c == ' ' || (i == 0 && c == '+'))
        && s.chars().filter(char::is_ascii_digit).count() >= 7;
    if !ok {
        checks.add(
            field,
            "phone",
            "电话号码应为 7–20 位数字，可含空格、连字符及开头的 +。",
            "A phone number has 7–20 digits, with optional spaces, hyphens and a leading +.",
        );
    }
    Some(s)
}

fn check_len(checks: &mut Checks, field: &str, v: &Option<String>, max: usize) -> Option<String> {
    let s = opt(v)?;
    if s.chars().count() > max {
        checks.add(
            field,
            "max_length",
            format!("最多 {max} 个字符。"),
            format!("At most {max} characters."),
        );
    }
    Some(s)
}

fn check_count(checks: &mut Checks, field: &str, v: Option<i64>) -> i32 {
    match v {
        None => 0,
        Some(n) if (0..=1_000_000).contains(&n) => n as i32,
        Some(_) => {
            checks.add(
                field,
                "range",
                "人数应为 0 至 1000000 之间的整数。",
                "A count is a whole number from 0 to 1,000,000.",
            );
            0
        }
    }
}

/// Check every rule of an organisation; `f` names a field (the CSV import prefixes the line). Returns the
/// clean value when no rule was broken by this call.
pub fn validate(
    conn: &mut DbConn,
    inp: &OrgInput,
    self_id: Option<i64>,
    today: NaiveDate,
    checks: &mut Checks,
    f: &dyn Fn(&str) -> String,
) -> Result<Option<Clean>, AppError> {
    let n0 = checks.errors().len();
    let name = inp.name.trim().to_string();
    if checks.required(&f("name"), &name) && name.chars().count() > 100 {
        checks.add(
            &f("name"),
            "max_length",
            "名称最多 100 个字符。",
            "A name has at most 100 characters.",
        );
    }
    let kind = inp.kind.trim().to_string();
    if checks.required(&f("kind"), &kind) && !one_of(KINDS, &kind) {
        checks.add(
            &f("kind"),
            "one_of",
            format!("类型须为：{}。", keys(KINDS)),
            format!("Kind must be one of: {}.", keys(KINDS)),
        );
    }
    let registration = inp.registration.trim().to_string();
    if checks.required(&f("registration"), &registration) && !one_of(REGISTRATIONS, &registration) {
        checks.add(
            &f("registration"),
            "one_of",
            "登记状态须为 registered、filed 或 unregistered。",
            "Registration must be registered, filed or unregistered.",
        );
    }
    let mut code = None;
    match opt(&inp.credit_code) {
        None => {
            if registration == "registered" {
                checks.add(
                    &f("credit_code"),
                    "required",
                    "已登记的组织须填写统一社会信用代码。",
                    "A registered organisation needs its unified social credit code.",
                );
            }
        }
        Some(s) => match CreditCode::parse(&s) {
            Err(e) => {
                let m = e.message();
                checks.add(&f("credit_code"), e.rule(), m.zh, m.en);
            }
            Ok(c) => {
                let c = c.as_str().to_string();
                let taken: Option<i64> = o::table
                    .filter(o::credit_code.eq(&c))
                    .filter(o::id.ne(self_id.unwrap_or(0)))
                    .select(o::id)
                    .first(conn)
                    .optional()?;
                if taken.is_some() {
                    checks.add(
                        &f("credit_code"),
                        "unique",
                        "该统一社会信用代码已被其他组织使用。",
                        "Another organisation already has this credit code.",
                    );
                }
                // Civil-affairs codes name the kind in position 2 (1 社会团体, 2 民办非企业单位, 3 基金会).
                let expected = match &c[..2] {
                    "51" => Some("social_group"),
                    "52" => Some("private_non_enterprise"),
                    "53" => Some("foundation"),
                    _ => None,
                };
                if let Some(k) = expected
                    && one_of(KINDS, &kind)
                    && ["social_group", "private_non_enterprise", "foundation"]
                        .contains(&kind.as_str())
                    && k != kind
                {
                    checks.add(
                        &f("kind"),
                        "matches_code",
                        format!("信用代码第 2 位表明类型为“{}”。", label(KINDS, k, true)),
                        format!(
                            "Position 2 of the credit code says the kind is {}.",
                            label(KINDS, k, false)
                        ),
                    );
                }
                code = Some(c);
            }
        },
    }
    let registered_on = check_date(checks, &f("registered_on"), &inp.registered_on);
    if registered_on.is_some_and(|d| d > today) {
        checks.add(
            &f("registered_on"),
            "not_future",
            "登记日期不能晚于今天。",
            "The registration date cannot be in the future.",
        );
    }
    let registration_authority = check_len(
        checks,
        &f("registration_authority"),
        &inp.registration_authority,
        100,
    );
    let legal_representative = check_len(
        checks,
        &f("legal_representative"),
        &inp.legal_representative,
        50,
    );
    let contact_name = check_len(checks, &f("contact_name"), &inp.contact_name, 50);
    let contact_phone = check_phone(checks, &f("contact_phone"), &inp.contact_phone);
    let contact_email = opt(&inp.contact_email);
    if let Some(e) = &contact_email
        && e.parse::<lettre::Address>().is_err()
    {
        checks.add(
            &f("contact_email"),
            "email",
            "电子邮箱格式不正确。",
            "Not a valid e-mail address.",
        );
    }
    let address = check_len(checks, &f("address"), &inp.address, 200);
    let staff_count = check_count(checks, &f("staff_count"), inp.staff_count);
    let volunteer_count = check_count(checks, &f("volunteer_count"), inp.volunteer_count);
    let mut fields: Vec<String> = inp.fields.iter().map(|s| s.trim().to_string()).collect();
    fields.retain(|s| !s.is_empty());
    fields.sort();
    fields.dedup();
    if let Some(bad) = fields.iter().find(|x| !one_of(FIELDS, x)) {
        checks.add(
            &f("fields"),
            "one_of",
            format!("服务领域“{bad}”无效，可选：{}。", keys(FIELDS)),
            format!("Unknown service field {bad:?}; use: {}.", keys(FIELDS)),
        );
    }
    let mut areas = inp.area_street_ids.clone();
    areas.sort();
    areas.dedup();
    let mut wanted = areas.clone();
    if let Some(s) = inp.street_id {
        wanted.push(s);
    }
    if !wanted.is_empty() {
        let known: Vec<i64> = st::table
            .filter(st::id.eq_any(&wanted))
            .select(st::id)
            .load(conn)?;
        if inp.street_id.is_some_and(|s| !known.contains(&s)) {
            checks.add(&f("street_id"), "exists", "街道不存在。", "No such street.");
        }
        if areas.iter().any(|s| !known.contains(s)) {
            checks.add(
                &f("area_street_ids"),
                "exists",
                "服务区域中有不存在的街道。",
                "A street among the service areas does not exist.",
            );
        }
    }
    if checks.errors().len() > n0 {
        return Ok(None);
    }
    Ok(Some(Clean {
        name,
        kind,
        registration,
        credit_code: code,
        registered_on,
        registration_authority,
        legal_representative,
        contact_name,
        contact_phone,
        contact_email,
        address,
        street_id: inp.street_id,
        staff_count,
        volunteer_count,
        fields,
        areas,
    }))
}

pub fn find(conn: &mut DbConn, id: i64) -> Result<OrgRow, AppError> {
    Ok(o::table.find(id).select(OrgRow::as_select()).first(conn)?)
}

/// Who is looking: the bureau and administrators see everything, an organisation its own data.
pub fn may_see(user: &CurrentUser, org_id: i64) -> bool {
    match user.role {
        Role::Bureau | Role::Admin => true,
        Role::Org => user.org_id == Some(org_id),
        _ => false,
    }
}

/// Refuse with 404 an organisation that is not the caller's to see (its existence is not disclosed).
pub fn check_access(user: &CurrentUser, org_id: i64) -> Result<(), AppError> {
    if may_see(user, org_id) {
        Ok(())
    } else if user.role == Role::Org {
        Err(AppError::NotFound)
    } else {
        Err(AppError::Forbidden)
    }
}

/// Write a clean organisation's fields and areas (after its row).
fn write_sets(conn: &mut DbConn, id: i64, c: &Clean) -> QueryResult<()> {
    diesel::delete(of::table.filter(of::organisation_id.eq(id))).execute(conn)?;
    diesel::delete(oa::table.filter(oa::organisation_id.eq(id))).execute(conn)?;
    for fld in &c.fields {
        diesel::insert_into(of::table)
            .values((of::organisation_id.eq(id), of::field.eq(fld)))
            .execute(conn)?;
    }
    for s in &c.areas {
        diesel::insert_into(oa::table)
            .values((oa::organisation_id.eq(id), oa::street_id.eq(s)))
            .execute(conn)?;
    }
    Ok(())
}

/// Insert a validated organisation (inside a write transaction); no audit (callers audit).
pub fn insert_clean(conn: &mut DbConn, ts: NaiveDateTime, c: &Clean) -> QueryResult<i64> {
    let id: i64 = diesel::insert_into(o::table)
        .values((
            o::name.eq(&c.name),
            o::kind.eq(&c.kind),
            o::registration.eq(&c.registration),
            o::credit_code.eq(&c.credit_code),
            o::registered_on.eq(c.registered_on),
            o::registration_authority.eq(&c.registration_authority),
            o::legal_representative.eq(&c.legal_representative),
            o::contact_name.eq(&c.contact_name),
            o::contact_phone.eq(&c.contact_phone),
            o::contact_email.eq(&c.contact_email),
            o::address.eq(&c.address),
            o::street_id.eq(c.street_id),
            o::staff_count.eq(c.staff_count),
            o::volunteer_count.eq(c.volunteer_count),
            o::created_at.eq(ts),
            o::updated_at.eq(ts),
        ))
        .returning(o::id)
        .get_result(conn)?;
    write_sets(conn, id, c)?;
    Ok(id)
}

fn clean_json(c: &Clean) -> serde_json::Value {
    serde_json::json!({
        "name": c.name, "kind": c.kind, "registration": c.registration, "credit_code": c.credit_code,
        "registered_on": c.registered_on, "registration_authority": c.registration_authority,
        "legal_representative": c.legal_representative, "contact_name": c.contact_name,
        "contact_phone": c.contact_phone, "contact_email": c.contact_email, "address": c.address,
        "street_id": c.street_id, "staff_count": c.staff_count, "volunteer_count": c.volunteer_count,
        "fields": c.fields, "area_street_ids": c.areas,
    })
}

fn input_of(conn: &mut DbConn, r: &OrgRow) -> QueryResult<OrgInput> {
    let fields = of::table
        .filter(of::organisation_id.eq(r.id))
        .order(of::field)
        .select(of::field)
        .load(conn)?;
    let areas = oa::table
        .filter(oa::organisation_id.eq(r.id))
        .order(oa::street_id)
        .select(oa::street_id)
        .load(conn)?;
    Ok(OrgInput {
        name: r.name.clone(),
        kind: r.kind.clone(),
        registration: r.registration.clone(),
        credit_code: r.credit_code.clone(),
        registered_on: r.registered_on.map(|d| d.to_string()),
        registration_authority: r.registration_authority.clone(),
        legal_representative: r.legal_representative.clone(),
        contact_name: r.contact_name.clone(),
        contact_phone: r.contact_phone.clone(),
        contact_email: r.contact_email.clone(),
        address: r.address.clone(),
        street_id: r.street_id,
        staff_count: Some(r.staff_count.into()),
        volunteer_count: Some(r.volunteer_count.into()),
        fields,
        area_street_ids: areas,
    })
}

/// The current state as an input (for forms and merges).
pub fn current_input(conn: &mut DbConn, id: i64) -> Result<OrgInput, AppError> {
    let r = find(conn, id)?;
    Ok(input_of(conn, &r)?)
}

pub fn create(
    conn: &mut DbConn,
    actor: &Actor,
    now: DateTime<Utc>,
    inp: &OrgInput,
) -> Result<OrgRow, AppError> {
    let today = beijing_date(now);
    let mut checks = Checks::new();
    let clean = validate(conn, inp, None, today, &mut checks, &|s| s.to_string())?;
    checks.finish()?;
    let c = clean.expect("validated");
    let ts = crate::db::now_micros(now);
    write_tx(conn, |conn| {
        let id = insert_clean(conn, ts, &c)?;
        audit::record(
            conn,
            actor,
            now,
            "organisation.create",
            "organisation",
            Some(id.to_string()),
            None,
            Some(clean_json(&c)),
        )?;
        find(conn, id)
    })
}

/// Apply an update to a state: `patch` fields that are `Some` replace the current ones.
fn merge(mut cur: OrgInput, p: &OrgPatch) -> OrgInput {
    macro_rules! take {
        ($($f:ident),*) => {$( if let Some(v) = &p.$f { cur.$f = v.clone(); } )*};
    }
    macro_rules! take_opt {
        ($($f:ident),*) => {$( if let Some(v) = &p.$f { cur.$f = Some(v.clone()); } )*};
    }
    take!(name, kind, registration);
    take_opt!(
        credit_code,
        registered_on,
        registration_authority,
        legal_representative,
        contact_name,
        contact_phone,
        contact_email,
        address
    );
    if let Some(v) = p.street_id {
        cur.street_id = (v > 0).then_some(v);
    }
    if let Some(v) = p.staff_count {
        cur.staff_count = Some(v);
    }
    if let Some(v) = p.volunteer_count {
        cur.volunteer_count = Some(v);
    }
    if let Some(v) = &p.fields {
        cur.fields = v.clone();
    }
    if let Some(v) = &p.area_street_ids {
        cur.area_street_ids = v.clone();
    }
    cur
}

/// Result of an update: the organisation, and the change request an org user's identity change created.
#[derive(Debug, Clone)]
pub struct Updated {
    pub row: OrgRow,
    pub change_request: Option<crate::registry::changes::ChangeRequestRow>,
}

/// Change an organisation. The bureau and administrators change anything; an `org` user (its own
/// organisation only) changes contacts, counts, fields and areas, and a change of name, kind or credit code
/// becomes a pending change request.
pub fn update(
    conn: &mut DbConn,
    actor: &Actor,
    now: DateTime<Utc>,
    by: &CurrentUser,
    id: i64,
    p: &OrgPatch,
) -> Result<Updated, AppError> {
    check_access(by, id)?;
    let today = beijing_date(now);
    let before_row = find(conn, id)?;
    let before = input_of(conn, &before_row)?;
    let is_org = by.role == Role::Org;
    let mut checks = Checks::new();
    if is_org {
        let bureau_only: [(&str, bool); 6] = [
            ("registration", p.registration.is_some()),
            ("registered_on", p.registered_on.is_some()),
            ("registration_authority", p.registration_authority.is_some()),
            ("legal_representative", p.legal_representative.is_some()),
            ("address", p.address.is_some()),
            ("street_id", p.street_id.is_some()),
        ];
        for (field, given) in bureau_only {
            if given {
                checks.add(
                    field,
                    "bureau_only",
                    "此项由民政局维护，组织用户不能修改。",
                    "The bureau keeps this field; an organisation cannot change it.",
                );
            }
        }
    }
    let merged = merge(before.clone(), p);
    let clean = validate(conn, &merged, Some(id), today, &mut checks, &|s| {
        s.to_string()
    })?;
    checks.finish()?;
    let mut c = clean.expect("validated");
    let ts = crate::db::now_micros(now);
    // An org user's identity change waits for the bureau: keep the current identity now.
    let mut proposal = serde_json::Map::new();
    if is_org {
        if c.name != before_row.name {
            proposal.insert("name".into(), c.name.clone().into());
            c.name = before_row.name.clone();
        }
        if c.kind != before_row.kind {
            proposal.insert("kind".into(), c.kind.clone().into());
            c.kind = before_row.kind.clone();
        }
        if c.credit_code != before_row.credit_code {
            proposal.insert(
                "credit_code".into(),
                c.credit_code
                    .clone()
                    .map(Into::into)
                    .unwrap_or(serde_json::Value::Null),
            );
            c.credit_code = before_row.credit_code.clone();
        }
    }
    write_tx(conn, |conn| {
        let before_json = {
            let mut checks = Checks::new();
            validate(conn, &before, Some(id), today, &mut checks, &|s| {
                s.to_string()
            })?
            .map(|b| clean_json(&b))
            .unwrap_or_else(|| serde_json::to_value(&before).unwrap_or_default())
        };
        diesel::update(o::table.find(id))
            .set((
                o::name.eq(&c.name),
                o::kind.eq(&c.kind),
                o::registration.eq(&c.registration),
                o::credit_code.eq(&c.credit_code),
                o::registered_on.eq(c.registered_on),
                o::registration_authority.eq(&c.registration_authority),
                o::legal_representative.eq(&c.legal_representative),
                o::contact_name.eq(&c.contact_name),
                o::contact_phone.eq(&c.contact_phone),
                o::contact_email.eq(&c.contact_email),
                o::address.eq(&c.address),
                o::street_id.eq(c.street_id),
                o::staff_count.eq(c.staff_count),
                o::volunteer_count.eq(c.volunteer_count),
                o::updated_at.eq(ts),
            ))
            .execute(conn)?;
        write_sets(conn, id, &c)?;
        let after_json = clean_json(&c);
        if after_json != before_json {
            audit::record(
                conn,
                actor,
                now,
                "organisation.update",
                "organisation",
                Some(id.to_string()),
                Some(before_json),
                Some(after_json),
            )?;
        }
        let cr = if proposal.is_empty() {
            None
        } else {
            Some(crate::registry::changes::create_in_tx(
                conn, actor, now, id, by.id, proposal,
            )?)
        };
        Ok(Updated {
            row: find(conn, id)?,
            change_request: cr,
        })
    })
}

/// Apply an approved identity change (name, kind, credit code) inside the caller's transaction; validates
/// the result again (the code may have been taken meanwhile).
pub fn apply_identity_change(
    conn: &mut DbConn,
    actor: &Actor,
    now: DateTime<Utc>,
    id: i64,
    changes: &serde_json::Map<String, serde_json::Value>,
) -> Result<(), AppError> {
    let before = current_input(conn, id)?;
    let mut p = OrgPatch::default();
    if let Some(v) = changes.get("name").and_then(|v| v.as_str()) {
        p.name = Some(v.to_string());
    }
    if let Some(v) = changes.get("kind").and_then(|v| v.as_str()) {
        p.kind = Some(v.to_string());
    }
    if let Some(v) = changes.get("credit_code") {
        p.credit_code = Some(v.as_str().unwrap_or("").to_string());
    }
    let merged = merge(before.clone(), &p);
    let mut checks = Checks::new();
    let clean = validate(
        conn,
        &merged,
        Some(id),
        beijing_date(now),
        &mut checks,
        &|s| s.to_string(),
    )?;
    checks.finish()?;
    let c = clean.expect("validated");
    diesel::update(o::table.find(id))
        .set((
            o::name.eq(&c.name),
            o::kind.eq(&c.kind),
            o::credit_code.eq(&c.credit_code),
            o::updated_at.eq(crate::db::now_micros(now)),
        ))
        .execute(conn)?;
    audit::record(
        conn,
        actor,
        now,
        "organisation.identity_change",
        "organisation",
        Some(id.to_string()),
        Some(
            serde_json::json!({"name": before.name, "kind": before.kind, "credit_code": before.credit_code}),
        ),
        Some(serde_json::json!({"name": c.name, "kind": c.kind, "credit_code": c.credit_code})),
    )?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------------------
// Views and standing

struct Related {
    fields: HashMap<i64, Vec<String>>,
    areas: HashMap<i64, Vec<i64>>,
    ratings: HashMap<i64, Vec<RatingRow>>,
    inspections: HashMap<i64, Vec<InspectionRow>>,
    listings: HashMap<i64, Vec<ListingRow>>,
    streets: HashMap<i64, String>,
}

fn load_related(conn: &mut DbConn, ids: &[i64]) -> QueryResult<Related> {
    let mut r = Related {
        fields: HashMap::new(),
        areas: HashMap::new(),
        ratings: HashMap::new(),
        inspections: HashMap::new(),
        listings: HashMap::new(),
        streets: st::table
            .select((st::id, st::name))
            .load::<(i64, String)>(conn)?
            .into_iter()
            .collect(),
    };
    // Chunks keep the IN lists within both backends' limits.
    for chunk in ids.chunks(500) {
        for (id, f) in of::table
            .filter(of::organisation_id.eq_any(chunk))
            .order((of::organisation_id, of::field))
            .select((of::organisation_id, of::field))
            .load::<(i64, String)>(conn)?
        {
            r.fields.entry(id).or_default().push(f);
        }
        for (id, s) in oa::table
            .filter(oa::organisation_id.eq_any(chunk))
            .order((oa::organisation_id, oa::street_id))
            .select((oa::organisation_id, oa::street_id))
            .load::<(i64, i64)>(conn)?
        {
            r.areas.entry(id).or_default().push(s);
        }
        for x in ora::table
            .filter(ora::organisation_id.eq_any(chunk))
            .order((ora::awarded_on.desc(), ora::id.desc()))
            .select(RatingRow::as_select())
            .load(conn)?
        {
            r.ratings.entry(x.organisation_id).or_default().push(x);
        }
        for x in oi::table
            .filter(oi::organisation_id.eq_any(chunk))
            .order(oi::year.desc())
            .select(InspectionRow::as_select())
            .load(conn)?
        {
            r.inspections.entry(x.organisation_id).or_default().push(x);
        }
        for x in cl::table
            .filter(cl::organisation_id.eq_any(chunk))
            .order((cl::listed_on.desc(), cl::id.desc()))
            .select(ListingRow::as_select())
            .load(conn)?
        {
            r.listings.entry(x.organisation_id).or_default().push(x);
        }
    }
    Ok(r)
}

fn registration_of(s: &str) -> standing::Registration {
    match s {
        "registered" => standing::Registration::Registered,
        "filed" => standing::Registration::Filed,
        _ => standing::Registration::Unregistered,
    }
}

fn facts_of(row: &OrgRow, rel: &Related) -> standing::Facts {
    standing::Facts {
        registration: registration_of(&row.registration),
        has_credit_code: row.credit_code.is_some(),
        ratings: rating_facts(rel.ratings.get(&row.id).map(Vec::as_slice).unwrap_or(&[])),
        inspections: rel
            .inspections
            .get(&row.id)
            .into_iter()
            .flatten()
            .filter_map(|i| {
                Some(standing::InspectionFact {
                    year: i.year,
                    conclusion: standing::Conclusion::parse(&i.conclusion)?,
                })
            })
            .collect(),
        listings: rel
            .listings
            .get(&row.id)
            .into_iter()
            .flatten()
            .filter_map(|l| {
                Some(standing::ListingFact {
                    list: standing::ListKind::parse(&l.list)?,
                    listed_on: l.listed_on,
                    removed_on: l.removed_on,
                })
            })
            .collect(),
    }
}

fn rating_facts(r: &[RatingRow]) -> Vec<standing::RatingFact> {
    r.iter()
        .map(|r| standing::RatingFact {
            grade: r.grade,
            awarded_on: r.awarded_on,
            expires_on: r.expires_on,
        })
        .collect()
}

fn view_of(row: OrgRow, rel: &Related, today: NaiveDate, rules: standing::Rules) -> OrgView {
    let facts = facts_of(&row, rel);
    let standing = standing::decide(&facts, today, rules);
    let current_rating = standing::current_rating(&facts.ratings, today);
    OrgView {
        street_name: row.street_id.and_then(|s| rel.streets.get(&s).cloned()),
        fields: rel.fields.get(&row.id).cloned().unwrap_or_default(),
        area_street_ids: rel.areas.get(&row.id).cloned().unwrap_or_default(),
        current_rating,
        standing,
        id: row.id,
        name: row.name,
        kind: row.kind,
        registration: row.registration,
        credit_code: row.credit_code,
        registered_on: row.registered_on,
        registration_authority: row.registration_authority,
        legal_representative: row.legal_representative,
        contact_name: row.contact_name,
        contact_phone: row.contact_phone,
        contact_email: row.contact_email,
        address: row.address,
        street_id: row.street_id,
        staff_count: row.staff_count,
        volunteer_count: row.volunteer_count,
        created_at: row.created_at,
        updated_at: row.updated_at,
    }
}

pub fn views(
    conn: &mut DbConn,
    rows: Vec<OrgRow>,
    today: NaiveDate,
    rules: standing::Rules,
) -> Result<Vec<OrgView>, AppError> {
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let rel = load_related(conn, &ids)?;
    Ok(rows
        .into_iter()
        .map(|r| view_of(r, &rel, today, rules))
        .collect())
}

/// What a change of an organisation answers: the organisation as it now is, and the change request when
/// an `org` user changed its name, kind or credit code (which waits for the bureau).
#[derive(Serialize, Debug, utoipa::ToSchema)]
pub struct UpdateResult {
    pub organisation: OrgDetail,
    pub change_request: Option<crate::registry::changes::ChangeRequestView>,
}

/// [`update`], then the organisation's detail, in one call for the API and the pages.
#[expect(
    clippy::too_many_arguments,
    reason = "each is a distinct input of the change"
)]
pub fn update_with_detail(
    conn: &mut DbConn,
    actor: &Actor,
    now: DateTime<Utc>,
    by: &CurrentUser,
    id: i64,
    p: &OrgPatch,
    today: NaiveDate,
    rules: standing::Rules,
) -> Result<UpdateResult, AppError> {
    let u = update(conn, actor, now, by, id, p)?;
    let organisation = detail(conn, id, today, rules)?;
    Ok(UpdateResult {
        change_request: u.change_request.map(|r| {
            crate::registry::changes::ChangeRequestView::of(
                r,
                organisation.organisation.name.clone(),
            )
        }),
        organisation,
    })
}

pub fn detail(
    conn: &mut DbConn,
    id: i64,
    today: NaiveDate,
    rules: standing::Rules,
) -> Result<OrgDetail, AppError> {
    let row = find(conn, id)?;
    let mut rel = load_related(conn, &[id])?;
    let ratings = rel.ratings.get(&id).cloned().unwrap_or_default();
    let inspections = rel.inspections.get(&id).cloned().unwrap_or_default();
    let listings = rel.listings.get(&id).cloned().unwrap_or_default();
    let organisation = view_of(row, &rel, today, rules);
    rel.ratings.clear();
    Ok(OrgDetail {
        organisation,
        ratings,
        inspections,
        listings,
    })
}

/// The standing of one organisation today: the one function tender eligibility also calls.
pub fn standing_of(
    conn: &mut DbConn,
    id: i64,
    today: NaiveDate,
    rules: standing::Rules,
) -> Result<Standing, AppError> {
    let row = find(conn, id)?;
    let rel = load_related(conn, &[id])?;
    Ok(standing::decide(&facts_of(&row, &rel), today, rules))
}

#[derive(Debug, Default, Clone, Deserialize, Serialize, utoipa::IntoParams)]
pub struct OrgFilter {
    /// Part of the Chinese name, or of the credit code.
    pub q: Option<String>,
    pub kind: Option<String>,
    pub registration: Option<String>,
    /// eligible, flagged or barred
    pub status: Option<String>,
    /// A service field key.
    pub field: Option<String>,
    /// A street id: the organisation's street or one it serves.
    pub street: Option<i64>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

fn filtered_rows(conn: &mut DbConn, f: &OrgFilter) -> QueryResult<Vec<OrgRow>> {
    let mut q = o::table.into_boxed();
    if let Some(s) = f.q.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        let pat = crate::db::like_pattern(s);
        let code_pat = crate::db::like_pattern(&crate::domain::credit_code::normalise(s));
        q = q.filter(
            crate::db::lower(o::name)
                .like(pat)
                .escape('\\')
                .or(crate::db::lower(o::credit_code.assume_not_null())
                    .like(code_pat)
                    .escape('\\')),
        );
    }
    if let Some(k) = f.kind.as_deref().filter(|s| !s.is_empty()) {
        q = q.filter(o::kind.eq(k.to_string()));
    }
    if let Some(k) = f.registration.as_deref().filter(|s| !s.is_empty()) {
        q = q.filter(o::registration.eq(k.to_string()));
    }
    if let Some(fl) = f.field.as_deref().filter(|s| !s.is_empty()) {
        q = q.filter(
            o::id.eq_any(
                of::table
                    .filter(of::field.eq(fl.to_string()))
                    .select(of::organisation_id),
            ),
        );
    }
    if let Some(s) = f.street.filter(|s| *s > 0) {
        q = q.filter(
            o::street_id.eq(s).or(o::id.eq_any(
                oa::table
                    .filter(oa::street_id.eq(s))
                    .select(oa::organisation_id),
            )),
        );
    }
    q.order((o::name.asc(), o::id.asc()))
        .select(OrgRow::as_select())
        .load(conn)
}

/// Every organisation matching the filter (no paging), with its standing; for lists and exports.
pub fn list_all(
    conn: &mut DbConn,
    f: &OrgFilter,
    today: NaiveDate,
    rules: standing::Rules,
) -> Result<Vec<OrgView>, AppError> {
    let rows = filtered_rows(conn, f)?;
    let mut v = views(conn, rows, today, rules)?;
    if let Some(s) = f
        .status
        .as_deref()
        .filter(|s| !s.is_empty())
        .map(|s| standing::Status::parse(s).ok_or(s))
    {
        match s {
            Ok(s) => v.retain(|o| o.standing.status == s),
            Err(_) => v.clear(),
        }
    }
    Ok(v)
}

pub fn list(
    conn: &mut DbConn,
    f: &OrgFilter,
    today: NaiveDate,
    rules: standing::Rules,
) -> Result<(Vec<OrgView>, i64), AppError> {
    let (page, per_page) = crate::db::paging(f.page, f.per_page);
    let all = list_all(conn, f, today, rules)?;
    let total = all.len() as i64;
    let items = all
        .into_iter()
        .skip(((page - 1) * per_page) as usize)
        .take(per_page as usize)
        .collect();
    Ok((items, total))
}

#[derive(Debug, Default, Clone, Deserialize, utoipa::IntoParams)]
pub struct PublicFilter {
    /// Part of the Chinese name, or of the credit code.
    pub q: Option<String>,
    pub kind: Option<String>,
    pub field: Option<String>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

/// The public directory: registered organisations only, and only public facts.
pub fn public_list(
    conn: &mut DbConn,
    f: &PublicFilter,
    today: NaiveDate,
) -> Result<(Vec<PublicOrg>, i64), AppError> {
    let filter = OrgFilter {
        q: f.q.clone(),
        kind: f.kind.clone(),
        registration: Some("registered".into()),
        field: f.field.clone(),
        page: f.page,
        per_page: f.per_page,
        ..Default::default()
    };
    let (rows, total) = list(conn, &filter, today, standing::Rules::default())?;
    Ok((
        rows.into_iter()
            .map(|v| PublicOrg {
                id: v.id,
                name: v.name,
                kind: v.kind,
                credit_code: v.credit_code,
                current_rating: v.current_rating,
                fields: v.fields,
            })
            .collect(),
        total,
    ))
}

// ---------------------------------------------------------------------------------------------------------
// Ratings, inspections, credit listings

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct NewRating {
    #[serde(default)]
    pub organisation_id: i64,
    /// 1–5 (1A–5A)
    #[serde(default)]
    pub grade: i64,
    /// YYYY-MM-DD; the rating expires five years later.
    #[serde(default)]
    pub awarded_on: String,
}

pub fn add_rating(
    conn: &mut DbConn,
    actor: &Actor,
    now: DateTime<Utc>,
    r: &NewRating,
) -> Result<RatingRow, AppError> {
    let org = find(conn, r.organisation_id)?;
    let mut checks = Checks::new();
    if !(1..=5).contains(&r.grade) {
        checks.add(
            "grade",
            "range",
            "等级须为 1 至 5（1A–5A）。",
            "The grade is 1 to 5 (1A–5A).",
        );
    }
    let awarded = if checks.required("awarded_on", &r.awarded_on) {
        check_date(&mut checks, "awarded_on", &Some(r.awarded_on.clone()))
    } else {
        None
    };
    if awarded.is_some_and(|d| d > beijing_date(now)) {
        checks.add(
            "awarded_on",
            "not_future",
            "评定日期不能晚于今天。",
            "The award date cannot be in the future.",
        );
    }
    if org.registration != "registered" {
        checks.add(
            "organisation_id",
            "registered",
            "只有已登记的组织可参加等级评估。",
            "Only registered organisations are rated.",
        );
    }
    checks.finish()?;
    let awarded = awarded.expect("checked");
    let expires = standing::rating_expiry(awarded);
    let ts = crate::db::now_micros(now);
    write_tx(conn, |conn| {
        let id: i64 = diesel::insert_into(ora::table)
            .values((
                ora::organisation_id.eq(org.id),
                ora::grade.eq(r.grade as i32),
                ora::awarded_on.eq(awarded),
                ora::expires_on.eq(expires),
                ora::created_at.eq(ts),
            ))
            .returning(ora::id)
            .get_result(conn)?;
        let row: RatingRow = ora::table
            .find(id)
            .select(RatingRow::as_select())
            .first(conn)?;
        audit::record(
            conn,
            actor,
            now,
            "organisation.rating_add",
            "organisation",
            Some(org.id.to_string()),
            None,
            Some(serde_json::to_value(&row).unwrap_or_default()),
        )?;
        Ok(row)
    })
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct NewInspection {
    #[serde(default)]
    pub organisation_id: i64,
    #[serde(default)]
    pub year: i64,
    /// inspection (年检) or annual_report (年报)
    #[serde(default)]
    pub kind: String,
    /// pass (合格), basic_pass (基本合格) or fail (不合格)
    #[serde(default)]
    pub conclusion: String,
    /// YYYY-MM-DD
    #[serde(default)]
    pub decided_on: String,
}

pub fn add_inspection(
    conn: &mut DbConn,
    actor: &Actor,
    now: DateTime<Utc>,
    r: &NewInspection,
) -> Result<InspectionRow, AppError> {
    let org = find(conn, r.organisation_id)?;
    let today = beijing_date(now);
    let mut checks = Checks::new();
    if !(1990..=i64::from(today.year())).contains(&r.year) {
        checks.add(
            "year",
            "range",
            format!("年度须在 1990 至 {} 之间。", today.year()),
            format!("The year is between 1990 and {}.", today.year()),
        );
    } else {
        let exists: Option<i64> = oi::table
            .filter(oi::organisation_id.eq(org.id))
            .filter(oi::year.eq(r.year as i32))
            .select(oi::id)
            .first(conn)
            .optional()?;
        if exists.is_some() {
            checks.add(
                "year",
                "unique",
                "该年度已有年检或年报记录。",
                "This year already has an inspection or report.",
            );
        }
    }
    if checks.required("kind", &r.kind) && !one_of(INSPECTION_KINDS, &r.kind) {
        checks.add(
            "kind",
            "one_of",
            "类型须为 inspection 或 annual_report。",
            "Kind must be inspection or annual_report.",
        );
    }
    if checks.required("conclusion", &r.conclusion) && !one_of(CONCLUSIONS, &r.conclusion) {
        checks.add(
            "conclusion",
            "one_of",
            "结论须为 pass、basic_pass 或 fail。",
            "Conclusion must be pass, basic_pass or fail.",
        );
    }
    let decided = if checks.required("decided_on", &r.decided_on) {
        check_date(&mut checks, "decided_on", &Some(r.decided_on.clone()))
    } else {
        None
    };
    if decided.is_some_and(|d| d > today) {
        checks.add(
            "decided_on",
            "not_future",
            "日期不能晚于今天。",
            "The date cannot be in the future.",
        );
    }
    checks.finish()?;
    let ts = crate::db::now_micros(now);
    write_tx(conn, |conn| {
        let id: i64 = diesel::insert_into(oi::table)
            .values((
                oi::organisation_id.eq(org.id),
                oi::year.eq(r.year as i32),
                oi::kind.eq(&r.kind),
                oi::conclusion.eq(&r.conclusion),
                oi::decided_on.eq(decided.expect("checked")),
                oi::created_at.eq(ts),
            ))
            .returning(oi::id)
            .get_result(conn)?;
        let row: InspectionRow = oi::table
            .find(id)
            .select(InspectionRow::as_select())
            .first(conn)?;
        audit::record(
            conn,
            actor,
            now,
            "organisation.inspection_add",
            "organisation",
            Some(org.id.to_string()),
            None,
            Some(serde_json::to_value(&row).unwrap_or_default()),
        )?;
        Ok(row)
    })
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct NewListing {
    #[serde(default)]
    pub organisation_id: i64,
    /// dishonesty, court_defaulter, debarment or abnormal
    #[serde(default)]
    pub list: String,
    /// Who listed it (e.g. 信用中国, 人民法院).
    #[serde(default)]
    pub source: String,
    /// YYYY-MM-DD
    #[serde(default)]
    pub listed_on: String,
    /// SHA-256 of the evidence file, 64 hex digits.
    #[serde(default)]
    pub evidence_sha256: String,
}

fn is_sha256(s: &str) -> bool {
    s.len() == 64 && s.chars().all(|c| c.is_ascii_hexdigit())
}

pub fn add_listing(
    conn: &mut DbConn,
    actor: &Actor,
    now: DateTime<Utc>,
    r: &NewListing,
) -> Result<ListingRow, AppError> {
    let org = find(conn, r.organisation_id)?;
    let mut checks = Checks::new();
    if checks.required("list", &r.list) && !one_of(LISTS, &r.list) {
        checks.add(
            "list",
            "one_of",
            format!("名单须为：{}。", keys(LISTS)),
            format!("List must be one of: {}.", keys(LISTS)),
        );
    }
    if checks.required("source", &r.source) && r.source.trim().chars().count() > 100 {
        checks.add(
            "source",
            "max_length",
            "最多 100 个字符。",
            "At most 100 characters.",
        );
    }
    let listed = if checks.required("listed_on", &r.listed_on) {
        check_date(&mut checks, "listed_on", &Some(r.listed_on.clone()))
    } else {
        None
    };
    if listed.is_some_and(|d| d > beijing_date(now)) {
        checks.add(
            "listed_on",
            "not_future",
            "日期不能晚于今天。",
            "The date cannot be in the future.",
        );
    }
    let hash = r.evidence_sha256.trim().to_ascii_lowercase();
    if checks.required("evidence_sha256", &hash) && !is_sha256(&hash) {
        checks.add(
            "evidence_sha256",
            "sha256",
            "证据文件哈希应为 64 位十六进制 SHA-256。",
            "The evidence hash is a SHA-256 of 64 hexadecimal digits.",
        );
    }
    checks.finish()?;
    let ts = crate::db::now_micros(now);
    write_tx(conn, |conn| {
        let id: i64 = diesel::insert_into(cl::table)
            .values((
                cl::organisation_id.eq(org.id),
                cl::list.eq(&r.list),
                cl::source.eq(r.source.trim()),
                cl::listed_on.eq(listed.expect("checked")),
                cl::evidence_sha256.eq(&hash),
                cl::created_at.eq(ts),
            ))
            .returning(cl::id)
            .get_result(conn)?;
        let row: ListingRow = cl::table
            .find(id)
            .select(ListingRow::as_select())
            .first(conn)?;
        audit::record(
            conn,
            actor,
            now,
            "organisation.listing_add",
            "organisation",
            Some(org.id.to_string()),
            None,
            Some(serde_json::to_value(&row).unwrap_or_default()),
        )?;
        Ok(row)
    })
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct ListingRemoval {
    /// YYYY-MM-DD, not before the listing date.
    #[serde(default)]
    pub removed_on: String,
}

pub fn remove_listing(
    conn: &mut DbConn,
    actor: &Actor,
    now: DateTime<Utc>,
    id: i64,
    r: &ListingRemoval,
) -> Result<ListingRow, AppError> {
    let before: ListingRow = cl::table
        .find(id)
        .select(ListingRow::as_select())
        .first(conn)?;
    let mut checks = Checks::new();
    let d = if checks.required("removed_on", &r.removed_on) {
        check_date(&mut checks, "removed_on", &Some(r.removed_on.clone()))
    } else {
        None
    };
    if let Some(d) = d {
        if d < before.listed_on {
            checks.add(
                "removed_on",
                "after_listing",
                "移出日期不能早于列入日期。",
                "The removal date cannot be before the listing date.",
            );
        }
        if d > beijing_date(now) {
            checks.add(
                "removed_on",
                "not_future",
                "日期不能晚于今天。",
                "The date cannot be in the future.",
            );
        }
    }
    if before.removed_on.is_some() {
        checks.add(
            "removed_on",
            "already_removed",
            "该记录已移出。",
            "This listing has already been removed.",
        );
    }
    checks.finish()?;
    write_tx(conn, |conn| {
        diesel::update(cl::table.find(id))
            .set(cl::removed_on.eq(d))
            .execute(conn)?;
        let after: ListingRow = cl::table
            .find(id)
            .select(ListingRow::as_select())
            .first(conn)?;
        audit::record(
            conn,
            actor,
            now,
            "organisation.listing_remove",
            "organisation",
            Some(before.organisation_id.to_string()),
            Some(serde_json::to_value(&before).unwrap_or_default()),
            Some(serde_json::to_value(&after).unwrap_or_default()),
        )?;
        Ok(after)
    })
}

/// Streets (id, code, name) for forms and filters.
pub fn streets(conn: &mut DbConn) -> QueryResult<Vec<(i64, String, String)>> {
    st::table
        .order(st::code)
        .select((st::id, st::code, st::name))
        .load(conn)
}

/// Organisation names by id (small lists, forms).
pub fn names(conn: &mut DbConn) -> QueryResult<BTreeMap<i64, String>> {
    Ok(o::table
        .select((o::id, o::name))
        .load::<(i64, String)>(conn)?
        .into_iter()
        .collect())
}

// ---------------------------------------------------------------------------------------------------------
// Demo data

const DEMO_ORG_NAMES: &[&str] = &[
    "关渡区夕阳红养老服务中心",
    "关渡区阳光青少年发展中心",
    "关渡区同心助残服务中心",
    "关渡区邻里守望社会工作服务中心",
    "关渡区和谐调解协会",
    "关渡区春晖社会救助服务中心",
    "关渡区社区治理促进会",
    "关渡区乐龄康养服务中心",
    "关渡区启明星儿童服务中心",
    "关渡区慈善基金会",
    "关渡区志愿者协会",
    "关渡区彩云社会工作服务中心",
    "关渡区滇池公益发展中心",
    "关渡区螺蛳湾社区服务中心",
    "关渡区金马社会工作服务社",
    "关渡区巫家坝青年社会组织",
    "关渡区长者照护服务中心",
    "关渡区安心家庭服务中心",
    "关渡区助学基金会",
    "关渡区残疾人康复协会",
    "关渡区老年人协会",
    "关渡区青年创业促进会",
    "关渡区民族团结促进会",
    "关渡区平安社区服务中心",
    "关渡区暖心救助服务社",
    "关渡区心理健康服务中心",
    "关渡区社区营造发展中心",
    "关渡区春城助老服务中心",
    "关渡区明德青少年服务中心",
    "关渡区康乐助残服务社",
    "关渡区人民调解员协会",
    "关渡区爱心救助基金会",
    "关渡区睦邻社会工作服务中心",
    "关渡区银龄互助服务中心",
    "关渡区成长青少年服务社",
    "关渡区阳光家园助残中心",
    "关渡区社会组织联合会",
    "关渡区惠民社会救助服务中心",
    "关渡区议事协商促进中心",
    "关渡区和美调解服务中心",
    "关渡区福寿养老服务社",
    "关渡区未来青少年发展基金会",
    "关渡区自强助残服务中心",
    "关渡区社区公益服务中心",
    "关渡区善行救助服务社",
    "关渡区幸福家庭服务中心",
    "关渡区乐活长者服务中心",
    "关渡区星火青年志愿服务中心",
    "关渡区温馨助残服务社",
    "关渡区共建共治服务中心",
    "关渡区和顺调解服务社",
    "关渡区滇南社会工作服务中心",
    "关渡区翠湖公益服务社",
    "关渡区映山红社会工作服务中心",
];

const DEMO_GROUPS: &[&str] = &[
    "太和社区广场舞队",
    "东华社区老年书画社",
    "关上社区邻里互助队",
    "西山社区环保志愿队",
    "矣六社区读书会",
    "小板桥社区象棋协会",
];

const DEMO_FIELDS: &[&str] = &[
    "elderly",
    "youth",
    "disability",
    "relief",
    "community_governance",
    "mediation",
];

const SURNAMES: &[&str] = &[
    "李", "王", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴", "徐", "孙", "马", "朱", "胡", "郭",
    "何", "高", "林", "罗",
];
const GIVEN: &[&str] = &[
    "晓明", "丽华", "建国", "海燕", "志强", "秀英", "春梅", "伟", "芳", "静", "磊", "娜", "军",
    "洋", "艳", "勇", "杰", "婷", "超", "敏",
];

/// A valid synthetic credit code: `5` + kind digit + Guandu area code + a 9-character body + check.
pub fn demo_code(kind_digit: char, n: u32) -> String {
    let body = format!("5{kind_digit}530111MJ{n:07}");
    let check = crate::domain::credit_code::check_character(&body).expect("alphabet");
    format!("{body}{check}")
}

/// A valid synthetic identity number (for demo data and tests): a Guandu address code, a birth date and a
/// sequence, with the ISO 7064 MOD 11-2 check character.
pub fn demo_id_number(birth: NaiveDate, seq: u32) -> String {
    let first = format!("530111{}{:03}", birth.format("%Y%m%d"), seq % 1000);
    let check = crate::registry::workers::id_check_char(&first).expect("17 digits");
    format!("{first}{check}")
}

/// About 60 organisations of Guandu with ratings, inspections and listings, and about 150 social workers.
/// Needs the streets to exist (without streets, no addresses or service areas are set).
pub fn seed_demo(conn: &mut DbConn, now: DateTime<Utc>, secret: &str) -> Result<(), AppError> {
    let exists: Option<i64> = o::table.select(o::id).first(conn).optional()?;
    if exists.is_some() {
        return Ok(());
    }
    let actor = Actor::system("seed");
    let ts = crate::db::now_micros(now);
    let today = beijing_date(now);
    let last_year = today.year() - 1;
    let street_ids: Vec<i64> = st::table.order(st::code).select(st::id).load(conn)?;
    let pick_street = |i: usize| -> Option<i64> {
        (!street_ids.is_empty()).then(|| street_ids[i % street_ids.len()])
    };
    write_tx(conn, |conn| {
        let mut org_ids = Vec::new();
        for (i, name) in DEMO_ORG_NAMES.iter().enumerate() {
            let (kind, digit) = if name.ends_with("基金会") {
                ("foundation", '3')
            } else if name.ends_with("协会") || name.ends_with("促进会") || name.ends_with("联合会")
            {
                ("social_group", '1')
            } else {
                ("private_non_enterprise", '2')
            };
            let s = pick_street(i);
            let fields: Vec<String> = vec![
                DEMO_FIELDS[i % DEMO_FIELDS.len()].to_string(),
                DEMO_FIELDS[(i * 7 + 3) % DEMO_FIELDS.len()].to_string(),
            ];
            let mut fields = fields;
            fields.sort();
            fields.dedup();
            let mut areas: Vec<i64> = [pick_street(i), pick_street(i + 3)]
                .into_iter()
                .flatten()
                .collect();
            areas.sort();
            areas.dedup();
            let registered_on = NaiveDate::from_ymd_opt(
                2010 + (i as i32 % 15),
                1 + (i as u32 % 12),
                1 + (i as u32 % 27),
            )
            .unwrap_or(today);
            let c = Clean {
                name: name.to_string(),
                kind: kind.into(),
                registration: "registered".into(),
                credit_code: Some(demo_code(digit, 1000 + i as u32)),
                registered_on: Some(registered_on.min(today)),
                registration_authority: Some("关渡区民政局".into()),
                legal_representative: Some(format!(
                    "{}{}",
                    SURNAMES[i % SURNAMES.len()],
                    GIVEN[(i * 3) % GIVEN.len()]
                )),
                contact_name: Some(format!(
                    "{}{}",
                    SURNAMES[(i + 5) % SURNAMES.len()],
                    GIVEN[(i * 7 + 1) % GIVEN.len()]
                )),
                contact_phone: Some(format!("138{:08}", 71000000 + i * 137)),
                contact_email: Some(format!("org{}@demo.sanshe.local", i + 1)),
                address: Some(format!("关渡区示范路 {} 号", 10 + i)),
                street_id: s,
                staff_count: 3 + (i as i32 * 7) % 40,
                volunteer_count: 10 + (i as i32 * 13) % 200,
                fields,
                areas,
            };
            let id = insert_clean(conn, ts, &c)?;
            org_ids.push(id);
            // Ratings: about half rated; every fifth rating has expired.
            if i % 2 == 0 {
                let years_ago = if i % 10 == 0 { 6 } else { 1 + (i as i32 % 4) };
                let awarded =
                    NaiveDate::from_ymd_opt(today.year() - years_ago, 6, 1).unwrap_or(today);
                diesel::insert_into(ora::table)
                    .values((
                        ora::organisation_id.eq(id),
                        ora::grade.eq(1 + (i as i32 / 2) % 5),
                        ora::awarded_on.eq(awarded),
                        ora::expires_on.eq(standing::rating_expiry(awarded)),
                        ora::created_at.eq(ts),
                    ))
                    .execute(conn)?;
            }
            // Inspections for the last three years; a few miss last year's report, one failed it.
            for y in (last_year - 2)..=last_year {
                if y == last_year && (i == 7 || i == 21) {
                    continue;
                }
                let conclusion = if y == last_year && i == 33 {
                    "fail"
                } else if (i + y as usize).is_multiple_of(6) {
                    "basic_pass"
                } else {
                    "pass"
                };
                diesel::insert_into(oi::table)
                    .values((
                        oi::organisation_id.eq(id),
                        oi::year.eq(y),
                        oi::kind.eq(if y % 2 == 0 {
                            "inspection"
                        } else {
                            "annual_report"
                        }),
                        oi::conclusion.eq(conclusion),
                        oi::decided_on.eq(NaiveDate::from_ymd_opt(y + 1, 5, 20)
                            .unwrap_or(today)
                            .min(today)),
                        oi::created_at.eq(ts),
                    ))
                    .execute(conn)?;
            }
            let listing = match i {
                // The one barred organisation.
                40 => Some(("dishonesty", "信用中国（云南）", 200)),
                12 | 26 => Some(("abnormal", "云南省社会组织信息公开平台", 90)),
                _ => None,
            };
            if let Some((list, source, days)) = listing {
                let hash = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(
                    format!("demo evidence {id} {list}").as_bytes(),
                ));
                diesel::insert_into(cl::table)
                    .values((
                        cl::organisation_id.eq(id),
                        cl::list.eq(list),
                        cl::source.eq(source),
                        cl::listed_on.eq(today - chrono::Duration::days(days)),
                        cl::evidence_sha256.eq(hash),
                        cl::created_at.eq(ts),
                    ))
                    .execute(conn)?;
            }
            // A removed (historic) abnormal listing: no longer counts.
            if i == 5 {
                diesel::insert_into(cl::table)
                    .values((
                        cl::organisation_id.eq(id),
                        cl::list.eq("abnormal"),
                        cl::source.eq("云南省社会组织信息公开平台"),
                        cl::listed_on.eq(today - chrono::Duration::days(700)),
                        cl::removed_on.eq(Some(today - chrono::Duration::days(400))),
                        cl::evidence_sha256.eq("0".repeat(64)),
                        cl::created_at.eq(ts),
                    ))
                    .execute(conn)?;
            }
        }
        for (i, name) in DEMO_GROUPS.iter().enumerate() {
            let c = Clean {
                name: name.to_string(),
                kind: "community_group".into(),
                registration: if i % 3 == 2 { "unregistered" } else { "filed" }.into(),
                credit_code: None,
                registered_on: None,
                registration_authority: Some("街道办事处（备案）".into()),
                legal_representative: None,
                contact_name: Some(format!(
                    "{}{}",
                    SURNAMES[(i + 9) % SURNAMES.len()],
                    GIVEN[i % GIVEN.len()]
                )),
                contact_phone: Some(format!("139{:08}", 52000000 + i * 311)),
                contact_email: None,
                address: None,
                street_id: pick_street(i * 2),
                staff_count: 0,
                volunteer_count: 8 + i as i32 * 3,
                fields: vec![DEMO_FIELDS[(i + 4) % DEMO_FIELDS.len()].to_string()],
                areas: pick_street(i * 2).into_iter().collect(),
            };
            insert_clean(conn, ts, &c)?;
        }
        audit::record(
            conn,
            &actor,
            now,
            "seed.organisations",
            "organisation",
            None,
            None,
            Some(serde_json::json!({"organisations": DEMO_ORG_NAMES.len() + DEMO_GROUPS.len()})),
        )?;
        let n =
            crate::registry::workers::seed_demo_workers(conn, now, secret, &org_ids, &street_ids)?;
        audit::record(
            conn,
            &actor,
            now,
            "seed.social_workers",
            "social_worker",
            None,
            None,
            Some(serde_json::json!({"social_workers": n})),
        )?;
        Ok(())
    })
}

/// One `org` user per registered demo organisation: username `org` + the id in three digits (`org001`; not
/// `org1`, which tests create themselves), display name the organisation's
/// name, every one with the given password hash.
pub fn seed_org_users(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    password_hash: &str,
) -> Result<(), AppError> {
    use crate::db::schema::users as u;
    let ts = crate::db::now_micros(now);
    let orgs: Vec<(i64, String)> = o::table
        .filter(o::registration.eq("registered"))
        .order(o::id)
        .select((o::id, o::name))
        .load(conn)?;
    write_tx(conn, |conn| {
        let mut n = 0;
        for (id, name) in &orgs {
            let username = format!("org{id:03}");
            let taken: Option<i64> = u::table
                .filter(u::username.eq(&username))
                .select(u::id)
                .first(conn)
                .optional()?;
            if taken.is_some() {
                continue;
            }
            diesel::insert_into(u::table)
                .values((
                    u::username.eq(&username),
                    u::display_name.eq(name),
                    u::email.eq(None::<String>),
                    u::role.eq("org"),
                    u::org_id.eq(Some(*id)),
                    u::password_hash.eq(password_hash),
                    u::active.eq(true),
                    u::token_version.eq(0i64),
                    u::created_at.eq(ts),
                    u::updated_at.eq(ts),
                ))
                .execute(conn)?;
            n += 1;
        }
        audit::record(
            conn,
            &Actor::system("seed"),
            now,
            "seed.org_users",
            "user",
            None,
            None,
            Some(serde_json::json!({"org_users": n})),
        )?;
        Ok(())
    })
}

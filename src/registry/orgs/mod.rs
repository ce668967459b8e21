//! Organisations: identity and credit code, registration, contacts, service fields and areas, ratings, annual
//! inspections and credit listings; the standing computed from them (`domain::standing`); the public directory.
//! Every change is audited in its transaction. The demo organisations are in `crate::seed::registry::orgs`.
//!
//! Here: the vocabularies, rows, views and inputs, and access. `validate` checks an input, `write` creates
//! and updates, `views` builds what an organisation shows with its standing, `list` lists and filters,
//! `facts` records ratings, inspections and listings, `links` the links that make organisations related
//! suppliers (实施条例 Art 18); all re-exported here.

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

mod facts;
mod links;
mod list;
mod search;
mod stored;
mod validate;
mod views;
mod write;

pub use facts::*;
pub use links::*;
pub use list::*;
pub use search::*;
pub use stored::*;
pub use validate::*;
pub use views::*;
pub use write::*;

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

pub const LISTS: Vocab = crate::domain::standing::ListKind::VOCAB;

pub const INSPECTION_KINDS: &[(&str, &str, &str)] = &[
    ("inspection", "年检", "Annual inspection"),
    ("annual_report", "年报", "Annual report"),
];

pub const CONCLUSIONS: Vocab = crate::domain::standing::Conclusion::VOCAB;

use crate::domain::vocab::{Vocab, keys, one_of};
pub use crate::domain::vocab::{key_of, label};

// Demo data lives in `crate::seed`; re-exported where the tests have always found it.
pub use crate::seed::registry::orgs::{demo_code, demo_id_number, seed_demo, seed_org_users};

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
    /// 1–5 (1A–5A); `null` for a revocation.
    pub grade: Option<i32>,
    /// The decision's date.
    #[schema(value_type = String)]
    pub awarded_on: NaiveDate,
    /// Five years after an award; a revocation's own date.
    #[schema(value_type = String)]
    pub expires_on: NaiveDate,
    #[serde(skip)]
    pub created_at: NaiveDateTime,
    /// `award`, or `revocation` (撤销等级, 民政部令第39号 Art 30).
    pub decision: String,
    /// Why (required for a revocation).
    pub reason: Option<String>,
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
    /// dishonesty, court_defaulter, debarment, abnormal or tax_dishonesty
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

pub fn find(conn: &mut DbConn, id: i64) -> Result<OrgRow, AppError> {
    Ok(o::table.find(id).select(OrgRow::as_select()).first(conn)?)
}

/// Who is looking: the bureau and administrators see everything, finance too (read-only, to audit awards
/// and payments), an organisation its own data.
pub fn may_see(user: &CurrentUser, org_id: i64) -> bool {
    user.is_staff()
        || user.role == Role::Finance
        || (user.role == Role::Org && user.org_id == Some(org_id))
}

/// Who may change an organisation's record: the bureau and administrators, an organisation its own
/// (through `write::update`'s rules). Finance reads only.
pub fn may_change(user: &CurrentUser, org_id: i64) -> bool {
    user.role != Role::Finance && may_see(user, org_id)
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

//! Purchase-of-service tenders: the notice and its life cycle, enquiries, sealed bids (`bids`), the
//! evaluation, award, publicity and challenges (`evaluation`); the demo tenders are in `crate::seed::tenders`.
//!
//! By action: `drafts` (a draft's input checked, created, updated), `lifecycle` (timeline rows, publish,
//! cancel, the clock's transitions), `notices` (a tender's view, one or a list, counts),
//! `enquiry` (asked and answered), `single_source` (单一来源: the 公示, objections, the negotiation record); this module holds the context, the rows and views, and the helpers they
//! share, and re-exports the rest so callers name `tenders::create`, `tenders::publish` as before.
//!
//! The life cycle is driven by the clock: [`advance_due`] moves every tender whose deadline has passed
//! (published → closed at the bid deadline, closed → opened at the opening time unless a challenge against
//! the documents holds it (实施条例 Art 54), publicity → challenge window, challenge window → awarded unless
//! a challenge that may affect the result is open). A background scheduler calls it, and so does every read and write
//! of tenders, so a request never sees a state the clock has already left. Every state change writes a
//! timeline row and an audit event in the same transaction.

pub mod bids;
pub mod evaluation;
pub mod seal;
pub mod single_source;

mod drafts;
mod enquiry;
mod lifecycle;
mod notices;

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use crate::audit::{self, Actor};
use crate::db::DbConn;
use crate::db::schema::{
    communities, enquiries, organisation_fields, organisations, streets, tender_documents,
    tender_events, tender_streets, tenders, users,
};
use crate::db::write_tx;
use crate::domain::calendar::BusinessCalendar;
use crate::domain::standing;
use crate::domain::tender::{
    self as rules, Broken, Criteria, Eligibility, Instalment, Method, Note, State, Targets,
    TenderRules,
};
use crate::error::{AppError, Checks, FieldError, Msg};
use crate::mail::templates as mails;

pub use drafts::*;
pub use enquiry::*;
pub use lifecycle::*;
pub use notices::*;

/// What tender rules need from the configuration.
#[derive(Debug)]
pub struct Ctx {
    pub rules: TenderRules,
    pub cal: Arc<BusinessCalendar>,
    pub sealer: seal::Sealer,
    /// Seals a bid's files at rest (`files::seal`), from the same secret.
    pub file_sealer: Arc<crate::files::seal::FileSealer>,
    /// Largest total of one bid's files, bytes (`SANSHE_BID_FILES_MAX_MB`).
    pub bid_files_max: u64,
    pub standing: standing::Rules,
    pub public_url: String,
}

impl Ctx {
    pub fn from_config(c: &crate::config::Config) -> Ctx {
        Ctx {
            rules: c.tender_rules.clone(),
            cal: c.calendar.clone(),
            sealer: seal::Sealer::new(c.seal_secret.expose()),
            file_sealer: Arc::new(crate::files::seal::FileSealer::new(c.seal_secret.expose())),
            bid_files_max: c.files.bid_max,
            standing: standing::Rules {
                abnormal_bars: c.abnormal_list_bars,
                report_due: c.annual_report_due,
                foundation_report_due: c.foundation_report_due,
            },
            public_url: c.public_url.clone(),
        }
    }
}

pub fn push_broken(checks: &mut Checks, b: Vec<Broken>) {
    for x in b {
        checks.add(&x.field, x.rule, x.zh, x.en);
    }
}

pub fn broken_errors(b: Vec<Broken>) -> Vec<FieldError> {
    b.into_iter()
        .map(|x| FieldError::new(&x.field, x.rule, x.zh, x.en))
        .collect()
}

pub use crate::clock::beijing_date as today;

/// The end of the working day `n` working days after `now`'s Beijing date: midnight Beijing that follows.
pub fn working_days_end(cal: &BusinessCalendar, now: DateTime<Utc>, n: u32) -> NaiveDateTime {
    let (d, _) = cal.add_working_days(today(now), n);
    let next = d + chrono::Duration::days(1);
    crate::clock::shanghai()
        .from_local_datetime(&next.and_hms_opt(0, 0, 0).expect("midnight"))
        .single()
        .expect("fixed offset")
        .naive_utc()
}

/// Read a date-time: `YYYY-MM-DDTHH:MM[:SS]` (or with a space for the `T`) in Beijing, or the same with an
/// offset (`Z`, `+08:00`); nothing around it (`domain::dates::parse_instant`, the one strict reader).
pub fn parse_when(s: &str) -> Option<DateTime<Utc>> {
    crate::domain::dates::parse_instant(s, crate::clock::shanghai())
}

/// A stored UTC time as the Beijing `YYYY-MM-DDTHH:MM` a form input shows.
pub fn form_when(t: NaiveDateTime) -> String {
    t.and_utc()
        .with_timezone(&crate::clock::shanghai())
        .format("%Y-%m-%dT%H:%M")
        .to_string()
}

#[derive(Queryable, Selectable, Debug, Clone)]
#[diesel(table_name = tenders)]
pub struct TenderRow {
    pub id: i64,
    pub code: String,
    pub title: String,
    pub description: String,
    pub field: String,
    pub communities: String,
    pub budget_fen: i64,
    pub method: String,
    pub term_months: i32,
    pub term_reason: Option<String>,
    pub eligibility: String,
    pub criteria: String,
    pub targets: String,
    pub instalments: String,
    pub invited: String,
    pub state: String,
    pub published_at: Option<NaiveDateTime>,
    pub enquiry_deadline: NaiveDateTime,
    pub bid_deadline: NaiveDateTime,
    pub opening_at: NaiveDateTime,
    pub evaluated_at: Option<NaiveDateTime>,
    pub publicity_ends: Option<NaiveDateTime>,
    pub challenge_ends: Option<NaiveDateTime>,
    pub award_bid_id: Option<i64>,
    pub award_reason: Option<String>,
    pub awarded_at: Option<NaiveDateTime>,
    pub contract_signed_on: Option<NaiveDate>,
    pub end_reason: Option<String>,
    pub created_by: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// When the result notice and the award letter went out.
    pub result_published_at: Option<NaiveDateTime>,
}

/// The period a tender's documents are available (first and last day, Beijing), if the tender states one.
pub fn documents_of(conn: &mut DbConn, id: i64) -> QueryResult<Option<(NaiveDate, NaiveDate)>> {
    tender_documents::table
        .find(id)
        .select((
            tender_documents::available_from,
            tender_documents::available_until,
        ))
        .first(conn)
        .optional()
}

impl TenderRow {
    pub fn state(&self) -> State {
        State::parse(&self.state).unwrap_or(State::Draft)
    }
    pub fn method(&self) -> Method {
        Method::parse(&self.method).unwrap_or(Method::Open)
    }
    pub fn criteria(&self) -> Criteria {
        serde_json::from_str(&self.criteria).unwrap_or(Criteria {
            price_weight_pct: rust_decimal::Decimal::from(30),
            ..Default::default()
        })
    }
    pub fn eligibility(&self) -> Eligibility {
        serde_json::from_str(&self.eligibility).unwrap_or_default()
    }
    pub fn targets(&self) -> Targets {
        serde_json::from_str(&self.targets).unwrap_or_default()
    }
    pub fn instalments(&self) -> Vec<Instalment> {
        serde_json::from_str(&self.instalments).unwrap_or_default()
    }
    pub fn invited(&self) -> Vec<i64> {
        serde_json::from_str(&self.invited).unwrap_or_default()
    }
    pub fn community_ids(&self) -> Vec<i64> {
        serde_json::from_str(&self.communities).unwrap_or_default()
    }
    pub fn bidding_open(&self, now: DateTime<Utc>) -> bool {
        self.state() == State::Published && crate::db::now_micros(now) < self.bid_deadline
    }
}

/// An area reference with its name.
#[derive(Serialize, Debug, Clone, utoipa::ToSchema)]
pub struct Named {
    pub id: i64,
    pub name: String,
}

#[derive(Serialize, Debug, Clone, utoipa::ToSchema)]
pub struct TimelineEntry {
    #[schema(value_type = String)]
    pub at: NaiveDateTime,
    pub from_state: Option<String>,
    pub to_state: String,
    pub to_label_zh: String,
    pub to_label_en: String,
    /// What the note is about (`opened`, `challenge_filed`, …; `said` for a person's own words, `legacy`
    /// for a note written before notes had codes).
    pub note_code: Option<String>,
    pub note_zh: Option<String>,
    pub note_en: Option<String>,
    /// Who took the step, as the public may know it: never a login name, never which supplier filed a
    /// challenge.
    pub actor: PublicActor,
}

impl TimelineEntry {
    /// The note in the reader's language.
    pub fn note(&self, zh: bool) -> Option<&str> {
        if zh {
            self.note_zh.as_deref()
        } else {
            self.note_en.as_deref()
        }
    }
}

/// Who took a step of a tender, as its public timeline says it.
#[derive(Serialize, Debug, Clone, Copy, PartialEq, Eq, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PublicActor {
    /// The bureau (its staff, administrators or finance): shown as the issuer, e.g. 区民政局.
    Bureau,
    /// A member of the evaluation panel.
    Panel,
    /// A supplier (a challenge filed, a bid withdrawn): which one stays private.
    Supplier,
    /// The service itself (deadlines, the opening, the end of publicity).
    System,
}

impl PublicActor {
    pub fn of_role(role: Option<crate::auth::Role>) -> PublicActor {
        use crate::auth::Role;
        match role {
            Some(Role::Bureau | Role::Admin | Role::Finance) => PublicActor::Bureau,
            Some(Role::Evaluator) => PublicActor::Panel,
            Some(Role::Org) => PublicActor::Supplier,
            None => PublicActor::System,
        }
    }
}

/// A winner's refusal to sign the contract, recorded by the bureau; the award passed on (实施条例 Art 43).
#[derive(Serialize, Debug, Clone, utoipa::ToSchema)]
pub struct AwardRefusal {
    pub bid_seq: i64,
    pub organisation_name: String,
    pub reason: String,
    #[schema(value_type = String)]
    pub recorded_at: NaiveDateTime,
}

/// The public result notice: the winner, its price and every valid bid's total score, and the panel size.
#[derive(Serialize, Debug, Clone, utoipa::ToSchema)]
pub struct ResultNotice {
    pub winner_id: i64,
    pub winner_name: String,
    pub winner_credit_code: Option<String>,
    /// Yuan, two decimals.
    pub price: String,
    pub price_fen: i64,
    pub panel_size: i64,
    /// The evaluators who scored, by name (87号令 Art 69; 财库〔2016〕198号 Art 20).
    pub evaluators: Vec<String>,
    /// 单一来源: the procurement staff who negotiated (协商人员, 74号令 Art 42), in place of evaluators.
    pub negotiators: Vec<String>,
    pub scores: Vec<ScoreLine>,
    /// The award letter (中标/成交通知书), issued with the notice.
    pub letter: Option<AwardLetter>,
    #[schema(value_type = Option<String>)]
    pub publicity_ends: Option<NaiveDateTime>,
    #[schema(value_type = Option<String>)]
    pub challenge_ends: Option<NaiveDateTime>,
}

/// The award letter (中标/成交通知书): issued to the winner with the result notice; the contract is due within
/// 30 days of it (政府采购法 Art 46).
#[derive(Serialize, Debug, Clone, utoipa::ToSchema)]
pub struct AwardLetter {
    /// The tender's code and the winning bid's receipt number.
    pub no: String,
    /// 中标通知书 (tenders) or 成交通知书 (the other methods).
    pub title_zh: String,
    pub title_en: String,
    #[schema(value_type = String)]
    pub issued_at: NaiveDateTime,
    /// The last day to sign the contract.
    #[schema(value_type = String)]
    pub sign_by: NaiveDate,
}

#[derive(Serialize, Debug, Clone, utoipa::ToSchema)]
pub struct ScoreLine {
    pub rank: u32,
    pub organisation_name: String,
    /// Total score, two decimals.
    pub total: String,
}

/// A step held by an open challenge that may affect the result (实施条例 Art 54).
#[derive(Serialize, Debug, Clone, utoipa::ToSchema)]
pub struct Suspension {
    pub challenge_id: i64,
    /// `opening` (held by a challenge against the documents) or `award` (naming the winner, publishing the
    /// result, the final award and the contract).
    pub step: String,
    /// "暂停 / suspended by challenge #N", with the step.
    pub note_zh: String,
    pub note_en: String,
}

impl Suspension {
    pub fn new(challenge_id: i64, step: rules::Suspendable) -> Suspension {
        let (s, zh, en) = match step {
            rules::Suspendable::Opening => ("opening", "开标", "the opening waits"),
            rules::Suspendable::Award => (
                "award",
                "确定中标人、结果公告、授予和签约",
                "the award, the result notice and the contract wait",
            ),
        };
        Suspension {
            challenge_id,
            step: s.into(),
            note_zh: format!(
                "暂停：质疑 #{challenge_id} 答复前暂停{zh}（政府采购法实施条例第五十四条）"
            ),
            note_en: format!(
                "Suspended by challenge #{challenge_id}: {en} for its answer (Implementing Regulations Art 54)"
            ),
        }
    }
}

/// A tender as shown to its readers. Drafts are seen only by the bureau and administrators.
#[derive(Serialize, Debug, Clone, utoipa::ToSchema)]
pub struct TenderView {
    pub id: i64,
    pub code: String,
    pub title: String,
    pub description: String,
    pub field: String,
    pub field_label_zh: String,
    pub field_label_en: String,
    pub streets: Vec<Named>,
    pub communities: Vec<Named>,
    /// Budget ceiling in yuan, two decimals.
    pub budget: String,
    pub budget_fen: i64,
    pub method: Method,
    pub method_label_zh: String,
    pub method_label_en: String,
    pub term_months: i32,
    pub term_reason: Option<String>,
    pub eligibility: Eligibility,
    pub criteria: Criteria,
    pub targets: Targets,
    pub instalments: Vec<Instalment>,
    pub invited: Vec<Named>,
    pub state: State,
    pub state_label_zh: String,
    pub state_label_en: String,
    #[schema(value_type = Option<String>)]
    pub published_at: Option<NaiveDateTime>,
    #[schema(value_type = String)]
    pub enquiry_deadline: NaiveDateTime,
    #[schema(value_type = String)]
    pub bid_deadline: NaiveDateTime,
    #[schema(value_type = String)]
    pub opening_at: NaiveDateTime,
    /// The period the tender documents are available (Beijing dates, both counted); `null` for
    /// from publication to the bid deadline (87号令 Art 18).
    #[schema(value_type = Option<String>)]
    pub documents_from: Option<NaiveDate>,
    #[schema(value_type = Option<String>)]
    pub documents_until: Option<NaiveDate>,
    #[schema(value_type = Option<String>)]
    pub publicity_ends: Option<NaiveDateTime>,
    #[schema(value_type = Option<String>)]
    pub challenge_ends: Option<NaiveDateTime>,
    #[schema(value_type = Option<String>)]
    pub contract_signed_on: Option<NaiveDate>,
    /// Why it was cancelled or failed: "中文 / English", or a person's words as written.
    pub end_reason: Option<String>,
    /// While the report waits for a winner: the last day to name one (实施条例 Art 43).
    #[schema(value_type = Option<String>)]
    pub award_due: Option<NaiveDate>,
    /// While the named winner waits for its result notice: the last day to publish it (87号令 Art 69).
    #[schema(value_type = Option<String>)]
    pub result_due: Option<NaiveDate>,
    /// The result, once it is public (publicity and after).
    pub result: Option<ResultNotice>,
    /// 暂停: the step an open challenge that may affect the result holds now (实施条例 Art 54).
    pub suspended: Option<Suspension>,
    pub timeline: Vec<TimelineEntry>,
    /// Winners that refused to sign (实施条例 Art 43), oldest first: each bid is shown as "refused to sign".
    pub award_refusals: Vec<AwardRefusal>,
    /// Years outside the holiday calendar that a deadline here was counted in.
    pub calendar_warnings: Vec<Msg>,
}

/// One line of a tender list.
#[derive(Serialize, Debug, Clone, Queryable, utoipa::ToSchema)]
pub struct TenderSummary {
    pub id: i64,
    pub code: String,
    pub title: String,
    pub field: String,
    pub method: String,
    pub budget_fen: i64,
    pub state: String,
    #[schema(value_type = Option<String>)]
    pub published_at: Option<NaiveDateTime>,
    #[schema(value_type = String)]
    pub bid_deadline: NaiveDateTime,
    #[schema(value_type = String)]
    pub opening_at: NaiveDateTime,
}

impl TenderSummary {
    pub fn state_label(&self, zh: bool) -> &'static str {
        State::parse(&self.state).map(|s| s.label(zh)).unwrap_or("")
    }
    pub fn method_label(&self, zh: bool) -> &'static str {
        Method::parse(&self.method)
            .map(|m| m.label(zh))
            .unwrap_or("")
    }
    pub fn field_label(&self, zh: bool) -> String {
        crate::registry::orgs::label(crate::registry::orgs::FIELDS, &self.field, zh)
    }
    pub fn budget(&self) -> String {
        crate::money::yuan_grouped(self.budget_fen)
    }
}

#[derive(Debug, Default, Clone, Deserialize, Serialize, utoipa::IntoParams)]
// An unknown parameter is refused (400 naming it), not silently ignored.
#[serde(deny_unknown_fields)]
pub struct TenderFilter {
    /// Part of the title or the code.
    pub q: Option<String>,
    /// Service field key, e.g. `elderly`.
    pub field: Option<String>,
    /// A street the service covers.
    pub street_id: Option<i64>,
    /// A state, e.g. `published`; `open` means still accepting bids.
    pub state: Option<String>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

/// A tender as drafted: amounts in yuan, times in Beijing (`YYYY-MM-DDTHH:MM`) or RFC 3339.
#[derive(Deserialize, Serialize, Debug, Clone, Default, utoipa::ToSchema)]
pub struct TenderInput {
    pub code: String,
    pub title: String,
    pub description: String,
    pub field: String,
    #[serde(default)]
    pub street_ids: Vec<i64>,
    #[serde(default)]
    pub community_ids: Vec<i64>,
    /// Budget ceiling in yuan, e.g. `"150000"`.
    pub budget: String,
    /// `open`, `invited`, `consultation`, `negotiation` or `single_source`.
    pub method: String,
    pub term_months: i32,
    pub term_reason: Option<String>,
    #[serde(default)]
    pub eligibility: Eligibility,
    pub criteria: Criteria,
    #[serde(default)]
    pub targets: Targets,
    pub instalments: Vec<Instalment>,
    /// Invited organisations (邀请招标: at least 3; 单一来源: exactly the one supplier).
    #[serde(default)]
    pub invited: Vec<i64>,
    /// 单一来源 only: the lawful ground (政府采购法 Art 31): `only_supplier`, `emergency` or `consistency`.
    #[serde(default)]
    pub single_source_ground: Option<String>,
    /// 单一来源 only: why single source (at most 2,000 characters), shown in its 公示.
    #[serde(default)]
    pub single_source_explanation: Option<String>,
    pub enquiry_deadline: String,
    pub bid_deadline: String,
    pub opening_at: String,
    /// First day the tender documents are available (获取招标文件), `YYYY-MM-DD` (Beijing); with
    /// `documents_until`, or neither (then from publication to the bid deadline). Open and invited tenders:
    /// at least 5 working days, both days counted (87号令 Art 18).
    #[serde(default)]
    pub documents_from: Option<String>,
    /// Last day the tender documents are available, `YYYY-MM-DD` (Beijing).
    #[serde(default)]
    pub documents_until: Option<String>,
}

pub fn illegal(from: State, to: State) -> AppError {
    AppError::conflict(
        "illegal_transition",
        format!(
            "项目处于“{}”，不能转为“{}”。",
            from.label(true),
            to.label(true)
        ),
        format!(
            "The tender is {}; it cannot become {}.",
            from.label(false).to_lowercase(),
            to.label(false).to_lowercase()
        ),
    )
}

/// 409 naming the state a request needs.
pub fn wrong_state(have: State, zh: &str, en: &str) -> AppError {
    AppError::conflict(
        "wrong_state",
        format!("项目处于“{}”，{zh}", have.label(true)),
        format!("The tender is {}: {en}", have.label(false).to_lowercase()),
    )
}

pub fn find_row(conn: &mut DbConn, id: i64) -> Result<TenderRow, AppError> {
    tenders::table
        .find(id)
        .select(TenderRow::as_select())
        .first(conn)
        .optional()?
        .ok_or(AppError::NotFound)
}

/// A tender the caller may see: drafts only for the bureau and administrators.
pub fn visible_row(conn: &mut DbConn, id: i64, staff: bool) -> Result<TenderRow, AppError> {
    let t = find_row(conn, id)?;
    if t.state() == State::Draft && !staff {
        return Err(AppError::NotFound);
    }
    Ok(t)
}

/// Names and contact e-mails of organisations (those without an e-mail are skipped).
pub fn contacts(conn: &mut DbConn, org_ids: &[i64]) -> QueryResult<Vec<(String, String)>> {
    Ok(contacts_of(conn, org_ids)?
        .into_iter()
        .map(|(_, n, e)| (n, e))
        .collect())
}

/// [`contacts`] with each organisation's id: (id, name, e-mail).
pub fn contacts_of(conn: &mut DbConn, org_ids: &[i64]) -> QueryResult<Vec<(i64, String, String)>> {
    Ok(organisations::table
        .filter(organisations::id.eq_any(org_ids))
        .order(organisations::id)
        .select((
            organisations::id,
            organisations::name,
            organisations::contact_email,
        ))
        .load::<(i64, String, Option<String>)>(conn)?
        .into_iter()
        .filter_map(|(id, n, e)| e.filter(|e| !e.is_empty()).map(|e| (id, n, e)))
        .collect())
}

/// When the bureau last named a winner (moved the tender into 拟中标), from the timeline.
pub fn named_at(conn: &mut DbConn, tender_id: i64) -> QueryResult<Option<NaiveDateTime>> {
    use crate::db::schema::tender_events as te;
    te::table
        .filter(te::tender_id.eq(tender_id))
        .filter(te::to_state.eq(State::AwardProposed.as_str()))
        .filter(te::from_state.ne(State::AwardProposed.as_str()))
        .select(diesel::dsl::max(te::at))
        .first(conn)
}

/// The e-mail of the officer who drafted the tender, if any.
pub fn officer_email(conn: &mut DbConn, t: &TenderRow) -> QueryResult<Option<String>> {
    Ok(users::table
        .find(t.created_by)
        .select(users::email)
        .first::<Option<String>>(conn)
        .optional()?
        .flatten())
}

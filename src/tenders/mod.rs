//! Purchase-of-service tenders: the notice and its life cycle, enquiries, sealed bids (`bids`), the
//! evaluation, award, publicity and challenges (`evaluation`), and demo data (`seed`).
//!
//! The life cycle is driven by the clock: [`advance_due`] moves every tender whose deadline has passed
//! (published → closed at the bid deadline, closed → opened at the opening time, publicity → challenge
//! window, challenge window → awarded). A background scheduler calls it, and so does every read and write
//! of tenders, so a request never sees a state the clock has already left. Every state change writes a
//! timeline row and an audit event in the same transaction.

pub mod bids;
pub mod evaluation;
pub mod seal;
pub mod seed;

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use crate::audit::{self, Actor};
use crate::db::DbConn;
use crate::db::schema::{
    communities, enquiries, organisation_fields, organisations, streets, tender_events,
    tender_streets, tenders, users,
};
use crate::db::write_tx;
use crate::domain::calendar::BusinessCalendar;
use crate::domain::standing;
use crate::domain::tender::{
    self as rules, Broken, Criteria, Eligibility, Instalment, Method, State, Targets, TenderRules,
};
use crate::error::{AppError, Checks, FieldError, Msg};
use crate::mail::templates as mails;

/// What tender rules need from the configuration.
#[derive(Debug)]
pub struct Ctx {
    pub rules: TenderRules,
    pub cal: Arc<BusinessCalendar>,
    pub sealer: seal::Sealer,
    pub standing: standing::Rules,
    pub public_url: String,
}

impl Ctx {
    pub fn from_config(c: &crate::config::Config) -> Ctx {
        Ctx {
            rules: c.tender_rules.clone(),
            cal: c.calendar.clone(),
            sealer: seal::Sealer::new(c.seal_secret.expose()),
            standing: standing::Rules {
                abnormal_bars: c.abnormal_list_bars,
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

/// Read a date-time: RFC 3339 with an offset, or `YYYY-MM-DDTHH:MM[:SS]` / `YYYY-MM-DD HH:MM` in Beijing.
pub fn parse_when(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    for f in [
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%d %H:%M:%S",
    ] {
        if let Ok(n) = NaiveDateTime::parse_from_str(s, f) {
            return crate::clock::shanghai()
                .from_local_datetime(&n)
                .single()
                .map(|t| t.with_timezone(&Utc));
        }
    }
    None
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
            items: vec![],
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
    pub note: Option<String>,
    pub actor_name: String,
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
    pub scores: Vec<ScoreLine>,
    #[schema(value_type = Option<String>)]
    pub publicity_ends: Option<NaiveDateTime>,
    #[schema(value_type = Option<String>)]
    pub challenge_ends: Option<NaiveDateTime>,
}

#[derive(Serialize, Debug, Clone, utoipa::ToSchema)]
pub struct ScoreLine {
    pub rank: u32,
    pub organisation_name: String,
    /// Total score, two decimals.
    pub total: String,
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
    #[schema(value_type = Option<String>)]
    pub publicity_ends: Option<NaiveDateTime>,
    #[schema(value_type = Option<String>)]
    pub challenge_ends: Option<NaiveDateTime>,
    #[schema(value_type = Option<String>)]
    pub contract_signed_on: Option<NaiveDate>,
    /// Why it was cancelled or failed.
    pub end_reason: Option<String>,
    /// The result, once it is public (publicity and after).
    pub result: Option<ResultNotice>,
    pub timeline: Vec<TimelineEntry>,
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
    /// Invited organisations (邀请招标 only).
    #[serde(default)]
    pub invited: Vec<i64>,
    pub enquiry_deadline: String,
    pub bid_deadline: String,
    pub opening_at: String,
}

struct Clean {
    budget_fen: i64,
    method: Method,
    enquiry_deadline: NaiveDateTime,
    bid_deadline: NaiveDateTime,
    opening_at: NaiveDateTime,
}

fn text(checks: &mut Checks, field: &str, v: &str, max: usize) {
    if checks.required(field, v) && v.trim().chars().count() > max {
        checks.add(
            field,
            "max_length",
            format!("最多 {max} 个字。"),
            format!("At most {max} characters."),
        );
    }
}

fn validate(
    conn: &mut DbConn,
    ctx: &Ctx,
    input: &TenderInput,
    self_id: Option<i64>,
) -> Result<Clean, AppError> {
    let mut c = Checks::new();
    let code = input.code.trim();
    if c.required("code", code) {
        if code.len() > 40
            || !code
                .chars()
                .all(|ch| ch.is_ascii_alphanumeric() || ch == '-' || ch == '_')
        {
            c.add(
                "code",
                "format",
                "编号为最多 40 位字母、数字、- 或 _。",
                "The code is up to 40 letters, digits, - or _.",
            );
        } else {
            let taken: i64 = tenders::table
                .filter(tenders::code.eq(code))
                .filter(tenders::id.ne(self_id.unwrap_or(0)))
                .count()
                .get_result(conn)?;
            if taken > 0 {
                c.add(
                    "code",
                    "unique",
                    "编号已被使用。",
                    "This code is already used.",
                );
            }
        }
    }
    text(&mut c, "title", &input.title, 200);
    text(&mut c, "description", &input.description, 20_000);
    if crate::registry::orgs::FIELDS
        .iter()
        .all(|(k, _, _)| *k != input.field)
    {
        c.add(
            "field",
            "one_of",
            "请选择服务领域。",
            "Choose a service field.",
        );
    }
    if input.street_ids.is_empty() {
        c.add(
            "street_ids",
            "required",
            "请选择至少一个服务街道。",
            "Choose at least one street served.",
        );
    } else {
        let found: i64 = streets::table
            .filter(streets::id.eq_any(&input.street_ids))
            .count()
            .get_result(conn)?;
        let mut uniq = input.street_ids.clone();
        uniq.sort_unstable();
        uniq.dedup();
        if found != uniq.len() as i64 {
            c.add(
                "street_ids",
                "exists",
                "有街道不存在。",
                "A street does not exist.",
            );
        }
    }
    if !input.community_ids.is_empty() {
        let inside: i64 = communities::table
            .filter(communities::id.eq_any(&input.community_ids))
            .filter(communities::street_id.eq_any(&input.street_ids))
            .count()
            .get_result(conn)?;
        let mut uniq = input.community_ids.clone();
        uniq.sort_unstable();
        uniq.dedup();
        if inside != uniq.len() as i64 {
            c.add(
                "community_ids",
                "in_streets",
                "所选社区须存在并属于所选街道。",
                "Each community must exist and lie in a chosen street.",
            );
        }
    }
    let budget = crate::money::check_yuan(&mut c, "budget", &input.budget, true);
    let method = Method::parse(&input.method);
    if method.is_none() {
        c.add(
            "method",
            "one_of",
            "请选择采购方式。",
            "Choose a procurement method.",
        );
    }
    if let (Some(b), Some(m)) = (budget, method)
        && b >= ctx.rules.open_tender_threshold_fen
        && m != Method::Open
    {
        c.add(
            "method",
            "open_tender_required",
            format!(
                "预算达到 {} 元的项目须公开招标。",
                crate::money::yuan_grouped(ctx.rules.open_tender_threshold_fen)
            ),
            format!(
                "A budget of ¥{} or more must be an open tender.",
                crate::money::yuan_grouped(ctx.rules.open_tender_threshold_fen)
            ),
        );
    }
    push_broken(
        &mut c,
        rules::check_term(input.term_months, input.term_reason.as_deref()),
    );
    push_broken(
        &mut c,
        rules::check_eligibility_template(&input.eligibility),
    );
    push_broken(&mut c, rules::check_criteria(&input.criteria, &ctx.rules));
    push_broken(&mut c, rules::check_targets("targets", &input.targets));
    push_broken(&mut c, rules::check_instalments(&input.instalments));
    match method {
        Some(Method::Invited) | Some(Method::SingleSource) => {
            let mut uniq = input.invited.clone();
            uniq.sort_unstable();
            uniq.dedup();
            let found: i64 = organisations::table
                .filter(organisations::id.eq_any(&uniq))
                .filter(organisations::registration.eq("registered"))
                .count()
                .get_result(conn)?;
            let need = if method == Some(Method::Invited) {
                ctx.rules.min_bids(Method::Invited) as usize
            } else {
                1
            };
            if found != uniq.len() as i64 {
                c.add(
                    "invited",
                    "exists",
                    "受邀组织须为已登记的社会组织。",
                    "Invited organisations must be registered organisations.",
                );
            } else if uniq.len() < need {
                c.add(
                    "invited",
                    "min_count",
                    format!("至少邀请 {need} 家组织。"),
                    format!("Invite at least {need} organisations."),
                );
            }
        }
        _ => {
            if !input.invited.is_empty() {
                c.add(
                    "invited",
                    "not_invited_method",
                    "只有邀请招标或单一来源才指定组织。",
                    "Only invited tenders and single source name organisations.",
                );
            }
        }
    }
    let mut when = |field: &str, v: &str| -> Option<NaiveDateTime> {
        if !c.required(field, v) {
            return None;
        }
        match parse_when(v) {
            Some(t) => Some(crate::db::now_micros(t)),
            None => {
                c.add(
                    field,
                    "datetime",
                    "请填写日期时间，如 2026-12-20T09:30（北京时间）。",
                    "Enter a date and time, e.g. 2026-12-20T09:30 (Beijing time).",
                );
                None
            }
        }
    };
    let enquiry = when("enquiry_deadline", &input.enquiry_deadline);
    let deadline = when("bid_deadline", &input.bid_deadline);
    let opening = when("opening_at", &input.opening_at);
    if let (Some(e), Some(d)) = (enquiry, deadline)
        && e > d
    {
        c.add(
            "enquiry_deadline",
            "before_deadline",
            "答疑截止时间不能晚于投标截止时间。",
            "The enquiry deadline cannot be after the bid deadline.",
        );
    }
    if let (Some(d), Some(o)) = (deadline, opening)
        && o < d
    {
        c.add(
            "opening_at",
            "after_deadline",
            "开标时间不能早于投标截止时间。",
            "The opening cannot be before the bid deadline.",
        );
    }
    c.finish()?;
    Ok(Clean {
        budget_fen: budget.expect("checked"),
        method: method.expect("checked"),
        enquiry_deadline: enquiry.expect("checked"),
        bid_deadline: deadline.expect("checked"),
        opening_at: opening.expect("checked"),
    })
}

/// The response-time rule of the method, counted from `now` (publication) to the bid deadline.
fn check_response_time(
    checks: &mut Checks,
    ctx: &Ctx,
    method: Method,
    now: DateTime<Utc>,
    deadline: NaiveDateTime,
) {
    let deadline = deadline.and_utc();
    match method.min_response() {
        rules::ResponseTime::Days(n) => {
            if deadline < now + chrono::Duration::days(n.into()) {
                checks.add(
                    "bid_deadline",
                    "min_response_days",
                    format!(
                        "{}自公告发布至投标截止不得少于 {n} 日。",
                        method.label(true)
                    ),
                    format!(
                        "For {} the bid deadline must be at least {n} days after publication.",
                        method.label(false).to_lowercase()
                    ),
                );
            }
        }
        rules::ResponseTime::WorkingDays(n) => {
            let have = ctx.cal.working_days_between(today(now), today(deadline));
            if have < n {
                checks.add(
                    "bid_deadline",
                    "min_response_working_days",
                    format!("{}自公告发布至投标截止不得少于 {n} 个工作日。", method.label(true)),
                    format!(
                        "For {} the bid deadline must be at least {n} working days after publication.",
                        method.label(false).to_lowercase()
                    ),
                );
            }
        }
    }
}

fn json(v: &impl Serialize) -> String {
    serde_json::to_string(v).expect("plain values serialise")
}

fn set_streets(conn: &mut DbConn, id: i64, street_ids: &[i64]) -> QueryResult<()> {
    diesel::delete(tender_streets::table.filter(tender_streets::tender_id.eq(id))).execute(conn)?;
    let mut uniq = street_ids.to_vec();
    uniq.sort_unstable();
    uniq.dedup();
    for s in uniq {
        diesel::insert_into(tender_streets::table)
            .values((
                tender_streets::tender_id.eq(id),
                tender_streets::street_id.eq(s),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// Append a timeline row and the audit event of a state change.
#[allow(clippy::too_many_arguments)]
pub fn log_event(
    conn: &mut DbConn,
    actor: &Actor,
    now: DateTime<Utc>,
    id: i64,
    from: Option<State>,
    to: State,
    action: &str,
    note: Option<String>,
) -> QueryResult<()> {
    diesel::insert_into(tender_events::table)
        .values((
            tender_events::tender_id.eq(id),
            tender_events::at.eq(crate::db::now_micros(now)),
            tender_events::from_state.eq(from.map(|s| s.as_str())),
            tender_events::to_state.eq(to.as_str()),
            tender_events::note.eq(&note),
            tender_events::actor_name.eq(&actor.name),
        ))
        .execute(conn)?;
    audit::record(
        conn,
        actor,
        now,
        action,
        "tender",
        Some(id.to_string()),
        from.map(|s| serde_json::json!({ "state": s.as_str() })),
        Some(serde_json::json!({ "state": to.as_str(), "note": note })),
    )?;
    Ok(())
}

/// Move a tender from `from` to `to`, refusing with 409 when it is no longer in `from`.
pub fn move_state(
    conn: &mut DbConn,
    actor: &Actor,
    now: DateTime<Utc>,
    id: i64,
    from: State,
    to: State,
    note: Option<String>,
) -> Result<(), AppError> {
    let n = diesel::update(
        tenders::table
            .filter(tenders::id.eq(id))
            .filter(tenders::state.eq(from.as_str())),
    )
    .set((
        tenders::state.eq(to.as_str()),
        tenders::updated_at.eq(crate::db::now_micros(now)),
    ))
    .execute(conn)?;
    if n == 0 {
        return Err(illegal(from, to));
    }
    log_event(
        conn,
        actor,
        now,
        id,
        Some(from),
        to,
        &format!("tender.{}", to.as_str()),
        note,
    )?;
    Ok(())
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

fn names_of(conn: &mut DbConn, ids: &[i64]) -> QueryResult<Vec<Named>> {
    Ok(organisations::table
        .filter(organisations::id.eq_any(ids))
        .order(organisations::id)
        .select((organisations::id, organisations::name))
        .load::<(i64, String)>(conn)?
        .into_iter()
        .map(|(id, name)| Named { id, name })
        .collect())
}

pub fn timeline(conn: &mut DbConn, id: i64) -> QueryResult<Vec<TimelineEntry>> {
    Ok(tender_events::table
        .filter(tender_events::tender_id.eq(id))
        .order((tender_events::at, tender_events::id))
        .select((
            tender_events::at,
            tender_events::from_state,
            tender_events::to_state,
            tender_events::note,
            tender_events::actor_name,
        ))
        .load::<(
            NaiveDateTime,
            Option<String>,
            String,
            Option<String>,
            String,
        )>(conn)?
        .into_iter()
        .map(|(at, from_state, to_state, note, actor_name)| {
            let s = State::parse(&to_state);
            TimelineEntry {
                at,
                from_state,
                to_label_zh: s.map(|s| s.label(true)).unwrap_or("").into(),
                to_label_en: s.map(|s| s.label(false)).unwrap_or("").into(),
                to_state,
                note,
                actor_name,
            }
        })
        .collect())
}

pub fn to_view(conn: &mut DbConn, ctx: &Ctx, t: TenderRow) -> Result<TenderView, AppError> {
    let street_rows: Vec<(i64, String)> = tender_streets::table
        .inner_join(streets::table)
        .filter(tender_streets::tender_id.eq(t.id))
        .order(streets::code)
        .select((streets::id, streets::name))
        .load(conn)?;
    let community_rows: Vec<(i64, String)> = communities::table
        .filter(communities::id.eq_any(t.community_ids()))
        .order(communities::code)
        .select((communities::id, communities::name))
        .load(conn)?;
    let invited = names_of(conn, &t.invited())?;
    let state = t.state();
    let result = if matches!(
        state,
        State::Publicity | State::Challenge | State::Awarded | State::Contracted
    ) {
        evaluation::result_notice(conn, ctx, &t)?
    } else {
        None
    };
    let mut warnings = Vec::new();
    // Dates counted in working days: publicity, the challenge window, and a single-source response time.
    let working_day_dates = [
        t.publicity_ends,
        t.challenge_ends,
        (t.method() == Method::SingleSource).then_some(t.bid_deadline),
    ];
    for end in working_day_dates.into_iter().flatten() {
        let y = chrono::Datelike::year(&end.date());
        if !ctx.cal.covers(y) {
            let m = crate::domain::calendar::CalendarWarning { year: y }.message();
            if !warnings.contains(&m) {
                warnings.push(m);
            }
        }
    }
    let method = t.method();
    Ok(TenderView {
        id: t.id,
        field_label_zh: crate::registry::orgs::label(crate::registry::orgs::FIELDS, &t.field, true),
        field_label_en: crate::registry::orgs::label(
            crate::registry::orgs::FIELDS,
            &t.field,
            false,
        ),
        streets: street_rows
            .into_iter()
            .map(|(id, name)| Named { id, name })
            .collect(),
        communities: community_rows
            .into_iter()
            .map(|(id, name)| Named { id, name })
            .collect(),
        budget: crate::money::yuan(t.budget_fen),
        budget_fen: t.budget_fen,
        method,
        method_label_zh: method.label(true).into(),
        method_label_en: method.label(false).into(),
        eligibility: t.eligibility(),
        criteria: t.criteria(),
        targets: t.targets(),
        instalments: t.instalments(),
        invited,
        state,
        state_label_zh: state.label(true).into(),
        state_label_en: state.label(false).into(),
        timeline: timeline(conn, t.id)?,
        result,
        calendar_warnings: warnings,
        code: t.code,
        title: t.title,
        description: t.description,
        field: t.field,
        term_months: t.term_months,
        term_reason: t.term_reason,
        published_at: t.published_at,
        enquiry_deadline: t.enquiry_deadline,
        bid_deadline: t.bid_deadline,
        opening_at: t.opening_at,
        publicity_ends: t.publicity_ends,
        challenge_ends: t.challenge_ends,
        contract_signed_on: t.contract_signed_on,
        end_reason: t.end_reason,
    })
}

/// One tender, after applying whatever the clock has made due.
pub fn get(
    conn: &mut DbConn,
    ctx: &Ctx,
    now: DateTime<Utc>,
    id: i64,
    staff: bool,
) -> Result<TenderView, AppError> {
    advance(conn, ctx, now, id)?;
    let t = visible_row(conn, id, staff)?;
    to_view(conn, ctx, t)
}

/// A page of tenders (drafts only when `staff`), newest first.
pub fn list(
    conn: &mut DbConn,
    ctx: &Ctx,
    now: DateTime<Utc>,
    f: &TenderFilter,
    staff: bool,
) -> Result<(Vec<TenderSummary>, i64), AppError> {
    advance_due(conn, ctx, now)?;
    let (page, per_page) = crate::db::paging(f.page, f.per_page);
    let build = || {
        let mut q = tenders::table.into_boxed();
        if !staff {
            q = q.filter(tenders::state.ne("draft"));
        }
        if let Some(s) = f.q.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            let p = crate::db::like_pattern(s);
            q = q.filter(
                crate::db::lower(tenders::title)
                    .like(p.clone())
                    .escape('\\')
                    .or(crate::db::lower(tenders::code).like(p).escape('\\')),
            );
        }
        if let Some(fl) = f.field.as_deref().filter(|s| !s.is_empty()) {
            q = q.filter(tenders::field.eq(fl.to_string()));
        }
        if let Some(st) = f.street_id {
            q = q.filter(
                tenders::id.eq_any(
                    tender_streets::table
                        .filter(tender_streets::street_id.eq(st))
                        .select(tender_streets::tender_id),
                ),
            );
        }
        match f.state.as_deref().filter(|s| !s.is_empty()) {
            Some("open") => {
                q = q
                    .filter(tenders::state.eq("published"))
                    .filter(tenders::bid_deadline.gt(crate::db::now_micros(now)));
            }
            Some(s) => q = q.filter(tenders::state.eq(s.to_string())),
            None => {}
        }
        q
    };
    let total: i64 = build().count().get_result(conn)?;
    let items = build()
        .order((tenders::created_at.desc(), tenders::id.desc()))
        .offset((page - 1) * per_page)
        .limit(per_page)
        .select((
            tenders::id,
            tenders::code,
            tenders::title,
            tenders::field,
            tenders::method,
            tenders::budget_fen,
            tenders::state,
            tenders::published_at,
            tenders::bid_deadline,
            tenders::opening_at,
        ))
        .load::<TenderSummary>(conn)?;
    Ok((items, total))
}

/// Check the filter's values (unknown state or field → 400 naming the field).
pub fn check_filter(f: &TenderFilter) -> Result<(), AppError> {
    let mut c = Checks::new();
    if let Some(s) = f.state.as_deref().filter(|s| !s.is_empty())
        && s != "open"
        && State::parse(s).is_none()
    {
        c.add("state", "one_of", "没有这个状态。", "No such state.");
    }
    if let Some(s) = f.field.as_deref().filter(|s| !s.is_empty())
        && crate::registry::orgs::FIELDS
            .iter()
            .all(|(k, _, _)| *k != s)
    {
        c.add(
            "field",
            "one_of",
            "没有这个服务领域。",
            "No such service field.",
        );
    }
    c.finish()
}

/// The columns a draft's input sets, for both the insert and the update.
#[derive(Insertable, AsChangeset)]
#[diesel(table_name = tenders, treat_none_as_null = true)]
struct Terms<'a> {
    code: &'a str,
    title: &'a str,
    description: &'a str,
    field: &'a str,
    communities: String,
    budget_fen: i64,
    method: &'static str,
    term_months: i32,
    term_reason: Option<&'a str>,
    eligibility: String,
    criteria: String,
    targets: String,
    instalments: String,
    invited: String,
    enquiry_deadline: NaiveDateTime,
    bid_deadline: NaiveDateTime,
    opening_at: NaiveDateTime,
}

impl<'a> Terms<'a> {
    fn of(input: &'a TenderInput, c: &Clean) -> Terms<'a> {
        Terms {
            code: input.code.trim(),
            title: input.title.trim(),
            description: input.description.trim(),
            field: &input.field,
            communities: json(&input.community_ids),
            budget_fen: c.budget_fen,
            method: c.method.as_str(),
            term_months: input.term_months,
            term_reason: input
                .term_reason
                .as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty()),
            eligibility: json(&input.eligibility),
            criteria: json(&input.criteria),
            targets: json(&input.targets),
            instalments: json(&input.instalments),
            invited: json(&input.invited),
            enquiry_deadline: c.enquiry_deadline,
            bid_deadline: c.bid_deadline,
            opening_at: c.opening_at,
        }
    }
}

/// Draft a tender (bureau).
pub fn create(
    conn: &mut DbConn,
    ctx: &Ctx,
    actor: &Actor,
    user_id: i64,
    now: DateTime<Utc>,
    input: &TenderInput,
) -> Result<TenderView, AppError> {
    let ts = crate::db::now_micros(now);
    let id = write_tx(conn, |conn| -> Result<i64, AppError> {
        let c = validate(conn, ctx, input, None)?;
        let id: i64 = diesel::insert_into(tenders::table)
            .values((
                Terms::of(input, &c),
                tenders::state.eq("draft"),
                tenders::created_by.eq(user_id),
                tenders::created_at.eq(ts),
                tenders::updated_at.eq(ts),
            ))
            .returning(tenders::id)
            .get_result(conn)?;
        set_streets(conn, id, &input.street_ids)?;
        log_event(
            conn,
            actor,
            now,
            id,
            None,
            State::Draft,
            "tender.create",
            None,
        )?;
        Ok(id)
    })?;
    let t = find_row(conn, id)?;
    to_view(conn, ctx, t)
}

/// Change a draft (bureau). Published tenders change only through answers to enquiries.
pub fn update(
    conn: &mut DbConn,
    ctx: &Ctx,
    actor: &Actor,
    now: DateTime<Utc>,
    id: i64,
    input: &TenderInput,
) -> Result<TenderView, AppError> {
    let ts = crate::db::now_micros(now);
    write_tx(conn, |conn| -> Result<(), AppError> {
        let t = find_row(conn, id)?;
        if t.state() != State::Draft {
            return Err(wrong_state(
                t.state(),
                "只有草稿可以修改。",
                "only drafts can be edited.",
            ));
        }
        let c = validate(conn, ctx, input, Some(id))?;
        diesel::update(tenders::table.find(id))
            .set((Terms::of(input, &c), tenders::updated_at.eq(ts)))
            .execute(conn)?;
        set_streets(conn, id, &input.street_ids)?;
        audit::record(
            conn,
            actor,
            now,
            "tender.update",
            "tender",
            Some(id.to_string()),
            None,
            Some(serde_json::to_value(input).unwrap_or_default()),
        )?;
        Ok(())
    })?;
    let t = find_row(conn, id)?;
    to_view(conn, ctx, t)
}

/// The input a draft was made from, for the edit form.
pub fn input_of(conn: &mut DbConn, t: &TenderRow) -> Result<TenderInput, AppError> {
    let street_ids: Vec<i64> = tender_streets::table
        .filter(tender_streets::tender_id.eq(t.id))
        .select(tender_streets::street_id)
        .load(conn)?;
    Ok(TenderInput {
        code: t.code.clone(),
        title: t.title.clone(),
        description: t.description.clone(),
        field: t.field.clone(),
        street_ids,
        community_ids: t.community_ids(),
        budget: crate::money::yuan(t.budget_fen),
        method: t.method.clone(),
        term_months: t.term_months,
        term_reason: t.term_reason.clone(),
        eligibility: t.eligibility(),
        criteria: t.criteria(),
        targets: t.targets(),
        instalments: t.instalments(),
        invited: t.invited(),
        enquiry_deadline: form_when(t.enquiry_deadline),
        bid_deadline: form_when(t.bid_deadline),
        opening_at: form_when(t.opening_at),
    })
}

/// Organisations to tell about a new tender: invited ones, or every registered organisation serving its field.
fn audience(conn: &mut DbConn, t: &TenderRow) -> QueryResult<Vec<(String, String)>> {
    let mut q = organisations::table
        .filter(organisations::registration.eq("registered"))
        .filter(organisations::contact_email.is_not_null())
        .into_boxed();
    if matches!(t.method(), Method::Invited | Method::SingleSource) {
        q = q.filter(organisations::id.eq_any(t.invited()));
    } else {
        q = q.filter(
            organisations::id.eq_any(
                organisation_fields::table
                    .filter(organisation_fields::field.eq(t.field.clone()))
                    .select(organisation_fields::organisation_id),
            ),
        );
    }
    Ok(q.order(organisations::id)
        .select((organisations::name, organisations::contact_email))
        .load::<(String, Option<String>)>(conn)?
        .into_iter()
        .filter_map(|(n, e)| e.map(|e| (n, e)))
        .collect())
}

pub fn tender_url(ctx: &Ctx, id: i64) -> String {
    format!("{}/tenders/{id}", ctx.public_url)
}

/// Publish a draft: the response time of its method must fit between now and the bid deadline.
pub fn publish(
    conn: &mut DbConn,
    ctx: &Ctx,
    actor: &Actor,
    now: DateTime<Utc>,
    id: i64,
) -> Result<TenderView, AppError> {
    write_tx(conn, |conn| -> Result<(), AppError> {
        let t = find_row(conn, id)?;
        if t.state() != State::Draft {
            return Err(illegal(t.state(), State::Published));
        }
        let mut c = Checks::new();
        check_response_time(&mut c, ctx, t.method(), now, t.bid_deadline);
        if t.enquiry_deadline <= crate::db::now_micros(now) {
            c.add(
                "enquiry_deadline",
                "future",
                "答疑截止时间须晚于发布时间。",
                "The enquiry deadline must be after publication.",
            );
        }
        c.finish()?;
        diesel::update(tenders::table.find(id))
            .set(tenders::published_at.eq(crate::db::now_micros(now)))
            .execute(conn)?;
        move_state(conn, actor, now, id, State::Draft, State::Published, None)?;
        for (name, email) in audience(conn, &t)? {
            crate::mail::enqueue(
                conn,
                now,
                &email,
                &mails::TenderPublished {
                    organisation: name,
                    code: t.code.clone(),
                    title: t.title.clone(),
                    field_zh: crate::registry::orgs::label(
                        crate::registry::orgs::FIELDS,
                        &t.field,
                        true,
                    ),
                    budget: crate::money::yuan_grouped(t.budget_fen),
                    deadline: crate::clock::display(t.bid_deadline),
                    url: tender_url(ctx, id),
                },
            )?;
        }
        Ok(())
    })?;
    let t = find_row(conn, id)?;
    to_view(conn, ctx, t)
}

/// Cancel before the award is final, with a reason.
pub fn cancel(
    conn: &mut DbConn,
    ctx: &Ctx,
    actor: &Actor,
    now: DateTime<Utc>,
    id: i64,
    reason: &str,
) -> Result<TenderView, AppError> {
    advance(conn, ctx, now, id)?;
    write_tx(conn, |conn| -> Result<(), AppError> {
        let t = find_row(conn, id)?;
        let reason = reason.trim();
        let mut c = Checks::new();
        text(&mut c, "reason", reason, 500);
        if !t.state().cancellable() {
            return Err(illegal(t.state(), State::Cancelled));
        }
        c.finish()?;
        diesel::update(tenders::table.find(id))
            .set(tenders::end_reason.eq(reason))
            .execute(conn)?;
        move_state(
            conn,
            actor,
            now,
            id,
            t.state(),
            State::Cancelled,
            Some(reason.to_string()),
        )
    })?;
    let t = find_row(conn, id)?;
    to_view(conn, ctx, t)
}

/// Record the contract signature (awarded → contracted).
pub fn contracted(
    conn: &mut DbConn,
    ctx: &Ctx,
    actor: &Actor,
    now: DateTime<Utc>,
    id: i64,
    signed_on: &str,
) -> Result<TenderView, AppError> {
    advance(conn, ctx, now, id)?;
    write_tx(conn, |conn| -> Result<(), AppError> {
        let t = find_row(conn, id)?;
        if t.state() != State::Awarded {
            return Err(illegal(t.state(), State::Contracted));
        }
        let mut c = Checks::new();
        let d =
            crate::registry::orgs::check_date(&mut c, "signed_on", &Some(signed_on.to_string()));
        if d.is_none() && c.is_empty() {
            c.add("signed_on", "required", "必填。", "Required.");
        }
        if let (Some(d), Some(a)) = (d, t.awarded_at)
            && (d < today(a.and_utc()) || d > today(now))
        {
            c.add(
                "signed_on",
                "range",
                "签约日期须在中标之后、今天之前。",
                "The signing date lies between the award and today.",
            );
        }
        c.finish()?;
        diesel::update(tenders::table.find(id))
            .set(tenders::contract_signed_on.eq(d))
            .execute(conn)?;
        move_state(
            conn,
            actor,
            now,
            id,
            State::Awarded,
            State::Contracted,
            None,
        )
    })?;
    let t = find_row(conn, id)?;
    to_view(conn, ctx, t)
}

// ---------------------------------------------------------------------------------------------------------
// The clock.

fn scheduler() -> Actor {
    Actor::system("scheduler")
}

/// Apply every transition the clock has made due to one tender, each in its own transaction.
pub fn advance(conn: &mut DbConn, ctx: &Ctx, now: DateTime<Utc>, id: i64) -> Result<(), AppError> {
    let ts = crate::db::now_micros(now);
    // A plain read first: most accesses find nothing due and should not take the write lock.
    let Some(t) = tenders::table
        .find(id)
        .select(TenderRow::as_select())
        .first(conn)
        .optional()?
    else {
        return Ok(());
    };
    if !due_now(&t, ts) {
        return Ok(());
    }
    loop {
        let moved = write_tx(conn, |conn| -> Result<bool, AppError> {
            // One request at a time per tender (as for bids): on PostgreSQL two concurrent requests could
            // otherwise both read the old state and the second fail its transition with a 409.
            crate::db::lock_chain(conn, bids::tender_lock(id))?;
            let t = find_row(conn, id)?;
            if !due_now(&t, ts) {
                return Ok(false);
            }
            let actor = scheduler();
            match t.state() {
                State::Published => {
                    move_state(conn, &actor, now, id, State::Published, State::Closed, None)?;
                    Ok(true)
                }
                State::Closed => {
                    bids::open_all(conn, ctx, &actor, now, &t)?;
                    Ok(true)
                }
                State::Publicity => {
                    move_state(
                        conn,
                        &actor,
                        now,
                        id,
                        State::Publicity,
                        State::Challenge,
                        None,
                    )?;
                    Ok(true)
                }
                State::Challenge => evaluation::finalise(conn, ctx, &actor, now, &t),
                _ => Ok(false),
            }
        })?;
        if !moved {
            return Ok(());
        }
    }
}

/// Whether the clock has reached the tender's next time-driven step.
fn due_now(t: &TenderRow, ts: NaiveDateTime) -> bool {
    match t.state() {
        State::Published => ts >= t.bid_deadline,
        State::Closed => ts >= t.opening_at,
        State::Publicity => t.publicity_ends.is_some_and(|e| ts >= e),
        State::Challenge => t.challenge_ends.is_some_and(|e| ts >= e),
        _ => false,
    }
}

/// Ids of tenders whose next deadline has passed.
fn due(conn: &mut DbConn, now: DateTime<Utc>) -> QueryResult<Vec<i64>> {
    let ts = crate::db::now_micros(now);
    tenders::table
        .filter(
            (tenders::state
                .eq("published")
                .and(tenders::bid_deadline.le(ts)))
            .or(tenders::state.eq("closed").and(tenders::opening_at.le(ts)))
            .or(tenders::state
                .eq("publicity")
                .and(tenders::publicity_ends.le(ts)))
            .or(tenders::state
                .eq("challenge")
                .and(tenders::challenge_ends.le(ts))),
        )
        .select(tenders::id)
        .load(conn)
}

/// Advance every due tender (the scheduler, and every tender list).
pub fn advance_due(conn: &mut DbConn, ctx: &Ctx, now: DateTime<Utc>) -> Result<usize, AppError> {
    let ids = due(conn, now)?;
    for id in &ids {
        advance(conn, ctx, now, *id)?;
    }
    Ok(ids.len())
}

// ---------------------------------------------------------------------------------------------------------
// Enquiries.

#[derive(Deserialize, Serialize, Debug, Clone, utoipa::ToSchema)]
pub struct NewEnquiry {
    pub question: String,
}

#[derive(Deserialize, Serialize, Debug, Clone, utoipa::ToSchema)]
pub struct EnquiryAnswer {
    pub answer: String,
}

/// An enquiry. `organisation_name` is filled only for the bureau, administrators and the asker itself.
#[derive(Serialize, Debug, Clone, utoipa::ToSchema)]
pub struct EnquiryView {
    pub id: i64,
    pub tender_id: i64,
    pub question: String,
    #[schema(value_type = String)]
    pub asked_at: NaiveDateTime,
    pub answer: Option<String>,
    #[schema(value_type = Option<String>)]
    pub answered_at: Option<NaiveDateTime>,
    pub organisation_name: Option<String>,
    pub mine: bool,
}

/// Enquiries of a tender: answered ones for everyone, plus an organisation's own unanswered ones, or all
/// of them with the asker for the bureau and administrators.
pub fn enquiries_of(
    conn: &mut DbConn,
    tender_id: i64,
    staff: bool,
    own_org: Option<i64>,
) -> Result<Vec<EnquiryView>, AppError> {
    type Row = (
        i64,
        i64,
        String,
        NaiveDateTime,
        Option<String>,
        Option<NaiveDateTime>,
        String,
    );
    let rows: Vec<Row> = enquiries::table
        .inner_join(organisations::table)
        .filter(enquiries::tender_id.eq(tender_id))
        .order(enquiries::id)
        .select((
            enquiries::id,
            enquiries::organisation_id,
            enquiries::question,
            enquiries::asked_at,
            enquiries::answer,
            enquiries::answered_at,
            organisations::name,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter_map(|(id, org, question, asked_at, answer, answered_at, name)| {
            let mine = own_org == Some(org);
            if !(staff || mine || answer.is_some()) {
                return None;
            }
            Some(EnquiryView {
                id,
                tender_id,
                question,
                asked_at,
                answer,
                answered_at,
                organisation_name: (staff || mine).then_some(name),
                mine,
            })
        })
        .collect())
}

/// An organisation asks, before the enquiry deadline.
#[allow(clippy::too_many_arguments)]
pub fn ask(
    conn: &mut DbConn,
    ctx: &Ctx,
    actor: &Actor,
    user_id: i64,
    org_id: i64,
    now: DateTime<Utc>,
    tender_id: i64,
    q: &NewEnquiry,
) -> Result<EnquiryView, AppError> {
    advance(conn, ctx, now, tender_id)?;
    let ts = crate::db::now_micros(now);
    let id = write_tx(conn, |conn| -> Result<i64, AppError> {
        let t = visible_row(conn, tender_id, false)?;
        if t.state() != State::Published || ts >= t.enquiry_deadline {
            return Err(AppError::conflict(
                "enquiries_closed",
                "答疑已截止，不能再提问。",
                "Enquiries are closed for this tender.",
            ));
        }
        let mut c = Checks::new();
        text(&mut c, "question", &q.question, 2000);
        c.finish()?;
        let id: i64 = diesel::insert_into(enquiries::table)
            .values((
                enquiries::tender_id.eq(tender_id),
                enquiries::organisation_id.eq(org_id),
                enquiries::asked_by.eq(user_id),
                enquiries::question.eq(q.question.trim()),
                enquiries::asked_at.eq(ts),
            ))
            .returning(enquiries::id)
            .get_result(conn)?;
        audit::record(
            conn,
            actor,
            now,
            "enquiry.ask",
            "enquiry",
            Some(id.to_string()),
            None,
            Some(serde_json::json!({ "tender_id": tender_id, "question": q.question.trim() })),
        )?;
        Ok(id)
    })?;
    Ok(enquiries_of(conn, tender_id, false, Some(org_id))?
        .into_iter()
        .find(|e| e.id == id)
        .expect("just inserted"))
}

/// The bureau answers publicly; a late answer moves the bid deadline (and the opening with it). The asker
/// and every current bidder are told by e-mail.
pub fn answer(
    conn: &mut DbConn,
    ctx: &Ctx,
    actor: &Actor,
    user_id: i64,
    now: DateTime<Utc>,
    enquiry_id: i64,
    a: &EnquiryAnswer,
) -> Result<EnquiryView, AppError> {
    let tender_id: i64 = enquiries::table
        .find(enquiry_id)
        .select(enquiries::tender_id)
        .first(conn)
        .optional()?
        .ok_or(AppError::NotFound)?;
    advance(conn, ctx, now, tender_id)?;
    let ts = crate::db::now_micros(now);
    write_tx(conn, |conn| -> Result<(), AppError> {
        let t = find_row(conn, tender_id)?;
        let (asker_org, done): (i64, Option<String>) = enquiries::table
            .find(enquiry_id)
            .select((enquiries::organisation_id, enquiries::answer))
            .first(conn)?;
        if done.is_some() {
            return Err(AppError::conflict(
                "already_answered",
                "该问题已答复。",
                "This enquiry is already answered.",
            ));
        }
        if t.state() != State::Published {
            return Err(wrong_state(
                t.state(),
                "投标截止后不能再答疑。",
                "enquiries are answered only while bidding is open.",
            ));
        }
        let mut c = Checks::new();
        text(&mut c, "answer", &a.answer, 5000);
        c.finish()?;
        diesel::update(enquiries::table.find(enquiry_id))
            .set((
                enquiries::answer.eq(a.answer.trim()),
                enquiries::answered_at.eq(ts),
                enquiries::answered_by.eq(user_id),
            ))
            .execute(conn)?;
        audit::record(
            conn,
            actor,
            now,
            "enquiry.answer",
            "enquiry",
            Some(enquiry_id.to_string()),
            None,
            Some(serde_json::json!({ "tender_id": tender_id, "answer": a.answer.trim() })),
        )?;
        let mut new_deadline = None;
        if let Some(moved) = rules::moved_deadline(now, t.bid_deadline.and_utc()) {
            let moved = crate::db::now_micros(moved);
            let shift = moved - t.bid_deadline;
            diesel::update(tenders::table.find(tender_id))
                .set((
                    tenders::bid_deadline.eq(moved),
                    tenders::opening_at.eq(t.opening_at + shift),
                    tenders::enquiry_deadline.eq(t.enquiry_deadline.max(ts)),
                    tenders::updated_at.eq(ts),
                ))
                .execute(conn)?;
            let note = format!(
                "澄清答复距投标截止不足 5 日，投标截止顺延至 {}，开标顺延至 {} / The bid deadline moves to {} and the opening to {}",
                crate::clock::display(moved),
                crate::clock::display(t.opening_at + shift),
                crate::clock::display(moved),
                crate::clock::display(t.opening_at + shift),
            );
            log_event(
                conn,
                actor,
                now,
                tender_id,
                Some(State::Published),
                State::Published,
                "tender.deadline_moved",
                Some(note),
            )?;
            new_deadline = Some(moved);
        }
        let mut orgs = bids::active_bidders(conn, tender_id)?;
        orgs.push(asker_org);
        orgs.sort_unstable();
        orgs.dedup();
        for (name, email) in contacts(conn, &orgs)? {
            crate::mail::enqueue(
                conn,
                now,
                &email,
                &mails::EnquiryAnswered {
                    organisation: name,
                    code: t.code.clone(),
                    title: t.title.clone(),
                    answer: a.answer.trim().to_string(),
                    new_deadline: new_deadline.map(crate::clock::display),
                    url: tender_url(ctx, tender_id),
                },
            )?;
        }
        Ok(())
    })?;
    Ok(enquiries_of(conn, tender_id, true, None)?
        .into_iter()
        .find(|e| e.id == enquiry_id)
        .expect("exists"))
}

/// Names and contact e-mails of organisations (those without an e-mail are skipped).
pub fn contacts(conn: &mut DbConn, org_ids: &[i64]) -> QueryResult<Vec<(String, String)>> {
    Ok(organisations::table
        .filter(organisations::id.eq_any(org_ids))
        .order(organisations::id)
        .select((organisations::name, organisations::contact_email))
        .load::<(String, Option<String>)>(conn)?
        .into_iter()
        .filter_map(|(n, e)| e.filter(|e| !e.is_empty()).map(|e| (n, e)))
        .collect())
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

/// Tender counts by state, for dashboards.
pub fn counts_by_state(conn: &mut DbConn) -> QueryResult<Vec<(String, i64)>> {
    use diesel::dsl::count_star;
    tenders::table
        .group_by(tenders::state)
        .select((tenders::state, count_star()))
        .load(conn)
}

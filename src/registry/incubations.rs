//! Incubation records: an organisation, or a group not yet registered, applies to a base; the bureau admits
//! or rejects (due within 5 working days), starts, renews, graduates (出壳, with the checklist) or exits
//! (退驻, space back within 15 working days). The rules live in `domain::incubation`; this module checks the
//! fields of each move, writes it with its audit event, and counts the funnel.

use chrono::NaiveDate;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use crate::audit::{self, Actor};
use crate::db::schema::{bases, incubations, organisations};
use crate::db::{DbConn, write_tx};
use crate::domain::calendar::BusinessCalendar;
use crate::domain::incubation::{self as rules, CHECKLIST, Funnel, Mode, Stage, State};
use crate::error::{AppError, Checks, Msg};
use crate::registry::bases::{Incubatee, Level};

// Demo data lives in `crate::seed`; re-exported where the tests have always found it.
pub use crate::seed::registry::incubations::seed_incubations;

#[derive(Queryable, Selectable, Debug, Clone)]
#[diesel(table_name = incubations)]
pub struct IncubationRow {
    pub id: i64,
    pub base_id: i64,
    pub organisation_id: Option<i64>,
    pub group_name: Option<String>,
    pub state: String,
    pub mode: Option<String>,
    pub stage: Option<String>,
    pub applied_on: NaiveDate,
    pub decision_due: NaiveDate,
    pub decided_on: Option<NaiveDate>,
    pub reject_reason: Option<String>,
    pub start_on: Option<NaiveDate>,
    pub planned_end: Option<NaiveDate>,
    pub graduated_on: Option<NaiveDate>,
    pub checklist: Option<String>,
    pub exited_on: Option<NaiveDate>,
    pub exit_reason: Option<String>,
    pub space_return_due: Option<NaiveDate>,
    pub created_at: chrono::NaiveDateTime,
    pub updated_at: chrono::NaiveDateTime,
}

/// One item of the graduation checklist.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema, PartialEq, Eq)]
pub struct ChecklistItem {
    pub key: String,
    pub done: bool,
}

/// An incubation record as shown.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct IncubationView {
    pub id: i64,
    pub base_id: i64,
    pub base_name: String,
    pub base_level: String,
    pub organisation_id: Option<i64>,
    pub organisation_name: Option<String>,
    pub group_name: Option<String>,
    /// The organisation's name, or the group's.
    pub name: String,
    /// applied, admitted, rejected, incubating, renewed, graduated or exited
    pub state: String,
    pub mode: Option<String>,
    pub stage: Option<String>,
    pub applied_on: NaiveDate,
    pub decision_due: NaiveDate,
    /// Still `applied` after the decision was due.
    pub overdue: bool,
    pub decided_on: Option<NaiveDate>,
    pub reject_reason: Option<String>,
    pub start_on: Option<NaiveDate>,
    pub planned_end: Option<NaiveDate>,
    pub graduated_on: Option<NaiveDate>,
    pub checklist: Vec<ChecklistItem>,
    pub exited_on: Option<NaiveDate>,
    pub exit_reason: Option<String>,
    pub space_return_due: Option<NaiveDate>,
    /// Deadlines computed over a year the business calendar has no data for.
    pub calendar_warnings: Vec<Msg>,
}

impl IncubationView {
    pub fn state_label(&self, zh: bool) -> &'static str {
        State::parse(&self.state)
            .map(|s| if zh { s.label_zh() } else { s.label_en() })
            .unwrap_or("?")
    }
    pub fn mode_label(&self, zh: bool) -> &'static str {
        self.mode
            .as_deref()
            .and_then(Mode::parse)
            .map(|m| if zh { m.label_zh() } else { m.label_en() })
            .unwrap_or("")
    }
    pub fn stage_label(&self, zh: bool) -> &'static str {
        self.stage
            .as_deref()
            .and_then(Stage::parse)
            .map(|m| if zh { m.label_zh() } else { m.label_en() })
            .unwrap_or("")
    }
    /// The moves open from the current state.
    pub fn next_states(&self) -> Vec<&'static str> {
        State::parse(&self.state)
            .map(|s| s.next().iter().map(|n| n.as_str()).collect())
            .unwrap_or_default()
    }
}

/// An application: an organisation's (`organisation_id`) or an unregistered group's (`group_name`).
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct NewApplication {
    pub base_id: i64,
    #[serde(default)]
    pub organisation_id: Option<i64>,
    #[serde(default)]
    pub group_name: Option<String>,
}

/// A move to another state, with the fields that move needs:
/// `admitted` (mode, stage), `rejected` (reason), `incubating` (start_on and planned_end, both optional),
/// `renewed` (planned_end), `graduated` (checklist: every item done), `exited` (reason).
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct Transition {
    /// The state to move to.
    pub to: String,
    /// onsite or virtual
    #[serde(default)]
    pub mode: Option<String>,
    /// gestation (孕育), sprouting (萌芽) or startup (初创)
    #[serde(default)]
    pub stage: Option<String>,
    #[serde(default)]
    pub reason: Option<String>,
    /// YYYY-MM-DD (read by `domain::dates::parse_date`; a malformed date is a 422 `date` naming it).
    #[serde(default)]
    #[schema(format = Date)]
    pub start_on: Option<String>,
    /// YYYY-MM-DD.
    #[serde(default)]
    #[schema(format = Date)]
    pub planned_end: Option<String>,
    /// Checklist keys (registered, governance, finance, projects, staff, premises) and whether done.
    #[serde(default)]
    pub checklist: Vec<ChecklistItem>,
}

#[derive(Debug, Default, Clone, Deserialize, utoipa::IntoParams)]
// An unknown parameter is refused (400 naming it), not silently ignored.
#[serde(deny_unknown_fields)]
pub struct IncubationFilter {
    pub state: Option<String>,
    pub base_id: Option<i64>,
    /// Level of the base.
    pub level: Option<String>,
    pub organisation_id: Option<i64>,
    /// Only applications whose decision is overdue.
    pub overdue: Option<bool>,
    /// Part of the organisation's or group's name.
    pub q: Option<String>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

/// Funnel of one base.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct BaseFunnel {
    pub base_id: i64,
    pub base_name: String,
    pub level: String,
    pub funnel: Funnel,
}

/// Funnel of one level.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct LevelFunnel {
    pub level: String,
    pub funnel: Funnel,
}

/// The funnel overall, per level and per base, and the overdue applications.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FunnelReport {
    pub total: Funnel,
    pub by_level: Vec<LevelFunnel>,
    pub by_base: Vec<BaseFunnel>,
    pub overdue: i64,
}

use crate::clock::beijing_date as today;

fn parse_checklist(s: &Option<String>) -> Vec<ChecklistItem> {
    s.as_deref()
        .and_then(|j| serde_json::from_str(j).ok())
        .unwrap_or_default()
}

pub fn to_view(
    conn: &mut DbConn,
    cal: &BusinessCalendar,
    today: NaiveDate,
    r: IncubationRow,
) -> Result<IncubationView, AppError> {
    let (base_name, base_level): (String, String) = bases::table
        .find(r.base_id)
        .select((bases::name, bases::level))
        .first(conn)?;
    let organisation_name: Option<String> = match r.organisation_id {
        Some(o) => organisations::table
            .find(o)
            .select(organisations::name)
            .first(conn)
            .optional()?,
        None => None,
    };
    let state = State::parse(&r.state).unwrap_or(State::Applied);
    let mut warnings: Vec<Msg> = rules::decision_due(cal, r.applied_on)
        .1
        .iter()
        .map(|w| w.message())
        .collect();
    if let Some(e) = r.exited_on {
        for w in rules::space_return_due(cal, e).1 {
            let m = w.message();
            if !warnings.contains(&m) {
                warnings.push(m);
            }
        }
    }
    Ok(IncubationView {
        id: r.id,
        base_id: r.base_id,
        base_name,
        base_level,
        name: organisation_name
            .clone()
            .or_else(|| r.group_name.clone())
            .unwrap_or_default(),
        organisation_id: r.organisation_id,
        organisation_name,
        group_name: r.group_name,
        overdue: rules::is_overdue(state, r.decision_due, today),
        state: r.state,
        mode: r.mode,
        stage: r.stage,
        applied_on: r.applied_on,
        decision_due: r.decision_due,
        decided_on: r.decided_on,
        reject_reason: r.reject_reason,
        start_on: r.start_on,
        planned_end: r.planned_end,
        graduated_on: r.graduated_on,
        checklist: parse_checklist(&r.checklist),
        exited_on: r.exited_on,
        exit_reason: r.exit_reason,
        space_return_due: r.space_return_due,
        calendar_warnings: warnings,
    })
}

pub fn find_row(conn: &mut DbConn, id: i64) -> Result<IncubationRow, AppError> {
    Ok(incubations::table
        .find(id)
        .select(IncubationRow::as_select())
        .first(conn)?)
}

/// One record; `only_org` limits it to an organisation's own records (others are "not found").
pub fn find(
    conn: &mut DbConn,
    cal: &BusinessCalendar,
    today: NaiveDate,
    id: i64,
    only_org: Option<i64>,
) -> Result<IncubationView, AppError> {
    let r = find_row(conn, id)?;
    if let Some(o) = only_org
        && r.organisation_id != Some(o)
    {
        return Err(AppError::NotFound);
    }
    to_view(conn, cal, today, r)
}

/// A list; `only_org` limits it to an organisation's own records.
pub fn list(
    conn: &mut DbConn,
    cal: &BusinessCalendar,
    today: NaiveDate,
    f: &IncubationFilter,
    only_org: Option<i64>,
) -> Result<crate::db::Paged<IncubationView>, AppError> {
    let paging = crate::db::Paging::new(f.page, f.per_page);
    let (rows, total) = filtered(conn, cal, today, f, only_org, Some(paging))?;
    Ok(paging.of(rows, total))
}

/// Every record matching the filter (no paging, same order as the list); for exports.
pub fn list_all(
    conn: &mut DbConn,
    cal: &BusinessCalendar,
    today: NaiveDate,
    f: &IncubationFilter,
    only_org: Option<i64>,
) -> Result<Vec<IncubationView>, AppError> {
    Ok(filtered(conn, cal, today, f, only_org, None)?.0)
}

/// The export's columns (Chinese headers, like the organisations export).
pub const EXPORT_HEADER: &[&str] = &[
    "编号",
    "名称",
    "社会组织编号",
    "孵化基地",
    "基地层级",
    "状态",
    "决定逾期",
    "入驻方式",
    "孵化阶段",
    "申请日期",
    "决定期限",
    "决定日期",
    "不予入驻原因",
    "开始日期",
    "计划结束日期",
    "出壳日期",
    "退驻日期",
    "退驻原因",
    "场地归还期限",
];

/// Incubation records as CSV (UTF-8 with BOM, Chinese headers and labels).
pub fn export_csv(rows: &[IncubationView]) -> String {
    let d = |x: Option<NaiveDate>| x.map(|d| d.to_string()).unwrap_or_default();
    let o = |x: &Option<String>| x.clone().unwrap_or_default();
    crate::registry::import::csv_document(
        EXPORT_HEADER,
        rows.iter().map(|v| {
            vec![
                v.id.to_string(),
                v.name.clone(),
                v.organisation_id.map(|i| i.to_string()).unwrap_or_default(),
                v.base_name.clone(),
                Level::parse(&v.base_level)
                    .map(|l| l.label_zh().to_string())
                    .unwrap_or_else(|| v.base_level.clone()),
                v.state_label(true).to_string(),
                if v.overdue { "是" } else { "否" }.to_string(),
                v.mode_label(true).to_string(),
                v.stage_label(true).to_string(),
                v.applied_on.to_string(),
                v.decision_due.to_string(),
                d(v.decided_on),
                o(&v.reject_reason),
                d(v.start_on),
                d(v.planned_end),
                d(v.graduated_on),
                d(v.exited_on),
                o(&v.exit_reason),
                d(v.space_return_due),
            ]
        }),
    )
}

fn filtered(
    conn: &mut DbConn,
    cal: &BusinessCalendar,
    today: NaiveDate,
    f: &IncubationFilter,
    only_org: Option<i64>,
    paging: Option<crate::db::Paging>,
) -> Result<(Vec<IncubationView>, i64), AppError> {
    let build = || {
        let mut q = incubations::table.into_boxed();
        if let Some(o) = only_org {
            q = q.filter(incubations::organisation_id.eq(o));
        }
        if let Some(o) = f.organisation_id {
            q = q.filter(incubations::organisation_id.eq(o));
        }
        if let Some(s) = f.state.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            q = q.filter(incubations::state.eq(s.to_string()));
        }
        if let Some(b) = f.base_id {
            q = q.filter(incubations::base_id.eq(b));
        }
        if let Some(l) = f.level.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            q = q.filter(
                incubations::base_id.eq_any(
                    bases::table
                        .filter(bases::level.eq(l.to_string()))
                        .select(bases::id),
                ),
            );
        }
        if f.overdue == Some(true) {
            q = q.filter(
                incubations::state
                    .eq("applied")
                    .and(incubations::decision_due.lt(today)),
            );
        }
        if let Some(s) = f.q.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            let pat = crate::db::like_pattern(s);
            q = q.filter(
                incubations::organisation_id
                    .eq_any(
                        organisations::table
                            .filter(
                                crate::db::lower(organisations::name)
                                    .like(pat.clone())
                                    .escape('\\'),
                            )
                            .select(organisations::id.nullable()),
                    )
                    .or(incubations::group_name.like(pat).escape('\\')),
            );
        }
        q
    };
    let mut q = build()
        .order((incubations::applied_on.desc(), incubations::id.desc()))
        .select(IncubationRow::as_select());
    let mut total = None;
    if let Some(p) = paging {
        q = q.offset(p.offset()).limit(p.limit());
        total = Some(build().count().get_result(conn)?);
    }
    let rows = q.load(conn)?;
    let total = total.unwrap_or(rows.len() as i64);
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        out.push(to_view(conn, cal, today, r)?);
    }
    Ok((out, total))
}

fn audit_json(v: &IncubationView) -> serde_json::Value {
    let mut j = serde_json::to_value(v).unwrap_or_default();
    if let Some(o) = j.as_object_mut() {
        // Derived from the day of reading, not part of the record.
        o.remove("overdue");
        o.remove("calendar_warnings");
    }
    j
}

/// Apply to a base. `as_org` is the caller's organisation when an `org` user applies: it may apply only for
/// itself (anything else is forbidden).
pub fn apply(
    conn: &mut DbConn,
    actor: &Actor,
    now: chrono::DateTime<chrono::Utc>,
    cal: &BusinessCalendar,
    new: &NewApplication,
    as_org: Option<i64>,
) -> Result<IncubationView, AppError> {
    if let Some(own) = as_org
        && new.organisation_id != Some(own)
    {
        return Err(AppError::Forbidden);
    }
    let today = today(now);
    let ts = crate::db::now_micros(now);
    let group = new
        .group_name
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string);
    write_tx(conn, |conn| {
        let mut checks = Checks::new();
        let base: Option<i64> = bases::table
            .find(new.base_id)
            .select(bases::id)
            .first(conn)
            .optional()?;
        if base.is_none() {
            checks.add(
                "base_id",
                "exists",
                "没有这个孵化基地。",
                "No such incubation base.",
            );
        }
        match (new.organisation_id, &group) {
            (None, None) => checks.add(
                "organisation_id",
                "required",
                "请选择组织，或填写尚未登记的团体名称。",
                "Name an organisation, or the name of a group not yet registered.",
            ),
            (Some(_), Some(_)) => checks.add(
                "group_name",
                "exclusive",
                "已选择组织时不填团体名称。",
                "Give either an organisation or a group name, not both.",
            ),
            (Some(o), None) => {
                let found: Option<i64> = organisations::table
                    .find(o)
                    .select(organisations::id)
                    .first(conn)
                    .optional()?;
                if found.is_none() {
                    checks.add(
                        "organisation_id",
                        "exists",
                        "没有这个组织。",
                        "No such organisation.",
                    );
                } else {
                    let open: i64 = incubations::table
                        .filter(incubations::organisation_id.eq(o))
                        .filter(incubations::base_id.eq(new.base_id))
                        .filter(incubations::state.eq_any([
                            "applied",
                            "admitted",
                            "incubating",
                            "renewed",
                        ]))
                        .count()
                        .get_result(conn)?;
                    if open > 0 {
                        checks.add(
                            "organisation_id",
                            "duplicate",
                            "该组织在此基地已有未结束的申请或孵化。",
                            "The organisation already has an open application or incubation in this base.",
                        );
                    }
                }
            }
            (None, Some(g)) => {
                if g.chars().count() > 80 {
                    checks.add(
                        "group_name",
                        "max_length",
                        "最多 80 个字。",
                        "At most 80 characters.",
                    );
                }
            }
        }
        checks.finish()?;
        let (due, _) = rules::decision_due(cal, today);
        let id: i64 = diesel::insert_into(incubations::table)
            .values((
                incubations::base_id.eq(new.base_id),
                incubations::organisation_id.eq(new.organisation_id),
                incubations::group_name.eq(&group),
                incubations::state.eq("applied"),
                incubations::applied_on.eq(today),
                incubations::decision_due.eq(due),
                incubations::created_at.eq(ts),
                incubations::updated_at.eq(ts),
            ))
            .returning(incubations::id)
            .get_result(conn)?;
        let view = find(conn, cal, today, id, None)?;
        audit::record(
            conn,
            actor,
            now,
            "incubation.apply",
            "incubation",
            Some(id.to_string()),
            None,
            Some(audit_json(&view)),
        )?;
        Ok(view)
    })
}

fn reason(checks: &mut Checks, r: &Option<String>) -> Option<String> {
    let r = r.as_deref().map(str::trim).unwrap_or("");
    if checks.required("reason", r) {
        if r.chars().count() > 500 {
            checks.add(
                "reason",
                "max_length",
                "最多 500 个字。",
                "At most 500 characters.",
            );
        }
        Some(r.to_string())
    } else {
        None
    }
}

/// Move a record to another state (bureau and administrators). Illegal moves are a 409
/// `illegal_transition`; missing or wrong fields a 422 naming each.
pub fn transition(
    conn: &mut DbConn,
    actor: &Actor,
    now: chrono::DateTime<chrono::Utc>,
    cal: &BusinessCalendar,
    years: u32,
    id: i64,
    t: &Transition,
) -> Result<IncubationView, AppError> {
    let today = today(now);
    let ts = crate::db::now_micros(now);
    let Some(to) = State::parse(&t.to) else {
        return Err(AppError::field(
            "to",
            "one_of",
            "目标状态须为 admitted、rejected、incubating、renewed、graduated 或 exited。",
            "The target state must be admitted, rejected, incubating, renewed, graduated or exited.",
        ));
    };
    let mut dates = Checks::new();
    let start_on = dates.date("start_on", t.start_on.as_deref());
    let planned_end = dates.date("planned_end", t.planned_end.as_deref());
    dates.finish()?;
    write_tx(conn, |conn| {
        crate::db::lock_row(conn, "incubations", id)?;
        let row = find_row(conn, id)?;
        let from = State::parse(&row.state)
            .ok_or_else(|| AppError::internal("unknown incubation state"))?;
        rules::check_transition(from, to).map_err(|m| AppError::Conflict {
            code: "illegal_transition",
            msg: m,
        })?;
        let before = to_view(conn, cal, today, row.clone())?;
        let mut checks = Checks::new();
        let action;
        match to {
            State::Admitted => {
                let (onsite, virt): (bool, bool) = bases::table
                    .find(row.base_id)
                    .select((bases::onsite, bases::virtual_mode))
                    .first(conn)?;
                let mode = t.mode.as_deref().unwrap_or("");
                let m = Mode::parse(mode);
                if checks.required("mode", mode) {
                    match m {
                        None => checks.add(
                            "mode",
                            "one_of",
                            "方式须为 onsite 或 virtual。",
                            "Mode must be onsite or virtual.",
                        ),
                        Some(Mode::Onsite) if !onsite => checks.add(
                            "mode",
                            "offered",
                            "该基地不提供实体孵化。",
                            "The base does not offer on-site incubation.",
                        ),
                        Some(Mode::Virtual) if !virt => checks.add(
                            "mode",
                            "offered",
                            "该基地不提供虚拟孵化。",
                            "The base does not offer virtual incubation.",
                        ),
                        _ => {}
                    }
                }
                let stage = t.stage.as_deref().unwrap_or("");
                let s = Stage::parse(stage);
                if checks.required("stage", stage) && s.is_none() {
                    checks.add(
                        "stage",
                        "one_of",
                        "阶段须为 gestation（孕育）、sprouting（萌芽）或 startup（初创）。",
                        "Stage must be gestation, sprouting or startup.",
                    );
                }
                checks.finish()?;
                action = "incubation.admit";
                diesel::update(incubations::table.find(id))
                    .set((
                        incubations::state.eq(to.as_str()),
                        incubations::mode.eq(m.map(Mode::as_str)),
                        incubations::stage.eq(s.map(Stage::as_str)),
                        incubations::decided_on.eq(Some(today)),
                        incubations::updated_at.eq(ts),
                    ))
                    .execute(conn)?;
            }
            State::Rejected => {
                let r = reason(&mut checks, &t.reason);
                checks.finish()?;
                action = "incubation.reject";
                diesel::update(incubations::table.find(id))
                    .set((
                        incubations::state.eq(to.as_str()),
                        incubations::reject_reason.eq(r),
                        incubations::decided_on.eq(Some(today)),
                        incubations::updated_at.eq(ts),
                    ))
                    .execute(conn)?;
            }
            State::Incubating => {
                let start = start_on.unwrap_or(today);
                if row.decided_on.is_some_and(|d| start < d) {
                    checks.add(
                        "start_on",
                        "after_decision",
                        "入驻开始日期不能早于入驻决定日期。",
                        "The start cannot precede the admission decision.",
                    );
                }
                let end = planned_end.unwrap_or_else(|| rules::planned_end(start, years));
                if end <= start {
                    checks.add(
                        "planned_end",
                        "after_start",
                        "计划结束日期须晚于开始日期。",
                        "The planned end must follow the start.",
                    );
                }
                checks.finish()?;
                action = "incubation.start";
                diesel::update(incubations::table.find(id))
                    .set((
                        incubations::state.eq(to.as_str()),
                        incubations::start_on.eq(Some(start)),
                        incubations::planned_end.eq(Some(end)),
                        incubations::updated_at.eq(ts),
                    ))
                    .execute(conn)?;
            }
            State::Renewed => {
                match (planned_end, row.planned_end) {
                    (None, _) => checks.add("planned_end", "required", "必填。", "Required."),
                    (Some(new), Some(old)) if new <= old => checks.add(
                        "planned_end",
                        "after_current",
                        format!("续驻后的计划结束日期须晚于当前的 {old}。"),
                        format!("The renewed planned end must follow the current one, {old}."),
                    ),
                    _ => {}
                }
                checks.finish()?;
                action = "incubation.renew";
                diesel::update(incubations::table.find(id))
                    .set((
                        incubations::state.eq(to.as_str()),
                        incubations::planned_end.eq(planned_end),
                        incubations::updated_at.eq(ts),
                    ))
                    .execute(conn)?;
            }
            State::Graduated => {
                for item in &t.checklist {
                    if !CHECKLIST.iter().any(|(k, _, _)| *k == item.key) {
                        checks.add(
                            "checklist",
                            "one_of",
                            format!("未知的出壳条件：{}。", item.key),
                            format!("Unknown checklist item: {}.", item.key),
                        );
                    }
                }
                let done: Vec<(String, bool)> = t
                    .checklist
                    .iter()
                    .map(|i| (i.key.clone(), i.done))
                    .collect();
                for k in rules::checklist_missing(&done) {
                    let (zh, en) = CHECKLIST
                        .iter()
                        .find(|(c, _, _)| *c == k)
                        .map(|(_, z, e)| (*z, *e))
                        .unwrap_or((k, k));
                    checks.add(
                        &format!("checklist.{k}"),
                        "done",
                        format!("出壳前须完成：{zh}。"),
                        format!("Not done yet: {en}."),
                    );
                }
                checks.finish()?;
                let list: Vec<ChecklistItem> = CHECKLIST
                    .iter()
                    .map(|(k, _, _)| ChecklistItem {
                        key: k.to_string(),
                        done: true,
                    })
                    .collect();
                action = "incubation.graduate";
                diesel::update(incubations::table.find(id))
                    .set((
                        incubations::state.eq(to.as_str()),
                        incubations::graduated_on.eq(Some(today)),
                        incubations::checklist
                            .eq(Some(serde_json::to_string(&list).unwrap_or_default())),
                        incubations::updated_at.eq(ts),
                    ))
                    .execute(conn)?;
            }
            State::Exited => {
                let r = reason(&mut checks, &t.reason);
                checks.finish()?;
                let (due, _) = rules::space_return_due(cal, today);
                action = "incubation.exit";
                diesel::update(incubations::table.find(id))
                    .set((
                        incubations::state.eq(to.as_str()),
                        incubations::exit_reason.eq(r),
                        incubations::exited_on.eq(Some(today)),
                        incubations::space_return_due.eq(Some(due)),
                        incubations::updated_at.eq(ts),
                    ))
                    .execute(conn)?;
            }
            State::Applied => unreachable!("no move leads back to applied"),
        }
        let after = find(conn, cal, today, id, None)?;
        audit::record(
            conn,
            actor,
            now,
            action,
            "incubation",
            Some(id.to_string()),
            Some(audit_json(&before)),
            Some(audit_json(&after)),
        )?;
        Ok(after)
    })
}

fn state_counts(rows: Vec<(String, i64)>) -> Vec<(State, i64)> {
    rows.into_iter()
        .filter_map(|(s, n)| State::parse(&s).map(|s| (s, n)))
        .collect()
}

pub fn funnel_for_base(conn: &mut DbConn, base_id: i64) -> Result<Funnel, AppError> {
    let rows: Vec<(String, i64)> = incubations::table
        .filter(incubations::base_id.eq(base_id))
        .group_by(incubations::state)
        .select((incubations::state, diesel::dsl::count_star()))
        .load(conn)?;
    Ok(Funnel::from_counts(&state_counts(rows)))
}

/// The funnel overall, per level (city first) and per base (bases with records only).
pub fn funnel_report(conn: &mut DbConn, today: NaiveDate) -> Result<FunnelReport, AppError> {
    let rows: Vec<(i64, String, i64)> = incubations::table
        .group_by((incubations::base_id, incubations::state))
        .select((
            incubations::base_id,
            incubations::state,
            diesel::dsl::count_star(),
        ))
        .load(conn)?;
    let base_info: Vec<(i64, String, String)> = bases::table
        .order((bases::level.asc(), bases::name.asc()))
        .select((bases::id, bases::name, bases::level))
        .load(conn)?;
    let mut total = Funnel::default();
    let mut by_level: Vec<LevelFunnel> = Level::ALL
        .iter()
        .map(|l| LevelFunnel {
            level: l.as_str().into(),
            funnel: Funnel::default(),
        })
        .collect();
    let mut by_base: Vec<BaseFunnel> = Vec::new();
    for (id, name, level) in &base_info {
        let mut f = Funnel::default();
        let mut any = false;
        for (b, s, n) in rows.iter().filter(|(b, _, _)| b == id) {
            let _ = b;
            if let Some(st) = State::parse(s) {
                f.add(st, *n);
                total.add(st, *n);
                if let Some(lf) = by_level.iter_mut().find(|lf| &lf.level == level) {
                    lf.funnel.add(st, *n);
                }
                any = true;
            }
        }
        if any {
            by_base.push(BaseFunnel {
                base_id: *id,
                base_name: name.clone(),
                level: level.clone(),
                funnel: f,
            });
        }
    }
    // Show bases in the natural order of levels.
    by_base.sort_by_key(|b| {
        (
            Level::parse(&b.level).map(|l| l as u8).unwrap_or(9),
            b.base_name.clone(),
        )
    });
    let overdue: i64 = incubations::table
        .filter(incubations::state.eq("applied"))
        .filter(incubations::decision_due.lt(today))
        .count()
        .get_result(conn)?;
    Ok(FunnelReport {
        total,
        by_level,
        by_base,
        overdue,
    })
}

/// Those in a base now (incubating or renewed).
pub fn incubatees(conn: &mut DbConn, base_id: i64) -> Result<Vec<Incubatee>, AppError> {
    let rows: Vec<IncubationRow> = incubations::table
        .filter(incubations::base_id.eq(base_id))
        .filter(incubations::state.eq_any(["incubating", "renewed"]))
        .order(incubations::start_on.asc())
        .select(IncubationRow::as_select())
        .load(conn)?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let org: Option<String> = match r.organisation_id {
            Some(o) => organisations::table
                .find(o)
                .select(organisations::name)
                .first(conn)
                .optional()?,
            None => None,
        };
        out.push(Incubatee {
            incubation_id: r.id,
            name: org.or(r.group_name).unwrap_or_default(),
            state: r.state,
            mode: r.mode,
            stage: r.stage,
            start_on: r.start_on,
            planned_end: r.planned_end,
        });
    }
    Ok(out)
}

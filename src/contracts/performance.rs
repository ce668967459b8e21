//! A contract's performance (issue 12; docs/CONTRACTS.md, Performance): the bureau's satisfaction surveys,
//! progress towards the targets (the winning bid's, with the tender's minimum beside them), and the
//! weighted evaluation of a milestone at a date (`domain::performance`), which `lifecycle::accept` records
//! and the contract page previews. Readers: staff every contract, an organisation its own; 404 otherwise.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use diesel::prelude::*;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::*;
use crate::audit::Actor;
use crate::db::schema::{satisfaction_surveys as ss, spending_items as si};
use crate::domain::people::{self as people_rules, Satisfaction};
use crate::domain::performance::{self as perf, Elapsed, Evaluation, Inputs};
use crate::error::Checks;

/// Most answers one survey line may count for one score.
pub const MAX_ANSWERS: i64 = 1_000_000;

/// A satisfaction survey of the people served, recorded by the bureau (independent of the provider).
#[derive(Clone, Debug, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SurveyInput {
    /// The day of the survey (YYYY-MM-DD), from the signing to today.
    pub surveyed_on: String,
    /// How many answered 1 (very dissatisfied) … 5 (very satisfied), as five counts; or give `n1`…`n5`.
    pub answers: Option<Vec<i64>>,
    pub n1: Option<i64>,
    pub n2: Option<i64>,
    pub n3: Option<i64>,
    pub n4: Option<i64>,
    pub n5: Option<i64>,
    /// How it was done (who was asked, where), at most 500 characters.
    pub note: Option<String>,
}

/// One survey as shown.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct SurveyView {
    pub id: i64,
    #[schema(value_type = String)]
    pub surveyed_on: NaiveDate,
    pub satisfaction: Satisfaction,
    pub note: String,
    pub recorded_by: String,
    #[schema(value_type = String)]
    pub recorded_at: NaiveDateTime,
}

/// A contract's surveys, newest first, with their sum.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Surveys {
    pub contract_id: i64,
    /// Every survey's answers together.
    pub summary: Satisfaction,
    pub items: Vec<SurveyView>,
}

type SurveyRow = (
    i64,
    NaiveDate,
    i32,
    i32,
    i32,
    i32,
    i32,
    String,
    i64,
    NaiveDateTime,
);

fn survey_views(conn: &mut DbConn, rows: Vec<SurveyRow>) -> QueryResult<Vec<SurveyView>> {
    let ids: Vec<i64> = rows.iter().map(|r| r.8).collect();
    let names = user_names(conn, &ids)?;
    Ok(rows
        .into_iter()
        .map(
            |(id, surveyed_on, n1, n2, n3, n4, n5, note, by, at)| SurveyView {
                id,
                surveyed_on,
                satisfaction: Satisfaction::of([n1, n2, n3, n4, n5].map(i64::from)),
                note,
                recorded_by: names.get(&by).cloned().unwrap_or_default(),
                recorded_at: at,
            },
        )
        .collect())
}

fn survey_columns() -> (
    ss::id,
    ss::surveyed_on,
    ss::n1,
    ss::n2,
    ss::n3,
    ss::n4,
    ss::n5,
    ss::note,
    ss::recorded_by,
    ss::recorded_at,
) {
    (
        ss::id,
        ss::surveyed_on,
        ss::n1,
        ss::n2,
        ss::n3,
        ss::n4,
        ss::n5,
        ss::note,
        ss::recorded_by,
        ss::recorded_at,
    )
}

/// The five counts of a survey, each refusal named: `answers` (or `n1`…`n5`) five whole numbers from 0,
/// not all zero.
fn answers(c: &mut Checks, input: &SurveyInput) -> Option<[i64; 5]> {
    let fields = [input.n1, input.n2, input.n3, input.n4, input.n5];
    if input.answers.is_some() && fields.iter().any(Option::is_some) {
        c.add(
            "answers",
            "one_form",
            "请只用一种方式填写：answers 或 n1…n5。",
            "Give the counts one way: answers or n1…n5, not both.",
        );
        return None;
    }
    let (field, counts): (&str, Vec<i64>) = match &input.answers {
        Some(a) => ("answers", a.clone()),
        None => ("n1", fields.map(|n| n.unwrap_or(0)).to_vec()),
    };
    let name = |i: usize| {
        if field == "answers" {
            format!("answers[{i}]")
        } else {
            format!("n{}", i + 1)
        }
    };
    let Ok(counts) = <[i64; 5]>::try_from(counts) else {
        c.add(
            "answers",
            "five_counts",
            "请给出 1–5 分各有多少人作答（5 个数）。",
            "Give how many answered each score from 1 to 5 (five numbers).",
        );
        return None;
    };
    let mut ok = true;
    for (i, n) in counts.iter().enumerate() {
        if *n < 0 {
            ok = false;
            c.add(
                &name(i),
                "non_negative",
                "人数不能为负。",
                "A count cannot be negative.",
            );
        } else if *n > MAX_ANSWERS {
            ok = false;
            c.add(
                &name(i),
                "range",
                format!("每项至多 {MAX_ANSWERS} 人。"),
                format!("At most {MAX_ANSWERS} per score."),
            );
        }
    }
    if ok && counts.iter().all(|n| *n == 0) {
        c.add(
            field,
            "some_response",
            "至少要有一份答卷。",
            "A survey has at least one response.",
        );
        return None;
    }
    ok.then_some(counts)
}

/// Record a survey (bureau) on a signed, not yet closed or terminated contract: 409 `contract_state`
/// otherwise; 422 `surveyed_on` `not_future` / `after_signing`, each count `non_negative`, all zero
/// `some_response`.
pub fn record_survey(
    conn: &mut DbConn,
    actor: &Actor,
    now: DateTime<Utc>,
    id: i64,
    input: &SurveyInput,
) -> Result<SurveyView, AppError> {
    let user = actor
        .id
        .ok_or_else(|| AppError::internal("a survey needs a signed-in author"))?;
    let today = crate::clock::beijing_date(now);
    let sid = crate::db::write_tx(conn, |conn| -> Result<i64, AppError> {
        crate::db::lock_row(conn, "contracts", id)?;
        let row = find_row(conn, id)?;
        if !row.state().is_live() {
            return Err(AppError::conflict(
                "contract_state",
                format!(
                    "合同当前为“{}”，不能登记满意度调查。",
                    row.state().label(true)
                ),
                format!(
                    "The contract is {}: no survey can be recorded.",
                    row.state().label(false)
                ),
            ));
        }
        let mut c = Checks::new();
        let on = c.required_date("surveyed_on", &input.surveyed_on);
        if let Some(d) = on {
            if d > today {
                c.add(
                    "surveyed_on",
                    "not_future",
                    "调查日期不能晚于今天。",
                    "A survey cannot be dated after today.",
                );
            } else if row.signed_on.is_some_and(|s| d < s) {
                c.add(
                    "surveyed_on",
                    "after_signing",
                    "调查日期不能早于合同签订。",
                    "A survey cannot be dated before the signing.",
                );
            }
        }
        let counts = answers(&mut c, input);
        let note = input.note.as_deref().unwrap_or("").trim().to_string();
        if note.chars().count() > 500 {
            c.add(
                "note",
                "max_length",
                "至多 500 字。",
                "At most 500 characters.",
            );
        }
        c.finish()?;
        let (on, n) = (on.expect("checked"), counts.expect("checked"));
        let sid: i64 = diesel::insert_into(ss::table)
            .values((
                ss::contract_id.eq(id),
                ss::surveyed_on.eq(on),
                ss::n1.eq(n[0] as i32),
                ss::n2.eq(n[1] as i32),
                ss::n3.eq(n[2] as i32),
                ss::n4.eq(n[3] as i32),
                ss::n5.eq(n[4] as i32),
                ss::note.eq(&note),
                ss::recorded_by.eq(user),
                ss::recorded_at.eq(crate::db::now_micros(now)),
            ))
            .returning(ss::id)
            .get_result(conn)?;
        crate::audit::record(
            conn,
            actor,
            now,
            "contract.survey",
            "contract",
            Some(id.to_string()),
            None,
            Some(serde_json::json!({
                "survey_id": sid, "surveyed_on": on.to_string(), "answers": n, "note": note,
            })),
        )?;
        Ok(sid)
    })?;
    let rows: Vec<SurveyRow> = ss::table.find(sid).select(survey_columns()).load(conn)?;
    Ok(survey_views(conn, rows)?.remove(0))
}

/// A contract's surveys for a reader who reads it whole (404 otherwise).
pub fn surveys(conn: &mut DbConn, reader: Reader, id: i64) -> Result<Surveys, AppError> {
    let row = spending::readable(conn, reader, id)?;
    let rows: Vec<SurveyRow> = ss::table
        .filter(ss::contract_id.eq(row.id))
        .order((ss::surveyed_on.desc(), ss::id.desc()))
        .select(survey_columns())
        .load(conn)?;
    let items = survey_views(conn, rows)?;
    let mut sum = [0i64; 5];
    for s in &items {
        for (t, n) in sum.iter_mut().zip(s.satisfaction.answers) {
            *t += n;
        }
    }
    Ok(Surveys {
        contract_id: row.id,
        summary: Satisfaction::of(sum),
        items,
    })
}

/// Sums of n1 … n5.
type SurveySums = (
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
);

/// The surveys of a contract up to and including `upto`, summed in the database.
pub fn satisfaction_upto(
    conn: &mut DbConn,
    contract: i64,
    upto: NaiveDate,
) -> QueryResult<Satisfaction> {
    use diesel::dsl::sum;
    let s: SurveySums = ss::table
        .filter(ss::contract_id.eq(contract))
        .filter(ss::surveyed_on.le(upto))
        .select((
            sum(ss::n1),
            sum(ss::n2),
            sum(ss::n3),
            sum(ss::n4),
            sum(ss::n5),
        ))
        .first(conn)?;
    Ok(Satisfaction::of(
        [s.0, s.1, s.2, s.3, s.4].map(|n| n.unwrap_or(0)),
    ))
}

/// Spending reported and not rejected (`spending::COUNTED`) dated up to and including `upto`, in fen.
pub fn spent_upto(conn: &mut DbConn, contract: i64, upto: NaiveDate) -> QueryResult<i64> {
    let s: Option<i64> = si::table
        .filter(si::contract_id.eq(contract))
        .filter(si::state.eq_any(spending::COUNTED))
        .filter(si::spent_on.le(upto))
        .select(diesel::dsl::sql::<
            diesel::sql_types::Nullable<diesel::sql_types::BigInt>,
        >("CAST(SUM(amount_fen) AS BIGINT)"))
        .first(conn)?;
    Ok(s.unwrap_or(0))
}

/// The evaluation of a contract's milestone at `on` (`domain::performance`): the final milestone expects
/// the whole targets. Without `effect` it is a preview (no score, no grade).
pub fn evaluate_at(
    conn: &mut DbConn,
    ctx: &Ctx,
    row: &ContractRow,
    on: NaiveDate,
    final_milestone: bool,
    effect: Option<Decimal>,
) -> Result<Evaluation, AppError> {
    let achieved = crate::people::achieved(conn, row.id, on)?;
    let inputs = Inputs {
        targets: row.targets().unwrap_or_default(),
        visits: achieved.count.visits,
        people: achieved.count.people,
        sessions: achieved.sessions,
        satisfaction: satisfaction_upto(conn, row.id, on)?,
        spent_fen: spent_upto(conn, row.id, on)?,
        amount_fen: row.amount_fen,
        elapsed: Elapsed::at(row.term_start, row.term_end, on, final_milestone),
        effect,
    };
    Ok(perf::evaluate(ctx.weights, on, final_milestone, &inputs))
}

/// Progress towards one output target.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct TargetProgress {
    /// `visits` (人次), `people` (人数) or `sessions`.
    pub target: String,
    pub label_zh: String,
    pub label_en: String,
    /// The tender's minimum for the same target.
    pub minimum: i64,
    pub progress: people_rules::Progress,
}

/// Satisfaction against its target.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct SatisfactionProgress {
    #[schema(value_type = String)]
    pub target_pct: Decimal,
    #[schema(value_type = String)]
    pub minimum_pct: Decimal,
    /// Every survey so far.
    pub summary: Satisfaction,
}

/// An accepted milestone's recorded performance.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct MilestonePerformance {
    pub no: i32,
    pub milestone: String,
    #[schema(value_type = Option<String>)]
    pub accepted_on: Option<NaiveDate>,
    pub score: Option<String>,
    pub grade: Option<String>,
    /// Absent for an acceptance recorded before evaluations were kept, and for the signing.
    pub performance: Option<Evaluation>,
}

/// The milestone to accept next, previewed at today (no effect score yet).
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Preview {
    pub no: i32,
    pub milestone: String,
    pub evaluation: Evaluation,
}

/// A contract's targets and progress.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct PerformanceView {
    pub contract_id: i64,
    pub contract_no: String,
    /// The day the progress is counted to (today).
    #[schema(value_type = String)]
    pub on: NaiveDate,
    #[schema(value_type = String)]
    pub term_start: NaiveDate,
    #[schema(value_type = String)]
    pub term_end: NaiveDate,
    /// Share of the term elapsed, percent.
    #[schema(value_type = String)]
    pub elapsed_pct: Decimal,
    /// The winning bid's targets (the contract's).
    pub targets: Targets,
    /// The tender's minimum targets.
    pub minimum: Targets,
    /// 人次, 人数 and sessions: achieved, share attained, projection to the end of the term.
    pub progress: Vec<TargetProgress>,
    /// Of the 人次, how many are anonymous heads of large events (人次 only, never 人数).
    pub anonymous_visits: i64,
    pub volunteer_minutes: i64,
    pub satisfaction: SatisfactionProgress,
    pub milestones: Vec<MilestonePerformance>,
    /// The next milestone's evaluation at today, while one is pending on a live contract.
    pub preview: Option<Preview>,
}

/// The performance of a contract for a reader who reads it whole (404 otherwise), counted to `today`.
pub fn view(
    conn: &mut DbConn,
    ctx: &Ctx,
    reader: Reader,
    id: i64,
    today: NaiveDate,
) -> Result<PerformanceView, AppError> {
    let row = spending::readable(conn, reader, id)?;
    let targets = row.targets().unwrap_or_default();
    let minimum = crate::tenders::find_row(conn, row.tender_id)?.targets();
    let a = crate::people::achieved(conn, row.id, today)?;
    let progress = [
        (
            "visits",
            "服务人次",
            "Visits",
            targets.visits,
            minimum.visits,
            a.count.visits,
        ),
        (
            "people",
            "服务人数",
            "People served",
            targets.people,
            minimum.people,
            a.count.people,
        ),
        (
            "sessions",
            "活动节数",
            "Sessions",
            targets.sessions,
            minimum.sessions,
            a.sessions,
        ),
    ]
    .into_iter()
    .map(|(key, zh, en, target, min, achieved)| TargetProgress {
        target: key.into(),
        label_zh: zh.into(),
        label_en: en.into(),
        minimum: min,
        progress: people_rules::progress(target, achieved, row.term_start, row.term_end, today),
    })
    .collect();
    let all = instalments(conn, row.id)?;
    let milestones = all
        .iter()
        .filter(|i| i.accepted_on.is_some() && !i.on_signing)
        .map(|i| MilestonePerformance {
            no: i.no,
            milestone: i.milestone.clone(),
            accepted_on: i.accepted_on,
            score: i.score.clone(),
            grade: i.grade.clone(),
            performance: i
                .performance
                .as_deref()
                .and_then(|j| serde_json::from_str(j).ok()),
        })
        .collect();
    let next = all.iter().find(|i| i.accepted_on.is_none());
    let preview = match next {
        Some(i) if row.state().is_live() => Some(Preview {
            no: i.no,
            milestone: i.milestone.clone(),
            evaluation: evaluate_at(conn, ctx, &row, today, i.no as usize >= all.len(), None)?,
        }),
        _ => None,
    };
    Ok(PerformanceView {
        contract_id: row.id,
        contract_no: row.contract_no.clone(),
        on: today,
        term_start: row.term_start,
        term_end: row.term_end,
        elapsed_pct: Elapsed::at(row.term_start, row.term_end, today, false).pct(),
        satisfaction: SatisfactionProgress {
            target_pct: targets.satisfaction_pct,
            minimum_pct: minimum.satisfaction_pct,
            summary: satisfaction_upto(conn, row.id, today)?,
        },
        targets,
        minimum,
        progress,
        anonymous_visits: a.count.anonymous,
        volunteer_minutes: a.volunteer_minutes,
        milestones,
        preview,
    })
}

//! Challenges (质疑) against the documents, the process or the result (政府采购法 Art 52): filed within
//! their windows by those who may (实施条例 Art 53; the rules in `domain::tender::challenge`), assessed and
//! answered by the bureau; an open one that may affect the result suspends the opening (documents) or the
//! award and the contract (any subject) until answered (实施条例 Art 54: [`suspension`], [`refuse_if_suspended`]).

use super::*;
use crate::db::schema::{enquiries, tender_documents, tender_events};
use crate::domain::tender::Note;
use crate::domain::tender::{ChallengeDates, FiledChallenge, Subject, Suspendable};

// ---------------------------------------------------------------------------------------------------------
// Challenges (质疑).

#[derive(Deserialize, Serialize, Debug, Clone, utoipa::ToSchema)]
pub struct NewChallenge {
    /// `documents` (采购文件), `process` (采购过程) or `result` (中标/成交结果, the default).
    #[serde(default)]
    pub subject: Option<String>,
    pub grounds: String,
}

/// The bureau's assessment of a challenge it received: whether it may affect the result (实施条例 Art 54).
/// Every challenge is taken to affect it when filed; marking one as not affecting needs a reason.
#[derive(Deserialize, Serialize, Debug, Clone, utoipa::ToSchema)]
pub struct ChallengeAssessment {
    pub affects_result: bool,
    #[serde(default)]
    pub reason: String,
}

#[derive(Deserialize, Serialize, Debug, Clone, utoipa::ToSchema)]
pub struct ChallengeAnswer {
    /// True when the challenge is upheld.
    pub upheld: bool,
    pub answer: String,
}

#[derive(Serialize, Debug, Clone, utoipa::ToSchema)]
pub struct ChallengeView {
    pub id: i64,
    pub tender_id: i64,
    pub organisation_name: String,
    /// What it is against: `documents`, `process` or `result`.
    pub subject: Subject,
    pub subject_label_zh: String,
    pub subject_label_en: String,
    /// Whether it may affect the result: while open it then suspends the next steps (实施条例 Art 54).
    pub affects_result: bool,
    /// The bureau's reason when it marked the challenge as not affecting the result.
    pub assessment: Option<String>,
    pub grounds: String,
    #[schema(value_type = String)]
    pub filed_at: NaiveDateTime,
    #[schema(value_type = String)]
    pub answer_due: chrono::NaiveDate,
    pub status: String,
    pub answer: Option<String>,
    #[schema(value_type = Option<String>)]
    pub answered_at: Option<NaiveDateTime>,
    pub overdue: bool,
}

/// Challenges of a tender: all for the bureau and administrators, its own for an organisation.
pub fn challenges_of(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    tender_id: i64,
    only_org: Option<i64>,
) -> QueryResult<Vec<ChallengeView>> {
    let mut q = challenges::table
        .inner_join(organisations::table)
        .filter(challenges::tender_id.eq(tender_id))
        .into_boxed();
    if let Some(o) = only_org {
        q = q.filter(challenges::organisation_id.eq(o));
    }
    let today = today(now);
    Ok(q.order(challenges::id)
        .select((
            challenges::id,
            organisations::name,
            (
                challenges::subject,
                challenges::affects_result,
                challenges::assessment,
            ),
            challenges::grounds,
            challenges::filed_at,
            challenges::answer_due,
            challenges::status,
            challenges::answer,
            challenges::answered_at,
        ))
        .load::<(
            i64,
            String,
            (String, bool, Option<String>),
            String,
            NaiveDateTime,
            chrono::NaiveDate,
            String,
            Option<String>,
            Option<NaiveDateTime>,
        )>(conn)?
        .into_iter()
        .map(
            |(
                id,
                organisation_name,
                (subject, affects_result, assessment),
                grounds,
                filed_at,
                answer_due,
                status,
                answer,
                answered_at,
            )| {
                let subject = Subject::parse(&subject).unwrap_or_default();
                ChallengeView {
                    id,
                    tender_id,
                    organisation_name,
                    subject,
                    subject_label_zh: subject.label(true).into(),
                    subject_label_en: subject.label(false).into(),
                    affects_result,
                    assessment,
                    grounds,
                    filed_at,
                    overdue: status == "open" && today > answer_due,
                    answer_due,
                    status,
                    answer,
                    answered_at,
                }
            },
        )
        .collect())
}

/// What the windows need to know about a tender today (Beijing dates).
pub fn challenge_dates(
    conn: &mut DbConn,
    t: &TenderRow,
    now: DateTime<Utc>,
) -> QueryResult<ChallengeDates> {
    let day = |at: NaiveDateTime| crate::clock::beijing_date(at.and_utc());
    let documents_until: Option<chrono::NaiveDate> = tender_documents::table
        .find(t.id)
        .select(tender_documents::available_until)
        .first(conn)
        .optional()?;
    let opened_at: Option<NaiveDateTime> = tender_events::table
        .filter(tender_events::tender_id.eq(t.id))
        .filter(tender_events::to_state.eq(State::Opened.as_str()))
        .select(diesel::dsl::max(tender_events::at))
        .first(conn)?;
    Ok(ChallengeDates {
        state: t.state(),
        today: today(now),
        published_on: t.published_at.map(day),
        documents_until,
        opened_on: opened_at.map(day),
        evaluated_on: t.evaluated_at.map(day),
        // The window ends at midnight Beijing after its last day.
        result_until: t
            .challenge_ends
            .map(|e| day(e - chrono::Duration::microseconds(1))),
    })
}

/// Whether an organisation may take part in a tender: registered, and for invited tenders and single
/// source one of the invited.
pub fn may_bid(conn: &mut DbConn, t: &TenderRow, org_id: i64) -> QueryResult<bool> {
    let registration: Option<String> = organisations::table
        .find(org_id)
        .select(organisations::registration)
        .first(conn)
        .optional()?;
    Ok(registration.as_deref() == Some("registered")
        && rules::may_take_part(t.method(), &t.invited(), org_id))
}

/// The subjects an organisation may challenge today, each with the last day of its window (Beijing).
pub fn open_windows(
    conn: &mut DbConn,
    ctx: &Ctx,
    t: &TenderRow,
    org_id: i64,
    now: DateTime<Utc>,
) -> QueryResult<Vec<(Subject, chrono::NaiveDate)>> {
    let dates = challenge_dates(conn, t, now)?;
    let is_bidder = bidder_orgs(conn, t.id)?.contains(&org_id);
    let may = may_bid(conn, t, org_id)?;
    Ok(Subject::ALL
        .into_iter()
        .filter(|s| rules::challenger_standing(*s, is_bidder, may).is_ok())
        .filter_map(|s| {
            rules::challenge_window(s, &dates, &ctx.cal, ctx.rules.challenge_working_days)
                .ok()
                .map(|last| (s, last))
        })
        .collect())
}

/// The challenge that suspends `step` on this tender, if any (实施条例 Art 54; `rules::suspended_by`).
pub fn suspension(
    conn: &mut DbConn,
    tender_id: i64,
    step: Suspendable,
) -> QueryResult<Option<i64>> {
    let filed: Vec<FiledChallenge> = challenges::table
        .filter(challenges::tender_id.eq(tender_id))
        .filter(challenges::affects_result.eq(true))
        .order(challenges::id)
        .select((
            challenges::id,
            challenges::subject,
            challenges::status,
            challenges::answered_at,
        ))
        .load::<(i64, String, String, Option<NaiveDateTime>)>(conn)?
        .into_iter()
        .map(|(id, subject, status, answered_at)| FiledChallenge {
            id,
            subject: Subject::parse(&subject).unwrap_or_default(),
            status,
            affects_result: true,
            answered_at,
        })
        .collect();
    if filed.is_empty() {
        return Ok(None);
    }
    // The latest clarification: an enquiry's answer, published to every supplier.
    let clarified_at: Option<NaiveDateTime> = enquiries::table
        .filter(enquiries::tender_id.eq(tender_id))
        .select(diesel::dsl::max(enquiries::answered_at))
        .first(conn)?;
    Ok(rules::suspended_by(step, &filed, clarified_at))
}

/// 409 `suspended_by_challenge` naming the challenge when one that may affect the result suspends `step`
/// (实施条例 Art 54).
pub fn refuse_if_suspended(
    conn: &mut DbConn,
    tender_id: i64,
    step: Suspendable,
) -> Result<(), AppError> {
    match suspension(conn, tender_id, step)? {
        None => Ok(()),
        Some(id) => Err(suspended(id, step)),
    }
}

/// The refusal of a step a challenge suspends.
pub fn suspended(id: i64, step: Suspendable) -> AppError {
    let (zh, en) = match step {
        Suspendable::Opening => ("开标", "the opening"),
        Suspendable::Award => (
            "确定中标人、公告结果、授予和签订合同",
            "naming the winner, publishing the result, the final award and the contract",
        ),
    };
    AppError::conflict(
        "suspended_by_challenge",
        format!(
            "质疑 #{id} 可能影响中标/成交结果，答复前暂停{zh}（政府采购法实施条例第五十四条）。"
        ),
        format!(
            "Challenge #{id} may affect the result: {en} is suspended until it is answered (Implementing Regulations Art 54)."
        ),
    )
}

/// An organisation files a challenge against the documents, the process or the result, within that
/// subject's window and if it may (实施条例 Art 53); every challenge is taken to affect the result until
/// the bureau says otherwise, so while open it suspends the opening (documents) or the award (实施条例 Art 54).
#[expect(
    clippy::too_many_arguments,
    reason = "a service call: connection, context, actor, caller, clock and input are each needed and distinct"
)]
pub fn file_challenge(
    conn: &mut DbConn,
    ctx: &Ctx,
    actor: &Actor,
    user_id: i64,
    org_id: i64,
    now: DateTime<Utc>,
    tender_id: i64,
    input: &NewChallenge,
) -> Result<ChallengeView, AppError> {
    crate::tenders::advance(conn, ctx, now, tender_id)?;
    let id = write_tx(conn, |conn| -> Result<i64, AppError> {
        crate::db::lock_row(conn, "tenders", tender_id)?;
        let t = crate::tenders::visible_row(conn, tender_id, false)?;
        let ts = crate::db::now_micros(now);
        let subject = match input.subject.as_deref().map(str::trim) {
            None | Some("") => Subject::Result,
            Some(s) => Subject::parse(s).ok_or_else(|| {
                AppError::field(
                    "subject",
                    "one_of",
                    "质疑事项须为采购文件（documents）、采购过程（process）或中标/成交结果（result）。",
                    "The subject is documents, process or result.",
                )
            })?,
        };
        let grounds = crate::error::required_text(
            "grounds",
            &input.grounds,
            5000,
            "请写明质疑事项和理由（最多 5000 字）。",
            "State the grounds (at most 5000 characters).",
        )?;
        // The window first (nothing to challenge yet, or no longer), then who may.
        let dates = challenge_dates(conn, &t, now)?;
        rules::challenge_window(subject, &dates, &ctx.cal, ctx.rules.challenge_working_days)
            .map_err(|b| AppError::field(&b.field, b.rule, b.zh, b.en))?;
        let is_bidder = bidder_orgs(conn, tender_id)?.contains(&org_id);
        let may = may_bid(conn, &t, org_id)?;
        rules::challenger_standing(subject, is_bidder, may)
            .map_err(|b| AppError::field(&b.field, b.rule, b.zh, b.en))?;
        // The result's window also ends at the moment its challenge window does.
        if subject == Subject::Result && t.challenge_ends.is_some_and(|e| ts >= e) {
            return Err(AppError::field(
                "subject",
                "window_closed",
                "对中标/成交结果的质疑期已过（政府采购法实施条例第五十三条）。",
                "The window for challenging the award result has closed (Implementing Regulations Art 53).",
            ));
        }
        let (due, _) = ctx
            .cal
            .add_working_days(today(now), ctx.rules.answer_working_days);
        let id: i64 = diesel::insert_into(challenges::table)
            .values((
                challenges::tender_id.eq(tender_id),
                challenges::organisation_id.eq(org_id),
                challenges::filed_by.eq(user_id),
                challenges::grounds.eq(grounds),
                challenges::filed_at.eq(ts),
                challenges::answer_due.eq(due),
                challenges::status.eq("open"),
                challenges::subject.eq(subject.as_str()),
                challenges::affects_result.eq(true),
            ))
            .returning(challenges::id)
            .get_result(conn)?;
        audit::record(
            conn,
            actor,
            now,
            "challenge.file",
            "challenge",
            Some(id.to_string()),
            None,
            Some(serde_json::json!({
                "tender_id": tender_id,
                "subject": subject.as_str(),
                "affects_result": true,
                "grounds": grounds,
            })),
        )?;
        let (holds_zh, holds_en) = match subject {
            Subject::Documents => ("开标", "the opening"),
            _ => (
                "确定中标人、结果公告、授予和签订合同",
                "naming the winner, publishing the result, the final award and the contract",
            ),
        };
        crate::tenders::log_event(
            conn,
            actor,
            now,
            tender_id,
            Some(t.state()),
            t.state(),
            "tender.challenged",
            Some(Note::ChallengeFiled {
                id,
                subject: Some(subject),
                due,
            }),
        )?;
        let mut to = crate::tenders::contacts(conn, &[org_id])?;
        if let Some(e) = crate::tenders::officer_email(conn, &t)? {
            to.push(("采购人 / Buyer".into(), e));
        }
        for (name, email) in to {
            crate::mail::enqueue(
                conn,
                now,
                &email,
                &mails::ChallengeFiled {
                    recipient: name,
                    code: t.code.clone(),
                    title: t.title.clone(),
                    id,
                    subject_zh: subject.label(true).into(),
                    subject_en: subject.label(false).to_lowercase(),
                    holds_zh: holds_zh.into(),
                    holds_en: holds_en.into(),
                    grounds: grounds.to_string(),
                    answer_due: due.to_string(),
                    url: crate::tenders::tender_url(ctx, tender_id),
                },
            )?;
        }
        Ok(id)
    })?;
    Ok(challenges_of(conn, now, tender_id, Some(org_id))?
        .into_iter()
        .find(|c| c.id == id)
        .expect("just filed"))
}

/// The bureau answers a challenge (upheld or rejected, with reasons); both sides are told.
pub fn answer_challenge(
    conn: &mut DbConn,
    ctx: &Ctx,
    actor: &Actor,
    user_id: i64,
    now: DateTime<Utc>,
    challenge_id: i64,
    input: &ChallengeAnswer,
) -> Result<ChallengeView, AppError> {
    let (tender_id, org_id): (i64, i64) = challenges::table
        .find(challenge_id)
        .select((challenges::tender_id, challenges::organisation_id))
        .first(conn)
        .optional()?
        .ok_or(AppError::NotFound)?;
    write_tx(conn, |conn| -> Result<(), AppError> {
        let t = find_row(conn, tender_id)?;
        let status: String = challenges::table
            .find(challenge_id)
            .select(challenges::status)
            .first(conn)?;
        if status != "open" {
            return Err(AppError::conflict(
                "already_answered",
                "该质疑已答复。",
                "This challenge is already answered.",
            ));
        }
        let answer = crate::error::required_text(
            "answer",
            &input.answer,
            5000,
            "请写明答复和理由（最多 5000 字）。",
            "Give the answer and its reasons (at most 5000 characters).",
        )?;
        let outcome = if input.upheld { "upheld" } else { "rejected" };
        let subject: String = challenges::table
            .find(challenge_id)
            .select(challenges::subject)
            .first(conn)?;
        // An upheld challenge against the documents: the bureau amends them by a clarification (which moves
        // the deadline when late) or starts again by cancelling (财政部令第94号 Art 16); until a clarification
        // is published the opening stays held.
        let amend = input.upheld
            && subject == Subject::Documents.as_str()
            && matches!(t.state(), State::Published | State::Closed);
        diesel::update(challenges::table.find(challenge_id))
            .set((
                challenges::status.eq(outcome),
                challenges::answer.eq(answer),
                challenges::answered_at.eq(crate::db::now_micros(now)),
                challenges::answered_by.eq(user_id),
            ))
            .execute(conn)?;
        audit::record(
            conn,
            actor,
            now,
            "challenge.answer",
            "challenge",
            Some(challenge_id.to_string()),
            Some(serde_json::json!({ "status": "open" })),
            Some(serde_json::json!({ "status": outcome, "answer": answer })),
        )?;
        crate::tenders::log_event(
            conn,
            actor,
            now,
            tender_id,
            Some(t.state()),
            t.state(),
            "tender.challenge_answered",
            Some(Note::ChallengeAnswered {
                id: challenge_id,
                upheld: input.upheld,
                amend,
            }),
        )?;
        let mut to = crate::tenders::contacts(conn, &[org_id])?;
        if let Some(e) = crate::tenders::officer_email(conn, &t)? {
            to.push(("采购人 / Buyer".into(), e));
        }
        for (name, email) in to {
            crate::mail::enqueue(
                conn,
                now,
                &email,
                &mails::ChallengeAnswered {
                    recipient: name,
                    code: t.code.clone(),
                    title: t.title.clone(),
                    id: challenge_id,
                    upheld: input.upheld,
                    answer: answer.to_string(),
                    url: crate::tenders::tender_url(ctx, tender_id),
                },
            )?;
        }
        // An upheld challenge sets the published result and its award letter aside: the bureau decides again
        // (in rank order, after disqualifying what the challenge showed, or a cancellation) and publishes a
        // new result.
        if input.upheld && matches!(t.state(), State::Publicity | State::Challenge) {
            diesel::update(tenders::table.find(tender_id))
                .set((
                    tenders::award_bid_id.eq(None::<i64>),
                    tenders::publicity_ends.eq(None::<NaiveDateTime>),
                    tenders::challenge_ends.eq(None::<NaiveDateTime>),
                    tenders::result_published_at.eq(None::<NaiveDateTime>),
                ))
                .execute(conn)?;
            move_state(
                conn,
                actor,
                now,
                tender_id,
                t.state(),
                State::Evaluated,
                Some(Note::ResultSetAside),
            )?;
        }
        Ok(())
    })?;
    crate::tenders::advance(conn, ctx, now, tender_id)?;
    Ok(challenges_of(conn, now, tender_id, None)?
        .into_iter()
        .find(|c| c.id == challenge_id)
        .expect("exists"))
}

/// The bureau assesses an open challenge it received: whether it may affect the result (实施条例 Art 54).
/// Marking it as not affecting the result (with a reason) lifts the suspension it caused; marking it as
/// affecting again restores it. Recorded in the timeline and the audit trail.
pub fn assess_challenge(
    conn: &mut DbConn,
    ctx: &Ctx,
    actor: &Actor,
    now: DateTime<Utc>,
    challenge_id: i64,
    input: &ChallengeAssessment,
) -> Result<ChallengeView, AppError> {
    let tender_id: i64 = challenges::table
        .find(challenge_id)
        .select(challenges::tender_id)
        .first(conn)
        .optional()?
        .ok_or(AppError::NotFound)?;
    write_tx(conn, |conn| -> Result<(), AppError> {
        crate::db::lock_row(conn, "tenders", tender_id)?;
        let t = find_row(conn, tender_id)?;
        let (status, before, before_reason): (String, bool, Option<String>) = challenges::table
            .find(challenge_id)
            .select((
                challenges::status,
                challenges::affects_result,
                challenges::assessment,
            ))
            .first(conn)?;
        if status != "open" {
            return Err(AppError::conflict(
                "already_answered",
                "该质疑已答复。",
                "This challenge is already answered.",
            ));
        }
        let assessment = if input.affects_result {
            None
        } else {
            Some(
                crate::error::required_text(
                    "reason",
                    &input.reason,
                    2000,
                    "认定质疑不影响中标/成交结果时须说明理由（最多 2000 字）。",
                    "Give the reason why the challenge cannot affect the result (at most 2000 characters).",
                )?
                .to_string(),
            )
        };
        diesel::update(challenges::table.find(challenge_id))
            .set((
                challenges::affects_result.eq(input.affects_result),
                challenges::assessment.eq(&assessment),
            ))
            .execute(conn)?;
        audit::record(
            conn,
            actor,
            now,
            "challenge.assess",
            "challenge",
            Some(challenge_id.to_string()),
            Some(serde_json::json!({ "affects_result": before, "assessment": before_reason })),
            Some(serde_json::json!({
                "affects_result": input.affects_result,
                "assessment": assessment,
            })),
        )?;
        crate::tenders::log_event(
            conn,
            actor,
            now,
            tender_id,
            Some(t.state()),
            t.state(),
            "tender.challenge_assessed",
            Some(Note::ChallengeAssessed {
                id: challenge_id,
                affects: input.affects_result,
                reason: assessment.clone().unwrap_or_default(),
            }),
        )?;
        Ok(())
    })?;
    crate::tenders::advance(conn, ctx, now, tender_id)?;
    Ok(challenges_of(conn, now, tender_id, None)?
        .into_iter()
        .find(|c| c.id == challenge_id)
        .expect("exists"))
}

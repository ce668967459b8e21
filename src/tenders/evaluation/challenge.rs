//! Challenges to a published result: filed by a bidder, answered by the bureau.

use super::*;

// ---------------------------------------------------------------------------------------------------------
// Challenges (质疑).

#[derive(Deserialize, Serialize, Debug, Clone, utoipa::ToSchema)]
pub struct NewChallenge {
    pub grounds: String,
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
                grounds,
                filed_at,
                answer_due,
                status,
                answer,
                answered_at,
            )| ChallengeView {
                id,
                tender_id,
                organisation_name,
                grounds,
                filed_at,
                overdue: status == "open" && today > answer_due,
                answer_due,
                status,
                answer,
                answered_at,
            },
        )
        .collect())
}

/// A bidder files a challenge during the publicity period or the challenge window; it blocks the award
/// from becoming final until answered.
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
        let t = crate::tenders::visible_row(conn, tender_id, false)?;
        let ts = crate::db::now_micros(now);
        if !matches!(t.state(), State::Publicity | State::Challenge)
            || t.challenge_ends.is_some_and(|e| ts >= e)
        {
            return Err(wrong_state(
                t.state(),
                "只能在结果公示期和质疑期内提出质疑。",
                "challenges are filed during the publicity period and the challenge window.",
            ));
        }
        if !bidder_orgs(conn, tender_id)?.contains(&org_id) {
            return Err(AppError::conflict(
                "not_a_bidder",
                "只有参加本项目投标的组织可以质疑。",
                "Only organisations that bid on this tender may challenge it.",
            ));
        }
        let grounds = input.grounds.trim();
        if grounds.is_empty() || grounds.chars().count() > 5000 {
            return Err(AppError::field(
                "grounds",
                "required",
                "请写明质疑事项和理由（最多 5000 字）。",
                "State the grounds (at most 5000 characters).",
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
            Some(serde_json::json!({ "tender_id": tender_id, "grounds": grounds })),
        )?;
        crate::tenders::log_event(
            conn,
            actor,
            now,
            tender_id,
            Some(t.state()),
            t.state(),
            "tender.challenged",
            Some(format!(
                "收到质疑 #{id}，答复期限 {due} / challenge #{id} filed, answer due {due}"
            )),
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
        let answer = input.answer.trim();
        if answer.is_empty() || answer.chars().count() > 5000 {
            return Err(AppError::field(
                "answer",
                "required",
                "请写明答复和理由（最多 5000 字）。",
                "Give the answer and its reasons (at most 5000 characters).",
            ));
        }
        let outcome = if input.upheld { "upheld" } else { "rejected" };
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
            Some(format!(
                "质疑 #{challenge_id} {} / challenge #{challenge_id} {outcome}",
                if input.upheld { "成立" } else { "不成立" }
            )),
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
                Some("质疑成立，中标结果撤销，须重新确定 / challenge upheld: the result is set aside".into()),
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

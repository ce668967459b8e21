//! Each role's task queue: what waits for the signed-in person, read from the records themselves (nothing is
//! stored twice), with due dates from the rules and the business calendar (`domain::tasks`). The dashboard
//! shows it, oldest first; the navigation shows its length.

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use diesel::prelude::*;

use crate::auth::{CurrentUser, Role};
use crate::clock::beijing_date;
use crate::db::DbConn;
use crate::db::schema::{
    bases, bids, challenges, change_requests, contract_instalments, contracts, enquiries,
    incubations, organisations, panel_members, payments, social_workers, spending_items, tenders,
};
use crate::domain::calendar::BusinessCalendar;
use crate::domain::tasks::{Kind, Task, merge, review_due};
use crate::domain::tender as rules;
use crate::domain::tender::State;
use crate::error::AppError;

/// What the due dates depend on.
#[derive(Clone)]
pub struct Settings {
    pub cal: Arc<BusinessCalendar>,
    /// `SANSHE_REVIEW_WORKING_DAYS`
    pub review_days: u32,
    /// `SANSHE_PAYMENT_DUE_DAYS`
    pub payment_due_days: i64,
}

impl Settings {
    pub fn from_config(c: &crate::config::Config) -> Settings {
        Settings {
            cal: c.calendar.clone(),
            review_days: c.review_working_days,
            payment_due_days: c.payment_due_days,
        }
    }
}

/// A task as the API and the pages show it.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct TaskView {
    /// enquiry, incubation, change_request, worker_check, panel, winner, result_notice, challenge,
    /// contract, signing, declaration, score_sheet, enquiry_answer, bid_result, incubation_decision,
    /// bid_deadline, payment or spending_review
    pub kind: &'static str,
    /// What to do, in the reader's language.
    pub label: &'static str,
    pub subject: String,
    /// The page where it is done.
    pub href: String,
    /// How many such things wait there.
    pub count: usize,
    #[schema(value_type = String)]
    pub since: NaiveDate,
    #[schema(value_type = Option<String>)]
    pub due: Option<NaiveDate>,
    /// The rule that sets the due date, where a regulation does.
    pub rule: Option<&'static str>,
    /// overdue, due_today or waiting
    pub urgency: &'static str,
}

impl TaskView {
    pub fn of(t: &Task, today: NaiveDate, zh: bool) -> TaskView {
        use crate::domain::tasks::Urgency;
        TaskView {
            kind: t.kind.key(),
            label: t.kind.label(zh),
            subject: t.subject.clone(),
            href: t.href.clone(),
            count: t.count,
            since: t.since,
            due: t.due,
            rule: t.kind.rule(zh),
            urgency: match t.urgency(today) {
                Urgency::Overdue => "overdue",
                Urgency::DueToday => "due_today",
                Urgency::Waiting => "waiting",
            },
        }
    }
    pub fn overdue(&self) -> bool {
        self.urgency == "overdue"
    }
}

fn day(t: NaiveDateTime) -> NaiveDate {
    beijing_date(t.and_utc())
}

/// The queue of the caller, oldest first.
pub fn queue(
    conn: &mut DbConn,
    s: &Settings,
    by: &CurrentUser,
    now: DateTime<Utc>,
) -> Result<Vec<Task>, AppError> {
    let today = beijing_date(now);
    let mut out = Vec::new();
    match by.role {
        Role::Bureau | Role::Admin => bureau(conn, s, &mut out)?,
        Role::Evaluator => evaluator(conn, by.id, &mut out)?,
        Role::Org => {
            if let Some(org) = by.org_id {
                organisation(conn, org, now, today, &mut out)?;
            }
        }
        Role::Finance => finance(conn, s, &mut out)?,
    }
    Ok(merge(out))
}

fn tender_task(
    kind: Kind,
    id: i64,
    title: String,
    since: NaiveDate,
    due: Option<NaiveDate>,
) -> Task {
    Task {
        kind,
        subject: title,
        href: format!("/tenders/{id}"),
        since,
        due,
        count: 1,
    }
}

fn bureau(conn: &mut DbConn, s: &Settings, out: &mut Vec<Task>) -> Result<(), AppError> {
    // Enquiries are answered while the tender is published; the answer is of use before bids close.
    for (tid, title, asked, deadline) in enquiries::table
        .inner_join(tenders::table)
        .filter(enquiries::answered_at.is_null())
        .filter(tenders::state.eq(State::Published.as_str()))
        .select((
            tenders::id,
            tenders::title,
            enquiries::asked_at,
            tenders::bid_deadline,
        ))
        .load::<(i64, String, NaiveDateTime, NaiveDateTime)>(conn)?
    {
        out.push(tender_task(
            Kind::Enquiry,
            tid,
            title,
            day(asked),
            Some(day(deadline)),
        ));
    }
    for (id, base, org, group, applied, due) in incubations::table
        .inner_join(bases::table)
        .left_join(organisations::table)
        .filter(incubations::state.eq("applied"))
        .select((
            incubations::id,
            bases::name,
            organisations::name.nullable(),
            incubations::group_name,
            incubations::applied_on,
            incubations::decision_due,
        ))
        .load::<(
            i64,
            String,
            Option<String>,
            Option<String>,
            NaiveDate,
            NaiveDate,
        )>(conn)?
    {
        let who = org.or(group).unwrap_or_default();
        out.push(Task {
            kind: Kind::Incubation,
            subject: format!("{who} · {base}"),
            href: format!("/registry/incubations/{id}"),
            since: applied,
            due: Some(due),
            count: 1,
        });
    }
    for (org, name, at) in change_requests::table
        .inner_join(organisations::table)
        .filter(change_requests::status.eq("pending"))
        .select((
            organisations::id,
            organisations::name,
            change_requests::created_at,
        ))
        .load::<(i64, String, NaiveDateTime)>(conn)?
    {
        out.push(Task {
            kind: Kind::ChangeRequest,
            subject: name,
            href: format!("/registry/changes?status=pending&organisation_id={org}"),
            since: day(at),
            due: Some(review_due(&s.cal, day(at), s.review_days)),
            count: 1,
        });
    }
    for (id, name, org, at) in social_workers::table
        .inner_join(organisations::table)
        .filter(social_workers::verified_at.is_null())
        .select((
            social_workers::id,
            social_workers::name,
            organisations::name,
            social_workers::updated_at,
        ))
        .load::<(i64, String, String, NaiveDateTime)>(conn)?
    {
        out.push(Task {
            kind: Kind::WorkerCheck,
            subject: format!("{name} · {org}"),
            href: format!("/registry/workers/{id}"),
            since: day(at),
            due: Some(review_due(&s.cal, day(at), s.review_days)),
            count: 1,
        });
    }
    // Opened, and no one seated yet.
    for (id, title, opening) in tenders::table
        .filter(tenders::state.eq(State::Opened.as_str()))
        .filter(diesel::dsl::not(diesel::dsl::exists(
            panel_members::table.filter(panel_members::tender_id.eq(tenders::id)),
        )))
        .select((tenders::id, tenders::title, tenders::opening_at))
        .load::<(i64, String, NaiveDateTime)>(conn)?
    {
        out.push(tender_task(Kind::Panel, id, title, day(opening), None));
    }
    for (id, title, evaluated) in tenders::table
        .filter(tenders::state.eq(State::Evaluated.as_str()))
        .select((tenders::id, tenders::title, tenders::evaluated_at))
        .load::<(i64, String, Option<NaiveDateTime>)>(conn)?
    {
        let since = evaluated.map(day);
        out.push(tender_task(
            Kind::Winner,
            id,
            title,
            since.unwrap_or(NaiveDate::MIN),
            since.map(|d| rules::award_due(&s.cal, d)),
        ));
    }
    for (id, title) in tenders::table
        .filter(tenders::state.eq(State::AwardProposed.as_str()))
        .select((tenders::id, tenders::title))
        .load::<(i64, String)>(conn)?
    {
        let named = crate::tenders::named_at(conn, id)?.map(day);
        out.push(tender_task(
            Kind::ResultNotice,
            id,
            title,
            named.unwrap_or(NaiveDate::MIN),
            named.map(|d| rules::result_due(&s.cal, d)),
        ));
    }
    for (id, title, filed, due) in challenges::table
        .inner_join(tenders::table)
        .filter(challenges::status.eq("open"))
        .select((
            tenders::id,
            tenders::title,
            challenges::filed_at,
            challenges::answer_due,
        ))
        .load::<(i64, String, NaiveDateTime, NaiveDate)>(conn)?
    {
        out.push(tender_task(
            Kind::Challenge,
            id,
            title,
            day(filed),
            Some(due),
        ));
    }
    // Awarded, and no contract recorded: the signing clock runs from the award letter (政府采购法 Art 46).
    for (id, title, letter, awarded) in tenders::table
        .filter(tenders::state.eq(State::Awarded.as_str()))
        .filter(diesel::dsl::not(diesel::dsl::exists(
            contracts::table.filter(contracts::tender_id.eq(tenders::id)),
        )))
        .select((
            tenders::id,
            tenders::title,
            tenders::result_published_at,
            tenders::awarded_at,
        ))
        .load::<(i64, String, Option<NaiveDateTime>, Option<NaiveDateTime>)>(conn)?
    {
        let since = letter.or(awarded).map(day).unwrap_or(NaiveDate::MIN);
        out.push(tender_task(
            Kind::Contract,
            id,
            title,
            since,
            Some(rules::sign_due(since)),
        ));
    }
    for (id, title, awarded) in contracts::table
        .filter(contracts::state.eq("draft"))
        .select((contracts::id, contracts::title, contracts::awarded_on))
        .load::<(i64, String, NaiveDate)>(conn)?
    {
        out.push(Task {
            kind: Kind::Signing,
            subject: title,
            href: format!("/contracts/{id}"),
            since: awarded,
            due: Some(rules::sign_due(awarded)),
            count: 1,
        });
    }
    Ok(())
}

fn evaluator(conn: &mut DbConn, user: i64, out: &mut Vec<Task>) -> Result<(), AppError> {
    for (id, title, state, added, declaration, submitted) in panel_members::table
        .inner_join(tenders::table)
        .filter(panel_members::user_id.eq(user))
        .filter(tenders::state.eq_any([State::Opened.as_str(), State::Evaluating.as_str()]))
        .select((
            tenders::id,
            tenders::title,
            tenders::state,
            panel_members::added_at,
            panel_members::declaration,
            panel_members::submitted_at,
        ))
        .load::<(
            i64,
            String,
            String,
            NaiveDateTime,
            Option<String>,
            Option<NaiveDateTime>,
        )>(conn)?
    {
        let kind = match declaration.as_deref() {
            None => Kind::Declaration,
            Some("none") if submitted.is_none() && state == State::Evaluating.as_str() => {
                Kind::ScoreSheet
            }
            _ => continue,
        };
        out.push(tender_task(kind, id, title, day(added), None));
    }
    Ok(())
}

fn organisation(
    conn: &mut DbConn,
    org: i64,
    now: DateTime<Utc>,
    today: NaiveDate,
    out: &mut Vec<Task>,
) -> Result<(), AppError> {
    let now_ts = crate::db::now_micros(now);
    // Answers to its enquiries, while it may still bid.
    for (id, title, answered, deadline) in enquiries::table
        .inner_join(tenders::table)
        .filter(enquiries::organisation_id.eq(org))
        .filter(enquiries::answered_at.is_not_null())
        .filter(tenders::state.eq(State::Published.as_str()))
        .filter(tenders::bid_deadline.gt(now_ts))
        .select((
            tenders::id,
            tenders::title,
            enquiries::answered_at.assume_not_null(),
            tenders::bid_deadline,
        ))
        .load::<(i64, String, NaiveDateTime, NaiveDateTime)>(conn)?
    {
        out.push(tender_task(
            Kind::EnquiryAnswer,
            id,
            title,
            day(answered),
            Some(day(deadline)),
        ));
    }
    use crate::domain::bid::BidStatus;
    // Its bids on tenders still open: the deadline to change or withdraw them.
    for (id, title, submitted, deadline) in bids::table
        .inner_join(tenders::table)
        .filter(bids::organisation_id.eq(org))
        .filter(bids::status.eq(BidStatus::Active.as_str()))
        .filter(tenders::state.eq(State::Published.as_str()))
        .filter(tenders::bid_deadline.gt(now_ts))
        .select((
            tenders::id,
            tenders::title,
            bids::submitted_at,
            tenders::bid_deadline,
        ))
        .load::<(i64, String, NaiveDateTime, NaiveDateTime)>(conn)?
    {
        out.push(tender_task(
            Kind::BidDeadline,
            id,
            title,
            day(submitted),
            Some(day(deadline)),
        ));
    }
    // Results of tenders it took part in (its bid current or set aside; not withdrawn or replaced), while it
    // may still challenge them (政府采购法 Art 52).
    for (id, title, published, ends) in bids::table
        .inner_join(tenders::table)
        .filter(bids::organisation_id.eq(org))
        .filter(bids::status.eq_any([BidStatus::Active.as_str(), BidStatus::Disqualified.as_str()]))
        .filter(tenders::state.eq_any([State::Publicity.as_str(), State::Challenge.as_str()]))
        .select((
            tenders::id,
            tenders::title,
            tenders::result_published_at,
            tenders::challenge_ends,
        ))
        .distinct()
        .load::<(i64, String, Option<NaiveDateTime>, Option<NaiveDateTime>)>(conn)?
    {
        out.push(tender_task(
            Kind::BidResult,
            id,
            title,
            published.map(day).unwrap_or(today),
            ends.map(day),
        ));
    }
    // Decisions on its incubation applications, for the 30 days after the decision.
    for (id, base, decided) in incubations::table
        .inner_join(bases::table)
        .filter(incubations::organisation_id.eq(org))
        .filter(incubations::decided_on.ge(today - chrono::Duration::days(30)))
        .select((incubations::id, bases::name, incubations::decided_on))
        .load::<(i64, String, Option<NaiveDate>)>(conn)?
    {
        out.push(Task {
            kind: Kind::IncubationDecision,
            subject: base,
            href: format!("/registry/incubations/{id}"),
            since: decided.unwrap_or(today),
            due: None,
            count: 1,
        });
    }
    Ok(())
}

fn finance(conn: &mut DbConn, s: &Settings, out: &mut Vec<Task>) -> Result<(), AppError> {
    // Accepted (or due on signing and the contract signed), not yet paid.
    for (cid, title, no, accepted) in contract_instalments::table
        .inner_join(contracts::table)
        .filter(contract_instalments::accepted_on.is_not_null())
        .filter(contracts::state.ne("terminated"))
        .filter(diesel::dsl::not(diesel::dsl::exists(
            payments::table.filter(payments::instalment_id.eq(contract_instalments::id)),
        )))
        .select((
            contracts::id,
            contracts::title,
            contract_instalments::no,
            contract_instalments::accepted_on.assume_not_null(),
        ))
        .load::<(i64, String, i32, NaiveDate)>(conn)?
    {
        out.push(Task {
            kind: Kind::Payment,
            subject: format!("{title} · #{no}"),
            href: format!("/contracts/{cid}"),
            since: accepted,
            due: Some(accepted + chrono::Duration::days(s.payment_due_days)),
            count: 1,
        });
    }
    for (cid, title, created, answered) in spending_items::table
        .inner_join(contracts::table)
        .filter(spending_items::state.eq_any(["submitted", "answered"]))
        .select((
            contracts::id,
            contracts::title,
            spending_items::created_at,
            spending_items::answered_at,
        ))
        .load::<(i64, String, NaiveDateTime, Option<NaiveDateTime>)>(conn)?
    {
        let since = day(answered.unwrap_or(created));
        out.push(Task {
            kind: Kind::SpendingReview,
            subject: title,
            href: format!("/contracts/{cid}/spending"),
            since,
            due: Some(review_due(&s.cal, since, s.review_days)),
            count: 1,
        });
    }
    Ok(())
}

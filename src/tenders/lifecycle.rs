//! The life cycle: timeline rows, publish, cancel, and the clock's transitions (advance). A tender becomes
//! `contracted` when its contract is signed (`crate::contracts::sign`).

use super::*;

/// Append a timeline row and the audit event of a state change.
#[expect(
    clippy::too_many_arguments,
    reason = "one timeline row: each argument is a column of it"
)]
pub fn log_event(
    conn: &mut DbConn,
    actor: &Actor,
    now: DateTime<Utc>,
    id: i64,
    from: Option<State>,
    to: State,
    action: &str,
    note: Option<Note>,
) -> QueryResult<()> {
    let stored = note.as_ref().map(Note::stored);
    diesel::insert_into(tender_events::table)
        .values((
            tender_events::tender_id.eq(id),
            tender_events::at.eq(crate::db::now_micros(now)),
            tender_events::from_state.eq(from.map(|s| s.as_str())),
            tender_events::to_state.eq(to.as_str()),
            tender_events::note.eq(&stored),
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
    note: Option<Note>,
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
    // The tender's budget follows it: reserved at publication, released at the award or the end.
    crate::ledger::tenders::on_move(conn, actor, now, id, to)?;
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
        super::single_source::check_deadline(
            &mut c,
            ctx,
            t.method(),
            t.budget_fen,
            now,
            t.bid_deadline,
        );
        if let Some((from, until)) = documents_of(conn, id)? {
            super::push_broken(
                &mut c,
                rules::check_documents_period(
                    t.method(),
                    &ctx.cal,
                    from,
                    until,
                    Some(today(now)),
                    today(t.bid_deadline.and_utc()),
                ),
            );
        }
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
        // A single source at or above the open-tender threshold starts its 公示 now (实施条例 Art 38).
        super::single_source::start_notice(conn, ctx, now, &t)?;
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
            .set(tenders::end_reason.eq(Note::said(reason).stored()))
            .execute(conn)?;
        move_state(
            conn,
            actor,
            now,
            id,
            t.state(),
            State::Cancelled,
            Some(Note::said(reason)),
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
    advance_moved(conn, ctx, now, id).map(|_| ())
}

/// [`advance`], saying whether the tender moved (an opening held by a challenge does not).
fn advance_moved(
    conn: &mut DbConn,
    ctx: &Ctx,
    now: DateTime<Utc>,
    id: i64,
) -> Result<bool, AppError> {
    let ts = crate::db::now_micros(now);
    // A plain read first: most accesses find nothing due and should not take the write lock.
    let Some(t) = tenders::table
        .find(id)
        .select(TenderRow::as_select())
        .first(conn)
        .optional()?
    else {
        return Ok(false);
    };
    if !due_now(&t, ts) || opening_held_and_said(conn, &t)? {
        return Ok(false);
    }
    let mut any = false;
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
                    // An open challenge against the documents that may affect the result holds the
                    // opening until answered (实施条例 Art 54); the timeline says so once.
                    if let Some(cid) =
                        evaluation::suspension(conn, id, rules::Suspendable::Opening)?
                    {
                        if !opening_held_and_said(conn, &t)? {
                            log_event(
                                conn,
                                &actor,
                                now,
                                id,
                                Some(State::Closed),
                                State::Closed,
                                "tender.opening_suspended",
                                Some(held_note(cid)),
                            )?;
                        }
                        return Ok(false);
                    }
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
            return Ok(any);
        }
        any = true;
    }
}

/// The timeline note of an opening held by a challenge.
fn held_note(cid: i64) -> Note {
    Note::OpeningHeld { challenge: cid }
}

/// Whether a closed tender past its opening time is held by a challenge and its timeline already says so
/// (then there is nothing to write: the scheduler passes by without taking the write lock).
fn opening_held_and_said(conn: &mut DbConn, t: &TenderRow) -> Result<bool, AppError> {
    if t.state() != State::Closed {
        return Ok(false);
    }
    let Some(cid) = evaluation::suspension(conn, t.id, rules::Suspendable::Opening)? else {
        return Ok(false);
    };
    let held = held_note(cid);
    let (zh, en) = (held.text(true), held.text(false));
    let said: i64 = tender_events::table
        .filter(tender_events::tender_id.eq(t.id))
        // The note as stored now, or as earlier versions wrote it (both texts; one text "中文 / English").
        .filter(
            tender_events::note.eq_any([
                held.stored(),
                Note::Legacy {
                    code: "opening_held".into(),
                    zh: zh.clone(),
                    en: en.clone(),
                }
                .stored(),
                format!("{zh} / {}", en.replacen('O', "o", 1)),
            ]),
        )
        .count()
        .get_result(conn)?;
    Ok(said > 0)
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

/// Advance every due tender (the scheduler, and every tender list); returns how many moved.
pub fn advance_due(conn: &mut DbConn, ctx: &Ctx, now: DateTime<Utc>) -> Result<usize, AppError> {
    let mut moved = 0;
    for id in due(conn, now)? {
        moved += usize::from(advance_moved(conn, ctx, now, id)?);
    }
    Ok(moved)
}

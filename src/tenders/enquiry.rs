//! Enquiries about a published tender: asked by organisations, answered by the bureau.

use super::*;

// ---------------------------------------------------------------------------------------------------------
// Enquiries.

/// A clarification (an answer, or a change of the documents) published less than its method's notice
/// before the bid deadline moves the deadline and the opening by as much (87号令 Art 27; 74号令 Art 29),
/// recorded on the timeline. Inside the caller's write transaction; the new deadline when it moved.
fn move_deadline(
    conn: &mut DbConn,
    ctx: &Ctx,
    actor: &Actor,
    now: DateTime<Utc>,
    t: &TenderRow,
) -> Result<Option<NaiveDateTime>, AppError> {
    let method = t.method();
    let Some(moved) = rules::moved_deadline(
        method,
        &ctx.cal,
        crate::clock::shanghai(),
        now,
        t.bid_deadline.and_utc(),
    ) else {
        return Ok(None);
    };
    let ts = crate::db::now_micros(now);
    let moved = crate::db::now_micros(moved);
    let shift = moved - t.bid_deadline;
    diesel::update(tenders::table.find(t.id))
        .set((
            tenders::bid_deadline.eq(moved),
            tenders::opening_at.eq(t.opening_at + shift),
            tenders::enquiry_deadline.eq(t.enquiry_deadline.max(ts)),
            tenders::updated_at.eq(ts),
        ))
        .execute(conn)?;
    let note = Note::DeadlineMoved {
        method,
        deadline: crate::clock::display(moved),
        opening: crate::clock::display(t.opening_at + shift),
    };
    log_event(
        conn,
        actor,
        now,
        t.id,
        Some(State::Published),
        State::Published,
        "tender.deadline_moved",
        Some(note),
    )?;
    Ok(Some(moved))
}

/// Whether a published tender takes a clarification or change of its documents now: while bidding is
/// open (87号令 Art 27: before the deadline, to every bidder), else 409 `not_accepting_clarifications`.
pub fn may_clarify(conn: &mut DbConn, now: DateTime<Utc>, tender_id: i64) -> Result<(), AppError> {
    let t = find_row(conn, tender_id)?;
    if t.state() == State::Published && crate::db::now_micros(now) < t.bid_deadline {
        return Ok(());
    }
    Err(AppError::conflict(
        "not_accepting_clarifications",
        format!(
            "项目处于“{}”状态：澄清或修改只能在投标截止前发布（87号令第二十七条）；草稿请直接添加采购文件。",
            t.state().label(true)
        ),
        format!(
            "The tender is {}: a clarification or change is published before the bid deadline (87号令 Art 27); a draft takes documents directly.",
            t.state().label(false).to_lowercase()
        ),
    ))
}

/// Publish a clarification or change of a published tender's documents (澄清或者修改, 87号令 Art 27): the
/// file (public at once) with the bureau's note of what changed, on the timeline; the deadline and the
/// opening move when it comes late ([`move_deadline`]); every organisation that bid or asked is told.
#[expect(
    clippy::too_many_arguments,
    reason = "a service call: connection, context, actor, caller, time, tender, note and file"
)]
pub fn clarify(
    conn: &mut DbConn,
    ctx: &Ctx,
    actor: &Actor,
    user_id: i64,
    now: DateTime<Utc>,
    tender_id: i64,
    note: &str,
    f: &crate::files::Received,
) -> Result<crate::files::FileRow, AppError> {
    advance(conn, ctx, now, tender_id)?;
    write_tx(conn, |conn| {
        crate::db::lock_chain(conn, bids::tender_lock(tender_id))?;
        let mut c = Checks::new();
        text(&mut c, "note", note, 2000);
        c.finish()?;
        may_clarify(conn, now, tender_id)?;
        let t = find_row(conn, tender_id)?;
        let to = crate::files::Attach {
            purpose: crate::files::Purpose::TenderAmendment,
            record_id: tender_id,
            uploaded_by: user_id,
        };
        let row = crate::files::insert(conn, actor, now, f, to)?;
        let said = Note::Clarified {
            file: row.name.clone(),
            text: note.trim().to_string(),
        };
        log_event(
            conn,
            actor,
            now,
            tender_id,
            Some(State::Published),
            State::Published,
            "tender.clarified",
            Some(said),
        )?;
        let new_deadline = move_deadline(conn, ctx, actor, now, &t)?;
        let mut orgs = bids::active_bidders(conn, tender_id)?;
        orgs.extend(
            enquiries::table
                .filter(enquiries::tender_id.eq(tender_id))
                .select(enquiries::organisation_id)
                .load::<i64>(conn)?,
        );
        orgs.sort_unstable();
        orgs.dedup();
        for (name, email) in contacts(conn, &orgs)? {
            crate::mail::enqueue(
                conn,
                now,
                &email,
                &mails::TenderClarified {
                    organisation: name,
                    code: t.code.clone(),
                    title: t.title.clone(),
                    note: note.trim().to_string(),
                    file: row.name.clone(),
                    new_deadline: new_deadline.map(crate::clock::display),
                    url: tender_url(ctx, tender_id),
                },
            )?;
        }
        Ok(row)
    })
}

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

/// Which page of a tender's enquiries to show (`page`, `per_page` as every list).
#[derive(Debug, Default, Clone, Deserialize, Serialize, utoipa::IntoParams)]
// An unknown parameter is refused (400 naming it), not silently ignored.
#[serde(deny_unknown_fields)]
pub struct EnquiryFilter {
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

type EnquiryRow = (
    i64,
    i64,
    String,
    NaiveDateTime,
    Option<String>,
    Option<NaiveDateTime>,
    String,
);

/// The columns an [`EnquiryRow`] is read from (enquiries joined with organisations): one list for every
/// query that reads enquiries to show.
fn row_columns() -> (
    enquiries::id,
    enquiries::organisation_id,
    enquiries::question,
    enquiries::asked_at,
    enquiries::answer,
    enquiries::answered_at,
    organisations::name,
) {
    (
        enquiries::id,
        enquiries::organisation_id,
        enquiries::question,
        enquiries::asked_at,
        enquiries::answer,
        enquiries::answered_at,
        organisations::name,
    )
}

fn enquiry_view(row: EnquiryRow, tender_id: i64, staff: bool, own_org: Option<i64>) -> EnquiryView {
    let (id, org, question, asked_at, answer, answered_at, name) = row;
    let mine = own_org == Some(org);
    EnquiryView {
        id,
        tender_id,
        question,
        asked_at,
        answer,
        answered_at,
        organisation_name: (staff || mine).then_some(name),
        mine,
    }
}

/// A page of a tender's enquiries, newest first: answered ones for everyone, plus an organisation's own
/// unanswered ones, or all of them with the asker for the bureau and administrators. The filter is in the
/// query and the page is read through the index on (tender, id) (answered ones: a partial index), so a
/// page costs the same after five or five thousand enquiries.
pub fn enquiries_page(
    conn: &mut DbConn,
    tender_id: i64,
    staff: bool,
    own_org: Option<i64>,
    paging: crate::db::Paging,
) -> Result<crate::db::Paged<EnquiryView>, AppError> {
    let build = || {
        let mut q = enquiries::table
            .filter(enquiries::tender_id.eq(tender_id))
            .into_boxed();
        if !staff {
            q = match own_org {
                Some(o) => q.filter(
                    enquiries::answer
                        .is_not_null()
                        .or(enquiries::organisation_id.eq(o)),
                ),
                None => q.filter(enquiries::answer.is_not_null()),
            };
        }
        q
    };
    let total: i64 = build().count().get_result(conn)?;
    let page: Vec<(i64, i64)> = build()
        .order(enquiries::id.desc())
        .offset(paging.offset())
        .limit(paging.limit())
        .select((enquiries::id, enquiries::organisation_id))
        .load(conn)?;
    let ids: Vec<i64> = page.iter().map(|(id, _)| *id).collect();
    let rows: Vec<EnquiryRow> = enquiries::table
        .inner_join(organisations::table)
        .filter(enquiries::id.eq_any(&ids))
        .order(enquiries::id.desc())
        .select(row_columns())
        .load(conn)?;
    let items = rows
        .into_iter()
        .map(|r| enquiry_view(r, tender_id, staff, own_org))
        .collect();
    Ok(paging.of(items, total))
}

/// One enquiry as `enquiry_view` shows it (the caller already may see it).
fn one_enquiry(
    conn: &mut DbConn,
    id: i64,
    staff: bool,
    own_org: Option<i64>,
) -> Result<EnquiryView, AppError> {
    let (tender_id, row): (i64, EnquiryRow) = enquiries::table
        .inner_join(organisations::table)
        .filter(enquiries::id.eq(id))
        .select((enquiries::tender_id, row_columns()))
        .first(conn)?;
    Ok(enquiry_view(row, tender_id, staff, own_org))
}

/// How many enquiries the organisation asked about the tender on the Beijing day of `now`: read through
/// the index on (tender, organisation, asked_at), so at most the day's limit of rows.
pub fn asked_today(
    conn: &mut DbConn,
    tender_id: i64,
    org_id: i64,
    now: DateTime<Utc>,
) -> QueryResult<i64> {
    let (start, end) = crate::clock::beijing_day_bounds(crate::clock::beijing_date(now));
    enquiries::table
        .filter(enquiries::tender_id.eq(tender_id))
        .filter(enquiries::organisation_id.eq(org_id))
        .filter(enquiries::asked_at.ge(start))
        .filter(enquiries::asked_at.lt(end))
        .count()
        .get_result(conn)
}

/// The refusal past the daily limit: 429 with `Retry-After` to Beijing midnight, naming the rule.
fn limit_reached(limit: u32, now: DateTime<Utc>) -> AppError {
    AppError::Limited {
        code: "enquiries_per_day",
        msg: Msg::new(
            format!(
                "每个机构每天对同一项目最多提问 {limit} 次，今天的次数已用完；请于北京时间明天 0 点后再提问。"
            ),
            format!(
                "An organisation may ask at most {limit} enquiries a day about one tender; today's are used up. Ask again after midnight Beijing time."
            ),
        ),
        retry_after: crate::clock::seconds_to_beijing_midnight(now),
    }
}

/// An organisation asks, before the enquiry deadline.
#[expect(
    clippy::too_many_arguments,
    reason = "a service call: connection, context, actor, caller, clock and input are each needed and distinct"
)]
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
        // The organisation's enquiries are counted under its row lock (SQLite: the write lock), so two
        // at once cannot both take the last one of the day.
        crate::db::lock_row(conn, "organisations", org_id)?;
        let limit = ctx.rules.enquiries_per_day;
        if asked_today(conn, tender_id, org_id, now)? >= i64::from(limit) {
            return Err(limit_reached(limit, now));
        }
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
    one_enquiry(conn, id, false, Some(org_id))
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
        let new_deadline = move_deadline(conn, ctx, actor, now, &t)?;
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
    one_enquiry(conn, enquiry_id, true, None)
}

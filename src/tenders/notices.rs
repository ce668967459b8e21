//! Reading tenders: the timeline, the view of a tender, one or a filtered list, and the counts by state.

use super::*;

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
    let rows = tender_events::table
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
        )>(conn)?;
    // The event keeps who acted by login name (the audit trail has the rest); the timeline says only their
    // role. A name without a user is the service itself (the scheduler, the command line).
    let names: Vec<&String> = rows.iter().map(|r| &r.4).collect();
    let roles: std::collections::HashMap<String, String> = crate::db::schema::users::table
        .filter(crate::db::schema::users::username.eq_any(names))
        .select((
            crate::db::schema::users::username,
            crate::db::schema::users::role,
        ))
        .load::<(String, String)>(conn)?
        .into_iter()
        .collect();
    Ok(rows
        .into_iter()
        .map(|(at, from_state, to_state, note, actor_name)| {
            let s = State::parse(&to_state);
            let role = roles
                .get(&actor_name)
                .and_then(|r| crate::auth::Role::parse(r));
            let note = note.as_deref().map(|n| Note::read(n).worded());
            TimelineEntry {
                at,
                from_state,
                note_code: note.as_ref().map(|n| n.code.clone()),
                note_zh: note.as_ref().map(|n| n.zh.clone()),
                note_en: note.map(|n| n.en),
                to_label_zh: s.map(|s| s.label(true)).unwrap_or("").into(),
                to_label_en: s.map(|s| s.label(false)).unwrap_or("").into(),
                to_state,
                actor: PublicActor::of_role(role),
            }
        })
        .collect())
}

pub fn to_view(conn: &mut DbConn, ctx: &Ctx, t: TenderRow) -> Result<TenderView, AppError> {
    let documents = documents_of(conn, t.id)?;
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
    let day = |at: Option<NaiveDateTime>| at.map(|a| crate::clock::beijing_date(a.and_utc()));
    // The award's deadlines while they run (实施条例 Art 43; 87号令 Art 69).
    let award_due = day(t.evaluated_at)
        .filter(|_| state == State::Evaluated)
        .map(|d| rules::award_due(&ctx.cal, d));
    let result_due = if state == State::AwardProposed {
        day(crate::tenders::named_at(conn, t.id)?).map(|d| rules::result_due(&ctx.cal, d))
    } else {
        None
    };
    // 实施条例 Art 54: what an open challenge that may affect the result holds now.
    let step = match state {
        State::Published | State::Closed => Some(rules::Suspendable::Opening),
        s if s.opened_not_final() || s == State::Awarded => Some(rules::Suspendable::Award),
        _ => None,
    };
    let suspended = match step {
        Some(step) => evaluation::suspension(conn, t.id, step)?.map(|id| Suspension::new(id, step)),
        None => None,
    };
    Ok(TenderView {
        id: t.id,
        suspended,
        award_due,
        result_due,
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
        award_refusals: evaluation::refusals_of(conn, t.id)?,
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
        documents_from: documents.map(|d| d.0),
        documents_until: documents.map(|d| d.1),
        publicity_ends: t.publicity_ends,
        challenge_ends: t.challenge_ends,
        contract_signed_on: t.contract_signed_on,
        end_reason: t.end_reason.as_deref().map(|s| Note::read(s).both()),
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
) -> Result<crate::db::Paged<TenderSummary>, AppError> {
    advance_due(conn, ctx, now)?;
    let paging = crate::db::Paging::new(f.page, f.per_page);
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
        .offset(paging.offset())
        .limit(paging.limit())
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
    Ok(paging.of(items, total))
}

/// The open tenders an organisation may bid on now: every eligibility rule passes (`bids::refusals`, the
/// rule the bid itself meets), among those matching the filter's search, field and street; newest first,
/// paged. At most the 100 newest open tenders are considered (a district has a handful at a time).
pub fn biddable(
    conn: &mut DbConn,
    ctx: &Ctx,
    now: DateTime<Utc>,
    org_id: i64,
    f: &TenderFilter,
) -> Result<crate::db::Paged<TenderSummary>, AppError> {
    let open = TenderFilter {
        state: Some("open".into()),
        page: Some(1),
        per_page: Some(100),
        ..f.clone()
    };
    let mut items = Vec::new();
    for t in list(conn, ctx, now, &open, false)?.items {
        let row = find_row(conn, t.id)?;
        if super::bids::refusals(conn, ctx, &row, org_id, super::today(now))?.is_empty() {
            items.push(t);
        }
    }
    Ok(crate::db::Paging::new(f.page, f.per_page).slice(items))
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

/// Tender counts by state, for dashboards.
pub fn counts_by_state(conn: &mut DbConn) -> QueryResult<Vec<(String, i64)>> {
    use diesel::dsl::count_star;
    tenders::table
        .group_by(tenders::state)
        .select((tenders::state, count_star()))
        .load(conn)
}

//! 单一来源 (政府采购法 Art 31; 实施条例 Art 38; 财政部令第74号 Art 38–42): the ground and explanation a draft
//! carries; at or above the open-tender threshold the 公示 that publication starts (at least 5 working
//! days), objections (异议) lodged by any signed-in organisation during it and the bureau's answers; the
//! supplier's response waits until the procurement may proceed ([`refusal`], read by
//! `bids::refusals`); after the opening the negotiation record (协商情况记录) replaces the panel and moves
//! the tender to evaluated; the award then carries the agreed price
//! (`evaluation::negotiation::award_price`). An upheld objection cancels the tender at once, with the
//! answer as the reason: the single source may not go on, and nothing else is left for the bureau to decide.
//! Rules in `domain::tender::single_source`.

use super::*;
use crate::db::schema::{
    bids as bt, single_source_notices as ssn, single_source_objections as sso,
    single_source_records as ssr,
};
use crate::domain::money::Fen;
use crate::domain::tender::{Ground, Proceed};

/// An objection to a single-source 公示.
#[derive(Deserialize, Serialize, Debug, Clone, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewObjection {
    /// Why (required, at most 1,000 characters).
    pub reason: String,
}

/// The bureau's answer to an objection.
#[derive(Deserialize, Serialize, Debug, Clone, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ObjectionAnswer {
    /// The answer (required, at most 2,000 characters).
    pub answer: String,
    /// True: the objection stands and the single source may not go on: the tender is cancelled with the
    /// answer as its reason.
    pub upheld: bool,
}

/// The negotiation record (协商情况记录, 74号令 Art 42).
#[derive(Deserialize, Serialize, Debug, Clone, Default, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordInput {
    /// The day of the negotiation, `YYYY-MM-DD` (Beijing); not after today.
    pub negotiated_on: String,
    pub place: String,
    /// The procurement staff present, by name: at least 2 different people.
    pub staff: Vec<String>,
    /// The supplier's explanation of its cost and price.
    pub cost_explanation: String,
    /// The main contract terms agreed.
    pub terms: String,
    /// The agreed price, yuan (at most two decimals): at most the supplier's response price and the budget.
    pub price: String,
}

#[derive(Serialize, Debug, Clone, utoipa::ToSchema)]
pub struct ObjectionView {
    pub n: i64,
    /// The objecting organisation: for the bureau, administrators and that organisation only; `null`
    /// for everyone else, who see "供应商/单位".
    pub objector: Option<String>,
    /// The caller's own organisation lodged it.
    pub own: bool,
    #[schema(value_type = String)]
    pub filed_at: NaiveDateTime,
    pub reason: String,
    pub answer: Option<String>,
    /// `null` until answered.
    pub upheld: Option<bool>,
    #[schema(value_type = Option<String>)]
    pub answered_at: Option<NaiveDateTime>,
}

#[derive(Serialize, Debug, Clone, utoipa::ToSchema)]
pub struct RecordView {
    #[schema(value_type = String)]
    pub negotiated_on: NaiveDate,
    pub place: String,
    pub staff: Vec<String>,
    pub cost_explanation: String,
    pub terms: String,
    /// The agreed price, yuan, two decimals.
    pub price: String,
    pub price_fen: i64,
    /// The supplier's response price, yuan.
    pub response_price: Option<String>,
    #[schema(value_type = String)]
    pub recorded_at: NaiveDateTime,
}

/// A single source as its readers see it: the supplier, the ground, the 公示 and its objections, the record.
#[derive(Serialize, Debug, Clone, utoipa::ToSchema)]
pub struct SingleSourceView {
    pub tender_id: i64,
    /// Whether the tender is a single source; for other methods everything below is empty.
    pub single_source: bool,
    pub supplier: Option<Named>,
    /// `only_supplier`, `emergency` or `consistency` (政府采购法 Art 31).
    pub ground: Option<Ground>,
    pub ground_label_zh: String,
    pub ground_label_en: String,
    pub explanation: String,
    /// Whether the budget needs a 公示 (at or above the open-tender threshold, 实施条例 Art 38).
    pub notice_needed: bool,
    #[schema(value_type = Option<String>)]
    pub notice_starts: Option<NaiveDateTime>,
    /// The 公示 ends at this instant (the midnight after its 5th working day).
    #[schema(value_type = Option<String>)]
    pub notice_ends: Option<NaiveDateTime>,
    /// Objections may be lodged now.
    pub objections_open: bool,
    /// What still holds the response back: `notice_running`, `objection_unanswered`, `objection_upheld`,
    /// or `null` when the procurement may proceed.
    pub waiting_for: Option<String>,
    pub objections: Vec<ObjectionView>,
    /// The negotiation record: the bureau, administrators and the supplier.
    pub record: Option<RecordView>,
}

/// Who reads a single source: staff see objectors; an organisation sees its own.
#[derive(Clone, Copy, Debug)]
pub enum Reader {
    Staff,
    Org(i64),
    Public,
}

/// (n, organisation, its name, filed, reason, answer, upheld, answered).
type ObjectionRow = (
    i64,
    i64,
    String,
    NaiveDateTime,
    String,
    Option<String>,
    Option<bool>,
    Option<NaiveDateTime>,
);

#[derive(Queryable, Debug, Clone)]
struct NoticeRow {
    ground: String,
    explanation: String,
    notice_starts: Option<NaiveDateTime>,
    notice_ends: Option<NaiveDateTime>,
}

fn notice_of(conn: &mut DbConn, id: i64) -> QueryResult<Option<NoticeRow>> {
    ssn::table
        .find(id)
        .select((
            ssn::ground,
            ssn::explanation,
            ssn::notice_starts,
            ssn::notice_ends,
        ))
        .first(conn)
        .optional()
}

/// The ground and explanation of a draft, as stored (for the edit form).
pub fn draft_terms(conn: &mut DbConn, id: i64) -> QueryResult<(Option<String>, Option<String>)> {
    Ok(match notice_of(conn, id)? {
        Some(n) => (Some(n.ground), Some(n.explanation)),
        None => (None, None),
    })
}

/// Store a draft's ground and explanation (single source only; other methods keep none).
pub(super) fn set_draft(
    conn: &mut DbConn,
    id: i64,
    method: Method,
    input: &TenderInput,
) -> QueryResult<()> {
    diesel::delete(ssn::table.find(id)).execute(conn)?;
    if method == Method::SingleSource {
        diesel::insert_into(ssn::table)
            .values((
                ssn::tender_id.eq(id),
                ssn::ground.eq(input.single_source_ground.as_deref().unwrap_or("").trim()),
                ssn::explanation.eq(input
                    .single_source_explanation
                    .as_deref()
                    .unwrap_or("")
                    .trim()),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// Whether this tender has a 公示 (a single source at or above the open-tender threshold).
pub fn needs_notice(ctx: &Ctx, method: Method, budget_fen: i64) -> bool {
    method == Method::SingleSource && rules::needs_notice(Fen::new(budget_fen), &ctx.rules)
}

/// The end of a 公示 started at `now`: midnight after its 5th working day (实施条例 Art 38).
pub fn notice_end(ctx: &Ctx, now: DateTime<Utc>) -> NaiveDateTime {
    working_days_end(&ctx.cal, now, rules::NOTICE_WORKING_DAYS)
}

/// The bid deadline of a single source with a 公示 may not come before the 公示 ends (it starts at
/// publication, here `now`).
pub(super) fn check_deadline(
    checks: &mut Checks,
    ctx: &Ctx,
    method: Method,
    budget_fen: i64,
    now: DateTime<Utc>,
    deadline: NaiveDateTime,
) {
    if !needs_notice(ctx, method, budget_fen) {
        return;
    }
    let end = notice_end(ctx, now);
    if deadline < end {
        let shown = crate::clock::display(end);
        checks.add(
            "bid_deadline",
            "after_notice",
            format!("单一来源公示期（至少 5 个工作日，至 {shown}）结束前不能截止响应（政府采购法实施条例第三十八条）。"),
            format!("The response deadline cannot come before the single-source notice ends (at least 5 working days, until {shown}; Implementing Regulations Art 38)."),
        );
    }
}

/// Start the 公示 at publication, when the tender needs one.
pub(super) fn start_notice(
    conn: &mut DbConn,
    ctx: &Ctx,
    now: DateTime<Utc>,
    t: &TenderRow,
) -> QueryResult<()> {
    if needs_notice(ctx, t.method(), t.budget_fen) {
        diesel::update(ssn::table.find(t.id))
            .set((
                ssn::notice_starts.eq(crate::db::now_micros(now)),
                ssn::notice_ends.eq(notice_end(ctx, now)),
            ))
            .execute(conn)?;
    }
    Ok(())
}

fn answers(conn: &mut DbConn, id: i64) -> QueryResult<Vec<Option<bool>>> {
    sso::table
        .filter(sso::tender_id.eq(id))
        .select(sso::upheld)
        .load(conn)
}

/// Where a published single source stands ([`rules::may_proceed`]); `Yes` for every other tender.
pub fn proceed(
    conn: &mut DbConn,
    ctx: &Ctx,
    t: &TenderRow,
    today: NaiveDate,
) -> QueryResult<(Proceed, Option<NaiveDateTime>)> {
    if !needs_notice(ctx, t.method(), t.budget_fen) || t.state() == State::Draft {
        return Ok((Proceed::Yes, None));
    }
    let ends = notice_of(conn, t.id)?.and_then(|n| n.notice_ends);
    // The notice ends at a Beijing midnight: over from that day on.
    let over = ends.is_some_and(|e| crate::clock::beijing_date(e.and_utc()) <= today);
    Ok((rules::may_proceed(over, &answers(conn, t.id)?), ends))
}

/// Why the supplier's response is refused now (公示 running, an objection unanswered or upheld), or none.
pub fn refusal(
    conn: &mut DbConn,
    ctx: &Ctx,
    t: &TenderRow,
    today: NaiveDate,
) -> QueryResult<Option<FieldError>> {
    let (p, ends) = proceed(conn, ctx, t, today)?;
    let shown = ends.map(crate::clock::display).unwrap_or_default();
    Ok(p.refusal(&shown)
        .map(|b| FieldError::new(&b.field, b.rule, b.zh, b.en)))
}

fn not_single_source() -> AppError {
    AppError::conflict(
        "not_single_source",
        "只有单一来源项目有公示、异议和协商记录。",
        "Only a single source has a notice, objections and a negotiation record.",
    )
}

/// The single-source view for `reader`; for other methods an empty view (`single_source: false`).
pub fn view(
    conn: &mut DbConn,
    ctx: &Ctx,
    now: DateTime<Utc>,
    tender_id: i64,
    reader: Reader,
) -> Result<SingleSourceView, AppError> {
    advance(conn, ctx, now, tender_id)?;
    let t = visible_row(conn, tender_id, matches!(reader, Reader::Staff))?;
    let single_source = t.method() == Method::SingleSource;
    let n = notice_of(conn, tender_id)?;
    let supplier_id = t.invited().first().copied().filter(|_| single_source);
    let supplier = match supplier_id {
        Some(s) => organisations::table
            .find(s)
            .select(organisations::name)
            .first::<String>(conn)
            .optional()?
            .map(|name| Named { id: s, name }),
        None => None,
    };
    let ground = n.as_ref().and_then(|n| Ground::parse(&n.ground));
    let (p, _) = proceed(conn, ctx, &t, today(now))?;
    let notice_ends = n.as_ref().and_then(|n| n.notice_ends);
    let rows: Vec<ObjectionRow> = sso::table
        .inner_join(organisations::table)
        .filter(sso::tender_id.eq(tender_id))
        .order(sso::id)
        .select((
            sso::id,
            sso::organisation_id,
            organisations::name,
            sso::filed_at,
            sso::reason,
            sso::answer,
            sso::upheld,
            sso::answered_at,
        ))
        .load(conn)?;
    let objections = rows
        .into_iter()
        .map(
            |(id, org, name, filed_at, reason, answer, upheld, answered_at)| {
                let own = matches!(reader, Reader::Org(o) if o == org);
                ObjectionView {
                    n: id,
                    objector: (own || matches!(reader, Reader::Staff)).then_some(name),
                    own,
                    filed_at,
                    reason,
                    answer,
                    upheld,
                    answered_at,
                }
            },
        )
        .collect();
    let record_readable = match reader {
        Reader::Staff => true,
        Reader::Org(o) => Some(o) == supplier_id,
        Reader::Public => false,
    };
    let record = if record_readable {
        record_of(conn, tender_id)?
    } else {
        None
    };
    let state = t.state();
    Ok(SingleSourceView {
        tender_id,
        single_source,
        supplier,
        ground,
        ground_label_zh: ground.map(|g| g.label(true)).unwrap_or("").into(),
        ground_label_en: ground.map(|g| g.label(false)).unwrap_or("").into(),
        explanation: n
            .as_ref()
            .map(|n| n.explanation.clone())
            .unwrap_or_default(),
        notice_needed: needs_notice(ctx, t.method(), t.budget_fen),
        notice_starts: n.as_ref().and_then(|n| n.notice_starts),
        notice_ends,
        objections_open: state == State::Published
            && notice_ends.is_some_and(|e| crate::db::now_micros(now) < e),
        waiting_for: (state == State::Published)
            .then(|| p.refusal("").map(|b| b.rule.to_string()))
            .flatten(),
        objections,
        record,
    })
}

fn record_of(conn: &mut DbConn, tender_id: i64) -> Result<Option<RecordView>, AppError> {
    let row: Option<(
        NaiveDate,
        String,
        String,
        String,
        String,
        i64,
        NaiveDateTime,
    )> = ssr::table
        .find(tender_id)
        .select((
            ssr::negotiated_on,
            ssr::place,
            ssr::staff,
            ssr::cost_explanation,
            ssr::terms,
            ssr::price_fen,
            ssr::recorded_at,
        ))
        .first(conn)
        .optional()?;
    let Some((negotiated_on, place, staff, cost_explanation, terms, price_fen, recorded_at)) = row
    else {
        return Ok(None);
    };
    let response: Option<i64> = bt::table
        .filter(bt::tender_id.eq(tender_id))
        .filter(bt::status.eq("active"))
        .filter(bt::price_fen.is_not_null())
        .select(bt::price_fen)
        .first::<Option<i64>>(conn)
        .optional()?
        .flatten();
    Ok(Some(RecordView {
        negotiated_on,
        place,
        staff: serde_json::from_str(&staff).unwrap_or_default(),
        cost_explanation,
        terms,
        price: crate::money::yuan(price_fen),
        price_fen,
        response_price: response.map(crate::money::yuan),
        recorded_at,
    }))
}

/// The agreed price of a single source's record, the award's price ([`crate::tenders::evaluation::negotiation::award_price`]).
pub fn agreed_price(conn: &mut DbConn, tender_id: i64) -> QueryResult<Option<Fen>> {
    Ok(ssr::table
        .find(tender_id)
        .select(ssr::price_fen)
        .first::<i64>(conn)
        .optional()?
        .map(Fen::new))
}

/// The procurement staff who negotiated (协商人员), for the result notice in place of evaluators.
pub fn staff_of(conn: &mut DbConn, tender_id: i64) -> QueryResult<Vec<String>> {
    Ok(ssr::table
        .find(tender_id)
        .select(ssr::staff)
        .first::<String>(conn)
        .optional()?
        .and_then(|s| serde_json::from_str(&s).ok())
        .unwrap_or_default())
}

/// Lodge an objection to a running 公示 (a signed-in organisation; 实施条例 Art 38). The officer who drafted
/// the tender is told by mail; the objector's name stays with the bureau.
#[expect(
    clippy::too_many_arguments,
    reason = "a service call: connection, context, actor, caller, organisation, clock, tender and input"
)]
pub fn lodge_objection(
    conn: &mut DbConn,
    ctx: &Ctx,
    actor: &Actor,
    user_id: i64,
    org_id: i64,
    now: DateTime<Utc>,
    tender_id: i64,
    input: &NewObjection,
) -> Result<SingleSourceView, AppError> {
    advance(conn, ctx, now, tender_id)?;
    write_tx(conn, |conn| -> Result<(), AppError> {
        crate::db::lock_row(conn, "tenders", tender_id)?;
        let t = visible_row(conn, tender_id, false)?;
        if t.method() != Method::SingleSource {
            return Err(not_single_source());
        }
        let ends = notice_of(conn, tender_id)?.and_then(|n| n.notice_ends);
        let ts = crate::db::now_micros(now);
        if t.state() != State::Published || ends.is_none_or(|e| ts >= e) {
            return Err(AppError::conflict(
                "notice_closed",
                "只能在单一来源公示期内提出异议（政府采购法实施条例第三十八条）。",
                "Objections are lodged during the single-source notice only (Implementing Regulations Art 38).",
            ));
        }
        let reason = input.reason.trim();
        let mut c = Checks::new();
        text(&mut c, "reason", reason, rules::MAX_OBJECTION);
        c.finish()?;
        let n: i64 = diesel::insert_into(sso::table)
            .values((
                sso::tender_id.eq(tender_id),
                sso::organisation_id.eq(org_id),
                sso::filed_by.eq(user_id),
                sso::reason.eq(reason),
                sso::filed_at.eq(ts),
            ))
            .returning(sso::id)
            .get_result(conn)?;
        // Who objected goes to the audit trail (staff); the public timeline says only that one was lodged.
        audit::record(
            conn,
            actor,
            now,
            "tender.objection",
            "tender",
            Some(tender_id.to_string()),
            None,
            Some(serde_json::json!({ "n": n, "organisation_id": org_id, "reason": reason })),
        )?;
        log_event(
            conn,
            actor,
            now,
            tender_id,
            Some(State::Published),
            State::Published,
            "tender.objection_logged",
            Some(Note::ObjectionLodged { n }),
        )?;
        if let Some(email) = officer_email(conn, &t)? {
            let objector: String = organisations::table
                .find(org_id)
                .select(organisations::name)
                .first(conn)?;
            crate::mail::enqueue(
                conn,
                now,
                &email,
                &mails::ObjectionLodged {
                    recipient: "采购人 / buyer".into(),
                    code: t.code.clone(),
                    title: t.title.clone(),
                    n,
                    objector,
                    reason: reason.to_string(),
                    url: tender_url(ctx, tender_id),
                },
            )?;
        }
        Ok(())
    })?;
    view(conn, ctx, now, tender_id, Reader::Org(org_id))
}

/// Answer an objection (bureau; final). Upheld: the single source may not go on and the tender is cancelled
/// with the answer as its reason (74号令 Art 41). The objector is told by mail.
#[expect(
    clippy::too_many_arguments,
    reason = "a service call: connection, context, actor, caller, clock, tender, objection and input"
)]
pub fn answer_objection(
    conn: &mut DbConn,
    ctx: &Ctx,
    actor: &Actor,
    user_id: i64,
    now: DateTime<Utc>,
    tender_id: i64,
    n: i64,
    input: &ObjectionAnswer,
) -> Result<SingleSourceView, AppError> {
    advance(conn, ctx, now, tender_id)?;
    write_tx(conn, |conn| -> Result<(), AppError> {
        crate::db::lock_row(conn, "tenders", tender_id)?;
        let t = find_row(conn, tender_id)?;
        let row: Option<(i64, Option<bool>)> = sso::table
            .find(n)
            .filter(sso::tender_id.eq(tender_id))
            .select((sso::organisation_id, sso::upheld))
            .first(conn)
            .optional()?;
        let Some((org, upheld)) = row else {
            return Err(AppError::NotFound);
        };
        if upheld.is_some() {
            return Err(AppError::conflict(
                "objection_answered",
                "该异议已答复，不能更改。",
                "The objection is already answered.",
            ));
        }
        let answer = input.answer.trim();
        let mut c = Checks::new();
        text(&mut c, "answer", answer, rules::MAX_ANSWER);
        if input.upheld && !t.state().cancellable() {
            return Err(illegal(t.state(), State::Cancelled));
        }
        c.finish()?;
        let ts = crate::db::now_micros(now);
        diesel::update(sso::table.find(n))
            .set((
                sso::answer.eq(answer),
                sso::upheld.eq(input.upheld),
                sso::answered_by.eq(user_id),
                sso::answered_at.eq(ts),
            ))
            .execute(conn)?;
        audit::record(
            conn,
            actor,
            now,
            "tender.objection_answer",
            "tender",
            Some(tender_id.to_string()),
            Some(serde_json::json!({ "n": n, "upheld": null })),
            Some(serde_json::json!({ "n": n, "upheld": input.upheld, "answer": answer })),
        )?;
        if input.upheld {
            let reason = Note::ObjectionUpheld {
                n,
                answer: answer.to_string(),
            };
            diesel::update(tenders::table.find(tender_id))
                .set(tenders::end_reason.eq(reason.stored()))
                .execute(conn)?;
            move_state(
                conn,
                actor,
                now,
                tender_id,
                t.state(),
                State::Cancelled,
                Some(reason),
            )?;
        } else {
            log_event(
                conn,
                actor,
                now,
                tender_id,
                Some(t.state()),
                t.state(),
                "tender.objection_answered",
                Some(Note::ObjectionAnswered { n }),
            )?;
        }
        for (name, email) in contacts(conn, &[org])? {
            crate::mail::enqueue(
                conn,
                now,
                &email,
                &mails::ObjectionAnswered {
                    recipient: name,
                    code: t.code.clone(),
                    title: t.title.clone(),
                    n,
                    upheld: input.upheld,
                    answer: answer.to_string(),
                    url: tender_url(ctx, tender_id),
                },
            )?;
        }
        Ok(())
    })?;
    view(conn, ctx, now, tender_id, Reader::Staff)
}

/// Write the negotiation record after the opening (bureau; 74号令 Art 42): it replaces the evaluation, so the
/// tender moves from opened to evaluated, ranked with its one response at the agreed price. The supplier is
/// told by mail.
pub fn record(
    conn: &mut DbConn,
    ctx: &Ctx,
    actor: &Actor,
    user_id: i64,
    now: DateTime<Utc>,
    tender_id: i64,
    input: &RecordInput,
) -> Result<SingleSourceView, AppError> {
    advance(conn, ctx, now, tender_id)?;
    write_tx(conn, |conn| -> Result<(), AppError> {
        crate::db::lock_row(conn, "tenders", tender_id)?;
        let t = find_row(conn, tender_id)?;
        if t.method() != Method::SingleSource {
            return Err(not_single_source());
        }
        if t.state() != State::Opened {
            return Err(wrong_state(
                t.state(),
                "协商情况记录在开标（收到供应商响应）后、成交前填写一次。",
                "the negotiation record is written once, after the opening and before the award.",
            ));
        }
        let opened: Option<(i64, i64, Option<i64>)> = bt::table
            .filter(bt::tender_id.eq(tender_id))
            .filter(bt::status.eq("active"))
            .filter(bt::opened_json.is_not_null())
            .select((bt::id, bt::organisation_id, bt::price_fen))
            .first(conn)
            .optional()?;
        let Some((bid, org, Some(response))) = opened else {
            return Err(AppError::conflict(
                "no_response",
                "没有有效的供应商响应文件，无法协商。",
                "There is no valid response to negotiate on.",
            ));
        };
        let mut c = Checks::new();
        let day = if c.required("negotiated_on", &input.negotiated_on) {
            c.date("negotiated_on", Some(input.negotiated_on.as_str()))
        } else {
            None
        };
        if let Some(d) = day
            && d > today(now)
        {
            c.add(
                "negotiated_on",
                "not_future",
                "协商日期不能晚于今天。",
                "The negotiation date cannot be in the future.",
            );
        }
        let price = crate::money::check_amount(&mut c, "price", &input.price, true);
        push_broken(
            &mut c,
            rules::check_record(&rules::RecordFacts {
                place: &input.place,
                staff: &input.staff,
                cost_explanation: &input.cost_explanation,
                terms: &input.terms,
                price,
                response_price: Fen::new(response),
                budget: Fen::new(t.budget_fen),
            }),
        );
        c.finish()?;
        let price = price.expect("checked");
        let staff: Vec<&str> = input
            .staff
            .iter()
            .map(|s| s.trim())
            .filter(|s| !s.is_empty())
            .collect();
        let ts = crate::db::now_micros(now);
        diesel::insert_into(ssr::table)
            .values((
                ssr::tender_id.eq(tender_id),
                ssr::negotiated_on.eq(day.expect("checked")),
                ssr::place.eq(input.place.trim()),
                ssr::staff.eq(serde_json::to_string(&staff).expect("json")),
                ssr::cost_explanation.eq(input.cost_explanation.trim()),
                ssr::terms.eq(input.terms.trim()),
                ssr::price_fen.eq(price.get()),
                ssr::recorded_by.eq(user_id),
                ssr::recorded_at.eq(ts),
            ))
            .execute(conn)?;
        audit::record(
            conn,
            actor,
            now,
            "tender.single_source_record",
            "tender",
            Some(tender_id.to_string()),
            None,
            Some(serde_json::json!({
                "bid_seq": bid, "negotiated_on": input.negotiated_on.trim(), "place": input.place.trim(),
                "staff": staff, "price_fen": price.get(),
            })),
        )?;
        diesel::update(tenders::table.find(tender_id))
            .set(tenders::evaluated_at.eq(ts))
            .execute(conn)?;
        move_state(
            conn,
            actor,
            now,
            tender_id,
            State::Opened,
            State::Evaluated,
            Some(Note::SingleSourceRecorded {
                price_fen: price.get(),
            }),
        )?;
        for (name, email) in contacts(conn, &[org])? {
            crate::mail::enqueue(
                conn,
                now,
                &email,
                &mails::SingleSourceRecorded {
                    recipient: name,
                    code: t.code.clone(),
                    title: t.title.clone(),
                    price: price.yuan_grouped(),
                    negotiated_on: input.negotiated_on.trim().to_string(),
                    url: tender_url(ctx, tender_id),
                },
            )?;
        }
        Ok(())
    })?;
    view(conn, ctx, now, tender_id, Reader::Staff)
}

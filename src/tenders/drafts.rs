//! A draft tender: its input checked, created and updated, and read back into the form.

use super::*;

struct Clean {
    budget_fen: i64,
    method: Method,
    enquiry_deadline: NaiveDateTime,
    bid_deadline: NaiveDateTime,
    opening_at: NaiveDateTime,
    documents: Option<(NaiveDate, NaiveDate)>,
}

pub(super) fn text(checks: &mut Checks, field: &str, v: &str, max: usize) {
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
    now: DateTime<Utc>,
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
        && !matches!(m, Method::Open | Method::SingleSource)
    {
        // Single source stays lawful above the threshold, with its 公示 (实施条例 Art 38).
        c.add(
            "method",
            "open_tender_required",
            format!(
                "预算达到 {} 元的项目须公开招标（符合法定情形的可采用单一来源并公示）。",
                crate::money::yuan_grouped(ctx.rules.open_tender_threshold_fen)
            ),
            format!(
                "A budget of ¥{} or more must be an open tender (or, on a lawful ground, single source with its public notice).",
                crate::money::yuan_grouped(ctx.rules.open_tender_threshold_fen)
            ),
        );
    }
    let given = |v: &Option<String>| v.as_deref().is_some_and(|s| !s.trim().is_empty());
    if method == Some(Method::SingleSource) {
        push_broken(
            &mut c,
            rules::check_ground(
                input.single_source_ground.as_deref(),
                input.single_source_explanation.as_deref(),
            ),
        );
    } else if method.is_some() {
        for (field, v) in [
            ("single_source_ground", &input.single_source_ground),
            (
                "single_source_explanation",
                &input.single_source_explanation,
            ),
        ] {
            if given(v) {
                c.add(
                    field,
                    "single_source_only",
                    "只有单一来源项目填写单一来源情形和理由。",
                    "Only a single source states its ground and explanation.",
                );
            }
        }
    }
    push_broken(
        &mut c,
        rules::check_term(input.term_months, input.term_reason.as_deref()),
    );
    push_broken(
        &mut c,
        rules::check_eligibility_template(&input.eligibility),
    );
    push_broken(
        &mut c,
        rules::check_criteria(&input.criteria, method, &ctx.rules),
    );
    if let Some(b) = budget {
        push_broken(&mut c, rules::check_fixed_price(&input.criteria, b.into()));
    }
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
            } else if method == Some(Method::SingleSource) && uniq.len() != 1 {
                c.add(
                    "invited",
                    "exactly_one",
                    "单一来源须指定唯一的一家供应商。",
                    "Single source names exactly one supplier.",
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
    let horizon = crate::domain::dates::schedule_horizon(now);
    let mut when = |field: &str, v: &str| -> Option<NaiveDateTime> {
        if !c.required(field, v) {
            return None;
        }
        match parse_when(v) {
            Some(t) if t > horizon => {
                let years = crate::domain::dates::SCHEDULE_HORIZON_YEARS;
                c.add(
                    field,
                    "horizon",
                    format!("时间不能晚于今后 {years} 年。"),
                    format!("The time cannot be more than {years} years ahead."),
                );
                None
            }
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
    if let (Some(b), Some(m), Some(d)) = (budget, method, deadline) {
        super::single_source::check_deadline(&mut c, ctx, m, b, now, d);
    }
    let documents = documents_period(&mut c, input);
    if let (Some((from, until)), Some(m), Some(d)) = (documents, method, deadline) {
        push_broken(
            &mut c,
            rules::check_documents_period(m, &ctx.cal, from, until, None, today(d.and_utc())),
        );
    }
    c.finish()?;
    Ok(Clean {
        budget_fen: budget.expect("checked"),
        method: method.expect("checked"),
        enquiry_deadline: enquiry.expect("checked"),
        bid_deadline: deadline.expect("checked"),
        opening_at: opening.expect("checked"),
        documents,
    })
}

/// The documents' period as typed: both dates or neither (a date alone is refused, `required_with`).
fn documents_period(c: &mut Checks, input: &TenderInput) -> Option<(NaiveDate, NaiveDate)> {
    fn given(v: &Option<String>) -> Option<&str> {
        v.as_deref().map(str::trim).filter(|s| !s.is_empty())
    }
    let (from, until) = (given(&input.documents_from), given(&input.documents_until));
    for (field, mine, other) in [
        ("documents_from", from, until),
        ("documents_until", until, from),
    ] {
        if mine.is_none() && other.is_some() {
            c.add(
                field,
                "required_with",
                "招标文件提供期限须填写开始和结束日期。",
                "Give both the first and the last day the documents are available.",
            );
        }
    }
    let from = from.and_then(|v| c.date("documents_from", Some(v)));
    let until = until.and_then(|v| c.date("documents_until", Some(v)));
    from.zip(until)
}

/// The response-time rule of the method, counted from `now` (publication) to the bid deadline.
pub(super) fn check_response_time(
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

pub(super) fn json(v: &impl Serialize) -> String {
    serde_json::to_string(v).expect("plain values serialise")
}

/// The documents' period of a draft: its one row, or none (from publication to the bid deadline).
fn set_documents(
    conn: &mut DbConn,
    id: i64,
    documents: Option<(NaiveDate, NaiveDate)>,
) -> QueryResult<()> {
    diesel::delete(tender_documents::table.find(id)).execute(conn)?;
    if let Some((from, until)) = documents {
        diesel::insert_into(tender_documents::table)
            .values((
                tender_documents::tender_id.eq(id),
                tender_documents::available_from.eq(from),
                tender_documents::available_until.eq(until),
            ))
            .execute(conn)?;
    }
    Ok(())
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
        let c = validate(conn, ctx, input, None, now)?;
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
        set_documents(conn, id, c.documents)?;
        super::single_source::set_draft(conn, id, c.method, input)?;
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
/// Change a draft. Read under the row lock in the write transaction; `expect` refuses the change with 412
/// when the draft changed since that version was read.
pub fn update(
    conn: &mut DbConn,
    ctx: &Ctx,
    actor: &Actor,
    now: DateTime<Utc>,
    id: i64,
    input: &TenderInput,
    expect: Option<&str>,
) -> Result<TenderView, AppError> {
    let ts = crate::db::now_micros(now);
    write_tx(conn, |conn| -> Result<(), AppError> {
        crate::db::lock_row(conn, "tenders", id)?;
        let t = find_row(conn, id)?;
        if t.state() != State::Draft {
            return Err(wrong_state(
                t.state(),
                "只有草稿可以修改。",
                "only drafts can be edited.",
            ));
        }
        let before = input_of(conn, &t)?;
        crate::version::check(expect, &before)?;
        let c = validate(conn, ctx, input, Some(id), now)?;
        diesel::update(tenders::table.find(id))
            .set((Terms::of(input, &c), tenders::updated_at.eq(ts)))
            .execute(conn)?;
        set_streets(conn, id, &input.street_ids)?;
        set_documents(conn, id, c.documents)?;
        super::single_source::set_draft(conn, id, c.method, input)?;
        // As stored, so the next change's `before` is this `after`.
        let row = find_row(conn, id)?;
        let after = input_of(conn, &row)?;
        audit::record(
            conn,
            actor,
            now,
            "tender.update",
            "tender",
            Some(id.to_string()),
            Some(serde_json::to_value(&before).unwrap_or_default()),
            Some(serde_json::to_value(&after).unwrap_or_default()),
        )?;
        Ok(())
    })?;
    let t = find_row(conn, id)?;
    to_view(conn, ctx, t)
}

/// A tender's version (`crate::version`): of the input its draft would be made from.
pub fn version(conn: &mut DbConn, id: i64) -> Result<String, AppError> {
    let t = find_row(conn, id)?;
    Ok(crate::version::of(&input_of(conn, &t)?))
}

/// The input a draft was made from, for the edit form.
pub fn input_of(conn: &mut DbConn, t: &TenderRow) -> Result<TenderInput, AppError> {
    let street_ids: Vec<i64> = tender_streets::table
        .filter(tender_streets::tender_id.eq(t.id))
        .order(tender_streets::street_id)
        .select(tender_streets::street_id)
        .load(conn)?;
    let documents = documents_of(conn, t.id)?;
    let (single_source_ground, single_source_explanation) =
        super::single_source::draft_terms(conn, t.id)?;
    Ok(TenderInput {
        single_source_ground,
        single_source_explanation,
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
        documents_from: documents.map(|d| d.0.to_string()),
        documents_until: documents.map(|d| d.1.to_string()),
    })
}

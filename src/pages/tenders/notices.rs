//! The public notices: the tender list, a tender's page with the caller's panels, the commitments page.

use super::*;

// ---------------------------------------------------------------------------------------------------------
// Public list

#[derive(Deserialize, Default)]
pub(super) struct ListQuery {
    q: Option<String>,
    field: Option<String>,
    street: Option<String>,
    state: Option<String>,
    page: Option<String>,
    /// An organisation's "I can bid on": open tenders whose every eligibility rule it meets.
    can_bid: Option<String>,
}

#[derive(Template)]
#[template(path = "pages/tenders/list.html")]
struct ListPage {
    ctx: PageCtx,
    l: Lx,
    rows: Vec<TenderSummary>,
    q: String,
    field: String,
    street: String,
    state: String,
    fields: Vec<(String, String)>,
    streets: Vec<(String, String)>,
    states: Vec<(String, String)>,
    pager: Pager,
    staff: bool,
    /// The signed-in organisation, which gets the "I can bid on" filter.
    org: bool,
    can_bid: bool,
    error: Option<String>,
}

pub(super) async fn list_page(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: PageCtx,
    q: web::Query<ListQuery>,
) -> Result<HttpResponse, PageError> {
    let ctx = with_caller(&req, ctx).await;
    let staff = ctx.user.as_ref().is_some_and(CurrentUser::is_staff);
    let q = q.into_inner();
    let g = |v: &Option<String>| v.clone().unwrap_or_default();
    let mut f = tenders::TenderFilter {
        q: q.q.clone(),
        field: q.field.clone().filter(|s| !s.is_empty()),
        street_id: q.street.as_deref().and_then(|s| s.parse().ok()),
        state: q.state.clone().filter(|s| !s.is_empty()),
        page: q.page.as_deref().and_then(|p| p.parse().ok()),
        per_page: Some(20),
    };
    let mut error = None;
    let mut status = StatusCode::OK;
    if let Err(AppError::Validation(errs)) = tenders::check_filter(&f) {
        error = Some(messages(ctx.lang, &errs).join(" "));
        status = StatusCode::BAD_REQUEST;
        f.state = None;
        f.field = None;
    }
    let (tctx, now) = (state.tenders.clone(), state.clock.now());
    let org_id = ctx
        .user
        .as_ref()
        .filter(|u| u.role == Role::Org)
        .and_then(|u| u.org_id);
    let can_bid = org_id.is_some() && matches!(q.can_bid.as_deref(), Some("1" | "on" | "true"));
    let (list, streets) = state
        .run(move |c| {
            let list = match org_id.filter(|_| can_bid) {
                Some(org) => tenders::biddable(c, &tctx, now, org, &f)?,
                None => tenders::list(c, &tctx, now, &f, staff)?,
            };
            Ok((list, crate::registry::orgs::streets(c)?))
        })
        .await
        .map_err(page_err(ctx.lang))?;
    let params = [
        ("q", g(&q.q)),
        ("field", g(&q.field)),
        ("street", g(&q.street)),
        ("state", g(&q.state)),
        ("can_bid", if can_bid { "1".into() } else { String::new() }),
    ];
    let pager = Pager::new("/tenders", &params, &list);
    let zh = ctx.lang == Lang::Zh;
    let mut states = vec![("open".to_string(), ctx.t("tenders.state_open").to_string())];
    for s in State::ALL {
        // 公告中 is "open" above: a published tender past its deadline is closed before any list is read.
        if s != State::Published && (s != State::Draft || staff) {
            states.push((s.as_str().to_string(), s.label(zh).to_string()));
        }
    }
    let page = ListPage {
        l: lx(&ctx),
        fields: crate::pages::orgs::options(ctx.lang, crate::registry::orgs::FIELDS),
        streets: streets
            .into_iter()
            .map(|(id, _, name)| (id.to_string(), name))
            .collect(),
        states,
        ctx: ctx.clone(),
        rows: list.items,
        q: g(&q.q),
        field: g(&q.field),
        street: g(&q.street),
        state: g(&q.state),
        pager,
        staff,
        org: org_id.is_some(),
        can_bid,
        error,
    };
    Ok(render(&ctx, status, &page))
}

/// What an organisation sees and may do on a tender.
struct OrgPanel {
    can_ask: bool,
    can_bid: bool,
    can_withdraw: bool,
    withdraw_needs_reason: bool,
    can_challenge: bool,
    /// The subjects the organisation may challenge now, each with the last day of its window.
    challenge_windows: Vec<(crate::domain::tender::Subject, chrono::NaiveDate)>,
    own: Option<OwnBid>,
    /// Why it may not bid, each with what to do about it.
    refusals: Vec<(String, Option<&'static str>)>,
    challenges: Vec<ChallengeView>,
}

/// One line of the ranking, for the award form.
struct RankLine {
    seq: i64,
    rank: u32,
    organisation_name: String,
    total: String,
}

/// What the bureau and administrators see and may do on a tender.
struct BureauPanel {
    can_edit: bool,
    can_cancel: bool,
    can_answer: bool,
    /// None while sealed: nothing about bids is shown before the opening.
    opened: Option<Vec<bids::OpenedBid>>,
    can_disqualify: bool,
    panel: Vec<MemberView>,
    /// The recorded draws of experts.
    panel_draws: Vec<evaluation::DrawView>,
    /// The smallest panel for the method and budget, the form's first suggestion.
    min_panel: usize,
    can_form_panel: bool,
    /// Active evaluators not yet seated: (user id, name).
    evaluators: Vec<(i64, String)>,
    ranking: Vec<RankLine>,
    can_confirm: bool,
    can_publish_result: bool,
    /// The winner may be recorded as refusing to sign (实施条例 Art 43): result out, no contract yet.
    can_refuse: bool,
    award_seq: Option<i64>,
    award_reason: Option<String>,
    challenges: Vec<ChallengeView>,
    /// 竞争性谈判: origin, compliance, rounds and final quotes (the panel records them).
    negotiation: Option<NegotiationView>,
    /// A draft negotiation with no origin yet: the form to record one.
    can_record_origin: bool,
    can_contract: bool,
    /// The tender's contract, once created.
    contract_id: Option<i64>,
    /// The result's publicity period, for the question before publishing it.
    publicity_days: u32,
    today: String,
}

struct EvalPanel {
    member: MemberView,
    locked: bool,
}

#[derive(Template)]
#[template(path = "pages/tenders/detail.html")]
struct DetailPage {
    ctx: PageCtx,
    l: Lx,
    t: TenderView,
    eligibility: Vec<String>,
    /// One page of the enquiries the caller may see, newest first (`?page=`), never all of them.
    enquiries: Vec<EnquiryView>,
    pager: Pager,
    org: Option<OrgPanel>,
    bureau: Option<BureauPanel>,
    eval: Option<EvalPanel>,
    /// 单一来源: the 公示, objections and the negotiation record.
    ss: Option<SsPanel>,
    act: ActionErrors,
    sealed: bool,
    /// 采购文件 the reader may download, oldest first.
    documents: Vec<crate::files::FileView>,
    /// A draft, and the reader may add documents to it.
    can_upload: bool,
    /// Open for bids, and the reader may publish a clarification or change of its documents.
    can_clarify: bool,
    /// The largest file, MiB.
    max_mb: u32,
}

impl DetailPage {
    fn criteria_sum(&self) -> String {
        let s: Decimal = self.t.criteria.price_weight_pct
            + self
                .t
                .criteria
                .items
                .iter()
                .map(|i| i.max_points)
                .sum::<Decimal>();
        s.normalize().to_string()
    }
    /// A deadline passed (the bureau's panel knows today: ISO dates compare as text).
    fn overdue(&self, d: &chrono::NaiveDate) -> bool {
        self.bureau
            .as_ref()
            .is_some_and(|b| b.today.as_str() > d.to_string().as_str())
    }
    /// The bid's winner refused to sign (recorded in `award_refusals`): shown so, not as withdrawn.
    fn refused(&self, seq: &i64) -> bool {
        self.t.award_refusals.iter().any(|r| r.bid_seq == *seq)
    }
    fn timeline_label(&self, e: &tenders::TimelineEntry) -> String {
        self.l.pick(&e.to_label_zh, &e.to_label_en).to_string()
    }
}

/// Active evaluator accounts (user id, name), by user name.
fn evaluator_accounts(c: &mut DbConn) -> QueryResult<Vec<(i64, String)>> {
    use crate::db::schema::users::dsl as u;
    u::users
        .filter(u::role.eq("evaluator"))
        .filter(u::active.eq(true))
        .order(u::username)
        .select((u::id, u::display_name))
        .load(c)
}

fn load_org_panel(
    c: &mut DbConn,
    tctx: &tenders::Ctx,
    now: DateTime<Utc>,
    lang: Lang,
    row: &TenderRow,
    org: i64,
) -> Result<OrgPanel, AppError> {
    let st = row.state();
    let ts = crate::db::now_micros(now);
    let own = bids::own_bid(c, tctx, org, row.id)?;
    let can_bid = row.bidding_open(now);
    let refusals = if can_bid {
        crate::http::page::refusal_lines(
            lang,
            &bids::refusals(c, tctx, row, org, tenders::today(now))?,
        )
    } else {
        Vec::new()
    };
    let active = own.as_ref().is_some_and(|b| b.receipt.status == "active");
    let withdrawal = st.withdrawal(ts < row.bid_deadline);
    let windows = evaluation::open_windows(c, tctx, row, org, now)?;
    Ok(OrgPanel {
        can_ask: st == State::Published && ts < row.enquiry_deadline,
        can_bid,
        can_withdraw: active && withdrawal != Withdrawal::NotNow,
        withdraw_needs_reason: withdrawal == Withdrawal::WithReason,
        can_challenge: !windows.is_empty(),
        challenge_windows: windows,
        refusals,
        challenges: evaluation::challenges_of(c, now, row.id, Some(org))?,
        own,
    })
}

fn load_bureau_panel(
    c: &mut DbConn,
    tctx: &tenders::Ctx,
    now: DateTime<Utc>,
    row: &TenderRow,
) -> Result<BureauPanel, AppError> {
    let negotiation = if row.method() == Method::Negotiation {
        Some(negotiation::view(c, tctx, now, row.id)?)
    } else {
        None
    };
    let st = row.state();
    let sealed = st.sealed();
    let opened = if sealed {
        None
    } else {
        Some(bids::opened_bids(c, row)?)
    };
    let panel = evaluation::panel(c, row.id)?;
    // A single source has no panel: its record replaces the evaluation (74号令 Art 42).
    let can_form_panel =
        matches!(st, State::Opened | State::Evaluating) && row.method() != Method::SingleSource;
    let evaluators = if can_form_panel {
        evaluator_accounts(c)?
            .into_iter()
            .filter(|(id, _)| panel.iter().all(|m| m.user_id != *id))
            .collect()
    } else {
        Vec::new()
    };
    let ranking = if st == State::Evaluated {
        evaluation::ranking(c, row)?
            .into_iter()
            .map(|r| RankLine {
                seq: r.ranked.bid_id,
                rank: r.ranked.rank,
                organisation_name: r.organisation_name,
                // A negotiation ranks by final quote, a single source by its agreed price, not by a total.
                total: if negotiation.is_some() || row.method() == Method::SingleSource {
                    crate::money::yuan_grouped(r.ranked.price_fen)
                } else {
                    crate::domain::tender::show(r.ranked.total)
                },
            })
            .collect()
    } else {
        Vec::new()
    };
    let contract_id = crate::contracts::of_tender(c, row.id)?;
    Ok(BureauPanel {
        can_edit: st == State::Draft,
        can_cancel: st.cancellable(),
        can_answer: st == State::Published,
        opened,
        can_disqualify: st.opened_not_final(),
        panel,
        panel_draws: evaluation::draws(c, row.id)?,
        min_panel: crate::domain::tender::min_panel(row.method(), row.budget_fen),
        can_form_panel,
        evaluators,
        ranking,
        can_confirm: st == State::Evaluated,
        can_publish_result: st == State::AwardProposed,
        can_refuse: st.award_refusable() && row.award_bid_id.is_some() && contract_id.is_none(),
        award_seq: row.award_bid_id,
        award_reason: row
            .award_reason
            .as_deref()
            .map(|s| crate::domain::tender::Note::read(s).both()),
        challenges: evaluation::challenges_of(c, now, row.id, None)?,
        can_record_origin: st == State::Draft
            && negotiation.as_ref().is_some_and(|n| n.moved_from.is_none()),
        negotiation,
        can_contract: st == State::Awarded && contract_id.is_none(),
        contract_id,
        publicity_days: tctx.rules.publicity_working_days,
        today: tenders::today(now).to_string(),
    })
}

/// Render the tender page for the signed-in user (if any), with the errors of a failed action.
pub(super) async fn detail(
    state: &AppState,
    ctx: PageCtx,
    id: i64,
    paging: crate::db::Paging,
    act: ActionErrors,
    status: StatusCode,
) -> Result<HttpResponse, PageError> {
    let user = ctx.user.clone();
    let staff = user.as_ref().is_some_and(CurrentUser::is_staff);
    let lang = ctx.lang;
    let (tctx, now) = (state.tenders.clone(), state.clock.now());
    let (t, enquiries, org, bureau, eval, ss, documents) = state
        .run(move |c| {
            let t = tenders::get(c, &tctx, now, id, staff)?;
            let row = tenders::find_row(c, id)?;
            let own_org = user.as_ref().and_then(|u| u.own_org_id().ok());
            let enquiries = tenders::enquiries_page(c, id, staff, own_org, paging)?;
            let org = match own_org {
                Some(o) => Some(load_org_panel(c, &tctx, now, lang, &row, o)?),
                None => None,
            };
            let bureau = if staff {
                Some(load_bureau_panel(c, &tctx, now, &row)?)
            } else {
                None
            };
            let eval = match user.as_ref().filter(|u| u.role == Role::Evaluator) {
                Some(u) => evaluation::panel(c, id)?
                    .into_iter()
                    .find(|m| m.user_id == u.id)
                    .map(|member| EvalPanel {
                        member,
                        locked: row.evaluated_at.is_some(),
                    }),
                None => None,
            };
            let ss = load_ss_panel(c, &tctx, now, &row, user.as_ref())?;
            let docs = crate::files::tender_files(c, user.as_ref(), id)?
                .unwrap_or_default()
                .iter()
                .map(crate::files::FileRow::view)
                .collect();
            Ok((t, enquiries, org, bureau, eval, ss, docs))
        })
        .await
        .map_err(page_err(lang))?;
    let mut pager = Pager::new(&format!("/tenders/{id}"), &[], &enquiries);
    for link in [&mut pager.prev, &mut pager.next].into_iter().flatten() {
        link.push_str("#enquiries");
    }
    let page = DetailPage {
        pager,
        enquiries: enquiries.items,
        l: lx(&ctx),
        eligibility: eligibility_lines(lang, &t.eligibility),
        sealed: t.state.sealed(),
        can_upload: staff && t.state == State::Draft,
        can_clarify: staff && t.state == State::Published,
        max_mb: u32::try_from(state.files.settings.file_max / (1024 * 1024)).unwrap_or(u32::MAX),
        documents,
        ctx: ctx.clone(),
        t,
        org,
        bureau,
        eval,
        ss,
        act,
    };
    Ok(render(&ctx, status, &page))
}

pub(super) async fn detail_page(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: PageCtx,
    path: web::Path<i64>,
    q: web::Query<tenders::EnquiryFilter>,
) -> Result<HttpResponse, PageError> {
    let ctx = with_caller(&req, ctx).await;
    detail(
        &state,
        ctx,
        path.into_inner(),
        crate::db::Paging::new(q.page, q.per_page),
        ActionErrors::default(),
        StatusCode::OK,
    )
    .await
}

// ---------------------------------------------------------------------------------------------------------
// Commitments

#[derive(Template)]
#[template(path = "pages/tenders/commitments.html")]
struct CommitmentsPage {
    ctx: PageCtx,
    l: Lx,
    id: i64,
    code: String,
    title: String,
    opening_at: NaiveDateTime,
    /// None while sealed.
    rows: Option<Vec<bids::CommitmentCheck>>,
}

pub(super) async fn commitments_page(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: PageCtx,
    path: web::Path<i64>,
) -> Result<HttpResponse, PageError> {
    let ctx = with_caller(&req, ctx).await;
    let staff = ctx.user.as_ref().is_some_and(CurrentUser::is_staff);
    let id = path.into_inner();
    let (tctx, now, caller) = (state.tenders.clone(), state.clock.now(), ctx.user.clone());
    let (row, rows) = state
        .run(move |c| {
            tenders::advance(c, &tctx, now, id)?;
            let row = tenders::visible_row(c, id, staff)?;
            let reader = bids::disclosure(c, id, caller.as_ref())?;
            let rows = match bids::commitments(c, &tctx, &row, reader) {
                Ok(v) => Some(v),
                Err(AppError::Conflict { code: "sealed", .. }) => None,
                Err(e) => return Err(e),
            };
            Ok((row, rows))
        })
        .await
        .map_err(page_err(ctx.lang))?;
    let page = CommitmentsPage {
        l: lx(&ctx),
        ctx: ctx.clone(),
        id,
        code: row.code,
        title: row.title,
        opening_at: row.opening_at,
        rows,
    };
    Ok(render(&ctx, StatusCode::OK, &page))
}

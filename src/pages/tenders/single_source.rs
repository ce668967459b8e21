//! 单一来源 on the tender page: the 公示 (supplier, ground, explanation, its end) and its objections with
//! answers, for everyone; an organisation's objection form while it runs; the bureau's answer forms (with a
//! confirmation: an answer is final, an upheld one cancels the tender) and the negotiation-record form;
//! the record once written. The rules and storage are `tenders::single_source`.

use super::*;
use crate::tenders::single_source::{self as ss, SingleSourceView};

/// The single-source section of a tender page and what the caller may do in it.
pub(super) struct SsPanel {
    pub v: SingleSourceView,
    pub can_object: bool,
    pub can_answer: bool,
    pub can_record: bool,
}

pub(super) fn load_ss_panel(
    c: &mut DbConn,
    tctx: &tenders::Ctx,
    now: DateTime<Utc>,
    row: &TenderRow,
    user: Option<&CurrentUser>,
) -> Result<Option<SsPanel>, AppError> {
    if row.method() != Method::SingleSource {
        return Ok(None);
    }
    let staff = user.is_some_and(CurrentUser::is_staff);
    let own_org = user.and_then(|u| u.own_org_id().ok());
    let reader = match (staff, own_org) {
        (true, _) => ss::Reader::Staff,
        (false, Some(o)) => ss::Reader::Org(o),
        _ => ss::Reader::Public,
    };
    let v = ss::view(c, tctx, now, row.id, reader)?;
    Ok(Some(SsPanel {
        can_object: own_org.is_some() && v.objections_open,
        can_answer: staff && row.state().cancellable(),
        can_record: staff && row.state() == State::Opened && v.record.is_none(),
        v,
    }))
}

/// An organisation lodges an objection to the 公示.
pub(super) async fn objection_submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: PageCtx,
    page: Page<OrgOnly>,
    path: web::Path<i64>,
    form: Form,
) -> Result<HttpResponse, PageError> {
    let ctx = ctx.with_user(&page.user);
    let id = path.into_inner();
    let actor = crate::http::actor(&req, &page.user);
    let uid = page.user.id;
    let org = page
        .user
        .own_org_id()
        .map_err(|e| PageError::App(e, ctx.lang))?;
    let (tctx, now) = (state.tenders.clone(), state.clock.now());
    let input = ss::NewObjection {
        reason: form.get("reason"),
    };
    run_action(
        &state,
        ctx,
        id,
        "objection".into(),
        form.values(),
        "ss.objection_ok",
        move |c| ss::lodge_objection(c, &tctx, &actor, uid, org, now, id, &input),
    )
    .await
}

/// The bureau answers an objection (the form asks to confirm first: the answer is final).
pub(super) async fn objection_answer_submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: PageCtx,
    page: Page<BureauOrAdmin>,
    path: web::Path<(i64, i64)>,
    form: Form,
) -> Result<HttpResponse, PageError> {
    let ctx = ctx.with_user(&page.user);
    let (id, n) = path.into_inner();
    let uid = page.user.id;
    let actor = crate::http::actor(&req, &page.user);
    let (tctx, now) = (state.tenders.clone(), state.clock.now());
    let input = ss::ObjectionAnswer {
        upheld: form.get("upheld") == "1",
        answer: form.get("answer"),
    };
    run_action(
        &state,
        ctx,
        id,
        format!("objection-{n}"),
        form.values(),
        "ss.answer_ok",
        move |c| ss::answer_objection(c, &tctx, &actor, uid, now, id, n, &input),
    )
    .await
}

/// The bureau writes the negotiation record (staff one name a line).
pub(super) async fn ss_record_submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: PageCtx,
    page: Page<BureauOrAdmin>,
    path: web::Path<i64>,
    form: Form,
) -> Result<HttpResponse, PageError> {
    let ctx = ctx.with_user(&page.user);
    let id = path.into_inner();
    let uid = page.user.id;
    let actor = crate::http::actor(&req, &page.user);
    let (tctx, now) = (state.tenders.clone(), state.clock.now());
    let input = ss::RecordInput {
        negotiated_on: form.get("negotiated_on"),
        place: form.get("place"),
        staff: form
            .get("staff")
            .lines()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(String::from)
            .collect(),
        cost_explanation: form.get("cost_explanation"),
        terms: form.get("terms"),
        price: form.get("price"),
    };
    run_action(
        &state,
        ctx,
        id,
        "ss-record".into(),
        form.values(),
        "ss.record_ok",
        move |c| ss::record(c, &tctx, &actor, uid, now, id, &input),
    )
    .await
}

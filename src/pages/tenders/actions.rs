//! A tender page's action forms and how they run: publish, cancel, create the contract, ask and answer enquiries,
//! and a negotiation's origin (moved from a failed open tender).

use super::*;

// ---------------------------------------------------------------------------------------------------------
// The tender page

// ---------------------------------------------------------------------------------------------------------
// Actions on the tender page

/// Run one action; success goes back to the tender page with a flash, field errors show the page again
/// with the errors at the action's form, a refused state goes back with the reason as an error flash.
pub(super) async fn run_action<T: Send + 'static>(
    state: &AppState,
    ctx: PageCtx,
    id: i64,
    action: String,
    values: HashMap<String, String>,
    ok_key: &'static str,
    op: impl FnOnce(&mut DbConn) -> Result<T, AppError> + Send + 'static,
) -> Result<HttpResponse, PageError> {
    let outcome = state.run(op).await;
    action_answer(state, ctx, id, action, values, ok_key, outcome).await
}

/// The page's answer to an action's outcome, as [`run_action`] gives it.
async fn action_answer<T>(
    state: &AppState,
    ctx: PageCtx,
    id: i64,
    action: String,
    values: HashMap<String, String>,
    ok_key: &'static str,
    outcome: Result<T, AppError>,
) -> Result<HttpResponse, PageError> {
    let back = format!("/tenders/{id}");
    match outcome {
        Ok(_) => Ok(redirect(&back, Some(("ok", ctx.t(ok_key))))),
        Err(AppError::Validation(errs)) => {
            let act = ActionErrors {
                action,
                messages: messages(ctx.lang, &errs),
                values,
            };
            detail(
                state,
                ctx,
                id,
                crate::db::Paging::new(None, None),
                act,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        // A used-up quota (the day's enquiries): said at the form, with Retry-After, nothing kept.
        Err(e @ AppError::Limited { retry_after, .. }) => {
            let act = ActionErrors {
                action,
                messages: vec![pick_msg(ctx.lang, &e.message())],
                values,
            };
            let mut r = detail(
                state,
                ctx,
                id,
                crate::db::Paging::new(None, None),
                act,
                StatusCode::TOO_MANY_REQUESTS,
            )
            .await?;
            r.headers_mut().insert(
                actix_web::http::header::RETRY_AFTER,
                actix_web::http::header::HeaderValue::from(retry_after),
            );
            Ok(r)
        }
        Err(e @ (AppError::Conflict { .. } | AppError::BadRequest { .. })) => {
            let m = pick_msg(ctx.lang, &e.message());
            Ok(redirect(&back, Some(("error", &m))))
        }
        Err(e) => Err(PageError::App(e, ctx.lang)),
    }
}

pub(super) async fn publish_submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: PageCtx,
    page: Page<BureauOrAdmin>,
    path: web::Path<i64>,
    form: Form,
) -> Result<HttpResponse, PageError> {
    let ctx = ctx.with_user(&page.user);
    let id = path.into_inner();
    let actor = crate::http::actor(&req, &page.user);
    let (tctx, now) = (state.tenders.clone(), state.clock.now());
    run_action(
        &state,
        ctx,
        id,
        "publish".into(),
        form.values(),
        "tenders.published_ok",
        move |c| tenders::publish(c, &tctx, &actor, now, id),
    )
    .await
}

pub(super) async fn cancel_submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: PageCtx,
    page: Page<BureauOrAdmin>,
    path: web::Path<i64>,
    form: Form,
) -> Result<HttpResponse, PageError> {
    let ctx = ctx.with_user(&page.user);
    let id = path.into_inner();
    let actor = crate::http::actor(&req, &page.user);
    let (tctx, now) = (state.tenders.clone(), state.clock.now());
    let reason = form.get("reason");
    run_action(
        &state,
        ctx,
        id,
        "cancel".into(),
        form.values(),
        "tenders.cancelled_ok",
        move |c| tenders::cancel(c, &tctx, &actor, now, id, &reason),
    )
    .await
}

/// Create the draft contract of the final award; it is then signed on the contract's page.
pub(super) async fn contract_submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: PageCtx,
    page: Page<BureauOrAdmin>,
    path: web::Path<i64>,
    form: Form,
) -> Result<HttpResponse, PageError> {
    let ctx = ctx.with_user(&page.user);
    let id = path.into_inner();
    let actor = crate::http::actor(&req, &page.user);
    let (cctx, now) = (state.contracts.clone(), state.clock.now());
    let input = crate::contracts::NewContract {
        tender_id: id,
        contract_no: form.get("contract_no"),
        term_start: form.get("term_start"),
        appropriation_id: None,
    };
    run_action(
        &state,
        ctx,
        id,
        "contract".into(),
        form.values(),
        "tenders.contract_created_ok",
        move |c| crate::contracts::create(c, &cctx, &actor, now, &input),
    )
    .await
}

pub(super) async fn ask_submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: PageCtx,
    page: Page<OrgOnly>,
    path: web::Path<i64>,
    form: Form,
) -> Result<HttpResponse, PageError> {
    let ctx = ctx.with_user(&page.user);
    let id = path.into_inner();
    let org = page.user.own_org_id().map_err(page_err(ctx.lang))?;
    let uid = page.user.id;
    let actor = crate::http::actor(&req, &page.user);
    let (tctx, now) = (state.tenders.clone(), state.clock.now());
    let q = tenders::NewEnquiry {
        question: form.get("question"),
    };
    run_action(
        &state,
        ctx,
        id,
        "ask".into(),
        form.values(),
        "tenders.asked_ok",
        move |c| tenders::ask(c, &tctx, &actor, uid, org, now, id, &q),
    )
    .await
}

pub(super) async fn answer_submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: PageCtx,
    page: Page<BureauOrAdmin>,
    path: web::Path<(i64, i64)>,
    form: Form,
) -> Result<HttpResponse, PageError> {
    let ctx = ctx.with_user(&page.user);
    let (id, eid) = path.into_inner();
    let uid = page.user.id;
    let actor = crate::http::actor(&req, &page.user);
    let (tctx, now) = (state.tenders.clone(), state.clock.now());
    let a = tenders::EnquiryAnswer {
        answer: form.get("answer"),
    };
    run_action(
        &state,
        ctx,
        id,
        format!("answer-{eid}"),
        form.values(),
        "tenders.answered_ok",
        move |c| {
            let belongs: i64 = crate::db::schema::enquiries::table
                .filter(crate::db::schema::enquiries::id.eq(eid))
                .filter(crate::db::schema::enquiries::tender_id.eq(id))
                .count()
                .get_result(c)?;
            if belongs == 0 {
                return Err(AppError::NotFound);
            }
            tenders::answer(c, &tctx, &actor, uid, now, eid, &a)
        },
    )
    .await
}

/// 竞争性谈判: the bureau records that a draft negotiation was moved here after a failed open tender.
pub(super) async fn origin_submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: PageCtx,
    page: Page<BureauOrAdmin>,
    path: web::Path<i64>,
    form: Form,
) -> Result<HttpResponse, PageError> {
    let ctx = ctx.with_user(&page.user);
    let id = path.into_inner();
    let actor = crate::http::actor(&req, &page.user);
    let (tctx, now) = (state.tenders.clone(), state.clock.now());
    let mut errs = Vec::new();
    let input = form
        .int("failed_tender_id", &mut errs)
        .map(|failed_tender_id| negotiation::OriginInput { failed_tender_id });
    run_action(
        &state,
        ctx,
        id,
        "negotiation-origin".into(),
        form.values(),
        "neg.origin_ok",
        move |c| negotiation::record_origin(c, &tctx, &actor, now, id, &checked(input, errs)?),
    )
    .await
}

/// Add a document to a draft tender from its page: a `multipart/form-data` post whose CSRF token comes
/// before the file (checked before a byte of the file is taken). The page's script sends it with a
/// progress bar; without the script the browser posts it plainly. Refusals show at the form.
pub(super) async fn document_submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: PageCtx,
    page: Page<BureauOrAdmin>,
    path: web::Path<i64>,
    payload: web::Payload,
) -> Result<HttpResponse, PageError> {
    let ctx = ctx.with_user(&page.user);
    let id = path.into_inner();
    let s = &state;
    let (_, received) = page_upload(&req, payload, &state, |_| async move {
        s.run(move |c| crate::files::may_add_tender_document(c, id))
            .await
    })
    .await?;
    let actor = crate::http::actor(&req, &page.user);
    let (uid, now) = (page.user.id, state.clock.now());
    let (file, received) = split(received);
    let outcome = match file {
        Ok(f) => {
            state
                .run(move |c| crate::files::add_tender_document(c, &actor, now, &f, id, uid))
                .await
        }
        Err(e) => Err(e),
    };
    let outcome = state.files.settle(received, outcome).await;
    let values = HashMap::new();
    action_answer(
        &state,
        ctx,
        id,
        "document".into(),
        values,
        "files.uploaded_ok",
        outcome,
    )
    .await
}

/// The received file to hand to a record's transaction, and what waits for it.
fn split(
    received: Result<crate::files::Pending, AppError>,
) -> (
    Result<crate::files::Received, AppError>,
    Option<crate::files::Pending>,
) {
    match received {
        Ok(p) => (Ok(p.file.clone()), Some(p)),
        Err(e) => (Err(e), None),
    }
}

/// Publish a clarification or change of a published tender's documents from its page (87号令 Art 27):
/// as [`document_submit`], with the note of what changed before the file.
pub(super) async fn amendment_submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: PageCtx,
    page: Page<BureauOrAdmin>,
    path: web::Path<i64>,
    payload: web::Payload,
) -> Result<HttpResponse, PageError> {
    let ctx = ctx.with_user(&page.user);
    let id = path.into_inner();
    let (now, s) = (state.clock.now(), &state);
    let (form, received) = page_upload(&req, payload, &state, |fields| {
        crate::http::files::clarification_first(s, now, id, fields)
    })
    .await?;
    let note = form.get("note");
    let actor = crate::http::actor(&req, &page.user);
    let uid = page.user.id;
    let values = HashMap::from([("note".to_string(), note.clone())]);
    let (tctx, now) = (state.tenders.clone(), state.clock.now());
    let (file, received) = split(received);
    let outcome = match file {
        Ok(f) => {
            state
                .run(move |c| tenders::clarify(c, &tctx, &actor, uid, now, id, &note, &f))
                .await
        }
        Err(e) => Err(e),
    };
    let outcome = state.files.settle(received, outcome).await;
    action_answer(
        &state,
        ctx,
        id,
        "amendment".into(),
        values,
        "files.amendment_ok",
        outcome,
    )
    .await
}

/// A page's upload form whose file is required ([`crate::http::files::page_form`]).
async fn page_upload<F, Fut>(
    req: &HttpRequest,
    payload: web::Payload,
    state: &AppState,
    check: F,
) -> Result<(Form, Result<crate::files::Pending, AppError>), PageError>
where
    F: FnOnce(Vec<(String, String)>) -> Fut,
    Fut: std::future::Future<Output = Result<(), AppError>>,
{
    let payload = payload.into_inner();
    let (form, got) = crate::http::files::page_form(req, payload, &state.files, check).await?;
    let got = got.and_then(|f| f.ok_or_else(crate::http::files::no_file));
    Ok((form, got))
}

/// Download a file from a page link (the same answer as the API's).
pub(super) async fn file_download(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: PageCtx,
    path: web::Path<i64>,
) -> Result<HttpResponse, PageError> {
    crate::http::files::serve(&req, &state, path.into_inner())
        .await
        .map_err(page_err(ctx.lang))
}

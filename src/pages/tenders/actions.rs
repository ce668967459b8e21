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
    let back = format!("/tenders/{id}");
    match state.run(op).await {
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
    let (received, _) = page_upload(&req, payload, &state, ctx.lang, |_| async move {
        s.run(move |c| crate::files::may_add_tender_document(c, id))
            .await
    })
    .await?;
    let actor = crate::http::actor(&req, &page.user);
    let (uid, now) = (page.user.id, state.clock.now());
    run_action(
        &state,
        ctx,
        id,
        "document".into(),
        HashMap::new(),
        "files.uploaded_ok",
        move |c| crate::files::add_tender_document(c, &actor, now, &received?, id, uid),
    )
    .await
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
    let (received, fields) = page_upload(&req, payload, &state, ctx.lang, |fields| {
        crate::http::files::clarification_first(s, now, id, fields)
    })
    .await?;
    let note = crate::http::files::field(&fields, "note");
    let actor = crate::http::actor(&req, &page.user);
    let uid = page.user.id;
    let values = HashMap::from([("note".to_string(), note.clone())]);
    let (tctx, now) = (state.tenders.clone(), state.clock.now());
    run_action(
        &state,
        ctx,
        id,
        "amendment".into(),
        values,
        "files.amendment_ok",
        move |c| tenders::clarify(c, &tctx, &actor, uid, now, id, &note, &received?),
    )
    .await
}

/// A page's upload form: `multipart/form-data` whose CSRF token comes before the file, checked with `check`
/// before a byte of the file is taken ([`crate::http::files::receive`]); a plain form (no file in it) is
/// read as any form and refused at the file. A bad token is the error page; any other refusal comes back
/// to be shown at the form, with the text fields sent.
async fn page_upload<F, Fut>(
    req: &HttpRequest,
    payload: web::Payload,
    state: &AppState,
    lang: Lang,
    check: F,
) -> Result<
    (
        Result<crate::files::Received, AppError>,
        Vec<(String, String)>,
    ),
    PageError,
>
where
    F: FnOnce(Vec<(String, String)>) -> Fut,
    Fut: std::future::Future<Output = Result<(), AppError>>,
{
    use actix_web::HttpMessage;
    let no_file = || {
        AppError::field(
            "file",
            "required",
            "请选择要上传的文件。",
            "Choose a file to upload.",
        )
    };
    if req.content_type() != "multipart/form-data" {
        let form = crate::http::page::read_form(req, payload.into_inner()).await?;
        return Ok((Err(no_file()), form.pairs().to_vec()));
    }
    let mut sent = Vec::new();
    let received = crate::http::files::receive(
        req,
        payload,
        &state.files,
        state.files.settings.file_max,
        |fields| {
            sent = fields.clone();
            async move {
                crate::http::csrf::check(req, &crate::http::files::field(&fields, "csrf"))?;
                check(fields).await
            }
        },
    )
    .await;
    match received {
        Err(e) if e.code() == "csrf_failed" => Err(PageError::App(e, lang)),
        r => Ok((r, sent)),
    }
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

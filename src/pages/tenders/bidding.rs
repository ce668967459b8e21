//! An organisation's sealed bid: the bid form, its receipt, the attachments, its bids and their withdrawal.

use super::*;

pub(super) async fn withdraw_submit(
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
    let actor = crate::http::actor(&req, &page.user);
    let (tctx, now) = (state.tenders.clone(), state.clock.now());
    let reason = form.get("reason");
    run_action(
        &state,
        ctx,
        id,
        "withdraw".into(),
        form.values(),
        "tenders.withdrawn_ok",
        move |c| bids::withdraw(c, &tctx, &actor, org, now, id, Some(reason.as_str())),
    )
    .await
}

// ---------------------------------------------------------------------------------------------------------
// The bid form and its receipt

/// The bid form as typed.
#[derive(Clone, Debug, Default)]
struct BidForm {
    price: String,
    plan: String,
    /// (budget line key, amount typed), every line of `BUDGET_LINES`.
    lines: Vec<(String, String)>,
    staff: Vec<i64>,
    visits: String,
    people: String,
    sessions: String,
    satisfaction_pct: String,
    /// Which files of the current bid (by index) the new bid keeps.
    keep: Vec<usize>,
    idempotency_key: String,
}

fn new_key() -> String {
    uuid::Uuid::new_v4().to_string()
}

impl BidForm {
    fn blank(t: &Targets) -> BidForm {
        BidForm {
            lines: BUDGET_LINES
                .iter()
                .map(|(k, _, _)| (k.to_string(), String::new()))
                .collect(),
            visits: t.visits.to_string(),
            people: t.people.to_string(),
            sessions: t.sessions.to_string(),
            satisfaction_pct: t.satisfaction_pct.normalize().to_string(),
            idempotency_key: new_key(),
            ..Default::default()
        }
    }

    /// Prefilled from the organisation's current bid, to replace it.
    fn from_own(c: &bids::BidContent) -> BidForm {
        BidForm {
            price: crate::money::yuan(c.price_fen),
            plan: c.plan.clone(),
            lines: BUDGET_LINES
                .iter()
                .map(|(k, _, _)| {
                    let amount = c
                        .budget
                        .iter()
                        .find(|l| l.line == *k)
                        .map(|l| crate::money::yuan(l.amount_fen))
                        .unwrap_or_default();
                    (k.to_string(), amount)
                })
                .collect(),
            staff: c.staff.iter().map(|s| s.worker_id).collect(),
            visits: c.targets.visits.to_string(),
            people: c.targets.people.to_string(),
            sessions: c.targets.sessions.to_string(),
            satisfaction_pct: c.targets.satisfaction_pct.normalize().to_string(),
            keep: (0..c.attachments.len()).collect(),
            idempotency_key: new_key(),
        }
    }

    fn from_fields(f: &Form) -> BidForm {
        BidForm {
            price: f.get("price"),
            plan: f.get("plan"),
            lines: BUDGET_LINES
                .iter()
                .map(|(k, _, _)| (k.to_string(), f.get(&format!("budget_{k}"))))
                .collect(),
            staff: f.ids("staff"),
            visits: f.get("visits"),
            people: f.get("people"),
            sessions: f.get("sessions"),
            satisfaction_pct: f.get("satisfaction_pct"),
            keep: f
                .all("keep_files")
                .iter()
                .filter_map(|s| s.parse().ok())
                .collect(),
            idempotency_key: f.get("idempotency_key"),
        }
    }

    /// The service input, and the budget line of each `budget[i]` it sends; or the field errors of the
    /// targets that are not numbers.
    fn input(&self) -> Result<(BidInput, Vec<String>), AppError> {
        let mut errs = Vec::new();
        let visits = parse_int("targets.visits", &self.visits, &mut errs);
        let people = parse_int("targets.people", &self.people, &mut errs);
        let sessions = parse_int("targets.sessions", &self.sessions, &mut errs);
        let satisfaction_pct = parse_decimal(
            "targets.satisfaction_pct",
            &self.satisfaction_pct,
            &mut errs,
        );
        let (visits, (people, (sessions, satisfaction_pct))) =
            checked(visits.zip(people.zip(sessions.zip(satisfaction_pct))), errs)?;
        let used: Vec<&(String, String)> = self
            .lines
            .iter()
            .filter(|(_, a)| !a.trim().is_empty())
            .collect();
        let input = BidInput {
            idempotency_key: self.idempotency_key.clone(),
            price: self.price.clone(),
            plan: self.plan.clone(),
            budget: used
                .iter()
                .map(|(k, a)| bids::BudgetLineInput {
                    line: k.clone(),
                    amount: a.clone(),
                })
                .collect(),
            staff: self.staff.clone(),
            targets: Targets {
                visits,
                people,
                sessions,
                satisfaction_pct,
            },
            attachments: Vec::new(),
            keep_files: self.keep.clone(),
        };
        Ok((input, used.iter().map(|(k, _)| k.clone()).collect()))
    }
}

#[derive(Template)]
#[template(path = "pages/tenders/bid.html")]
struct BidPage {
    ctx: PageCtx,
    l: Lx,
    t: TenderView,
    /// Whether bids are accepted now (otherwise the page says so and shows no form).
    open: bool,
    v: BidForm,
    /// The organisation's current workers: (id, name, certificate level).
    workers: Vec<(i64, String, String)>,
    /// Why it may not bid, each with what to do about it.
    refusals: Vec<(String, Option<&'static str>)>,
    replacing: Option<Receipt>,
    errors: FormErrors,
    other_errors: Vec<String>,
    /// The files of the current bid, which a replacement may keep.
    own_files: Vec<bids::AttachmentMeta>,
    /// Files were chosen, but the bid was refused and they were not kept.
    files_again: bool,
    /// What the file field takes, for its hint.
    file_limits: (Vec<&'static str>, u64, u64),
}

impl BidPage {
    fn attach_hint(&self) -> String {
        let (kinds, file, total) = &self.file_limits;
        self.ctx
            .t("bid.attachments_hint")
            .replace("{kinds}", &kinds.join(self.ctx.lang.pick("、", ", ")))
            .replace("{n}", &bids::MAX_FILES.to_string())
            .replace("{mb}", &(file >> 20).to_string())
            .replace("{total}", &(total >> 20).to_string())
    }
    fn keeps(&self, i: &usize) -> bool {
        self.v.keep.contains(i)
    }

    fn replacing_text(&self, seq: &i64) -> String {
        self.ctx.t("bid.replacing").replace("{}", &seq.to_string())
    }
    fn e(&self, field: &str) -> Option<&str> {
        self.errors.get(field)
    }
    fn line_err(&self, key: &str) -> Option<&str> {
        self.errors.get(&format!("budget.{key}"))
    }
    fn has_worker(&self, id: &i64) -> bool {
        self.v.staff.contains(id)
    }
}

/// Fields the bid form shows errors at.
fn shown_on_bid(field: &str) -> bool {
    matches!(
        field,
        "price" | "plan" | "budget" | "staff" | "targets" | "files" | "keep_files"
    ) || field.starts_with("budget.")
        || field.starts_with("targets.")
}

struct BidData {
    /// The files of the organisation's current bid.
    own_files: Vec<bids::AttachmentMeta>,
    t: TenderView,
    open: bool,
    workers: Vec<(i64, String, String)>,
    /// Why it may not bid, each with what to do about it.
    refusals: Vec<(String, Option<&'static str>)>,
    own: Option<OwnBid>,
}

async fn bid_data(state: &AppState, lang: Lang, id: i64, org: i64) -> Result<BidData, PageError> {
    let (tctx, now) = (state.tenders.clone(), state.clock.now());
    state
        .run(move |c| {
            let t = tenders::get(c, &tctx, now, id, false)?;
            let row = tenders::find_row(c, id)?;
            let open = row.bidding_open(now);
            let workers = crate::registry::workers::proposable(c, org)?;
            let refusals = if open {
                crate::http::page::refusal_lines(
                    lang,
                    &bids::refusals(c, &tctx, &row, org, tenders::today(now))?,
                )
            } else {
                Vec::new()
            };
            let own = bids::own_bid(c, &tctx, org, id)?;
            // The current bid's files, which a replacement keeps unless they are unticked.
            let own_files = own
                .as_ref()
                .filter(|o| open && o.receipt.status == "active")
                .and_then(|o| o.content.as_ref())
                .map(|c| c.attachments.clone())
                .unwrap_or_default();
            Ok(BidData {
                own_files,
                t,
                open,
                workers,
                refusals,
                own,
            })
        })
        .await
        .map_err(page_err(lang))
}

/// What the bid form shows besides the bid: an error not at a field, and whether chosen files were lost.
#[derive(Default)]
struct Shown {
    problem: Option<String>,
    files_again: bool,
}

fn bid_form_page(
    ctx: &PageCtx,
    state: &AppState,
    d: BidData,
    v: BidForm,
    errs: &[FieldError],
    shown: Shown,
    status: StatusCode,
) -> HttpResponse {
    let Shown {
        problem,
        files_again,
    } = shown;
    let mut other: Vec<String> = problem.into_iter().collect();
    other.extend(messages(
        ctx.lang,
        &errs
            .iter()
            .filter(|e| !shown_on_bid(&e.field))
            .cloned()
            .collect::<Vec<_>>(),
    ));
    let open = d.open;
    let replacing = d
        .own
        .map(|o| o.receipt)
        .filter(|r| open && r.status == "active");
    let page = BidPage {
        l: lx(ctx),
        ctx: ctx.clone(),
        t: d.t,
        open: d.open,
        v,
        workers: d.workers,
        refusals: d.refusals,
        replacing,
        errors: FormErrors::from_fields(ctx.lang, errs),
        other_errors: other,
        own_files: d.own_files,
        files_again,
        file_limits: (
            state
                .files
                .settings
                .kinds
                .iter()
                .map(|k| k.label())
                .collect(),
            state.files.settings.file_max,
            state.files.settings.bid_max,
        ),
    };
    render(ctx, status, &page)
}

pub(super) async fn bid_page(
    state: web::Data<AppState>,
    ctx: PageCtx,
    page: Page<OrgOnly>,
    path: web::Path<i64>,
) -> Result<HttpResponse, PageError> {
    let ctx = ctx.with_user(&page.user);
    let id = path.into_inner();
    let org = page.user.own_org_id().map_err(page_err(ctx.lang))?;
    let d = bid_data(&state, ctx.lang, id, org).await?;
    let v = match d.own.as_ref().filter(|o| o.receipt.status == "active") {
        Some(OwnBid {
            content: Some(c), ..
        }) => BidForm::from_own(c),
        _ => BidForm::blank(&d.t.targets),
    };
    Ok(bid_form_page(
        &ctx,
        &state,
        d,
        v,
        &[],
        Shown::default(),
        StatusCode::OK,
    ))
}

#[derive(Template)]
#[template(path = "pages/tenders/receipt.html")]
struct ReceiptPage {
    ctx: PageCtx,
    l: Lx,
    t: TenderView,
    r: Receipt,
}

/// Submit the bid form: `multipart/form-data` with its files (the CSRF token first, checked before a byte
/// of a file is taken; the page's script sends it with a progress bar), or a plain form without files.
/// Files are sealed as they arrive; a refused bid keeps none of them and the form asks for them again.
pub(super) async fn bid_submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: PageCtx,
    page: Page<OrgOnly>,
    path: web::Path<i64>,
    payload: web::Payload,
) -> Result<HttpResponse, PageError> {
    use actix_web::HttpMessage;
    let ctx = ctx.with_user(&page.user);
    let id = path.into_inner();
    let org = page.user.own_org_id().map_err(page_err(ctx.lang))?;
    let uid = page.user.id;
    let (form, uploads, refused) = if req.content_type() == "multipart/form-data" {
        let r = &req;
        let received = crate::http::files::receive_bid(&req, payload, &state, org, id, |fields| {
            let token = fields
                .iter()
                .find(|(k, _)| k == "csrf")
                .map_or("", |(_, v)| v.as_str());
            crate::http::csrf::check(r, token)?;
            // No handler sees a control character (`http::input`), as for a plain form.
            let errs = crate::http::input::form_errors(fields);
            if errs.is_empty() {
                Ok(())
            } else {
                Err(AppError::Validation(errs))
            }
        })
        .await;
        match received {
            Ok((fields, uploads)) => (Form::new(fields), uploads, None),
            Err(r) if r.error.code() == "csrf_failed" || r.fields.is_empty() => {
                return Err(PageError::App(r.error, ctx.lang));
            }
            Err(r) => (Form::new(r.fields), Vec::new(), Some(r.error)),
        }
    } else {
        let form = crate::http::page::read_form(&req, payload.into_inner()).await?;
        (form, Vec::new(), None)
    };
    let files_again = !uploads.is_empty() || refused.is_some();
    let v = BidForm::from_fields(&form);
    let actor = crate::http::actor(&req, &page.user);
    let (result, used_lines) = match (refused, v.input()) {
        (Some(e), _) => (Err(e), Vec::new()),
        (None, Ok((input, used_lines))) => (
            crate::http::files::submit_bid(&state, actor, (uid, org, id), input, uploads).await,
            used_lines,
        ),
        (None, Err(e)) => {
            bids::discard(&state.files, uploads.iter().map(|u| u.object.as_str())).await;
            (Err(e), Vec::new())
        }
    };
    match result {
        Ok(r) => {
            let (tctx, now) = (state.tenders.clone(), state.clock.now());
            let t = state
                .run(move |c| tenders::get(c, &tctx, now, id, false))
                .await
                .map_err(page_err(ctx.lang))?;
            let page = ReceiptPage {
                l: lx(&ctx),
                ctx: ctx.clone(),
                t,
                r,
            };
            Ok(render(&ctx, StatusCode::OK, &page))
        }
        Err(AppError::Validation(errs)) => {
            // `budget[i].amount` names the i-th line sent; the form shows it at that line's input.
            let errs: Vec<FieldError> = errs
                .into_iter()
                .map(|mut e| {
                    if let Some(rest) = e.field.strip_prefix("budget[")
                        && let Some((i, _)) = rest.split_once(']')
                        && let Some(k) = i.parse::<usize>().ok().and_then(|i| used_lines.get(i))
                    {
                        e.field = format!("budget.{k}");
                    }
                    e
                })
                .collect();
            let d = bid_data(&state, ctx.lang, id, org).await?;
            let shown = Shown {
                problem: None,
                files_again,
            };
            Ok(bid_form_page(
                &ctx,
                &state,
                d,
                v,
                &errs,
                shown,
                StatusCode::UNPROCESSABLE_ENTITY,
            ))
        }
        Err(e @ AppError::Conflict { .. }) => {
            let m = pick_msg(ctx.lang, &e.message());
            let d = bid_data(&state, ctx.lang, id, org).await?;
            if !d.open {
                return Ok(redirect(&format!("/tenders/{id}"), Some(("error", &m))));
            }
            // A fresh key: the old one belongs to other content.
            let v = BidForm {
                idempotency_key: new_key(),
                ..v
            };
            let shown = Shown {
                problem: Some(m),
                files_again,
            };
            Ok(bid_form_page(
                &ctx,
                &state,
                d,
                v,
                &[],
                shown,
                StatusCode::CONFLICT,
            ))
        }
        Err(e) => Err(PageError::App(e, ctx.lang)),
    }
}

/// An attachment of a bid, by the same rule and with the same answers as the API
/// (`bids::read_attachment`).
pub(super) async fn attachment_download(
    state: web::Data<AppState>,
    ctx: PageCtx,
    page: Page<AttachmentReaders>,
    path: web::Path<(i64, i64, usize)>,
) -> Result<HttpResponse, PageError> {
    let (id, seq, n) = path.into_inner();
    let user = page.user.clone();
    let (meta, body) = state
        .run_tenders(move |c, ctx, now| bids::read_attachment(c, ctx, now, &user, id, seq, n))
        .await
        .map_err(page_err(ctx.lang))?;
    crate::http::files::bid_attachment(&state, meta, body)
        .await
        .map_err(page_err(ctx.lang))
}

// ---------------------------------------------------------------------------------------------------------
// An organisation's bids

#[derive(Template)]
#[template(path = "pages/tenders/my_bids.html")]
struct MyBidsPage {
    ctx: PageCtx,
    l: Lx,
    rows: Vec<bids::MyBidLine>,
}

pub(super) async fn my_bids_page(
    state: web::Data<AppState>,
    ctx: PageCtx,
    page: Page<OrgOnly>,
) -> Result<HttpResponse, PageError> {
    let ctx = ctx.with_user(&page.user);
    let org = page.user.own_org_id().map_err(page_err(ctx.lang))?;
    let rows = state
        .run(move |c| Ok(bids::my_bids(c, org)?))
        .await
        .map_err(page_err(ctx.lang))?;
    let page = MyBidsPage {
        l: lx(&ctx),
        ctx: ctx.clone(),
        rows,
    };
    Ok(render(&ctx, StatusCode::OK, &page))
}

//! Spending pages: a contract's spending (summary per budget line with a bar each, the items with paging,
//! the organisation's form to report an item with inline errors and its CSV upload listing every bad row,
//! finance's review buttons per item, the organisation's answer to a query) and the audit flags (filters,
//! paging, CSV export). They call `contracts::spending` and `contracts::flags`, as the API does.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::app::AppState;
use crate::auth::{CurrentUser, Role};
use crate::contracts::Reader;
use crate::contracts::flags::{self, FlagFilter};
use crate::contracts::spending::{
    self, AnswerInput, ItemView, NewItem, ReviewInput, SpendingFilter, Summary,
};
use crate::domain::flags::{Flag, Rule};
use crate::error::{AppError, FieldError};
use crate::http::caller::{FinanceOnly, OrgOnly, Page, SpendingReaders};
use crate::http::page::{
    FormErrors, PageCtx, PageError, Pager, SafeForm, bar_class, list_link, page_err, redirect,
    render,
};

/// Protected pages of this module: (method, example path, roles allowed). The refusal tests walk them.
/// (A contract's spending page needs a contract, which the refusal walk's fixture does not have; its
/// posts are pinned in tests/it/page_posts.rs.)
pub const PROTECTED: &[(&str, &str, &[Role])] = &[(
    "GET",
    "/flags",
    &[Role::Finance, Role::Admin, Role::Bureau, Role::Org],
)];

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/contracts/{id}/spending", web::get().to(spending_page))
        .route("/contracts/{id}/spending", web::post().to(report_submit))
        .route(
            "/contracts/{id}/spending/import",
            web::post().to(import_submit),
        )
        .route("/spending/{id}/review", web::post().to(review_submit))
        .route("/spending/{id}/answer", web::post().to(answer_submit))
        .route("/flags", web::get().to(flags_page));
}

/// The list's filters as typed.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct ItemQuery {
    #[serde(default)]
    state: String,
    #[serde(default)]
    line: String,
    #[serde(default)]
    page: Option<i64>,
    #[serde(default)]
    per_page: Option<i64>,
}

/// The item form as typed.
#[derive(Debug, Default, Clone, Deserialize)]
struct ItemForm {
    #[serde(default)]
    date: String,
    #[serde(default)]
    line: String,
    #[serde(default)]
    amount: String,
    #[serde(default)]
    invoice_no: String,
    #[serde(default)]
    payee: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    evidence_sha256: String,
}

#[derive(Debug, Default, Clone, Deserialize)]
struct ImportForm {
    #[serde(default)]
    csv: String,
}

#[derive(Debug, Default, Clone, Deserialize)]
struct ReviewForm {
    #[serde(default)]
    decision: String,
    #[serde(default)]
    note: String,
}

#[derive(Debug, Default, Clone, Deserialize)]
struct AnswerForm {
    #[serde(default)]
    answer: String,
}

struct Opt {
    code: String,
    label: String,
}

#[derive(Template)]
#[template(path = "pages/spending/contract.html")]
struct SpendingPage {
    ctx: PageCtx,
    s: Summary,
    items: Vec<ItemView>,
    f: ItemQuery,
    pager: Pager,
    states: Vec<Opt>,
    lines: Vec<Opt>,
    /// The organisation may report (its own live contract).
    can_report: bool,
    is_finance: bool,
    is_org: bool,
    form: ItemForm,
    errors: FormErrors,
    csv: String,
    /// The bad rows of a refused CSV file: (field, message).
    csv_errors: Vec<(String, String)>,
    /// A refused review or answer: (item, message).
    item_error: Option<(i64, String)>,
    flags: Vec<Flag>,
    /// The items' evidence, by item id.
    evidence: std::collections::HashMap<i64, crate::pages::evidence::EvidenceCell>,
}

impl SpendingPage {
    fn yuan(&self, fen: &i64) -> String {
        crate::domain::money::yuan_grouped(*fen)
    }
    fn bar(&self, pct: &u32) -> String {
        bar_class(i64::from(*pct), 100)
    }
    fn line_label(&self, zh: &str, en: &str) -> String {
        self.ctx.lang.pick(zh, en).to_string()
    }
    fn state_label(&self, s: &str) -> String {
        spending::state_label(s, self.ctx.lang == crate::i18n::Lang::Zh)
    }
    fn reviewable(&self, i: &ItemView) -> bool {
        self.is_finance && matches!(i.state.as_str(), "submitted" | "answered")
    }
    fn answerable(&self, i: &ItemView) -> bool {
        self.is_org && i.state == "queried"
    }
    fn item_error_of(&self, id: &i64) -> String {
        match &self.item_error {
            Some((i, m)) if i == id => m.clone(),
            _ => String::new(),
        }
    }
    fn evidence(&self, f: &Flag) -> String {
        self.ctx
            .lang
            .pick(&f.evidence_zh, &f.evidence_en)
            .to_string()
    }
    fn rule_label(&self, f: &Flag) -> String {
        f.rule
            .label(self.ctx.lang == crate::i18n::Lang::Zh)
            .to_string()
    }
}

/// Everything the contract's spending page shows, with what a refused form brings back.
#[derive(Default)]
struct Shown {
    form: ItemForm,
    errors: FormErrors,
    csv: String,
    csv_errors: Vec<(String, String)>,
    item_error: Option<(i64, String)>,
}

async fn show(
    state: &AppState,
    ctx: &PageCtx,
    user: &CurrentUser,
    id: i64,
    f: ItemQuery,
    shown: Shown,
    status: StatusCode,
) -> Result<HttpResponse, PageError> {
    let r = Reader::of(Some(user));
    let filter = SpendingFilter {
        state: Some(f.state.clone()),
        line: Some(f.line.clone()),
        page: f.page,
        per_page: f.per_page,
    };
    let fctx = flags::Ctx::from_config(&state.config);
    let today = state.today();
    let pctx = ctx.clone();
    let (s, list, fl, evidence) = state
        .run(move |c| {
            let s = spending::summary(c, r, id)?;
            let list = spending::list(c, r, id, &filter)?;
            let held: Vec<_> = list
                .items
                .iter()
                .map(|i| (i.id, s.organisation_id, i.evidence_sha256.clone()))
                .collect();
            let back = format!("/contracts/{id}/spending");
            let purpose = crate::files::Purpose::SpendingEvidence;
            let evidence = crate::pages::evidence::cells(c, &pctx, purpose, &held, &back)?;
            let fl = flags::for_contract(c, &fctx, r, today, id)?;
            Ok((s, list, fl, evidence))
        })
        .await
        .map_err(page_err(ctx.lang))?;
    let base = format!("/contracts/{id}/spending");
    let params = [("state", f.state.clone()), ("line", f.line.clone())];
    let pager = Pager::new(&base, &params, &list);
    let zh = ctx.lang == crate::i18n::Lang::Zh;
    let p = SpendingPage {
        can_report: user.role == Role::Org && s.open,
        is_finance: user.role == Role::Finance,
        is_org: user.role == Role::Org,
        states: spending::STATES
            .iter()
            .map(|(k, z, e)| Opt {
                code: k.to_string(),
                label: if zh { z } else { e }.to_string(),
            })
            .collect(),
        lines: s
            .lines
            .iter()
            .map(|l| Opt {
                code: l.line.clone(),
                label: ctx.lang.pick(&l.line_zh, &l.line_en).to_string(),
            })
            .collect(),
        items: list.items,
        s,
        f,
        pager,
        form: shown.form,
        errors: shown.errors,
        csv: shown.csv,
        csv_errors: shown.csv_errors,
        item_error: shown.item_error,
        flags: fl,
        evidence,
        ctx: ctx.clone(),
    };
    Ok(render(ctx, status, &p))
}

async fn spending_page(
    state: web::Data<AppState>,
    ctx: PageCtx,
    page: Page<SpendingReaders>,
    id: web::Path<i64>,
    q: web::Query<ItemQuery>,
) -> Result<HttpResponse, PageError> {
    let ctx = ctx.with_user(&page.user);
    show(
        &state,
        &ctx,
        &page.user,
        id.into_inner(),
        q.into_inner(),
        Shown::default(),
        StatusCode::OK,
    )
    .await
}

fn messages(ctx: &PageCtx, errs: &[FieldError]) -> Vec<(String, String)> {
    errs.iter()
        .map(|e| {
            (
                e.field.clone(),
                ctx.lang.pick(&e.message.zh, &e.message.en).to_string(),
            )
        })
        .collect()
}

async fn report_submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: PageCtx,
    page: Page<OrgOnly>,
    id: web::Path<i64>,
    sent: crate::http::files::FormWithFile,
) -> Result<HttpResponse, PageError> {
    use crate::files::{Purpose, evidence};
    let ctx = ctx.with_user(&page.user);
    let id = id.into_inner();
    let f: ItemForm = sent.form.deserialize().unwrap_or_default();
    let org = page.user.own_org_id().map_err(page_err(ctx.lang))?;
    let mut n = NewItem {
        date: f.date.clone(),
        line: f.line.clone(),
        amount: f.amount.clone(),
        invoice_no: f.invoice_no.clone(),
        payee: f.payee.clone(),
        description: f.description.clone(),
        evidence_sha256: Some(f.evidence_sha256.clone()),
    };
    let actor = crate::http::actor(&req, &page.user);
    let now = state.clock.now();
    let outcome = match sent.file {
        Err(e) => Err(e),
        Ok(file) => {
            crate::http::files::with_evidence(
                &state.files,
                file,
                Purpose::SpendingEvidence,
                page.user.id,
                ("evidence_sha256", &f.evidence_sha256),
                |hash, ev| {
                    n.evidence_sha256 = Some(hash);
                    state.run(move |c| {
                        evidence::written_with(
                            c,
                            &actor,
                            now,
                            ev.as_ref(),
                            |c| spending::report(c, &actor, now, org, id, &n),
                            |_, v| Ok(v.id),
                        )
                    })
                },
            )
            .await
        }
    };
    match outcome {
        Ok(v) => Ok(redirect(
            &format!("/contracts/{id}/spending#item-{}", v.id),
            Some(("ok", ctx.t("spending.reported_ok"))),
        )),
        Err(AppError::Validation(errs)) => {
            let shown = Shown {
                form: f,
                errors: FormErrors::from_fields(ctx.lang, &errs),
                ..Default::default()
            };
            show(
                &state,
                &ctx,
                &page.user,
                id,
                ItemQuery::default(),
                shown,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => Err(PageError::App(e, ctx.lang)),
    }
}

async fn import_submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: PageCtx,
    page: Page<OrgOnly>,
    id: web::Path<i64>,
    form: SafeForm<ImportForm>,
) -> Result<HttpResponse, PageError> {
    let ctx = ctx.with_user(&page.user);
    let (id, f) = (id.into_inner(), form.0);
    let org = page.user.own_org_id().map_err(page_err(ctx.lang))?;
    let actor = crate::http::actor(&req, &page.user);
    let now = state.clock.now();
    let csv = f.csv.clone();
    match state
        .run(move |c| spending::import_csv(c, &actor, now, org, id, &csv))
        .await
    {
        Ok(r) => Ok(redirect(
            &format!("/contracts/{id}/spending"),
            Some((
                "ok",
                &format!("{} {}", ctx.t("spending.imported"), r.created),
            )),
        )),
        Err(AppError::Validation(errs)) => {
            let shown = Shown {
                csv: f.csv,
                csv_errors: messages(&ctx, &errs),
                ..Default::default()
            };
            show(
                &state,
                &ctx,
                &page.user,
                id,
                ItemQuery::default(),
                shown,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => Err(PageError::App(e, ctx.lang)),
    }
}

/// After a review or an answer: back to the item on its contract's page, or the page again with the
/// item's error (422 for a field rule, 409 for an item no longer in that state).
async fn after_item_step(
    state: &AppState,
    ctx: &PageCtx,
    user: &CurrentUser,
    item: i64,
    done: Result<ItemView, AppError>,
    ok: &str,
) -> Result<HttpResponse, PageError> {
    match done {
        Ok(v) => Ok(redirect(
            &format!("/contracts/{}/spending#item-{item}", v.contract_id),
            Some(("ok", ok)),
        )),
        Err(e @ (AppError::Validation(_) | AppError::Conflict { .. })) => {
            let status = actix_web::ResponseError::status_code(&e);
            let message = match &e {
                AppError::Validation(errs) => messages(ctx, errs)
                    .into_iter()
                    .map(|(_, m)| m)
                    .collect::<Vec<_>>()
                    .join(" "),
                other => {
                    let m = other.message();
                    ctx.lang.pick(&m.zh, &m.en).to_string()
                }
            };
            let r = Reader::of(Some(user));
            let contract = state
                .run(move |c| Ok(spending::get(c, r, item)?.contract_id))
                .await
                .map_err(page_err(ctx.lang))?;
            let shown = Shown {
                item_error: Some((item, message)),
                ..Default::default()
            };
            show(
                state,
                ctx,
                user,
                contract,
                ItemQuery::default(),
                shown,
                status,
            )
            .await
        }
        Err(e) => Err(PageError::App(e, ctx.lang)),
    }
}

async fn review_submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: PageCtx,
    page: Page<FinanceOnly>,
    id: web::Path<i64>,
    form: SafeForm<ReviewForm>,
) -> Result<HttpResponse, PageError> {
    let ctx = ctx.with_user(&page.user);
    let (item, f) = (id.into_inner(), form.0);
    let input = ReviewInput {
        decision: f.decision,
        note: Some(f.note),
    };
    let actor = crate::http::actor(&req, &page.user);
    let done = state
        .run_contracts(move |c, cctx, now| spending::review(c, cctx, &actor, now, item, &input))
        .await;
    after_item_step(
        &state,
        &ctx,
        &page.user,
        item,
        done,
        ctx.t("spending.reviewed"),
    )
    .await
}

async fn answer_submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: PageCtx,
    page: Page<OrgOnly>,
    id: web::Path<i64>,
    form: SafeForm<AnswerForm>,
) -> Result<HttpResponse, PageError> {
    let ctx = ctx.with_user(&page.user);
    let (item, f) = (id.into_inner(), form.0);
    let org = page.user.own_org_id().map_err(page_err(ctx.lang))?;
    let input = AnswerInput { answer: f.answer };
    let actor = crate::http::actor(&req, &page.user);
    let now = state.clock.now();
    let done = state
        .run(move |c| spending::answer(c, &actor, now, org, item, &input))
        .await;
    after_item_step(
        &state,
        &ctx,
        &page.user,
        item,
        done,
        ctx.t("spending.answered"),
    )
    .await
}

/// The flag list's filters as typed.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct FlagQuery {
    #[serde(default)]
    rule: String,
    #[serde(default)]
    contract: String,
    #[serde(default)]
    organisation: String,
    #[serde(default)]
    year: String,
    #[serde(default)]
    page: Option<i64>,
    #[serde(default)]
    per_page: Option<i64>,
}

#[derive(Template)]
#[template(path = "pages/spending/flags.html")]
struct FlagsPage {
    ctx: PageCtx,
    rows: Vec<Flag>,
    f: FlagQuery,
    rules: Vec<Opt>,
    pager: Pager,
    export: String,
    /// Fields of the filter that are not numbers.
    bad: Vec<&'static str>,
    /// The ledger digest, for finance and the bureau (not organisations).
    digest: Option<crate::ledger::Digest>,
}

impl FlagsPage {
    fn evidence(&self, f: &Flag) -> String {
        self.ctx
            .lang
            .pick(&f.evidence_zh, &f.evidence_en)
            .to_string()
    }
    fn rule_label(&self, f: &Flag) -> String {
        f.rule
            .label(self.ctx.lang == crate::i18n::Lang::Zh)
            .to_string()
    }
    fn severity(&self, f: &Flag) -> String {
        f.severity
            .label(self.ctx.lang == crate::i18n::Lang::Zh)
            .to_string()
    }
}

async fn flags_page(
    state: web::Data<AppState>,
    ctx: PageCtx,
    page: Page<SpendingReaders>,
    q: web::Query<FlagQuery>,
) -> Result<HttpResponse, PageError> {
    let ctx = ctx.with_user(&page.user);
    let f = q.into_inner();
    let mut bad = Vec::new();
    let mut num = |name: &'static str, v: &str| -> Option<i64> {
        let v = v.trim();
        if v.is_empty() {
            return None;
        }
        let n = v.parse::<i64>().ok();
        if n.is_none() {
            bad.push(name);
        }
        n
    };
    let filter = FlagFilter {
        rule: Some(f.rule.clone()),
        contract: num("contract", &f.contract),
        organisation: num("organisation", &f.organisation),
        year: num("year", &f.year).and_then(|y| i32::try_from(y).ok()),
        page: f.page,
        from: None,
        to: None,
        per_page: f.per_page,
    };
    let r = Reader::of(Some(&page.user));
    let fctx = flags::Ctx::from_config(&state.config);
    let today = state.today();
    let (list, digest) = state
        .run(move |c| {
            let d = if r == Reader::Staff {
                Some(crate::ledger::digest(c)?)
            } else {
                None
            };
            Ok((flags::flags(c, &fctx, r, today, &filter)?, d))
        })
        .await
        .map_err(page_err(ctx.lang))?;
    let params = [
        ("rule", f.rule.clone()),
        ("contract", f.contract.clone()),
        ("organisation", f.organisation.clone()),
        ("year", f.year.clone()),
    ];
    let pager = Pager::new("/flags", &params, &list);
    let zh = ctx.lang == crate::i18n::Lang::Zh;
    let status = if bad.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let p = FlagsPage {
        export: list_link("/api/v1/flags/export", &params),
        rules: Rule::ALL
            .iter()
            .map(|r| Opt {
                code: r.as_str().into(),
                label: r.label(zh).into(),
            })
            .collect(),
        rows: list.items,
        f,
        pager,
        bad,
        digest,
        ctx: ctx.clone(),
    };
    Ok(render(&ctx, status, &p))
}

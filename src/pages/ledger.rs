//! The finance pages: budget appropriations (list with search and paging; finance records new ones through
//! a form with inline errors) and the trial balance with its CSV and the journal download. Every one shows
//! the ledger digest (last sequence number and hash).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::app::AppState;
use crate::auth::Role;
use crate::error::AppError;
use crate::http::caller::{AdminOrFinance, BudgetReaders, FinanceOnly, Page};
use crate::http::page::{
    FormErrors, PageCtx, PageError, Pager, SafeForm, list_link, page_err, redirect, render,
};
use crate::ledger::appropriations::{
    self, AppropriationFilter, AppropriationView, NewAppropriation, Yuan,
};
use crate::ledger::{self, BalanceRow, Digest, TrialBalance};

/// Protected pages of this module: (method, example path, roles allowed). The refusal tests walk them.
pub const PROTECTED: &[(&str, &str, &[Role])] = &[
    (
        "GET",
        "/finance/appropriations",
        &[Role::Finance, Role::Admin, Role::Bureau],
    ),
    ("GET", "/finance/appropriations/new", &[Role::Finance]),
    (
        "GET",
        "/finance/trial-balance",
        &[Role::Admin, Role::Finance],
    ),
];

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/finance/appropriations", web::get().to(list_page))
        .route("/finance/appropriations/new", web::get().to(new_page))
        .route("/finance/appropriations/new", web::post().to(new_submit))
        .route("/finance/trial-balance", web::get().to(trial_balance_page));
}

/// The list's filters as typed (every value a string, so a half-typed year comes back as typed).
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    year: String,
    #[serde(default)]
    fund: String,
    #[serde(default)]
    page: Option<i64>,
    #[serde(default)]
    per_page: Option<i64>,
}

struct FundOpt {
    code: String,
    label: String,
}

#[derive(Template)]
#[template(path = "pages/ledger/appropriations.html")]
struct ListPage {
    ctx: PageCtx,
    rows: Vec<AppropriationView>,
    f: ListQuery,
    funds: Vec<FundOpt>,
    years: Vec<i32>,
    pager: Pager,
    can_record: bool,
    digest: Digest,
    year_error: bool,
}

fn fund_opts(state: &AppState, ctx: &PageCtx) -> Vec<FundOpt> {
    state
        .config
        .ledger
        .funds
        .iter()
        .map(|f| FundOpt {
            code: f.code.clone(),
            label: ctx.lang.pick(&f.zh, &f.en).to_string(),
        })
        .collect()
}

fn field_label(ctx: &PageCtx, field: &Option<String>) -> String {
    match field {
        Some(f) => ctx.label(crate::registry::orgs::FIELDS, f),
        None => ctx.t("ledger.any_field").to_string(),
    }
}

async fn list_page(
    state: web::Data<AppState>,
    ctx: PageCtx,
    page: Page<BudgetReaders>,
    q: web::Query<ListQuery>,
) -> Result<HttpResponse, PageError> {
    let ctx = ctx.with_user(&page.user);
    let f = q.into_inner();
    let year = f.year.trim().parse::<i32>().ok();
    let year_error = !f.year.trim().is_empty() && year.is_none();
    let filter = AppropriationFilter {
        q: Some(f.q.clone()),
        year,
        fund: Some(f.fund.clone()),
        field: None,
        page: f.page,
        per_page: f.per_page,
    };
    let cfg = state.config.clone();
    let (list, years, digest) = state
        .run(move |c| {
            Ok((
                appropriations::list(c, &cfg.ledger, &filter)?,
                appropriations::years(c)?,
                ledger::digest(c)?,
            ))
        })
        .await
        .map_err(page_err(ctx.lang))?;
    let params = [
        ("q", f.q.clone()),
        ("year", f.year.clone()),
        ("fund", f.fund.clone()),
    ];
    let pager = Pager::new("/finance/appropriations", &params, &list);
    let p = ListPage {
        can_record: page.user.role == Role::Finance,
        funds: fund_opts(&state, &ctx),
        rows: list.items,
        f,
        years,
        pager,
        digest,
        year_error,
        ctx: ctx.clone(),
    };
    let status = if year_error {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    Ok(render(&ctx, status, &p))
}

/// The form as typed.
#[derive(Debug, Default, Clone, Deserialize)]
struct AppropriationForm {
    #[serde(default)]
    year: String,
    #[serde(default)]
    fund: String,
    #[serde(default)]
    field: String,
    #[serde(default)]
    amount: String,
    #[serde(default)]
    document_no: String,
    #[serde(default)]
    date: String,
    #[serde(default)]
    note: String,
    /// Generated when the form is opened, so a double submit records one appropriation.
    #[serde(default)]
    idempotency_key: String,
}

struct FieldOpt {
    code: &'static str,
    label: String,
}

#[derive(Template)]
#[template(path = "pages/ledger/appropriation_form.html")]
struct FormPage {
    ctx: PageCtx,
    form: AppropriationForm,
    errors: FormErrors,
    funds: Vec<FundOpt>,
    fields: Vec<FieldOpt>,
    digest: Digest,
}

async fn form_page(
    state: &AppState,
    ctx: &PageCtx,
    form: AppropriationForm,
    errors: FormErrors,
    status: StatusCode,
) -> Result<HttpResponse, PageError> {
    let digest = state
        .run(ledger::digest)
        .await
        .map_err(page_err(ctx.lang))?;
    let fields = crate::registry::orgs::FIELDS
        .iter()
        .map(|(k, zh, en)| FieldOpt {
            code: k,
            label: ctx.lang.pick(zh, en).to_string(),
        })
        .collect();
    let p = FormPage {
        ctx: ctx.clone(),
        form,
        errors,
        funds: fund_opts(state, ctx),
        fields,
        digest,
    };
    Ok(render(ctx, status, &p))
}

async fn new_page(
    state: web::Data<AppState>,
    ctx: PageCtx,
    page: Page<FinanceOnly>,
) -> Result<HttpResponse, PageError> {
    let ctx = ctx.with_user(&page.user);
    let form = AppropriationForm {
        year: state.today().format("%Y").to_string(),
        idempotency_key: uuid::Uuid::new_v4().to_string(),
        ..Default::default()
    };
    form_page(&state, &ctx, form, FormErrors::default(), StatusCode::OK).await
}

async fn new_submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: PageCtx,
    page: Page<FinanceOnly>,
    form: SafeForm<AppropriationForm>,
) -> Result<HttpResponse, PageError> {
    let ctx = ctx.with_user(&page.user);
    let f = form.0;
    // A year that is not a number is checked with the rest (out of range), so every error shows at once.
    let year = f.year.trim().parse::<i32>().unwrap_or(0);
    let n = NewAppropriation {
        year,
        fund: f.fund.clone(),
        field: Some(f.field.clone()),
        amount: Yuan::Text(f.amount.clone()),
        document_no: f.document_no.clone(),
        note: Some(f.note.clone()),
        date: Some(f.date.clone()),
        idempotency_key: f.idempotency_key.clone(),
    };
    let actor = crate::http::actor(&req, &page.user);
    let (cfg, now) = (state.config.clone(), state.clock.now());
    let r = state
        .run(move |c| appropriations::create(c, &cfg.ledger, &actor, now, &n))
        .await;
    match r {
        Ok(created) => Ok(redirect(
            &list_link(
                "/finance/appropriations",
                &[("year", created.view.year.to_string())],
            ),
            Some(("ok", ctx.t("ledger.recorded"))),
        )),
        Err(AppError::Validation(errs)) => {
            let errors = FormErrors::from_fields(ctx.lang, &errs);
            form_page(&state, &ctx, f, errors, StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(e @ AppError::Conflict { .. }) => {
            let m = e.message();
            let errs = [crate::error::FieldError::new(
                "idempotency_key",
                e.code(),
                m.zh,
                m.en,
            )];
            let mut f = f;
            f.idempotency_key = uuid::Uuid::new_v4().to_string();
            let errors = FormErrors::from_fields(ctx.lang, &errs);
            form_page(&state, &ctx, f, errors, StatusCode::CONFLICT).await
        }
        Err(e) => Err(PageError::App(e, ctx.lang)),
    }
}

#[derive(Template)]
#[template(path = "pages/ledger/trial_balance.html")]
struct TrialBalancePage {
    ctx: PageCtx,
    tb: TrialBalance,
    digest: Digest,
}

async fn trial_balance_page(
    state: web::Data<AppState>,
    ctx: PageCtx,
    page: Page<AdminOrFinance>,
) -> Result<HttpResponse, PageError> {
    let ctx = ctx.with_user(&page.user);
    let tb = state
        .run(ledger::trial_balance)
        .await
        .map_err(page_err(ctx.lang))?;
    let p = TrialBalancePage {
        digest: tb.digest.clone(),
        tb,
        ctx: ctx.clone(),
    };
    Ok(render(&ctx, StatusCode::OK, &p))
}

/// Yuan with thousands separators, as every money figure on the pages (the API keeps plain decimals).
fn grouped(fen: i64) -> String {
    crate::domain::money::yuan_grouped(fen)
}

impl TrialBalancePage {
    fn debit(&self, r: &BalanceRow) -> String {
        if r.balance_fen > 0 {
            grouped(r.balance_fen)
        } else {
            String::new()
        }
    }
    fn credit(&self, r: &BalanceRow) -> String {
        if r.balance_fen < 0 {
            grouped(-r.balance_fen)
        } else {
            String::new()
        }
    }
    fn total(&self, fen: &i64) -> String {
        grouped(*fen)
    }
}

impl ListPage {
    fn money(&self, fen: &i64) -> String {
        grouped(*fen)
    }
    fn field_of(&self, r: &AppropriationView) -> String {
        field_label(&self.ctx, &r.field)
    }
    fn date_of(&self, r: &AppropriationView) -> String {
        r.date.format("%Y-%m-%d").to_string()
    }
}

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
use crate::ledger::execution::{Execution, ExecutionFilter};
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
    (
        "GET",
        "/finance/execution",
        &[Role::Finance, Role::Admin, Role::Bureau],
    ),
];

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/finance/appropriations", web::get().to(list_page))
        .route("/finance/appropriations/new", web::get().to(new_page))
        .route("/finance/appropriations/new", web::post().to(new_submit))
        .route("/finance/trial-balance", web::get().to(trial_balance_page))
        .route("/finance/execution", web::get().to(execution_page));
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

/// The execution page's filters as typed.
#[derive(Debug, Default, Clone, Deserialize)]
struct ExecutionQuery {
    #[serde(default)]
    year: String,
    #[serde(default)]
    fund: String,
    #[serde(default)]
    field: String,
}

/// One bar of a chart: label, width class, value shown.
struct Bar {
    label: String,
    class: String,
    value: String,
}

#[derive(Template)]
#[template(path = "pages/ledger/execution.html")]
struct ExecutionPage {
    ctx: PageCtx,
    e: Execution,
    f: ExecutionQuery,
    years: Vec<i32>,
    funds: Vec<FundOpt>,
    fields: Vec<FieldOpt>,
    /// Appropriated and paid by field, two bars each.
    field_bars: Vec<(String, Bar, Bar)>,
    month_bars: Vec<Bar>,
    street_bars: Vec<Bar>,
    digest: Digest,
    export: String,
}

impl ExecutionPage {
    fn money(&self, fen: &i64) -> String {
        grouped(*fen)
    }
    fn fund_of(&self, code: &str) -> String {
        self.funds
            .iter()
            .find(|f| f.code == code)
            .map_or_else(|| code.to_string(), |f| f.label.clone())
    }
    fn field_of(&self, f: &Option<String>) -> String {
        field_label(&self.ctx, f)
    }
}

async fn execution_page(
    state: web::Data<AppState>,
    ctx: PageCtx,
    page: Page<BudgetReaders>,
    q: web::Query<ExecutionQuery>,
) -> Result<HttpResponse, PageError> {
    let ctx = ctx.with_user(&page.user);
    let f = q.into_inner();
    let filter = ExecutionFilter {
        year: f.year.trim().parse().ok(),
        fund: Some(f.fund.clone()),
        field: Some(f.field.clone()),
    };
    let cfg = state.config.clone();
    let (e, years) = state
        .run(move |c| {
            Ok((
                ledger::execution::execution(c, &cfg.ledger, &filter)?,
                appropriations::years(c)?,
            ))
        })
        .await
        .map_err(page_err(ctx.lang))?;
    let bar = |label: String, fen: i64, max: i64| Bar {
        label,
        class: crate::http::page::bar_class(fen, max),
        value: grouped(fen),
    };
    let max_field = e
        .by_field
        .iter()
        .map(|x| x.figures.appropriated_fen.max(x.figures.paid_fen))
        .max()
        .unwrap_or(0);
    let field_bars = e
        .by_field
        .iter()
        .map(|ff| {
            let (k, x) = (&ff.field, &ff.figures);
            let name = field_label(
                &ctx,
                &(k != crate::domain::ledger::COMMON).then(|| k.clone()),
            );
            (
                name,
                bar(
                    ctx.t("ledger.appropriated").into(),
                    x.appropriated_fen,
                    max_field,
                ),
                bar(ctx.t("ledger.paid").into(), x.paid_fen, max_field),
            )
        })
        .collect();
    // Budget against paid over time: each month's bar is what was paid by its end, against the budgets
    // shown (appropriated); the value says what was paid in the month.
    let budget = e.total.appropriated_fen.max(1);
    let month_bars = e
        .by_month
        .iter()
        .rev()
        .take(24)
        .rev()
        .map(|m| Bar {
            label: format!(
                "{} · {}%",
                m.month,
                ledger::execution::rate(m.cumulative_fen, budget)
            ),
            class: crate::http::page::bar_class(m.cumulative_fen, budget),
            value: format!("+{} = {}", grouped(m.paid_fen), grouped(m.cumulative_fen)),
        })
        .collect();
    let max_street = e
        .by_street
        .iter()
        .map(|s| s.contracted_fen)
        .max()
        .unwrap_or(0);
    let street_bars = e
        .by_street
        .iter()
        .map(|s| Bar {
            label: format!("{} · {}%", s.street, s.rate),
            class: crate::http::page::bar_class(s.paid_fen, max_street),
            value: format!("{} / {}", grouped(s.paid_fen), grouped(s.contracted_fen)),
        })
        .collect();
    let params = [
        ("year", f.year.clone()),
        ("fund", f.fund.clone()),
        ("field", f.field.clone()),
    ];
    let p = ExecutionPage {
        digest: e.digest.clone(),
        export: list_link("/api/v1/ledger/execution/export", &params),
        funds: fund_opts(&state, &ctx),
        fields: crate::registry::orgs::FIELDS
            .iter()
            .map(|(k, zh, en)| FieldOpt {
                code: k,
                label: ctx.lang.pick(zh, en).to_string(),
            })
            .collect(),
        field_bars,
        month_bars,
        street_bars,
        years,
        e,
        f,
        ctx: ctx.clone(),
    };
    Ok(render(&ctx, StatusCode::OK, &p))
}

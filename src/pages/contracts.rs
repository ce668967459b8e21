//! Contract pages: the list (the public's contract notices; an organisation's own contracts; all for staff)
//! with search and paging, and a contract's page: its money as a bar (committed, accrued, paid), parties,
//! term and dates with the late flags, instalments with their acceptance and payment, budget lines and
//! offered targets, and the forms of the next step for the one who takes it (bureau: sign, start, accept,
//! terminate, close; finance: pay). Staff see the ledger digest.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::app::AppState;
use crate::auth::Role;
use crate::contracts::performance::{PerformanceView, SurveyInput, Surveys, TargetProgress};
use crate::contracts::{
    self, AcceptInput, ContractFilter, ContractLine, ContractView, InstalmentView, PayInput,
    Reader, SignInput, TerminateInput,
};
use crate::domain::contract::State;
use crate::domain::performance::Evaluation;
use crate::error::AppError;
use crate::http::caller::{BureauOnly, BureauOrAdmin, FinanceOnly, Page};
use crate::http::page::{
    ActionErrors, Form, PageCtx, PageError, Pager, messages, page_err, pick_msg, redirect, render,
    with_caller,
};
use crate::ledger::Digest;

/// Protected pages of this module: (method, example path, roles allowed). The refusal tests walk them.
pub const PROTECTED: &[(&str, &str, &[Role])] = &[];

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/contracts", web::get().to(list_page))
        .route("/contracts/{id}", web::get().to(detail_page))
        .route("/contracts/{id}/sign", web::post().to(sign_submit))
        .route("/contracts/{id}/start", web::post().to(start_submit))
        .route(
            "/contracts/{id}/instalments/{no}/accept",
            web::post().to(accept_submit),
        )
        .route("/contracts/{id}/pay", web::post().to(pay_submit))
        .route("/contracts/{id}/surveys", web::post().to(survey_submit))
        .route(
            "/contracts/{id}/terminate",
            web::post().to(terminate_submit),
        )
        .route("/contracts/{id}/close", web::post().to(close_submit));
}

/// The list's filters as typed.
#[derive(Debug, Default, Clone, Deserialize)]
struct ListQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    state: String,
    #[serde(default)]
    year: String,
    #[serde(default)]
    page: Option<i64>,
    #[serde(default)]
    per_page: Option<i64>,
}

#[derive(Template)]
#[template(path = "pages/contracts/list.html")]
struct ListPage {
    ctx: PageCtx,
    rows: Vec<ContractLine>,
    f: ListQuery,
    states: Vec<(&'static str, &'static str)>,
    pager: Pager,
    export: String,
    staff: bool,
}

impl ListPage {
    fn state_of(&self, r: &ContractLine) -> &'static str {
        State::parse(&r.state).map_or("", |s| s.label(self.ctx.lang == crate::i18n::Lang::Zh))
    }
}

async fn list_page(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: PageCtx,
    q: web::Query<ListQuery>,
) -> Result<HttpResponse, PageError> {
    let ctx = with_caller(&req, ctx).await;
    let f = q.into_inner();
    let reader = Reader::of(ctx.user.as_ref());
    let filter = ContractFilter {
        q: Some(f.q.clone()),
        state: Some(f.state.clone()),
        year: f.year.trim().parse().ok(),
        page: f.page,
        per_page: f.per_page,
    };
    let fl = filter.clone();
    let list = state
        .run(move |c| contracts::list(c, reader, &fl))
        .await
        .map_err(page_err(ctx.lang))?;
    let params = [
        ("q", f.q.clone()),
        ("state", f.state.clone()),
        ("year", f.year.clone()),
    ];
    let pager = Pager::new("/contracts", &params, &list);
    let export = crate::http::page::list_link("/api/v1/contracts/export", &params);
    let zh = ctx.lang == crate::i18n::Lang::Zh;
    let staff = reader == Reader::Staff;
    let states = State::ALL
        .into_iter()
        .filter(|s| staff || s.is_public())
        .map(|s| (s.as_str(), s.label(zh)))
        .collect();
    let p = ListPage {
        rows: list.items,
        f,
        states,
        pager,
        export,
        staff,
        ctx: ctx.clone(),
    };
    Ok(render(&ctx, StatusCode::OK, &p))
}

#[derive(Template)]
#[template(path = "pages/contracts/detail.html")]
struct DetailPage {
    ctx: PageCtx,
    c: ContractView,
    /// The contract's money against its amount: (label key, width class, grouped yuan).
    bars: Vec<(&'static str, String, String)>,
    /// The audit flags of the contract (`domain::flags`), for those who read it whole.
    flags: Vec<crate::domain::flags::Flag>,
    /// Spending by budget line against the budget, for those who read it whole.
    spending: Vec<crate::contracts::spending::LineSummary>,
    /// Targets, progress, satisfaction and evaluations, for those who read it whole.
    perf: Option<PerformanceView>,
    surveys: Option<Surveys>,
    bureau: bool,
    /// Records satisfaction surveys: the bureau only (independent of the provider).
    surveyor: bool,
    finance: bool,
    digest: Option<Digest>,
    /// The milestone reports the reader may read, by instalment id.
    reports: std::collections::HashMap<i64, crate::pages::evidence::EvidenceCell>,
    step: ActionErrors,
    today: String,
    key: String,
}

impl DetailPage {
    fn state_label(&self) -> &'static str {
        State::parse(&self.c.state).map_or("", |s| s.label(self.ctx.lang == crate::i18n::Lang::Zh))
    }
    fn is(&self, s: &str) -> bool {
        self.c.state == s
    }
    fn live(&self) -> bool {
        State::parse(&self.c.state).is_some_and(State::is_live)
    }
    fn can_accept(&self, i: &InstalmentView) -> bool {
        self.bureau
            && matches!(
                self.c.state.as_str(),
                "signed" | "in_progress" | "midterm_accepted"
            )
            && i.status == "pending"
            && self
                .c
                .instalments
                .iter()
                .filter(|x| x.no < i.no)
                .all(|x| x.status != "pending")
    }
    fn can_pay(&self, i: &InstalmentView) -> bool {
        self.finance && i.status == "accepted" && (self.live() || self.is("terminated"))
    }
    fn status_label(&self, i: &InstalmentView) -> &'static str {
        self.ctx.t(match i.status.as_str() {
            "paid" => "contracts.status_paid",
            "accepted" => "contracts.status_accepted",
            _ => "contracts.status_pending",
        })
    }
    fn line_label(&self, key: &str) -> String {
        crate::domain::vocab::label(
            crate::domain::tender::BUDGET_LINES,
            key,
            self.ctx.lang == crate::i18n::Lang::Zh,
        )
    }
    fn money(&self, fen: &i64) -> String {
        crate::money::yuan_grouped(*fen)
    }
    fn evidence(&self, f: &crate::domain::flags::Flag) -> String {
        self.ctx
            .lang
            .pick(&f.evidence_zh, &f.evidence_en)
            .to_string()
    }
    fn rule_label(&self, f: &crate::domain::flags::Flag) -> &'static str {
        f.rule.label(self.ctx.lang == crate::i18n::Lang::Zh)
    }
    fn field_label(&self) -> String {
        self.ctx.label(crate::registry::orgs::FIELDS, &self.c.field)
    }
    fn target_label<'a>(&self, t: &'a TargetProgress) -> &'a str {
        self.ctx.lang.pick(&t.label_zh, &t.label_en)
    }
    /// The label of an output target key (`visits`, `people`, `sessions`).
    fn target_name(&self, key: &str) -> &'static str {
        self.ctx.t(match key {
            "visits" => "contracts.visits",
            "people" => "contracts.people",
            _ => "contracts.sessions",
        })
    }
    fn target_bar(&self, t: &TargetProgress) -> String {
        crate::http::page::bar_class(t.progress.achieved, t.progress.target)
    }
    fn pct(&self, p: &Option<rust_decimal::Decimal>) -> String {
        p.map_or_else(|| "—".into(), |d| format!("{}%", d.normalize()))
    }
    fn dec(&self, d: &rust_decimal::Decimal) -> String {
        d.normalize().to_string()
    }
    /// A share in percent as a bar (0–100).
    fn pct_bar(&self, p: &Option<rust_decimal::Decimal>) -> String {
        use rust_decimal::prelude::ToPrimitive;
        let n = p.and_then(|d| d.trunc().to_i64()).unwrap_or(0);
        crate::http::page::bar_class(n, 100)
    }
    /// 人次 from anonymous heads are labelled as such: they are never 人数.
    fn anonymous_note(&self, t: &TargetProgress) -> String {
        match &self.perf {
            Some(p) if t.target == "visits" && p.anonymous_visits > 0 => self.ctx.lang.paren(
                &self
                    .ctx
                    .t("contracts.anonymous_visits")
                    .replace("{n}", &p.anonymous_visits.to_string()),
            ),
            _ => String::new(),
        }
    }
    /// The evaluation at today of milestone `no`, when it is the next to accept.
    fn preview_for(&self, no: &i32) -> Option<&Evaluation> {
        self.perf
            .as_ref()
            .and_then(|p| p.preview.as_ref())
            .filter(|p| p.no == *no)
            .map(|p| &p.evaluation)
    }
    fn answer_fields(&self) -> [(&'static str, &'static str); 5] {
        [
            ("n1", "contracts.answer_1"),
            ("n2", "contracts.answer_2"),
            ("n3", "contracts.answer_3"),
            ("n4", "contracts.answer_4"),
            ("n5", "contracts.answer_5"),
        ]
    }
}

async fn detail(
    state: &AppState,
    ctx: PageCtx,
    id: i64,
    step: ActionErrors,
    status: StatusCode,
) -> Result<HttpResponse, PageError> {
    let reader = Reader::of(ctx.user.as_ref());
    let role = ctx.user.as_ref().map(|u| u.role);
    let staff = reader == Reader::Staff;
    let fctx = crate::contracts::flags::Ctx::from_config(&state.config);
    let today = state.today();
    let pctx = ctx.clone();
    let (c, digest, flags, spending, perf, surveys, reports) = state
        .run_contracts(move |c, cctx, _| {
            let v = contracts::get(c, cctx, reader, id)?;
            let held: Vec<_> = v
                .instalments
                .iter()
                .map(|i| (i.id, v.organisation_id, i.report_sha256.clone()))
                .collect();
            let back = format!("/contracts/{id}");
            let reports = crate::pages::evidence::cells(
                c,
                &pctx,
                crate::files::Purpose::MilestoneReport,
                &held,
                &back,
            )?;
            let d = if staff {
                Some(crate::ledger::digest(c)?)
            } else {
                None
            };
            let (flags, spending, perf, surveys) = if v.whole {
                (
                    crate::contracts::flags::for_contract(c, &fctx, reader, today, id)?,
                    crate::contracts::spending::summary(c, reader, id)?.lines,
                    Some(crate::contracts::performance::view(
                        c, cctx, reader, id, today,
                    )?),
                    Some(crate::contracts::performance::surveys(c, reader, id)?),
                )
            } else {
                (Vec::new(), Vec::new(), None, None)
            };
            Ok((v, d, flags, spending, perf, surveys, reports))
        })
        .await
        .map_err(page_err(ctx.lang))?;
    let m = &c.money;
    let bar = |key, fen: i64| {
        (
            key,
            crate::http::page::bar_class(fen, m.amount_fen),
            crate::money::yuan_grouped(fen),
        )
    };
    let mut bars = vec![bar("contracts.amount", m.amount_fen)];
    if c.whole {
        bars.push(bar("contracts.committed", m.committed_fen));
        bars.push(bar("contracts.accrued", m.accrued_fen));
    }
    bars.push(bar("contracts.paid", m.paid_fen));
    let p = DetailPage {
        bureau: matches!(role, Some(Role::Bureau | Role::Admin)),
        surveyor: role == Some(Role::Bureau),
        perf,
        surveys,
        finance: role == Some(Role::Finance),
        bars,
        flags,
        spending,
        digest,
        reports,
        step,
        today: state.today().to_string(),
        key: uuid::Uuid::new_v4().to_string(),
        c,
        ctx: ctx.clone(),
    };
    Ok(render(&ctx, status, &p))
}

async fn detail_page(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: PageCtx,
    path: web::Path<i64>,
) -> Result<HttpResponse, PageError> {
    let ctx = with_caller(&req, ctx).await;
    detail(
        &state,
        ctx,
        path.into_inner(),
        ActionErrors::default(),
        StatusCode::OK,
    )
    .await
}

/// Run one step; success goes back to the contract page with a flash, field errors show the page again
/// with the errors at the step's form, a refused state or rule goes back with the reason as an error flash.
async fn run_step<T: Send + 'static>(
    state: &AppState,
    ctx: PageCtx,
    id: i64,
    action: &str,
    form: &Form,
    ok_key: &'static str,
    op: impl FnOnce(
        &mut crate::db::DbConn,
        &contracts::Ctx,
        chrono::DateTime<chrono::Utc>,
    ) -> Result<T, AppError>
    + Send
    + 'static,
) -> Result<HttpResponse, PageError> {
    let outcome = state.run_contracts(op).await;
    step_answer(state, ctx, id, action, form, ok_key, outcome).await
}

/// The page's answer to a step's outcome, as [`run_step`] gives it.
async fn step_answer<T>(
    state: &AppState,
    ctx: PageCtx,
    id: i64,
    action: &str,
    form: &Form,
    ok_key: &'static str,
    outcome: Result<T, AppError>,
) -> Result<HttpResponse, PageError> {
    let back = format!("/contracts/{id}");
    match outcome {
        Ok(_) => Ok(redirect(&back, Some(("ok", ctx.t(ok_key))))),
        Err(AppError::Validation(errs)) => {
            let step = ActionErrors {
                action: action.into(),
                messages: messages(ctx.lang, &errs),
                values: form.values(),
            };
            detail(state, ctx, id, step, StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(e @ (AppError::Conflict { .. } | AppError::BadRequest { .. })) => {
            let m = pick_msg(ctx.lang, &e.message());
            Ok(redirect(&back, Some(("error", &m))))
        }
        Err(e) => Err(PageError::App(e, ctx.lang)),
    }
}

async fn sign_submit(
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
    let input = SignInput {
        signed_on: form.get("signed_on"),
        appropriation_id: form.get("appropriation_id").trim().parse().ok(),
    };
    run_step(
        &state,
        ctx,
        id,
        "sign",
        &form,
        "contracts.signed_ok",
        move |c, cctx, now| contracts::sign(c, cctx, &actor, now, id, &input),
    )
    .await
}

async fn start_submit(
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
    run_step(
        &state,
        ctx,
        id,
        "start",
        &form,
        "contracts.started_ok",
        move |c, cctx, now| contracts::start(c, cctx, &actor, now, id),
    )
    .await
}

async fn accept_submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: PageCtx,
    page: Page<BureauOrAdmin>,
    path: web::Path<(i64, i32)>,
    sent: crate::http::files::FormWithFile,
) -> Result<HttpResponse, PageError> {
    use crate::files::{Purpose, evidence};
    let ctx = ctx.with_user(&page.user);
    let (id, no) = path.into_inner();
    let actor = crate::http::actor(&req, &page.user);
    let form = sent.form;
    let mut input = AcceptInput {
        accepted_on: form.get("accepted_on"),
        effect_score: form.get("effect_score"),
        evaluator: form.get("evaluator"),
        report_sha256: form.get("report_sha256"),
    };
    let typed = input.report_sha256.clone();
    let outcome = match sent.file {
        Err(e) => Err(e),
        Ok(file) => {
            crate::http::files::with_evidence(
                &state.files,
                file,
                Purpose::MilestoneReport,
                page.user.id,
                ("report_sha256", &typed),
                |hash, ev| {
                    input.report_sha256 = hash;
                    state.run_contracts(move |c, cctx, now| {
                        evidence::written_with(
                            c,
                            &actor,
                            now,
                            ev.as_ref(),
                            |c| contracts::accept(c, cctx, &actor, now, id, no, &input),
                            |c, _| evidence::instalment_id(c, id, no),
                        )
                    })
                },
            )
            .await
        }
    };
    let action = format!("accept-{no}");
    step_answer(
        &state,
        ctx,
        id,
        &action,
        &form,
        "contracts.accepted_ok",
        outcome,
    )
    .await
}

async fn pay_submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: PageCtx,
    page: Page<FinanceOnly>,
    path: web::Path<i64>,
    form: Form,
) -> Result<HttpResponse, PageError> {
    let ctx = ctx.with_user(&page.user);
    let id = path.into_inner();
    let actor = crate::http::actor(&req, &page.user);
    let no: i32 = form.get("instalment").trim().parse().unwrap_or(0);
    let input = PayInput {
        idempotency_key: form.get("idempotency_key"),
        instalment: no,
        voucher_no: form.get("voucher_no"),
        paid_on: Some(form.get("paid_on")),
    };
    run_step(
        &state,
        ctx,
        id,
        &format!("pay-{no}"),
        &form,
        "contracts.paid_ok",
        move |c, cctx, now| contracts::pay(c, cctx, &actor, now, id, &input),
    )
    .await
}

async fn survey_submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: PageCtx,
    page: Page<BureauOnly>,
    path: web::Path<i64>,
    form: Form,
) -> Result<HttpResponse, PageError> {
    let ctx = ctx.with_user(&page.user);
    let id = path.into_inner();
    let actor = crate::http::actor(&req, &page.user);
    let mut errs = Vec::new();
    let mut count = |name: &str| -> Option<i64> {
        let v = form.get(name);
        let v = v.trim();
        if v.is_empty() {
            return Some(0);
        }
        match v.parse() {
            Ok(n) => Some(n),
            Err(_) => {
                errs.push(crate::error::FieldError::new(
                    name,
                    "integer",
                    "请填写整数。",
                    "Give a whole number.",
                ));
                None
            }
        }
    };
    let input = SurveyInput {
        surveyed_on: form.get("surveyed_on"),
        answers: None,
        n1: count("n1"),
        n2: count("n2"),
        n3: count("n3"),
        n4: count("n4"),
        n5: count("n5"),
        note: Some(form.get("note")),
    };
    run_step(
        &state,
        ctx,
        id,
        "survey",
        &form,
        "contracts.survey_ok",
        move |c, _, now| {
            if !errs.is_empty() {
                return Err(AppError::Validation(errs));
            }
            crate::contracts::performance::record_survey(c, &actor, now, id, &input)
        },
    )
    .await
}

async fn terminate_submit(
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
    let input = TerminateInput {
        reason: form.get("reason"),
        ended_on: Some(form.get("ended_on")),
    };
    run_step(
        &state,
        ctx,
        id,
        "terminate",
        &form,
        "contracts.terminated_ok",
        move |c, cctx, now| contracts::terminate(c, cctx, &actor, now, id, &input),
    )
    .await
}

async fn close_submit(
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
    run_step(
        &state,
        ctx,
        id,
        "close",
        &form,
        "contracts.closed_ok",
        move |c, cctx, now| contracts::close(c, cctx, &actor, now, id),
    )
    .await
}

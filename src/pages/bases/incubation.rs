//! Incubation pages: the list, the overview, the application form, and a record's page with its actions.

use super::*;

// ---------- Incubation ----------

#[derive(Clone, Debug)]
pub struct IncRowV {
    pub id: i64,
    pub name: String,
    pub base_name: String,
    pub base_id: i64,
    pub state: String,
    pub state_label: &'static str,
    pub overdue: bool,
    pub applied_on: String,
    pub decision_due: String,
    pub stage_label: &'static str,
}

fn inc_row(lang: Lang, v: &IncubationView) -> IncRowV {
    let z = lang == Lang::Zh;
    IncRowV {
        id: v.id,
        name: v.name.clone(),
        base_name: v.base_name.clone(),
        base_id: v.base_id,
        state: v.state.clone(),
        state_label: v.state_label(z),
        overdue: v.overdue,
        applied_on: v.applied_on.to_string(),
        decision_due: v.decision_due.to_string(),
        stage_label: v.stage_label(z),
    }
}

#[derive(Template)]
#[template(path = "pages/registry/incub_list.html")]
struct IncListPage {
    ctx: PageCtx,
    rows: Vec<IncRowV>,
    q: String,
    state: String,
    level: String,
    overdue: bool,
    states: Vec<(&'static str, &'static str)>,
    levels: Vec<(&'static str, &'static str)>,
    pager: Pager,
    can_manage: bool,
    export_link: String,
}

#[derive(Deserialize, Default, Clone)]
pub(super) struct IncListQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    state: String,
    #[serde(default)]
    level: String,
    #[serde(default)]
    overdue: String,
    #[serde(default)]
    base_id: String,
    page: Option<i64>,
}

pub(super) async fn incub_list_page(
    state: web::Data<AppState>,
    ctx: PageCtx,
    page: Page<StaffOrOrg>,
    q: web::Query<IncListQuery>,
) -> Result<HttpResponse, PageError> {
    let ctx = ctx.with_user(&page.user);
    let lang = ctx.lang;
    let q = q.into_inner();
    let overdue = matches!(q.overdue.as_str(), "1" | "true" | "on");
    let filter = IncubationFilter {
        state: Some(q.state.clone()),
        base_id: q.base_id.trim().parse().ok(),
        level: Some(q.level.clone()),
        organisation_id: None,
        overdue: Some(overdue),
        q: Some(q.q.clone()),
        page: q.page,
        per_page: Some(20),
    };
    let cal = state.config.calendar.clone();
    let today = state.today();
    let only = page.user.org_scope().map_err(page_err(ctx.lang))?;
    let f2 = filter.clone();
    let list = state
        .run(move |c| incubations::list(c, &cal, today, &f2, only))
        .await
        .map_err(page_err(lang))?;
    let pager = Pager::new(
        "/registry/incubations",
        &[
            ("q", q.q.clone()),
            ("state", q.state.clone()),
            ("level", q.level.clone()),
            ("overdue", if overdue { "1".into() } else { String::new() }),
            ("base_id", q.base_id.clone()),
        ],
        &list,
    );
    let export_link = list_link(
        "/api/v1/incubations/export",
        &[
            ("q", q.q.trim().to_string()),
            ("state", q.state.clone()),
            ("level", q.level.clone()),
            (
                "overdue",
                if overdue {
                    "true".into()
                } else {
                    String::new()
                },
            ),
            (
                "base_id",
                filter.base_id.map(|b| b.to_string()).unwrap_or_default(),
            ),
        ],
    );
    let p = IncListPage {
        export_link,
        rows: list.items.iter().map(|v| inc_row(lang, v)).collect(),
        q: q.q,
        state: q.state,
        level: q.level,
        overdue,
        states: State::ALL
            .iter()
            .map(|s| (s.as_str(), lang.pick(s.label_zh(), s.label_en())))
            .collect(),
        levels: level_options(lang),
        pager,
        can_manage: can_manage(&ctx),
        ctx: ctx.clone(),
    };
    Ok(render(&ctx, StatusCode::OK, &p))
}

#[derive(Clone, Debug)]
pub struct FunnelBlock {
    pub id: String,
    pub title: String,
    pub href: Option<String>,
    pub bars: Vec<Bar>,
}

#[derive(Template)]
#[template(path = "pages/registry/incub_overview.html")]
struct IncOverviewPage {
    ctx: PageCtx,
    total: FunnelBlock,
    levels: Vec<FunnelBlock>,
    bases: Vec<FunnelBlock>,
    overdue: i64,
}

pub(super) async fn incub_overview_page(
    state: web::Data<AppState>,
    ctx: PageCtx,
    page: Page<BureauOrAdmin>,
) -> Result<HttpResponse, PageError> {
    let ctx = ctx.with_user(&page.user);
    let lang = ctx.lang;
    let today = state.today();
    let r = state
        .run(move |c| incubations::funnel_report(c, today))
        .await
        .map_err(page_err(lang))?;
    let p = IncOverviewPage {
        total: FunnelBlock {
            id: "funnel-total".into(),
            title: ctx.t("incub.funnel_total").into(),
            href: None,
            bars: funnel_bars(lang, &r.total),
        },
        levels: r
            .by_level
            .iter()
            .map(|l| FunnelBlock {
                id: format!("funnel-level-{}", l.level),
                title: level_label(lang, &l.level).into(),
                href: None,
                bars: funnel_bars(lang, &l.funnel),
            })
            .collect(),
        bases: r
            .by_base
            .iter()
            .map(|b| FunnelBlock {
                id: format!("funnel-base-{}", b.base_id),
                title: b.base_name.clone(),
                href: Some(format!("/bases/{}", b.base_id)),
                bars: funnel_bars(lang, &b.funnel),
            })
            .collect(),
        overdue: r.overdue,
        ctx: ctx.clone(),
    };
    Ok(render(&ctx, StatusCode::OK, &p))
}

#[derive(Deserialize, Default, Clone)]
pub(super) struct ApplyForm {
    #[serde(default)]
    base_id: String,
    #[serde(default)]
    organisation_id: String,
    #[serde(default)]
    group_name: String,
}

#[derive(Template)]
#[template(path = "pages/registry/incub_apply.html")]
struct ApplyPage {
    ctx: PageCtx,
    form: ApplyForm,
    errors: FormErrors,
    bases: Vec<Opt>,
    orgs: Vec<Opt>,
    /// An organisation applying for itself: its name.
    own_org: Option<String>,
}

async fn apply_page(
    state: &AppState,
    ctx: &PageCtx,
    org: Option<i64>,
    form: ApplyForm,
    errs: &[FieldError],
    status: StatusCode,
) -> Result<HttpResponse, PageError> {
    use crate::db::schema::organisations;
    let lang = ctx.lang;
    let (b, orgs, own) = state
        .run(move |c| {
            let b = bases::options(c)?;
            let own: Option<String> = match org {
                Some(o) => organisations::table
                    .find(o)
                    .select(organisations::name)
                    .first(c)
                    .optional()?,
                None => None,
            };
            let orgs: Vec<(i64, String)> = if org.is_some() {
                Vec::new()
            } else {
                organisations::table
                    .order(organisations::name.asc())
                    .select((organisations::id, organisations::name))
                    .load(c)?
            };
            Ok((b, orgs, own))
        })
        .await
        .map_err(page_err(lang))?;
    let p = ApplyPage {
        ctx: ctx.clone(),
        form,
        errors: FormErrors::from_fields(lang, errs),
        bases: b
            .into_iter()
            .map(|(id, n, l)| Opt {
                value: id.to_string(),
                label: format!("{n}{}", lang.paren(level_label(lang, &l))),
            })
            .collect(),
        orgs: orgs
            .into_iter()
            .map(|(id, n)| Opt {
                value: id.to_string(),
                label: n,
            })
            .collect(),
        own_org: org.map(|o| own.unwrap_or_else(|| format!("#{o}"))),
    };
    Ok(render(ctx, status, &p))
}

pub(super) async fn incub_new_page(
    state: web::Data<AppState>,
    ctx: PageCtx,
    page: Page<StaffOrOrg>,
    q: web::Query<ApplyForm>,
) -> Result<HttpResponse, PageError> {
    let ctx = ctx.with_user(&page.user);
    apply_page(
        &state,
        &ctx,
        page.user.org_scope().map_err(page_err(ctx.lang))?,
        q.into_inner(),
        &[],
        StatusCode::OK,
    )
    .await
}

pub(super) async fn incub_new_submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: PageCtx,
    page: Page<StaffOrOrg>,
    form: SafeForm<ApplyForm>,
) -> Result<HttpResponse, PageError> {
    let ctx = ctx.with_user(&page.user);
    let f = form.0;
    let org = page.user.org_scope().map_err(page_err(ctx.lang))?;
    let mut checks = Checks::new();
    let base_id = match f.base_id.trim() {
        "" => {
            checks.add("base_id", "required", "必填。", "Required.");
            0
        }
        s => {
            let mut errs = Vec::new();
            let id = parse_int("base_id", s, &mut errs);
            checks.extend(errs);
            // Only sent when `checks` is empty, so a base that is not a number never reaches the service.
            id.unwrap_or_default()
        }
    };
    let organisation_id = match org {
        Some(o) => Some(o),
        None => {
            let mut errs = Vec::new();
            let id = parse_opt_int("organisation_id", &f.organisation_id, &mut errs);
            checks.extend(errs);
            id
        }
    };
    let result = match checks.finish() {
        Ok(()) => {
            let new = NewApplication {
                base_id,
                organisation_id,
                group_name: if org.is_some() {
                    None
                } else {
                    Some(f.group_name.clone())
                },
            };
            let (actor, now) = (crate::http::actor(&req, &page.user), state.clock.now());
            let cal = state.config.calendar.clone();
            match page.user.org_scope() {
                Ok(as_org) => {
                    state
                        .run(move |c| incubations::apply(c, &actor, now, &cal, &new, as_org))
                        .await
                }
                Err(e) => Err(e),
            }
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(v) => Ok(redirect(
            &format!("/registry/incubations/{}", v.id),
            Some(("ok", ctx.t("incub.applied"))),
        )),
        Err(AppError::Validation(errs)) => {
            apply_page(
                &state,
                &ctx,
                org,
                f,
                &errs,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => Err(PageError::App(e, ctx.lang)),
    }
}

#[derive(Deserialize, Default, Clone)]
pub(super) struct TransitionForm {
    #[serde(default)]
    to: String,
    #[serde(default)]
    mode: String,
    #[serde(default)]
    stage: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    start_on: String,
    #[serde(default)]
    planned_end: String,
    #[serde(default)]
    cl_registered: String,
    #[serde(default)]
    cl_governance: String,
    #[serde(default)]
    cl_finance: String,
    #[serde(default)]
    cl_projects: String,
    #[serde(default)]
    cl_staff: String,
    #[serde(default)]
    cl_premises: String,
}

impl TransitionForm {
    fn checked(&self) -> Vec<(&'static str, bool)> {
        vec![
            ("registered", !self.cl_registered.is_empty()),
            ("governance", !self.cl_governance.is_empty()),
            ("finance", !self.cl_finance.is_empty()),
            ("projects", !self.cl_projects.is_empty()),
            ("staff", !self.cl_staff.is_empty()),
            ("premises", !self.cl_premises.is_empty()),
        ]
    }

    fn transition(&self) -> Result<Transition, AppError> {
        let opt = |s: &String| Some(s.trim().to_string()).filter(|s| !s.is_empty());
        Ok(Transition {
            to: self.to.clone(),
            mode: opt(&self.mode),
            stage: opt(&self.stage),
            reason: opt(&self.reason),
            // Read by the service (`domain::dates::parse_date`), which names a malformed date.
            start_on: Some(self.start_on.clone()).filter(|s| !s.trim().is_empty()),
            planned_end: Some(self.planned_end.clone()).filter(|s| !s.trim().is_empty()),
            checklist: if self.to == "graduated" {
                self.checked()
                    .into_iter()
                    .map(|(k, done)| ChecklistItem {
                        key: k.to_string(),
                        done,
                    })
                    .collect()
            } else {
                Vec::new()
            },
        })
    }
}

#[derive(Clone, Debug)]
pub struct CheckV {
    pub key: &'static str,
    pub label: &'static str,
    pub done: bool,
    pub error: Option<String>,
}

#[derive(Template)]
#[template(path = "pages/registry/incub_detail.html")]
struct IncPage {
    ctx: PageCtx,
    v: IncubationView,
    state_label: &'static str,
    mode_label: &'static str,
    stage_label: &'static str,
    checklist_done: Vec<String>,
    warnings: Vec<String>,
    /// Moves open now (bureau and administrators only).
    actions: Vec<&'static str>,
    /// The move that failed, with its errors (shown in that form).
    failed: String,
    form: TransitionForm,
    errors: FormErrors,
    problem: Option<String>,
    modes: Vec<(&'static str, &'static str)>,
    stages: Vec<(&'static str, &'static str)>,
    checks: Vec<CheckV>,
    default_end: String,
    today: String,
}

impl IncPage {
    /// The error of `field` in the form of move `action`, when that move failed.
    fn err(&self, action: &str, field: &str) -> Option<&str> {
        if self.failed == action {
            self.errors.get(field)
        } else {
            None
        }
    }
}

#[expect(
    clippy::too_many_arguments,
    reason = "the page model is built from the record, the form as typed and its errors"
)]
fn inc_page(
    ctx: &PageCtx,
    v: IncubationView,
    manage: bool,
    failed: String,
    form: TransitionForm,
    errs: &[FieldError],
    problem: Option<String>,
    today: chrono::NaiveDate,
    years: u32,
) -> IncPage {
    let lang = ctx.lang;
    let z = zh(ctx);
    let errors = FormErrors::from_fields(lang, errs);
    let checked = form.checked();
    let checks = CHECKLIST
        .iter()
        .map(|(k, zh_, en)| CheckV {
            key: k,
            label: lang.pick(zh_, en),
            done: checked.iter().any(|(c, d)| c == k && *d),
            error: errors.get(&format!("checklist.{k}")).map(str::to_string),
        })
        .collect();
    IncPage {
        state_label: v.state_label(z),
        mode_label: v.mode_label(z),
        stage_label: v.stage_label(z),
        checklist_done: v
            .checklist
            .iter()
            .filter(|i| i.done)
            .map(|i| static_label(CHECKLIST, &i.key, lang))
            .collect(),
        warnings: v
            .calendar_warnings
            .iter()
            .map(|m| lang.pick(&m.zh, &m.en).to_string())
            .collect(),
        actions: if manage {
            State::parse(&v.state)
                .map(|s| s.next().iter().map(|n| n.as_str()).collect())
                .unwrap_or_default()
        } else {
            Vec::new()
        },
        failed,
        form,
        errors,
        problem,
        modes: Mode::ALL
            .iter()
            .map(|m| (m.as_str(), lang.pick(m.label_zh(), m.label_en())))
            .collect(),
        stages: Stage::ALL
            .iter()
            .map(|m| (m.as_str(), lang.pick(m.label_zh(), m.label_en())))
            .collect(),
        checks,
        default_end: rules::planned_end(
            v.planned_end.unwrap_or(today).max(today),
            if v.state == "admitted" { years } else { 1 },
        )
        .to_string(),
        today: today.to_string(),
        v,
        ctx: ctx.clone(),
    }
}

pub(super) async fn incub_page(
    state: web::Data<AppState>,
    ctx: PageCtx,
    page: Page<StaffOrOrg>,
    path: web::Path<i64>,
) -> Result<HttpResponse, PageError> {
    let ctx = ctx.with_user(&page.user);
    let id = path.into_inner();
    let cal = state.config.calendar.clone();
    let today = state.today();
    let only = page.user.org_scope().map_err(page_err(ctx.lang))?;
    let v = state
        .run(move |c| incubations::find(c, &cal, today, id, only))
        .await
        .map_err(page_err(ctx.lang))?;
    let manage = can_manage(&ctx);
    let p = inc_page(
        &ctx,
        v,
        manage,
        String::new(),
        TransitionForm::default(),
        &[],
        None,
        today,
        state.config.incubation_years,
    );
    Ok(render(&ctx, StatusCode::OK, &p))
}

pub(super) async fn incub_submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: PageCtx,
    page: Page<BureauOrAdmin>,
    path: web::Path<i64>,
    form: SafeForm<TransitionForm>,
) -> Result<HttpResponse, PageError> {
    let ctx = ctx.with_user(&page.user);
    let id = path.into_inner();
    let f = form.0;
    let result = match f.transition() {
        Ok(t) => {
            let (actor, now) = (crate::http::actor(&req, &page.user), state.clock.now());
            let (cal, years) = (state.config.calendar.clone(), state.config.incubation_years);
            state
                .run(move |c| incubations::transition(c, &actor, now, &cal, years, id, &t))
                .await
        }
        Err(e) => Err(e),
    };
    let (errs, problem, status) = match result {
        Ok(v) => {
            let msg = format!("{}：{}", ctx.t("incub.moved"), v.state_label(zh(&ctx)));
            return Ok(redirect(
                &format!("/registry/incubations/{id}"),
                Some(("ok", &msg)),
            ));
        }
        Err(AppError::Validation(errs)) => (errs, None, StatusCode::UNPROCESSABLE_ENTITY),
        Err(e @ AppError::Conflict { .. }) => {
            let m = e.message();
            (
                Vec::new(),
                Some(ctx.lang.pick(&m.zh, &m.en).to_string()),
                StatusCode::CONFLICT,
            )
        }
        Err(e) => return Err(PageError::App(e, ctx.lang)),
    };
    let cal = state.config.calendar.clone();
    let today = state.today();
    let v = state
        .run(move |c| incubations::find(c, &cal, today, id, None))
        .await
        .map_err(page_err(ctx.lang))?;
    let failed = f.to.clone();
    let p = inc_page(
        &ctx,
        v,
        true,
        failed,
        f,
        &errs,
        problem,
        today,
        state.config.incubation_years,
    );
    Ok(render(&ctx, status, &p))
}

//! Pages of areas, incubation bases and incubation: the public base tree with its coverage chart, base
//! pages with their funnel, the areas; the bureau's base forms, incubation list, overview and record pages
//! with their action forms; the application form (bureau, administrators, organisations for themselves).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use diesel::prelude::*;
use serde::Deserialize;

use crate::app::AppState;
use crate::domain::incubation::{self as rules, CHECKLIST, Funnel, Mode, Stage, State};
use crate::error::{AppError, Checks, FieldError};
use crate::http::caller::StaffOrOrg;
use crate::http::caller::{BureauOrAdmin, Page, Role, RoleSet};
use crate::http::page::{
    FormErrors, PageCtx, PageError, Pager, SafeForm, page_err, redirect, render,
};
use crate::i18n::Lang;
use crate::registry::areas;
use crate::registry::bases::{self, BaseFilter, BaseInput, BaseNode, Level, SERVICES};
use crate::registry::incubations::{
    self, ChecklistItem, IncubationFilter, IncubationView, NewApplication, Transition,
};

/// Protected pages of this module: (method, example path, roles allowed). The refusal tests walk them.
/// (The record page `/registry/incubations/{id}` and the base edit page need registry data; their refusals
/// are tested in `tests/it/registry_bases.rs`.)
pub const PROTECTED: &[(&str, &str, &[Role])] = &[
    ("GET", "/registry/bases/new", &[Role::Bureau, Role::Admin]),
    (
        "GET",
        "/registry/areas/streets/new",
        &[Role::Bureau, Role::Admin],
    ),
    (
        "GET",
        "/registry/areas/streets/1/edit",
        &[Role::Bureau, Role::Admin],
    ),
    (
        "GET",
        "/registry/areas/communities/new",
        &[Role::Bureau, Role::Admin],
    ),
    (
        "GET",
        "/registry/areas/communities/1/edit",
        &[Role::Bureau, Role::Admin],
    ),
    (
        "GET",
        "/registry/incubations",
        &[Role::Bureau, Role::Admin, Role::Org],
    ),
    (
        "GET",
        "/registry/incubations/overview",
        &[Role::Bureau, Role::Admin],
    ),
    (
        "GET",
        "/registry/incubations/new",
        &[Role::Bureau, Role::Admin, Role::Org],
    ),
];

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/bases", web::get().to(bases_page))
        .route("/bases/{id}", web::get().to(base_page))
        .route("/areas", web::get().to(areas_page))
        .route("/areas/{id}", web::get().to(street_page))
        .route(
            "/registry/areas/streets/new",
            web::get().to(street_new_page),
        )
        .route(
            "/registry/areas/streets/new",
            web::post().to(street_new_submit),
        )
        .route(
            "/registry/areas/streets/{id}/edit",
            web::get().to(street_edit_page),
        )
        .route(
            "/registry/areas/streets/{id}/edit",
            web::post().to(street_edit_submit),
        )
        .route(
            "/registry/areas/communities/new",
            web::get().to(community_new_page),
        )
        .route(
            "/registry/areas/communities/new",
            web::post().to(community_new_submit),
        )
        .route(
            "/registry/areas/communities/{id}/edit",
            web::get().to(community_edit_page),
        )
        .route(
            "/registry/areas/communities/{id}/edit",
            web::post().to(community_edit_submit),
        )
        .route("/registry/bases/new", web::get().to(base_new_page))
        .route("/registry/bases/new", web::post().to(base_new_submit))
        .route("/registry/bases/{id}/edit", web::get().to(base_edit_page))
        .route(
            "/registry/bases/{id}/edit",
            web::post().to(base_edit_submit),
        )
        .route("/registry/incubations", web::get().to(incub_list_page))
        .route(
            "/registry/incubations/overview",
            web::get().to(incub_overview_page),
        )
        .route("/registry/incubations/new", web::get().to(incub_new_page))
        .route(
            "/registry/incubations/new",
            web::post().to(incub_new_submit),
        )
        .route("/registry/incubations/{id}", web::get().to(incub_page))
        .route("/registry/incubations/{id}", web::post().to(incub_submit));
}

fn zh(ctx: &PageCtx) -> bool {
    ctx.lang == Lang::Zh
}

fn level_label(lang: Lang, l: &str) -> &'static str {
    Level::parse(l)
        .map(|l| lang.pick(l.label_zh(), l.label_en()))
        .unwrap_or("?")
}

fn state_label(lang: Lang, s: &str) -> &'static str {
    State::parse(s)
        .map(|s| lang.pick(s.label_zh(), s.label_en()))
        .unwrap_or("?")
}

/// One bar of a CSS bar chart.
#[derive(Clone, Debug)]
pub struct Bar {
    pub key: String,
    pub label: String,
    pub class: String,
    pub value: String,
}

fn funnel_bars(lang: Lang, f: &Funnel) -> Vec<Bar> {
    f.steps()
        .iter()
        .map(|(k, n)| Bar {
            key: k.to_string(),
            label: state_label(lang, k).to_string(),
            class: rules::bar_class(*n, f.applied),
            value: n.to_string(),
        })
        .collect()
}

/// The optional user of a public page.
async fn with_caller(req: &HttpRequest, ctx: PageCtx) -> PageCtx {
    let user = crate::http::caller::caller(req).await.user().cloned();
    PageCtx { user, ..ctx }
}

fn can_manage(ctx: &PageCtx) -> bool {
    ctx.user
        .as_ref()
        .is_some_and(|u| BureauOrAdmin::ROLES.contains(&u.role))
}

// ---------- Public: the base tree and list ----------

#[derive(Clone, Debug)]
pub struct TreeNode {
    pub id: i64,
    pub name: String,
    pub level: String,
    pub level_label: &'static str,
    pub children: Vec<TreeNode>,
}

fn tree_nodes(lang: Lang, nodes: &[BaseNode]) -> Vec<TreeNode> {
    nodes
        .iter()
        .map(|n| TreeNode {
            id: n.id,
            name: n.name.clone(),
            level: n.level.clone(),
            level_label: level_label(lang, &n.level),
            children: tree_nodes(lang, &n.children),
        })
        .collect()
}

#[derive(Clone, Debug)]
pub struct BaseRowV {
    pub id: i64,
    pub name: String,
    pub level_label: &'static str,
    pub area: String,
    pub operator: String,
    pub seats: i32,
}

#[derive(Template)]
#[template(path = "pages/registry/bases_index.html")]
struct BasesPage {
    ctx: PageCtx,
    tree: Vec<TreeNode>,
    coverage: Vec<Bar>,
    by_level: Vec<(&'static str, i64)>,
    rows: Vec<BaseRowV>,
    q: String,
    level: String,
    street: String,
    levels: Vec<(&'static str, &'static str)>,
    streets: Vec<(String, String)>,
    pager: Pager,
    can_manage: bool,
    export_link: String,
}

/// An API export link carrying the list's filters (empty ones left out).
fn export_link(path: &str, params: &[(&str, String)]) -> String {
    let mut s = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in params.iter().filter(|(_, v)| !v.is_empty()) {
        s.append_pair(k, v);
    }
    let qs = s.finish();
    if qs.is_empty() {
        path.to_string()
    } else {
        format!("{path}?{qs}")
    }
}

fn level_options(lang: Lang) -> Vec<(&'static str, &'static str)> {
    Level::ALL
        .iter()
        .map(|l| (l.as_str(), lang.pick(l.label_zh(), l.label_en())))
        .collect()
}

#[derive(Deserialize, Default, Clone)]
struct BaseListQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    level: String,
    #[serde(default)]
    street_id: String,
    page: Option<i64>,
}

async fn bases_page(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: PageCtx,
    q: web::Query<BaseListQuery>,
) -> Result<HttpResponse, PageError> {
    let ctx = with_caller(&req, ctx).await;
    let lang = ctx.lang;
    let q = q.into_inner();
    let filter = BaseFilter {
        level: Some(q.level.clone()).filter(|s| !s.is_empty()),
        street_id: q.street_id.trim().parse().ok(),
        q: Some(q.q.clone()),
        page: q.page,
        per_page: Some(20),
    };
    let f2 = filter.clone();
    let (tree, cov, (rows, total), streets) = state
        .run(move |c| {
            Ok((
                bases::tree(c)?,
                bases::coverage(c)?,
                bases::list(c, &f2)?,
                areas::list_streets(c)?,
            ))
        })
        .await
        .map_err(page_err(lang))?;
    let (p, per) = crate::db::paging(filter.page, filter.per_page);
    let pager = Pager::new(
        "/bases",
        &[
            ("q", q.q.clone()),
            ("level", q.level.clone()),
            ("street_id", q.street_id.clone()),
        ],
        p,
        per,
        total,
    );
    let coverage = vec![
        Bar {
            key: "streets".into(),
            label: ctx.t("bases.cov_streets").into(),
            class: rules::bar_class(cov.street_pct, 100),
            value: format!(
                "{}% ({}/{})",
                cov.street_pct, cov.streets_covered, cov.streets_total
            ),
        },
        Bar {
            key: "communities".into(),
            label: ctx.t("bases.cov_communities").into(),
            class: rules::bar_class(cov.community_pct, 100),
            value: format!(
                "{}% ({}/{})",
                cov.community_pct, cov.communities_covered, cov.communities_total
            ),
        },
    ];
    let export_link = export_link(
        "/api/v1/bases/export",
        &[
            ("q", q.q.trim().to_string()),
            ("level", q.level.clone()),
            (
                "street_id",
                filter.street_id.map(|s| s.to_string()).unwrap_or_default(),
            ),
        ],
    );
    let page = BasesPage {
        tree: tree_nodes(lang, &tree),
        coverage,
        by_level: cov
            .bases_by_level
            .iter()
            .map(|(l, n)| (level_label(lang, l), *n))
            .collect(),
        rows: rows
            .into_iter()
            .map(|b| BaseRowV {
                id: b.id,
                level_label: level_label(lang, &b.level),
                area: b
                    .community_name
                    .clone()
                    .or(b.street_name.clone())
                    .unwrap_or_default(),
                operator: b.operator_name.clone().unwrap_or_default(),
                seats: b.seats,
                name: b.name,
            })
            .collect(),
        q: q.q,
        level: q.level,
        street: q.street_id,
        levels: level_options(lang),
        streets: streets
            .into_iter()
            .map(|s| (s.id.to_string(), s.name))
            .collect(),
        pager,
        can_manage: can_manage(&ctx),
        export_link,
        ctx: ctx.clone(),
    };
    Ok(render(&ctx, StatusCode::OK, &page))
}

#[derive(Clone, Debug)]
pub struct IncubateeV {
    pub name: String,
    pub state_label: &'static str,
    pub stage_label: &'static str,
    pub mode_label: &'static str,
    pub start_on: String,
    pub planned_end: String,
}

#[derive(Template)]
#[template(path = "pages/registry/bases_detail.html")]
struct BasePage {
    ctx: PageCtx,
    b: bases::BaseView,
    level_label: &'static str,
    modes: String,
    services: Vec<&'static str>,
    children: Vec<BaseRowV>,
    funnel: Vec<Bar>,
    incubatees: Vec<IncubateeV>,
    can_manage: bool,
}

fn static_label(
    list: &'static [(&'static str, &'static str, &'static str)],
    key: &str,
    lang: Lang,
) -> &'static str {
    list.iter()
        .find(|(k, _, _)| *k == key)
        .map(|(_, z, e)| lang.pick(z, e))
        .unwrap_or("?")
}

async fn base_page(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: PageCtx,
    path: web::Path<i64>,
) -> Result<HttpResponse, PageError> {
    let ctx = with_caller(&req, ctx).await;
    let lang = ctx.lang;
    let id = path.into_inner();
    let d = state
        .run(move |c| bases::detail(c, id))
        .await
        .map_err(page_err(lang))?;
    let mut modes = Vec::new();
    if d.base.onsite {
        modes.push(lang.pick(Mode::Onsite.label_zh(), Mode::Onsite.label_en()));
    }
    if d.base.virtual_mode {
        modes.push(lang.pick(Mode::Virtual.label_zh(), Mode::Virtual.label_en()));
    }
    let page = BasePage {
        level_label: level_label(lang, &d.base.level),
        modes: modes.join(lang.pick("、", ", ")),
        services: d
            .base
            .services
            .iter()
            .map(|s| static_label(SERVICES, s, lang))
            .collect(),
        children: d
            .children
            .iter()
            .map(|b| BaseRowV {
                id: b.id,
                name: b.name.clone(),
                level_label: level_label(lang, &b.level),
                area: b
                    .community_name
                    .clone()
                    .or(b.street_name.clone())
                    .unwrap_or_default(),
                operator: b.operator_name.clone().unwrap_or_default(),
                seats: b.seats,
            })
            .collect(),
        funnel: funnel_bars(lang, &d.funnel),
        incubatees: d
            .incubatees
            .iter()
            .map(|i| IncubateeV {
                name: i.name.clone(),
                state_label: state_label(lang, &i.state),
                stage_label: i
                    .stage
                    .as_deref()
                    .and_then(Stage::parse)
                    .map(|s| lang.pick(s.label_zh(), s.label_en()))
                    .unwrap_or(""),
                mode_label: i
                    .mode
                    .as_deref()
                    .and_then(Mode::parse)
                    .map(|s| lang.pick(s.label_zh(), s.label_en()))
                    .unwrap_or(""),
                start_on: i.start_on.map(|d| d.to_string()).unwrap_or_default(),
                planned_end: i.planned_end.map(|d| d.to_string()).unwrap_or_default(),
            })
            .collect(),
        b: d.base,
        can_manage: can_manage(&ctx),
        ctx: ctx.clone(),
    };
    Ok(render(&ctx, StatusCode::OK, &page))
}

// ---------- Public: areas ----------

#[derive(Template)]
#[template(path = "pages/registry/areas_index.html")]
struct AreasPage {
    ctx: PageCtx,
    streets: Vec<areas::StreetView>,
    communities: i64,
    grids: i64,
    can_manage: bool,
}

async fn areas_page(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: PageCtx,
) -> Result<HttpResponse, PageError> {
    let ctx = with_caller(&req, ctx).await;
    let streets = state
        .run(areas::list_streets)
        .await
        .map_err(page_err(ctx.lang))?;
    let page = AreasPage {
        communities: streets.iter().map(|s| s.communities).sum(),
        grids: streets.iter().map(|s| s.grids).sum(),
        streets,
        can_manage: can_manage(&ctx),
        ctx: ctx.clone(),
    };
    Ok(render(&ctx, StatusCode::OK, &page))
}

#[derive(Template)]
#[template(path = "pages/registry/areas_street.html")]
struct StreetPage {
    ctx: PageCtx,
    d: areas::StreetDetail,
    can_manage: bool,
}

async fn street_page(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: PageCtx,
    path: web::Path<i64>,
) -> Result<HttpResponse, PageError> {
    let ctx = with_caller(&req, ctx).await;
    let id = path.into_inner();
    let d = state
        .run(move |c| areas::street_detail(c, id))
        .await
        .map_err(page_err(ctx.lang))?;
    Ok(render(
        &ctx,
        StatusCode::OK,
        &StreetPage {
            can_manage: can_manage(&ctx),
            ctx: ctx.clone(),
            d,
        },
    ))
}

// ---------- Bureau: street and community forms ----------

#[derive(Deserialize, Default, Clone)]
struct StreetForm {
    #[serde(default)]
    code: String,
    #[serde(default)]
    name: String,
}

#[derive(Template)]
#[template(path = "pages/registry/areas_street_form.html")]
struct StreetFormPage {
    ctx: PageCtx,
    id: Option<i64>,
    form: StreetForm,
    errors: FormErrors,
}

fn street_form_page(
    ctx: &PageCtx,
    id: Option<i64>,
    form: StreetForm,
    errs: &[FieldError],
    status: StatusCode,
) -> HttpResponse {
    let p = StreetFormPage {
        ctx: ctx.clone(),
        id,
        form,
        errors: FormErrors::from_fields(ctx.lang, errs),
    };
    render(ctx, status, &p)
}

async fn street_new_page(ctx: PageCtx, page: Page<BureauOrAdmin>) -> HttpResponse {
    let ctx = ctx.with_user(&page.user);
    street_form_page(&ctx, None, StreetForm::default(), &[], StatusCode::OK)
}

async fn street_new_submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: PageCtx,
    page: Page<BureauOrAdmin>,
    form: SafeForm<StreetForm>,
) -> Result<HttpResponse, PageError> {
    let ctx = ctx.with_user(&page.user);
    let f = form.0;
    let new = areas::NewStreet {
        code: f.code.clone(),
        name: f.name.clone(),
    };
    let actor = crate::http::actor(&req, &page.user);
    let now = state.clock.now();
    let result = state
        .run(move |c| areas::create_street(c, &actor, now, &new))
        .await;
    match result {
        Ok(s) => Ok(redirect(
            &format!("/areas/{}", s.id),
            Some(("ok", ctx.t("areas.street_created"))),
        )),
        Err(AppError::Validation(errs)) => Ok(street_form_page(
            &ctx,
            None,
            f,
            &errs,
            StatusCode::UNPROCESSABLE_ENTITY,
        )),
        Err(e) => Err(PageError::App(e, ctx.lang)),
    }
}

async fn street_edit_page(
    state: web::Data<AppState>,
    ctx: PageCtx,
    page: Page<BureauOrAdmin>,
    path: web::Path<i64>,
) -> Result<HttpResponse, PageError> {
    let ctx = ctx.with_user(&page.user);
    let id = path.into_inner();
    let s = state
        .run(move |c| areas::find_street(c, id))
        .await
        .map_err(page_err(ctx.lang))?;
    let form = StreetForm {
        code: s.code,
        name: s.name,
    };
    Ok(street_form_page(&ctx, Some(id), form, &[], StatusCode::OK))
}

async fn street_edit_submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: PageCtx,
    page: Page<BureauOrAdmin>,
    path: web::Path<i64>,
    form: SafeForm<StreetForm>,
) -> Result<HttpResponse, PageError> {
    let ctx = ctx.with_user(&page.user);
    let id = path.into_inner();
    let f = form.0;
    let upd = areas::StreetUpdate {
        code: Some(f.code.clone()),
        name: Some(f.name.clone()),
    };
    let actor = crate::http::actor(&req, &page.user);
    let now = state.clock.now();
    let result = state
        .run(move |c| areas::update_street(c, &actor, now, id, &upd))
        .await;
    match result {
        Ok(_) => Ok(redirect(
            &format!("/areas/{id}"),
            Some(("ok", ctx.t("areas.street_saved"))),
        )),
        Err(AppError::Validation(errs)) => Ok(street_form_page(
            &ctx,
            Some(id),
            f,
            &errs,
            StatusCode::UNPROCESSABLE_ENTITY,
        )),
        Err(e) => Err(PageError::App(e, ctx.lang)),
    }
}

#[derive(Deserialize, Default, Clone)]
struct CommunityForm {
    #[serde(default)]
    street_id: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    grid_count: String,
}

impl CommunityForm {
    fn from_community(c: &areas::Community) -> CommunityForm {
        CommunityForm {
            street_id: c.street_id.to_string(),
            code: c.code.clone(),
            name: c.name.clone(),
            grid_count: c.grid_count.to_string(),
        }
    }

    /// The street and the grid count, or the field errors of values that are not numbers.
    fn numbers(&self) -> Result<(i64, i32), AppError> {
        let mut checks = Checks::new();
        let street_id = if checks.required("street_id", &self.street_id) {
            self.street_id.trim().parse::<i64>().unwrap_or_else(|_| {
                checks.add(
                    "street_id",
                    "integer",
                    "须为整数。",
                    "Must be a whole number.",
                );
                0
            })
        } else {
            0
        };
        let grid_count = if self.grid_count.trim().is_empty() {
            0
        } else {
            self.grid_count.trim().parse::<i32>().unwrap_or_else(|_| {
                checks.add(
                    "grid_count",
                    "integer",
                    "须为整数。",
                    "Must be a whole number.",
                );
                0
            })
        };
        checks.finish()?;
        Ok((street_id, grid_count))
    }

    /// The street to go back to: the one entered, when it is a number.
    fn back_street(&self) -> Option<i64> {
        self.street_id.trim().parse().ok()
    }
}

#[derive(Template)]
#[template(path = "pages/registry/areas_community_form.html")]
struct CommunityFormPage {
    ctx: PageCtx,
    id: Option<i64>,
    form: CommunityForm,
    errors: FormErrors,
    streets: Vec<Opt>,
    back: String,
}

async fn community_form_page(
    state: &AppState,
    ctx: &PageCtx,
    id: Option<i64>,
    form: CommunityForm,
    errs: &[FieldError],
    status: StatusCode,
) -> Result<HttpResponse, PageError> {
    let streets = state
        .run(areas::list_streets)
        .await
        .map_err(page_err(ctx.lang))?;
    let back = match form.back_street() {
        Some(s) if streets.iter().any(|v| v.id == s) => format!("/areas/{s}"),
        _ => "/areas".to_string(),
    };
    let p = CommunityFormPage {
        ctx: ctx.clone(),
        id,
        errors: FormErrors::from_fields(ctx.lang, errs),
        streets: streets
            .into_iter()
            .map(|s| Opt {
                value: s.id.to_string(),
                label: format!("{}（{}）", s.name, s.code),
            })
            .collect(),
        back,
        form,
    };
    Ok(render(ctx, status, &p))
}

#[derive(Deserialize, Default, Clone)]
struct CommunityNewQuery {
    #[serde(default)]
    street_id: String,
}

async fn community_new_page(
    state: web::Data<AppState>,
    ctx: PageCtx,
    page: Page<BureauOrAdmin>,
    q: web::Query<CommunityNewQuery>,
) -> Result<HttpResponse, PageError> {
    let ctx = ctx.with_user(&page.user);
    let form = CommunityForm {
        street_id: q.into_inner().street_id.trim().to_string(),
        grid_count: "0".into(),
        ..Default::default()
    };
    community_form_page(&state, &ctx, None, form, &[], StatusCode::OK).await
}

async fn community_new_submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: PageCtx,
    page: Page<BureauOrAdmin>,
    form: SafeForm<CommunityForm>,
) -> Result<HttpResponse, PageError> {
    let ctx = ctx.with_user(&page.user);
    let f = form.0;
    let result = match f.numbers() {
        Ok((street_id, grid_count)) => {
            let new = areas::NewCommunity {
                street_id,
                code: f.code.clone(),
                name: f.name.clone(),
                grid_count,
            };
            let actor = crate::http::actor(&req, &page.user);
            let now = state.clock.now();
            state
                .run(move |c| areas::create_community(c, &actor, now, &new))
                .await
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(c) => Ok(redirect(
            &format!("/areas/{}", c.street_id),
            Some(("ok", ctx.t("areas.community_created"))),
        )),
        Err(AppError::Validation(errs)) => {
            community_form_page(
                &state,
                &ctx,
                None,
                f,
                &errs,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => Err(PageError::App(e, ctx.lang)),
    }
}

async fn community_edit_page(
    state: web::Data<AppState>,
    ctx: PageCtx,
    page: Page<BureauOrAdmin>,
    path: web::Path<i64>,
) -> Result<HttpResponse, PageError> {
    let ctx = ctx.with_user(&page.user);
    let id = path.into_inner();
    let c = state
        .run(move |c| areas::find_community(c, id))
        .await
        .map_err(page_err(ctx.lang))?;
    community_form_page(
        &state,
        &ctx,
        Some(id),
        CommunityForm::from_community(&c),
        &[],
        StatusCode::OK,
    )
    .await
}

async fn community_edit_submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: PageCtx,
    page: Page<BureauOrAdmin>,
    path: web::Path<i64>,
    form: SafeForm<CommunityForm>,
) -> Result<HttpResponse, PageError> {
    let ctx = ctx.with_user(&page.user);
    let id = path.into_inner();
    let f = form.0;
    let result = match f.numbers() {
        Ok((street_id, grid_count)) => {
            let upd = areas::CommunityUpdate {
                street_id: Some(street_id),
                code: Some(f.code.clone()),
                name: Some(f.name.clone()),
                grid_count: Some(grid_count),
            };
            let actor = crate::http::actor(&req, &page.user);
            let now = state.clock.now();
            state
                .run(move |c| areas::update_community(c, &actor, now, id, &upd))
                .await
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(c) => Ok(redirect(
            &format!("/areas/{}", c.street_id),
            Some(("ok", ctx.t("areas.community_saved"))),
        )),
        Err(AppError::Validation(errs)) => {
            community_form_page(
                &state,
                &ctx,
                Some(id),
                f,
                &errs,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => Err(PageError::App(e, ctx.lang)),
    }
}

// ---------- Bureau: base forms ----------

#[derive(Deserialize, Default, Clone)]
struct BaseForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    level: String,
    #[serde(default)]
    parent_id: String,
    #[serde(default)]
    street_id: String,
    #[serde(default)]
    community_id: String,
    #[serde(default)]
    operator_id: String,
    #[serde(default)]
    seats: String,
    #[serde(default)]
    address: String,
    #[serde(default)]
    contact_name: String,
    #[serde(default)]
    contact_phone: String,
    #[serde(default)]
    onsite: String,
    #[serde(default)]
    virtual_mode: String,
    #[serde(default)]
    svc_office_space: String,
    #[serde(default)]
    svc_training: String,
    #[serde(default)]
    svc_coaching: String,
    #[serde(default)]
    svc_financial_custody: String,
    #[serde(default)]
    svc_registration_help: String,
    #[serde(default)]
    svc_small_grants: String,
    #[serde(default)]
    svc_resource_matching: String,
    #[serde(default)]
    svc_publicity: String,
}

impl BaseForm {
    fn services(&self) -> Vec<(&'static str, bool)> {
        let on = |s: &String| !s.is_empty();
        vec![
            ("office_space", on(&self.svc_office_space)),
            ("training", on(&self.svc_training)),
            ("coaching", on(&self.svc_coaching)),
            ("financial_custody", on(&self.svc_financial_custody)),
            ("registration_help", on(&self.svc_registration_help)),
            ("small_grants", on(&self.svc_small_grants)),
            ("resource_matching", on(&self.svc_resource_matching)),
            ("publicity", on(&self.svc_publicity)),
        ]
    }

    fn from_view(b: &bases::BaseView) -> BaseForm {
        let has = |k: &str| {
            if b.services.iter().any(|s| s == k) {
                "on".to_string()
            } else {
                String::new()
            }
        };
        let id = |o: Option<i64>| o.map(|v| v.to_string()).unwrap_or_default();
        BaseForm {
            name: b.name.clone(),
            level: b.level.clone(),
            parent_id: id(b.parent_id),
            street_id: if b.level == "street" {
                id(b.street_id)
            } else {
                String::new()
            },
            community_id: id(b.community_id),
            operator_id: id(b.operator_id),
            seats: b.seats.to_string(),
            address: b.address.clone().unwrap_or_default(),
            contact_name: b.contact_name.clone().unwrap_or_default(),
            contact_phone: b.contact_phone.clone().unwrap_or_default(),
            onsite: if b.onsite { "on".into() } else { String::new() },
            virtual_mode: if b.virtual_mode {
                "on".into()
            } else {
                String::new()
            },
            svc_office_space: has("office_space"),
            svc_training: has("training"),
            svc_coaching: has("coaching"),
            svc_financial_custody: has("financial_custody"),
            svc_registration_help: has("registration_help"),
            svc_small_grants: has("small_grants"),
            svc_resource_matching: has("resource_matching"),
            svc_publicity: has("publicity"),
        }
    }

    /// The API input, or the field errors of values that are not numbers.
    fn input(&self) -> Result<BaseInput, AppError> {
        let mut checks = Checks::new();
        let mut id = |field: &str, s: &str| -> Option<i64> {
            let s = s.trim();
            if s.is_empty() {
                return None;
            }
            match s.parse::<i64>() {
                Ok(v) => Some(v),
                Err(_) => {
                    checks.add(field, "integer", "须为整数。", "Must be a whole number.");
                    None
                }
            }
        };
        let parent_id = id("parent_id", &self.parent_id);
        let street_id = id("street_id", &self.street_id);
        let community_id = id("community_id", &self.community_id);
        let operator_id = id("operator_id", &self.operator_id);
        let seats = if self.seats.trim().is_empty() {
            0
        } else {
            self.seats.trim().parse::<i32>().unwrap_or_else(|_| {
                checks.add("seats", "integer", "须为整数。", "Must be a whole number.");
                0
            })
        };
        checks.finish()?;
        let s = |v: &String| Some(v.trim().to_string()).filter(|v| !v.is_empty());
        Ok(BaseInput {
            name: self.name.clone(),
            level: self.level.clone(),
            parent_id,
            street_id,
            community_id,
            operator_id,
            seats,
            address: s(&self.address),
            contact_name: s(&self.contact_name),
            contact_phone: s(&self.contact_phone),
            onsite: !self.onsite.is_empty(),
            virtual_mode: !self.virtual_mode.is_empty(),
            services: self
                .services()
                .into_iter()
                .filter(|(_, on)| *on)
                .map(|(k, _)| k.to_string())
                .collect(),
        })
    }
}

#[derive(Clone, Debug)]
pub struct Opt {
    pub value: String,
    pub label: String,
}

#[derive(Clone, Debug)]
pub struct SvcOpt {
    pub key: &'static str,
    pub label: &'static str,
    pub on: bool,
}

#[derive(Template)]
#[template(path = "pages/registry/bases_form.html")]
struct BaseFormPage {
    ctx: PageCtx,
    id: Option<i64>,
    form: BaseForm,
    errors: FormErrors,
    levels: Vec<(&'static str, &'static str)>,
    parents: Vec<Opt>,
    streets: Vec<Opt>,
    communities: Vec<Opt>,
    operators: Vec<Opt>,
    services: Vec<SvcOpt>,
}

struct FormLists {
    parents: Vec<Opt>,
    streets: Vec<Opt>,
    communities: Vec<Opt>,
    operators: Vec<Opt>,
}

async fn form_lists(state: &AppState, lang: Lang) -> Result<FormLists, PageError> {
    use crate::db::schema::{communities, organisations, streets};
    let (bases, streets, comms, orgs) = state
        .run(move |c| {
            let b = bases::options(c)?;
            let s: Vec<(i64, String)> = streets::table
                .order(streets::code.asc())
                .select((streets::id, streets::name))
                .load(c)?;
            let cm: Vec<(i64, String, String)> = communities::table
                .inner_join(streets::table)
                .order(communities::code.asc())
                .select((communities::id, communities::name, streets::name))
                .load(c)?;
            let o: Vec<(i64, String)> = organisations::table
                .order(organisations::name.asc())
                .select((organisations::id, organisations::name))
                .load(c)?;
            Ok((b, s, cm, o))
        })
        .await
        .map_err(page_err(lang))?;
    Ok(FormLists {
        parents: bases
            .into_iter()
            .filter(|(_, _, l)| l != "community")
            .map(|(id, n, l)| Opt {
                value: id.to_string(),
                label: format!("{n}（{}）", level_label(lang, &l)),
            })
            .collect(),
        streets: streets
            .into_iter()
            .map(|(id, n)| Opt {
                value: id.to_string(),
                label: n,
            })
            .collect(),
        communities: comms
            .into_iter()
            .map(|(id, n, s)| Opt {
                value: id.to_string(),
                label: format!("{s} · {n}"),
            })
            .collect(),
        operators: orgs
            .into_iter()
            .map(|(id, n)| Opt {
                value: id.to_string(),
                label: n,
            })
            .collect(),
    })
}

async fn base_form_page(
    state: &AppState,
    ctx: &PageCtx,
    id: Option<i64>,
    form: BaseForm,
    errs: &[FieldError],
    status: StatusCode,
) -> Result<HttpResponse, PageError> {
    let lists = form_lists(state, ctx.lang).await?;
    let services = form
        .services()
        .into_iter()
        .map(|(k, on)| SvcOpt {
            key: k,
            label: static_label(SERVICES, k, ctx.lang),
            on,
        })
        .collect();
    let p = BaseFormPage {
        ctx: ctx.clone(),
        id,
        form,
        errors: FormErrors::from_fields(ctx.lang, errs),
        levels: level_options(ctx.lang),
        parents: lists.parents,
        streets: lists.streets,
        communities: lists.communities,
        operators: lists.operators,
        services,
    };
    Ok(render(ctx, status, &p))
}

async fn base_new_page(
    state: web::Data<AppState>,
    ctx: PageCtx,
    page: Page<BureauOrAdmin>,
) -> Result<HttpResponse, PageError> {
    let ctx = ctx.with_user(&page.user);
    let form = BaseForm {
        level: "community".into(),
        onsite: "on".into(),
        seats: "0".into(),
        ..Default::default()
    };
    base_form_page(&state, &ctx, None, form, &[], StatusCode::OK).await
}

async fn base_new_submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: PageCtx,
    page: Page<BureauOrAdmin>,
    form: SafeForm<BaseForm>,
) -> Result<HttpResponse, PageError> {
    let ctx = ctx.with_user(&page.user);
    let f = form.0;
    let result = match f.input() {
        Ok(input) => {
            let actor = crate::http::actor(&req, &page.user);
            let now = state.clock.now();
            state
                .run(move |c| bases::create(c, &actor, now, &input))
                .await
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(b) => Ok(redirect(
            &format!("/bases/{}", b.id),
            Some(("ok", ctx.t("bases.created"))),
        )),
        Err(AppError::Validation(errs)) => {
            base_form_page(
                &state,
                &ctx,
                None,
                f,
                &errs,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => Err(PageError::App(e, ctx.lang)),
    }
}

async fn base_edit_page(
    state: web::Data<AppState>,
    ctx: PageCtx,
    page: Page<BureauOrAdmin>,
    path: web::Path<i64>,
) -> Result<HttpResponse, PageError> {
    let ctx = ctx.with_user(&page.user);
    let id = path.into_inner();
    let b = state
        .run(move |c| bases::find(c, id))
        .await
        .map_err(page_err(ctx.lang))?;
    base_form_page(
        &state,
        &ctx,
        Some(id),
        BaseForm::from_view(&b),
        &[],
        StatusCode::OK,
    )
    .await
}

async fn base_edit_submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: PageCtx,
    page: Page<BureauOrAdmin>,
    path: web::Path<i64>,
    form: SafeForm<BaseForm>,
) -> Result<HttpResponse, PageError> {
    let ctx = ctx.with_user(&page.user);
    let id = path.into_inner();
    let f = form.0;
    let result = match f.input() {
        Ok(input) => {
            let actor = crate::http::actor(&req, &page.user);
            let now = state.clock.now();
            state
                .run(move |c| bases::update(c, &actor, now, id, &input))
                .await
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(_) => Ok(redirect(
            &format!("/bases/{id}"),
            Some(("ok", ctx.t("bases.saved"))),
        )),
        Err(AppError::Validation(errs)) => {
            base_form_page(
                &state,
                &ctx,
                Some(id),
                f,
                &errs,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => Err(PageError::App(e, ctx.lang)),
    }
}

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
struct IncListQuery {
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

async fn incub_list_page(
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
    let (rows, total) = state
        .run(move |c| incubations::list(c, &cal, today, &f2, only))
        .await
        .map_err(page_err(lang))?;
    let (p, per) = crate::db::paging(filter.page, filter.per_page);
    let pager = Pager::new(
        "/registry/incubations",
        &[
            ("q", q.q.clone()),
            ("state", q.state.clone()),
            ("level", q.level.clone()),
            ("overdue", if overdue { "1".into() } else { String::new() }),
            ("base_id", q.base_id.clone()),
        ],
        p,
        per,
        total,
    );
    let export_link = export_link(
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
        rows: rows.iter().map(|v| inc_row(lang, v)).collect(),
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

async fn incub_overview_page(
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
struct ApplyForm {
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
                label: format!("{n}（{}）", level_label(lang, &l)),
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

async fn incub_new_page(
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

async fn incub_new_submit(
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
        s => s.parse::<i64>().unwrap_or_else(|_| {
            checks.add(
                "base_id",
                "integer",
                "须为整数。",
                "Must be a whole number.",
            );
            0
        }),
    };
    let organisation_id = match org {
        Some(o) => Some(o),
        None => match f.organisation_id.trim() {
            "" => None,
            s => s.parse::<i64>().map(Some).unwrap_or_else(|_| {
                checks.add(
                    "organisation_id",
                    "integer",
                    "须为整数。",
                    "Must be a whole number.",
                );
                None
            }),
        },
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
struct TransitionForm {
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
        let mut checks = Checks::new();
        let mut date = |field: &str, s: &str| -> Option<chrono::NaiveDate> {
            let s = s.trim();
            if s.is_empty() {
                return None;
            }
            chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .map_err(|_| {
                    checks.add(
                        field,
                        "date",
                        "日期格式为 YYYY-MM-DD。",
                        "A date is YYYY-MM-DD.",
                    )
                })
                .ok()
        };
        let start_on = date("start_on", &self.start_on);
        let planned_end = date("planned_end", &self.planned_end);
        checks.finish()?;
        let opt = |s: &String| Some(s.trim().to_string()).filter(|s| !s.is_empty());
        Ok(Transition {
            to: self.to.clone(),
            mode: opt(&self.mode),
            stage: opt(&self.stage),
            reason: opt(&self.reason),
            start_on,
            planned_end,
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
    checklist_done: Vec<&'static str>,
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

#[allow(clippy::too_many_arguments)]
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

async fn incub_page(
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

async fn incub_submit(
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

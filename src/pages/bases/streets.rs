//! The areas: the street and community list, a street's page, and the bureau's street and community forms.

use super::*;

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

pub(super) async fn areas_page(
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

pub(super) async fn street_page(
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
pub(super) struct StreetForm {
    #[serde(default)]
    code: String,
    #[serde(default)]
    name: String,
    /// The version the form was opened with (`crate::version`).
    #[serde(default)]
    version: String,
}

const STREET_LABELS: &[(&str, &str)] = &[("code", "areas.code"), ("name", "areas.name")];

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
    mut form: StreetForm,
    errors: FormErrors,
    status: StatusCode,
) -> HttpResponse {
    if let Some(s) = &errors.stale {
        form.version = s.version.clone();
    }
    let p = StreetFormPage {
        ctx: ctx.clone(),
        id,
        form,
        errors,
    };
    render(ctx, status, &p)
}

pub(super) async fn street_new_page(ctx: PageCtx, page: Page<BureauOrAdmin>) -> HttpResponse {
    let ctx = ctx.with_user(&page.user);
    street_form_page(
        &ctx,
        None,
        StreetForm::default(),
        FormErrors::default(),
        StatusCode::OK,
    )
}

pub(super) async fn street_new_submit(
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
            FormErrors::from_fields(ctx.lang, &errs),
            StatusCode::UNPROCESSABLE_ENTITY,
        )),
        Err(e) => Err(PageError::App(e, ctx.lang)),
    }
}

pub(super) async fn street_edit_page(
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
        version: crate::version::of(&s),
        code: s.code,
        name: s.name,
    };
    Ok(street_form_page(
        &ctx,
        Some(id),
        form,
        FormErrors::default(),
        StatusCode::OK,
    ))
}

pub(super) async fn street_edit_submit(
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
    let expect = crate::version::parse(Some(&f.version));
    let result = state
        .run(move |c| areas::update_street(c, &actor, now, id, &upd, expect.as_deref()))
        .await;
    match result {
        Ok(_) => Ok(redirect(
            &format!("/areas/{id}"),
            Some(("ok", ctx.t("areas.street_saved"))),
        )),
        Err(e) => {
            let mine = serde_json::json!({"code": f.code, "name": f.name});
            match FormErrors::of_refusal(&ctx, &e, &mine, STREET_LABELS) {
                Some((errors, status)) => Ok(street_form_page(&ctx, Some(id), f, errors, status)),
                None => Err(PageError::App(e, ctx.lang)),
            }
        }
    }
}

#[derive(Deserialize, Default, Clone)]
pub(super) struct CommunityForm {
    #[serde(default)]
    street_id: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    grid_count: String,
    /// The version the form was opened with (`crate::version`).
    #[serde(default)]
    version: String,
}

const COMMUNITY_LABELS: &[(&str, &str)] = &[
    ("street_id", "areas.street"),
    ("code", "areas.code"),
    ("name", "areas.name"),
    ("grid_count", "areas.grids"),
];

impl CommunityForm {
    fn from_community(c: &areas::Community) -> CommunityForm {
        CommunityForm {
            street_id: c.street_id.to_string(),
            code: c.code.clone(),
            name: c.name.clone(),
            grid_count: c.grid_count.to_string(),
            version: crate::version::of(c),
        }
    }

    /// The street and the grid count, or the field errors of values that are not numbers.
    fn numbers(&self) -> Result<(i64, i32), AppError> {
        let mut errs = Vec::new();
        let street_id = parse_int("street_id", &self.street_id, &mut errs);
        // An empty grid count is none, as on the API.
        let grid_count =
            parse_opt_int("grid_count", &self.grid_count, &mut errs).unwrap_or_default();
        checked(street_id.map(|s| (s, grid_count)), errs)
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
    mut form: CommunityForm,
    errors: FormErrors,
    status: StatusCode,
) -> Result<HttpResponse, PageError> {
    if let Some(s) = &errors.stale {
        form.version = s.version.clone();
    }
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
        errors,
        streets: streets
            .into_iter()
            .map(|s| Opt {
                value: s.id.to_string(),
                label: format!("{}{}", s.name, ctx.lang.paren(&s.code)),
            })
            .collect(),
        back,
        form,
    };
    Ok(render(ctx, status, &p))
}

#[derive(Deserialize, Default, Clone)]
pub(super) struct CommunityNewQuery {
    #[serde(default)]
    street_id: String,
}

pub(super) async fn community_new_page(
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
    community_form_page(
        &state,
        &ctx,
        None,
        form,
        FormErrors::default(),
        StatusCode::OK,
    )
    .await
}

pub(super) async fn community_new_submit(
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
                FormErrors::from_fields(ctx.lang, &errs),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => Err(PageError::App(e, ctx.lang)),
    }
}

pub(super) async fn community_edit_page(
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
        FormErrors::default(),
        StatusCode::OK,
    )
    .await
}

pub(super) async fn community_edit_submit(
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
            let expect = crate::version::parse(Some(&f.version));
            state
                .run(move |c| areas::update_community(c, &actor, now, id, &upd, expect.as_deref()))
                .await
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(c) => Ok(redirect(
            &format!("/areas/{}", c.street_id),
            Some(("ok", ctx.t("areas.community_saved"))),
        )),
        Err(e) => {
            let mine = serde_json::json!({
                "street_id": f.street_id.trim().parse::<i64>().ok(),
                "code": f.code,
                "name": f.name,
                "grid_count": f.grid_count.trim().parse::<i32>().ok(),
            });
            match FormErrors::of_refusal(&ctx, &e, &mine, COMMUNITY_LABELS) {
                Some((errors, status)) => {
                    community_form_page(&state, &ctx, Some(id), f, errors, status).await
                }
                None => Err(PageError::App(e, ctx.lang)),
            }
        }
    }
}

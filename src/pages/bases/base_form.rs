//! The bureau's base form: a base created or edited, with its level, services and areas.

use super::*;

// ---------- Bureau: base forms ----------

#[derive(Deserialize, Default, Clone)]
pub(super) struct BaseForm {
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
    /// The version the form was opened with (`crate::version`).
    #[serde(default)]
    version: String,
}

/// The form's fields by their JSON key, for the notice of a change made meanwhile.
const LABELS: &[(&str, &str)] = &[
    ("name", "bases.name"),
    ("level", "bases.level"),
    ("parent_id", "bases.parent"),
    ("street_id", "bases.street"),
    ("community_id", "bases.community"),
    ("operator_id", "bases.operator"),
    ("seats", "bases.seats"),
    ("address", "bases.address"),
    ("contact_name", "bases.contact_name"),
    ("contact_phone", "bases.contact_phone"),
    ("onsite", "bases.onsite"),
    ("virtual_mode", "bases.virtual"),
    ("services", "bases.services"),
];

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
            version: String::new(),
        }
    }

    /// The API input, or the field errors of values that are not numbers.
    fn input(&self) -> Result<BaseInput, AppError> {
        let mut errs = Vec::new();
        let parent_id = parse_opt_int("parent_id", &self.parent_id, &mut errs);
        let street_id = parse_opt_int("street_id", &self.street_id, &mut errs);
        let community_id = parse_opt_int("community_id", &self.community_id, &mut errs);
        let operator_id = parse_opt_int("operator_id", &self.operator_id, &mut errs);
        // Empty seats are none, as the hint says.
        let seats = parse_opt_int("seats", &self.seats, &mut errs);
        let seats = checked(Some(seats.unwrap_or_default()), errs)?;
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
    pub label: String,
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
                label: format!("{n}{}", lang.paren(level_label(lang, &l))),
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
    mut form: BaseForm,
    errors: FormErrors,
    status: StatusCode,
) -> Result<HttpResponse, PageError> {
    if let Some(s) = &errors.stale {
        form.version = s.version.clone();
    }
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
        errors,
        levels: level_options(ctx.lang),
        parents: lists.parents,
        streets: lists.streets,
        communities: lists.communities,
        operators: lists.operators,
        services,
    };
    Ok(render(ctx, status, &p))
}

pub(super) async fn base_new_page(
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
    base_form_page(
        &state,
        &ctx,
        None,
        form,
        FormErrors::default(),
        StatusCode::OK,
    )
    .await
}

pub(super) async fn base_new_submit(
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
                FormErrors::from_fields(ctx.lang, &errs),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => Err(PageError::App(e, ctx.lang)),
    }
}

pub(super) async fn base_edit_page(
    state: web::Data<AppState>,
    ctx: PageCtx,
    page: Page<BureauOrAdmin>,
    path: web::Path<i64>,
) -> Result<HttpResponse, PageError> {
    let ctx = ctx.with_user(&page.user);
    let id = path.into_inner();
    let (b, version) = state
        .run(move |c| Ok((bases::find(c, id)?, bases::version(c, id)?)))
        .await
        .map_err(page_err(ctx.lang))?;
    let form = BaseForm {
        version,
        ..BaseForm::from_view(&b)
    };
    base_form_page(
        &state,
        &ctx,
        Some(id),
        form,
        FormErrors::default(),
        StatusCode::OK,
    )
    .await
}

pub(super) async fn base_edit_submit(
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
    let (result, mine) = match f.input() {
        Ok(input) => {
            let actor = crate::http::actor(&req, &page.user);
            let now = state.clock.now();
            let expect = crate::version::parse(Some(&f.version));
            let mine = input.clone();
            let r = state
                .run(move |c| bases::update(c, &actor, now, id, &input, expect.as_deref()))
                .await;
            (r, mine)
        }
        Err(e) => (Err(e), BaseInput::default()),
    };
    match result {
        Ok(_) => Ok(redirect(
            &format!("/bases/{id}"),
            Some(("ok", ctx.t("bases.saved"))),
        )),
        Err(e) => match FormErrors::of_refusal(&ctx, &e, &mine, LABELS) {
            Some((errors, status)) => {
                base_form_page(&state, &ctx, Some(id), f, errors, status).await
            }
            None => Err(PageError::App(e, ctx.lang)),
        },
    }
}

//! The organisation form: created or edited by the bureau, and an organisation's own page (`/my/org`).

use super::*;

// ---------------------------------------------------------------------------------------------------------
// Organisation forms

#[derive(Template)]
#[template(path = "pages/registry/orgs_form.html")]
struct OrgFormPage {
    ctx: PageCtx,
    id: Option<i64>,
    /// The org user's own page: identity fields are proposals, bureau fields are hidden.
    own: bool,
    v: OrgInput,
    errors: FormErrors,
    kinds: Vec<(String, String)>,
    registrations: Vec<(String, String)>,
    fields: Vec<(String, String)>,
    streets: Vec<(String, String)>,
    pending: Vec<ChangeRequestView>,
    /// The organisation's own workers whose certificate waits for the bureau (its own page only).
    unverified: Vec<(i64, String)>,
    l: Labels,
    /// What was typed, when the form comes back with errors.
    typed: HashMap<String, String>,
    /// The version the form was opened with (`crate::version`), sent back with it.
    version: Option<String>,
}

/// The form's fields by their JSON key, for the notice of a change made meanwhile.
const LABELS: &[(&str, &str)] = &[
    ("name", "orgs.name"),
    ("kind", "orgs.kind"),
    ("registration", "orgs.registration"),
    ("credit_code", "orgs.credit_code"),
    ("registered_on", "orgs.registered_on"),
    ("registration_authority", "orgs.authority"),
    ("legal_representative", "orgs.legal_rep"),
    ("address", "orgs.address"),
    ("street_id", "orgs.street"),
    ("contact_name", "orgs.contact_name"),
    ("contact_phone", "orgs.contact_phone"),
    ("contact_email", "orgs.contact_email"),
    ("staff_count", "orgs.staff"),
    ("volunteer_count", "orgs.volunteers"),
    ("fields", "orgs.fields"),
    ("area_street_ids", "orgs.areas"),
];

impl OrgFormPage {
    fn has_field(&self, k: &str) -> bool {
        self.v.fields.iter().any(|f| f == k)
    }
    fn has_area(&self, id: &str) -> bool {
        self.v.area_street_ids.iter().any(|s| s.to_string() == id)
    }
    fn street_sel(&self, id: &str) -> bool {
        self.v.street_id.map(|s| s.to_string()).as_deref() == Some(id)
    }
    fn action(&self) -> String {
        match (self.own, self.id) {
            (true, _) => "/my/org".into(),
            (false, Some(i)) => format!("/registry/orgs/{i}/edit"),
            (false, None) => "/registry/orgs/new".into(),
        }
    }
    /// A count as typed when the form comes back with errors (a text that is not a number stays as
    /// typed), otherwise as stored.
    fn count(&self, field: &str, v: &Option<i64>) -> String {
        match self.typed.get(field) {
            Some(t) => t.clone(),
            None => v.map(|n| n.to_string()).unwrap_or_default(),
        }
    }
}

/// Read the organisation form: plain fields, `field.<key>` and `area.<street id>` checkboxes; counts that are
/// not numbers are field errors (and left empty in the input, which is then not sent).
fn org_input_of(f: &Form, errs: &mut Vec<FieldError>) -> OrgInput {
    let o = |k: &str| Some(f.get(k));
    let keys = || f.pairs().iter().map(|(k, _)| k.as_str());
    let mut fields: Vec<String> = keys()
        .filter_map(|k| k.strip_prefix("field.").map(str::to_string))
        .collect();
    fields.sort();
    fields.dedup();
    let mut areas: Vec<i64> = keys()
        .filter_map(|k| k.strip_prefix("area.").and_then(|s| s.parse().ok()))
        .collect();
    areas.sort();
    areas.dedup();
    OrgInput {
        name: f.get("name"),
        kind: f.get("kind"),
        registration: f.get("registration"),
        credit_code: o("credit_code"),
        registered_on: o("registered_on"),
        registration_authority: o("registration_authority"),
        legal_representative: o("legal_representative"),
        contact_name: o("contact_name"),
        contact_phone: o("contact_phone"),
        contact_email: o("contact_email"),
        address: o("address"),
        street_id: f.ids("street_id").first().copied(),
        staff_count: f.opt_int("staff_count", errs),
        volunteer_count: f.opt_int("volunteer_count", errs),
        fields,
        area_street_ids: areas,
    }
}

async fn form_page(
    state: &AppState,
    ctx: PageCtx,
    id: Option<i64>,
    own: bool,
    v: OrgInput,
    (errors, typed): (FormErrors, HashMap<String, String>),
    status: StatusCode,
) -> Result<HttpResponse, PageError> {
    let by_org = id;
    let carried = carried_version(&errors, &typed);
    let (streets, (pending, unverified), version) = state
        .run(move |c| {
            let version = match (carried, by_org) {
                (Some(v), _) => Some(v),
                (None, Some(org)) => Some(orgs::version(c, org)?),
                (None, None) => None,
            };
            let pending = match (own, by_org) {
                (true, Some(org)) => {
                    let f = ChangeFilter {
                        status: Some("pending".into()),
                        organisation_id: Some(org),
                        ..Default::default()
                    };
                    let staff = CurrentUser {
                        id: 0,
                        username: String::new(),
                        display_name: String::new(),
                        email: None,
                        role: Role::Bureau,
                        org_id: None,
                        token_version: 0,
                        via_cookie: false,
                        token_id: String::new(),
                        token_exp: 0,
                    };
                    (
                        changes::list(c, &staff, &f)?.items,
                        crate::registry::workers::unverified_of(c, org)?,
                    )
                }
                _ => (Vec::new(), Vec::new()),
            };
            Ok((street_options(c)?, pending, version))
        })
        .await
        .map_err(page_err(ctx.lang))?;
    let page = OrgFormPage {
        l: labels(&ctx),
        kinds: options(ctx.lang, KINDS),
        registrations: options(ctx.lang, REGISTRATIONS),
        fields: options(ctx.lang, FIELDS),
        ctx: ctx.clone(),
        id,
        own,
        v,
        errors,
        streets,
        pending,
        unverified,
        typed,
        version,
    };
    Ok(render(&ctx, status, &page))
}

pub(super) async fn org_new_page(
    state: web::Data<AppState>,
    ctx: PageCtx,
    page: Page<BureauOrAdmin>,
) -> Result<HttpResponse, PageError> {
    let ctx = ctx.with_user(&page.user);
    let v = OrgInput {
        kind: "social_group".into(),
        registration: "registered".into(),
        ..Default::default()
    };
    form_page(
        &state,
        ctx,
        None,
        false,
        v,
        Default::default(),
        StatusCode::OK,
    )
    .await
}

pub(super) async fn org_new_submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: PageCtx,
    page: Page<BureauOrAdmin>,
    form: Form,
) -> Result<HttpResponse, PageError> {
    let ctx = ctx.with_user(&page.user);
    let mut errs = Vec::new();
    let v = org_input_of(&form, &mut errs);
    let actor = crate::http::actor(&req, &page.user);
    let (now, rules) = (state.clock.now(), state.standing_rules());
    let v2 = v.clone();
    let saved = match checked(Some(()), errs) {
        Ok(()) => {
            state
                .run(move |c| orgs::create(c, &actor, now, rules, &v2))
                .await
        }
        Err(e) => Err(e),
    };
    match saved {
        Ok(row) => Ok(redirect(
            &format!("/registry/orgs/{}", row.id),
            Some(("ok", ctx.t("orgs.created"))),
        )),
        Err(AppError::Validation(errs)) => {
            let e = FormErrors::from_fields(ctx.lang, &errs);
            form_page(
                &state,
                ctx,
                None,
                false,
                v,
                (e, form.values()),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => Err(PageError::App(e, ctx.lang)),
    }
}

pub(super) async fn org_edit_page(
    state: web::Data<AppState>,
    ctx: PageCtx,
    page: Page<BureauOrAdmin>,
    id: web::Path<i64>,
) -> Result<HttpResponse, PageError> {
    let ctx = ctx.with_user(&page.user);
    let id = id.into_inner();
    let v = state
        .run(move |c| orgs::current_input(c, id))
        .await
        .map_err(page_err(ctx.lang))?;
    form_page(
        &state,
        ctx,
        Some(id),
        false,
        v,
        Default::default(),
        StatusCode::OK,
    )
    .await
}

/// A full form as a patch: every field replaces the current one.
fn patch_of(v: &OrgInput, own: bool) -> OrgPatch {
    if own {
        OrgPatch {
            name: Some(v.name.clone()),
            kind: Some(v.kind.clone()),
            credit_code: v.credit_code.clone(),
            contact_name: v.contact_name.clone(),
            contact_phone: v.contact_phone.clone(),
            contact_email: v.contact_email.clone(),
            staff_count: Some(v.staff_count.unwrap_or(0)),
            volunteer_count: Some(v.volunteer_count.unwrap_or(0)),
            fields: Some(v.fields.clone()),
            area_street_ids: Some(v.area_street_ids.clone()),
            ..Default::default()
        }
    } else {
        OrgPatch {
            name: Some(v.name.clone()),
            kind: Some(v.kind.clone()),
            registration: Some(v.registration.clone()),
            credit_code: v.credit_code.clone(),
            registered_on: v.registered_on.clone(),
            registration_authority: v.registration_authority.clone(),
            legal_representative: v.legal_representative.clone(),
            contact_name: v.contact_name.clone(),
            contact_phone: v.contact_phone.clone(),
            contact_email: v.contact_email.clone(),
            address: v.address.clone(),
            street_id: Some(v.street_id.unwrap_or(0)),
            staff_count: Some(v.staff_count.unwrap_or(0)),
            volunteer_count: Some(v.volunteer_count.unwrap_or(0)),
            fields: Some(v.fields.clone()),
            area_street_ids: Some(v.area_street_ids.clone()),
        }
    }
}

async fn save_org(
    req: &HttpRequest,
    state: &AppState,
    ctx: PageCtx,
    user: &CurrentUser,
    id: i64,
    own: bool,
    form: Form,
) -> Result<HttpResponse, PageError> {
    let mut errs = Vec::new();
    let mut v = org_input_of(&form, &mut errs);
    if own {
        // Fields the organisation does not edit keep their values in the re-shown form.
        let cur = state
            .run(move |c| orgs::current_input(c, id))
            .await
            .map_err(page_err(ctx.lang))?;
        v.registration = cur.registration;
        v.registered_on = cur.registered_on;
        v.registration_authority = cur.registration_authority;
        v.legal_representative = cur.legal_representative;
        v.address = cur.address;
        v.street_id = cur.street_id;
    }
    let p = patch_of(&v, own);
    let expect = crate::version::parse(Some(&form.get("version")));
    let (actor, now, by) = (
        crate::http::actor(req, user),
        state.clock.now(),
        user.clone(),
    );
    let (today, rules) = (state.today(), state.standing_rules());
    let r = match checked(Some(()), errs) {
        Ok(()) => {
            state
                .run(move |c| {
                    orgs::update_with_detail(
                        c,
                        &actor,
                        now,
                        &by,
                        id,
                        &p,
                        today,
                        rules,
                        expect.as_deref(),
                    )
                })
                .await
        }
        Err(e) => Err(e),
    };
    match r {
        Ok(r) => {
            let (to, msg) = if own {
                (
                    "/my/org".to_string(),
                    if r.change_request.is_some() {
                        "orgs.request_sent"
                    } else {
                        "orgs.saved"
                    },
                )
            } else {
                (format!("/registry/orgs/{id}"), "orgs.saved")
            };
            Ok(redirect(&to, Some(("ok", ctx.t(msg)))))
        }
        Err(AppError::Validation(errs)) => {
            let e = FormErrors::from_fields(ctx.lang, &errs);
            form_page(
                state,
                ctx,
                Some(id),
                own,
                v,
                (e, form.values()),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(AppError::Stale { version, current }) => {
            let notice = StaleNotice::labelled(&ctx, version, &v, &current, LABELS);
            form_page(
                state,
                ctx,
                Some(id),
                own,
                v,
                (FormErrors::stale(notice), form.values()),
                StatusCode::PRECONDITION_FAILED,
            )
            .await
        }
        Err(e) => Err(PageError::App(e, ctx.lang)),
    }
}

pub(super) async fn org_edit_submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: PageCtx,
    page: Page<BureauOrAdmin>,
    id: web::Path<i64>,
    form: Form,
) -> Result<HttpResponse, PageError> {
    let ctx = ctx.with_user(&page.user);
    save_org(&req, &state, ctx, &page.user, id.into_inner(), false, form).await
}

pub(super) async fn my_org(
    state: web::Data<AppState>,
    ctx: PageCtx,
    page: Page<OrgOnly>,
) -> Result<HttpResponse, PageError> {
    let ctx = ctx.with_user(&page.user);
    let id = page.user.own_org_id().map_err(page_err(ctx.lang))?;
    let v = state
        .run(move |c| orgs::current_input(c, id))
        .await
        .map_err(page_err(ctx.lang))?;
    form_page(
        &state,
        ctx,
        Some(id),
        true,
        v,
        Default::default(),
        StatusCode::OK,
    )
    .await
}

pub(super) async fn my_org_submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: PageCtx,
    page: Page<OrgOnly>,
    form: Form,
) -> Result<HttpResponse, PageError> {
    let ctx = ctx.with_user(&page.user);
    let id = page.user.own_org_id().map_err(page_err(ctx.lang))?;
    save_org(&req, &state, ctx, &page.user, id, true, form).await
}

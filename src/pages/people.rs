//! People-served pages: the overview (`/people`: the district's for the bureau and finance, an
//! organisation's own, the district's totals for everyone), an organisation's people (`/my/people`: list,
//! search, paging, registration with inline errors) and a contract's activities
//! (`/contracts/{id}/activities`: 人次 and 人数 at the top, the quick form a phone uses, the attendance CSV,
//! the list, the flags). They call `crate::people`, as the API does.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::app::AppState;
use crate::auth::{CurrentUser, Role};
use crate::contracts::Reader;
use crate::domain::flags::Flag;
use crate::domain::people::{Count, GENDERS};
use crate::domain::vocab::Term;
use crate::error::AppError;
use crate::http::caller::{OrgOnly, Page, ServiceReaders};
use crate::http::page::{
    FormErrors, PageCtx, PageError, Pager, SafeForm, bar_class, page_err, redirect, render,
};
use crate::i18n::Lang;
use crate::people::Ctx;
use crate::people::activities::{self, ActivityFilter, ActivityView, NewActivity};
use crate::people::beneficiaries::{self, BeneficiaryFilter, BeneficiaryView, NewBeneficiary};
use crate::people::counts::{self, CountFilter, Line, Overview, PublicTotals, Scope};

/// Protected pages of this module: (method, example path, roles allowed). (A contract's activities page
/// needs a contract, which the refusal walk's fixture does not have; its posts are pinned in
/// tests/it/page_posts.rs.)
pub const PROTECTED: &[(&str, &str, &[Role])] = &[("GET", "/my/people", &[Role::Org])];

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/people", web::get().to(overview_page))
        .route("/my/people", web::get().to(people_page))
        .route("/my/people", web::post().to(register_submit))
        .route("/contracts/{id}/activities", web::get().to(activities_page))
        .route("/contracts/{id}/activities", web::post().to(record_submit))
        .route(
            "/contracts/{id}/activities/import",
            web::post().to(import_submit),
        );
}

fn zh(ctx: &PageCtx) -> bool {
    ctx.lang == Lang::Zh
}

// ---------------------------------------------------------------------------------------------------
// The overview

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct OverviewQuery {
    #[serde(default)]
    year: String,
    #[serde(default)]
    street: String,
    #[serde(default)]
    field: String,
}

struct Opt {
    code: String,
    label: String,
}

#[derive(Template)]
#[template(path = "pages/people/overview.html")]
struct OverviewPage {
    ctx: PageCtx,
    q: OverviewQuery,
    /// Staff and organisations: the breakdowns; the public: totals only.
    o: Option<Overview>,
    totals: Option<PublicTotals>,
    own: bool,
    streets: Vec<Opt>,
    fields: Vec<Opt>,
    /// The query string of the filters, for the CSV links.
    query: String,
    error: Option<String>,
}

impl OverviewPage {
    fn yuan(&self, fen: &i64) -> String {
        crate::domain::money::yuan_grouped(*fen)
    }
    fn bar(&self, lines: &[Line], n: &i64) -> String {
        bar_class(*n, lines.iter().map(|l| l.count.visits).max().unwrap_or(0))
    }
}

fn filter_of(q: &OverviewQuery) -> Result<CountFilter, AppError> {
    let num = |field: &str, v: &str| -> Result<Option<i64>, AppError> {
        let v = v.trim();
        if v.is_empty() {
            return Ok(None);
        }
        v.parse()
            .map(Some)
            .map_err(|_| AppError::field(field, "integer", "须为整数。", "Must be a whole number."))
    };
    Ok(CountFilter {
        year: num("year", &q.year)?.map(|y| y as i32),
        street: num("street", &q.street)?,
        field: Some(q.field.trim().to_string()).filter(|s| !s.is_empty()),
        ..Default::default()
    })
}

async fn overview_page(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: PageCtx,
    q: web::Query<OverviewQuery>,
) -> Result<HttpResponse, PageError> {
    let ctx = crate::http::page::with_caller(&req, ctx).await;
    let q = q.into_inner();
    let pctx = Ctx::from_config(&state.config);
    let scope = match ctx.user.as_ref().map(|u| (u.role, u.org_id)) {
        Some((Role::Bureau | Role::Finance | Role::Admin, _)) => Some(Scope::District),
        Some((Role::Org, Some(o))) => Some(Scope::Organisation(o)),
        _ => None,
    };
    let z = zh(&ctx);
    let (f, error) = match filter_of(&q) {
        Ok(f) => (f, None),
        Err(AppError::Validation(errs)) => (
            CountFilter::default(),
            errs.first()
                .map(|e| ctx.lang.pick(&e.message.zh, &e.message.en).to_string()),
        ),
        Err(e) => return Err(PageError::App(e, ctx.lang)),
    };
    let f2 = f.clone();
    let result = state
        .run(move |c| {
            let streets = crate::registry::areas::list_streets(c)?;
            Ok(match scope {
                Some(s) => (Some(counts::overview(c, &pctx, s, &f2, z)), None, streets),
                None => (None, Some(counts::public_totals(c, &f2)), streets),
            })
        })
        .await
        .map_err(page_err(ctx.lang))?;
    let (o, totals, streets) = result;
    let (o, error) = match o {
        Some(Ok(o)) => (Some(o), error),
        Some(Err(AppError::Validation(errs))) => (
            None,
            errs.first()
                .map(|e| ctx.lang.pick(&e.message.zh, &e.message.en).to_string()),
        ),
        Some(Err(e)) => return Err(PageError::App(e, ctx.lang)),
        None => (None, error),
    };
    let totals = match totals {
        Some(Ok(t)) => Some(t),
        Some(Err(e)) => return Err(PageError::App(e, ctx.lang)),
        None => None,
    };
    let query = [
        ("year", q.year.trim()),
        ("street", q.street.trim()),
        ("field", q.field.trim()),
    ]
    .iter()
    .filter(|(_, v)| !v.is_empty())
    .map(|(k, v)| format!("&{k}={v}"))
    .collect::<String>();
    let p = OverviewPage {
        own: matches!(scope, Some(Scope::Organisation(_))),
        streets: streets
            .into_iter()
            .map(|s| Opt {
                code: s.id.to_string(),
                label: s.name,
            })
            .collect(),
        fields: crate::registry::orgs::FIELDS
            .iter()
            .map(|(k, z2, e)| Opt {
                code: k.to_string(),
                label: if z { z2 } else { e }.to_string(),
            })
            .collect(),
        query: query.replace(
            |c: char| !(c.is_ascii_alphanumeric() || "&=_-".contains(c)),
            "",
        ),
        q,
        o,
        totals,
        error,
        ctx: ctx.clone(),
    };
    Ok(render(&ctx, StatusCode::OK, &p))
}

// ---------------------------------------------------------------------------------------------------
// An organisation's people

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct PeopleQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    group: String,
    #[serde(default)]
    page: Option<i64>,
    #[serde(default)]
    per_page: Option<i64>,
}

#[derive(Debug, Default, Clone, Deserialize)]
struct PersonForm {
    #[serde(default)]
    id_number: String,
    #[serde(default)]
    pseudonym: String,
    #[serde(default)]
    group: String,
    #[serde(default)]
    gender: String,
    #[serde(default)]
    birth_year: String,
    #[serde(default)]
    community_id: String,
    #[serde(default)]
    name: String,
}

#[derive(Template)]
#[template(path = "pages/people/beneficiaries.html")]
struct PeoplePage {
    ctx: PageCtx,
    q: PeopleQuery,
    items: Vec<BeneficiaryView>,
    pager: Pager,
    groups: Vec<Opt>,
    genders: Vec<Opt>,
    communities: Vec<Opt>,
    /// The form as typed, without the identity number: a refused number is typed again, never echoed.
    form: PersonForm,
    errors: FormErrors,
}

impl PeoplePage {
    fn gender_label(&self, g: &str) -> String {
        self.ctx.label(GENDERS, g)
    }
    fn group_label(&self, g: &str) -> String {
        self.groups
            .iter()
            .find(|o| o.code == g)
            .map(|o| o.label.clone())
            .unwrap_or_else(|| g.to_string())
    }
}

fn options(terms: &[Term], zh: bool) -> Vec<Opt> {
    terms
        .iter()
        .map(|t| Opt {
            code: t.code.clone(),
            label: t.label(zh).to_string(),
        })
        .collect()
}

async fn show_people(
    state: &AppState,
    ctx: &PageCtx,
    user: &CurrentUser,
    q: PeopleQuery,
    form: PersonForm,
    errors: FormErrors,
    status: StatusCode,
) -> Result<HttpResponse, PageError> {
    let org = user.own_org_id().map_err(page_err(ctx.lang))?;
    let pctx = Ctx::from_config(&state.config);
    let z = zh(ctx);
    let f = BeneficiaryFilter {
        q: Some(q.q.clone()),
        group: Some(q.group.clone()),
        page: q.page,
        per_page: q.per_page,
        ..Default::default()
    };
    let pc = pctx.clone();
    let (list, communities) = state
        .run(move |c| {
            Ok((
                beneficiaries::list(c, &pc, org, &f)?,
                crate::registry::areas::list_all_communities(c, &Default::default())?,
            ))
        })
        .await
        .map_err(page_err(ctx.lang))?;
    let pager = Pager::new(
        "/my/people",
        &[("q", q.q.clone()), ("group", q.group.clone())],
        &list,
    );
    let p = PeoplePage {
        groups: options(&pctx.settings.groups, z),
        genders: GENDERS
            .iter()
            .map(|(k, zz, e)| Opt {
                code: k.to_string(),
                label: if z { zz } else { e }.to_string(),
            })
            .collect(),
        communities: communities
            .into_iter()
            .map(|c| Opt {
                code: c.id.to_string(),
                label: c.name,
            })
            .collect(),
        items: list.items,
        pager,
        q,
        form,
        errors,
        ctx: ctx.clone(),
    };
    Ok(render(ctx, status, &p))
}

async fn people_page(
    state: web::Data<AppState>,
    ctx: PageCtx,
    page: Page<OrgOnly>,
    q: web::Query<PeopleQuery>,
) -> Result<HttpResponse, PageError> {
    let ctx = ctx.with_user(&page.user);
    show_people(
        &state,
        &ctx,
        &page.user,
        q.into_inner(),
        PersonForm::default(),
        FormErrors::default(),
        StatusCode::OK,
    )
    .await
}

async fn register_submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: PageCtx,
    page: Page<OrgOnly>,
    form: SafeForm<PersonForm>,
) -> Result<HttpResponse, PageError> {
    let ctx = ctx.with_user(&page.user);
    let mut f = form.0;
    let org = page.user.own_org_id().map_err(page_err(ctx.lang))?;
    let opt = |s: &str| Some(s.trim().to_string()).filter(|s| !s.is_empty());
    let mut errs = Vec::new();
    let birth_year = match opt(&f.birth_year) {
        None => None,
        Some(y) => match y.parse::<i32>() {
            Ok(y) => Some(y),
            Err(_) => {
                errs.push(crate::error::FieldError::new(
                    "birth_year",
                    "integer",
                    "须为四位年份。",
                    "A four-digit year.",
                ));
                None
            }
        },
    };
    let community_id = f.community_id.trim().parse::<i64>().unwrap_or(0);
    let n = NewBeneficiary {
        id_number: opt(&f.id_number),
        pseudonym: opt(&f.pseudonym),
        group: opt(&f.group),
        gender: opt(&f.gender),
        birth_year,
        community_id,
        name: opt(&f.name),
    };
    // The number is never sent back to the browser.
    f.id_number.clear();
    let result = if errs.is_empty() {
        let pctx = Ctx::from_config(&state.config);
        let actor = crate::http::actor(&req, &page.user);
        let now = state.clock.now();
        state
            .run(move |c| beneficiaries::register(c, &pctx, &actor, now, org, &n))
            .await
    } else {
        Err(AppError::Validation(errs))
    };
    match result {
        Ok(v) => Ok(redirect(
            &format!("/my/people?q={}", v.pseudonym),
            Some(("ok", ctx.t("people.registered_ok"))),
        )),
        Err(AppError::Validation(errs)) => {
            show_people(
                &state,
                &ctx,
                &page.user,
                PeopleQuery::default(),
                f,
                FormErrors::from_fields(ctx.lang, &errs),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e @ AppError::Conflict { .. }) => {
            let m = e.message();
            let errs = vec![crate::error::FieldError::new(
                "id_number",
                e.code(),
                m.zh.clone(),
                m.en.clone(),
            )];
            show_people(
                &state,
                &ctx,
                &page.user,
                PeopleQuery::default(),
                f,
                FormErrors::from_fields(ctx.lang, &errs),
                StatusCode::CONFLICT,
            )
            .await
        }
        Err(e) => Err(PageError::App(e, ctx.lang)),
    }
}

// ---------------------------------------------------------------------------------------------------
// A contract's activities

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct ActivityQuery {
    #[serde(default)]
    kind: String,
    #[serde(default)]
    page: Option<i64>,
    #[serde(default)]
    per_page: Option<i64>,
}

#[derive(Debug, Default, Clone)]
struct ActivityForm {
    held_on: String,
    kind: String,
    community_id: String,
    minutes: String,
    title: String,
    /// Ticked recent people (their pseudonyms), repeated fields.
    pick: Vec<String>,
    /// More pseudonyms, separated by spaces, commas or new lines.
    pseudonyms: String,
    /// Identity numbers, one a line; never shown again.
    id_numbers: String,
    anonymous: String,
    volunteers: String,
    volunteer_hours: String,
    evidence_sha256: String,
}

#[derive(Debug, Default, Clone, Deserialize)]
struct ImportForm {
    #[serde(default)]
    csv: String,
}

#[derive(Template)]
#[template(path = "pages/people/activities.html")]
struct ActivitiesPage {
    ctx: PageCtx,
    /// The activities' sign-in sheets, by activity id.
    sheets: std::collections::HashMap<i64, crate::pages::evidence::EvidenceCell>,
    contract_id: i64,
    contract_no: String,
    title: String,
    term: String,
    delivered: Count,
    sessions: i64,
    /// The organisation may record (its own live contract).
    can_record: bool,
    is_org: bool,
    items: Vec<ActivityView>,
    pager: Pager,
    q: ActivityQuery,
    kinds: Vec<Opt>,
    communities: Vec<Opt>,
    recent: Vec<BeneficiaryView>,
    form: ActivityForm,
    errors: FormErrors,
    csv: String,
    csv_errors: Vec<(String, String)>,
    flags: Vec<Flag>,
    today: String,
}

impl ActivitiesPage {
    fn kind_label(&self, k: &str) -> String {
        self.kinds
            .iter()
            .find(|o| o.code == k)
            .map(|o| o.label.clone())
            .unwrap_or_else(|| k.to_string())
    }
    fn picked(&self, p: &str) -> bool {
        self.form.pick.iter().any(|x| x == p)
    }
    fn evidence(&self, f: &Flag) -> String {
        self.ctx
            .lang
            .pick(&f.evidence_zh, &f.evidence_en)
            .to_string()
    }
    fn rule_label(&self, f: &Flag) -> String {
        f.rule.label(self.ctx.lang == Lang::Zh).to_string()
    }
    fn participants_error(&self) -> Option<String> {
        let keys = ["participants", "pseudonyms", "id_numbers"];
        let v: Vec<String> = self
            .errors
            .all()
            .into_iter()
            .filter(|(k, _)| keys.iter().any(|p| k.starts_with(p)))
            .map(|(_, m)| m)
            .collect();
        (!v.is_empty()).then(|| v.join(" "))
    }
}

#[derive(Default)]
struct Shown {
    form: ActivityForm,
    errors: FormErrors,
    csv: String,
    csv_errors: Vec<(String, String)>,
}

async fn show_activities(
    state: &AppState,
    ctx: &PageCtx,
    user: &CurrentUser,
    id: i64,
    q: ActivityQuery,
    shown: Shown,
    status: StatusCode,
) -> Result<HttpResponse, PageError> {
    let r = Reader::of(Some(user));
    let pctx = Ctx::from_config(&state.config);
    let fctx = crate::contracts::flags::Ctx::from_config(&state.config);
    let today = state.today();
    let z = zh(ctx);
    let f = ActivityFilter {
        kind: Some(q.kind.clone()),
        page: q.page,
        per_page: q.per_page,
        ..Default::default()
    };
    let pc = pctx.clone();
    let org = user.org_id.filter(|_| user.role == Role::Org);
    let cctx = ctx.clone();
    let (row, list, delivered, flags, area, recent, sheets) = state
        .run(move |c| {
            let row = crate::contracts::spending::readable(c, r, id)?;
            let list = activities::list(c, &pc, r, id, &f)?;
            let held: Vec<_> = list
                .items
                .iter()
                .map(|a| (a.id, row.organisation_id, a.evidence_sha256.clone()))
                .collect();
            let back = format!("/contracts/{id}/activities");
            let purpose = crate::files::Purpose::SignInSheet;
            let sheets = crate::pages::evidence::cells(c, &cctx, purpose, &held, &back)?;
            let delivered = crate::people::achieved(c, id, today)?;
            let flags: Vec<Flag> = crate::contracts::flags::for_contract(c, &fctx, r, today, id)?
                .into_iter()
                .filter(|f| f.link.contains("/activities"))
                .collect();
            let area = activities::area(c, row.tender_id)?;
            let names: Vec<(i64, String)> = {
                use crate::db::schema::communities as cm;
                use diesel::prelude::*;
                cm::table
                    .filter(cm::id.eq_any(area.keys().copied().collect::<Vec<_>>()))
                    .order(cm::code)
                    .select((cm::id, cm::name))
                    .load(c)?
            };
            let recent = match org {
                Some(o) => {
                    beneficiaries::list(
                        c,
                        &pc,
                        o,
                        &BeneficiaryFilter {
                            per_page: Some(30),
                            ..Default::default()
                        },
                    )?
                    .items
                }
                None => Vec::new(),
            };
            Ok((row, list, delivered, flags, names, recent, sheets))
        })
        .await
        .map_err(page_err(ctx.lang))?;
    let pager = Pager::new(
        &format!("/contracts/{id}/activities"),
        &[("kind", q.kind.clone())],
        &list,
    );
    let mut form = shown.form;
    if form.held_on.is_empty() {
        form.held_on = today.to_string();
    }
    let p = ActivitiesPage {
        contract_id: id,
        can_record: user.role == Role::Org && row.state().is_live(),
        is_org: user.role == Role::Org,
        contract_no: row.contract_no.clone(),
        title: row.title.clone(),
        term: format!("{} — {}", row.term_start, row.term_end),
        delivered: delivered.count,
        sessions: delivered.sessions,
        items: list.items,
        pager,
        q,
        kinds: options(&pctx.settings.kinds, z),
        communities: area
            .into_iter()
            .map(|(i, n)| Opt {
                code: i.to_string(),
                label: n,
            })
            .collect(),
        recent,
        form,
        errors: shown.errors,
        csv: shown.csv,
        csv_errors: shown.csv_errors,
        flags,
        sheets,
        today: today.to_string(),
        ctx: ctx.clone(),
    };
    Ok(render(ctx, status, &p))
}

async fn activities_page(
    state: web::Data<AppState>,
    ctx: PageCtx,
    page: Page<ServiceReaders>,
    id: web::Path<i64>,
    q: web::Query<ActivityQuery>,
) -> Result<HttpResponse, PageError> {
    let ctx = ctx.with_user(&page.user);
    show_activities(
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

fn split_list(s: &str) -> Vec<String> {
    s.split(|c: char| c.is_whitespace() || c == ',' || c == '，' || c == '、')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

async fn record_submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: PageCtx,
    page: Page<OrgOnly>,
    id: web::Path<i64>,
    sent: crate::http::files::FormWithFile,
) -> Result<HttpResponse, PageError> {
    use crate::files::{Purpose, evidence};
    let ctx = ctx.with_user(&page.user);
    let form = sent.form;
    // Read as pairs: the ticked people repeat the field `pick`.
    let mut f = ActivityForm {
        held_on: form.get("held_on"),
        kind: form.get("kind"),
        community_id: form.get("community_id"),
        minutes: form.get("minutes"),
        title: form.get("title"),
        pick: form.all("pick"),
        pseudonyms: form.get("pseudonyms"),
        id_numbers: form.get("id_numbers"),
        anonymous: form.get("anonymous"),
        volunteers: form.get("volunteers"),
        volunteer_hours: form.get("volunteer_hours"),
        evidence_sha256: form.get("evidence_sha256"),
    };
    let id = id.into_inner();
    let org = page.user.own_org_id().map_err(page_err(ctx.lang))?;
    let mut errs = Vec::new();
    let mut int = |field: &str, v: &str, empty: i32| -> i32 {
        let v = v.trim();
        if v.is_empty() {
            return empty;
        }
        v.parse().unwrap_or_else(|_| {
            errs.push(crate::error::FieldError::new(
                field,
                "integer",
                "须为整数。",
                "Must be a whole number.",
            ));
            empty
        })
    };
    let minutes = int("minutes", &f.minutes, 0);
    let anonymous = int("anonymous", &f.anonymous, 0);
    let volunteers = int("volunteers", &f.volunteers, 0);
    let mut pseudonyms = f.pick.clone();
    for p in split_list(&f.pseudonyms) {
        if !pseudonyms.contains(&p) {
            pseudonyms.push(p);
        }
    }
    let mut n = NewActivity {
        held_on: f.held_on.clone(),
        kind: f.kind.clone(),
        community_id: f.community_id.trim().parse().unwrap_or(0),
        minutes,
        title: f.title.clone(),
        participants: Vec::new(),
        pseudonyms,
        id_numbers: split_list(&f.id_numbers),
        anonymous,
        volunteers,
        volunteer_hours: Some(f.volunteer_hours.clone()),
        evidence_sha256: Some(f.evidence_sha256.clone()),
    };
    f.id_numbers.clear();
    let result = match sent.file {
        Err(e) => Err(e),
        Ok(_) if !errs.is_empty() => Err(AppError::Validation(errs)),
        Ok(file) => {
            let pctx = Ctx::from_config(&state.config);
            let actor = crate::http::actor(&req, &page.user);
            let now = state.clock.now();
            crate::http::files::with_evidence(
                &state.files,
                file,
                Purpose::SignInSheet,
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
                            |c| activities::record(c, &pctx, &actor, now, org, id, &n),
                            |_, v| Ok(v.activity.id),
                        )
                    })
                },
            )
            .await
        }
    };
    match result {
        Ok(v) => {
            let msg = format!(
                "{} {} · {} {} · {} {}",
                ctx.t("people.saved_ok"),
                v.activity.title,
                ctx.t("people.visits"),
                v.delivered.count.visits,
                ctx.t("people.people"),
                v.delivered.count.people
            );
            Ok(redirect(
                &format!("/contracts/{id}/activities#activity-{}", v.activity.id),
                Some(("ok", &msg)),
            ))
        }
        Err(AppError::Validation(errs)) => {
            show_activities(
                &state,
                &ctx,
                &page.user,
                id,
                ActivityQuery::default(),
                Shown {
                    form: f,
                    errors: FormErrors::from_fields(ctx.lang, &errs),
                    ..Default::default()
                },
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
    let pctx = Ctx::from_config(&state.config);
    let actor = crate::http::actor(&req, &page.user);
    let now = state.clock.now();
    let csv = f.csv.clone();
    match state
        .run(move |c| activities::import_csv(c, &pctx, &actor, now, org, id, &csv))
        .await
    {
        Ok(v) => {
            let msg = format!(
                "{} {} · {} {}",
                ctx.t("people.imported_ok"),
                v.activities,
                ctx.t("people.participations"),
                v.participations
            );
            Ok(redirect(
                &format!("/contracts/{id}/activities"),
                Some(("ok", &msg)),
            ))
        }
        Err(AppError::Validation(errs)) => {
            let csv_errors = errs
                .iter()
                .map(|e| {
                    (
                        e.field.clone(),
                        ctx.lang.pick(&e.message.zh, &e.message.en).to_string(),
                    )
                })
                .collect();
            show_activities(
                &state,
                &ctx,
                &page.user,
                id,
                ActivityQuery::default(),
                Shown {
                    csv: f.csv,
                    csv_errors,
                    ..Default::default()
                },
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => Err(PageError::App(e, ctx.lang)),
    }
}

//! Web pages: home, sign-in and sign-out, language switch, dashboards per role, own account,
//! user administration and the audit trail.

use actix_web::cookie::{Cookie, SameSite};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::app::AppState;
use crate::audit::{AuditEvent, AuditFilter, AuditView, ChainReport};
use crate::error::AppError;
use crate::http::caller::{AdminOnly, AdminOrFinance, AnyRole, Page, Role, SESSION_COOKIE};
use crate::http::page::{
    FormErrors, PageCtx, PageError, Pager, SafeForm, bar_class, checked, page_err, parse_opt_int,
    redirect, render, safe_next, with_caller,
};
use crate::i18n::{LANG_COOKIE, Lang};
use crate::users::{self, UserFilter, UserView};

/// Page routes that need a signed-in user, with the roles allowed.
pub const PROTECTED: &[(&str, &str, &[Role])] = &[
    ("GET", "/dashboard", &Role::ALL),
    ("GET", "/account", &Role::ALL),
    ("GET", "/admin/users", &[Role::Admin]),
    ("GET", "/admin/users/new", &[Role::Admin]),
    ("GET", "/admin/users/1", &[Role::Admin]),
    ("GET", "/audit", &[Role::Admin, Role::Finance]),
    ("GET", "/audit/1", &[Role::Admin, Role::Finance]),
];

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(home))
        .route("/login", web::get().to(login_page))
        .route("/login", web::post().to(login_submit))
        .route("/logout", web::post().to(logout))
        .route("/lang/{code}", web::get().to(switch_lang))
        .route("/dashboard", web::get().to(dashboard))
        .route("/account", web::get().to(account_page))
        .route("/account/password", web::post().to(account_password))
        .route("/admin/users", web::get().to(users_page))
        .route("/admin/users/new", web::get().to(user_new_page))
        .route("/admin/users/new", web::post().to(user_new_submit))
        .route("/admin/users/{id}", web::get().to(user_edit_page))
        .route("/admin/users/{id}", web::post().to(user_edit_submit))
        .route("/audit", web::get().to(audit_page))
        .route("/audit/{seq}", web::get().to(audit_detail))
        .configure(super::checkpoints::configure)
        .configure(super::orgs::configure)
        .configure(super::bases::configure)
        .configure(super::tenders::configure)
        .configure(super::ledger::configure)
        .configure(super::contracts::configure)
        .configure(super::spending::configure)
        .configure(super::evidence::configure)
        .configure(super::people::configure)
        .configure(super::reports::configure);
}

fn session_cookie(state: &AppState, token: &str) -> Cookie<'static> {
    Cookie::build(SESSION_COOKIE, token.to_string())
        .path("/")
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(state.config.cookie_secure)
        .max_age(actix_web::cookie::time::Duration::seconds(
            state.config.token_ttl.as_secs() as i64,
        ))
        .finish()
}

#[derive(Template)]
#[template(path = "pages/home.html")]
struct HomePage {
    ctx: PageCtx,
    l: crate::pages::tenders::Lx,
    home: crate::reports::district::Home,
}

/// The public home page: the district's figures, the tenders open for bids and the latest notices and
/// results.
async fn home(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: PageCtx,
) -> Result<HttpResponse, PageError> {
    let ctx = with_caller(&req, ctx).await;
    let (tctx, now) = (state.tenders.clone(), state.clock.now());
    let home = state
        .run(move |c| crate::reports::district::home(c, &tctx, now))
        .await
        .map_err(page_err(ctx.lang))?;
    let l = crate::pages::tenders::Lx { lang: ctx.lang };
    Ok(render(
        &ctx,
        StatusCode::OK,
        &HomePage {
            ctx: ctx.clone(),
            l,
            home,
        },
    ))
}

#[derive(Template)]
#[template(path = "pages/login.html")]
struct LoginPage {
    ctx: PageCtx,
    username: String,
    error: Option<String>,
    next: String,
}

#[derive(Deserialize)]
struct NextQuery {
    next: Option<String>,
}

async fn login_page(ctx: PageCtx, q: web::Query<NextQuery>) -> HttpResponse {
    let next = safe_next(q.next.as_deref().unwrap_or("/dashboard")).to_string();
    render(
        &ctx,
        StatusCode::OK,
        &LoginPage {
            ctx: ctx.clone(),
            username: String::new(),
            error: None,
            next,
        },
    )
}

#[derive(Deserialize)]
struct LoginForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    next: String,
}

async fn login_submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: PageCtx,
    form: SafeForm<LoginForm>,
) -> HttpResponse {
    let f = form.0;
    let next = safe_next(&f.next).to_string();
    match crate::http::session::sign_in(&state, &req, &f.username, &f.password).await {
        Ok(login) => {
            let mut r = redirect(&next, None);
            let _ = r.add_cookie(&session_cookie(&state, &login.token));
            r
        }
        Err(e) => {
            let status = e_status(&e);
            let msg = match &e {
                AppError::Unauthorized(_) => ctx.t("login.failed").to_string(),
                other => {
                    let m = other.message();
                    ctx.lang.pick(&m.zh, &m.en).to_string()
                }
            };
            let page = LoginPage {
                ctx: ctx.clone(),
                username: f.username,
                error: Some(msg),
                next,
            };
            let mut r = render(&ctx, status, &page);
            if let AppError::TooManyRequests { retry_after } = e {
                r.headers_mut().insert(
                    actix_web::http::header::RETRY_AFTER,
                    actix_web::http::header::HeaderValue::from(retry_after),
                );
            }
            r
        }
    }
}

fn e_status(e: &AppError) -> StatusCode {
    use actix_web::ResponseError;
    e.status_code()
}

#[derive(Deserialize)]
struct Empty {}

/// Sign out: the session's token is revoked on the server (so a copy of the cookie, or the same token as a
/// Bearer header, stops working too), then the cookie is cleared.
async fn logout(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: PageCtx,
    _form: SafeForm<Empty>,
) -> Result<HttpResponse, PageError> {
    if let Some(user) = crate::http::caller::caller(&req).await.user() {
        crate::http::session::sign_out(&state, user)
            .await
            .map_err(page_err(ctx.lang))?;
    }
    let mut r = redirect("/login", Some(("ok", ctx.t("logout.done"))));
    let mut c = Cookie::build(SESSION_COOKIE, "").path("/").finish();
    c.make_removal();
    let _ = r.add_cookie(&c);
    Ok(r)
}

async fn switch_lang(path: web::Path<String>, q: web::Query<NextQuery>) -> HttpResponse {
    let lang = Lang::parse(&path).unwrap_or_default();
    let next = safe_next(q.next.as_deref().unwrap_or("/")).to_string();
    let mut r = redirect(&next, None);
    let c = Cookie::build(LANG_COOKIE, lang.code())
        .path("/")
        .same_site(SameSite::Strict)
        .max_age(actix_web::cookie::time::Duration::days(365))
        .finish();
    let _ = r.add_cookie(&c);
    r
}

#[derive(Template)]
#[template(path = "pages/dashboard.html")]
struct DashboardPage {
    ctx: PageCtx,
    role: String,
    intro: &'static str,
    users_by_role: Vec<(String, i64)>,
    mail: Option<(i64, i64)>,
    chain: Option<ChainReport>,
    recent: Vec<AuditView>,
    recent_title: &'static str,
    registry: Option<RegistryFigures>,
    /// Finance and administrators: the ledger digest.
    ledger: Option<crate::ledger::Digest>,
    /// Staff: the district's people served, projects and funds, organisations and social workers.
    people: Option<crate::people::counts::Overview>,
    /// What waits for the caller, oldest first (`crate::tasks`).
    tasks: Vec<crate::tasks::TaskView>,
}

/// What the bureau sees first: the registry at a glance.
struct RegistryFigures {
    coverage: crate::registry::bases::Coverage,
    funnel: crate::domain::incubation::Funnel,
    overdue: i64,
    /// (status key, count): eligible, flagged, barred.
    standing: Vec<(&'static str, i64)>,
    workers_by_level: Vec<crate::registry::workers::CountRow>,
    /// Tenders by state: (state, label, count).
    tenders: Vec<(String, &'static str, i64)>,
}

impl RegistryFigures {
    fn load(
        c: &mut crate::db::DbConn,
        user: &crate::auth::CurrentUser,
        today: chrono::NaiveDate,
        rules: crate::domain::standing::Rules,
        zh: bool,
    ) -> Result<RegistryFigures, AppError> {
        use crate::domain::standing::Status;
        let report = crate::registry::incubations::funnel_report(c, today)?;
        let standing = crate::registry::orgs::standing_counts(c, today, rules)?;
        let count = |s: Status| standing.iter().find(|(k, _)| *k == s).map_or(0, |r| r.1);
        Ok(RegistryFigures {
            coverage: crate::registry::bases::coverage(c)?,
            funnel: report.total,
            overdue: report.overdue,
            standing: vec![
                ("eligible", count(Status::Eligible)),
                ("flagged", count(Status::Flagged)),
                ("barred", count(Status::Barred)),
            ],
            workers_by_level: crate::registry::workers::counts(c, user, zh)?.by_level,
            tenders: super::tenders::counts_by_state(c, if zh { Lang::Zh } else { Lang::En })?,
        })
    }

    /// The funnel steps with their counts.
    fn funnel_steps(&self) -> Vec<(&'static str, i64)> {
        let f = &self.funnel;
        vec![
            ("dash.funnel_applied", f.applied),
            ("dash.funnel_admitted", f.admitted),
            ("dash.funnel_incubating", f.incubating),
            ("dash.funnel_graduated", f.graduated),
            ("dash.funnel_exited", f.exited),
        ]
    }

    fn funnel_bar(&self, n: &i64) -> String {
        bar_class(*n, self.funnel.applied)
    }

    fn worker_bar(&self, n: &i64) -> String {
        bar_class(
            *n,
            self.workers_by_level
                .iter()
                .map(|r| r.workers)
                .max()
                .unwrap_or(0),
        )
    }

    fn tender_bar(&self, n: &i64) -> String {
        bar_class(*n, self.tenders.iter().map(|t| t.2).max().unwrap_or(0))
    }

    fn pct_bar(&self, pct: &i64) -> String {
        bar_class(*pct, 100)
    }
}

impl DashboardPage {
    fn yuan(&self, fen: &i64) -> String {
        crate::money::yuan_grouped(*fen)
    }

    fn bar_class(&self, n: &i64) -> String {
        bar_class(
            *n,
            self.users_by_role
                .iter()
                .map(|(_, c)| *c)
                .max()
                .unwrap_or(0),
        )
    }
}

async fn dashboard(
    state: web::Data<AppState>,
    ctx: PageCtx,
    page: Page<AnyRole>,
) -> Result<HttpResponse, PageError> {
    let ctx = ctx.with_user(&page.user);
    let role = page.user.role;
    let uid = page.user.id;
    let user = page.user.clone();
    let today = state.today();
    let rules = state.standing_rules();
    let zh = ctx.lang == Lang::Zh;
    let pctx = crate::people::Ctx::from_config(&state.config);
    // Read by the page extractor, for the navigation too.
    let tasks: Vec<crate::tasks::TaskView> = ctx
        .tasks
        .queue()
        .iter()
        .map(|t| crate::tasks::TaskView::of(t, today, zh))
        .collect();
    let (users_by_role, mail, chain, recent, registry, ledger, people) = state
        .run_tenders(move |c, tctx, _| {
            let registry = if user.is_staff() {
                Some(RegistryFigures::load(c, &user, today, rules, zh)?)
            } else {
                None
            };
            // The district overview a director opens first (from the running tallies: cheap).
            let people = if user.is_staff() {
                use crate::people::counts::{CountFilter, Scope, overview};
                Some(overview(
                    c,
                    &pctx,
                    Scope::District,
                    &CountFilter::default(),
                    zh,
                )?)
            } else {
                None
            };
            let admin = role == Role::Admin;
            let auditor = matches!(role, Role::Admin | Role::Finance);
            let users_by_role = if admin {
                users::count_by_role(c)?
            } else {
                Vec::new()
            };
            let mail = if admin {
                Some(crate::mail::counts(c)?)
            } else {
                None
            };
            let chain = if auditor {
                Some(crate::audit::verify(c)?)
            } else {
                None
            };
            let filter = AuditFilter {
                per_page: Some(8),
                ..Default::default()
            };
            let recent = if auditor {
                let items = crate::audit::list(c, &filter)?.items;
                crate::tenders::bids::audit_views(c, tctx, &user, items)?
            } else {
                use crate::db::schema::audit_events::dsl as a;
                use diesel::prelude::*;
                a::audit_events
                    .filter(a::actor_id.eq(uid))
                    .order(a::seq.desc())
                    .limit(8)
                    .select(AuditEvent::as_select())
                    .load(c)?
                    .into_iter()
                    .map(AuditView::plain)
                    .collect()
            };
            let ledger = if auditor {
                Some(crate::ledger::digest(c)?)
            } else {
                None
            };
            Ok((users_by_role, mail, chain, recent, registry, ledger, people))
        })
        .await
        .map_err(page_err(ctx.lang))?;
    let intro = ctx.t(match role {
        Role::Admin => "dash.admin_intro",
        Role::Bureau => "dash.bureau_intro",
        Role::Evaluator => "dash.evaluator_intro",
        Role::Finance => "dash.finance_intro",
        Role::Org => "dash.org_intro",
    });
    let recent_title = ctx.t(if matches!(role, Role::Admin | Role::Finance) {
        "dash.recent"
    } else {
        "dash.my_recent"
    });
    let p = DashboardPage {
        ctx: ctx.clone(),
        role: role.as_str().into(),
        intro,
        users_by_role,
        mail,
        chain,
        recent,
        recent_title,
        registry,
        ledger,
        people,
        tasks,
    };
    Ok(render(&ctx, StatusCode::OK, &p))
}

#[derive(Template)]
#[template(path = "pages/account.html")]
struct AccountPage {
    ctx: PageCtx,
    errors: FormErrors,
}

async fn account_page(ctx: PageCtx, page: Page<AnyRole>) -> HttpResponse {
    let ctx = ctx.with_user(&page.user);
    render(
        &ctx,
        StatusCode::OK,
        &AccountPage {
            ctx: ctx.clone(),
            errors: FormErrors::default(),
        },
    )
}

#[derive(Deserialize)]
struct PasswordForm {
    #[serde(default)]
    current_password: String,
    #[serde(default)]
    new_password: String,
    #[serde(default)]
    confirm_password: String,
}

async fn account_password(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: PageCtx,
    page: Page<AnyRole>,
    form: SafeForm<PasswordForm>,
) -> Result<HttpResponse, PageError> {
    let ctx = ctx.with_user(&page.user);
    let f = form.0;
    if f.new_password != f.confirm_password {
        let errs = [crate::error::FieldError::new(
            "confirm_password",
            "matches",
            "两次输入的新密码不一致。",
            "The two new passwords differ.",
        )];
        let p = AccountPage {
            ctx: ctx.clone(),
            errors: FormErrors::from_fields(ctx.lang, &errs),
        };
        return Ok(render(&ctx, StatusCode::UNPROCESSABLE_ENTITY, &p));
    }
    match crate::http::session::change_password(
        &state,
        &req,
        &page.user,
        &f.current_password,
        &f.new_password,
    )
    .await
    {
        Ok(token) => {
            let mut r = redirect("/account", Some(("ok", ctx.t("account.changed"))));
            let _ = r.add_cookie(&session_cookie(&state, &token));
            Ok(r)
        }
        Err(AppError::Validation(errs)) => {
            let p = AccountPage {
                ctx: ctx.clone(),
                errors: FormErrors::from_fields(ctx.lang, &errs),
            };
            Ok(render(&ctx, StatusCode::UNPROCESSABLE_ENTITY, &p))
        }
        // Too many wrong current passwords: said at the field, with Retry-After.
        Err(e @ AppError::TooManyRequests { retry_after }) => {
            let m = e.message();
            let errs = [crate::error::FieldError::new(
                "current_password",
                "throttled",
                m.zh,
                m.en,
            )];
            let p = AccountPage {
                ctx: ctx.clone(),
                errors: FormErrors::from_fields(ctx.lang, &errs),
            };
            let mut r = render(&ctx, StatusCode::TOO_MANY_REQUESTS, &p);
            r.headers_mut().insert(
                actix_web::http::header::RETRY_AFTER,
                actix_web::http::header::HeaderValue::from(retry_after),
            );
            Ok(r)
        }
        Err(e) => Err(PageError::App(e, ctx.lang)),
    }
}

#[derive(Template)]
#[template(path = "pages/users.html")]
struct UsersPage {
    ctx: PageCtx,
    rows: Vec<UserView>,
    q: String,
    role: String,
    pager: Pager,
    roles: Vec<(&'static str, &'static str)>,
}

fn role_options(lang: Lang) -> Vec<(&'static str, &'static str)> {
    Role::ALL
        .iter()
        .map(|r| (r.as_str(), lang.pick(r.label_zh(), r.label_en())))
        .collect()
}

async fn users_page(
    state: web::Data<AppState>,
    ctx: PageCtx,
    page: Page<AdminOnly>,
    q: web::Query<UserFilter>,
) -> Result<HttpResponse, PageError> {
    let ctx = ctx.with_user(&page.user);
    let filter = q.into_inner();
    let f2 = filter.clone();
    let list = state
        .run(move |c| users::list(c, &f2))
        .await
        .map_err(page_err(ctx.lang))?;
    let qv = filter.q.clone().unwrap_or_default();
    let rv = filter.role.clone().unwrap_or_default();
    let pager = Pager::new(
        "/admin/users",
        &[("q", qv.clone()), ("role", rv.clone())],
        &list,
    );
    let page = UsersPage {
        ctx: ctx.clone(),
        rows: list.items.iter().map(UserView::from).collect(),
        q: qv,
        role: rv,
        pager,
        roles: role_options(ctx.lang),
    };
    Ok(render(&ctx, StatusCode::OK, &page))
}

#[derive(Template)]
#[template(path = "pages/user_form.html")]
struct UserFormPage {
    ctx: PageCtx,
    /// None for a new user.
    id: Option<i64>,
    form: UserForm,
    active: bool,
    errors: FormErrors,
    roles: Vec<(&'static str, &'static str)>,
    /// The organisations an `org` user may belong to: (id, name).
    orgs: Vec<(i64, String)>,
}

impl UserFormPage {
    fn org_selected(&self, id: &i64) -> bool {
        self.form.org_id.trim() == id.to_string()
    }
}

/// The user form's organisation pick list.
async fn org_picker(state: &AppState, lang: Lang) -> Result<Vec<(i64, String)>, PageError> {
    state
        .run(|c| Ok(crate::registry::orgs::picker(c)?))
        .await
        .map_err(page_err(lang))
}

#[derive(Deserialize, Default, Clone)]
struct UserForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    org_id: String,
    #[serde(default)]
    password: String,
    /// "activate" / "deactivate" from the status buttons.
    #[serde(default)]
    status: String,
    /// The version the form was opened with (`crate::version`).
    #[serde(default)]
    version: String,
}

/// The user form's fields by their JSON key, for the notice of a change made meanwhile.
const USER_LABELS: &[(&str, &str)] = &[
    ("display_name", "users.display_name"),
    ("email", "users.email"),
    ("role", "users.role"),
    ("org_id", "users.org_id"),
    ("active", "users.active"),
];

fn parse_org(s: &str) -> Result<Option<i64>, AppError> {
    let mut errs = Vec::new();
    let org = parse_opt_int("org_id", s, &mut errs);
    checked(Some(org), errs)
}

async fn user_new_page(
    state: web::Data<AppState>,
    ctx: PageCtx,
    page: Page<AdminOnly>,
) -> Result<HttpResponse, PageError> {
    let ctx = ctx.with_user(&page.user);
    let orgs = org_picker(&state, ctx.lang).await?;
    let p = UserFormPage {
        orgs,
        ctx: ctx.clone(),
        id: None,
        form: UserForm {
            role: "bureau".into(),
            ..Default::default()
        },
        active: true,
        errors: FormErrors::default(),
        roles: role_options(ctx.lang),
    };
    Ok(render(&ctx, StatusCode::OK, &p))
}

async fn user_new_submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: PageCtx,
    page: Page<AdminOnly>,
    form: SafeForm<UserForm>,
) -> Result<HttpResponse, PageError> {
    let ctx = ctx.with_user(&page.user);
    let f = form.0;
    let result = match parse_org(&f.org_id) {
        Ok(org_id) => {
            let new = users::NewUser {
                username: f.username.clone(),
                display_name: f.display_name.clone(),
                email: Some(f.email.clone()),
                role: f.role.clone(),
                org_id,
                password: f.password.clone(),
            };
            let (actor, now) = (crate::http::actor(&req, &page.user), state.clock.now());
            let mail = state.mail.clone();
            state
                .run(move |c| users::create(c, &actor, now, &mail, &new))
                .await
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(u) => Ok(redirect(
            &format!("/admin/users/{}", u.id),
            Some(("ok", ctx.t("users.created"))),
        )),
        Err(AppError::Validation(errs)) => {
            let p = UserFormPage {
                orgs: org_picker(&state, ctx.lang).await?,
                ctx: ctx.clone(),
                id: None,
                form: UserForm {
                    password: String::new(),
                    ..f
                },
                active: true,
                errors: FormErrors::from_fields(ctx.lang, &errs),
                roles: role_options(ctx.lang),
            };
            Ok(render(&ctx, StatusCode::UNPROCESSABLE_ENTITY, &p))
        }
        Err(e) => Err(PageError::App(e, ctx.lang)),
    }
}

async fn user_edit_page(
    state: web::Data<AppState>,
    ctx: PageCtx,
    page: Page<AdminOnly>,
    path: web::Path<i64>,
) -> Result<HttpResponse, PageError> {
    let ctx = ctx.with_user(&page.user);
    let id = path.into_inner();
    let (u, version) = state
        .run(move |c| Ok((users::find(c, id)?, users::version(c, id)?)))
        .await
        .map_err(page_err(ctx.lang))?;
    let p = UserFormPage {
        orgs: org_picker(&state, ctx.lang).await?,
        ctx: ctx.clone(),
        id: Some(u.id),
        form: UserForm {
            version,
            username: u.username.clone(),
            display_name: u.display_name.clone(),
            email: u.email.clone().unwrap_or_default(),
            role: u.role.clone(),
            org_id: u.org_id.map(|o| o.to_string()).unwrap_or_default(),
            password: String::new(),
            status: String::new(),
        },
        active: u.active,
        errors: FormErrors::default(),
        roles: role_options(ctx.lang),
    };
    Ok(render(&ctx, StatusCode::OK, &p))
}

async fn user_edit_submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: PageCtx,
    page: Page<AdminOnly>,
    path: web::Path<i64>,
    form: SafeForm<UserForm>,
) -> Result<HttpResponse, PageError> {
    let ctx = ctx.with_user(&page.user);
    let id = path.into_inner();
    let f = form.0;
    let upd = if f.status == "deactivate" || f.status == "activate" {
        Ok(users::UserUpdate {
            active: Some(f.status == "activate"),
            ..Default::default()
        })
    } else {
        parse_org(&f.org_id).map(|org_id| users::UserUpdate {
            display_name: Some(f.display_name.clone()),
            email: Some(f.email.clone()),
            role: Some(f.role.clone()),
            org_id,
            active: None,
            password: Some(f.password.clone()).filter(|p| !p.is_empty()),
        })
    };
    let expect = crate::version::parse(Some(&f.version));
    let mine = upd.as_ref().ok().map(|u| {
        serde_json::json!({
            "display_name": u.display_name,
            "email": u.email,
            "role": u.role,
            "org_id": u.org_id,
            "active": u.active,
        })
    });
    let result = match upd {
        Ok(upd) => {
            let (actor, now) = (crate::http::actor(&req, &page.user), state.clock.now());
            state
                .run(move |c| users::update(c, &actor, now, id, &upd, expect.as_deref()))
                .await
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(_) => Ok(redirect(
            &format!("/admin/users/{id}"),
            Some(("ok", ctx.t("users.saved"))),
        )),
        Err(e) => {
            let Some((errors, status)) = FormErrors::of_refusal(&ctx, &e, &mine, USER_LABELS)
            else {
                return Err(PageError::App(e, ctx.lang));
            };
            let current = state
                .run(move |c| users::find(c, id))
                .await
                .map_err(page_err(ctx.lang))?;
            let version = match &errors.stale {
                Some(s) => s.version.clone(),
                None => f.version.clone(),
            };
            let p = UserFormPage {
                orgs: org_picker(&state, ctx.lang).await?,
                ctx: ctx.clone(),
                id: Some(id),
                form: UserForm {
                    username: current.username,
                    password: String::new(),
                    version,
                    ..f
                },
                active: current.active,
                errors,
                roles: role_options(ctx.lang),
            };
            Ok(render(&ctx, status, &p))
        }
    }
}

#[derive(Template)]
#[template(path = "pages/audit.html")]
struct AuditPage {
    ctx: PageCtx,
    rows: Vec<AuditView>,
    f: AuditFilterView,
    pager: Pager,
    chain: ChainReport,
    errors: FormErrors,
}

#[derive(Clone, Default)]
struct AuditFilterView {
    entity_type: String,
    action: String,
    actor: String,
    from: String,
    to: String,
}

async fn audit_page(
    state: web::Data<AppState>,
    ctx: PageCtx,
    page: Page<AdminOrFinance>,
    q: web::Query<AuditFilter>,
) -> Result<HttpResponse, PageError> {
    let ctx = ctx.with_user(&page.user);
    let filter = q.into_inner();
    let fv = AuditFilterView {
        entity_type: filter.entity_type.clone().unwrap_or_default(),
        action: filter.action.clone().unwrap_or_default(),
        actor: filter.actor.clone().unwrap_or_default(),
        from: filter.from.clone().unwrap_or_default(),
        to: filter.to.clone().unwrap_or_default(),
    };
    let f2 = filter.clone();
    let by = page.user.clone();
    let (result, chain) = state
        .run_tenders(move |c, tctx, _| {
            let r = match crate::audit::list(c, &f2) {
                Ok(p) => {
                    let (total, page, per_page) = (p.total, p.page, p.per_page);
                    let items = crate::tenders::bids::audit_views(c, tctx, &by, p.items)?;
                    Ok(crate::db::Paged {
                        items,
                        total,
                        page,
                        per_page,
                    })
                }
                Err(e) => Err(e),
            };
            let chain = crate::audit::verify(c)?;
            Ok((r, chain))
        })
        .await
        .map_err(page_err(ctx.lang))?;
    let (list, errors, status) = match result {
        Ok(list) => (list, FormErrors::default(), StatusCode::OK),
        Err(AppError::Validation(errs)) => (
            crate::db::Paging::new(None, None).of(Vec::new(), 0),
            FormErrors::from_fields(ctx.lang, &errs),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        Err(e) => return Err(PageError::App(e, ctx.lang)),
    };
    let params = [
        ("entity_type", fv.entity_type.clone()),
        ("action", fv.action.clone()),
        ("actor", fv.actor.clone()),
        ("from", fv.from.clone()),
        ("to", fv.to.clone()),
    ];
    let pager = Pager::new("/audit", &params, &list);
    let page = AuditPage {
        ctx: ctx.clone(),
        rows: list.items,
        f: fv,
        pager,
        chain,
        errors,
    };
    Ok(render(&ctx, status, &page))
}

#[derive(Template)]
#[template(path = "pages/audit_detail.html")]
struct AuditDetailPage {
    ctx: PageCtx,
    e: AuditView,
    before: String,
    after: String,
}

fn pretty(j: Option<&str>) -> String {
    match j {
        Some(s) => serde_json::from_str::<serde_json::Value>(s)
            .and_then(|v| serde_json::to_string_pretty(&v))
            .unwrap_or_else(|_| s.to_string()),
        None => String::new(),
    }
}

async fn audit_detail(
    state: web::Data<AppState>,
    ctx: PageCtx,
    page: Page<AdminOrFinance>,
    path: web::Path<i64>,
) -> Result<HttpResponse, PageError> {
    let ctx = ctx.with_user(&page.user);
    let seq = path.into_inner();
    let by = page.user.clone();
    let e = state
        .run_tenders(move |c, tctx, _| {
            use diesel::prelude::*;
            let e = crate::db::schema::audit_events::table
                .find(seq)
                .select(AuditEvent::as_select())
                .first(c)?;
            Ok(crate::tenders::bids::audit_views(c, tctx, &by, vec![e])?.remove(0))
        })
        .await
        .map_err(page_err(ctx.lang))?;
    let p = AuditDetailPage {
        ctx: ctx.clone(),
        before: pretty(e.before_json()),
        after: pretty(e.after_json()),
        e,
    };
    Ok(render(&ctx, StatusCode::OK, &p))
}

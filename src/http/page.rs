//! What every page needs: the layout context (language, CSRF token, flash, signed-in user, navigation),
//! rendering, redirects with a flash message, the one reader of page forms (CSRF-checked, control
//! characters refused, numbers read with field errors), field errors, and errors shown as pages.

use std::collections::HashMap;
use std::future::{Ready, ready};
use std::str::FromStr;

use actix_web::cookie::{Cookie, SameSite};
use actix_web::dev::Payload;
use actix_web::http::{StatusCode, header};
use actix_web::{FromRequest, HttpMessage, HttpRequest, HttpResponse, ResponseError};
use askama::Template;
use futures_util::StreamExt;
use futures_util::future::LocalBoxFuture;
use rust_decimal::Decimal;
use serde::de::DeserializeOwned;

use crate::auth::{CurrentUser, Role};
use crate::domain::vocab::Vocab;
use crate::error::{AppError, FieldError, Msg};
use crate::i18n::Lang;

pub const FLASH_COOKIE: &str = "sanshe_flash";

/// A flash message carried across one redirect.
#[derive(Clone, Debug)]
pub struct Flash {
    pub kind: String,
    pub text: String,
}

pub fn flash_cookie(kind: &str, text: &str) -> Cookie<'static> {
    Cookie::build(
        FLASH_COOKIE,
        format!(
            "{kind}:{}",
            url::form_urlencoded::byte_serialize(text.as_bytes()).collect::<String>()
        ),
    )
    .path("/")
    .http_only(true)
    .same_site(SameSite::Strict)
    .finish()
}

fn read_flash(req: &HttpRequest) -> Option<Flash> {
    let c = req.cookie(FLASH_COOKIE)?;
    let (kind, text) = c.value().split_once(':')?;
    let text: String = url::form_urlencoded::parse(format!("t={text}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default();
    let kind = if matches!(kind, "ok" | "error" | "info") {
        kind
    } else {
        "info"
    };
    Some(Flash {
        kind: kind.into(),
        text,
    })
}

/// See-other redirect with an optional flash message.
pub fn redirect(to: &str, flash: Option<(&str, &str)>) -> HttpResponse {
    let mut r = HttpResponse::SeeOther();
    r.insert_header((header::LOCATION, to.to_string()));
    if let Some((k, t)) = flash {
        r.cookie(flash_cookie(k, t));
    }
    r.finish()
}

/// Keep redirects on this site: only a local absolute path is followed. Browsers drop tabs and newlines
/// from a URL and read `\\` as `/`, so `/\t/evil.example` would leave the site and a newline would break the
/// header: any control character, whitespace or backslash refuses the path.
pub fn safe_next(next: &str) -> &str {
    let local = next.starts_with('/')
        && !next[1..].starts_with('/')
        && !next
            .chars()
            .any(|c| c.is_control() || c.is_whitespace() || c == '\\');
    if local { next } else { "/dashboard" }
}

#[derive(Clone, Debug)]
pub struct NavItem {
    pub href: &'static str,
    pub label: &'static str,
    pub active: bool,
    /// How many things wait for the caller (on the dashboard's item).
    pub badge: Option<usize>,
}

/// The caller's task queue, shared by the request's [`PageCtx`] and its [`super::caller::Page`] extractor,
/// whichever of the two is extracted first: the page extractor knows the caller and fills it once; the
/// navigation shows its length and the dashboard its rows.
#[derive(Clone, Debug, Default)]
pub struct TaskBadge(pub std::sync::Arc<std::sync::OnceLock<Vec<crate::domain::tasks::Task>>>);

impl TaskBadge {
    /// The queue, empty when the caller is not known.
    pub fn queue(&self) -> &[crate::domain::tasks::Task] {
        self.0.get().map(Vec::as_slice).unwrap_or_default()
    }

    pub fn of(req: &HttpRequest) -> TaskBadge {
        if let Some(b) = req.extensions().get::<TaskBadge>() {
            return b.clone();
        }
        let b = TaskBadge::default();
        req.extensions_mut().insert(b.clone());
        b
    }
}

/// What every page's layout needs.
#[derive(Clone, Debug)]
pub struct PageCtx {
    pub lang: Lang,
    pub csrf: String,
    pub flash: Option<Flash>,
    pub path: String,
    pub user: Option<CurrentUser>,
    /// The site's sponsor and filings, for the footer.
    pub site: std::sync::Arc<crate::config::Site>,
    pub tasks: TaskBadge,
}

impl PageCtx {
    /// The context of a request, before its caller is known.
    pub fn of(req: &HttpRequest) -> PageCtx {
        PageCtx {
            lang: Lang::from_request(req),
            csrf: super::csrf::token(req),
            flash: read_flash(req),
            path: req.path().to_string(),
            user: None,
            site: req
                .app_data::<actix_web::web::Data<crate::app::AppState>>()
                .map(|s| s.config.site.clone())
                .unwrap_or_default(),
            tasks: TaskBadge::of(req),
        }
    }
    pub fn t(&self, key: &str) -> &'static str {
        self.lang.t(key)
    }
    pub fn zh(&self) -> bool {
        self.lang == Lang::Zh
    }
    pub fn lang_code(&self) -> &'static str {
        self.lang.code()
    }
    /// Punctuation in the page's language: Chinese full-width, English half-width with a space.
    pub fn colon(&self) -> &'static str {
        self.lang.pick("：", ": ")
    }
    pub fn comma(&self) -> &'static str {
        self.lang.pick("，", ", ")
    }
    pub fn paren(&self, s: &str) -> String {
        self.lang.paren(s)
    }
    pub fn other_lang(&self) -> &'static str {
        self.lang.other().code()
    }
    pub fn with_user(mut self, u: &CurrentUser) -> PageCtx {
        self.user = Some(u.clone());
        self
    }
    pub fn role_label(&self, role: &str) -> &'static str {
        match Role::parse(role) {
            Some(r) => self.lang.pick(r.label_zh(), r.label_en()),
            None => "?",
        }
    }
    pub fn user_role_label(&self) -> &'static str {
        self.user
            .as_ref()
            .map(|u| self.role_label(u.role.as_str()))
            .unwrap_or("")
    }
    pub fn user_name(&self) -> &str {
        self.user
            .as_ref()
            .map(|u| u.display_name.as_str())
            .unwrap_or("")
    }
    /// Navigation for the signed-in role.
    pub fn nav(&self) -> Vec<NavItem> {
        let mut items: Vec<(&'static str, &'static str)> = vec![
            ("/", "nav.home"),
            ("/directory", "nav.directory"),
            ("/bases", "nav.bases"),
            ("/tenders", "nav.tenders"),
            ("/contracts", "nav.contracts"),
            ("/people", "nav.people"),
        ];
        if let Some(u) = &self.user {
            items.push(("/dashboard", "nav.dashboard"));
            if u.is_staff() {
                items.push(("/registry/orgs", "nav.orgs"));
                items.push(("/registry/incubations", "nav.incubations"));
            }
            if u.role == Role::Finance {
                items.push(("/registry/orgs", "nav.orgs"));
            }
            if matches!(u.role, Role::Bureau | Role::Admin | Role::Finance) {
                items.push(("/registry/workers", "nav.workers"));
            }
            if u.role == Role::Org {
                items.push(("/my/org", "nav.my_org"));
                // Organisations apply to bases and follow their own applications there.
                items.push(("/registry/incubations", "nav.incubations"));
                items.push(("/my/bids", "nav.my_bids"));
                items.push(("/my/people", "nav.my_people"));
            }
            if u.role == Role::Evaluator {
                items.push(("/evaluations", "nav.evaluations"));
            }
            if u.role == Role::Admin {
                items.push(("/admin/users", "nav.users"));
            }
            if matches!(u.role, Role::Admin | Role::Finance | Role::Bureau) {
                items.push(("/reports/three-society", "nav.reports"));
                items.push(("/finance/appropriations", "nav.appropriations"));
                items.push(("/finance/execution", "nav.execution"));
            }
            if matches!(u.role, Role::Admin | Role::Finance) {
                items.push(("/finance/trial-balance", "nav.trial_balance"));
                items.push(("/flags", "nav.flags"));
                items.push(("/audit", "nav.audit"));
            }
            items.push(("/account", "nav.account"));
        }
        items
            .into_iter()
            .map(|(href, key)| NavItem {
                href,
                label: self.t(key),
                active: if href == "/" {
                    self.path == "/"
                } else {
                    self.path.starts_with(href)
                },
                badge: (href == "/dashboard")
                    .then(|| crate::domain::tasks::total(self.tasks.queue()))
                    .filter(|n| *n > 0),
            })
            .collect()
    }
    /// The label of a vocabulary key in the page's language (an unknown key shows itself): the one lookup
    /// the templates' label helpers go through.
    pub fn label(&self, table: Vocab, key: &str) -> String {
        crate::domain::vocab::label(table, key, self.lang == Lang::Zh)
    }
    pub fn fmt_time(&self, t: &chrono::NaiveDateTime) -> String {
        crate::clock::display(*t)
    }
}

/// A message in the page's language.
pub fn pick_msg(lang: Lang, m: &crate::error::Msg) -> String {
    lang.pick(&m.zh, &m.en).to_string()
}

/// The messages of field errors, in the page's language, for the errors list of a form.
pub fn messages(lang: Lang, errs: &[crate::error::FieldError]) -> Vec<String> {
    errs.iter().map(|e| pick_msg(lang, &e.message)).collect()
}

/// Why an organisation may not bid, each reason with what it can do about it
/// (`domain::tender::remedy`), in the page's language.
pub fn refusal_lines(
    lang: Lang,
    errs: &[crate::error::FieldError],
) -> Vec<(String, Option<&'static str>)> {
    errs.iter()
        .map(|e| {
            (
                pick_msg(lang, &e.message),
                crate::domain::tender::remedy(&e.rule).map(|(zh, en)| lang.pick(zh, en)),
            )
        })
        .collect()
}

/// The page context with the caller, for a public page that shows more to the signed-in.
pub async fn with_caller(req: &actix_web::HttpRequest, ctx: PageCtx) -> PageCtx {
    let user = crate::http::caller::caller(req).await.user().cloned();
    if let Some(u) = &user {
        // A public page still shows the signed-in navigation; a failed count leaves the badge out.
        if let Err(e) = crate::http::caller::task_badge(req, u).await {
            tracing::warn!(error = %e.message().en, "task count for the navigation");
        }
    }
    PageCtx { user, ..ctx }
}

impl FromRequest for PageCtx {
    type Error = actix_web::Error;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Ok(PageCtx::of(req)))
    }
}

/// Render a page; clears the flash cookie once it has been shown.
/// The errors of a failed action form on a record's page (a tender's, a contract's), with what was typed,
/// so the page shows them again at that form. `action` names the form; a form per item names it
/// `{action}-{id}`.
#[derive(Clone, Debug, Default)]
pub struct ActionErrors {
    pub action: String,
    pub messages: Vec<String>,
    pub values: HashMap<String, String>,
}

impl ActionErrors {
    pub fn on(&self, action: &str) -> bool {
        self.action == action
    }
    pub fn on_id(&self, action: &str, id: &impl std::fmt::Display) -> bool {
        self.action == format!("{action}-{id}")
    }
    pub fn val(&self, action: &str, k: &str) -> &str {
        if self.action == action {
            self.values.get(k).map(String::as_str).unwrap_or("")
        } else {
            ""
        }
    }
    pub fn val_id(&self, action: &str, id: &impl std::fmt::Display, k: &str) -> &str {
        self.val(&format!("{action}-{id}"), k)
    }
}

pub fn render(ctx: &PageCtx, status: StatusCode, tpl: &impl Template) -> HttpResponse {
    match tpl.render() {
        Ok(html) => {
            let mut r = HttpResponse::build(status);
            r.content_type("text/html; charset=utf-8");
            r.insert_header((header::CACHE_CONTROL, "no-store"));
            if ctx.flash.is_some() {
                let mut c = Cookie::build(FLASH_COOKIE, "").path("/").finish();
                c.make_removal();
                r.cookie(c);
            }
            r.body(html)
        }
        Err(e) => AppError::internal(format!("template: {e}")).error_response(),
    }
}

/// Field errors of a form in the page's language: every distinct message of a field, joined by a space (a
/// budget can break several rules at once, and a page should show them all).
#[derive(Clone, Debug, Default)]
pub struct FormErrors {
    fields: HashMap<String, String>,
    /// The record changed since the form was opened (shown by `pages/stale.html`).
    pub stale: Option<StaleNotice>,
}

impl FormErrors {
    pub fn from_fields(lang: Lang, errs: &[FieldError]) -> FormErrors {
        let mut m: HashMap<String, String> = HashMap::new();
        for e in errs {
            let text = lang.pick(&e.message.zh, &e.message.en).to_string();
            m.entry(e.field.clone())
                .and_modify(|v| {
                    if !v.contains(&text) {
                        v.push(' ');
                        v.push_str(&text);
                    }
                })
                .or_insert(text);
        }
        FormErrors {
            fields: m,
            stale: None,
        }
    }
    /// What a refused form shows again, and its status: the field errors (422), or what changed meanwhile
    /// (412, `mine` being what was sent); `None` for any other refusal, which is shown as an error page.
    pub fn of_refusal(
        ctx: &PageCtx,
        e: &AppError,
        mine: &impl serde::Serialize,
        labels: &[(&str, &str)],
    ) -> Option<(FormErrors, StatusCode)> {
        match e {
            AppError::Validation(errs) => Some((
                FormErrors::from_fields(ctx.lang, errs),
                StatusCode::UNPROCESSABLE_ENTITY,
            )),
            AppError::Stale { version, current } => Some((
                FormErrors::stale(StaleNotice::labelled(
                    ctx,
                    version.clone(),
                    mine,
                    current,
                    labels,
                )),
                StatusCode::PRECONDITION_FAILED,
            )),
            _ => None,
        }
    }

    /// A form refused because someone else changed the record since it was opened.
    pub fn stale(notice: StaleNotice) -> FormErrors {
        FormErrors {
            fields: HashMap::new(),
            stale: Some(notice),
        }
    }
    pub fn get(&self, field: &str) -> Option<&str> {
        self.fields.get(field).map(String::as_str)
    }
    pub fn any(&self) -> bool {
        !self.fields.is_empty()
    }
    /// Every field's message, by field name: for forms that show a group of fields' errors together.
    pub fn all(&self) -> Vec<(String, String)> {
        let mut v: Vec<(String, String)> = self
            .fields
            .iter()
            .map(|(k, m)| (k.clone(), m.clone()))
            .collect();
        v.sort();
        v
    }
    /// Every distinct message, for the summary at the top of a refused form: the reason is seen there even
    /// when the field it names is not on the form, or far below.
    pub fn messages(&self) -> Vec<String> {
        let mut seen = std::collections::HashSet::new();
        self.all()
            .into_iter()
            .map(|(_, m)| m)
            .filter(|m| seen.insert(m.clone()))
            .collect()
    }
    /// Each field with its message.
    pub fn fields(&self) -> impl Iterator<Item = (&str, &str)> {
        self.fields.iter().map(|(f, m)| (f.as_str(), m.as_str()))
    }
}

/// What a form shows when its record changed since it was opened (412 `stale_version`): each field whose
/// value now differs from what the person sent, with both values, and the current version, which the form
/// carries from then on, so sending it again overwrites knowingly.
#[derive(Clone, Debug, Default)]
pub struct StaleNotice {
    pub version: String,
    /// (field label, what you sent, what is there now)
    pub rows: Vec<(String, String, String)>,
}

impl StaleNotice {
    /// Compare what was sent with the current state, key by key of what was sent (keys the record does not
    /// have are left out); `label` names a key for people (the page's own field label).
    pub fn new(
        version: String,
        mine: &impl serde::Serialize,
        current: &serde_json::Value,
        label: impl Fn(&str) -> String,
    ) -> StaleNotice {
        let mine = serde_json::to_value(mine).unwrap_or_default();
        let empty = serde_json::Map::new();
        let (m, c) = (
            mine.as_object().unwrap_or(&empty),
            current.as_object().unwrap_or(&empty),
        );
        // The fields the form sends that the record also has.
        let rows = m
            .iter()
            // A field sent as nothing (`null`) was not part of the change.
            .filter(|(_, a)| !a.is_null())
            .filter_map(|(k, a)| {
                let (a, b) = (shown(a), shown(c.get(k)?));
                (a != b).then(|| (label(k), a, b))
            })
            .collect();
        StaleNotice { version, rows }
    }

    /// A stale notice labelled from a form's table of (JSON key, interface string key); a key without an
    /// entry shows as itself.
    pub fn labelled(
        ctx: &PageCtx,
        version: String,
        mine: &impl serde::Serialize,
        current: &serde_json::Value,
        labels: &[(&str, &str)],
    ) -> StaleNotice {
        StaleNotice::new(version, mine, current, |k| {
            labels
                .iter()
                .find(|(key, _)| *key == k)
                .map(|(_, t)| ctx.t(t).to_string())
                .unwrap_or_else(|| k.to_string())
        })
    }
}

/// The version a re-shown form carries: the current one after a stale refusal (so sending it again
/// overwrites knowingly), else the one it was opened with; `None` when it must be read afresh.
pub fn carried_version(errors: &FormErrors, typed: &HashMap<String, String>) -> Option<String> {
    match &errors.stale {
        Some(s) => Some(s.version.clone()),
        None => crate::version::parse(typed.get("version").map(String::as_str)),
    }
}

/// A JSON value as a person reads it: text as is, lists joined, nothing as a dash.
fn shown(v: &serde_json::Value) -> String {
    use serde_json::Value as V;
    match v {
        V::Null => "—".into(),
        V::String(s) if s.trim().is_empty() => "—".into(),
        V::String(s) => s.clone(),
        V::Array(a) if a.is_empty() => "—".into(),
        V::Array(a) => a.iter().map(shown).collect::<Vec<_>>().join("、"),
        other => other.to_string(),
    }
}

/// Errors of page handlers: sign-in needed (redirect), or an error shown as a page.
#[derive(Debug)]
pub enum PageError {
    Login { next: String },
    App(AppError, Lang),
}

impl std::fmt::Display for PageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PageError::Login { .. } => f.write_str("sign-in required"),
            PageError::App(e, _) => write!(f, "{e}"),
        }
    }
}

#[derive(Template)]
#[template(path = "pages/error.html")]
struct ErrorPage {
    ctx: PageCtx,
    status: u16,
    message: String,
    /// Each field error of a refused input ("field: message"), when the refusal has any.
    details: Vec<String>,
}

/// What an error page says, kept on its bodiless response: [`PageError`] has no request to render with,
/// so the middleware renders the page with the request's caller ([`signed_in_error_page`]).
#[derive(Clone, Debug)]
pub struct ErrorPageData {
    status: StatusCode,
    message: String,
    details: Vec<String>,
}

/// The error page of a response that carries [`ErrorPageData`], rendered for its request: a signed-in reader keeps the header with their name, role
/// menu and sign-out, and every reader the footer and a language switch back to the same page; `None` for
/// any other response.
pub async fn signed_in_error_page<B>(
    res: &actix_web::dev::ServiceResponse<B>,
) -> Option<HttpResponse> {
    let e = res.response().extensions().get::<ErrorPageData>()?.clone();
    let user = crate::http::caller::caller(res.request())
        .await
        .user()
        .cloned();
    let ctx = PageCtx {
        user,
        flash: None,
        ..PageCtx::of(res.request())
    };
    let page = ErrorPage {
        ctx,
        status: e.status.as_u16(),
        message: e.message.clone(),
        details: e.details.clone(),
    };
    let mut r = render(&page.ctx, e.status, &page);
    r.extensions_mut().insert(e);
    Some(r)
}

impl ResponseError for PageError {
    fn status_code(&self) -> StatusCode {
        match self {
            PageError::Login { .. } => StatusCode::SEE_OTHER,
            PageError::App(e, _) => e.status_code(),
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            PageError::Login { next } => {
                let q: String = url::form_urlencoded::Serializer::new(String::new())
                    .append_pair("next", next)
                    .finish();
                redirect(&format!("/login?{q}"), None)
            }
            PageError::App(e, lang) => {
                if let AppError::Internal(m) = e {
                    tracing::error!(error = %m, "internal error on a page");
                }
                let msg = e.message();
                let details = match e {
                    AppError::Validation(errs) => errs
                        .iter()
                        .map(|f| {
                            let m = lang.pick(&f.message.zh, &f.message.en);
                            format!("{}: {m}", f.field)
                        })
                        .collect(),
                    _ => Vec::new(),
                };
                // The page itself is rendered once, by the middleware, which knows the caller and the site
                // (`signed_in_error_page`); every response passes through it.
                let mut r = HttpResponse::build(e.status_code()).finish();
                r.extensions_mut().insert(ErrorPageData {
                    status: e.status_code(),
                    message: lang.pick(&msg.zh, &msg.en).to_string(),
                    details,
                });
                r
            }
        }
    }
}

/// Show a service error as a page in the page's language: `.map_err(page_err(ctx.lang))`.
pub fn page_err(lang: Lang) -> impl Fn(AppError) -> PageError {
    move |e| PageError::App(e, lang)
}

impl From<AppError> for PageError {
    fn from(e: AppError) -> Self {
        PageError::App(e, Lang::Zh)
    }
}

/// Largest form body of the pages: one generous limit for every page form's text (files come as
/// `multipart/form-data`, streamed into the file store, never in a form body).
pub const FORM_BODY_LIMIT: usize = 2 * 1024 * 1024;

/// The form of a page post, read as its (name, value) pairs so repeated names (checkboxes, multi-selects)
/// keep every value. Its `csrf` field has been checked against the browser's CSRF cookie.
pub struct Form(Vec<(String, String)>);

impl Form {
    pub fn new(pairs: Vec<(String, String)>) -> Form {
        Form(pairs)
    }
    /// Every (name, value) pair in the order sent, for forms whose field names carry data.
    pub fn pairs(&self) -> &[(String, String)] {
        &self.0
    }
    /// The first value of a field, empty when absent.
    pub fn get(&self, k: &str) -> String {
        self.0
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    }
    pub fn all(&self, k: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .collect()
    }
    /// The ids ticked in a list of checkboxes or a multi-select. The values come from the page's own
    /// options, so one that is not a number was not offered and is left out.
    pub fn ids(&self, k: &str) -> Vec<i64> {
        self.all(k)
            .iter()
            .filter_map(|v| v.trim().parse().ok())
            .collect()
    }
    /// First value of each field, except the token, to show a form again.
    pub fn values(&self) -> HashMap<String, String> {
        let mut m = HashMap::new();
        for (k, v) in &self.0 {
            if k != "csrf" {
                m.entry(k.clone()).or_insert_with(|| v.clone());
            }
        }
        m
    }
    /// A required whole number; see [`parse_int`].
    pub fn int<T: FromStr>(&self, field: &str, errs: &mut Vec<FieldError>) -> Option<T> {
        parse_int(field, &self.get(field), errs)
    }
    /// A whole number that may be left empty; see [`parse_opt_int`].
    pub fn opt_int<T: FromStr>(&self, field: &str, errs: &mut Vec<FieldError>) -> Option<T> {
        parse_opt_int(field, &self.get(field), errs)
    }
    /// A required decimal number; see [`parse_decimal`].
    pub fn decimal(&self, field: &str, errs: &mut Vec<FieldError>) -> Option<Decimal> {
        parse_decimal(field, &self.get(field), errs)
    }
}

/// A number typed into a form, or `None` with a field error: `required` when empty, `number` when the text
/// is not a number. A handler that got any such error shows the form again without calling the service,
/// so no text is ever turned into a number the user did not type.
pub fn parse_int<T: FromStr>(field: &str, text: &str, errs: &mut Vec<FieldError>) -> Option<T> {
    if text.trim().is_empty() {
        errs.push(FieldError::new(field, "required", "必填。", "Required."));
        return None;
    }
    parse_opt_int(field, text, errs)
}

/// As [`parse_int`], but an empty field is `None` without an error.
pub fn parse_opt_int<T: FromStr>(field: &str, text: &str, errs: &mut Vec<FieldError>) -> Option<T> {
    parse_number(field, text, errs, "须为整数。", "Must be a whole number.")
}

/// As [`parse_int`], for a decimal number (money, percentages, points).
pub fn parse_decimal(field: &str, text: &str, errs: &mut Vec<FieldError>) -> Option<Decimal> {
    if text.trim().is_empty() {
        errs.push(FieldError::new(field, "required", "必填。", "Required."));
        return None;
    }
    parse_opt_decimal(field, text, errs)
}

/// As [`parse_decimal`], but an empty field is `None` without an error.
pub fn parse_opt_decimal(field: &str, text: &str, errs: &mut Vec<FieldError>) -> Option<Decimal> {
    parse_number(field, text, errs, "须为数字。", "Must be a number.")
}

/// The value read from a form, or the field errors of what did not parse (422, shown at the fields), so a
/// handler hands the service only numbers that were typed: `checked(a.zip(b), errs)?`.
pub fn checked<T>(v: Option<T>, errs: Vec<FieldError>) -> Result<T, AppError> {
    match v {
        Some(v) if errs.is_empty() => Ok(v),
        // Every reader that returns `None` for a required value records why, so `errs` is not empty here.
        _ => Err(AppError::Validation(errs)),
    }
}

fn parse_number<T: FromStr>(
    field: &str,
    text: &str,
    errs: &mut Vec<FieldError>,
    zh: &str,
    en: &str,
) -> Option<T> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    let n = text.parse().ok();
    if n.is_none() {
        errs.push(FieldError::new(field, "number", zh, en));
    }
    n
}

/// Read a page form: urlencoded, at most [`FORM_BODY_LIMIT`], with a `csrf` field matching the cookie and
/// no control character in any name or value (422, the error page naming the field).
pub(crate) async fn read_form(req: &HttpRequest, mut payload: Payload) -> Result<Form, PageError> {
    let lang = Lang::from_request(req);
    let bad = |zh: String, en: String| {
        PageError::App(AppError::bad_request("invalid_form", zh, en), lang)
    };
    if !req
        .content_type()
        .eq_ignore_ascii_case("application/x-www-form-urlencoded")
    {
        return Err(bad(
            "表单须为 application/x-www-form-urlencoded 编码。".into(),
            "The form must be application/x-www-form-urlencoded.".into(),
        ));
    }
    let mut body: Vec<u8> = Vec::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| {
            bad(
                format!("表单无法读取：{e}"),
                format!("The form could not be read: {e}"),
            )
        })?;
        if body.len() + chunk.len() > FORM_BODY_LIMIT {
            return Err(PageError::App(
                AppError::BadRequest {
                    code: "payload_too_large",
                    msg: Msg::new(
                        "提交的内容过大（上限 2 MiB）。",
                        "The form is too large (limit 2 MiB).",
                    ),
                    status: StatusCode::PAYLOAD_TOO_LARGE,
                },
                lang,
            ));
        }
        body.extend_from_slice(&chunk);
    }
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(&body).into_owned().collect();
    let token = pairs
        .iter()
        .find(|(k, _)| k == "csrf")
        .map(|(_, v)| v.as_str())
        .unwrap_or("");
    super::csrf::check(req, token).map_err(|e| PageError::App(e, lang))?;
    // No handler sees a control character (`http::input`): the page says which field held one.
    let errs = super::input::form_errors(&pairs);
    if !errs.is_empty() {
        return Err(PageError::App(AppError::Validation(errs), lang));
    }
    Ok(Form(pairs))
}

impl FromRequest for Form {
    type Error = PageError;
    type Future = LocalBoxFuture<'static, Result<Self, PageError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let payload = payload.take();
        Box::pin(async move { read_form(&req, payload).await })
    }
}

/// A page form read as [`Form`] (same limit, same CSRF check) into a struct of text fields. The values are
/// handed over as text, so the fields are `String`s and numbers are read with [`parse_int`] and its kin.
pub struct SafeForm<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for SafeForm<T> {
    type Error = PageError;
    type Future = LocalBoxFuture<'static, Result<Self, PageError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let payload = payload.take();
        Box::pin(async move {
            let form = read_form(&req, payload).await?;
            form.deserialize().map(SafeForm).map_err(|e| {
                PageError::App(
                    AppError::bad_request(
                        "invalid_form",
                        format!("表单无法解析：{e}"),
                        format!("The form could not be read: {e}"),
                    ),
                    Lang::from_request(&req),
                )
            })
        })
    }
}

impl Form {
    /// The fields other than the token as a struct of text fields.
    pub fn deserialize<T: DeserializeOwned>(&self) -> Result<T, serde::de::value::Error> {
        let pairs = self
            .0
            .iter()
            .filter(|(k, _)| k != "csrf")
            .map(|(k, v)| (k.as_str(), v.as_str()));
        T::deserialize(serde::de::value::MapDeserializer::new(pairs))
    }
}

/// Links to the other pages of a list, keeping its filters.
#[derive(Clone, Debug)]
pub struct Pager {
    pub page: i64,
    pub pages: i64,
    pub total: i64,
    pub prev: Option<String>,
    pub next: Option<String>,
}

impl Pager {
    /// The pager of a page of a list whose filters are `params` (empty ones left out of the links).
    pub fn new<T>(base: &str, params: &[(&str, String)], list: &crate::db::Paged<T>) -> Pager {
        let (page, total) = (list.page, list.total);
        let pages = ((total + list.per_page - 1) / list.per_page).max(1);
        let link = |p: i64| {
            let page = [("page", p.to_string())];
            list_link(base, params.iter().chain(page.iter()))
        };
        Pager {
            page,
            pages,
            total,
            prev: (page > 1).then(|| link(page - 1)),
            next: (page < pages).then(|| link(page + 1)),
        }
    }
}

/// A link to a list (or its export) with the same filters, empty ones left out: the pager's links and
/// every page's export link are built here.
pub fn list_link<'a>(
    base: &str,
    params: impl IntoIterator<Item = &'a (&'a str, String)>,
) -> String {
    let mut s = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in params.into_iter().filter(|(_, v)| !v.is_empty()) {
        s.append_pair(k, v);
    }
    let qs = s.finish();
    if qs.is_empty() {
        base.to_string()
    } else {
        format!("{base}?{qs}")
    }
}

/// The CSS width class (`w-0` … `w-100`, in steps of 5, rounded down) of a bar of `n` out of `max`: the
/// one helper every chart on the pages uses.
pub fn bar_class(n: i64, max: i64) -> String {
    let max = max.max(1);
    format!("w-{}", n.clamp(0, max) * 20 / max * 5)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The summary of a refused form names each message once, however far apart its fields sort.
    #[test]
    fn form_summary_names_each_message_once() {
        let e = |f: &str, m: &str| FieldError::new(f, "required", m, m);
        let errs = [e("a", "必填"), e("b", "格式不对"), e("c", "必填")];
        let f = FormErrors::from_fields(Lang::Zh, &errs);
        assert_eq!(f.messages(), ["必填", "格式不对"]);
    }

    #[test]
    fn safe_next_keeps_redirects_on_this_site() {
        for ok in ["/", "/tenders?q=%E7%A4%BE", "/registry/orgs/5", "/a//b"] {
            assert_eq!(safe_next(ok), ok);
        }
        for bad in [
            "//evil.example",
            "/\\evil.example",
            "/\t/evil.example",
            "/\n/x",
            "/\r\nSet-Cookie: x",
            "/ /evil.example",
            "/x\\y",
            "https://evil.example/",
            "evil.example",
            "",
            "/\u{0}x",
        ] {
            assert_eq!(safe_next(bad), "/dashboard", "{bad:?}");
        }
    }

    #[test]
    fn numbers_are_read_or_reported() {
        let mut errs = Vec::new();
        assert_eq!(parse_int::<i32>("a", " 12 ", &mut errs), Some(12));
        assert_eq!(parse_opt_int::<i32>("b", "  ", &mut errs), None);
        assert_eq!(
            parse_decimal("c", "12.50", &mut errs),
            Some(Decimal::new(1250, 2))
        );
        assert!(errs.is_empty(), "{errs:?}");
        assert!(matches!(checked(Some(1), errs), Ok(1)));

        let mut errs = Vec::new();
        assert_eq!(parse_int::<i32>("grade", "十二", &mut errs), None);
        assert_eq!(parse_int::<i64>("year", "", &mut errs), None);
        assert_eq!(parse_opt_int::<i32>("seats", "-x", &mut errs), None);
        assert_eq!(parse_opt_decimal("pct", "1,5", &mut errs), None);
        let rules: Vec<(&str, &str)> = errs
            .iter()
            .map(|e| (e.field.as_str(), e.rule.as_str()))
            .collect();
        assert_eq!(
            rules,
            [
                ("grade", "number"),
                ("year", "required"),
                ("seats", "number"),
                ("pct", "number")
            ]
        );
        assert_eq!(errs[0].message.zh, "须为整数。");
        assert_eq!(errs[3].message.en, "Must be a number.");
        assert!(matches!(checked(Some(1), errs), Err(AppError::Validation(e)) if e.len() == 4));
    }

    #[test]
    fn form_reads_pairs_and_text_structs() {
        let f = Form::new(
            [
                ("csrf", "t"),
                ("grade", "abc"),
                ("ids", "2"),
                ("ids", "x"),
                ("ids", "5"),
            ]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        );
        let mut errs = Vec::new();
        assert_eq!(f.int::<i32>("grade", &mut errs), None);
        assert_eq!(errs.len(), 1);
        assert_eq!(f.ids("ids"), [2, 5]);
        assert_eq!(f.values().get("grade").map(String::as_str), Some("abc"));
        assert!(!f.values().contains_key("csrf"));
        #[derive(serde::Deserialize)]
        struct Text {
            #[serde(default)]
            grade: String,
            #[serde(default)]
            missing: String,
        }
        let Form(pairs) = f;
        let t: Text = Form::new(pairs.into_iter().filter(|(k, _)| k != "ids").collect())
            .deserialize()
            .unwrap();
        assert_eq!((t.grade.as_str(), t.missing.as_str()), ("abc", ""));
    }

    #[test]
    fn field_errors_keep_every_message_once() {
        let errs = [
            FieldError::new("budget", "a", "太大。", "Too large."),
            FieldError::new("budget", "b", "须为整数。", "Must be a whole number."),
            FieldError::new("budget", "a", "太大。", "Too large."),
            FieldError::new("code", "required", "必填。", "Required."),
        ];
        let e = FormErrors::from_fields(Lang::En, &errs);
        assert_eq!(e.get("budget"), Some("Too large. Must be a whole number."));
        assert_eq!(e.get("code"), Some("Required."));
        assert_eq!(e.get("title"), None);
        assert!(e.any());
        assert!(!FormErrors::default().any());
    }

    #[test]
    fn bar_classes() {
        assert_eq!(bar_class(0, 0), "w-0");
        assert_eq!(bar_class(5, 10), "w-50");
        assert_eq!(bar_class(10, 10), "w-100");
        assert_eq!(bar_class(1, 3), "w-30");
        assert_eq!(bar_class(20, 10), "w-100");
        assert_eq!(bar_class(-3, 10), "w-0");
    }
}

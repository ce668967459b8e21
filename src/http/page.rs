//! What every page needs: the layout context (language, CSRF token, flash, signed-in user, navigation),
//! rendering, redirects with a flash message, the CSRF-checked form, field errors, and errors shown as pages.

use std::collections::HashMap;
use std::future::{Ready, ready};

use actix_web::cookie::{Cookie, SameSite};
use actix_web::dev::Payload;
use actix_web::http::{StatusCode, header};
use actix_web::{FromRequest, HttpRequest, HttpResponse, ResponseError, web};
use askama::Template;
use futures_util::future::LocalBoxFuture;
use serde::de::DeserializeOwned;

use crate::auth::{CurrentUser, Role};
use crate::error::{AppError, FieldError};
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

/// Keep redirects on this site: only a local absolute path is followed.
pub fn safe_next(next: &str) -> &str {
    if next.starts_with('/') && !next.starts_with("//") && !next.starts_with("/\\") {
        next
    } else {
        "/dashboard"
    }
}

#[derive(Clone, Debug)]
pub struct NavItem {
    pub href: &'static str,
    pub label: &'static str,
    pub active: bool,
}

/// What every page's layout needs.
#[derive(Clone, Debug)]
pub struct PageCtx {
    pub lang: Lang,
    pub csrf: String,
    pub flash: Option<Flash>,
    pub path: String,
    pub user: Option<CurrentUser>,
}

impl PageCtx {
    pub fn t(&self, key: &str) -> &'static str {
        self.lang.t(key)
    }
    pub fn lang_code(&self) -> &'static str {
        self.lang.code()
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
        ];
        if let Some(u) = &self.user {
            items.push(("/dashboard", "nav.dashboard"));
            if u.is_staff() {
                items.push(("/registry/orgs", "nav.orgs"));
                items.push(("/registry/incubations", "nav.incubations"));
                items.push(("/registry/workers", "nav.workers"));
            }
            if u.role == Role::Org {
                items.push(("/my/org", "nav.my_org"));
                // Organisations apply to bases and follow their own applications there.
                items.push(("/registry/incubations", "nav.incubations"));
                items.push(("/my/bids", "nav.my_bids"));
            }
            if u.role == Role::Evaluator {
                items.push(("/evaluations", "nav.evaluations"));
            }
            if u.role == Role::Admin {
                items.push(("/admin/users", "nav.users"));
            }
            if matches!(u.role, Role::Admin | Role::Finance) {
                items.push(("/audit", "nav.audit"));
            }
            items.push(("/account", "nav.account"));
        }
        items.push(("/api/docs/", "nav.api"));
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
            })
            .collect()
    }
    pub fn fmt_time(&self, t: &chrono::NaiveDateTime) -> String {
        crate::clock::display(*t)
    }
}

impl FromRequest for PageCtx {
    type Error = actix_web::Error;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Ok(PageCtx {
            lang: Lang::from_request(req),
            csrf: super::csrf::token(req),
            flash: read_flash(req),
            path: req.path().to_string(),
            user: None,
        }))
    }
}

/// Render a page; clears the flash cookie once it has been shown.
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

/// Field errors of a form, in the page's language.
#[derive(Clone, Debug, Default)]
pub struct FormErrors(HashMap<String, String>);

impl FormErrors {
    pub fn from_fields(lang: Lang, errs: &[FieldError]) -> FormErrors {
        let mut m = HashMap::new();
        for e in errs {
            m.entry(e.field.clone())
                .or_insert_with(|| lang.pick(&e.message.zh, &e.message.en).to_string());
        }
        FormErrors(m)
    }
    pub fn get(&self, field: &str) -> Option<&str> {
        self.0.get(field).map(String::as_str)
    }
    pub fn any(&self) -> bool {
        !self.0.is_empty()
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
                let ctx = PageCtx {
                    lang: *lang,
                    csrf: String::new(),
                    flash: None,
                    path: String::new(),
                    user: None,
                };
                let page = ErrorPage {
                    status: e.status_code().as_u16(),
                    message: lang.pick(&msg.zh, &msg.en).to_string(),
                    ctx,
                };
                render(&page.ctx, e.status_code(), &page)
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

/// A form whose `csrf` field has been checked against the browser's CSRF cookie.
pub struct SafeForm<T>(pub T);

#[derive(serde::Deserialize)]
struct WithCsrf<T> {
    #[serde(default)]
    csrf: String,
    #[serde(flatten)]
    inner: T,
}

impl<T: DeserializeOwned + 'static> FromRequest for SafeForm<T> {
    type Error = PageError;
    type Future = LocalBoxFuture<'static, Result<Self, PageError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let fut = web::Form::<WithCsrf<T>>::from_request(&req, payload);
        Box::pin(async move {
            let lang = Lang::from_request(&req);
            let form = fut.await.map_err(|e| {
                PageError::App(
                    AppError::bad_request(
                        "invalid_form",
                        format!("表单无法解析：{e}"),
                        format!("The form could not be read: {e}"),
                    ),
                    lang,
                )
            })?;
            super::csrf::check(&req, &form.csrf).map_err(|e| PageError::App(e, lang))?;
            Ok(SafeForm(form.into_inner().inner))
        })
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

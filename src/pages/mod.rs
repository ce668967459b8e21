//! The server-rendered web UI, one module per area (`common`: home, sign-in, dashboard, account, users,
//! audit; `checkpoints`: the public signed checkpoints; `orgs`, `bases`, `tenders`; `ledger`: the finance pages; `reports`: the 三社联动 report), plus static assets
//! compiled into the binary and the not-found page.
//! Page handlers call the services directly, as the API handlers do; what both need (caller, CSRF,
//! paging, page context) is in `crate::http`.

pub mod bases;
pub mod checkpoints;
pub mod common;
pub mod contracts;
pub mod evidence;
pub mod ledger;
pub mod orgs;
pub mod people;
pub mod reports;
pub mod spending;
pub mod tenders;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, ResponseError, web};

use crate::auth::Role;
use crate::error::AppError;
use crate::http::page::PageError;
use crate::i18n::Lang;

/// Every protected page of the UI, from every page module (the refusal tests walk them).
pub fn all_protected()
-> impl Iterator<Item = &'static (&'static str, &'static str, &'static [Role])> {
    common::PROTECTED
        .iter()
        .chain(orgs::PROTECTED)
        .chain(bases::PROTECTED)
        .chain(tenders::PROTECTED)
        .chain(ledger::PROTECTED)
        .chain(contracts::PROTECTED)
        .chain(spending::PROTECTED)
        .chain(people::PROTECTED)
        .chain(reports::PROTECTED)
}

/// Static assets, compiled in (government intranets are offline: nothing comes from a CDN).
pub async fn static_file(path: web::Path<String>) -> HttpResponse {
    let (body, ctype): (&'static [u8], &str) = match path.as_str() {
        "app.css" => (
            include_bytes!("../../static/app.css"),
            "text/css; charset=utf-8",
        ),
        "app.js" => (
            include_bytes!("../../static/app.js"),
            "text/javascript; charset=utf-8",
        ),
        "favicon.svg" => (include_bytes!("../../static/favicon.svg"), "image/svg+xml"),
        _ => return AppError::NotFound.error_response(),
    };
    HttpResponse::Ok()
        .content_type(ctype)
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .body(body)
}

/// Unknown paths: problem+json under /api, a page elsewhere.
pub async fn not_found(req: HttpRequest) -> HttpResponse {
    if req.path().starts_with("/api/") {
        // A documented path with a method it does not take was answered 405 before routing.
        AppError::NotFound.error_response()
    } else {
        PageError::App(AppError::NotFound, Lang::from_request(&req)).error_response()
    }
}

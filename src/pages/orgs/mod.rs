//! Registry pages for organisations and social workers: the public directory; the bureau's organisation list,
//! detail (standing with every reason, ratings, inspections, listings), forms, change-request queue, CSV
//! import; social workers with counts; and an organisation's own page (`/my/org`).
//!
//! By action: `directory`, `list`, `detail` (with the standing forms), `form` (with `/my/org`),
//! `change_requests`, `importing`, `social_workers`. Here: the routes, the protected pages and the labels.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::app::AppState;
use crate::error::{AppError, FieldError};
use crate::http::caller::{AnyRole, BureauOrAdmin, CurrentUser, OrgOnly, Page, Role};
use crate::http::caller::{RegistryReaders, RoleSet, StaffOrOrg, WorkerReaders};
use crate::http::page::{
    Form, FormErrors, PageCtx, PageError, Pager, StaleNotice, carried_version, checked, list_link,
    page_err, redirect, render,
};
use crate::i18n::Lang;
use crate::registry::changes::{self, ChangeFilter, ChangeRequestView, Decision};
use crate::registry::import;
use crate::registry::orgs::{
    self, FIELDS, KINDS, LISTS, OrgDetail, OrgFilter, OrgInput, OrgPatch, OrgView, PublicFilter,
    PublicOrg, REGISTRATIONS,
};
use crate::registry::workers::{
    self, Counts, EMPLOYMENTS, LEVELS, WorkerFilter, WorkerInput, WorkerView,
};

mod change_requests;
mod detail;
mod directory;
mod form;
mod importing;
mod list;
mod social_workers;

use change_requests::*;
use detail::*;
use directory::*;
use form::*;
use importing::*;
use list::*;
use social_workers::*;

/// Protected pages of this module: (method, example path, roles allowed). The refusal tests walk them.
pub const PROTECTED: &[(&str, &str, &[Role])] = &[
    ("GET", "/registry/orgs", RegistryReaders::ROLES),
    ("GET", "/registry/orgs/new", &[Role::Bureau, Role::Admin]),
    ("GET", "/registry/orgs/1", RegistryReaders::ROLES),
    ("GET", "/registry/orgs/1/edit", &[Role::Bureau, Role::Admin]),
    ("GET", "/registry/changes", &[Role::Bureau, Role::Admin]),
    ("GET", "/registry/import", &[Role::Bureau, Role::Admin]),
    ("GET", "/registry/workers", WorkerReaders::ROLES),
    (
        "GET",
        "/registry/workers/new",
        &[Role::Bureau, Role::Admin, Role::Org],
    ),
    ("GET", "/registry/workers/counts", &Role::ALL),
    ("GET", "/registry/workers/1", WorkerReaders::ROLES),
    (
        "GET",
        "/registry/workers/1/edit",
        &[Role::Bureau, Role::Admin, Role::Org],
    ),
    ("GET", "/my/org", &[Role::Org]),
];

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/directory", web::get().to(directory))
        .route("/registry/orgs", web::get().to(org_list))
        .route("/registry/orgs/new", web::get().to(org_new_page))
        .route("/registry/orgs/new", web::post().to(org_new_submit))
        .route("/registry/orgs/{id}", web::get().to(org_detail))
        .route("/registry/orgs/{id}/edit", web::get().to(org_edit_page))
        .route("/registry/orgs/{id}/edit", web::post().to(org_edit_submit))
        .route("/registry/orgs/{id}/ratings", web::post().to(rating_submit))
        .route(
            "/registry/orgs/{id}/inspections",
            web::post().to(inspection_submit),
        )
        .route(
            "/registry/orgs/{id}/listings",
            web::post().to(listing_submit),
        )
        .route("/registry/orgs/{id}/links", web::post().to(link_submit))
        .route(
            "/registry/orgs/{id}/links/{other}/remove",
            web::post().to(link_remove),
        )
        .route(
            "/registry/listings/{id}/remove",
            web::post().to(listing_remove),
        )
        .route("/registry/changes", web::get().to(change_list))
        .route("/registry/changes/{id}", web::post().to(change_decide))
        .route("/registry/import", web::get().to(import_page))
        .route("/registry/import/orgs", web::post().to(import_orgs_submit))
        .route(
            "/registry/import/workers",
            web::post().to(import_workers_submit),
        )
        .route("/registry/workers", web::get().to(worker_list))
        .route("/registry/workers/new", web::get().to(worker_new_page))
        .route("/registry/workers/new", web::post().to(worker_new_submit))
        .route("/registry/workers/counts", web::get().to(worker_counts))
        .route("/registry/workers/{id}", web::get().to(worker_detail))
        .route(
            "/registry/workers/{id}/verify",
            web::post().to(worker_verify),
        )
        .route(
            "/registry/workers/{id}/edit",
            web::get().to(worker_edit_page),
        )
        .route(
            "/registry/workers/{id}/edit",
            web::post().to(worker_edit_submit),
        )
        .route("/my/org", web::get().to(my_org))
        .route("/my/org", web::post().to(my_org_submit));
}

/// (key, label) options of a vocabulary in the page's language.
pub fn options(
    lang: Lang,
    table: &[(&'static str, &'static str, &'static str)],
) -> Vec<(String, String)> {
    table
        .iter()
        .map(|(k, z, e)| (k.to_string(), lang.pick(z, e).to_string()))
        .collect()
}

/// Helpers the templates call.
#[derive(Clone, Debug)]
pub struct Labels {
    pub lang: Lang,
    ctx: PageCtx,
}

impl Labels {
    fn zh(&self) -> bool {
        self.lang == Lang::Zh
    }
    pub fn kind(&self, k: &str) -> String {
        self.ctx.label(KINDS, k)
    }
    pub fn registration(&self, k: &str) -> String {
        self.ctx.label(REGISTRATIONS, k)
    }
    pub fn field(&self, k: &str) -> String {
        self.ctx.label(FIELDS, k)
    }
    pub fn fields(&self, ks: &[String]) -> String {
        ks.iter()
            .map(|k| self.field(k))
            .collect::<Vec<_>>()
            .join(if self.zh() { "、" } else { ", " })
    }
    pub fn list(&self, k: &str) -> String {
        self.ctx.label(LISTS, k)
    }
    pub fn inspection_kind(&self, k: &str) -> String {
        self.ctx.label(orgs::INSPECTION_KINDS, k)
    }
    pub fn conclusion(&self, k: &str) -> String {
        self.ctx.label(orgs::CONCLUSIONS, k)
    }
    pub fn level(&self, k: &str) -> String {
        self.ctx.label(LEVELS, k)
    }
    pub fn employment(&self, k: &str) -> String {
        self.ctx.label(EMPLOYMENTS, k)
    }
    pub fn rating(&self, g: &Option<i32>) -> String {
        g.map(|g| format!("{g}A")).unwrap_or_else(|| "—".into())
    }
    pub fn status(&self, s: &crate::domain::standing::Status) -> &'static str {
        self.lang.pick(s.label_zh(), s.label_en())
    }
    pub fn status_class(&self, s: &crate::domain::standing::Status) -> &'static str {
        match s {
            crate::domain::standing::Status::Eligible => "ok",
            crate::domain::standing::Status::Flagged => "muted",
            crate::domain::standing::Status::Barred => "bad",
        }
    }
    pub fn reason(&self, r: &crate::domain::standing::Reason) -> String {
        self.lang.pick(&r.zh, &r.en).to_string()
    }
    pub fn change_status(&self, s: &str) -> &'static str {
        match (s, self.zh()) {
            ("pending", true) => "待审核",
            ("pending", false) => "Pending",
            ("approved", true) => "已批准",
            ("approved", false) => "Approved",
            (_, true) => "已驳回",
            (_, false) => "Rejected",
        }
    }
    pub fn opt(&self, v: &Option<String>) -> String {
        v.clone().unwrap_or_default()
    }
    pub fn date(&self, d: &Option<chrono::NaiveDate>) -> String {
        d.map(|d| d.to_string()).unwrap_or_default()
    }
    pub fn msg(&self, e: &FieldError) -> String {
        self.lang.pick(&e.message.zh, &e.message.en).to_string()
    }
}

fn labels(ctx: &PageCtx) -> Labels {
    Labels {
        lang: ctx.lang,
        ctx: ctx.clone(),
    }
}

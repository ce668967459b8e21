//! Pages of areas, incubation bases and incubation: the public base tree with its coverage chart, base
//! pages with their funnel, the areas; the bureau's base forms, incubation list, overview and record pages
//! with their action forms; the application form (bureau, administrators, organisations for themselves).
//!
//! By sub-resource: `base_list` (the tree and a base's page), `base_form`, `streets` (streets and
//! communities), `incubation`. Here: the routes, the protected pages and the labels they share.

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
    FormErrors, PageCtx, PageError, Pager, SafeForm, checked, list_link, page_err, parse_int,
    parse_opt_int, redirect, render, with_caller,
};
use crate::i18n::Lang;
use crate::registry::areas;
use crate::registry::bases::{self, BaseFilter, BaseInput, BaseNode, Level, SERVICES};
use crate::registry::incubations::{
    self, ChecklistItem, IncubationFilter, IncubationView, NewApplication, Transition,
};

mod base_form;
mod base_list;
mod incubation;
mod streets;

pub use base_form::*;
pub use base_list::*;
pub use incubation::*;
use streets::*;

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
            class: crate::http::page::bar_class(*n, f.applied),
            value: n.to_string(),
        })
        .collect()
}

fn can_manage(ctx: &PageCtx) -> bool {
    ctx.user
        .as_ref()
        .is_some_and(|u| BureauOrAdmin::ROLES.contains(&u.role))
}

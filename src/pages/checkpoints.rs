//! The public checkpoints page: every signed checkpoint with the public key and how to check it offline;
//! administrators and finance sign the head on demand from it.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::app::AppState;
use crate::auth::Role;
use crate::chain::checkpoint::{self, Checkpoint, CheckpointFilter, Published, Signed};
use crate::error::AppError;
use crate::http::caller::{AdminOrFinance, Page};
use crate::http::page::{PageCtx, PageError, Pager, SafeForm, page_err, redirect, render};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/checkpoints", web::get().to(list_page))
        .route("/checkpoints/sign", web::post().to(sign_submit));
}

struct Row {
    c: Checkpoint,
    local_time: String,
    json: String,
}

#[derive(Template)]
#[template(path = "pages/checkpoints.html")]
struct CheckpointsPage {
    ctx: PageCtx,
    list: Published,
    rows: Vec<Row>,
    pager: Pager,
    can_sign: bool,
    api_link: String,
}

async fn list_page(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: PageCtx,
    q: web::Query<CheckpointFilter>,
) -> Result<HttpResponse, PageError> {
    let user = crate::http::caller::caller(&req).await.user().cloned();
    let ctx = PageCtx { user, ..ctx };
    let can_sign = ctx
        .user
        .as_ref()
        .is_some_and(|u| matches!(u.role, Role::Admin | Role::Finance));
    let f = q.into_inner();
    let chain = f.chain.clone().unwrap_or_default();
    let cfg = state.config.clone();
    let list = state
        .run(move |c| checkpoint::published(c, &cfg.checkpoints, &f))
        .await
        .map_err(page_err(ctx.lang))?;
    let params = [("chain", chain.clone())];
    let paged = crate::db::Paged {
        items: Vec::<()>::new(),
        total: list.total,
        page: list.page,
        per_page: list.per_page,
    };
    let pager = Pager::new("/checkpoints", &params, &paged);
    let rows = list
        .items
        .iter()
        .map(|c| Row {
            local_time: c.time().map(crate::clock::display).unwrap_or_default(),
            json: serde_json::to_string_pretty(c).unwrap_or_default(),
            c: c.clone(),
        })
        .collect();
    let api_link = crate::http::page::list_link("/api/v1/checkpoints", &params);
    let page = CheckpointsPage {
        ctx: ctx.clone(),
        list,
        rows,
        pager,
        can_sign,
        api_link,
    };
    Ok(render(&ctx, StatusCode::OK, &page))
}

#[derive(Deserialize)]
struct Empty {}

async fn sign_submit(
    state: web::Data<AppState>,
    ctx: PageCtx,
    page: Page<AdminOrFinance>,
    _form: SafeForm<Empty>,
) -> Result<HttpResponse, PageError> {
    let ctx = ctx.with_user(&page.user);
    let (cfg, now, by) = (
        state.config.clone(),
        state.clock.now(),
        page.user.username.clone(),
    );
    let r = state
        .run(move |c| {
            checkpoint::sign_chain(c, crate::chain::AUDIT.name, &cfg.checkpoints, now, &by)
        })
        .await;
    match r {
        Ok(Signed::New(_)) => Ok(redirect("/checkpoints", Some(("ok", ctx.t("cp.signed"))))),
        Ok(Signed::Existing(_)) => Ok(redirect(
            "/checkpoints",
            Some(("info", ctx.t("cp.already"))),
        )),
        Err(e @ AppError::Conflict { .. }) => {
            let m = e.message();
            Ok(redirect(
                "/checkpoints",
                Some(("error", ctx.lang.pick(&m.zh, &m.en))),
            ))
        }
        Err(e) => Err(PageError::App(e, ctx.lang)),
    }
}

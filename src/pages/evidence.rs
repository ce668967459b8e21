//! Evidence on the pages: a record's file to download, or the SHA-256 it declared with the form that adds
//! the file (`POST /evidence/{purpose}/{id}`, the same rules as the API's).

use std::collections::HashMap;

use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use crate::app::AppState;
use crate::auth::CurrentUser;
use crate::db::DbConn;
use crate::error::AppError;
use crate::files::{FileRow, Purpose, evidence};
use crate::http::caller::{BureauOrAdmin, OrgOnly, Page};
use crate::http::page::{PageCtx, PageError, page_err, redirect, safe_next};
use crate::i18n::Lang;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/evidence/milestone_report/{id}",
        web::post().to(report_submit),
    )
    .route(
        "/evidence/credit_evidence/{id}",
        web::post().to(listing_submit),
    )
    .route(
        "/evidence/spending_evidence/{id}",
        web::post().to(spending_submit),
    )
    .route("/evidence/sign_in_sheet/{id}", web::post().to(sheet_submit));
}

async fn report_submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: PageCtx,
    page: Page<BureauOrAdmin>,
    id: web::Path<i64>,
    payload: web::Payload,
) -> Result<HttpResponse, PageError> {
    let (user, id) = (page.user.clone(), id.into_inner());
    add_submit(req, state, ctx, user, Purpose::MilestoneReport, id, payload).await
}

async fn listing_submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: PageCtx,
    page: Page<BureauOrAdmin>,
    id: web::Path<i64>,
    payload: web::Payload,
) -> Result<HttpResponse, PageError> {
    let (user, id) = (page.user.clone(), id.into_inner());
    add_submit(req, state, ctx, user, Purpose::CreditEvidence, id, payload).await
}

async fn spending_submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: PageCtx,
    page: Page<OrgOnly>,
    id: web::Path<i64>,
    payload: web::Payload,
) -> Result<HttpResponse, PageError> {
    let (user, id) = (page.user.clone(), id.into_inner());
    add_submit(
        req,
        state,
        ctx,
        user,
        Purpose::SpendingEvidence,
        id,
        payload,
    )
    .await
}

async fn sheet_submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: PageCtx,
    page: Page<OrgOnly>,
    id: web::Path<i64>,
    payload: web::Payload,
) -> Result<HttpResponse, PageError> {
    let (user, id) = (page.user.clone(), id.into_inner());
    add_submit(req, state, ctx, user, Purpose::SignInSheet, id, payload).await
}

/// A record's evidence as a page shows it.
#[derive(Template, Clone, Debug)]
#[template(path = "pages/files/evidence.html")]
pub struct EvidenceCell {
    pub lang: Lang,
    pub csrf: String,
    pub purpose: &'static str,
    pub record_id: i64,
    pub file: Option<FileRow>,
    pub size: String,
    /// The SHA-256 the record declared, when its file is not here.
    pub declared: Option<String>,
    /// Whether the reader may add the declared file.
    pub can_add: bool,
    /// The page to come back to.
    pub back: String,
}

impl EvidenceCell {
    fn t(&self, key: &str) -> &'static str {
        self.lang.t(key)
    }
}

/// A record that may have evidence: its id, its organisation and the SHA-256 it declares.
pub type Held = (i64, i64, Option<String>);

/// The evidence cells of records of `purpose` that the page's reader may read, by record id; `back` is the
/// page they are on.
pub fn cells(
    conn: &mut DbConn,
    ctx: &PageCtx,
    purpose: Purpose,
    records: &[Held],
    back: &str,
) -> Result<HashMap<i64, EvidenceCell>, AppError> {
    let ids: Vec<i64> = records.iter().map(|r| r.0).collect();
    let mut files = evidence::of_records(conn, purpose, &ids)?;
    let reader = ctx.user.as_ref();
    let l = crate::pages::tenders::Lx { lang: ctx.lang };
    let mut out = HashMap::new();
    for (id, org, declared) in records {
        let h = evidence::Holder::new(*org, declared.clone());
        if !evidence::may_read(reader, &h) {
            continue;
        }
        let file = files.remove(id);
        let can_add = file.is_none()
            && h.declared.is_some()
            && reader.is_some_and(|u| evidence::may_add(u, purpose, &h));
        out.insert(
            *id,
            EvidenceCell {
                lang: ctx.lang,
                csrf: ctx.csrf.clone(),
                purpose: purpose.as_str(),
                record_id: *id,
                size: file
                    .as_ref()
                    .map(|f| l.file_size(&f.size))
                    .unwrap_or_default(),
                declared: if file.is_none() { h.declared } else { None },
                file,
                can_add,
                back: back.to_string(),
            },
        );
    }
    Ok(out)
}

/// Add a record's declared evidence file from a page (`multipart/form-data`: the CSRF token and `back`,
/// then `file`); back to the page it came from with what happened.
async fn add_submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    purpose: Purpose,
    id: i64,
    payload: web::Payload,
) -> Result<HttpResponse, PageError> {
    let ctx = ctx.with_user(&user);
    let u = user.clone();
    let s = &state;
    let (form, file) =
        crate::http::files::page_form(&req, payload.into_inner(), &state.files, |_| {
            let u = u.clone();
            async move {
                s.run(move |c| evidence::may_attach(c, &u, purpose, id, None).map(drop))
                    .await
            }
        })
        .await?;
    let back = safe_next(&form.get("back")).to_string();
    let (outcome, pending) = match file.and_then(|f| f.ok_or_else(crate::http::files::no_file)) {
        Ok(p) => {
            let (f, u) = (p.file.clone(), user.clone());
            let actor = crate::http::actor(&req, &user);
            let now = state.clock.now();
            let out = state
                .run(move |c| evidence::attach(c, &actor, now, &u, purpose, id, &f))
                .await;
            (out, Some(p))
        }
        Err(e) => (Err(e), None),
    };
    let outcome = state.files.settle(pending, outcome).await;
    match outcome {
        Ok(_) => Ok(redirect(&back, Some(("ok", ctx.t("files.uploaded_ok"))))),
        Err(e @ (AppError::NotFound | AppError::Forbidden)) => Err(page_err(ctx.lang)(e)),
        Err(e) => {
            let m = e.message();
            Ok(redirect(
                &back,
                Some(("error", ctx.lang.pick(&m.zh, &m.en))),
            ))
        }
    }
}

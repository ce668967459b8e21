//! Files over the API (src/files): a draft tender's documents uploaded as `multipart/form-data` (the file
//! in the field `file`), listed, and downloaded with ranges and an `ETag`.

use actix_web::{HttpRequest, HttpResponse, get, post, web};

use crate::app::AppState;
use crate::error::{AppError, Problem};
use crate::files::{self, FileView};
use crate::http::caller::{Authed, BureauOrAdmin, OrgOnly};

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(upload_tender_document)
        .service(publish_amendment)
        .service(tender_documents)
        .service(add_milestone_report)
        .service(list_milestone_report)
        .service(add_spending_evidence)
        .service(list_spending_evidence)
        .service(add_sign_in_sheet)
        .service(list_sign_in_sheet)
        .service(add_credit_evidence)
        .service(list_credit_evidence)
        .service(download);
}

/// The multipart body of an upload (documentation only: the body is streamed, never held whole).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct UploadForm {
    /// The file: PDF, JPEG, PNG, OFD, DOCX or XLSX by default (judged by its content), at most
    /// `SANSHE_FILE_MAX_MB` (20 MiB by default); its name is kept and offered on download.
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
}

/// Add a document (采购文件) to a draft tender (bureau, administrators). 422 at `file` for an empty file,
/// one over the limit, of a kind not accepted, or a name with a path or control characters; 409
/// `tender_not_draft` once published. A refused upload keeps nothing.
#[utoipa::path(tag = "files", security(("bearer" = [])), params(("id" = i64, Path)), request_body(content = UploadForm, content_type = "multipart/form-data"), responses((status = 201, body = FileView), (status = 400, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem)))]
#[post("/tenders/{id}/documents")]
pub async fn upload_tender_document(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: Authed<BureauOrAdmin>,
    id: web::Path<i64>,
    payload: web::Payload,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    // Refused before a byte of the file is taken when the tender takes no documents.
    let up = crate::http::files::receive(
        &req,
        payload,
        &state.files,
        state.files.settings.file_max,
        |_| state.run(move |c| files::may_add_tender_document(c, id)),
    )
    .await?;
    let actor = crate::http::actor(&req, &user);
    let uid = user.id;
    let now = state.clock.now();
    let f = up.file.clone();
    let out = state
        .run(move |c| files::add_tender_document(c, &actor, now, &f, id, uid))
        .await;
    let row = state.files.settle(Some(up), out).await?;
    Ok(HttpResponse::Created()
        .insert_header((actix_web::http::header::LOCATION, row.view().href))
        .json(row.view()))
}

/// The multipart body of a clarification: what changed, then the file.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct AmendmentForm {
    /// What the clarification or change is (at most 2000 characters); sent before the file.
    note: String,
    /// The file, as for a document.
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
}

/// Publish a clarification or change of a published tender's documents (澄清或者修改, 87号令 Art 27;
/// bureau, administrators): the part `note` saying what changed, then the `file`. Public at once and on
/// the timeline; every organisation that bid or asked is mailed; published later than its method's notice
/// before the deadline, it moves the bid deadline and the opening. 409 `not_accepting_clarifications` when
/// the tender is not open for bids (a draft takes documents directly); 422 at `note` or `file`, keeping
/// nothing.
#[utoipa::path(tag = "files", security(("bearer" = [])), params(("id" = i64, Path)), request_body(content = AmendmentForm, content_type = "multipart/form-data"), responses((status = 201, body = FileView), (status = 400, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem)))]
#[post("/tenders/{id}/amendments")]
pub async fn publish_amendment(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: Authed<BureauOrAdmin>,
    id: web::Path<i64>,
    payload: web::Payload,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let now = state.clock.now();
    let mut note = String::new();
    let up = crate::http::files::receive(
        &req,
        payload,
        &state.files,
        state.files.settings.file_max,
        |fields| {
            note = crate::http::files::field(&fields, "note");
            crate::http::files::clarification_first(&state, now, id, fields)
        },
    )
    .await?;
    let actor = crate::http::actor(&req, &user);
    let uid = user.id;
    let f = up.file.clone();
    let out = state
        .run_tenders(move |c, ctx, now| {
            crate::tenders::clarify(c, ctx, &actor, uid, now, id, &note, &f)
        })
        .await;
    let row = state.files.settle(Some(up), out).await?;
    Ok(HttpResponse::Created()
        .insert_header((actix_web::http::header::LOCATION, row.view().href))
        .json(row.view()))
}

/// A tender's documents, oldest first, then its clarifications: public once the tender is published, the
/// bureau's before (404).
#[utoipa::path(tag = "files", params(("id" = i64, Path)), responses((status = 200, body = Vec<FileView>), (status = 404, body = Problem)))]
#[get("/tenders/{id}/documents")]
pub async fn tender_documents(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let reader = crate::http::caller::caller(&req).await.user().cloned();
    let rows = state
        .run(move |c| files::tender_files(c, reader.as_ref(), id))
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(HttpResponse::Ok().json(rows.iter().map(|r| r.view()).collect::<Vec<_>>()))
}

/// A record with its evidence file, as `multipart/form-data` (documentation only).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct EvidenceUpload {
    /// The record as JSON, as the `application/json` body would be; its SHA-256 field may be left out
    /// (it becomes the file's) or must be the file's.
    data: String,
    /// The evidence file, as for a document.
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
}

/// Add the evidence file a record declared by its SHA-256 (`multipart/form-data`, the file in the part
/// `file`), for the routes below: 404 for a record the caller may not read (another organisation's), 422
/// at `file` `hash_mismatch` for any other file than the declared one, 409 `no_declared_file` when the
/// record declares none, `evidence_present` when its file is here. Checked before a byte of the file is
/// taken; a refused upload keeps nothing.
async fn add_evidence(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: crate::auth::CurrentUser,
    purpose: files::Purpose,
    id: i64,
    payload: web::Payload,
) -> Result<HttpResponse, AppError> {
    let u = user.clone();
    let up = crate::http::files::receive(
        &req,
        payload,
        &state.files,
        state.files.settings.file_max,
        |_| {
            let u = u.clone();
            state.run(move |c| files::evidence::may_attach(c, &u, purpose, id, None).map(drop))
        },
    )
    .await?;
    let actor = crate::http::actor(&req, &user);
    let now = state.clock.now();
    let f = up.file.clone();
    let out = state
        .run(move |c| files::evidence::attach(c, &actor, now, &u, purpose, id, &f))
        .await;
    let row = state.files.settle(Some(up), out).await?;
    Ok(HttpResponse::Created()
        .insert_header((actix_web::http::header::LOCATION, row.view().href))
        .json(row.view()))
}

/// A record's evidence files (at most one) for whoever may read them: the bureau, finance,
/// administrators, and the record's own organisation; 404 for anyone else.
async fn evidence_files(
    state: web::Data<AppState>,
    user: crate::auth::CurrentUser,
    purpose: files::Purpose,
    id: i64,
) -> Result<HttpResponse, AppError> {
    let rows = state
        .run(move |c| {
            if !files::may_read(c, Some(&user), purpose, id)? {
                return Err(AppError::NotFound);
            }
            files::of_record(c, purpose, id)
        })
        .await?;
    Ok(HttpResponse::Ok().json(rows.iter().map(|r| r.view()).collect::<Vec<_>>()))
}

/// Add an instalment's evaluation report (its `report_sha256`), by the bureau or an administrator: see the shared rules of evidence above this list of routes.
#[utoipa::path(tag = "files", security(("bearer" = [])), params(("id" = i64, Path, description = "The instalment")), request_body(content = UploadForm, content_type = "multipart/form-data"), responses((status = 201, body = FileView), (status = 400, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem)))]
#[post("/evidence/milestone_report/{id}")]
pub async fn add_milestone_report(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: Authed<BureauOrAdmin>,
    id: web::Path<i64>,
    payload: web::Payload,
) -> Result<HttpResponse, AppError> {
    let (u, id) = (user.user.clone(), id.into_inner());
    add_evidence(state, req, u, files::Purpose::MilestoneReport, id, payload).await
}

/// The instalment's evidence file, for the bureau, finance, administrators and its organisation (404 otherwise).
#[utoipa::path(tag = "files", security(("bearer" = [])), params(("id" = i64, Path, description = "The instalment")), responses((status = 200, body = Vec<FileView>), (status = 404, body = Problem), (status = 401, body = Problem)))]
#[get("/evidence/milestone_report/{id}")]
pub async fn list_milestone_report(
    state: web::Data<AppState>,
    user: Authed,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let (u, id) = (user.user.clone(), id.into_inner());
    evidence_files(state, u, files::Purpose::MilestoneReport, id).await
}

/// Add a spending item's evidence (its `evidence_sha256`, e.g. from a CSV import), by the organisation whose item it is: see the shared rules of evidence above this list of routes.
#[utoipa::path(tag = "files", security(("bearer" = [])), params(("id" = i64, Path, description = "The spending item")), request_body(content = UploadForm, content_type = "multipart/form-data"), responses((status = 201, body = FileView), (status = 400, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem)))]
#[post("/evidence/spending_evidence/{id}")]
pub async fn add_spending_evidence(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: Authed<OrgOnly>,
    id: web::Path<i64>,
    payload: web::Payload,
) -> Result<HttpResponse, AppError> {
    let (u, id) = (user.user.clone(), id.into_inner());
    add_evidence(state, req, u, files::Purpose::SpendingEvidence, id, payload).await
}

/// The spending item's evidence file, for the bureau, finance, administrators and its organisation (404 otherwise).
#[utoipa::path(tag = "files", security(("bearer" = [])), params(("id" = i64, Path, description = "The spending item")), responses((status = 200, body = Vec<FileView>), (status = 404, body = Problem), (status = 401, body = Problem)))]
#[get("/evidence/spending_evidence/{id}")]
pub async fn list_spending_evidence(
    state: web::Data<AppState>,
    user: Authed,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let (u, id) = (user.user.clone(), id.into_inner());
    evidence_files(state, u, files::Purpose::SpendingEvidence, id).await
}

/// Add an activity's sign-in sheet (its `evidence_sha256`, e.g. from a CSV import), by the organisation that held it: see the shared rules of evidence above this list of routes.
#[utoipa::path(tag = "files", security(("bearer" = [])), params(("id" = i64, Path, description = "The activity")), request_body(content = UploadForm, content_type = "multipart/form-data"), responses((status = 201, body = FileView), (status = 400, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem)))]
#[post("/evidence/sign_in_sheet/{id}")]
pub async fn add_sign_in_sheet(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: Authed<OrgOnly>,
    id: web::Path<i64>,
    payload: web::Payload,
) -> Result<HttpResponse, AppError> {
    let (u, id) = (user.user.clone(), id.into_inner());
    add_evidence(state, req, u, files::Purpose::SignInSheet, id, payload).await
}

/// The activity's evidence file, for the bureau, finance, administrators and its organisation (404 otherwise).
#[utoipa::path(tag = "files", security(("bearer" = [])), params(("id" = i64, Path, description = "The activity")), responses((status = 200, body = Vec<FileView>), (status = 404, body = Problem), (status = 401, body = Problem)))]
#[get("/evidence/sign_in_sheet/{id}")]
pub async fn list_sign_in_sheet(
    state: web::Data<AppState>,
    user: Authed,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let (u, id) = (user.user.clone(), id.into_inner());
    evidence_files(state, u, files::Purpose::SignInSheet, id).await
}

/// Add a credit listing's evidence (its `evidence_sha256`), by the bureau or an administrator: see the shared rules of evidence above this list of routes.
#[utoipa::path(tag = "files", security(("bearer" = [])), params(("id" = i64, Path, description = "The credit listing")), request_body(content = UploadForm, content_type = "multipart/form-data"), responses((status = 201, body = FileView), (status = 400, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem)))]
#[post("/evidence/credit_evidence/{id}")]
pub async fn add_credit_evidence(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: Authed<BureauOrAdmin>,
    id: web::Path<i64>,
    payload: web::Payload,
) -> Result<HttpResponse, AppError> {
    let (u, id) = (user.user.clone(), id.into_inner());
    add_evidence(state, req, u, files::Purpose::CreditEvidence, id, payload).await
}

/// The credit listing's evidence file, for the bureau, finance, administrators and its organisation (404 otherwise).
#[utoipa::path(tag = "files", security(("bearer" = [])), params(("id" = i64, Path, description = "The credit listing")), responses((status = 200, body = Vec<FileView>), (status = 404, body = Problem), (status = 401, body = Problem)))]
#[get("/evidence/credit_evidence/{id}")]
pub async fn list_credit_evidence(
    state: web::Data<AppState>,
    user: Authed,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let (u, id) = (user.user.clone(), id.into_inner());
    evidence_files(state, u, files::Purpose::CreditEvidence, id).await
}

/// Download a file: with `Range: bytes=a-b` a part of it (206), with `If-None-Match` its `ETag` (304).
/// Who may read it depends on what it is for (a published tender's documents: anyone); 404 otherwise.
#[utoipa::path(tag = "files", params(("id" = i64, Path)), responses((status = 200, description = "The file, in the media type of its kind (judged by its content at upload)", content((Vec<u8> = "application/pdf"), (Vec<u8> = "image/jpeg"), (Vec<u8> = "image/png"), (Vec<u8> = "application/ofd"), (Vec<u8> = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"), (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")), headers(("ETag" = String, description = "The file's SHA-256"), ("Content-Disposition" = String))), (status = 206, description = "The range asked for", content((Vec<u8> = "application/pdf"), (Vec<u8> = "image/jpeg"), (Vec<u8> = "image/png"), (Vec<u8> = "application/ofd"), (Vec<u8> = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"), (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))), (status = 304, description = "Unchanged"), (status = 404, body = Problem), (status = 416, description = "The range lies outside the file")))]
#[get("/files/{id}")]
pub async fn download(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    crate::http::files::serve(&req, &state, id.into_inner()).await
}

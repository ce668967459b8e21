//! Files over the API (src/files): a draft tender's documents uploaded as `multipart/form-data` (the file
//! in the field `file`), listed, and downloaded with ranges and an `ETag`.

use actix_web::{HttpRequest, HttpResponse, get, post, web};

use crate::app::AppState;
use crate::error::{AppError, Problem};
use crate::files::{self, FileView};
use crate::http::caller::{Authed, BureauOrAdmin};

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(upload_tender_document)
        .service(publish_amendment)
        .service(tender_documents)
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
    let row = state
        .run(move |c| files::add_tender_document(c, &actor, now, &up, id, uid))
        .await?;
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
    let row = state
        .run_tenders(move |c, ctx, now| {
            crate::tenders::clarify(c, ctx, &actor, uid, now, id, &note, &up)
        })
        .await?;
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

/// Download a file: with `Range: bytes=a-b` a part of it (206), with `If-None-Match` its `ETag` (304).
/// Who may read it depends on what it is for (a published tender's documents: anyone); 404 otherwise.
#[utoipa::path(tag = "files", params(("id" = i64, Path)), responses((status = 200, content_type = "application/octet-stream", body = Vec<u8>, headers(("ETag" = String, description = "The file's SHA-256"), ("Content-Disposition" = String))), (status = 206, description = "The range asked for"), (status = 304, description = "Unchanged"), (status = 404, body = Problem), (status = 416, description = "The range lies outside the file")))]
#[get("/files/{id}")]
pub async fn download(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    crate::http::files::serve(&req, &state, id.into_inner()).await
}

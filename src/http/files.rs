//! Uploads and downloads over HTTP, shared by the API and the pages: a `multipart/form-data` body read
//! field by field with the file streamed into the store, and a stored file sent back as a stream with
//! `Content-Disposition` (UTF-8 name), `ETag` (its SHA-256) and single byte ranges.

use actix_web::http::header::{self, ContentDisposition, DispositionParam, DispositionType};
use actix_web::http::{StatusCode, header::HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};
use futures_util::StreamExt;
use sha2::{Digest, Sha256};

use crate::error::AppError;
use crate::files::{FileRow, Pending, Received, Store};
use crate::http::page::{Form, PageError};
use crate::tenders::bids;

/// Longest text field read before the file (a CSRF token, a note, a record as JSON).
const TEXT_FIELD_MAX: usize = 64 * 1024;

fn unreadable(e: impl std::fmt::Display) -> AppError {
    AppError::bad_request(
        "invalid_multipart",
        format!("上传内容无法读取（须为 multipart/form-data，文件字段名为 file）：{e}"),
        format!(
            "The upload could not be read (multipart/form-data with the file in the field \"file\"): {e}"
        ),
    )
}

/// Read a `multipart/form-data` body: text fields first, then the field `file`, streamed into the store
/// (at most `max` bytes); fields after the file are not read. `before_file` sees the text fields before
/// any byte of the file is taken, and may refuse it (the pages check their CSRF token there, and every
/// caller whether the record takes files), so a refused upload stores nothing. The file waits for its
/// record ([`crate::files::Pending`]).
pub async fn receive<F, Fut>(
    req: &HttpRequest,
    payload: web::Payload,
    store: &Store,
    max: u64,
    before_file: F,
) -> Result<Pending, AppError>
where
    F: FnOnce(Vec<(String, String)>) -> Fut,
    Fut: std::future::Future<Output = Result<(), AppError>>,
{
    read_upload(req, payload, store, max, before_file)
        .await?
        .file
        .ok_or_else(no_file)
}

/// A page's form sent as `multipart/form-data` (or plainly, with no file in it): its fields, and the file
/// in the field `file` if one was chosen, waiting for its record. The CSRF token (sent before the file)
/// and `check` are passed before a byte of the file is taken, and a control character in a field is
/// refused as on any page form. A bad token is the error page; any other refusal comes back to be shown
/// at the form, with the fields sent.
pub async fn page_form<F, Fut>(
    req: &HttpRequest,
    payload: actix_web::dev::Payload,
    store: &Store,
    check: F,
) -> Result<(Form, Result<Option<Pending>, AppError>), PageError>
where
    F: FnOnce(Vec<(String, String)>) -> Fut,
    Fut: std::future::Future<Output = Result<(), AppError>>,
{
    use actix_web::HttpMessage;
    let lang = crate::i18n::Lang::from_request(req);
    if req.content_type() != "multipart/form-data" {
        let form = crate::http::page::read_form(req, payload).await?;
        let checked = check(form.pairs().to_vec()).await.map(|()| None);
        return Ok((form, checked));
    }
    let got = read_upload(
        req,
        payload,
        store,
        store.settings.file_max,
        |fields| async move {
            crate::http::csrf::check(req, &field(&fields, "csrf"))?;
            let errs = crate::http::input::form_errors(&fields);
            if !errs.is_empty() {
                return Err(AppError::Validation(errs));
            }
            check(fields).await
        },
    )
    .await;
    match got {
        Ok(up) => Ok((Form::new(up.fields), Ok(up.file))),
        Err(r) if r.error.code() == "csrf_failed" => Err(PageError::App(r.error, lang)),
        Err(r) => Ok((Form::new(r.fields), Err(r.error))),
    }
}

/// A page form that may carry a file in the field `file`, as an extractor ([`page_form`] with no check of
/// its own): the fields, and the file waiting for its record, or why it was refused.
pub struct FormWithFile {
    pub form: Form,
    pub file: Result<Option<Pending>, AppError>,
}

impl actix_web::FromRequest for FormWithFile {
    type Error = PageError;
    type Future = futures_util::future::LocalBoxFuture<'static, Result<Self, PageError>>;

    fn from_request(req: &HttpRequest, payload: &mut actix_web::dev::Payload) -> Self::Future {
        let req = req.clone();
        let payload = payload.take();
        Box::pin(async move {
            let state = req
                .app_data::<web::Data<crate::app::AppState>>()
                .cloned()
                .ok_or_else(|| {
                    let e = AppError::internal("no application state");
                    PageError::App(e, crate::i18n::Lang::from_request(&req))
                })?;
            let (form, file) = page_form(&req, payload, &state.files, |_| async { Ok(()) }).await?;
            Ok(FormWithFile { form, file })
        })
    }
}

/// Write a record that may come with its evidence file (`file`, waiting in the store): `write` gets the
/// hash the record declares (the file's, or what was typed at `field`) and the evidence to link in its
/// transaction ([`crate::files::evidence::written_with`]); the file is kept when the record is written and
/// deleted when it is refused.
pub async fn with_evidence<T, W, Fut>(
    store: &Store,
    file: Option<Pending>,
    purpose: crate::files::Purpose,
    uploaded_by: i64,
    (field, typed): (&str, &str),
    write: W,
) -> Result<T, AppError>
where
    W: FnOnce(String, Option<crate::files::evidence::Evidence>) -> Fut,
    Fut: std::future::Future<Output = Result<T, AppError>>,
{
    use crate::files::evidence;
    let f = file.as_ref().map(|p| p.file.clone());
    let outcome = match evidence::declared(field, typed, f.as_ref()) {
        Ok(hash) => {
            let ev = f.map(|file| evidence::Evidence {
                purpose,
                file,
                uploaded_by,
            });
            write(hash, ev).await
        }
        Err(e) => Err(e),
    };
    store.settle(file, outcome).await
}

/// The refusal of an upload without its file.
pub fn no_file() -> AppError {
    AppError::field(
        "file",
        "required",
        "请选择要上传的文件。",
        "Choose a file to upload.",
    )
}

/// A `multipart/form-data` body read: its text fields and the file in the field `file`, if one was sent.
#[derive(Debug)]
pub struct Upload {
    pub fields: Vec<(String, String)>,
    pub file: Option<Pending>,
}

/// [`receive`] where the file may be left out (a form's optional file, or a file part with no name and no
/// bytes: what a browser sends when none was chosen); `before_file` then sees every field. A refusal comes
/// with the text fields read so far, so a form shown again keeps what was typed.
pub async fn read_upload<F, Fut, S>(
    req: &HttpRequest,
    payload: S,
    store: &Store,
    max: u64,
    before_file: F,
) -> Result<Upload, Refused>
where
    S: futures_util::Stream<Item = Result<web::Bytes, actix_web::error::PayloadError>> + 'static,
    F: FnOnce(Vec<(String, String)>) -> Fut,
    Fut: std::future::Future<Output = Result<(), AppError>>,
{
    let mut fields = Vec::new();
    let mut before_file = Some(before_file);
    let outcome: Result<Option<Pending>, AppError> = async {
        let mut mp = actix_multipart::Multipart::new(req.headers(), payload);
        while let Some(field) = mp.next().await {
            let mut field = field.map_err(unreadable)?;
            let name = field.name().unwrap_or_default().to_string();
            if name != "file" {
                let text = read_text(&name, &mut field, TEXT_FIELD_MAX).await?;
                fields.push((name, text));
                continue;
            }
            if let Some(check) = before_file.take() {
                check(fields.clone()).await?;
            }
            let file_name = field
                .content_disposition()
                .and_then(|d| d.get_filename())
                .unwrap_or_default()
                .to_string();
            if !file_name.is_empty() {
                return store
                    .receive("file", &file_name, &mut field, max)
                    .await
                    .map(Some);
            }
            // No name: no file chosen when it holds no bytes either, else refused for its name.
            let Some(first) = field.next().await else {
                return Ok(None);
            };
            let first = futures_util::future::ready(first);
            let pieces = futures_util::stream::once(first).chain(&mut field);
            return store.receive("file", "", pieces, max).await.map(Some);
        }
        if let Some(check) = before_file.take() {
            check(fields.clone()).await?;
        }
        Ok(None)
    }
    .await;
    match outcome {
        Ok(file) => Ok(Upload { fields, file }),
        Err(error) => Err(Refused { error, fields }),
    }
}

/// An API body that is JSON, or `multipart/form-data` with the same JSON in the part `data` followed by a
/// file in the part `file` (the evidence a record comes with, which waits for the record).
pub async fn json_or_upload<T: serde::de::DeserializeOwned + 'static>(
    req: &HttpRequest,
    payload: web::Payload,
    store: &Store,
) -> Result<(T, Option<Pending>), actix_web::Error> {
    use actix_web::{FromRequest, HttpMessage};
    if req.content_type() != "multipart/form-data" {
        let body =
            crate::http::input::Json::<T>::from_request(req, &mut payload.into_inner()).await?;
        return Ok((body.0, None));
    }
    // The record is read before a byte of the file is taken: a bad one refuses the file unread.
    let mut data: Option<T> = None;
    let up = read_upload(req, payload, store, store.settings.file_max, |fields| {
        let read = match fields.iter().find(|(k, _)| k == "data") {
            Some((_, text)) => crate::http::input::from_text::<T>(text).map(|d| data = Some(d)),
            None => Err(AppError::field(
                "data",
                "required",
                "请在 data 部分以 JSON 提交内容，文件放在其后的 file 部分。",
                "Send the record as JSON in the part \"data\", then the file in the part \"file\".",
            )),
        };
        std::future::ready(read)
    })
    .await
    .map_err(AppError::from)?;
    let data = data.ok_or_else(|| AppError::internal("the record was read before the file"))?;
    Ok((data, up.file))
}

/// The value of the text field `name` ("" when absent).
pub fn field(fields: &[(String, String)], name: &str) -> String {
    fields
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.clone())
        .unwrap_or_default()
}

/// A text field of a multipart body, at most `max` bytes of UTF-8.
async fn read_text(
    name: &str,
    field: &mut actix_multipart::Field,
    max: usize,
) -> Result<String, AppError> {
    let mut text = Vec::new();
    while let Some(piece) = field.next().await {
        let piece = piece.map_err(unreadable)?;
        if text.len() + piece.len() > max {
            return Err(AppError::field(
                name,
                "too_long",
                format!("字段 {name} 过长。"),
                format!("The field {name} is too long."),
            ));
        }
        text.extend_from_slice(&piece);
    }
    String::from_utf8(text).map_err(unreadable)
}

/// Limits of a body with several sealed files.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Largest file, bytes.
    pub file: u64,
    /// Largest total of the files, bytes.
    pub total: u64,
    /// Largest text field, bytes.
    pub text: usize,
}

/// A `multipart/form-data` body of text fields and any number of files in the field `files`, each sealed
/// into the store for the record `binding` as it arrives ([`Store::receive_sealed`]): the text fields and
/// each file with its sealed object. `before_files` sees the text fields sent before the first file (or
/// all of them, when there is none) and may refuse before a byte of it is taken (the pages check their
/// CSRF token there). A part with no name
/// and no bytes (no file chosen) is passed over. On any refusal the files already sealed are deleted, so
/// a refused body keeps nothing; the refusal comes with the text fields read so far (a form shown again
/// keeps what was typed).
pub async fn receive_sealed_files<F, Fut>(
    req: &HttpRequest,
    payload: web::Payload,
    store: &Store,
    sealer: &crate::files::seal::FileSealer,
    binding: &str,
    limits: Limits,
    before_files: F,
) -> Result<(Vec<(String, String)>, Vec<(Received, String)>), Refused>
where
    F: FnOnce(Vec<(String, String)>) -> Fut,
    Fut: std::future::Future<Output = Result<(), AppError>>,
{
    let mut got: Vec<(Received, String)> = Vec::new();
    let mut fields = Vec::new();
    let outcome: Result<(), AppError> = async {
        let mut mp = actix_multipart::Multipart::new(req.headers(), payload);
        let mut before_files = Some(before_files);
        let mut total: u64 = 0;
        while let Some(field) = mp.next().await {
            let mut field = field.map_err(unreadable)?;
            let name = field.name().unwrap_or_default().to_string();
            if name != "files" {
                let text = read_text(&name, &mut field, limits.text).await?;
                fields.push((name, text));
                continue;
            }
            if let Some(check) = before_files.take() {
                check(fields.clone()).await?;
            }
            let file_name = field
                .content_disposition()
                .and_then(|d| d.get_filename())
                .unwrap_or_default()
                .to_string();
            if file_name.is_empty() {
                // The part a browser sends when no file was chosen; anything in it is read and dropped.
                while let Some(piece) = field.next().await {
                    piece.map_err(unreadable)?;
                }
                continue;
            }
            let left = limits.total.saturating_sub(total);
            let max = limits.file.min(left);
            let (r, object) = match store
                .receive_sealed("files", &file_name, &mut field, max, sealer, binding)
                .await
            {
                Err(AppError::Validation(v))
                    if max < limits.file && v.iter().any(|f| f.rule == "too_large") =>
                {
                    return Err(AppError::field(
                        "files",
                        "too_large",
                        format!("文件合计超过 {} MiB 的上限。", limits.total >> 20),
                        format!(
                            "The files together are larger than the limit of {} MiB.",
                            limits.total >> 20
                        ),
                    ));
                }
                r => r?,
            };
            total += r.size;
            got.push((r, object));
        }
        // A body without files is checked all the same.
        if let Some(check) = before_files.take() {
            check(fields.clone()).await?;
        }
        Ok(())
    }
    .await;
    match outcome {
        Ok(()) => Ok((fields, got)),
        Err(error) => {
            bids::discard(store, got.iter().map(|(_, o)| o.as_str())).await;
            Err(Refused { error, fields })
        }
    }
}

/// A refused multipart body: why, and the text fields read before it was refused.
#[derive(Debug)]
pub struct Refused {
    pub error: AppError,
    pub fields: Vec<(String, String)>,
}

impl From<Refused> for AppError {
    fn from(r: Refused) -> AppError {
        r.error
    }
}

/// The file `id` as the answer to `req`, if its caller may read it (404 otherwise): [`download`]. The
/// API and the pages answer with this one function.
pub async fn serve(
    req: &HttpRequest,
    state: &crate::app::AppState,
    id: i64,
) -> Result<HttpResponse, AppError> {
    let reader = crate::http::caller::caller(req).await.user().cloned();
    let (row, public) = state
        .run(move |c| crate::files::readable(c, reader.as_ref(), id))
        .await?;
    download(req, &state.files, &row, public).await
}

/// `filename*` in UTF-8 and an ASCII `filename` for old clients (non-ASCII characters as `_`).
fn disposition(name: &str) -> ContentDisposition {
    let ascii: String = name
        .chars()
        .map(|c| if c.is_ascii() && c != '"' { c } else { '_' })
        .collect();
    ContentDisposition {
        disposition: DispositionType::Attachment,
        parameters: vec![
            DispositionParam::Filename(ascii),
            DispositionParam::FilenameExt(header::ExtendedValue {
                charset: header::Charset::Ext("UTF-8".into()),
                language_tag: None,
                value: name.as_bytes().to_vec(),
            }),
        ],
    }
}

/// A stored file as the answer to `req`: 304 when the caller holds this version, 206 for one satisfiable
/// byte range, 416 for an unsatisfiable one, else 200 with the whole file. A whole file is hashed as it is
/// sent; bytes that do not match their hash break the response off (the client sees it cut short of its
/// `Content-Length`) and are logged, so altered bytes are never delivered as the file.
pub async fn download(
    req: &HttpRequest,
    store: &Store,
    row: &FileRow,
    public: bool,
) -> Result<HttpResponse, AppError> {
    let etag = format!("\"{}\"", row.sha256);
    let size = row.size as u64;
    let cache = if public {
        "public, max-age=300"
    } else {
        "private, no-store"
    };
    let res = |status: StatusCode| {
        let mut b = HttpResponse::build(status);
        b.insert_header((header::ETAG, etag.clone()))
            .insert_header((header::ACCEPT_RANGES, "bytes"))
            .insert_header((header::CACHE_CONTROL, cache));
        b
    };
    let held = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
    if held {
        return Ok(res(StatusCode::NOT_MODIFIED).finish());
    }
    let range = req
        .headers()
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok());
    let range = match range.map(|r| actix_files::HttpRange::parse(r, size)) {
        None => None,
        Some(Ok(rs)) if rs.len() == 1 => Some(rs[0].start..rs[0].start + rs[0].length),
        // Several ranges: the whole file (a server may ignore Range, RFC 9110 §14.2).
        Some(Ok(_)) => None,
        Some(Err(_)) => {
            return Ok(res(StatusCode::RANGE_NOT_SATISFIABLE)
                .insert_header((header::CONTENT_RANGE, format!("bytes */{size}")))
                .finish());
        }
    };
    let media = HeaderValue::from_static(row.kind().media_type());
    let stream = store.read(&row.sha256, range.clone()).await?;
    Ok(match range {
        Some(r) => res(StatusCode::PARTIAL_CONTENT)
            .insert_header((header::CONTENT_TYPE, media))
            .insert_header(disposition(&row.name))
            .insert_header((
                header::CONTENT_RANGE,
                format!("bytes {}-{}/{size}", r.start, r.end - 1),
            ))
            .no_chunking(r.end - r.start)
            .streaming(stream.map(|p| p.map_err(actix_web::error::ErrorInternalServerError))),
        None => {
            // The last piece is held back until the whole file has matched its hash.
            let want = row.sha256.clone();
            let checked = futures_util::stream::unfold(
                (stream, Sha256::new(), None::<web::Bytes>, false),
                move |(mut s, mut h, held, done)| {
                    let want = want.clone();
                    async move {
                        if done {
                            return None;
                        }
                        let mut held = held;
                        loop {
                            match s.next().await {
                                Some(Ok(p)) => {
                                    h.update(&p);
                                    if let Some(prev) = held.replace(p) {
                                        return Some((Ok(prev), (s, h, held, false)));
                                    }
                                }
                                Some(Err(e)) => {
                                    let e = actix_web::error::ErrorInternalServerError(e);
                                    return Some((Err(e), (s, h, None, true)));
                                }
                                None if hex::encode(h.clone().finalize()) == want => {
                                    return held.map(|p| (Ok(p), (s, h, None, true)));
                                }
                                None => {
                                    tracing::error!(sha256 = %want, "a stored file does not match its hash; run sanshe verify");
                                    let e = actix_web::error::ErrorInternalServerError(
                                        "stored file altered",
                                    );
                                    return Some((Err(e), (s, h, None, true)));
                                }
                            }
                        }
                    }
                },
            );
            res(StatusCode::OK)
                .insert_header((header::CONTENT_TYPE, media))
                .insert_header(disposition(&row.name))
                .no_chunking(size)
                .streaming(checked)
        }
    })
}

/// A bid's `multipart/form-data` body: its text fields and its files (field `files`), each sealed as it
/// arrives for the organisation's bid on the tender (`bids::binding`), within the per-file and per-bid
/// limits. Before the first file's bytes are taken: `check` on the text fields so far (the page's CSRF
/// token), then whether the organisation may bid on the tender now, so a closed tender or a refused
/// bidder costs no upload.
pub async fn receive_bid(
    req: &HttpRequest,
    payload: web::Payload,
    state: &crate::app::AppState,
    org: i64,
    tender: i64,
    check: impl FnOnce(&[(String, String)]) -> Result<(), AppError>,
) -> Result<(Vec<(String, String)>, Vec<bids::SealedUpload>), Refused> {
    let settings = &state.files.settings;
    let limits = Limits {
        file: settings.file_max,
        total: settings.bid_max,
        // A bid's fields as JSON, or the page's plan of 20,000 characters.
        text: 256 * 1024,
    };
    let (fields, got) = receive_sealed_files(
        req,
        payload,
        &state.files,
        &state.tenders.file_sealer,
        &bids::binding(tender, org),
        limits,
        |fields| async move {
            check(&fields)?;
            state
                .run_tenders(move |c, ctx, now| bids::may_bid(c, ctx, now, org, tender).map(|_| ()))
                .await
        },
    )
    .await?;
    let uploads = got
        .into_iter()
        .map(|(r, object)| bids::SealedUpload {
            meta: bids::AttachmentMeta {
                name: r.name,
                size: r.size as usize,
                sha256: r.sha256,
            },
            object,
        })
        .collect();
    Ok((fields, uploads))
}

/// Submit a bid with its uploaded files (`bids::submit_with_files`), the one path of the API and the
/// page. Uploads the bid did not take (a refusal, or a retry answered with its first receipt) are
/// deleted. Small JSON attachments the bid carries are moved from its sealed content into the file store
/// after the answer, so the receipt waits for nothing but the bid (a failure there is logged, and the
/// move is tried again at the next start).
pub async fn submit_bid(
    state: &crate::app::AppState,
    actor: crate::audit::Actor,
    (user, org, tender): (i64, i64, i64),
    input: bids::BidInput,
    uploads: Vec<bids::SealedUpload>,
) -> Result<bids::Receipt, AppError> {
    let clock = state.clock.clone();
    let sent = uploads.clone();
    // Only these can leave a file inside the bid: spare every other bid the extra round.
    let inline = !input.attachments.is_empty() || !input.keep_files.is_empty();
    let outcome = state
        .run_tenders(move |c, ctx, _| {
            let bid = bids::Bid {
                input: &input,
                uploaded: &sent,
            };
            bids::submit_with_files(c, ctx, &actor, user, org, clock.as_ref(), tender, bid)
        })
        .await;
    let taken = matches!(outcome, Ok((_, true)));
    if !taken {
        bids::discard(&state.files, uploads.iter().map(|u| u.object.as_str())).await;
    }
    let (receipt, _) = outcome?;
    if taken && inline {
        let (pool, ctx, store, seq) = (
            state.pool.clone(),
            state.tenders.clone(),
            state.files.clone(),
            receipt.seq,
        );
        actix_web::rt::spawn(async move {
            if let Err(e) = bids::move_inline(&pool, &ctx, &store, seq).await {
                tracing::error!(
                    seq,
                    "a bid's attachments stay inline until the next start: {e}"
                );
            }
        });
    }
    Ok(receipt)
}

/// A bid's attachment as the answer to a download: streamed and opened from the file store, or from the
/// bid itself while it is still there. Never cached.
pub async fn bid_attachment(
    state: &crate::app::AppState,
    meta: bids::AttachmentMeta,
    body: bids::Body,
) -> Result<HttpResponse, AppError> {
    match body {
        bids::Body::Inline(bytes) => Ok(crate::http::download(&meta.name, bytes)),
        bids::Body::Sealed { object, binding } => {
            let s = state
                .files
                .read_sealed(&object, &state.tenders.file_sealer, &binding)
                .await?;
            Ok(HttpResponse::Ok()
                .content_type("application/octet-stream")
                .insert_header((header::CACHE_CONTROL, "no-store"))
                .insert_header((header::CONTENT_DISPOSITION, disposition(&meta.name)))
                .insert_header((header::ETAG, format!("\"{}\"", meta.sha256)))
                .no_chunking(meta.size as u64)
                .streaming(s))
        }
    }
}

/// What a clarification must have before its file is taken: a note (plain text), and a tender open for
/// bids. The API and the page check it alike.
pub async fn clarification_first(
    state: &crate::app::AppState,
    now: chrono::DateTime<chrono::Utc>,
    id: i64,
    fields: Vec<(String, String)>,
) -> Result<(), AppError> {
    let errs = crate::http::input::form_errors(&fields);
    if !errs.is_empty() {
        return Err(AppError::Validation(errs));
    }
    if crate::http::files::field(&fields, "note").trim().is_empty() {
        return Err(AppError::field(
            "note",
            "required",
            "请说明澄清或修改的内容。",
            "Say what is clarified or changed.",
        ));
    }
    state
        .run(move |c| crate::tenders::may_clarify(c, now, id))
        .await
}

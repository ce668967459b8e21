//! Uploads and downloads over HTTP, shared by the API and the pages: a `multipart/form-data` body read
//! field by field with the file streamed into the store, and a stored file sent back as a stream with
//! `Content-Disposition` (UTF-8 name), `ETag` (its SHA-256) and single byte ranges.

use actix_web::http::header::{self, ContentDisposition, DispositionParam, DispositionType};
use actix_web::http::{StatusCode, header::HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};
use futures_util::StreamExt;
use sha2::{Digest, Sha256};

use crate::error::AppError;
use crate::files::{FileRow, Received, Store};

/// Longest text field read before the file (a CSRF token, a note).
const TEXT_FIELD_MAX: usize = 4096;

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
/// caller whether the record takes files), so a refused upload stores nothing.
pub async fn receive<F, Fut>(
    req: &HttpRequest,
    payload: web::Payload,
    store: &Store,
    max: u64,
    before_file: F,
) -> Result<Received, AppError>
where
    F: FnOnce(Vec<(String, String)>) -> Fut,
    Fut: std::future::Future<Output = Result<(), AppError>>,
{
    let mut mp = actix_multipart::Multipart::new(req.headers(), payload);
    let mut fields = Vec::new();
    let mut before_file = Some(before_file);
    while let Some(field) = mp.next().await {
        let mut field = field.map_err(unreadable)?;
        let name = field.name().unwrap_or_default().to_string();
        if name == "file" {
            if let Some(check) = before_file.take() {
                check(fields.clone()).await?;
            }
            let file_name = field
                .content_disposition()
                .and_then(|d| d.get_filename())
                .unwrap_or_default()
                .to_string();
            return store.receive("file", &file_name, &mut field, max).await;
        }
        let mut text = Vec::new();
        while let Some(piece) = field.next().await {
            let piece = piece.map_err(unreadable)?;
            if text.len() + piece.len() > TEXT_FIELD_MAX {
                return Err(AppError::field(
                    &name,
                    "too_long",
                    format!("字段 {name} 过长。"),
                    format!("The field {name} is too long."),
                ));
            }
            text.extend_from_slice(&piece);
        }
        let text = String::from_utf8(text).map_err(unreadable)?;
        fields.push((name, text));
    }
    Err(AppError::field(
        "file",
        "required",
        "请选择要上传的文件。",
        "Choose a file to upload.",
    ))
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

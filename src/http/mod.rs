//! The HTTP layer shared by the JSON API (`api`) and the server-rendered pages (`pages`): the request
//! middleware (request id, log line, security headers, CSRF cookie, refusing control characters in the
//! path and query), who is calling (`caller`), CSRF (`csrf`), input no handler sees (`input`: control
//! characters in JSON bodies, forms, queries and paths), paging of lists (`paging`) and what every page
//! needs (`page`: layout context, flash, forms, errors as pages). `api` and `pages` are siblings on top of
//! it; neither calls the other, and nothing below (services, `domain`, `db`) names anything here.

pub mod caller;
pub mod csrf;
pub mod files;
pub mod input;
pub mod page;
pub mod session;

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{Method, header};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, HttpRequest, web};

use crate::auth::CurrentUser;

/// The request id given to every request (also sent back as `X-Request-Id`).
#[derive(Clone, Debug)]
pub struct RequestId(pub String);

pub fn request_id(req: &HttpRequest) -> Option<String> {
    req.extensions().get::<RequestId>().map(|r| r.0.clone())
}

/// The audit actor for a signed-in user in this request.
pub fn actor(req: &HttpRequest, u: &CurrentUser) -> crate::audit::Actor {
    crate::audit::Actor {
        id: Some(u.id),
        name: u.username.clone(),
        request_id: request_id(req),
    }
}

/// The version a write expects, from `If-Match` (`crate::version`): `None` when absent or `*`.
#[derive(Clone, Debug, Default)]
pub struct IfMatch(pub Option<String>);

impl actix_web::FromRequest for IfMatch {
    type Error = actix_web::Error;
    type Future = std::future::Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let raw = req
            .headers()
            .get(header::IF_MATCH)
            .and_then(|v| v.to_str().ok());
        std::future::ready(Ok(IfMatch(crate::version::parse(raw))))
    }
}

/// A JSON answer for an editable record, with its version as the `ETag`.
pub fn versioned<T: serde::Serialize>(
    mut res: actix_web::HttpResponseBuilder,
    body: &T,
    version: &str,
) -> actix_web::HttpResponse {
    res.insert_header((header::ETAG, crate::version::etag(version)))
        .json(body)
}

/// A file download: `Content-Disposition` with an ASCII fallback name and the UTF-8 name (RFC 6266, RFC
/// 8187), never cached; the one place file names are encoded.
pub fn download(name: &str, body: Vec<u8>) -> actix_web::HttpResponse {
    let ascii: String = name
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
        .collect();
    let ascii = if ascii.trim_matches('.').is_empty() {
        "attachment".to_string()
    } else {
        ascii
    };
    let utf8: String = url::form_urlencoded::byte_serialize(name.as_bytes())
        .collect::<String>()
        .replace('+', "%20");
    actix_web::HttpResponse::Ok()
        .content_type("application/octet-stream")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{utf8}"),
        ))
        .body(body)
}

/// One log line per request; request id; CSRF cookie for browsers; security headers; `HEAD` answered as
/// the `GET` of the same path.
pub async fn middleware(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody + 'static>, actix_web::Error> {
    let started = Instant::now();
    let id = uuid::Uuid::new_v4().simple().to_string();
    req.extensions_mut().insert(RequestId(id.clone()));
    let method = req.method().clone();
    // Monitoring and link checkers ask with HEAD (RFC 9110 §9.3.2: the same answer as GET, without the
    // content). Routing it as GET serves every GET route, pages and API, from one place; the HTTP codec
    // still knows the request was HEAD and sends no body.
    if method == Method::HEAD {
        req.head_mut().method = Method::GET;
    }
    let path = req.path().to_string();
    let is_page = !path.starts_with("/api/")
        && !path.starts_with("/static/")
        && !path.starts_with("/healthz")
        && !path.starts_with("/readyz");
    // A control character in the path or the query string is refused before routing (`input`): as
    // problem+json on the API, as an error page elsewhere.
    let refused = input::request_line(req.path(), req.query_string()).map(|e| {
        use actix_web::ResponseError;
        if path.starts_with("/api/") {
            e.error_response()
        } else {
            page::PageError::App(e, crate::i18n::Lang::from_request(req.request())).error_response()
        }
    });
    // A documented path (the API, the health checks) asked with a method it does not take: 405 with
    // `Allow`, before routing (which might take `/communities/export` for `/communities/{id}`).
    let documented = path.starts_with("/api/") || path == "/healthz" || path == "/readyz";
    let refused = refused.or_else(|| {
        // Pages and static files are not in the document: no need to look.
        if !documented {
            return None;
        }
        // HEAD is routed as GET (above), so it is judged as GET.
        req.app_data::<web::Data<Methods>>()
            .and_then(|m| m.refuse(req.method().as_str(), &path))
    });
    let new_csrf = if is_page && req.cookie(csrf::COOKIE).is_none() {
        let t = csrf::new_token();
        req.extensions_mut().insert(csrf::CsrfToken(t.clone()));
        Some(t)
    } else {
        None
    };
    // Resolve the caller before the handler's extractors run (see `auth::caller`). Static files and health
    // checks never need it.
    if refused.is_none()
        && !path.starts_with("/static/")
        && path != "/healthz"
        && path != "/readyz"
        && !path.starts_with("/api/docs")
    {
        let caller = crate::http::caller::resolve(req.request()).await;
        req.extensions_mut().insert(caller);
    }
    let secure = req
        .app_data::<web::Data<crate::app::AppState>>()
        .map(|s| s.config.cookie_secure)
        .unwrap_or(false);
    let mut res = match refused {
        Some(r) => req.into_response(r).map_into_right_body(),
        None => next.call(req).await?.map_into_left_body(),
    };
    if let Some(page) = page::signed_in_error_page(&res).await {
        res = res.into_response(page).map_into_right_body();
    }
    if let Some(t) = new_csrf {
        let _ = res.response_mut().add_cookie(&csrf::cookie(&t, secure));
    }
    let h = res.headers_mut();
    h.insert(
        header::HeaderName::from_static("x-request-id"),
        header::HeaderValue::from_str(&id).expect("hex id"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        header::HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        header::HeaderValue::from_static("same-origin"),
    );
    // API answers carry personal data (contacts, phones, bids) or the caller's own view of the data; no
    // shared cache or browser history may keep them. A handler that knows better sets its own header.
    if path.starts_with("/api/") && !h.contains_key(header::CACHE_CONTROL) {
        h.insert(
            header::CACHE_CONTROL,
            header::HeaderValue::from_static("no-store"),
        );
    }
    h.insert(
        header::X_FRAME_OPTIONS,
        header::HeaderValue::from_static("DENY"),
    );
    // The API browser (Swagger UI, served from our own files) sets inline styles; nothing else needs them,
    // and no page runs an inline script.
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        header::HeaderValue::from_static(if path.starts_with("/api/docs") {
            "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; form-action 'self'"
        } else {
            "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'"
        }),
    );
    let status = res.status().as_u16();
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    // Path only: query strings may carry search terms with personal data.
    tracing::info!(target: "sanshe::http", request_id = %id, method = %method, path = %path, status, latency_ms = format!("{ms:.1}"), "request");
    Ok(res)
}

/// The methods each documented API path answers, so a request with another method gets 405 with `Allow`
/// (not a 404 that says the path does not exist).
#[derive(Clone, Debug, Default)]
pub struct Methods(Vec<(Vec<String>, Vec<String>)>);

impl Methods {
    pub fn of(doc: &utoipa::openapi::OpenApi) -> Methods {
        let mut out = Vec::new();
        for (path, item) in doc.paths.paths.iter() {
            let segments = path.split('/').map(str::to_string).collect();
            let mut methods = Vec::new();
            for (m, op) in [
                ("GET", &item.get),
                ("POST", &item.post),
                ("PUT", &item.put),
                ("PATCH", &item.patch),
                ("DELETE", &item.delete),
            ] {
                if op.is_some() {
                    methods.push(m.to_string());
                }
            }
            out.push((segments, methods));
        }
        Methods(out)
    }

    /// The `Allow` value for a path some documented operation has, if any. A template with more literal
    /// segments wins (`/communities/export` is not `/communities/{id}`).
    pub fn allowed(&self, path: &str) -> Option<String> {
        let parts: Vec<&str> = path.split('/').collect();
        let mut best = 0;
        let mut allow: Vec<&str> = Vec::new();
        for (segments, methods) in &self.0 {
            let matches = segments.len() == parts.len()
                && segments
                    .iter()
                    .zip(&parts)
                    .all(|(s, p)| (s.starts_with('{') && !p.is_empty()) || s == p);
            if !matches {
                continue;
            }
            let literal = segments.iter().filter(|s| !s.starts_with('{')).count();
            if literal > best {
                best = literal;
                allow.clear();
            }
            if literal == best {
                allow.extend(methods.iter().map(String::as_str));
            }
        }
        allow.sort();
        allow.dedup();
        (!allow.is_empty()).then(|| allow.join(", "))
    }

    /// The 405 answer for a method `path` does not take, when it is a documented path.
    pub fn refuse(&self, method: &str, path: &str) -> Option<actix_web::HttpResponse> {
        let allow = self.allowed(path)?;
        if allow.split(", ").any(|m| m == method) {
            return None;
        }
        use actix_web::ResponseError;
        let mut r = crate::error::AppError::BadRequest {
            code: "method_not_allowed",
            msg: crate::error::Msg::new(
                format!("此地址不接受该方法；可用：{allow}。"),
                format!("This address does not take that method; it takes {allow}."),
            ),
            status: actix_web::http::StatusCode::METHOD_NOT_ALLOWED,
        }
        .error_response();
        if let Ok(v) = header::HeaderValue::from_str(&allow) {
            r.headers_mut().insert(header::ALLOW, v);
        }
        Some(r)
    }
}

//! One error type for the API, rendered as `application/problem+json` (RFC 9457).
//!
//! Which variant to use:
//! - `Validation` for bad input, with one `FieldError` per offending field and rule;
//! - `Unauthorized` (401) when the caller is not signed in or the token is not acceptable, `Forbidden` (403)
//!   when the role is wrong, `NotFound` (404), `Conflict` (409) for a state that forbids the action,
//!   `TooManyRequests` (429) for throttling, `Limited` (429) for a used-up quota that names its rule,
//!   `BadRequest` for malformed requests that are not field rules;
//! - `Internal` for everything unexpected: its message is logged, never sent (the body is a fixed text).
//!
//! Every message the client sees comes in Chinese and English.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;

/// A message in both languages of the UI.
#[derive(Clone, Debug, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct Msg {
    #[serde(rename = "zh-CN")]
    pub zh: String,
    pub en: String,
}

impl Msg {
    pub fn new(zh: impl Into<String>, en: impl Into<String>) -> Msg {
        Msg {
            zh: zh.into(),
            en: en.into(),
        }
    }
}

/// One violated rule on one field.
#[derive(Clone, Debug, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct FieldError {
    /// The field, as named in the request (`password`, `items[2].amount`).
    pub field: String,
    /// A stable rule name (`required`, `min_length`, `format`, `unique`, …).
    pub rule: String,
    pub message: Msg,
}

impl FieldError {
    pub fn new(
        field: &str,
        rule: &str,
        zh: impl Into<String>,
        en: impl Into<String>,
    ) -> FieldError {
        FieldError {
            field: field.into(),
            rule: rule.into(),
            message: Msg::new(zh, en),
        }
    }
}

/// A text that must be given, of at most `max` characters (counted as characters, not bytes): the text
/// trimmed, or one error under rule `required` whose message says what to give (`zh`, `en`). Used wherever a
/// step needs a reason, grounds or an answer, so the test is written once.
pub fn required_text<'a>(
    field: &str,
    value: &'a str,
    max: usize,
    zh: impl Into<String>,
    en: impl Into<String>,
) -> Result<&'a str, FieldError> {
    let t = value.trim();
    if t.is_empty() || t.chars().count() > max {
        Err(FieldError::new(field, "required", zh, en))
    } else {
        Ok(t)
    }
}

/// A required reason of at most `max` characters ([`required_text`] with the usual message).
pub fn reason<'a>(field: &str, value: &'a str, max: usize) -> Result<&'a str, FieldError> {
    required_text(
        field,
        value,
        max,
        format!("请说明理由（最多 {max} 字）。"),
        format!("Give a reason (at most {max} characters)."),
    )
}

impl From<FieldError> for AppError {
    fn from(e: FieldError) -> Self {
        AppError::Validation(vec![e])
    }
}

/// The problem+json body.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Problem {
    #[serde(rename = "type")]
    pub type_: String,
    pub title: String,
    pub status: u16,
    pub code: String,
    pub detail: String,
    pub message: Msg,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// 412 `stale_version`: the record's current version (send it as `If-Match` to overwrite knowingly).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// 412 `stale_version`: the record's current values.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub current: Option<serde_json::Value>,
}

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("validation failed: {0:?}")]
    Validation(Vec<FieldError>),
    #[error("unauthorized: {0}")]
    Unauthorized(&'static str),
    #[error("forbidden")]
    Forbidden,
    #[error("not found")]
    NotFound,
    #[error("conflict {code}: {}", msg.en)]
    Conflict { code: &'static str, msg: Msg },
    #[error("bad request {code}: {}", msg.en)]
    BadRequest {
        code: &'static str,
        msg: Msg,
        status: StatusCode,
    },
    /// A write carried a version (`If-Match`, or the form's hidden field) that is no longer the current one:
    /// someone else changed the record since it was read. `current` is what is there now.
    #[error("stale version; current is {version}")]
    Stale {
        version: String,
        current: serde_json::Value,
    },
    #[error("too many requests, retry after {retry_after}s")]
    TooManyRequests { retry_after: u64 },
    /// A quota of the caller is used up (429, `Retry-After`); `code` names the rule, `msg` says it.
    #[error("limit {code}: {}", msg.en)]
    Limited {
        code: &'static str,
        msg: Msg,
        retry_after: u64,
    },
    #[error("internal error: {0}")]
    Internal(String),
}

impl AppError {
    pub fn internal(msg: impl Into<String>) -> AppError {
        AppError::Internal(msg.into())
    }

    pub fn field(
        field: &str,
        rule: &str,
        zh: impl Into<String>,
        en: impl Into<String>,
    ) -> AppError {
        AppError::Validation(vec![FieldError::new(field, rule, zh, en)])
    }

    pub fn bad_request(
        code: &'static str,
        zh: impl Into<String>,
        en: impl Into<String>,
    ) -> AppError {
        AppError::BadRequest {
            code,
            msg: Msg::new(zh, en),
            status: StatusCode::BAD_REQUEST,
        }
    }

    /// 403 naming the rule that forbids this caller the step (e.g. `separation_of_duties`).
    pub fn forbidden_rule(
        code: &'static str,
        zh: impl Into<String>,
        en: impl Into<String>,
    ) -> AppError {
        AppError::BadRequest {
            code,
            msg: Msg::new(zh, en),
            status: StatusCode::FORBIDDEN,
        }
    }

    pub fn conflict(code: &'static str, zh: impl Into<String>, en: impl Into<String>) -> AppError {
        AppError::Conflict {
            code,
            msg: Msg::new(zh, en),
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            AppError::Validation(_) => "validation_failed",
            AppError::Unauthorized(_) => "unauthorized",
            AppError::Forbidden => "forbidden",
            AppError::NotFound => "not_found",
            AppError::Conflict { code, .. } | AppError::BadRequest { code, .. } => code,
            AppError::TooManyRequests { .. } => "too_many_requests",
            AppError::Limited { code, .. } => code,
            AppError::Stale { .. } => "stale_version",
            AppError::Internal(_) => "internal_error",
        }
    }

    /// The message shown to people: never the internal cause.
    pub fn message(&self) -> Msg {
        match self {
            AppError::Validation(errs) => {
                let fields: Vec<&str> = errs.iter().map(|e| e.field.as_str()).collect();
                Msg::new(
                    format!("输入有误：{}", fields.join("、")),
                    format!("Invalid input: {}", fields.join(", ")),
                )
            }
            AppError::Unauthorized(_) => Msg::new(
                "请先登录，或登录已失效。",
                "Sign-in required, or the sign-in is no longer valid.",
            ),
            AppError::Forbidden => Msg::new(
                "您的角色无权执行此操作。",
                "Your role is not allowed to do this.",
            ),
            AppError::NotFound => Msg::new("未找到。", "Not found."),
            AppError::Conflict { msg, .. }
            | AppError::BadRequest { msg, .. }
            | AppError::Limited { msg, .. } => msg.clone(),
            AppError::TooManyRequests { retry_after } => Msg::new(
                format!("尝试次数过多，请在 {retry_after} 秒后再试。"),
                format!("Too many attempts; try again in {retry_after} seconds."),
            ),
            AppError::Stale { .. } => Msg::new(
                "此记录在您打开后已被他人修改；请查看当前内容，再决定是否提交您的修改。",
                "Changed by someone else since you opened it; review the current values, then submit your change again if it still applies.",
            ),
            AppError::Internal(_) => Msg::new(
                "服务器内部错误，请稍后再试。",
                "Internal server error; please try again later.",
            ),
        }
    }

    pub fn problem(&self) -> Problem {
        let status = self.status_code();
        let msg = self.message();
        let errors = match self {
            AppError::Validation(e) => e.clone(),
            _ => Vec::new(),
        };
        let (version, current) = match self {
            AppError::Stale { version, current } => (Some(version.clone()), Some(current.clone())),
            _ => (None, None),
        };
        Problem {
            type_: format!("urn:sanshe:problem:{}", self.code()),
            title: status.canonical_reason().unwrap_or("Error").to_string(),
            status: status.as_u16(),
            code: self.code().to_string(),
            detail: msg.en.clone(),
            message: msg,
            errors,
            version,
            current,
        }
    }
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        match self {
            AppError::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            AppError::Forbidden => StatusCode::FORBIDDEN,
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::Conflict { .. } => StatusCode::CONFLICT,
            AppError::BadRequest { status, .. } => *status,
            AppError::TooManyRequests { .. } | AppError::Limited { .. } => {
                StatusCode::TOO_MANY_REQUESTS
            }
            AppError::Stale { .. } => StatusCode::PRECONDITION_FAILED,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            AppError::Internal(m) => tracing::error!(error = %m, "internal error"),
            AppError::Unauthorized(why) => tracing::debug!(reason = why, "unauthorized"),
            _ => {}
        }
        let mut res = HttpResponse::build(self.status_code());
        res.content_type("application/problem+json");
        if let AppError::TooManyRequests { retry_after } | AppError::Limited { retry_after, .. } =
            self
        {
            res.insert_header(("Retry-After", retry_after.to_string()));
        }
        if let AppError::Unauthorized(_) = self {
            res.insert_header(("WWW-Authenticate", "Bearer"));
        }
        if let AppError::Stale { version, .. } = self {
            res.insert_header((actix_web::http::header::ETAG, crate::version::etag(version)));
        }
        res.json(self.problem())
    }
}

/// The one place where the database's own refusals become answers: a unique key taken by a concurrent
/// request (or one the checks before the write could not see) is a 409 naming the field, a reference to a
/// row that is gone or still in use is a 409, and a serialization failure asks for a retry (409). Anything
/// else from the database stays an internal error.
impl From<diesel::result::Error> for AppError {
    fn from(e: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind as Kind, Error as E};
        match e {
            E::NotFound => AppError::NotFound,
            E::DatabaseError(Kind::UniqueViolation, info) => {
                let field = constraint_field(info.message(), info.details())
                    .or_else(|| info.constraint_name().map(str::to_string))
                    .unwrap_or_default();
                tracing::info!(field = %field, "unique key refused by the database");
                AppError::conflict(
                    "already_exists",
                    format!("“{field}”已存在（可能刚被另一请求占用），请换一个值。"),
                    format!(
                        "“{field}” already exists (perhaps taken by another request just now); use another value."
                    ),
                )
            }
            E::DatabaseError(Kind::ForeignKeyViolation, info) => {
                let field = constraint_field(info.message(), info.details()).unwrap_or_default();
                tracing::info!(field = %field, "reference refused by the database");
                AppError::conflict(
                    "reference_conflict",
                    format!("“{field}”引用的记录不存在或仍被引用，请刷新后再试。"),
                    format!(
                        "“{field}” refers to a record that does not exist or is still referred to; reload and try again."
                    ),
                )
            }
            E::DatabaseError(Kind::SerializationFailure, _) => AppError::conflict(
                "retry",
                "数据刚被另一请求修改，请重试。",
                "The data was changed by another request just now; please try again.",
            ),
            other => AppError::Internal(format!("database: {other}")),
        }
    }
}

/// The column a constraint error names: SQLite says "UNIQUE constraint failed: users.username",
/// PostgreSQL details "Key (username)=(x) already exists." (several columns come out comma-separated).
fn constraint_field(message: &str, details: Option<&str>) -> Option<String> {
    if let Some(d) = details
        && let Some(rest) = d.strip_prefix("Key (")
        && let Some(end) = rest.find(")=")
    {
        return Some(rest[..end].to_string());
    }
    let cols = message.split_once("constraint failed: ")?.1;
    let names: Vec<&str> = cols
        .split(',')
        .map(|c| c.trim().rsplit('.').next().unwrap_or(""))
        .filter(|c| !c.is_empty())
        .collect();
    (!names.is_empty()).then(|| names.join(", "))
}

impl From<r2d2::Error> for AppError {
    fn from(e: r2d2::Error) -> Self {
        AppError::Internal(format!("database pool: {e}"))
    }
}

/// Collects field errors so a request reports every broken rule at once.
#[derive(Default, Debug)]
pub struct Checks(Vec<FieldError>);

impl Checks {
    pub fn new() -> Checks {
        Checks::default()
    }
    pub fn add(&mut self, field: &str, rule: &str, zh: impl Into<String>, en: impl Into<String>) {
        self.0.push(FieldError::new(field, rule, zh, en));
    }
    pub fn required(&mut self, field: &str, value: &str) -> bool {
        if value.trim().is_empty() {
            self.add(field, "required", "必填。", "Required.");
            false
        } else {
            true
        }
    }
    /// Text that must be given, of at most `max` characters; returned trimmed.
    pub fn text(&mut self, field: &str, value: &str, max: usize) -> String {
        let t = value.trim();
        if t.is_empty() {
            self.add(field, "required", "必填。", "Required.");
        } else if t.chars().count() > max {
            self.add(
                field,
                "max_length",
                format!("至多 {max} 字。"),
                format!("At most {max} characters."),
            );
        }
        t.to_string()
    }
    /// An optional date, `YYYY-MM-DD` in the years a record may carry: `None` when empty, or when wrong
    /// (and then said).
    pub fn date(&mut self, field: &str, value: Option<&str>) -> Option<chrono::NaiveDate> {
        let s = value.filter(|s| !s.trim().is_empty())?;
        let d = crate::domain::dates::parse_date(s);
        if d.is_none() {
            let years = crate::domain::dates::RECORD_YEARS;
            self.add(
                field,
                "date",
                format!(
                    "日期格式应为 YYYY-MM-DD（如 2026-01-05），年份在 {}–{} 之间。",
                    years.start(),
                    years.end()
                ),
                format!(
                    "A date is written YYYY-MM-DD (e.g. 2026-01-05), in the years {}–{}.",
                    years.start(),
                    years.end()
                ),
            );
        }
        d
    }
    /// An optional month, `YYYY-MM` ([`crate::domain::dates::parse_month`]), as its first day: `None` when
    /// empty, or when wrong (and then said).
    pub fn month(&mut self, field: &str, value: Option<&str>) -> Option<chrono::NaiveDate> {
        let s = value.filter(|s| !s.trim().is_empty())?;
        let d = crate::domain::dates::parse_month(s);
        if d.is_none() {
            self.add(
                field,
                "month",
                "月份格式应为 YYYY-MM（如 2026-03）。",
                "A month is written YYYY-MM (e.g. 2026-03).",
            );
        }
        d
    }
    /// A date that must be given ([`Checks::date`]).
    pub fn required_date(&mut self, field: &str, value: &str) -> Option<chrono::NaiveDate> {
        if self.required(field, value) {
            self.date(field, Some(value))
        } else {
            None
        }
    }
    /// Take one error found by a helper that returns it ([`required_text`]).
    pub fn push(&mut self, e: FieldError) {
        self.0.push(e);
    }
    /// Take errors found by a reader that collects into a list (the page forms' number readers).
    pub fn extend(&mut self, errs: Vec<FieldError>) {
        self.0.extend(errs);
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    pub fn errors(&self) -> &[FieldError] {
        &self.0
    }
    pub fn finish(self) -> Result<(), AppError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(AppError::Validation(self.0))
        }
    }
}

/// Turn actix's own extractor errors (bad JSON, wrong content type, body too large, bad query) into problems.
pub mod extractors {
    use super::*;
    use actix_web::error::{JsonPayloadError, PayloadError, QueryPayloadError, UrlencodedError};

    pub fn payload_too_large() -> AppError {
        AppError::BadRequest {
            code: "payload_too_large",
            msg: Msg::new("请求体过大。", "Request body too large."),
            status: StatusCode::PAYLOAD_TOO_LARGE,
        }
    }

    pub fn json(err: JsonPayloadError, _req: &actix_web::HttpRequest) -> actix_web::Error {
        let e = match &err {
            JsonPayloadError::OverflowKnownLength { .. } | JsonPayloadError::Overflow { .. } => {
                payload_too_large()
            }
            JsonPayloadError::Payload(PayloadError::Overflow) => payload_too_large(),
            JsonPayloadError::ContentType => AppError::BadRequest {
                code: "unsupported_media_type",
                msg: Msg::new(
                    "请求须为 application/json。",
                    "The request must be application/json.",
                ),
                status: StatusCode::UNSUPPORTED_MEDIA_TYPE,
            },
            JsonPayloadError::Deserialize(de) => {
                // serde's message names the field and the expectation; it carries no server internals.
                AppError::bad_request(
                    "invalid_json",
                    format!("JSON 无法解析：{de}"),
                    format!("The JSON body could not be read: {de}"),
                )
            }
            _ => AppError::bad_request(
                "invalid_json",
                "JSON 无法解析。",
                "The JSON body could not be read.",
            ),
        };
        e.into()
    }

    pub fn form(err: UrlencodedError, _req: &actix_web::HttpRequest) -> actix_web::Error {
        let e = match &err {
            UrlencodedError::Overflow { .. } => payload_too_large(),
            UrlencodedError::ContentType => AppError::BadRequest {
                code: "unsupported_media_type",
                msg: Msg::new("表单类型不正确。", "Wrong form content type."),
                status: StatusCode::UNSUPPORTED_MEDIA_TYPE,
            },
            other => AppError::bad_request(
                "invalid_form",
                format!("表单无法解析：{other}"),
                format!("The form could not be read: {other}"),
            ),
        };
        e.into()
    }

    pub fn query(err: QueryPayloadError, _req: &actix_web::HttpRequest) -> actix_web::Error {
        AppError::bad_request(
            "invalid_query",
            format!("查询参数有误：{err}"),
            format!("Invalid query parameters: {err}"),
        )
        .into()
    }

    pub fn path(
        err: actix_web::error::PathError,
        _req: &actix_web::HttpRequest,
    ) -> actix_web::Error {
        let _ = err;
        AppError::NotFound.into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constraint_field_from_either_backend() {
        let sqlite = "UNIQUE constraint failed: users.username";
        assert_eq!(constraint_field(sqlite, None).as_deref(), Some("username"));
        let two = "UNIQUE constraint failed: bids.organisation_id, bids.idempotency_key";
        assert_eq!(
            constraint_field(two, None).as_deref(),
            Some("organisation_id, idempotency_key")
        );
        let pg = Some("Key (username)=(wang) already exists.");
        assert_eq!(
            constraint_field("duplicate key value violates unique constraint", pg).as_deref(),
            Some("username")
        );
        assert_eq!(
            constraint_field("FOREIGN KEY constraint failed", None),
            None
        );
    }

    #[test]
    fn statuses_and_codes() {
        let cases: Vec<(AppError, u16, &str)> = vec![
            (
                AppError::field("x", "required", "必填", "Required"),
                422,
                "validation_failed",
            ),
            (AppError::Unauthorized("no token"), 401, "unauthorized"),
            (AppError::Forbidden, 403, "forbidden"),
            (AppError::NotFound, 404, "not_found"),
            (
                AppError::conflict("state", "冲突", "conflict"),
                409,
                "state",
            ),
            (
                AppError::TooManyRequests { retry_after: 3 },
                429,
                "too_many_requests",
            ),
            (
                AppError::internal("db password=hunter2 broke"),
                500,
                "internal_error",
            ),
        ];
        for (e, status, code) in cases {
            assert_eq!(e.status_code().as_u16(), status);
            assert_eq!(e.code(), code);
            let p = serde_json::to_string(&e.problem()).unwrap();
            assert!(!p.contains("hunter2"), "internal detail leaked: {p}");
        }
    }

    #[test]
    fn diesel_not_found_is_404() {
        assert_eq!(
            AppError::from(diesel::result::Error::NotFound)
                .status_code()
                .as_u16(),
            404
        );
    }
}

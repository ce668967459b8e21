//! Input no handler should ever see: control characters (`domain::text`) in a JSON body, a page form, a
//! query string or a path. Refused here, before any handler runs, in one place per way in:
//! - JSON bodies: [`Json<T>`], the API's body extractor (every string and key at any depth; 422
//!   `validation_failed` naming the path, `items[2].name`, with the rule `control_character`);
//! - page forms: `page::Form` calls [`form_errors`] (422, shown as the page's error page);
//! - query strings and paths: the middleware calls [`request_line`] (400 `invalid_query` naming the
//!   parameter, 400 `invalid_path`).
//!
//! So nothing with a NUL reaches PostgreSQL (which refuses it with an error, a 500 before) or SQLite (which
//! stored it).

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::domain::text::{any_control, refused_control};
use crate::error::{AppError, FieldError};

/// The rule name of a refused control character.
pub const RULE: &str = "control_character";

fn control_error(field: &str, c: char) -> FieldError {
    let code = format!("U+{:04X}", c as u32);
    FieldError::new(
        field,
        RULE,
        format!("含有不可见的控制字符（{code}），请删除后再提交。"),
        format!("Contains an invisible control character ({code}); remove it and send again."),
    )
}

/// The field errors of the control characters in a JSON value: one per string (or key) that holds one,
/// named by its path in the body (`name`, `items[2].amount`; the body itself is `body`).
pub fn json_errors(v: &Value) -> Vec<FieldError> {
    let mut errs = Vec::new();
    walk(v, &mut String::new(), &mut errs);
    errs
}

fn walk(v: &Value, path: &mut String, errs: &mut Vec<FieldError>) {
    let name = |p: &str| {
        if p.is_empty() {
            "body".to_string()
        } else {
            p.to_string()
        }
    };
    match v {
        Value::String(s) => {
            if let Some(c) = refused_control(s) {
                errs.push(control_error(&name(path), c));
            }
        }
        Value::Array(items) => {
            let len = path.len();
            for (i, item) in items.iter().enumerate() {
                path.push_str(&format!("[{i}]"));
                walk(item, path, errs);
                path.truncate(len);
            }
        }
        Value::Object(map) => {
            let len = path.len();
            for (k, item) in map {
                if len > 0 {
                    path.push('.');
                }
                if let Some(c) = refused_control(k) {
                    // The key itself: named with its controls escaped, so the name shows what was sent.
                    path.push_str(&k.escape_default().to_string());
                    errs.push(control_error(path, c));
                } else {
                    path.push_str(k);
                    walk(item, path, errs);
                }
                path.truncate(len);
            }
        }
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
}

/// The API's JSON body: read as `web::Json` (its limit, content type and problem answers from the app's
/// `JsonConfig`), refused with 400 `invalid_json` unless it is an object (an array or a single value where
/// a body belongs), with 422 when any string or key holds a control character, then read into `T` (a
/// field of the wrong type is a 400 `invalid_json`).
#[derive(Debug)]
pub struct Json<T>(pub T);

impl<T> Json<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> std::ops::Deref for Json<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for Json<T> {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, actix_web::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let value = web::Json::<Value>::from_request(req, payload);
        Box::pin(async move {
            let v = value.await?.into_inner();
            Ok(Json(from_value(v)?))
        })
    }
}

/// A request body read as [`Json`] reads it, from JSON already parsed (a JSON part of a multipart body).
pub fn from_value<T: DeserializeOwned>(v: Value) -> Result<T, AppError> {
    // Every API body is an object. serde would read a struct from an array by position
    // (`["bureau", "secret"]` as a sign-in) and name nothing; refuse any other shape here.
    if !v.is_object() {
        return Err(AppError::bad_request(
            "invalid_json",
            "请求体须为 JSON 对象（{…}），不能是数组或单个值。",
            "The request body must be a JSON object ({…}), not an array or a single value.",
        ));
    }
    let errs = json_errors(&v);
    if !errs.is_empty() {
        return Err(AppError::Validation(errs));
    }
    serde_json::from_value(v).map_err(|de| {
        // serde's message names the field and the expectation; it carries no server internals.
        AppError::bad_request(
            "invalid_json",
            format!("JSON 无法解析：{de}"),
            format!("The JSON body could not be read: {de}"),
        )
    })
}

/// [`from_value`] of JSON text.
pub fn from_text<T: DeserializeOwned>(text: &str) -> Result<T, AppError> {
    let v: Value = serde_json::from_str(text).map_err(|e| {
        AppError::bad_request(
            "invalid_json",
            format!("JSON 无法解析：{e}"),
            format!("The JSON body could not be read: {e}"),
        )
    })?;
    from_value(v)
}

/// The field error of a text read by a handler itself (an imported CSV file) holding a control character.
pub fn text_error(field: &str, s: &str) -> Option<FieldError> {
    refused_control(s).map(|c| control_error(field, c))
}

/// The field errors of a page form's (name, value) pairs: one per field holding a control character.
pub fn form_errors(pairs: &[(String, String)]) -> Vec<FieldError> {
    let mut errs: Vec<FieldError> = Vec::new();
    for (k, v) in pairs {
        let c = refused_control(k).or_else(|| refused_control(v));
        if let Some(c) = c
            && !errs.iter().any(|e| e.field == *k)
        {
            errs.push(control_error(&k.escape_default().to_string(), c));
        }
    }
    errs
}

/// Decode `%XX` escapes (a malformed one is kept as typed).
fn percent_decoded(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && i + 2 < b.len()
            && let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2]))
        {
            out.push(h * 16 + l);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    out
}

fn hex(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

/// A request whose path or query string holds a control character, as the refusal: the path (400
/// `invalid_path`; no route, page or record is named by one) or the first such query parameter (400
/// `invalid_query`, naming it). `None` for everything else.
pub fn request_line(path: &str, query: &str) -> Option<AppError> {
    if any_control(&percent_decoded(path)) {
        return Some(AppError::bad_request(
            "invalid_path",
            "地址中含有不可见的控制字符。",
            "The address contains an invisible control character.",
        ));
    }
    for (k, v) in url::form_urlencoded::parse(query.as_bytes()) {
        if let Some(c) = refused_control(&k).or_else(|| refused_control(&v)) {
            let name = k.escape_default().to_string();
            let code = format!("U+{:04X}", c as u32);
            return Some(AppError::bad_request(
                "invalid_query",
                format!("查询参数“{name}”含有不可见的控制字符（{code}）。"),
                format!(
                    "The query parameter “{name}” contains an invisible control character ({code})."
                ),
            ));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn json_controls_are_named_by_path() {
        let v = json!({
            "name": "ok",
            "items": [{"a": "x"}, {"a": "y\u{0}"}],
            "note": "两行\r\n\t文字",
            "k\u{1}": 1,
            "deep": {"list": ["fine", "\u{7f}"]}
        });
        let mut fields: Vec<String> = json_errors(&v).into_iter().map(|e| e.field).collect();
        fields.sort();
        assert_eq!(fields, ["deep.list[1]", "items[1].a", "k\\u{1}"]);
        assert_eq!(json_errors(&json!("\u{0}"))[0].field, "body");
        assert_eq!(json_errors(&json!(["\u{0}"]))[0].field, "[0]");
        assert!(json_errors(&json!({"a": [1, null, true, "社区"]})).is_empty());
        let e = &json_errors(&json!({"a": "\u{0}"}))[0];
        assert_eq!(
            (e.rule.as_str(), e.message.en.contains("U+0000")),
            (RULE, true)
        );
    }

    #[test]
    fn forms_name_each_field_once() {
        let pairs: Vec<(String, String)> = [
            ("a", "x\u{0}"),
            ("a", "\u{1}"),
            ("b", "ok\r\n"),
            ("c", "\u{1b}"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let fields: Vec<String> = form_errors(&pairs).into_iter().map(|e| e.field).collect();
        assert_eq!(fields, ["a", "c"]);
    }

    #[test]
    fn paths_and_queries() {
        assert!(request_line("/api/v1/organisations/1", "q=%E7%A4%BE&page=2").is_none());
        assert!(request_line("/a%2Fb", "q=a+b&x=%25").is_none());
        assert!(
            request_line("/directory", "q=%0D%0A%09").is_none(),
            "line breaks and tabs in a query value are text"
        );
        for p in ["/api/v1/organisations/%00", "/x%0ay", "/%7F", "/%1b"] {
            let e = request_line(p, "").expect(p);
            assert_eq!(e.code(), "invalid_path");
        }
        let e = request_line("/directory", "page=1&q=%E7%A4%BE%00").unwrap();
        assert_eq!(e.code(), "invalid_query");
        assert!(e.message().en.contains("“q”"), "{:?}", e.message());
        assert_eq!(request_line("/", "%00=1").unwrap().code(), "invalid_query");
        assert!(request_line("/bad%zz%", "").is_none());
    }
}

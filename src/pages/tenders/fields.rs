//! The urlencoded form read as (name, value) pairs, and its field errors in the page's language.

use super::*;

// ---------------------------------------------------------------------------------------------------------
// Forms with repeated fields

/// Largest form body of these pages: a bid carries up to five attachments of 128 KiB as base64.
const FORM_BODY_LIMIT: usize = 2 * 1024 * 1024;

/// A urlencoded form read as its (name, value) pairs, so repeated names (checkboxes, multi-selects,
/// attachments) keep every value; its `csrf` field is checked against the cookie as `SafeForm` does.
pub struct FormFields(pub(super) Vec<(String, String)>);

impl FormFields {
    pub(super) fn get(&self, k: &str) -> String {
        self.0
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    }
    pub(super) fn all(&self, k: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .collect()
    }
    pub(super) fn ids(&self, k: &str) -> Vec<i64> {
        self.all(k)
            .iter()
            .filter_map(|v| v.trim().parse().ok())
            .collect()
    }
    /// First value of each field, except the token (and the attachments' bodies), to show a form again.
    pub(super) fn values(&self) -> HashMap<String, String> {
        let mut m = HashMap::new();
        for (k, v) in &self.0 {
            if k != "csrf" && k != "attachment_b64" {
                m.entry(k.clone()).or_insert_with(|| v.clone());
            }
        }
        m
    }
}

impl FromRequest for FormFields {
    type Error = PageError;
    type Future = LocalBoxFuture<'static, Result<Self, PageError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let mut payload = payload.take();
        Box::pin(async move {
            let lang = Lang::from_request(&req);
            let bad = |zh: String, en: String| {
                PageError::App(AppError::bad_request("invalid_form", zh, en), lang)
            };
            if !req
                .content_type()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
            {
                return Err(bad(
                    "表单须为 application/x-www-form-urlencoded 编码。".into(),
                    "The form must be application/x-www-form-urlencoded.".into(),
                ));
            }
            let mut body: Vec<u8> = Vec::new();
            while let Some(chunk) = payload.next().await {
                let chunk = chunk.map_err(|e| {
                    bad(
                        format!("表单无法读取：{e}"),
                        format!("The form could not be read: {e}"),
                    )
                })?;
                if body.len() + chunk.len() > FORM_BODY_LIMIT {
                    return Err(PageError::App(
                        AppError::BadRequest {
                            code: "payload_too_large",
                            msg: Msg::new(
                                "提交的内容过大（上限 2 MiB）。",
                                "The form is too large (limit 2 MiB).",
                            ),
                            status: StatusCode::PAYLOAD_TOO_LARGE,
                        },
                        lang,
                    ));
                }
                body.extend_from_slice(&chunk);
            }
            let pairs: Vec<(String, String)> =
                url::form_urlencoded::parse(&body).into_owned().collect();
            let token = pairs
                .iter()
                .find(|(k, _)| k == "csrf")
                .map(|(_, v)| v.as_str())
                .unwrap_or("");
            crate::http::csrf::check(&req, token).map_err(|e| PageError::App(e, lang))?;
            Ok(FormFields(pairs))
        })
    }
}

/// Field errors of a form in the page's language, every message of a field (a budget can break several
/// rules at once).
#[derive(Clone, Debug, Default)]
pub(super) struct Errs(HashMap<String, String>);

impl Errs {
    pub(super) fn new(lang: Lang, errs: &[FieldError]) -> Errs {
        let mut m: HashMap<String, String> = HashMap::new();
        for e in errs {
            let text = pick_msg(lang, &e.message);
            m.entry(e.field.clone())
                .and_modify(|v| {
                    if !v.contains(&text) {
                        v.push(' ');
                        v.push_str(&text);
                    }
                })
                .or_insert(text);
        }
        Errs(m)
    }
    pub(super) fn get(&self, field: &str) -> Option<&str> {
        self.0.get(field).map(String::as_str)
    }
    pub(super) fn any(&self) -> bool {
        !self.0.is_empty()
    }
}

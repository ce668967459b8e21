//! Vocabularies: fixed sets of keys, each with a Chinese and an English label, and the lookups over them.

/// (key, zh-CN, en)
pub type Vocab = &'static [(&'static str, &'static str, &'static str)];

/// Social-worker certificate levels (社会工作者职业水平), lowest first.
pub const CERTIFICATE_LEVELS: &[(&str, &str, &str)] = &[
    ("none", "无证书", "No certificate"),
    ("assistant", "助理社会工作师", "Assistant social worker"),
    ("social_worker", "社会工作师", "Social worker"),
    ("senior", "高级社会工作师", "Senior social worker"),
];

/// The label of a key in a vocabulary; an unknown key shows itself.
pub fn label(table: &[(&'static str, &'static str, &'static str)], key: &str, zh: bool) -> String {
    table
        .iter()
        .find(|(k, _, _)| *k == key)
        .map(|(_, z, e)| if zh { *z } else { *e })
        .unwrap_or(key)
        .to_string()
}

pub fn keys(table: &[(&str, &str, &str)]) -> String {
    table
        .iter()
        .map(|(k, _, _)| *k)
        .collect::<Vec<_>>()
        .join(", ")
}

pub fn one_of(table: &[(&str, &str, &str)], v: &str) -> bool {
    table.iter().any(|(k, _, _)| *k == v)
}

/// Accept a key or its Chinese or English label (CSV files carry labels).
pub fn key_of(
    table: &[(&'static str, &'static str, &'static str)],
    v: &str,
) -> Option<&'static str> {
    let v = v.trim();
    table
        .iter()
        .find(|(k, z, e)| *k == v || *z == v || e.eq_ignore_ascii_case(v))
        .map(|(k, _, _)| *k)
}

/// A configured term (a fund source, an activity type, a group of people): an ASCII code that is stored
/// and labels for people.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct Term {
    pub code: String,
    pub zh: String,
    pub en: String,
}

impl Term {
    pub fn label(&self, zh: bool) -> &str {
        if zh { &self.zh } else { &self.en }
    }
}

/// The label of a code in a configured list; an unknown code shows itself.
pub fn term_label<'a>(terms: &'a [Term], code: &'a str, zh: bool) -> &'a str {
    terms
        .iter()
        .find(|t| t.code == code)
        .map(|t| t.label(zh))
        .unwrap_or(code)
}

/// Is this a code usable in an account name or a stored key: a lower-case ASCII letter, then letters,
/// digits or `_`, at most 32 characters.
pub fn is_code(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some('a'..='z'))
        && s.len() <= 32
        && chars.all(|c| matches!(c, 'a'..='z' | '0'..='9' | '_'))
}

/// Parse a configured list: `code=中文名|English name` items separated by commas (the English name
/// optional); `what` names the list in the error.
pub fn parse_terms(s: &str, what: &str) -> Result<Vec<Term>, String> {
    let mut out: Vec<Term> = Vec::new();
    for item in s.split(',').map(str::trim).filter(|i| !i.is_empty()) {
        let (code, names) = item
            .split_once('=')
            .ok_or_else(|| format!("{item:?}: expected code=中文名|English name"))?;
        let code = code.trim();
        if !is_code(code) {
            return Err(format!(
                "{code:?}: a {what} code is a lower-case ASCII letter followed by letters, digits or _ (at most 32)"
            ));
        }
        let (zh, en) = names.split_once('|').unwrap_or((names, names));
        let (zh, en) = (zh.trim(), en.trim());
        if zh.is_empty() {
            return Err(format!("{code:?}: no name"));
        }
        if out.iter().any(|f| f.code == code) {
            return Err(format!("{code:?} is listed twice"));
        }
        out.push(Term {
            code: code.into(),
            zh: zh.into(),
            en: if en.is_empty() { zh.into() } else { en.into() },
        });
    }
    if out.is_empty() {
        return Err(format!("no {what}"));
    }
    Ok(out)
}

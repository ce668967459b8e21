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

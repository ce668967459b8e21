//! Rules for uploaded files, before any byte is stored: what a file is, judged by its content and never by
//! its name, and which names may be kept. The store itself (object_store, streaming, sealing) builds on
//! these.

use serde::{Deserialize, Serialize};

/// The kinds of file accepted by default: the documents a procurement file, a bid or an invoice is made of.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Pdf,
    Jpeg,
    Png,
    /// 版式文档 (GB/T 33190-2016), the format of Chinese e-invoices and official documents.
    Ofd,
    Docx,
    Xlsx,
}

impl Kind {
    pub const ALL: [Kind; 6] = [
        Kind::Pdf,
        Kind::Jpeg,
        Kind::Png,
        Kind::Ofd,
        Kind::Docx,
        Kind::Xlsx,
    ];

    pub fn media_type(self) -> &'static str {
        match self {
            Kind::Pdf => "application/pdf",
            Kind::Jpeg => "image/jpeg",
            Kind::Png => "image/png",
            Kind::Ofd => "application/ofd",
            Kind::Docx => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            Kind::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Pdf => "pdf",
            Kind::Jpeg => "jpeg",
            Kind::Png => "png",
            Kind::Ofd => "ofd",
            Kind::Docx => "docx",
            Kind::Xlsx => "xlsx",
        }
    }

    /// As people name it: PDF, JPEG, …
    pub fn label(self) -> &'static str {
        match self {
            Kind::Pdf => "PDF",
            Kind::Jpeg => "JPEG",
            Kind::Png => "PNG",
            Kind::Ofd => "OFD",
            Kind::Docx => "DOCX",
            Kind::Xlsx => "XLSX",
        }
    }

    pub fn parse(s: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// The kinds named in a setting, comma-separated (`pdf,jpeg,png`).
pub fn parse_kinds(s: &str) -> Result<Vec<Kind>, String> {
    let mut out = Vec::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let k = Kind::parse(&part.to_ascii_lowercase()).ok_or_else(|| {
            format!(
                "{part} is not a kind of file (one of {})",
                Kind::ALL.map(Kind::as_str).join(", ")
            )
        })?;
        if !out.contains(&k) {
            out.push(k);
        }
    }
    if out.is_empty() {
        return Err("give at least one kind of file".into());
    }
    Ok(out)
}

/// How many leading bytes [`sniff`] needs to be sure: the first entries of an OOXML or OFD package name
/// its parts well within this.
pub const SNIFF_BYTES: usize = 64 * 1024;

/// What a file is, from its first bytes (up to [`SNIFF_BYTES`]); `None` for anything else. Zip packages
/// are told apart by their entries' names: `OFD.xml` (OFD), `word/` (DOCX), `xl/` (XLSX).
pub fn sniff(head: &[u8]) -> Option<Kind> {
    if head.starts_with(b"%PDF-") {
        return Some(Kind::Pdf);
    }
    if head.starts_with(&[0xFF, 0xD8, 0xFF]) {
        return Some(Kind::Jpeg);
    }
    if head.starts_with(b"\x89PNG\r\n\x1a\n") {
        return Some(Kind::Png);
    }
    if !head.starts_with(b"PK\x03\x04") {
        return None;
    }
    // Every local file header in the prefix: signature, 26 bytes of fields (the name's length at 26),
    // then the name. Headers are found by signature, so an entry whose size is only known after its data
    // (general-purpose flag bit 3) does not stop the search.
    let mut found = None;
    let mut i = 0;
    while let Some(at) = find(&head[i..], b"PK\x03\x04") {
        let h = i + at;
        i = h + 4;
        let Some(fixed) = head.get(h..h + 30) else {
            break;
        };
        let len = usize::from(u16::from_le_bytes([fixed[26], fixed[27]]));
        let Some(name) = head.get(h + 30..h + 30 + len) else {
            break;
        };
        let kind = if name == b"OFD.xml" {
            Some(Kind::Ofd)
        } else if name.starts_with(b"word/") {
            Some(Kind::Docx)
        } else if name.starts_with(b"xl/") {
            Some(Kind::Xlsx)
        } else {
            None
        };
        match (found, kind) {
            (_, None) => {}
            (None, k) => found = k,
            // Parts of two kinds in one package: not a document we know.
            (Some(a), Some(b)) if a != b => return None,
            _ => {}
        }
    }
    found
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Longest file name kept, in characters.
pub const MAX_NAME_CHARS: usize = 200;

/// Why a file name is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BadName {
    Empty,
    TooLong,
    /// A path separator (`/`, `\`) or a name that is only dots: a name, never a path.
    Path,
    /// A control character (C0, DEL or C1), which would break headers and listings.
    Control,
}

impl BadName {
    pub fn code(self) -> &'static str {
        match self {
            BadName::Empty => "required",
            BadName::TooLong => "too_long",
            BadName::Path => "path_in_name",
            BadName::Control => "control_character",
        }
    }
    pub fn message(self) -> (String, String) {
        match self {
            BadName::Empty => ("请给出文件名。".into(), "Give the file a name.".into()),
            BadName::TooLong => (
                format!("文件名最多 {MAX_NAME_CHARS} 个字符。"),
                format!("A file name has at most {MAX_NAME_CHARS} characters."),
            ),
            BadName::Path => (
                "文件名不能含有路径分隔符（/ 或 \\），也不能只由点组成。".into(),
                "A file name cannot hold a path separator (/ or \\) or be only dots.".into(),
            ),
            BadName::Control => (
                "文件名不能含有控制字符。".into(),
                "A file name cannot hold control characters.".into(),
            ),
        }
    }
}

/// A file name as it will be kept and offered on download: trimmed, refused (not cleaned) when it is not
/// a plain name, so the uploader sees why.
pub fn file_name(raw: &str) -> Result<String, BadName> {
    let name = raw.trim();
    if name.is_empty() {
        return Err(BadName::Empty);
    }
    if name.chars().any(char::is_control) {
        return Err(BadName::Control);
    }
    if name.contains(['/', '\\']) || name.chars().all(|c| c == '.') {
        return Err(BadName::Path);
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(BadName::TooLong);
    }
    Ok(name.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A zip package's first local header naming `name` (sizes zero, as a streaming writer leaves them).
    fn zip_entry(name: &str) -> Vec<u8> {
        let mut v = b"PK\x03\x04".to_vec();
        v.extend_from_slice(&[20, 0, 8, 0, 8, 0]); // version, flags (bit 3), method
        v.extend_from_slice(&[0; 16]); // time, date, crc, sizes
        v.extend_from_slice(&(name.len() as u16).to_le_bytes());
        v.extend_from_slice(&[0, 0]);
        v.extend_from_slice(name.as_bytes());
        v.extend_from_slice(b"\x78\x9c compressed bytes");
        v
    }

    #[test]
    fn a_file_is_known_by_its_content_not_its_name() {
        assert_eq!(sniff(b"%PDF-1.7\n%\xe2\xe3"), Some(Kind::Pdf));
        assert_eq!(sniff(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 16]), Some(Kind::Jpeg));
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"), Some(Kind::Png));
        let docx = [
            zip_entry("[Content_Types].xml"),
            zip_entry("_rels/.rels"),
            zip_entry("word/document.xml"),
        ]
        .concat();
        assert_eq!(sniff(&docx), Some(Kind::Docx));
        let xlsx = [
            zip_entry("[Content_Types].xml"),
            zip_entry("xl/workbook.xml"),
        ]
        .concat();
        assert_eq!(sniff(&xlsx), Some(Kind::Xlsx));
        let ofd = [zip_entry("OFD.xml"), zip_entry("Doc_0/Document.xml")].concat();
        assert_eq!(sniff(&ofd), Some(Kind::Ofd));
        // Anything else, whatever it is called.
        assert_eq!(sniff(b"MZ\x90\0 an executable"), None);
        assert_eq!(sniff(b"<html><script>"), None);
        assert_eq!(sniff(b""), None);
        assert_eq!(sniff(&zip_entry("payload.exe")), None, "a plain zip");
        assert_eq!(
            sniff(&[zip_entry("word/document.xml"), zip_entry("xl/workbook.xml")].concat()),
            None,
            "parts of two kinds"
        );
        // A header cut off in the prefix is not read past the end.
        assert_eq!(sniff(&zip_entry("word/document.xml")[..31]), None);
    }

    #[test]
    fn the_accepted_kinds_are_a_setting() {
        assert_eq!(parse_kinds("pdf, PNG,pdf"), Ok(vec![Kind::Pdf, Kind::Png]));
        assert!(parse_kinds("pdf,exe").unwrap_err().contains("exe"));
        assert!(parse_kinds(" , ").is_err());
    }

    #[test]
    fn a_file_name_is_a_name_not_a_path() {
        assert_eq!(file_name("  投标文件.pdf "), Ok("投标文件.pdf".into()));
        assert_eq!(file_name("a.b.c.pdf"), Ok("a.b.c.pdf".into()));
        assert_eq!(file_name(""), Err(BadName::Empty));
        assert_eq!(file_name("   "), Err(BadName::Empty));
        assert_eq!(file_name("../etc/passwd"), Err(BadName::Path));
        assert_eq!(file_name("C:\\bid.pdf"), Err(BadName::Path));
        assert_eq!(file_name(".."), Err(BadName::Path));
        assert_eq!(file_name("bid\n.pdf"), Err(BadName::Control));
        assert_eq!(file_name("bid\u{7f}.pdf"), Err(BadName::Control));
        assert_eq!(file_name("bid\u{85}.pdf"), Err(BadName::Control));
        assert_eq!(
            file_name(&"文".repeat(MAX_NAME_CHARS)).map(|n| n.len()),
            Ok(600)
        );
        assert_eq!(
            file_name(&"文".repeat(MAX_NAME_CHARS + 1)),
            Err(BadName::TooLong)
        );
        for b in [
            BadName::Empty,
            BadName::TooLong,
            BadName::Path,
            BadName::Control,
        ] {
            let (zh, en) = b.message();
            assert!(!zh.is_empty() && !en.is_empty() && !b.code().is_empty());
        }
    }
}

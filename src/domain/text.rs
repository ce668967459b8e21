//! What text the service accepts at all: no control characters. A NUL byte is refused by PostgreSQL (an
//! error on every statement that carries it) and kept by SQLite, where it cuts the text short for C
//! readers; the other C0 controls and DEL are invisible, break CSV and mail headers, and are never typed.
//! Tab, line feed and carriage return are kept: multi-line text (a textarea sends `\r\n`) needs them, and
//! a single-line field that must not hold them has its own rule.

/// A character no text field accepts: C0 controls (U+0000–U+001F) except tab, line feed and carriage
/// return, and DEL (U+007F).
pub fn is_refused_control(c: char) -> bool {
    (c.is_ascii_control() && !matches!(c, '\t' | '\n' | '\r')) || c == '\u{7f}'
}

/// The first refused control character of a text, if any.
pub fn refused_control(s: &str) -> Option<char> {
    s.chars().find(|&c| is_refused_control(c))
}

/// A control character of any kind, tab and line breaks included: what no path segment or single-line
/// value (a name in a URL) may hold.
pub fn any_control(bytes: &[u8]) -> bool {
    bytes.iter().any(|b| b.is_ascii_control())
}

/// A SHA-256 written as 64 hexadecimal digits (a file's evidence hash); case as given.
pub fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64 && s.chars().all(|c| c.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_are_refused_but_line_breaks_and_tabs_kept() {
        for bad in [
            "a\0b",
            "\u{1}",
            "x\u{1b}[31m",
            "\u{7f}",
            "\u{1f}",
            "名称\u{0}",
        ] {
            assert!(refused_control(bad).is_some(), "{bad:?}");
        }
        for ok in [
            "",
            "plain",
            "两行\r\n文字",
            "a\tb",
            "line\n",
            "全角　空格",
            "\u{80}é",
            "😀",
        ] {
            assert_eq!(refused_control(ok), None, "{ok:?}");
        }
        assert_eq!(refused_control("ab\u{0}c\u{1}"), Some('\0'));
        assert!(any_control(b"a\tb") && any_control(b"\0") && !any_control("社区".as_bytes()));
    }
}

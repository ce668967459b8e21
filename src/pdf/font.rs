//! The report font and text measurement. printpdf lays out no low-level text, so lines are broken here
//! with the font's advance widths (`lookup_glyph_index`, `get_horizontal_advance`, units per em).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use printpdf::{FontId, ParsedFont, PdfDocument, PdfFont};

/// WenQuanYi Micro Hei (Apache-2.0; static/fonts/LICENSE-wqy-microhei.txt): Chinese, Latin and digits in one
/// TrueType face, so a fresh machine prints Chinese without installing anything.
pub static EMBEDDED: &[u8] = include_bytes!("../../static/fonts/wqy-microhei.ttf");

/// A parsed face, loaded once per process (parsing takes 15–130 ms) and shared by every report.
pub struct ReportFont {
    parsed: ParsedFont,
    upm: f32,
    /// Advance in em per character: a report reuses a few thousand characters at most.
    advances: Mutex<HashMap<char, f32>>,
}

impl std::fmt::Debug for ReportFont {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReportFont").finish_non_exhaustive()
    }
}

impl ReportFont {
    /// The embedded face, or `setting` (`SANSHE_PDF_FONT`: a path, `#N` after it for face N of a `.ttc`).
    pub fn load(setting: Option<&str>) -> Result<Arc<ReportFont>, String> {
        static EMBEDDED_FONT: OnceLock<Arc<ReportFont>> = OnceLock::new();
        let Some(s) = setting.map(str::trim).filter(|s| !s.is_empty()) else {
            if let Some(f) = EMBEDDED_FONT.get() {
                return Ok(f.clone());
            }
            let f = Self::from_bytes(EMBEDDED, 0)?;
            return Ok(EMBEDDED_FONT.get_or_init(|| f).clone());
        };
        let (path, index) = match s.rsplit_once('#') {
            Some((p, i)) if i.parse::<usize>().is_ok() => (p, i.parse().unwrap_or(0)),
            _ => (s, 0),
        };
        let bytes = std::fs::read(path).map_err(|e| format!("SANSHE_PDF_FONT {path}: {e}"))?;
        Self::from_bytes(&bytes, index).map_err(|e| format!("SANSHE_PDF_FONT {path}: {e}"))
    }

    /// Parse face `index` (0 for a `.ttf`); refuse a face that lacks Chinese or digits (a Latin-only font,
    /// or one like Droid Sans Fallback whose digits come out as boxes).
    pub fn from_bytes(bytes: &[u8], index: usize) -> Result<Arc<ReportFont>, String> {
        let mut warnings = Vec::new();
        let parsed = ParsedFont::from_bytes(bytes, index, &mut warnings)
            .ok_or_else(|| "not a TrueType or OpenType font".to_string())?;
        for c in ['中', '0', 'A', '¥'] {
            if parsed.lookup_glyph_index(c as u32).is_none() {
                return Err(format!("the font has no glyph for {c:?}"));
            }
        }
        let upm = f32::from(parsed.pdf_font_metrics.units_per_em.max(1));
        Ok(Arc::new(ReportFont {
            parsed,
            upm,
            advances: Mutex::new(HashMap::new()),
        }))
    }

    /// Put the font into a document under a fixed id: `add_font` would pick a random one, whose first
    /// six letters become the subset tag, and no two runs would give the same bytes.
    pub fn add_to(&self, doc: &mut PdfDocument) -> FontId {
        let id = FontId("SANSHEF".to_string());
        doc.resources
            .fonts
            .map
            .insert(id.clone(), PdfFont::new(self.parsed.clone()));
        id
    }

    /// Advance of one character in em (a missing glyph takes .notdef's).
    pub fn advance_em(&self, c: char) -> f32 {
        let mut cache = self.advances.lock().unwrap_or_else(|e| e.into_inner());
        *cache.entry(c).or_insert_with(|| {
            let gid = self.parsed.lookup_glyph_index(c as u32).unwrap_or(0);
            f32::from(self.parsed.get_horizontal_advance(gid)) / self.upm
        })
    }

    /// Width of a string in points at `size` points.
    pub fn width(&self, s: &str, size: f32) -> f32 {
        s.chars().map(|c| self.advance_em(c)).sum::<f32>() * size
    }

    /// Characters the font cannot draw.
    pub fn missing(&self, s: &str) -> Vec<char> {
        s.chars()
            .filter(|c| !c.is_control() && self.parsed.lookup_glyph_index(*c as u32).is_none())
            .collect()
    }
}

/// Characters that may not start a line (避头).
fn no_line_start(c: char) -> bool {
    "，。、；：！？）》」』”’…%,.;:!?)]".contains(c)
}

/// Characters that may not end a line (避尾).
fn no_line_end(c: char) -> bool {
    "（《「『“‘(¥[#".contains(c)
}

/// Part of a Latin word or a number, which stays whole (¥1,234.56, sha256:ab12…).
fn is_word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || ".,-_:/%+@#¥".contains(c)
}

/// Break `text` into lines no wider than `max_w` points: between any two Chinese characters, never inside
/// a Latin word or number, with the 避头尾 rules; `\n` starts a new line.
pub fn wrap(font: &ReportFont, text: &str, size: f32, max_w: f32) -> Vec<String> {
    let mut out = Vec::new();
    for para in text.split('\n') {
        wrap_para(font, para, size, max_w, &mut out);
    }
    out
}

fn wrap_para(font: &ReportFont, text: &str, size: f32, max_w: f32, out: &mut Vec<String>) {
    // Unbreakable tokens: a Latin word or number, or one other character; closing punctuation joins the
    // token before it, opening punctuation the token after it.
    let chars: Vec<char> = text.chars().collect();
    let mut tokens: Vec<String> = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let start = i;
        if is_word_char(chars[i]) {
            while i < chars.len() && is_word_char(chars[i]) {
                i += 1;
            }
        } else {
            i += 1;
        }
        let tok: String = chars[start..i].iter().collect();
        let single = i - start == 1;
        match tokens.last_mut() {
            Some(prev) if single && no_line_start(chars[start]) => prev.push_str(&tok),
            _ => tokens.push(tok),
        }
    }
    let mut glued: Vec<String> = Vec::with_capacity(tokens.len());
    let mut carry = String::new();
    for t in tokens {
        let mut cs = t.chars();
        if let (Some(c), None) = (cs.next(), cs.next())
            && no_line_end(c)
        {
            carry.push(c);
            continue;
        }
        glued.push(std::mem::take(&mut carry) + &t);
    }
    if !carry.is_empty() {
        glued.push(carry);
    }

    let mut line = String::new();
    let mut line_w = 0.0;
    for tok in glued {
        let w = font.width(&tok, size);
        if line_w + w > max_w && !line.is_empty() {
            out.push(std::mem::take(&mut line).trim_end().to_string());
            line_w = 0.0;
            if tok == " " {
                continue;
            }
        }
        if w > max_w {
            // One token wider than the line (a long hash): broken by character.
            for c in tok.chars() {
                let cw = font.advance_em(c) * size;
                if line_w + cw > max_w && !line.is_empty() {
                    out.push(std::mem::take(&mut line));
                    line_w = 0.0;
                }
                line.push(c);
                line_w += cw;
            }
            continue;
        }
        line.push_str(&tok);
        line_w += w;
    }
    if !line.is_empty() || out.is_empty() {
        out.push(line.trim_end().to_string());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_keep_every_character_numbers_whole_and_punctuation_off_line_starts() {
        let font = ReportFont::load(None).unwrap();
        let text = "全年预算资金¥12,500,000.00，已签约¥30,072,642.01，资金执行率65.46%。项目累计服务（人次）与人数，账本 sha256:ab12cd34ef56。";
        for max_w in [60.0, 90.0, 130.0, 200.0] {
            let lines = wrap(&font, text, 10.0, max_w);
            assert_eq!(lines.concat().replace(' ', ""), text.replace(' ', ""));
            for l in &lines {
                assert!(
                    !l.starts_with(['，', '。', '）', '%']),
                    "{l:?} starts with closing punctuation"
                );
                assert!(!l.ends_with(['（', '¥']), "{l:?} ends with an opening mark");
            }
            if font.width("¥12,500,000.00，", 10.0) <= max_w {
                assert!(
                    lines.iter().any(|l| l.contains("¥12,500,000.00")),
                    "{lines:?}"
                );
            }
        }
    }

    #[test]
    fn a_font_without_chinese_is_refused() {
        assert!(ReportFont::from_bytes(b"not a font", 0).is_err());
        assert!(ReportFont::load(Some("/nonexistent/font.ttf")).is_err());
        assert!(
            ReportFont::load(None)
                .unwrap()
                .missing("三社联动 ¥1,234.56 第 1 页")
                .is_empty()
        );
    }
}

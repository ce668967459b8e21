//! A note on a tender's timeline: what happened, with its figures, in both languages, so each reader gets
//! their own. Stored as JSON (`{"code", "zh", "en"}`) in the timeline row; rows from before hold one text
//! "中文 / English", which [`Note::read`] splits.

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Note {
    /// What kind of note: the step's code (`opened`, `challenge_filed`, …), or `said` for words a person
    /// wrote (a reason), which are the same in both languages.
    pub code: String,
    pub zh: String,
    pub en: String,
}

impl Note {
    pub fn new(code: &str, zh: impl Into<String>, en: impl Into<String>) -> Note {
        Note {
            code: code.into(),
            zh: zh.into(),
            en: en.into(),
        }
    }

    /// Words a person wrote, shown as written in either language.
    pub fn said(text: impl Into<String>) -> Note {
        let t = text.into();
        Note::new("said", t.clone(), t)
    }

    /// A reason also kept elsewhere as one text "中文 / English" (a tender's end reason), as a note.
    pub fn pair(code: &str, text: &str) -> Note {
        Note {
            code: code.into(),
            ..Note::read(text)
        }
    }

    /// The form kept in the timeline row.
    pub fn stored(&self) -> String {
        serde_json::to_string(self).expect("a note serialises")
    }

    /// A stored note; a text from before notes were JSON is split at " / " when the part after it is
    /// English (no CJK), else shown whole in both languages.
    pub fn read(stored: &str) -> Note {
        if stored.starts_with('{')
            && let Ok(n) = serde_json::from_str::<Note>(stored)
        {
            return n;
        }
        let cjk = |s: &str| s.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c));
        match stored.split_once(" / ") {
            Some((zh, en)) if cjk(zh) && !cjk(en) => Note::new("legacy", zh, en),
            _ => Note::new("legacy", stored, stored),
        }
    }

    pub fn text(&self, zh: bool) -> &str {
        if zh { &self.zh } else { &self.en }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_note_is_read_back_in_each_language() {
        let n = Note::new("opened", "开标：3 份有效投标", "3 valid bids opened");
        let back = Note::read(&n.stored());
        assert_eq!(back, n);
        assert_eq!(back.text(false), "3 valid bids opened");
        assert_eq!(
            Note::read(&Note::said("预算调整").stored()).text(false),
            "预算调整"
        );
    }

    #[test]
    fn an_old_text_is_split_where_it_can_be() {
        let n = Note::read("开标：3 份有效投标 / 3 valid bids opened");
        assert_eq!(
            (n.zh.as_str(), n.en.as_str()),
            ("开标：3 份有效投标", "3 valid bids opened")
        );
        let n = Note::read("投标 #2：撤回");
        assert_eq!(
            (n.zh.as_str(), n.en.as_str()),
            ("投标 #2：撤回", "投标 #2：撤回")
        );
        let n = Note::read("中标/成交 / 结果");
        assert_eq!(n.en, "中标/成交 / 结果", "no English half: whole");
    }
}

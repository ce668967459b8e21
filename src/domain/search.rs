//! Search terms: an organisation's name and credit code cut into overlapping two-character terms, so a
//! search for any text of two characters or more finds its candidates through an index instead of reading
//! every row. Chinese names have no spaces and people search with two-character words (社区, 养老), which is
//! why the terms are bigrams, not words or trigrams.

use std::collections::BTreeSet;

/// Raise when the cutting changes: rows with another version get their terms written again.
pub const VERSION: i32 = 1;

/// How search text is compared: Unicode lower case, as the query is (`like_pattern` lower-cases it too).
pub fn fold(s: &str) -> String {
    s.trim().to_lowercase()
}

/// Every two-character term of a text (folded); none for a text of one character.
pub fn bigrams(text: &str) -> BTreeSet<String> {
    let chars: Vec<char> = fold(text).chars().collect();
    chars
        .windows(2)
        .map(|w| w.iter().collect::<String>())
        .collect()
}

/// The terms of an organisation: its name's and its credit code's (the code as search normalises it, so
/// `9153 0111-…` and `91530111…` meet).
pub fn terms(name: &str, credit_code: Option<&str>) -> BTreeSet<String> {
    let mut t = bigrams(name);
    if let Some(c) = credit_code {
        t.extend(bigrams(&crate::domain::credit_code::normalise(c)));
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(v: &[&str]) -> BTreeSet<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn bigrams_of_chinese_and_latin_text() {
        assert_eq!(bigrams("社区养老"), set(&["社区", "区养", "养老"]));
        assert_eq!(bigrams(" AbC "), set(&["ab", "bc"]));
        assert!(bigrams("社").is_empty());
        assert!(bigrams("").is_empty());
    }

    /// The property search relies on: a name that contains the query holds the query's bigrams, and so
    /// does a code that contains the query's code reading.
    #[test]
    fn a_containing_text_holds_every_query_term() {
        use crate::domain::credit_code::normalise;
        let name = "官渡区社区养老服务中心";
        let code = "91530111MA6K0N4R2X";
        let all = terms(name, Some(code));
        for q in ["社区", "社区养老", "养老服务中心", "关渡"] {
            let by_name = fold(name).contains(&fold(q));
            assert_eq!(by_name, bigrams(q).is_subset(&all) && q != "关渡", "{q}");
        }
        for q in ["530111", "ma6k", "MA6K-0N", "9153 0111"] {
            assert!(fold(code).contains(&fold(&normalise(q))), "{q}");
            assert!(bigrams(&normalise(q)).is_subset(&all), "{q}");
        }
    }
}

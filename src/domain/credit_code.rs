//! The unified social credit code (统一社会信用代码, GB 32100-2015): 18 characters from a 31-symbol alphabet,
//! position 1 the registering authority, 2 the kind, 3–8 the area code, 18 a check character.

use std::fmt;

/// The alphabet, value = index (no I, O, Z, S, V).
pub const ALPHABET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
/// Weights of positions 1–17: 3^(i−1) mod 31.
pub const WEIGHTS: [u32; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];

/// A validated, normalised code.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CreditCode(String);

/// Why a text is not a valid code; each names the rule broken.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CreditCodeError {
    Length(usize),
    /// A character outside the alphabet, with its 1-based position.
    Character {
        position: usize,
        found: char,
    },
    /// Positions 3–8 must be digits (the area code).
    AreaCode {
        position: usize,
    },
    CheckCharacter {
        expected: char,
        found: char,
    },
}

impl CreditCodeError {
    /// The rule's stable name, for problem+json field errors.
    pub fn rule(&self) -> &'static str {
        match self {
            CreditCodeError::Length(_) => "length",
            CreditCodeError::Character { .. } => "alphabet",
            CreditCodeError::AreaCode { .. } => "area_code",
            CreditCodeError::CheckCharacter { .. } => "check_character",
        }
    }

    pub fn message(&self) -> crate::error::Msg {
        use crate::error::Msg;
        match self {
            CreditCodeError::Length(n) => Msg::new(
                format!("统一社会信用代码应为 18 位，实为 {n} 位。"),
                format!("A unified social credit code has 18 characters, not {n}."),
            ),
            CreditCodeError::Character { position, found } => Msg::new(
                format!("第 {position} 位“{found}”不是有效字符（不使用 I、O、Z、S、V）。"),
                format!(
                    "Character {position} ({found:?}) is not allowed (I, O, Z, S and V are never used)."
                ),
            ),
            CreditCodeError::AreaCode { position } => Msg::new(
                format!("第 3–8 位是行政区划代码，第 {position} 位应为数字。"),
                format!("Positions 3–8 are the area code; position {position} must be a digit."),
            ),
            CreditCodeError::CheckCharacter { expected, found } => Msg::new(
                format!("校验位应为“{expected}”而非“{found}”，请核对代码。"),
                format!(
                    "The check character should be {expected:?}, not {found:?}; please check the code."
                ),
            ),
        }
    }
}

/// Trim, drop spaces and hyphens, full-width to half-width, upper case.
pub fn normalise(input: &str) -> String {
    input
        .chars()
        .map(|c| match c {
            // Full-width ASCII block (！ to ～) maps 0xFEE0 down; the ideographic space is a space.
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            '\u{3000}' => ' ',
            _ => c,
        })
        .filter(|c| !c.is_whitespace() && !matches!(c, '-' | '‐' | '‑' | '–' | '—'))
        .flat_map(char::to_uppercase)
        .collect()
}

fn value(c: char) -> Option<u32> {
    ALPHABET
        .iter()
        .position(|&a| a as char == c)
        .map(|i| i as u32)
}

/// The check character for the first 17 characters (which must be in the alphabet).
pub fn check_character(first17: &str) -> Option<char> {
    let mut sum = 0u32;
    let mut n = 0;
    for (c, w) in first17.chars().zip(WEIGHTS) {
        sum += value(c)? * w;
        n += 1;
    }
    if n != 17 || first17.chars().count() != 17 {
        return None;
    }
    Some(ALPHABET[((31 - sum % 31) % 31) as usize] as char)
}

impl CreditCode {
    pub fn parse(input: &str) -> Result<CreditCode, CreditCodeError> {
        let s = normalise(input);
        let chars: Vec<char> = s.chars().collect();
        if chars.len() != 18 {
            return Err(CreditCodeError::Length(chars.len()));
        }
        for (i, &c) in chars.iter().enumerate() {
            if value(c).is_none() {
                return Err(CreditCodeError::Character {
                    position: i + 1,
                    found: c,
                });
            }
        }
        if let Some(i) = (2..8).find(|&i| !chars[i].is_ascii_digit()) {
            return Err(CreditCodeError::AreaCode { position: i + 1 });
        }
        let expected = check_character(&s[..17]).expect("17 characters of the alphabet");
        if chars[17] != expected {
            return Err(CreditCodeError::CheckCharacter {
                expected,
                found: chars[17],
            });
        }
        Ok(CreditCode(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Registered by civil affairs (民政): position 1 is `5`.
    pub fn is_civil_affairs(&self) -> bool {
        self.0.starts_with('5')
    }

    /// The six-digit area code (positions 3–8).
    pub fn area_code(&self) -> &str {
        &self.0[2..8]
    }
}

impl fmt::Display for CreditCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn vectors_from_the_standard() {
        assert!(CreditCode::parse("91350100M000100Y43").is_ok());
        assert!(CreditCode::parse("91110000600037341L").is_ok());
        assert_eq!(
            CreditCode::parse("52110101MJ0018899X").unwrap_err().rule(),
            "check_character"
        );
    }

    #[test]
    fn normalisation() {
        let c = CreditCode::parse(" 9135-0100 m000100y43 ").unwrap();
        assert_eq!(c.as_str(), "91350100M000100Y43");
        // Full-width digits and letters, ideographic space.
        let c = CreditCode::parse("９１３５０１００Ｍ０００１００Ｙ４３\u{3000}").unwrap();
        assert_eq!(c.as_str(), "91350100M000100Y43");
        assert_eq!(c.area_code(), "350100");
        assert!(!c.is_civil_affairs());
    }

    #[test]
    fn refusals_name_the_rule() {
        assert_eq!(
            CreditCode::parse("91350100M000100Y4").unwrap_err(),
            CreditCodeError::Length(17)
        );
        assert_eq!(
            CreditCode::parse("").unwrap_err(),
            CreditCodeError::Length(0)
        );
        for bad in ['I', 'O', 'Z', 'S', 'V'] {
            let code = format!("91350100M000100{bad}43");
            assert_eq!(
                CreditCode::parse(&code).unwrap_err(),
                CreditCodeError::Character {
                    position: 16,
                    found: bad
                }
            );
        }
        assert_eq!(
            CreditCode::parse("91A50100M000100Y43").unwrap_err(),
            CreditCodeError::AreaCode { position: 3 }
        );
        let e = CreditCode::parse("91350100M000100Y44").unwrap_err();
        assert_eq!(
            e,
            CreditCodeError::CheckCharacter {
                expected: '3',
                found: '4'
            }
        );
        assert!(e.message().zh.contains("校验位") && e.message().en.contains("check character"));
    }

    fn body() -> impl Strategy<Value = String> {
        // Positions 1–2 any symbol, 3–8 digits, 9–17 any symbol.
        let sym = proptest::sample::select(ALPHABET.to_vec()).prop_map(|b| b as char);
        let digit = proptest::sample::select(b"0123456789".to_vec()).prop_map(|b| b as char);
        (
            proptest::collection::vec(sym.clone(), 2),
            proptest::collection::vec(digit, 6),
            proptest::collection::vec(sym, 9),
        )
            .prop_map(|(a, b, c)| a.into_iter().chain(b).chain(c).collect())
    }

    proptest! {
        #[test]
        fn computed_check_character_validates(b in body()) {
            let code = format!("{b}{}", check_character(&b).unwrap());
            prop_assert!(CreditCode::parse(&code).is_ok(), "{}", code);
        }

        #[test]
        fn any_single_change_fails(b in body(), pos in 0usize..18, sub in 0usize..31) {
            let code: Vec<char> = format!("{b}{}", check_character(&b).unwrap()).chars().collect();
            let replacement = ALPHABET[sub] as char;
            prop_assume!(code[pos] != replacement);
            let mut changed = code.clone();
            changed[pos] = replacement;
            let changed: String = changed.into_iter().collect();
            prop_assert!(CreditCode::parse(&changed).is_err(), "{} accepted", changed);
        }
    }
}

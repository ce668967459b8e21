//! The PRC resident identity number (GB 11643-1999): its normalisation, its check (18 characters, a real
//! birth date, the ISO 7064 MOD 11-2 check character) and its keyed hash. The number itself is never
//! stored: social workers and beneficiaries alike keep only the HMAC-SHA-256 of the normalised number with
//! the beneficiary secret. One place for the rule, used by the registry of social workers and by the people
//! an organisation serves.

use chrono::{Datelike, NaiveDate};
use hmac::{Hmac, Mac};

const ID_WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const ID_CHECK: &[u8; 11] = b"10X98765432";

/// The check character of an 18-character PRC identity number from its first 17 digits (ISO 7064 MOD 11-2).
pub fn id_check_char(first17: &str) -> Option<char> {
    if first17.len() != 17 || !first17.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let sum: u32 = first17
        .bytes()
        .zip(ID_WEIGHTS)
        .map(|(b, w)| u32::from(b - b'0') * w)
        .sum();
    Some(ID_CHECK[(sum % 11) as usize] as char)
}

/// Trim, drop spaces, full-width to half-width, upper-case x.
pub fn normalise_id(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '\u{FF10}'..='\u{FF19}' | '\u{FF38}' | '\u{FF58}' => {
                char::from_u32(c as u32 - 0xFEE0).unwrap_or(c)
            }
            _ => c,
        })
        .filter(|c| !c.is_whitespace())
        .flat_map(char::to_uppercase)
        .collect()
}

/// Why an identity number is refused: (rule, zh, en).
pub fn check_id_number(id: &str) -> Result<(), (&'static str, &'static str, &'static str)> {
    let b = id.as_bytes();
    if b.len() != 18
        || !b[..17].iter().all(u8::is_ascii_digit)
        || !(b[17].is_ascii_digit() || b[17] == b'X')
    {
        return Err((
            "format",
            "身份证号应为 18 位：17 位数字加 1 位数字或 X。",
            "An identity number has 18 characters: 17 digits and a digit or X.",
        ));
    }
    if birth_date(id).is_none_or(|d| d.year() < 1900) {
        return Err((
            "birth_date",
            "身份证号中的出生日期无效。",
            "The birth date inside the identity number is not a date.",
        ));
    }
    if id_check_char(&id[..17]) != Some(b[17] as char) {
        return Err((
            "check_character",
            "身份证号校验位不正确。",
            "The identity number's check character is wrong.",
        ));
    }
    Ok(())
}

/// HMAC-SHA-256 of the normalised number with the beneficiary secret, as hex.
pub fn id_hash(secret: &str, normalised: &str) -> String {
    let mut m = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    m.update(normalised.as_bytes());
    hex::encode(m.finalize().into_bytes())
}

/// A worker's two keyed hashes of a normalised identity number: (per organisation, the unique key of the
/// registry; of the person alone, which the bureau compares across organisations). A person another
/// organisation has registered is therefore no obstacle and nothing tells the caller about it.
pub fn identity_hashes(secret: &str, org_id: i64, normalised: &str) -> (String, String) {
    (
        id_hash(secret, &format!("{org_id}:{normalised}")),
        id_hash(secret, normalised),
    )
}

/// The birth date inside a checked number.
pub fn birth_date(id: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(id.get(6..14)?, "%Y%m%d").ok()
}

/// The birth year inside a checked number.
pub fn birth_year(id: &str) -> Option<i32> {
    birth_date(id).map(|d| d.year())
}

/// The sex the 17th character records (odd: male, even: female), as the beneficiary's gender code.
pub fn gender(id: &str) -> Option<&'static str> {
    let d = id.as_bytes().get(16)?;
    d.is_ascii_digit().then(|| {
        if (d - b'0') % 2 == 1 {
            "male"
        } else {
            "female"
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A valid number for a birth date and sequence, with its computed check character.
    fn make(first17: &str) -> String {
        format!("{first17}{}", id_check_char(first17).unwrap())
    }

    #[test]
    fn gb11643_valid_number_passes() {
        assert_eq!(check_id_number("11010519491231002X"), Ok(()));
        let n = make("44030419900101122");
        assert_eq!(check_id_number(&n), Ok(()));
        assert_eq!(birth_year(&n), Some(1990));
        assert_eq!(gender(&n), Some("female"));
        assert_eq!(gender(&make("44030419900101131")), Some("male"));
    }

    #[test]
    fn gb11643_bad_check_character_refused() {
        let n = make("44030419900101123");
        let last = n.as_bytes()[17];
        let wrong = if last == b'0' { '1' } else { '0' };
        let bad = format!("{}{wrong}", &n[..17]);
        assert_eq!(check_id_number(&bad).unwrap_err().0, "check_character");
    }

    #[test]
    fn gb11643_birth_date_19990230_refused() {
        let n = make("44030419990230123");
        assert_eq!(check_id_number(&n).unwrap_err().0, "birth_date");
    }

    #[test]
    fn gb11643_lower_case_x_and_full_width_normalised() {
        assert_eq!(normalise_id(" 11010519491231002x "), "11010519491231002X");
        assert_eq!(
            normalise_id("１１０１０５１９４９１２３１００２Ｘ"),
            "11010519491231002X"
        );
        assert_eq!(
            normalise_id("１１０１０５１９４９１２３１００２ｘ"),
            "11010519491231002X"
        );
        assert_eq!(check_id_number(&normalise_id("11010519491231002x")), Ok(()));
        assert_eq!(check_id_number("1101051949123100").unwrap_err().0, "format");
    }

    #[test]
    fn keyed_hash_depends_on_secret_and_never_contains_the_number() {
        let n = "11010519491231002X";
        let h = id_hash("s1", n);
        assert_eq!(h.len(), 64);
        assert_ne!(h, id_hash("s2", n));
        assert!(!h.contains(n));
    }
}

//! Money at the edges: amounts are stored as integer fen (分) and read and written as yuan with at most two
//! decimals. The type and the pure parsing and formatting live in [`crate::domain::money`]; this module
//! re-exports them and adds the form-field check. The formatting functions take `i64` fen from storage rows
//! or a [`Fen`].

pub use crate::domain::money::{Fen, MAX_FEN, MoneyError, parse_yuan};

use crate::error::Checks;

/// Parse an amount field, adding a field error naming the rule when it is not one. `positive` also refuses 0.
pub fn check_amount(checks: &mut Checks, field: &str, v: &str, positive: bool) -> Option<Fen> {
    check_yuan(checks, field, v, positive).map(Fen::from)
}

/// Parse an amount field, adding a field error naming the rule when it is not one. `positive` also refuses 0.
pub fn check_yuan(checks: &mut Checks, field: &str, v: &str, positive: bool) -> Option<i64> {
    if !checks.required(field, v) {
        return None;
    }
    match parse_yuan(v) {
        Ok(0) if positive => {
            checks.add(
                field,
                "positive",
                "金额须大于 0。",
                "The amount must be above 0.",
            );
            None
        }
        Ok(f) => Some(f),
        Err(MoneyError::NotANumber) => {
            checks.add(
                field,
                "amount",
                "请输入金额（元），如 150000 或 150000.50。",
                "Enter an amount in yuan, e.g. 150000 or 150000.50.",
            );
            None
        }
        Err(MoneyError::TooPrecise) => {
            checks.add(
                field,
                "max_two_decimals",
                "金额最多两位小数（分）。",
                "At most two decimals (fen).",
            );
            None
        }
        Err(MoneyError::Negative) => {
            checks.add(
                field,
                "non_negative",
                "金额不能为负。",
                "The amount cannot be negative.",
            );
            None
        }
        Err(MoneyError::TooLarge | MoneyError::Overflow | MoneyError::BadShares) => {
            checks.add(
                field,
                "max",
                "金额过大（上限 100 亿元）。",
                "The amount is too large (at most ¥10 billion).",
            );
            None
        }
    }
}

/// Fen as yuan with two decimals: `1234567` → `12345.67`.
pub fn yuan(fen: impl Into<Fen>) -> String {
    fen.into().yuan()
}

/// Fen as yuan with thousands separators: `1234567` → `12,345.67`.
pub fn yuan_grouped(fen: impl Into<Fen>) -> String {
    fen.into().yuan_grouped()
}

/// Fen as ten-thousand yuan (万元) with two decimals, for headline figures.
pub fn wan(fen: impl Into<Fen>) -> String {
    crate::domain::money::wan(fen.into().get())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_i64_and_fen_alike() {
        assert_eq!(yuan(1_234_567), "12345.67");
        assert_eq!(yuan(Fen::new(1_234_567)), "12345.67");
        assert_eq!(yuan_grouped(123_456_789), "1,234,567.89");
        assert_eq!(yuan_grouped(Fen::new(-12_345_600)), "-123,456.00");
        assert_eq!(wan(1_450_000_000), "1450.00");
    }

    #[test]
    fn amount_fields() {
        let mut c = Checks::new();
        assert_eq!(
            check_amount(&mut c, "a", "1,000.5", true),
            Some(Fen::new(100_050))
        );
        assert_eq!(check_amount(&mut c, "b", "0", true), None);
        assert_eq!(check_yuan(&mut c, "c", "0", false), Some(0));
        assert_eq!(check_yuan(&mut c, "d", "1.001", false), None);
        assert!(c.finish().is_err());
    }
}

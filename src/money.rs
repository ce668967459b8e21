//! Money at the edges: amounts are stored as integer fen (分) and read and written as yuan with at most two
//! decimals, through `rust_decimal`. No floating point anywhere.

use rust_decimal::Decimal;

use crate::error::Checks;

/// The largest amount accepted: ¥10 billion, far above any district budget and far below i64 overflow.
pub const MAX_FEN: i64 = 1_000_000_000_000;

/// Why a text is not an amount.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MoneyError {
    NotANumber,
    TooPrecise,
    Negative,
    TooLarge,
}

/// Parse yuan (`"150000"`, `"150,000.50"`, `"¥98000.5"`) into fen.
pub fn parse_yuan(s: &str) -> Result<i64, MoneyError> {
    let t: String = s
        .trim()
        .trim_start_matches(['¥', '￥'])
        .chars()
        .filter(|c| *c != ',' && *c != '，' && !c.is_whitespace())
        .collect();
    if t.is_empty() || t.contains(['e', 'E']) {
        return Err(MoneyError::NotANumber);
    }
    let d: Decimal = t.parse().map_err(|_| MoneyError::NotANumber)?;
    if d.normalize().scale() > 2 {
        return Err(MoneyError::TooPrecise);
    }
    if d.is_sign_negative() && !d.is_zero() {
        return Err(MoneyError::Negative);
    }
    let fen = d
        .checked_mul(Decimal::from(100))
        .ok_or(MoneyError::TooLarge)?;
    let fen: i64 = fen.trunc().try_into().map_err(|_| MoneyError::TooLarge)?;
    if fen > MAX_FEN {
        return Err(MoneyError::TooLarge);
    }
    Ok(fen)
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
        Err(MoneyError::TooLarge) => {
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
pub fn yuan(fen: i64) -> String {
    let sign = if fen < 0 { "-" } else { "" };
    let a = fen.unsigned_abs();
    format!("{sign}{}.{:02}", a / 100, a % 100)
}

/// Fen as yuan with thousands separators: `1234567` → `12,345.67`.
pub fn yuan_grouped(fen: i64) -> String {
    let plain = yuan(fen);
    let (sign, rest) = plain.split_at(if fen < 0 { 1 } else { 0 });
    let (int, frac) = rest.split_once('.').unwrap_or((rest, "00"));
    let mut out = String::new();
    for (i, ch) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    format!("{sign}{out}.{frac}")
}

/// Fen as ten-thousand yuan (万元) with two decimals, for headline figures.
pub fn wan(fen: i64) -> String {
    let d = Decimal::from(fen) / Decimal::from(1_000_000);
    format!(
        "{:.2}",
        d.round_dp_with_strategy(2, rust_decimal::RoundingStrategy::MidpointAwayFromZero)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_yuan_exactly() {
        assert_eq!(parse_yuan("150000"), Ok(15_000_000));
        assert_eq!(parse_yuan("150,000.5"), Ok(15_000_050));
        assert_eq!(parse_yuan("¥0.01"), Ok(1));
        assert_eq!(parse_yuan(" 98000.10 "), Ok(9_800_010));
        assert_eq!(parse_yuan("0.1"), Ok(10));
        assert_eq!(parse_yuan("1.005"), Err(MoneyError::TooPrecise));
        assert_eq!(parse_yuan("-5"), Err(MoneyError::Negative));
        assert_eq!(parse_yuan("1e5"), Err(MoneyError::NotANumber));
        assert_eq!(parse_yuan("abc"), Err(MoneyError::NotANumber));
        assert_eq!(
            parse_yuan("99999999999999999999"),
            Err(MoneyError::TooLarge)
        );
        assert_eq!(parse_yuan("10000000001"), Err(MoneyError::TooLarge));
    }

    #[test]
    fn formats_fen() {
        assert_eq!(yuan(1_234_567), "12345.67");
        assert_eq!(yuan(5), "0.05");
        assert_eq!(yuan(-150), "-1.50");
        assert_eq!(yuan_grouped(123_456_789), "1,234,567.89");
        assert_eq!(yuan_grouped(100), "1.00");
        assert_eq!(yuan_grouped(-12_345_600), "-123,456.00");
        assert_eq!(wan(1_450_000_000), "1450.00");
        assert_eq!(wan(15_000_000), "15.00");
    }
}

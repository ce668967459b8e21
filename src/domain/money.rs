//! Money: amounts are integer fen (分), read and written as yuan with at most two decimals through
//! `rust_decimal`. No floating point anywhere, and arithmetic that would overflow is an error, never a wrap.
//!
//! [`Fen`] is the type the domain computes with; storage keeps BIGINT columns and converts at the edge
//! (`Fen::from(i64)`, [`Fen::get`]).

use std::fmt;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// The largest amount accepted from a person: ¥10 billion, far above any district budget and far below i64
/// overflow.
pub const MAX_FEN: i64 = 1_000_000_000_000;

/// Why a text is not an amount, or a computation has no result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MoneyError {
    NotANumber,
    TooPrecise,
    Negative,
    TooLarge,
    /// The result does not fit in i64 fen.
    Overflow,
    /// Shares to split by are not each within 0–100 % with two decimals, summing to exactly 100 %.
    BadShares,
}

impl fmt::Display for MoneyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            MoneyError::NotANumber => "not an amount",
            MoneyError::TooPrecise => "more than two decimals",
            MoneyError::Negative => "negative amount",
            MoneyError::TooLarge => "amount too large",
            MoneyError::Overflow => "amount overflows",
            MoneyError::BadShares => "shares do not sum to 100%",
        })
    }
}

impl std::error::Error for MoneyError {}

/// An amount in fen. Serialises as the bare integer.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Fen(i64);

impl From<i64> for Fen {
    fn from(fen: i64) -> Fen {
        Fen(fen)
    }
}

impl From<Fen> for i64 {
    fn from(f: Fen) -> i64 {
        f.0
    }
}

impl Fen {
    pub const ZERO: Fen = Fen(0);

    pub const fn new(fen: i64) -> Fen {
        Fen(fen)
    }

    /// The amount in fen, for storage.
    pub const fn get(self) -> i64 {
        self.0
    }

    pub fn is_zero(self) -> bool {
        self.0 == 0
    }

    pub fn is_negative(self) -> bool {
        self.0 < 0
    }

    pub fn checked_add(self, other: Fen) -> Result<Fen, MoneyError> {
        self.0
            .checked_add(other.0)
            .map(Fen)
            .ok_or(MoneyError::Overflow)
    }

    pub fn checked_sub(self, other: Fen) -> Result<Fen, MoneyError> {
        self.0
            .checked_sub(other.0)
            .map(Fen)
            .ok_or(MoneyError::Overflow)
    }

    pub fn checked_mul_int(self, n: i64) -> Result<Fen, MoneyError> {
        self.0.checked_mul(n).map(Fen).ok_or(MoneyError::Overflow)
    }

    /// The sum of the amounts; an overflow anywhere is an error.
    pub fn sum<I: IntoIterator<Item = Fen>>(items: I) -> Result<Fen, MoneyError> {
        items
            .into_iter()
            .try_fold(Fen::ZERO, |acc, x| acc.checked_add(x))
    }

    /// The amount in yuan, exactly, with two decimals (`123450` → `1234.50`).
    pub fn to_yuan_decimal(self) -> Decimal {
        Decimal::new(self.0, 2)
    }

    /// Parse yuan (`"150000"`, `"150,000.50"`, `"¥98000.5"`): at most two decimals, not negative, at most
    /// [`MAX_FEN`].
    pub fn parse_yuan(s: &str) -> Result<Fen, MoneyError> {
        parse_yuan(s).map(Fen)
    }

    /// Yuan with two decimals and no grouping: `1234567` → `12345.67`.
    pub fn yuan(self) -> String {
        yuan(self.0)
    }

    /// Yuan with thousands separators: `1234567` → `12,345.67`.
    pub fn yuan_grouped(self) -> String {
        yuan_grouped(self.0)
    }

    /// Split by percentage shares (each 0–100 with at most two decimals, summing to exactly 100): each part
    /// is its share rounded toward zero to the fen, and the last part takes the remainder, so the parts
    /// always sum to exactly this amount.
    pub fn split_by_percent(self, shares: &[Decimal]) -> Result<Vec<Fen>, MoneyError> {
        let hundred = Decimal::from(100);
        let ok_share =
            |p: &Decimal| *p >= Decimal::ZERO && *p <= hundred && p.normalize().scale() <= 2;
        if shares.is_empty()
            || !shares.iter().all(ok_share)
            || shares.iter().copied().sum::<Decimal>() != hundred
        {
            return Err(MoneyError::BadShares);
        }
        let total = Decimal::from(self.0);
        let mut parts = Vec::with_capacity(shares.len());
        for p in &shares[..shares.len() - 1] {
            let part = (total * *p / hundred)
                .round_dp_with_strategy(0, rust_decimal::RoundingStrategy::ToZero);
            let part: i64 = part.try_into().map_err(|_| MoneyError::Overflow)?;
            parts.push(Fen(part));
        }
        let last = self.checked_sub(Fen::sum(parts.iter().copied())?)?;
        parts.push(last);
        Ok(parts)
    }
}

impl fmt::Display for Fen {
    /// `¥1,234.50`; negative amounts as `-¥1,234.50`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let g = yuan_grouped(self.0);
        match g.strip_prefix('-') {
            Some(rest) => write!(f, "-¥{rest}"),
            None => write!(f, "¥{g}"),
        }
    }
}

impl std::str::FromStr for Fen {
    type Err = MoneyError;
    fn from_str(s: &str) -> Result<Fen, MoneyError> {
        Fen::parse_yuan(s)
    }
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
    format!(
        "{:.2}",
        round2(Decimal::from(fen) / Decimal::from(1_000_000))
    )
}

/// Two decimals, half away from zero: how figures (万元, points) are published.
pub fn round2(d: Decimal) -> Decimal {
    d.round_dp_with_strategy(2, rust_decimal::RoundingStrategy::MidpointAwayFromZero)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

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
        assert_eq!("¥1,234.5".parse::<Fen>(), Ok(Fen::new(123_450)));
        assert_eq!(Fen::parse_yuan("x"), Err(MoneyError::NotANumber));
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
        assert_eq!(Fen::new(123_450).to_string(), "¥1,234.50");
        assert_eq!(Fen::new(5).to_string(), "¥0.05");
        assert_eq!(Fen::new(-123_450).to_string(), "-¥1,234.50");
        assert_eq!(Fen::new(123_450).to_yuan_decimal(), d("1234.50"));
        assert_eq!(Fen::new(123_450).to_yuan_decimal().to_string(), "1234.50");
        assert_eq!(
            Fen::new(i64::MIN).to_string(),
            "-¥92,233,720,368,547,758.08"
        );
    }

    #[test]
    fn checked_arithmetic_reports_overflow() {
        let max = Fen::new(i64::MAX);
        assert_eq!(max.checked_add(Fen::new(1)), Err(MoneyError::Overflow));
        assert_eq!(
            Fen::new(i64::MIN).checked_sub(Fen::new(1)),
            Err(MoneyError::Overflow)
        );
        assert_eq!(max.checked_mul_int(2), Err(MoneyError::Overflow));
        assert_eq!(Fen::new(250).checked_mul_int(3), Ok(Fen::new(750)));
        assert_eq!(
            Fen::sum([Fen::new(1), Fen::new(2), Fen::new(3)]),
            Ok(Fen::new(6))
        );
        assert_eq!(Fen::sum([max, Fen::new(1)]), Err(MoneyError::Overflow));
        assert_eq!(Fen::sum([]), Ok(Fen::ZERO));
    }

    #[test]
    fn serialises_as_a_bare_integer() {
        assert_eq!(serde_json::to_string(&Fen::new(150)).unwrap(), "150");
        assert_eq!(serde_json::from_str::<Fen>("150").unwrap(), Fen::new(150));
    }

    #[test]
    fn split_puts_the_remainder_last() {
        // ¥1,000.01 at 30/40/30: 300.00, 400.00, then 300.01.
        let parts = Fen::new(100_001)
            .split_by_percent(&[d("30"), d("40"), d("30")])
            .unwrap();
        assert_eq!(
            parts,
            vec![Fen::new(30_000), Fen::new(40_000), Fen::new(30_001)]
        );
        // A third each of 100 fen: 33, 33, 34.
        let parts = Fen::new(100)
            .split_by_percent(&[d("33.33"), d("33.33"), d("33.34")])
            .unwrap();
        assert_eq!(parts, vec![Fen::new(33), Fen::new(33), Fen::new(34)]);
        assert_eq!(
            Fen::new(100).split_by_percent(&[d("50"), d("40")]),
            Err(MoneyError::BadShares)
        );
        assert_eq!(
            Fen::new(100).split_by_percent(&[]),
            Err(MoneyError::BadShares)
        );
        assert_eq!(
            Fen::new(100).split_by_percent(&[d("120"), d("-20")]),
            Err(MoneyError::BadShares)
        );
        assert_eq!(
            Fen::new(100).split_by_percent(&[d("100")]),
            Ok(vec![Fen::new(100)])
        );
    }

    /// Shares in hundredths of a percent summing to 100 %.
    fn shares() -> impl Strategy<Value = Vec<Decimal>> {
        prop::collection::vec(0u32..=10_000, 1..8).prop_map(|cuts| {
            let mut cuts = cuts;
            cuts.sort_unstable();
            let mut prev = 0;
            let mut out = Vec::new();
            for c in cuts.into_iter().chain([10_000]) {
                out.push(Decimal::new(i64::from(c - prev), 2));
                prev = c;
            }
            out
        })
    }

    proptest! {
        #[test]
        fn checked_arithmetic_never_wraps(a in any::<i64>(), b in any::<i64>(), n in any::<i64>()) {
            let (fa, fb) = (Fen::new(a), Fen::new(b));
            let wide = |x: i128| i64::try_from(x).map(Fen::new).map_err(|_| MoneyError::Overflow);
            prop_assert_eq!(fa.checked_add(fb), wide(i128::from(a) + i128::from(b)));
            prop_assert_eq!(fa.checked_sub(fb), wide(i128::from(a) - i128::from(b)));
            prop_assert_eq!(fa.checked_mul_int(n), wide(i128::from(a) * i128::from(n)));
            // Left to right, so an intermediate overflow is reported even when the total would fit.
            let expected = wide(i128::from(a) + i128::from(b))
                .and_then(|s| wide(i128::from(s.get()) + i128::from(n)));
            prop_assert_eq!(Fen::sum([fa, fb, Fen::new(n)]), expected);
        }

        #[test]
        fn allocation_always_sums_exactly(amount in any::<i64>(), shares in shares()) {
            let fen = Fen::new(amount);
            let parts = fen.split_by_percent(&shares).unwrap();
            prop_assert_eq!(parts.len(), shares.len());
            prop_assert_eq!(Fen::sum(parts.iter().copied()), Ok(fen));
            // Every part but the last is its share rounded toward zero: within one fen of exact.
            for (p, s) in parts.iter().zip(&shares).take(shares.len() - 1) {
                let exact = Decimal::from(amount) * *s / Decimal::from(100);
                prop_assert!((Decimal::from(p.get()) - exact).abs() < Decimal::ONE);
            }
        }
    }
}

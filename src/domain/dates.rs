//! The one reader of dates and date-times typed or sent by people and programs.
//!
//! chrono's own parsers are lenient in ways a register must not be: `%Y` takes a sign and any number of
//! digits (`+2026-01-01`, `02026-01-01`), `%m` and `%d` take one digit (`2026-1-1`), and RFC 3339 takes
//! leap seconds. Here a date is exactly `YYYY-MM-DD` and a date-time exactly
//! `YYYY-MM-DDTHH:MM[:SS[.fraction]]` (or with a space for the `T`), optionally followed by `Z` or
//! `±HH:MM`; nothing before or after. Years are bounded ([`RECORD_YEARS`]) so no date of record is a typing
//! slip like 0226 or 9999, and schedules are bounded by [`SCHEDULE_HORIZON_YEARS`].

use std::ops::RangeInclusive;

use chrono::{
    DateTime, Datelike, FixedOffset, Months, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc,
};

/// The years a date of record (registration, certificate, inspection, contract) or a schedule may fall in.
pub const RECORD_YEARS: RangeInclusive<i32> = 1900..=2200;

/// How far ahead a schedule (a tender's enquiry deadline, bid deadline, opening) may be set: ten years
/// after now. No procurement rule allows more than a few months between notice and opening (DOMAIN.md:
/// 3 working days to 20 days at least, contracts up to 3 years), so ten years only catches typing slips
/// such as the year 9999 while leaving every real plan possible.
pub const SCHEDULE_HORIZON_YEARS: u32 = 10;

/// A date written exactly `YYYY-MM-DD`, in [`RECORD_YEARS`].
pub fn parse_date(s: &str) -> Option<NaiveDate> {
    let mut c = Cursor(s.as_bytes());
    let d = c.date()?;
    c.end().then_some(d)
}

/// The first day of a month written `YYYY-MM`, within 2000–2100: how periods of counts, reports and flags
/// are given.
pub fn parse_month(s: &str) -> Option<NaiveDate> {
    parse_date(&format!("{}-01", s.trim())).filter(|d| (2000..=2100).contains(&d.year()))
}

/// A date-time as sent: `YYYY-MM-DDTHH:MM[:SS[.fraction]]` (`T` or a space), with an offset (`Z`,
/// `±HH:MM`) or without one, in which case it is a local time at `local`. The year is in [`RECORD_YEARS`].
pub fn parse_instant(s: &str, local: FixedOffset) -> Option<DateTime<Utc>> {
    let mut c = Cursor(s.as_bytes());
    let date = c.date()?;
    if !(c.eat(b'T') || c.eat(b' ')) {
        return None;
    }
    let h = c.digits(2)?;
    c.expect(b':')?;
    let m = c.digits(2)?;
    let (mut sec, mut nanos) = (0, 0);
    if c.eat(b':') {
        sec = c.digits(2)?;
        if c.eat(b'.') {
            let start = c.0.len();
            let mut n: u32 = 0;
            let mut k = 0;
            while let Some(d) = c.digit() {
                if k < 9 {
                    n = n * 10 + d;
                }
                k += 1;
            }
            if start == c.0.len() || k > 9 {
                return None;
            }
            nanos = n * 10u32.pow(9 - k);
        }
    }
    let time = NaiveTime::from_hms_nano_opt(h, m, sec, nanos).filter(|_| sec < 60)?;
    let naive = NaiveDateTime::new(date, time);
    let offset = if c.eat(b'Z') {
        FixedOffset::east_opt(0)?
    } else if c.0.first().is_some_and(|b| *b == b'+' || *b == b'-') {
        let sign = if c.eat(b'+') {
            1
        } else {
            c.eat(b'-').then_some(-1)?
        };
        let oh = c.digits(2)?;
        c.expect(b':')?;
        let om = c.digits(2)?;
        if oh > 23 || om > 59 {
            return None;
        }
        FixedOffset::east_opt(sign * (oh * 3600 + om * 60) as i32)?
    } else {
        local
    };
    if !c.end() {
        return None;
    }
    offset
        .from_local_datetime(&naive)
        .single()
        .map(|t| t.with_timezone(&Utc))
}

/// The latest time a schedule may be set to, seen from `now` ([`SCHEDULE_HORIZON_YEARS`]).
pub fn schedule_horizon(now: DateTime<Utc>) -> DateTime<Utc> {
    now.checked_add_months(Months::new(SCHEDULE_HORIZON_YEARS * 12))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// A byte reader for the fixed-width forms above.
struct Cursor<'a>(&'a [u8]);

impl Cursor<'_> {
    fn digit(&mut self) -> Option<u32> {
        let (b, rest) = self.0.split_first()?;
        if !b.is_ascii_digit() {
            return None;
        }
        self.0 = rest;
        Some(u32::from(b - b'0'))
    }
    /// Exactly `n` ASCII digits.
    fn digits(&mut self, n: usize) -> Option<u32> {
        let mut v = 0;
        for _ in 0..n {
            v = v * 10 + self.digit()?;
        }
        Some(v)
    }
    fn eat(&mut self, b: u8) -> bool {
        match self.0.split_first() {
            Some((x, rest)) if *x == b => {
                self.0 = rest;
                true
            }
            _ => false,
        }
    }
    fn expect(&mut self, b: u8) -> Option<()> {
        self.eat(b).then_some(())
    }
    fn end(&self) -> bool {
        self.0.is_empty()
    }
    fn date(&mut self) -> Option<NaiveDate> {
        let y = self.digits(4)? as i32;
        self.expect(b'-')?;
        let m = self.digits(2)?;
        self.expect(b'-')?;
        let d = self.digits(2)?;
        if !RECORD_YEARS.contains(&y) {
            return None;
        }
        NaiveDate::from_ymd_opt(y, m, d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bj() -> FixedOffset {
        FixedOffset::east_opt(8 * 3600).unwrap()
    }

    #[test]
    fn months_are_written_yyyy_mm_within_2000_to_2100() {
        let d = |y, m| NaiveDate::from_ymd_opt(y, m, 1);
        assert_eq!(parse_month("2026-03"), d(2026, 3));
        assert_eq!(parse_month(" 2000-01 "), d(2000, 1));
        assert_eq!(parse_month("2100-12"), d(2100, 12));
        for bad in [
            "", "2026-13", "2026-00", "1999-12", "2101-01", "2026-3-1", "2026/03", "march",
        ] {
            assert_eq!(parse_month(bad), None, "{bad}");
        }
    }

    #[test]
    fn dates_are_exactly_yyyy_mm_dd() {
        assert_eq!(
            parse_date("2026-01-01"),
            NaiveDate::from_ymd_opt(2026, 1, 1)
        );
        assert_eq!(
            parse_date("2024-02-29"),
            NaiveDate::from_ymd_opt(2024, 2, 29)
        );
        assert_eq!(
            parse_date("1900-01-01"),
            NaiveDate::from_ymd_opt(1900, 1, 1)
        );
        assert_eq!(
            parse_date("2200-12-31"),
            NaiveDate::from_ymd_opt(2200, 12, 31)
        );
        for bad in [
            "+2026-01-01",
            "-2026-01-01",
            "02026-01-01",
            "2026-1-1",
            "2026-01-1",
            "2026-1-01",
            " 2026-01-01",
            "2026-01-01 ",
            "2026-01-01x",
            "2026-01-01T00:00",
            "2026/01/01",
            "20260101",
            "2026-13-01",
            "2026-02-30",
            "2025-02-29",
            "2026-00-10",
            "9999-12-31",
            "1899-12-31",
            "2201-01-01",
            "0226-01-01",
            "２０２６-01-01",
            "2026-01-01\0",
            "",
        ] {
            assert_eq!(parse_date(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn date_times_local_or_with_an_offset() {
        let at = |s: &str| parse_instant(s, bj()).map(|t| t.to_rfc3339());
        let utc = Some("2026-12-20T01:30:00+00:00".to_string());
        for ok in [
            "2026-12-20T09:30",
            "2026-12-20 09:30",
            "2026-12-20T09:30:00",
            "2026-12-20 09:30:00",
            "2026-12-20T09:30:00+08:00",
            "2026-12-20T01:30:00Z",
            "2026-12-20T01:30Z",
            "2026-12-19T20:30:00-05:00",
            "2026-12-20T01:30:00.000Z",
        ] {
            assert_eq!(at(ok), utc, "{ok:?}");
        }
        assert_eq!(
            at("2026-12-20T01:30:00.5Z"),
            Some("2026-12-20T01:30:00.500+00:00".to_string())
        );
        for bad in [
            "+2026-12-20T09:30",
            "2026-12-2T09:30",
            "2026-12-20T9:30",
            "2026-12-20T09:3",
            "2026-12-20",
            "2026-12-20T",
            " 2026-12-20T09:30",
            "2026-12-20T09:30 ",
            "2026-12-20T09:30:60",
            "2026-12-20T24:00",
            "2026-12-20T09:30:00+8:00",
            "2026-12-20T09:30:00+0800",
            "2026-12-20T09:30:00+24:00",
            "2026-12-20T09:30:00.Z",
            "2026-12-20T09:30:00.1234567891Z",
            "2026-12-20T09:30Zx",
            "9999-12-20T09:30",
            "1800-12-20T09:30",
            "2026-12-20T09:30\0",
            "2026-12-20t09:30",
        ] {
            assert_eq!(at(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn the_schedule_horizon_is_ten_years() {
        let now = Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap();
        assert_eq!(
            schedule_horizon(now),
            Utc.with_ymd_and_hms(2036, 3, 1, 0, 0, 0).unwrap()
        );
        let far = parse_instant("2036-03-01T08:00:01", bj()).unwrap();
        assert!(far > schedule_horizon(now));
        let near = parse_instant("2036-03-01T08:00", bj()).unwrap();
        assert!(near <= schedule_horizon(now));
    }
}

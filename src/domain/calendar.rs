//! The business calendar: PRC public holidays and adjusted working days (调休), loaded from data.
//!
//! Every Monday–Friday is a working day and every Saturday and Sunday a day off, except the days the data
//! lists. A year without data falls back to the ordinary week, and every answer that touched such a year says
//! so (`CalendarWarning`), so the UI and the log can warn instead of guessing.

use std::collections::{BTreeSet, HashMap};

use chrono::{Datelike, Duration, NaiveDate, Weekday};

/// The official days for 2024–2026 (State Council notices), compiled in; `SANSHE_CALENDAR_FILE` can
/// replace it with a newer file of the same format.
pub const BUILTIN: &str = include_str!("prc-holidays.csv");

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DayKind {
    Holiday,
    Workday,
}

#[derive(Clone, Debug, Default)]
pub struct BusinessCalendar {
    days: HashMap<NaiveDate, (DayKind, String)>,
    years: BTreeSet<i32>,
}

/// A computation used a year the calendar has no data for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CalendarWarning {
    pub year: i32,
}

impl CalendarWarning {
    pub fn message(&self) -> crate::error::Msg {
        crate::error::Msg::new(
            format!(
                "{} 年的节假日安排尚未载入，按普通周末计算工作日。",
                self.year
            ),
            format!(
                "No holiday data for {}: working days are counted on the ordinary week.",
                self.year
            ),
        )
    }
}

impl BusinessCalendar {
    /// Parse `date,kind,name,source` lines (header first); `kind` is `holiday` or `workday`.
    pub fn parse(csv: &str) -> Result<BusinessCalendar, String> {
        let mut cal = BusinessCalendar::default();
        for (i, line) in csv.lines().enumerate().skip(1) {
            let line = line.trim();
            if line.is_empty() {
                continue;
            }
            let mut parts = line.splitn(4, ',');
            let (date, kind, name) = (
                parts.next().unwrap_or(""),
                parts.next().unwrap_or(""),
                parts.next().unwrap_or(""),
            );
            let date = NaiveDate::parse_from_str(date, "%Y-%m-%d")
                .map_err(|e| format!("calendar line {}: bad date {date:?}: {e}", i + 1))?;
            let kind = match kind {
                "holiday" => DayKind::Holiday,
                "workday" => DayKind::Workday,
                other => {
                    return Err(format!(
                        "calendar line {}: kind {other:?} is neither holiday nor workday",
                        i + 1
                    ));
                }
            };
            cal.years.insert(date.year());
            cal.days.insert(date, (kind, name.to_string()));
        }
        Ok(cal)
    }

    pub fn builtin() -> BusinessCalendar {
        BusinessCalendar::parse(BUILTIN).expect("the built-in calendar parses")
    }

    /// Years with data.
    pub fn years(&self) -> impl Iterator<Item = i32> + '_ {
        self.years.iter().copied()
    }

    pub fn covers(&self, year: i32) -> bool {
        self.years.contains(&year)
    }

    pub fn is_working_day(&self, d: NaiveDate) -> bool {
        match self.days.get(&d) {
            Some((DayKind::Holiday, _)) => false,
            Some((DayKind::Workday, _)) => true,
            None => !matches!(d.weekday(), Weekday::Sat | Weekday::Sun),
        }
    }

    /// The holiday's name, when `d` is one.
    pub fn holiday_name(&self, d: NaiveDate) -> Option<&str> {
        match self.days.get(&d) {
            Some((DayKind::Holiday, n)) => Some(n),
            _ => None,
        }
    }

    /// The day `n` working days after `from` (from itself not counted): the deadline "within n working
    /// days". With `n = 0`, `from`.
    pub fn add_working_days(&self, from: NaiveDate, n: u32) -> (NaiveDate, Vec<CalendarWarning>) {
        let mut d = from;
        let mut left = n;
        let mut warnings = BTreeSet::new();
        while left > 0 {
            d += Duration::days(1);
            if !self.covers(d.year()) {
                warnings.insert(d.year());
            }
            if self.is_working_day(d) {
                left -= 1;
            }
        }
        (
            d,
            warnings
                .into_iter()
                .map(|year| CalendarWarning { year })
                .collect(),
        )
    }

    /// Working days after `from` up to and including `to` (0 when `to <= from`).
    pub fn working_days_between(&self, from: NaiveDate, to: NaiveDate) -> u32 {
        let mut n = 0;
        let mut d = from;
        while d < to {
            d += Duration::days(1);
            if self.is_working_day(d) {
                n += 1;
            }
        }
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn holidays_and_adjusted_workdays() {
        let c = BusinessCalendar::builtin();
        assert!(c.covers(2024) && c.covers(2025) && c.covers(2026));
        assert!(!c.is_working_day(d("2025-10-01")), "National Day");
        assert!(!c.is_working_day(d("2025-10-08")));
        assert!(
            c.is_working_day(d("2025-09-28")),
            "Sunday worked for National Day"
        );
        assert!(c.is_working_day(d("2025-10-11")), "Saturday worked");
        assert!(!c.is_working_day(d("2025-10-12")), "ordinary Sunday");
        assert!(c.is_working_day(d("2025-10-09")));
        assert_eq!(c.holiday_name(d("2026-02-17")), Some("春节"));
    }

    #[test]
    fn deadlines_in_working_days() {
        let c = BusinessCalendar::builtin();
        // Applied on Tuesday 2025-09-30: 5 working days skip the eight-day holiday and count Saturday 10-11.
        let (due, w) = c.add_working_days(d("2025-09-30"), 5);
        assert_eq!(due, d("2025-10-14"));
        assert!(w.is_empty());
        assert_eq!(c.working_days_between(d("2025-09-30"), due), 5);
        // An ordinary week: Friday + 5 working days = next Friday.
        assert_eq!(c.add_working_days(d("2025-11-14"), 5).0, d("2025-11-21"));
        assert_eq!(c.add_working_days(d("2025-11-14"), 0).0, d("2025-11-14"));
    }

    #[test]
    fn a_year_without_data_warns() {
        let c = BusinessCalendar::builtin();
        let (due, w) = c.add_working_days(d("2026-12-30"), 5);
        // 2027-01-01 is a Friday: without data it counts as a working day, and the answer says so.
        assert_eq!(due, d("2027-01-06"));
        assert_eq!(w, vec![CalendarWarning { year: 2027 }]);
        assert!(w[0].message().zh.contains("2027"));
    }

    #[test]
    fn bad_data_is_refused() {
        assert!(BusinessCalendar::parse("date,kind,name,source\n2025-13-01,holiday,x,y").is_err());
        assert!(BusinessCalendar::parse("date,kind,name,source\n2025-01-01,party,x,y").is_err());
    }
}

//! The service's sense of time, injected so tests can move it.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, FixedOffset, Utc};

pub trait Clock: Send + Sync + std::fmt::Debug {
    fn now(&self) -> DateTime<Utc>;
}

#[derive(Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that stands still until moved; for tests.
#[derive(Debug, Clone)]
pub struct ManualClock(Arc<Mutex<DateTime<Utc>>>);

impl ManualClock {
    pub fn new(at: DateTime<Utc>) -> ManualClock {
        ManualClock(Arc::new(Mutex::new(at)))
    }
    pub fn advance(&self, by: Duration) {
        let mut t = self.0.lock().unwrap_or_else(|p| p.into_inner());
        *t += by;
    }
    pub fn set(&self, at: DateTime<Utc>) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = at;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Asia/Shanghai has had no daylight saving since 1991: a fixed +08:00 offset is exact.
pub fn shanghai() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).expect("valid offset")
}

/// Today's date in Beijing: the date every rule of the service counts from.
pub fn beijing_date(now: DateTime<Utc>) -> chrono::NaiveDate {
    now.with_timezone(&shanghai()).date_naive()
}

/// The UTC instants (as stored, microseconds) at which a Beijing day begins and the next one begins.
pub fn beijing_day_bounds(
    day: chrono::NaiveDate,
) -> (chrono::NaiveDateTime, chrono::NaiveDateTime) {
    let start = day.and_time(chrono::NaiveTime::MIN) - Duration::hours(8);
    (start, start + Duration::days(1))
}

/// Whole seconds from `now` until the next midnight in Beijing (at least 1): the `Retry-After` of a
/// per-day limit.
pub fn seconds_to_beijing_midnight(now: DateTime<Utc>) -> u64 {
    let (_, next) = beijing_day_bounds(beijing_date(now));
    let left = next.and_utc() - now;
    u64::try_from(left.num_seconds()).unwrap_or(0).max(1)
}

/// Format a stored UTC time for people, in Beijing time.
pub fn display(t: chrono::NaiveDateTime) -> String {
    t.and_utc()
        .with_timezone(&shanghai())
        .format("%Y-%m-%d %H:%M:%S")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn beijing_days_start_at_16_utc() {
        let d = chrono::NaiveDate::from_ymd_opt(2026, 3, 10).unwrap();
        let (start, end) = beijing_day_bounds(d);
        assert_eq!(start.to_string(), "2026-03-09 16:00:00");
        assert_eq!(end.to_string(), "2026-03-10 16:00:00");
        // 23:59:30 in Beijing: 30 seconds to midnight.
        let now = Utc.with_ymd_and_hms(2026, 3, 10, 15, 59, 30).unwrap();
        assert_eq!(seconds_to_beijing_midnight(now), 30);
        // 00:00:00 in Beijing: a whole day.
        let now = Utc.with_ymd_and_hms(2026, 3, 10, 16, 0, 0).unwrap();
        assert_eq!(seconds_to_beijing_midnight(now), 86_400);
    }
}

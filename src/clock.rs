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

/// Format a stored UTC time for people, in Beijing time.
pub fn display(t: chrono::NaiveDateTime) -> String {
    t.and_utc()
        .with_timezone(&shanghai())
        .format("%Y-%m-%d %H:%M:%S")
        .to_string()
}

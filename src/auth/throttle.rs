//! Slows repeated failed sign-ins: per account and per client address, a lock that doubles with each
//! further failure. Kept in memory: a restart forgets it, which only ever helps a legitimate user; behind
//! several processes each keeps its own count, so the effective limit is multiplied by the process count.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failures older than this are forgotten.
const WINDOW: Duration = Duration::from_secs(15 * 60);
const MAX_LOCK: Duration = Duration::from_secs(60 * 60);

#[derive(Debug)]
struct Entry {
    failures: u32,
    last: Instant,
    locked_until: Option<Instant>,
}

#[derive(Debug, Default)]
pub struct Throttle {
    entries: Mutex<HashMap<String, Entry>>,
}

impl Throttle {
    /// Seconds to wait when `key` is locked now.
    pub fn locked(&self, key: &str) -> Option<u64> {
        let now = Instant::now();
        let map = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        map.get(key)
            .and_then(|e| e.locked_until)
            .filter(|until| *until > now)
            .map(|until| (until - now).as_secs().max(1))
    }

    /// Count a failure; locks the key once `max` failures are reached within the window.
    pub fn fail(&self, key: &str, max: u32, base_lock: Duration) {
        let now = Instant::now();
        let mut map = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() > 100_000 {
            map.retain(|_, e| {
                now.duration_since(e.last) < WINDOW || e.locked_until.is_some_and(|u| u > now)
            });
        }
        let e = map.entry(key.to_string()).or_insert(Entry {
            failures: 0,
            last: now,
            locked_until: None,
        });
        if now.duration_since(e.last) > WINDOW && e.locked_until.is_none_or(|u| u <= now) {
            e.failures = 0;
        }
        e.failures += 1;
        e.last = now;
        if e.failures >= max {
            let doublings = (e.failures - max).min(16);
            let lock = base_lock.saturating_mul(1u32 << doublings).min(MAX_LOCK);
            e.locked_until = Some(now + lock);
        }
    }

    pub fn clear(&self, key: &str) {
        self.entries
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locks_after_max_and_clears() {
        let t = Throttle::default();
        for _ in 0..2 {
            t.fail("u:a", 3, Duration::from_secs(30));
            assert!(t.locked("u:a").is_none());
        }
        t.fail("u:a", 3, Duration::from_secs(30));
        let wait = t.locked("u:a").unwrap();
        assert!((29..=30).contains(&wait), "{wait}");
        t.fail("u:a", 3, Duration::from_secs(30));
        assert!(t.locked("u:a").unwrap() > 30, "lock doubles");
        assert!(t.locked("u:b").is_none());
        t.clear("u:a");
        assert!(t.locked("u:a").is_none());
    }
}

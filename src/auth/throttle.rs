//! Slows password guessing (sign-in, and the current password of a password change) without letting a
//! guesser lock the real owner out. Three counts of failures, each forgotten 15 minutes after its last one:
//!
//! - **(account, address)**: after `pair_max` failures this pair is locked, and the lock doubles with each
//!   further failure (up to an hour). A success clears it. This is what stops a guesser.
//! - **account**, from any address: from `pair_max` failures on, every attempt on the account waits a short
//!   delay first (doubling from 250 ms, capped at `account_delay_max`): it slows a guesser who moves from
//!   address to address, and it is never a lock, so the owner signs in from another address. A success
//!   clears it.
//! - **address**, to any account: from `addr_max` failures on, the address waits `addr_lock` after each
//!   further failure. It does not double and a success does not clear it: everyone behind one NAT is slowed
//!   while someone there keeps failing, never locked out for long.
//!
//! Refused attempts (while locked) are not verified and not counted. Kept in memory: a restart forgets it,
//! which only ever helps a legitimate user; behind several processes each keeps its own counts, so the
//! effective limits multiply by the process count.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failures older than this are forgotten.
const WINDOW: Duration = Duration::from_secs(15 * 60);
const MAX_LOCK: Duration = Duration::from_secs(60 * 60);
/// The account-wide delay at `pair_max` failures; it doubles with each further failure up to the cap.
const ACCOUNT_DELAY_STEP: Duration = Duration::from_millis(250);
/// Entries kept before forgotten ones are swept.
const SWEEP_AT: usize = 100_000;

/// The limits, from the configuration.
#[derive(Clone, Copy, Debug)]
pub struct Policy {
    /// Failures of one (account, address) pair before it is locked.
    pub pair_max: u32,
    /// The first lock of a pair; doubles with each further failure.
    pub pair_lock: Duration,
    /// Failures from one address before it waits `addr_lock` after each further failure.
    pub addr_max: u32,
    pub addr_lock: Duration,
    /// The longest account-wide delay.
    pub account_delay_max: Duration,
}

impl Policy {
    pub fn from_config(c: &crate::config::Config) -> Policy {
        Policy {
            pair_max: c.login_max_failures,
            pair_lock: c.login_lock,
            addr_max: c.login_max_failures_per_addr,
            addr_lock: c.login_lock,
            account_delay_max: c.login_account_delay_max,
        }
    }
}

#[derive(Debug)]
struct Entry {
    failures: u32,
    last: Instant,
    locked_until: Option<Instant>,
}

impl Entry {
    fn live(&self, now: Instant) -> bool {
        now.duration_since(self.last) < WINDOW || self.locked_until.is_some_and(|u| u > now)
    }
}

#[derive(Debug, Default)]
pub struct Throttle {
    entries: Mutex<HashMap<String, Entry>>,
}

fn pair_key(account: &str, addr: &str) -> String {
    // NUL never occurs in an address; the account comes last, so no two pairs share a key.
    format!("p:{addr}\0{account}")
}

fn account_key(account: &str) -> String {
    format!("u:{account}")
}

fn addr_key(addr: &str) -> String {
    format!("a:{addr}")
}

impl Throttle {
    /// May `account` be tried from `addr` now? `Ok(delay)` to wait before verifying (zero mostly), or
    /// `Err(seconds)` to refuse with 429 and `Retry-After`.
    pub fn check(&self, account: &str, addr: &str, p: &Policy) -> Result<Duration, u64> {
        self.check_at(Instant::now(), account, addr, p)
    }

    fn check_at(
        &self,
        now: Instant,
        account: &str,
        addr: &str,
        p: &Policy,
    ) -> Result<Duration, u64> {
        let map = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        let locked = |key: String| {
            map.get(&key)
                .and_then(|e| e.locked_until)
                .filter(|until| *until > now)
                .map(|until| (until - now).as_secs_f64().ceil().max(1.0) as u64)
        };
        if let Some(wait) = locked(pair_key(account, addr)).or_else(|| locked(addr_key(addr))) {
            return Err(wait);
        }
        let failures = map
            .get(&account_key(account))
            .filter(|e| e.live(now))
            .map_or(0, |e| e.failures);
        Ok(account_delay(failures, p))
    }

    /// Count a failure of `account` from `addr`.
    pub fn fail(&self, account: &str, addr: &str, p: &Policy) {
        self.fail_at(Instant::now(), account, addr, p)
    }

    fn fail_at(&self, now: Instant, account: &str, addr: &str, p: &Policy) {
        let mut map = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() > SWEEP_AT {
            map.retain(|_, e| e.live(now));
        }
        let pair = bump(&mut map, pair_key(account, addr), now);
        if pair.failures >= p.pair_max {
            let doublings = (pair.failures - p.pair_max).min(16);
            let lock = p.pair_lock.saturating_mul(1u32 << doublings).min(MAX_LOCK);
            pair.locked_until = Some(now + lock);
        }
        let a = bump(&mut map, addr_key(addr), now);
        if a.failures >= p.addr_max {
            a.locked_until = Some(now + p.addr_lock);
        }
        bump(&mut map, account_key(account), now);
    }

    /// A right password: the pair and the account-wide delay start afresh (the address count stays: others
    /// behind that address may still be guessing).
    pub fn succeed(&self, account: &str, addr: &str) {
        let mut map = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        map.remove(&pair_key(account, addr));
        map.remove(&account_key(account));
    }
}

/// One more failure under `key`, starting afresh when the earlier ones are forgotten.
fn bump(map: &mut HashMap<String, Entry>, key: String, now: Instant) -> &mut Entry {
    let e = map.entry(key).or_insert(Entry {
        failures: 0,
        last: now,
        locked_until: None,
    });
    if !e.live(now) {
        e.failures = 0;
        e.locked_until = None;
    }
    e.failures = e.failures.saturating_add(1);
    e.last = now;
    e
}

/// The account-wide delay after `failures` recent failures.
fn account_delay(failures: u32, p: &Policy) -> Duration {
    if failures < p.pair_max {
        return Duration::ZERO;
    }
    let doublings = (failures - p.pair_max).min(16);
    ACCOUNT_DELAY_STEP
        .saturating_mul(1u32 << doublings)
        .min(p.account_delay_max)
}

#[cfg(test)]
mod tests {
    use super::*;

    const P: Policy = Policy {
        pair_max: 3,
        pair_lock: Duration::from_secs(30),
        addr_max: 5,
        addr_lock: Duration::from_secs(10),
        account_delay_max: Duration::from_secs(2),
    };

    #[test]
    fn the_pair_locks_and_doubles_and_a_success_clears_it() {
        let t = Throttle::default();
        let now = Instant::now();
        for _ in 0..2 {
            t.fail_at(now, "admin", "A", &P);
            assert!(t.check_at(now, "admin", "A", &P).is_ok());
        }
        t.fail_at(now, "admin", "A", &P);
        assert_eq!(t.check_at(now, "admin", "A", &P), Err(30));
        assert_eq!(
            t.check_at(now + Duration::from_secs(10), "admin", "A", &P),
            Err(20)
        );
        t.fail_at(now, "admin", "A", &P);
        assert_eq!(t.check_at(now, "admin", "A", &P), Err(60), "lock doubles");
        // The same account from another address: a delay, never a refusal.
        assert!(t.check_at(now, "admin", "B", &P).is_ok());
        // Another account from the same address: not locked (the address is under its limit).
        assert_eq!(t.check_at(now, "bureau", "A", &P), Ok(Duration::ZERO));
        t.succeed("admin", "A");
        assert_eq!(t.check_at(now, "admin", "A", &P), Ok(Duration::ZERO));
    }

    #[test]
    fn the_account_delay_grows_and_stops_at_the_cap() {
        let t = Throttle::default();
        let now = Instant::now();
        let mut delays = Vec::new();
        // A guesser moving from address to address: every address stays under its own limits.
        for i in 0..40 {
            delays.push(t.check_at(now, "admin", "owner", &P).unwrap());
            t.fail_at(now, "admin", &format!("10.0.0.{i}"), &P);
        }
        let ms: Vec<u128> = delays.iter().map(|d| d.as_millis()).collect();
        assert_eq!(&ms[..7], [0, 0, 0, 250, 500, 1000, 2000]);
        assert!(ms[7..].iter().all(|m| *m == 2000), "{ms:?}");
        // Forgotten after the window.
        assert_eq!(
            t.check_at(now + WINDOW + Duration::from_secs(1), "admin", "owner", &P),
            Ok(Duration::ZERO)
        );
        // A success from anywhere starts it afresh.
        t.succeed("admin", "owner");
        assert_eq!(t.check_at(now, "admin", "owner", &P), Ok(Duration::ZERO));
    }

    #[test]
    fn an_address_over_its_limit_waits_a_fixed_time() {
        let t = Throttle::default();
        let now = Instant::now();
        for i in 0..5 {
            assert!(t.check_at(now, &format!("user{i}"), "NAT", &P).is_ok());
            t.fail_at(now, &format!("user{i}"), "NAT", &P);
        }
        // Everyone behind the address waits, for anyone…
        assert_eq!(t.check_at(now, "someone", "NAT", &P), Err(10));
        // …but not for long, and never longer however many failures come.
        let later = now + Duration::from_secs(11);
        assert!(t.check_at(later, "someone", "NAT", &P).is_ok());
        for i in 0..20 {
            t.fail_at(later, &format!("x{i}"), "NAT", &P);
        }
        assert_eq!(t.check_at(later, "someone", "NAT", &P), Err(10));
        // A success does not clear the address.
        t.succeed("someone", "NAT");
        assert_eq!(t.check_at(later, "someone", "NAT", &P), Err(10));
        // Other addresses are untouched.
        assert_eq!(t.check_at(later, "someone", "B", &P), Ok(Duration::ZERO));
    }
}

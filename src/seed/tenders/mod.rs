//! Demo tenders for the seed district (DOMAIN.md, "The seed district"): the district's purchase history of
//! 97 awarded service projects worth ¥14.5 million from March 2017 to June 2021 and about two dozen a year
//! since, and one or more current tenders in every
//! state of the life cycle, so the demo's lists, timelines, reports and later the ledger have something real
//! to show.
//!
//! Rows are written directly rather than through the request handlers (which read the clock, audit every
//! step and send e-mail), but as the handlers would have left them: every bid is really sealed under the
//! server's seal key with a real commitment, so the public commitment check and `verify` hold; the panel's
//! scores rank each winner first; the timeline follows the life cycle; and no current tender is due for a
//! clock transition, so the scheduler leaves each where it was put. Titles, amounts, bidders and scores are
//! deterministic; only ids, times relative to `now`, nonces and ciphertexts vary between runs.
//!
//! Here: the entry point, the seeder and the pseudo-random helpers; `terms` (schedule, criteria, texts),
//! `world` (organisations, streets, evaluators), `rows` (what is written), `build` (the building blocks),
//! `history` (the purchase history), `current` (the current tenders).

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, TimeZone, Utc};
use diesel::prelude::*;
use rust_decimal::Decimal;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::audit::{self, Actor};
use crate::db::schema::{
    bid_scores, bids, challenges, communities, enquiries, organisation_fields, organisations,
    panel_draws, panel_members, social_workers, streets, tender_events, tender_streets, tenders,
    users,
};
use crate::db::{DbConn, write_tx};
use crate::domain::commitment::FIELDWISE;
use crate::domain::standing::Status;
use crate::domain::tender::Note;
use crate::domain::tender::{
    self as rules, BudgetLine, Category, Criteria, Criterion, Eligibility, Instalment, Method,
    RankInput, State, Targets,
};
use crate::error::AppError;
use crate::tenders::bids::{BidContent, StaffEntry};
use crate::tenders::{Ctx, seal};

/// The purchase history of DOMAIN.md: 97 projects…
pub const HISTORY_PROJECTS: usize = 97;
/// …worth exactly ¥14,500,000.00 together (the contract amounts are scaled to land on it).
pub const HISTORY_TOTAL_FEN: i64 = 1_450_000_000;
/// Projects the district awards a year after June 2021 (about the history's pace).
pub const LATER_PER_YEAR: usize = 24;
/// Bounds of one history contract, in yuan.
const MIN_YUAN: i64 = 60_000;
const MAX_YUAN: i64 = 380_000;

/// The four fields of the history, weighted as the district buys: elderly services most.
const FIELD_CYCLE: [&str; 9] = [
    "elderly",
    "youth",
    "disability",
    "elderly",
    "relief",
    "youth",
    "elderly",
    "disability",
    "relief",
];

// ---------------------------------------------------------------------------------------------------------
// Deterministic variety.

/// SplitMix64: a well-mixed hash of a counter, so "random" choices repeat on every run.
fn mix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A number in `lo..=hi` chosen by `seed`.
fn roll(seed: u64, lo: i64, hi: i64) -> i64 {
    lo + (mix(seed) % (hi - lo + 1) as u64) as i64
}

/// A sub-seed, so that different choices about the same item do not move together.
fn sub(seed: u64, salt: u64) -> u64 {
    mix(seed ^ salt.wrapping_mul(0xD6E8_FEB8_6659_FD93))
}

/// Round yuan to the nearest hundred, as bids are priced.
fn round_hundred(yuan: i64) -> i64 {
    (yuan + 50) / 100 * 100
}

/// A multi-row INSERT. The `MultiConnection` backend does not offer batch inserts, but each concrete
/// connection does (none of these rows needs a DEFAULT), so the statement is built for the one in use: some
/// thousand timeline rows and scores then cost a few dozen statements instead of one each.
macro_rules! insert_batch {
    ($conn:expr, $table:expr, $rows:expr) => {
        match $conn {
            DbConn::Sqlite(c) => diesel::insert_into($table).values($rows).execute(c)?,
            DbConn::Pg(c) => diesel::insert_into($table).values($rows).execute(c)?,
        }
    };
}

// Declared after `insert_batch!`, which `current` uses (a `macro_rules!` is in scope only below it).
mod build;
mod current;
mod history;
mod procedures;
mod rows;
mod terms;
mod world;

pub use history::*;
use rows::*;
use terms::*;
use world::*;

/// While a panel evaluates, its first member submits this long after being seated.
const FIRST_SCORE: Duration = Duration::minutes(50);

// ---------------------------------------------------------------------------------------------------------
// The seeder.

struct Seeder<'a> {
    ctx: &'a Ctx,
    now: DateTime<Utc>,
    w: World,
    /// Next code number per year.
    codes: BTreeMap<i32, u32>,
    events: Vec<NewEvent>,
    members: Vec<NewMember>,
    draws: Vec<NewDraw>,
    scores: Vec<NewScore>,
    areas: Vec<NewArea>,
    bids: usize,
    by_state: BTreeMap<&'static str, usize>,
    titles: HashSet<String>,
}

/// Seed the demo tenders: the purchase history and the current tenders, in one transaction, with one
/// audit event. Does nothing when any tender exists, or when the registry demo (streets, organisations
/// with accounts) is missing.
pub fn seed_demo(conn: &mut DbConn, ctx: &Ctx, now: DateTime<Utc>) -> Result<(), AppError> {
    write_tx(conn, |conn| {
        let any: i64 = tenders::table.count().get_result(conn)?;
        if any > 0 {
            return Ok(());
        }
        let Some(w) = World::load(conn, ctx, now)? else {
            tracing::info!("no registry demo to build tenders on; demo tenders skipped");
            return Ok(());
        };
        let started = std::time::Instant::now();
        let mut s = Seeder::new(conn, ctx, now, w)?;
        let total = s.history(conn)?;
        s.current(conn)?;
        s.flush(conn)?;
        // After the rows above: these go through the services, which read them.
        s.procedures(conn)?;
        audit::record(
            conn,
            &Actor::system("seed"),
            now,
            "tender.seed_demo",
            "tender",
            None,
            None,
            Some(serde_json::json!({
                "tenders": s.by_state.values().sum::<usize>(),
                "by_state": s.by_state,
                "history_projects": HISTORY_PROJECTS,
                "history_total_fen": total,
                "bids": s.bids,
            })),
        )?;
        tracing::info!(
            tenders = s.by_state.values().sum::<usize>(),
            bids = s.bids,
            history_total_fen = total,
            ms = started.elapsed().as_millis() as u64,
            "seeded the demo tenders"
        );
        Ok(())
    })
}

impl<'a> Seeder<'a> {
    /// A seeder over `w`; tender codes continue each year's numbering already in the database.
    fn new(conn: &mut DbConn, ctx: &'a Ctx, now: DateTime<Utc>, w: World) -> QueryResult<Self> {
        let mut codes: BTreeMap<i32, u32> = BTreeMap::new();
        let mut titles = HashSet::new();
        for (code, title) in tenders::table
            .select((tenders::code, tenders::title))
            .load::<(String, String)>(conn)?
        {
            // GDMZ-YYYY-NNN
            let mut parts = code.rsplitn(3, '-');
            if let (Some(n), Some(y)) = (parts.next(), parts.next())
                && let (Ok(n), Ok(y)) = (n.parse::<u32>(), y.parse::<i32>())
            {
                let c = codes.entry(y).or_insert(0);
                *c = (*c).max(n);
            }
            titles.insert(title);
        }
        Ok(Seeder {
            ctx,
            now,
            w,
            codes,
            events: Vec::new(),
            members: Vec::new(),
            draws: Vec::new(),
            scores: Vec::new(),
            areas: Vec::new(),
            bids: 0,
            by_state: BTreeMap::new(),
            titles,
        })
    }
}

/// `n` more awarded projects of the history's kind, published over the ten months before the last two and a
/// half (so their contracts run now), on a database that holds the demo. For `sanshe bench-ledger`, which
/// needs hundreds of payable instalments; their contracts are made by calling `seed::contracts::seed_demo`
/// again. Returns the total of the winning prices.
pub fn seed_more_awarded(
    conn: &mut DbConn,
    ctx: &Ctx,
    now: DateTime<Utc>,
    n: usize,
) -> Result<i64, AppError> {
    write_tx(conn, |conn| {
        let Some(w) = World::load(conn, ctx, now)? else {
            return Err(AppError::internal("no registry demo to build tenders on"));
        };
        let mut s = Seeder::new(conn, ctx, now, w)?;
        let end = s.today() - Duration::days(75);
        let first = end - Duration::days(300);
        let mut total = 0;
        for (k, amount) in later_amounts(n).into_iter().enumerate() {
            let on = spread(first, end, k, n);
            total += s.project(conn, 1_000_000 + k, on, amount)?;
        }
        s.flush(conn)?;
        Ok(total)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn history_amounts_total_exactly_and_stay_in_range() {
        let a = history_amounts();
        assert_eq!(a.len(), 97);
        // ¥14,500,000.00 exactly: 1,450,000,000 fen.
        assert_eq!(a.iter().sum::<i64>(), HISTORY_TOTAL_FEN);
        assert!(
            a.iter()
                .all(|x| (6_000_000..=38_000_000).contains(x) && x % 10_000 == 0)
        );
        assert_eq!(a, history_amounts(), "deterministic");
    }

    #[test]
    fn later_amounts_are_of_the_history_kind() {
        let a = later_amounts(120);
        assert!(
            a.iter()
                .all(|x| (6_000_000..=38_000_000).contains(x) && x % 10_000 == 0)
        );
        // About the history's average project (¥149,485), give or take a fifth.
        let mean = a.iter().sum::<i64>() / a.len() as i64;
        assert!((12_000_000..=18_000_000).contains(&mean), "{mean}");
        assert_eq!(a, later_amounts(120), "deterministic");
    }

    #[test]
    fn bid_budgets_respect_the_caps() {
        let ctx = Ctx {
            rules: rules::TenderRules::default(),
            cal: std::sync::Arc::new(crate::domain::calendar::BusinessCalendar::builtin()),
            sealer: seal::Sealer::new("a-test-secret-of-some-length-000000"),
            file_sealer: std::sync::Arc::new(crate::files::seal::FileSealer::new(
                "a-test-secret-of-some-length-000000",
            )),
            bid_files_max: 100 << 20,
            standing: Default::default(),
            public_url: String::new(),
        };
        for (i, price) in [6_000_000i64, 14_873_300, 38_000_000, 12_345_678]
            .into_iter()
            .enumerate()
        {
            let lines = budget_lines(&ctx, price, i as u64);
            assert!(rules::check_budget(&lines, price, &ctx.rules).is_empty());
        }
        for seed in 0..6 {
            assert!(
                rules::check_criteria(
                    &criteria(&ctx, seed),
                    Some(Method::Consultation),
                    &ctx.rules
                )
                .is_empty()
            );
        }
    }
}

//! The purchase history: the 97 projects bought from March 2017 to June 2021, those of the years since,
//! and their amounts.

use super::*;

/// The contract amounts of the history, fen, in publication order: between ¥60,000 and ¥380,000, most
/// near ¥100,000–¥200,000 with a long tail, summing to exactly [`HISTORY_TOTAL_FEN`].
pub fn history_amounts() -> Vec<i64> {
    let n = HISTORY_PROJECTS;
    // The part above the floor follows u²(1+u) for u uniform in [0, 1): skewed towards small projects.
    let raw: Vec<i128> = (0..n)
        .map(|i| {
            let u = (mix(0x5EED_0000 + i as u64) % 1000) as i128;
            u * u * (1000 + u)
        })
        .collect();
    let raw_sum: i128 = raw.iter().sum::<i128>().max(1);
    let total_yuan = HISTORY_TOTAL_FEN / 100;
    let extra_total = (total_yuan - n as i64 * MIN_YUAN) as i128;
    let mut yuan: Vec<i64> = raw
        .iter()
        .map(|r| {
            let extra = (r * extra_total / raw_sum) as i64;
            round_hundred(MIN_YUAN + extra).clamp(MIN_YUAN, MAX_YUAN)
        })
        .collect();
    // Rounding and clamping leave a remainder of whole hundreds: spread it in ¥100 steps over the projects
    // that have room, so the total is exact.
    let mut diff = total_yuan - yuan.iter().sum::<i64>();
    let mut i = 0;
    while diff != 0 {
        let step = if diff > 0 { 100 } else { -100 };
        let v = yuan[i % n] + step;
        if (MIN_YUAN..=MAX_YUAN).contains(&v) {
            yuan[i % n] = v;
            diff -= step;
        }
        i += 1;
    }
    yuan.into_iter().map(|y| y * 100).collect()
}

/// The contract amounts of the projects after June 2021, fen: `n` of them, drawn like the history's
/// (¥60,000–¥380,000, skewed towards small projects, ¥100 steps) but with no fixed total.
pub fn later_amounts(n: usize) -> Vec<i64> {
    (0..n)
        .map(|i| {
            let u = (mix(0x1A7E_0000 + i as u64) % 1000) as i64;
            let extra = u * u * (1000 + u) * (MAX_YUAN - MIN_YUAN) / 2_000_000_000;
            round_hundred(MIN_YUAN + extra).clamp(MIN_YUAN, MAX_YUAN) * 100
        })
        .collect()
}

// -----------------------------------------------------------------------------------------------------
// The purchase history.

impl Seeder<'_> {
    /// The purchase history (DOMAIN.md, "The seed district"): the 97 projects worth ¥14.5 million that
    /// the district had bought by June 2021, published from March 2017 (when its incubation base opened)
    /// to mid-June 2021; then [`LATER_PER_YEAR`] projects a year from July 2021 up to a little over two
    /// months ago. All awarded; their contracts are seeded by `seed::contracts`. On a clock too early for
    /// that calendar, the 97 are spread over the five years before it and nothing follows. Returns the
    /// total of the winning prices.
    pub(super) fn history(&mut self, conn: &mut DbConn) -> Result<i64, AppError> {
        let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).expect("valid date");
        let end = self.today() - Duration::days(75);
        let (mut first, mut last) = (day(2017, 3, 1), day(2021, 6, 15));
        let later_from = day(2021, 7, 1);
        if end < later_from {
            (first, last) = (end - Duration::days(5 * 365), end);
        }
        let mut total = 0;
        for (i, amount) in history_amounts().into_iter().enumerate() {
            let on = spread(first, last, i, HISTORY_PROJECTS);
            total += self.project(conn, i, on, amount)?;
        }
        let later = if end >= later_from {
            ((end - later_from).num_days() * LATER_PER_YEAR as i64 / 365) as usize + 1
        } else {
            0
        };
        for (k, amount) in later_amounts(later).into_iter().enumerate() {
            let on = spread(later_from, end, k, later);
            total += self.project(conn, HISTORY_PROJECTS + k, on, amount)?;
        }
        Ok(total)
    }

    /// Project `i` of the history: published on `day`, awarded at `amount` fen to one of its bidders.
    pub(super) fn project(
        &mut self,
        conn: &mut DbConn,
        i: usize,
        day: NaiveDate,
        amount: i64,
    ) -> Result<i64, AppError> {
        let seed = mix(0x4157_0000 + i as u64);
        let field = FIELD_CYCLE[i % FIELD_CYCLE.len()];
        let method = if i % 6 == 5 {
            Method::Open
        } else {
            Method::Consultation
        };
        let times = schedule(self.ctx, day, method, seed);
        let budget = Self::ceiling(amount, seed);
        // Every tenth project covers the whole district; the others one street, in turn.
        let street = (i % 10 != 9).then_some((i * 3 + i / 8) % self.w.streets.len());
        let term = if i % 11 == 4 { 24 } else { 12 };
        let mut plan = self.plan(
            field,
            street,
            method,
            budget,
            day_of(times.published).year(),
            term,
            seed,
        );
        let min = self.ctx.rules.min_bids(method) as i64;
        let want = (roll(sub(seed, 6), min.max(2), 4)) as usize;
        // Only organisations registered by then bid.
        let (elig, bidders) = self.choose(field, plan.eligibility.clone(), want, seed, Some(day));
        if (bidders.len() as i64) < min {
            return Err(AppError::internal(
                "too few demo organisations to bid on the history",
            ));
        }
        plan.eligibility = elig;
        let winner = (mix(sub(seed, 7)) % bidders.len() as u64) as usize;
        let panel = if method == Method::Open || amount > 25_000_000 {
            5
        } else {
            3
        };
        let panel = panel
            .max(rules::min_panel(method, budget))
            .min(self.w.evaluators.len());
        if !rules::panel_ok(method, budget, panel) {
            return Err(AppError::internal("too few evaluators for a demo panel"));
        }
        // Awarded: the contracts are created and signed through the contract service afterwards
        // (`seed::contracts`), so the tender's `contracted` follows from its contract.
        let run = Run {
            prices: Self::prices(bidders.len(), winner, amount, budget, seed),
            plan,
            times,
            target: State::Awarded,
            bidders,
            winner,
            panel,
            seed,
        };
        self.run(conn, &run)?;
        Ok(amount)
    }
}

/// Day `i` of `n` spread evenly from `first` to `last`.
pub(super) fn spread(first: NaiveDate, last: NaiveDate, i: usize, n: usize) -> NaiveDate {
    first + Duration::days((last - first).num_days() * i as i64 / (n as i64 - 1).max(1))
}

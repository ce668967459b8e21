//! The purchase history: 97 awarded projects over 2021–2026 and their amounts.

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

// -----------------------------------------------------------------------------------------------------
// The purchase history.

impl Seeder<'_> {
    /// 97 awarded projects, published from March 2021 up to a little over two months ago (their
    /// contracts are seeded by `seed::contracts`). Returns the total of the winning prices.
    pub(super) fn history(&mut self, conn: &mut DbConn) -> Result<i64, AppError> {
        let amounts = history_amounts();
        let today = self.today();
        let end = today - Duration::days(75);
        let mut start = NaiveDate::from_ymd_opt(2021, 3, 1).expect("valid date");
        if end < start + Duration::days(365) {
            start = end - Duration::days(5 * 365);
        }
        let span = (end - start).num_days();
        let n = amounts.len();
        let mut total = 0;
        for (i, amount) in amounts.iter().copied().enumerate() {
            let seed = mix(0x4157_0000 + i as u64);
            let field = FIELD_CYCLE[i % FIELD_CYCLE.len()];
            let method = if i % 6 == 5 {
                Method::Open
            } else {
                Method::Consultation
            };
            let day = start + Duration::days(span * i as i64 / (n as i64 - 1).max(1));
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
            let (elig, bidders) = self.choose(field, plan.eligibility.clone(), want, seed);
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
            let target = State::Awarded;
            let run = Run {
                prices: Self::prices(bidders.len(), winner, amount, budget, seed),
                plan,
                times,
                target,
                bidders,
                winner,
                panel,
                seed,
            };
            self.run(conn, &run)?;
            total += amount;
        }
        Ok(total)
    }
}

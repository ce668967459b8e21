//! The performance evaluation of a milestone's acceptance (DOMAIN.md, Performance): four components, each
//! 0–100 with one decimal, weighted (default output 50, effect 30, satisfaction 10, budget execution 10;
//! `SANSHE_PERFORMANCE_WEIGHTS`), summed to the score that gives the grade (`contract::Grade`).
//!
//! - **output**: the mean, over the contract's non-zero targets among 人次, 人数 and sessions, of
//!   min(1, achieved ÷ expected), where expected = target × the share of the term elapsed at the acceptance
//!   (the whole target at the final milestone). A contract with no such target has nothing to fall short
//!   of: 100.
//! - **effect**: the evaluator's score, entered with the acceptance.
//! - **satisfaction**: min(1, share satisfied of the survey responses up to the date ÷ the target share);
//!   no responses: 0.
//! - **execution**: min(1, spending reported and not rejected up to the date ÷ (contract amount × elapsed
//!   share)).
//!
//! Ratios are exact (integers and `Decimal`); each component is rounded half up to one decimal, and the
//! score is Σ weight × component ÷ 100 of the rounded components, rounded half up to one decimal, so that
//! a reader can redo it by hand from what the evaluation shows. No I/O here.

use chrono::NaiveDate;
use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};

use super::contract::Grade;
use super::people::Satisfaction;
use super::tender::Targets;

/// The default weights (DOMAIN.md, Performance: self-evaluation 50 / 30 / 10 / 10).
pub const DEFAULT_WEIGHTS: &str = "output=50,effect=30,satisfaction=10,execution=10";

/// The weights of the four components, in points summing to 100.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Weights {
    pub output: u32,
    pub effect: u32,
    pub satisfaction: u32,
    pub execution: u32,
}

impl Default for Weights {
    fn default() -> Self {
        Weights {
            output: 50,
            effect: 30,
            satisfaction: 10,
            execution: 10,
        }
    }
}

impl Weights {
    /// `output=50,effect=30,satisfaction=10,execution=10`: each of the four named once, whole numbers,
    /// summing to 100.
    pub fn parse(s: &str) -> Result<Weights, String> {
        let mut w: [Option<u32>; 4] = [None; 4];
        const NAMES: [&str; 4] = ["output", "effect", "satisfaction", "execution"];
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (k, v) = part
                .split_once('=')
                .ok_or_else(|| format!("{part:?}: write name=points"))?;
            let i = NAMES
                .iter()
                .position(|n| *n == k.trim())
                .ok_or_else(|| format!("{k:?}: not one of {}", NAMES.join(", ")))?;
            let v: u32 = v
                .trim()
                .parse()
                .map_err(|_| format!("{part:?}: points are a whole number"))?;
            if w[i].replace(v).is_some() {
                return Err(format!("{k:?} is given twice"));
            }
        }
        let [
            Some(output),
            Some(effect),
            Some(satisfaction),
            Some(execution),
        ] = w
        else {
            return Err(format!("name all four: {}", NAMES.join(", ")));
        };
        let sum = output + effect + satisfaction + execution;
        if sum != 100 {
            return Err(format!("the weights sum to {sum}, not 100"));
        }
        Ok(Weights {
            output,
            effect,
            satisfaction,
            execution,
        })
    }
}

/// How much of the term lies behind a date: `days` of `of` (both inclusive day counts).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Elapsed {
    pub days: i64,
    pub of: i64,
}

impl Elapsed {
    /// At `on` in a term `start..=end`: the days from the start to `on` inclusive (none before the start,
    /// all after the end); the whole term for the final milestone.
    pub fn at(start: NaiveDate, end: NaiveDate, on: NaiveDate, final_milestone: bool) -> Elapsed {
        let of = ((end - start).num_days() + 1).max(1);
        let days = if final_milestone {
            of
        } else {
            ((on - start).num_days() + 1).clamp(0, of)
        };
        Elapsed { days, of }
    }

    /// Percent, one decimal.
    pub fn pct(self) -> Decimal {
        round1(Decimal::from(self.days) * Decimal::from(100) / Decimal::from(self.of))
    }

    /// `whole` × the elapsed share, one decimal.
    fn of_whole(self, whole: i64) -> Decimal {
        round1(Decimal::from(whole) * Decimal::from(self.days) / Decimal::from(self.of))
    }
}

/// Half up to one decimal.
pub fn round1(d: Decimal) -> Decimal {
    d.round_dp_with_strategy(1, RoundingStrategy::MidpointAwayFromZero)
        .normalize()
}

/// min(1, num ÷ den) as percent, exact; 100 when nothing was expected (den ≤ 0).
fn capped_pct(num: i128, den: i128) -> Decimal {
    if den <= 0 || num >= den {
        return Decimal::from(100);
    }
    Decimal::from_i128_with_scale(num.max(0) * 100, 0) / Decimal::from_i128_with_scale(den, 0)
}

/// One output target at the acceptance.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Attainment {
    /// `visits` (人次), `people` (人数) or `sessions`.
    pub target: String,
    /// The contract's target for the term.
    pub goal: i64,
    /// goal × elapsed share, one decimal.
    #[schema(value_type = String)]
    pub expected: Decimal,
    pub achieved: i64,
    /// achieved ÷ goal, percent with one decimal.
    #[schema(value_type = Option<String>)]
    pub attained_pct: Option<Decimal>,
    /// min(100, achieved ÷ expected × 100), one decimal.
    #[schema(value_type = String)]
    pub component_pct: Decimal,
}

/// The satisfaction side of an evaluation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SatisfactionAt {
    #[schema(value_type = String)]
    pub target_pct: Decimal,
    pub responses: i64,
    pub satisfied: i64,
    #[schema(value_type = Option<String>)]
    pub satisfied_pct: Option<Decimal>,
}

/// The budget-execution side of an evaluation, in fen.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ExecutionAt {
    pub amount_fen: i64,
    /// amount × elapsed share, rounded to the fen.
    pub expected_fen: i64,
    /// Spending reported and not rejected, up to the date.
    pub spent_fen: i64,
}

/// The four components, 0–100 with one decimal. `effect` is empty in a preview (before the evaluator
/// gives it).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Components {
    #[schema(value_type = String)]
    pub output: Decimal,
    #[schema(value_type = Option<String>)]
    pub effect: Option<Decimal>,
    #[schema(value_type = String)]
    pub satisfaction: Decimal,
    #[schema(value_type = String)]
    pub execution: Decimal,
}

/// What an evaluation is computed from.
#[derive(Clone, Debug)]
pub struct Inputs {
    pub targets: Targets,
    /// 人次, 人数 and sessions achieved up to the date.
    pub visits: i64,
    pub people: i64,
    pub sessions: i64,
    /// The surveys up to the date, summed.
    pub satisfaction: Satisfaction,
    pub spent_fen: i64,
    pub amount_fen: i64,
    pub elapsed: Elapsed,
    /// The evaluator's effect score (none in a preview).
    pub effect: Option<Decimal>,
}

/// A milestone's performance evaluation as recorded with the acceptance (`contract_instalments.performance`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Evaluation {
    #[schema(value_type = String)]
    pub on: NaiveDate,
    /// The final milestone (the whole targets are expected).
    pub final_milestone: bool,
    /// Share of the term elapsed at `on`, percent.
    #[schema(value_type = String)]
    pub elapsed_pct: Decimal,
    /// The non-zero output targets.
    pub attainment: Vec<Attainment>,
    pub satisfaction: SatisfactionAt,
    pub execution: ExecutionAt,
    pub components: Components,
    pub weights: Weights,
    /// Σ weight × component ÷ 100, one decimal (none in a preview).
    #[schema(value_type = Option<String>)]
    pub score: Option<Decimal>,
    /// 优 / 良 / 中 / 差 (none in a preview).
    pub grade: Option<String>,
}

/// The output component and each target's attainment (see the module doc).
pub fn output(i: &Inputs) -> (Decimal, Vec<Attainment>) {
    let e = i.elapsed;
    let rows: Vec<Attainment> = [
        ("visits", i.targets.visits, i.visits),
        ("people", i.targets.people, i.people),
        ("sessions", i.targets.sessions, i.sessions),
    ]
    .into_iter()
    .filter(|(_, goal, _)| *goal > 0)
    .map(|(name, goal, achieved)| Attainment {
        target: name.into(),
        goal,
        expected: e.of_whole(goal),
        achieved,
        attained_pct: super::people::share_pct(achieved, goal),
        component_pct: round1(ratio(achieved, goal, e)),
    })
    .collect();
    if rows.is_empty() {
        return (Decimal::from(100), rows);
    }
    let sum: Decimal = rows
        .iter()
        .map(|r| ratio(r.achieved, r.goal, e))
        .sum::<Decimal>();
    (round1(sum / Decimal::from(rows.len() as i64)), rows)
}

/// min(100, achieved ÷ (goal × days ÷ of) × 100) = achieved × of ÷ (goal × days), exact.
fn ratio(achieved: i64, goal: i64, e: Elapsed) -> Decimal {
    capped_pct(
        i128::from(achieved) * i128::from(e.of),
        i128::from(goal) * i128::from(e.days),
    )
}

/// The satisfaction component: min(1, satisfied share ÷ target share); no responses: 0; a target of 0
/// is met by any response.
pub fn satisfaction(s: &Satisfaction, target_pct: Decimal) -> Decimal {
    if s.responses <= 0 {
        return Decimal::ZERO;
    }
    if target_pct <= Decimal::ZERO {
        return Decimal::from(100);
    }
    let share = Decimal::from(s.satisfied) * Decimal::from(100) / Decimal::from(s.responses);
    round1((share * Decimal::from(100) / target_pct).min(Decimal::from(100)))
}

/// The budget-execution component: min(1, spent ÷ (amount × elapsed share)); 100 when nothing was to be
/// spent yet.
pub fn execution(spent_fen: i64, amount_fen: i64, e: Elapsed) -> Decimal {
    round1(capped_pct(
        i128::from(spent_fen) * i128::from(e.of),
        i128::from(amount_fen) * i128::from(e.days),
    ))
}

/// Σ weight × component ÷ 100, half up to one decimal.
pub fn score(w: Weights, output: Decimal, effect: Decimal, sat: Decimal, exe: Decimal) -> Decimal {
    let d = Decimal::from;
    round1(
        (d(w.output) * output
            + d(w.effect) * effect
            + d(w.satisfaction) * sat
            + d(w.execution) * exe)
            / d(100),
    )
}

/// The whole evaluation at `on`.
pub fn evaluate(w: Weights, on: NaiveDate, final_milestone: bool, i: &Inputs) -> Evaluation {
    let (out, attainment) = output(i);
    let sat = satisfaction(&i.satisfaction, i.targets.satisfaction_pct);
    let exe = execution(i.spent_fen, i.amount_fen, i.elapsed);
    let total = i.effect.map(|eff| score(w, out, eff, sat, exe));
    let expected_fen = (i128::from(i.amount_fen) * i128::from(i.elapsed.days) * 2
        + i128::from(i.elapsed.of))
        / (i128::from(i.elapsed.of) * 2);
    Evaluation {
        on,
        final_milestone,
        elapsed_pct: i.elapsed.pct(),
        attainment,
        satisfaction: SatisfactionAt {
            target_pct: i.targets.satisfaction_pct,
            responses: i.satisfaction.responses,
            satisfied: i.satisfaction.satisfied,
            satisfied_pct: i.satisfaction.satisfied_pct,
        },
        execution: ExecutionAt {
            amount_fen: i.amount_fen,
            expected_fen: expected_fen as i64,
            spent_fen: i.spent_fen,
        },
        components: Components {
            output: out,
            effect: i.effect,
            satisfaction: sat,
            execution: exe,
        },
        weights: w,
        score: total,
        grade: total.map(|s| Grade::of(s).as_str().to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }
    fn dec(s: &str) -> Decimal {
        s.parse().unwrap()
    }
    fn targets(visits: i64, people: i64, sessions: i64, sat: &str) -> Targets {
        Targets {
            visits,
            people,
            sessions,
            satisfaction_pct: dec(sat),
        }
    }

    #[test]
    fn domain_performance_weights_output50_effect30_satisfaction10_execution10() {
        assert_eq!(Weights::parse(DEFAULT_WEIGHTS).unwrap(), Weights::default());
        let w = Weights::parse(" effect=40, output=40,satisfaction=10 ,execution=10").unwrap();
        assert_eq!((w.output, w.effect), (40, 40));
        assert!(Weights::parse("output=50,effect=30,satisfaction=10").is_err());
        assert!(
            Weights::parse("output=50,effect=30,satisfaction=10,execution=20")
                .unwrap_err()
                .contains("110")
        );
        assert!(Weights::parse("output=50,output=30,satisfaction=10,execution=10").is_err());
        assert!(Weights::parse("output=50,effect=30,satisfaction=10,budget=10").is_err());
        assert!(Weights::parse("output=-50,effect=30,satisfaction=10,execution=10").is_err());
        // 80 × 50 % + 90 × 30 % + 100 × 10 % + 50 × 10 % = 40 + 27 + 10 + 5 = 82.
        assert_eq!(
            score(w_default(), dec("80"), dec("90"), dec("100"), dec("50")),
            dec("82")
        );
        // Half up: 33.3 × 0.5 + 0 + 0 + 0 = 16.65 → 16.7.
        assert_eq!(
            score(w_default(), dec("33.3"), dec("0"), dec("0"), dec("0")),
            dec("16.7")
        );
    }

    fn w_default() -> Weights {
        Weights::default()
    }

    #[test]
    fn domain_performance_elapsed_share_of_the_term() {
        let (s, e) = (d("2026-01-01"), d("2026-01-10"));
        assert_eq!(
            Elapsed::at(s, e, d("2026-01-05"), false),
            Elapsed { days: 5, of: 10 }
        );
        assert_eq!(Elapsed::at(s, e, d("2025-12-01"), false).days, 0);
        assert_eq!(Elapsed::at(s, e, d("2026-03-01"), false).days, 10);
        assert_eq!(Elapsed::at(s, e, d("2026-01-02"), true).days, 10);
        assert_eq!(Elapsed::at(s, e, d("2026-01-05"), false).pct(), dec("50"));
    }

    fn inputs(t: Targets, visits: i64, people: i64, sessions: i64, e: Elapsed) -> Inputs {
        Inputs {
            targets: t,
            visits,
            people,
            sessions,
            satisfaction: Satisfaction::of([0; 5]),
            spent_fen: 0,
            amount_fen: 0,
            elapsed: e,
            effect: None,
        }
    }

    #[test]
    fn domain_performance_output_is_the_mean_of_capped_attainment_against_the_elapsed_share() {
        let half = Elapsed { days: 5, of: 10 };
        // Expected at half the term: 500 人次, 100 人数, 10 sessions. Achieved 400 (80 %), 150 (capped at
        // 100 %), 3 (30 %): mean 70.
        let i = inputs(targets(1000, 200, 20, "90"), 400, 150, 3, half);
        let (o, rows) = output(&i);
        assert_eq!(o, dec("70"));
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[0].expected, dec("500"));
        assert_eq!(rows[0].attained_pct, Some(dec("40")));
        assert_eq!(rows[1].component_pct, dec("100"));
        // A zero target does not count: only visits (80 %) and people (100 %).
        let i = inputs(targets(1000, 200, 0, "90"), 400, 150, 3, half);
        assert_eq!(output(&i).0, dec("90"));
        // The final milestone expects the whole target: 400 of 1000 is 40 %.
        let i = inputs(
            targets(1000, 0, 0, "90"),
            400,
            0,
            0,
            Elapsed { days: 10, of: 10 },
        );
        assert_eq!(output(&i).0, dec("40"));
        // One of three: 33.3 (rounded once, half up).
        let i = inputs(
            targets(3, 0, 0, "90"),
            1,
            0,
            0,
            Elapsed { days: 10, of: 10 },
        );
        assert_eq!(output(&i).0, dec("33.3"));
        // No output target: nothing to fall short of.
        let i = inputs(targets(0, 0, 0, "90"), 0, 0, 0, half);
        assert_eq!(output(&i).0, dec("100"));
        // Before the term starts nothing is expected yet.
        let i = inputs(
            targets(100, 0, 0, "90"),
            0,
            0,
            0,
            Elapsed { days: 0, of: 10 },
        );
        assert_eq!(output(&i).0, dec("100"));
    }

    #[test]
    fn domain_performance_satisfaction_against_the_target_share_none_is_zero() {
        // 16 of 20 satisfied = 80 % against a 90 % target: 88.9.
        let s = Satisfaction::of([1, 1, 2, 10, 6]);
        assert_eq!(satisfaction(&s, dec("90")), dec("88.9"));
        assert_eq!(satisfaction(&s, dec("80")), dec("100"));
        assert_eq!(satisfaction(&s, dec("0")), dec("100"));
        assert_eq!(satisfaction(&Satisfaction::of([0; 5]), dec("90")), dec("0"));
    }

    #[test]
    fn domain_performance_budget_execution_against_the_elapsed_share() {
        let half = Elapsed { days: 5, of: 10 };
        // ¥100,000 at half the term: ¥50,000 expected; ¥30,000 spent is 60 %.
        assert_eq!(execution(3_000_000, 10_000_000, half), dec("60"));
        assert_eq!(execution(9_000_000, 10_000_000, half), dec("100"));
        assert_eq!(execution(0, 10_000_000, half), dec("0"));
        assert_eq!(execution(0, 0, half), dec("100"));
    }

    #[test]
    fn domain_performance_evaluation_grade_from_the_weighted_score() {
        let i = Inputs {
            satisfaction: Satisfaction::of([0, 0, 1, 3, 6]),
            spent_fen: 3_000_000,
            amount_fen: 10_000_000,
            effect: Some(dec("85")),
            ..inputs(
                targets(1000, 200, 20, "90"),
                400,
                150,
                3,
                Elapsed { days: 5, of: 10 },
            )
        };
        let e = evaluate(Weights::default(), d("2026-01-05"), false, &i);
        // output 70, effect 85, satisfaction 9/10 = 90 % of 90 % → 100, execution 60:
        // 35 + 25.5 + 10 + 6 = 76.5 → 中.
        assert_eq!(e.components.output, dec("70"));
        assert_eq!(e.components.satisfaction, dec("100"));
        assert_eq!(e.components.execution, dec("60"));
        assert_eq!(e.score, Some(dec("76.5")));
        assert_eq!(e.grade.as_deref(), Some("中"));
        assert_eq!(e.execution.expected_fen, 5_000_000);
        // The JSON kept with the acceptance reads back the same.
        let back: Evaluation = serde_json::from_str(&serde_json::to_string(&e).unwrap()).unwrap();
        assert_eq!(back, e);
        // A preview has no effect score, hence no score or grade.
        let p = evaluate(
            Weights::default(),
            d("2026-01-05"),
            false,
            &Inputs { effect: None, ..i },
        );
        assert_eq!((p.score, p.grade), (None, None));
    }
}

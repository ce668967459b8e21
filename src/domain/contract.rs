//! Contracts: the life cycle, acceptance grades, the per-contract money invariant, and the deadlines whose
//! breach is an audit flag (signing, the contract notice, payment). No I/O: `crate::contracts` stores.

use chrono::NaiveDate;
use rust_decimal::Decimal;

use super::calendar::BusinessCalendar;
use super::ledger::{Account, Refusal, Stage};

/// Where a contract stands. Draft → signed → in progress → mid-term accepted → final accepted → closed;
/// terminated (with a reason) from any state after signing but before closing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum State {
    Draft,
    Signed,
    InProgress,
    MidtermAccepted,
    FinalAccepted,
    Closed,
    Terminated,
}

impl State {
    pub const ALL: [State; 7] = [
        State::Draft,
        State::Signed,
        State::InProgress,
        State::MidtermAccepted,
        State::FinalAccepted,
        State::Closed,
        State::Terminated,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            State::Draft => "draft",
            State::Signed => "signed",
            State::InProgress => "in_progress",
            State::MidtermAccepted => "midterm_accepted",
            State::FinalAccepted => "final_accepted",
            State::Closed => "closed",
            State::Terminated => "terminated",
        }
    }

    pub fn parse(s: &str) -> Option<State> {
        State::ALL.into_iter().find(|x| x.as_str() == s)
    }

    pub fn label(self, zh: bool) -> &'static str {
        let (z, e) = match self {
            State::Draft => ("草稿", "Draft"),
            State::Signed => ("已签订", "Signed"),
            State::InProgress => ("履约中", "In progress"),
            State::MidtermAccepted => ("中期验收通过", "Mid-term accepted"),
            State::FinalAccepted => ("终期验收通过", "Final accepted"),
            State::Closed => ("已结项", "Closed"),
            State::Terminated => ("已终止", "Terminated"),
        };
        if zh { z } else { e }
    }

    /// Signed and not yet ended: the state in which milestones are accepted and instalments paid.
    pub fn is_live(self) -> bool {
        matches!(
            self,
            State::Signed | State::InProgress | State::MidtermAccepted | State::FinalAccepted
        )
    }

    /// Signed at some point (the contract is public from then on: 政府采购法实施条例 Art 50).
    pub fn is_public(self) -> bool {
        self != State::Draft
    }
}

/// The state after the milestone of instalment `no` (1-based) of `count` is accepted: the last milestone is
/// the final acceptance, any other a mid-term one.
pub fn after_acceptance(no: usize, count: usize) -> State {
    if no >= count {
        State::FinalAccepted
    } else {
        State::MidtermAccepted
    }
}

/// Is this milestone the signing itself (its instalment is a prepayment that accrues on signing)? The
/// tender's template names it: 签约, 合同签订, 预付款 …
pub fn is_signing_milestone(name: &str) -> bool {
    let n = name.trim();
    n.contains('签') || n.contains("预付") || n.eq_ignore_ascii_case("signing")
}

/// A performance grade (DOMAIN.md, Performance): ≥ 90 优, ≥ 80 良, ≥ 60 中, < 60 差.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Grade {
    Excellent,
    Good,
    Pass,
    Fail,
}

impl Grade {
    pub fn of(score: Decimal) -> Grade {
        if score >= Decimal::from(90) {
            Grade::Excellent
        } else if score >= Decimal::from(80) {
            Grade::Good
        } else if score >= Decimal::from(60) {
            Grade::Pass
        } else {
            Grade::Fail
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Grade::Excellent => "优",
            Grade::Good => "良",
            Grade::Pass => "中",
            Grade::Fail => "差",
        }
    }

    pub fn label(self, zh: bool) -> &'static str {
        match (self, zh) {
            (g, true) => g.as_str(),
            (Grade::Excellent, false) => "Excellent",
            (Grade::Good, false) => "Good",
            (Grade::Pass, false) => "Pass",
            (Grade::Fail, false) => "Fail",
        }
    }

    pub fn parse(s: &str) -> Option<Grade> {
        [Grade::Excellent, Grade::Good, Grade::Pass, Grade::Fail]
            .into_iter()
            .find(|g| g.as_str() == s)
    }
}

/// An acceptance score: 0 to 100 with at most one decimal.
pub fn score_ok(score: Decimal) -> bool {
    score >= Decimal::ZERO && score <= Decimal::from(100) && score.normalize().scale() <= 1
}

/// A contract's money as the ledger holds it, in fen.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Progress {
    pub amount: i64,
    pub committed: i64,
    pub accrued: i64,
    pub paid: i64,
}

impl Progress {
    /// Count one posting of an entry that names the contract: a commitment (or its release) moves
    /// `committed`; an accrual moves `committed` and `accrued` (Budget:Expended is committed money become
    /// owed, so both see it); a disbursement (a credit to the treasury) moves `paid`.
    pub fn add_posting(&mut self, account: &Account, amount: i64) {
        match account {
            Account::Budget(Stage::Committed, _) => self.committed += amount,
            Account::Budget(Stage::Expended, _) => {
                self.committed += amount;
                self.accrued += amount;
            }
            Account::Treasury(_) => self.paid -= amount,
            _ => {}
        }
    }
}

/// The per-contract invariant (docs/LEDGER.md): paid ≤ accrued ≤ committed ≤ contract amount, none below
/// zero. `committed` counts everything ever committed less what was released, accrued and paid likewise.
pub fn check_progress(p: Progress) -> Result<(), Refusal> {
    let ok =
        0 <= p.paid && p.paid <= p.accrued && p.accrued <= p.committed && p.committed <= p.amount;
    if ok {
        return Ok(());
    }
    Err(Refusal {
        field: "amount".into(),
        rule: "paid_le_accrued_le_committed_le_amount",
        zh: format!(
            "合同资金须满足 已付 ≤ 已确认 ≤ 已承诺 ≤ 合同金额（已付 {}，已确认 {}，已承诺 {}，合同金额 {}）。",
            super::money::yuan(p.paid),
            super::money::yuan(p.accrued),
            super::money::yuan(p.committed),
            super::money::yuan(p.amount)
        ),
        en: format!(
            "A contract keeps paid ≤ accrued ≤ committed ≤ amount (paid {}, accrued {}, committed {}, amount {}).",
            super::money::yuan(p.paid),
            super::money::yuan(p.accrued),
            super::money::yuan(p.committed),
            super::money::yuan(p.amount)
        ),
        conflict: true,
    })
}

/// Days allowed between the award notice and the signing: 30 (政府采购法 Art 46).
pub const SIGN_WITHIN_DAYS: i64 = 30;

/// Working days allowed between the signing and the contract notice: 2 (政府采购法实施条例 Art 50).
pub const NOTICE_WITHIN_WORKING_DAYS: u32 = 2;

/// Signed later than 30 days after the award notice (政府采购法 Art 46)?
pub fn signed_late(awarded_on: NaiveDate, signed_on: NaiveDate) -> bool {
    (signed_on - awarded_on).num_days() > SIGN_WITHIN_DAYS
}

/// Contract notice later than 2 working days after signing (政府采购法实施条例 Art 50)?
pub fn notice_late(cal: &BusinessCalendar, signed_on: NaiveDate, notice_on: NaiveDate) -> bool {
    cal.working_days_between(signed_on, notice_on) > NOTICE_WITHIN_WORKING_DAYS
}

/// Paid later than `due_days` after acceptance (DOMAIN.md: 30 days; 保障中小企业款项支付条例 Art 8)?
pub fn paid_late(accepted_on: NaiveDate, paid_on: NaiveDate, due_days: i64) -> bool {
    (paid_on - accepted_on).num_days() > due_days
}

/// The contract term from its start and the tender's term in months: start to the day before the same
/// day `months` later (a 12-month term from 2026-03-01 ends 2027-02-28).
pub fn term_end(start: NaiveDate, months: u32) -> NaiveDate {
    let end = start
        .checked_add_months(chrono::Months::new(months))
        .unwrap_or(start);
    end.pred_opt().unwrap_or(end)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn grades_follow_the_performance_thresholds() {
        let g = |s: &str| Grade::of(s.parse().unwrap());
        assert_eq!(g("100"), Grade::Excellent);
        assert_eq!(g("90"), Grade::Excellent);
        assert_eq!(g("89.9"), Grade::Good);
        assert_eq!(g("80"), Grade::Good);
        assert_eq!(g("79.9"), Grade::Pass);
        assert_eq!(g("60"), Grade::Pass);
        assert_eq!(g("59.9"), Grade::Fail);
        assert_eq!(g("0"), Grade::Fail);
        assert!(score_ok("88.5".parse().unwrap()));
        assert!(!score_ok("88.55".parse().unwrap()));
        assert!(!score_ok("100.1".parse().unwrap()));
        assert!(!score_ok("-1".parse().unwrap()));
    }

    #[test]
    fn progress_keeps_paid_le_accrued_le_committed_le_amount() {
        let p = |amount, committed, accrued, paid| Progress {
            amount,
            committed,
            accrued,
            paid,
        };
        assert!(check_progress(p(100, 100, 60, 30)).is_ok());
        assert!(check_progress(p(100, 0, 0, 0)).is_ok());
        assert!(check_progress(p(100, 100, 60, 61)).is_err());
        assert!(check_progress(p(100, 50, 60, 0)).is_err());
        assert!(check_progress(p(100, 101, 0, 0)).is_err());
        assert!(check_progress(p(100, 100, 0, -1)).is_err());
        let r = check_progress(p(100, 100, 60, 61)).unwrap_err();
        assert_eq!(r.rule, "paid_le_accrued_le_committed_le_amount");
        assert!(r.conflict);
    }

    #[test]
    fn signing_later_than_30_days_after_award_is_late_gpl_art_46() {
        assert!(!signed_late(d("2026-03-01"), d("2026-03-31")));
        assert!(signed_late(d("2026-03-01"), d("2026-04-01")));
    }

    #[test]
    fn contract_notice_within_2_working_days_implementing_regulation_art_50() {
        let cal = BusinessCalendar::builtin();
        // Signed on Thursday 2026-03-05: Friday and Monday are the two working days.
        assert!(!notice_late(&cal, d("2026-03-05"), d("2026-03-09")));
        assert!(notice_late(&cal, d("2026-03-05"), d("2026-03-10")));
        // The National Day holiday does not count.
        assert!(!notice_late(&cal, d("2026-09-30"), d("2026-10-09")));
    }

    #[test]
    fn payment_later_than_30_days_after_acceptance_is_late() {
        assert!(!paid_late(d("2026-03-01"), d("2026-03-31"), 30));
        assert!(paid_late(d("2026-03-01"), d("2026-04-01"), 30));
    }

    #[test]
    fn term_runs_to_the_day_before_the_same_day_months_later() {
        assert_eq!(term_end(d("2026-03-01"), 12), d("2027-02-28"));
        assert_eq!(term_end(d("2026-01-31"), 1), d("2026-02-27"));
        assert_eq!(term_end(d("2026-06-15"), 6), d("2026-12-14"));
    }

    #[test]
    fn signing_milestones_are_recognised() {
        assert!(is_signing_milestone("签约"));
        assert!(is_signing_milestone("合同签订"));
        assert!(is_signing_milestone("预付款"));
        assert!(!is_signing_milestone("中期评估"));
        assert!(!is_signing_milestone("末期验收"));
    }

    #[test]
    fn life_cycle_states() {
        for s in State::ALL {
            assert_eq!(State::parse(s.as_str()), Some(s));
        }
        assert!(!State::Draft.is_live());
        assert!(State::MidtermAccepted.is_live());
        assert!(!State::Closed.is_live());
        assert_eq!(after_acceptance(2, 3), State::MidtermAccepted);
        assert_eq!(after_acceptance(3, 3), State::FinalAccepted);
    }
}

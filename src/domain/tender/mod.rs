//! Tender rules with no storage in them: procurement methods and their numbers, the life-cycle states,
//! evaluation criteria, the price score and ranking, instalment schedules, budget lines and eligibility.
//!
//! Numbers come from DOMAIN.md ("Tenders", "Evaluation and award"); the ones it marks configurable live in
//! [`TenderRules`], built from the configuration.
//!
//! By subject: `methods` (procurement methods, response times, the configurable numbers, minimum bids,
//! panel sizes), `negotiation` (竞争性谈判: suppliers, no scoring, final quotes, the lowest wins), `single_source` (单一来源: its ground, the 公示 and its objections, the negotiation record), `panel` (seats, the share of buyer's representatives, the recorded draw of experts), `scoring` (the scoring template, price score), `ranking` (the ranking, its ties and the recorded draw), `budget` (instalments, budget lines
//! and their caps), `terms` (performance targets, the contract term, a deadline moved by a late
//! clarification), `eligibility` (eligibility rules and what an organisation does not meet), `challenge` (what a
//! challenge is against, its window, who may file it, what an open one suspends); this module
//! holds [`Broken`] and the life-cycle [`State`], and re-exports the rest.

use chrono::{DateTime, Duration, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::calendar::BusinessCalendar;
use super::ids::BidId;
use super::money::{Fen, MoneyError};
use super::vocab;

mod budget;
mod challenge;
mod eligibility;
mod methods;
mod negotiation;
mod note;
mod panel;
mod ranking;
mod related;
mod scoring;
mod single_source;
mod terms;

pub use budget::*;
pub use challenge::*;
pub use eligibility::*;
pub use methods::*;
pub use negotiation::*;
pub use note::*;
pub use panel::*;
pub use ranking::*;
pub use related::*;
pub use scoring::*;
pub use single_source::*;
pub use terms::*;

/// One rule a value breaks: the field, a stable rule code and the message in both languages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Broken {
    pub field: String,
    pub rule: &'static str,
    pub zh: String,
    pub en: String,
}

fn broken(
    field: impl Into<String>,
    rule: &'static str,
    zh: impl Into<String>,
    en: impl Into<String>,
) -> Broken {
    Broken {
        field: field.into(),
        rule,
        zh: zh.into(),
        en: en.into(),
    }
}

fn two_places(d: Decimal) -> bool {
    d.normalize().scale() <= 2
}

/// What withdrawing a bid takes in a state (`State::withdrawal`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Withdrawal {
    Free,
    WithReason,
    NotNow,
}

/// Life-cycle states, in order.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum State {
    Draft,
    Published,
    Closed,
    Opened,
    Evaluating,
    Evaluated,
    AwardProposed,
    Publicity,
    Challenge,
    Awarded,
    Contracted,
    Cancelled,
    Failed,
}

impl State {
    pub const ALL: [State; 13] = [
        State::Draft,
        State::Published,
        State::Closed,
        State::Opened,
        State::Evaluating,
        State::Evaluated,
        State::AwardProposed,
        State::Publicity,
        State::Challenge,
        State::Awarded,
        State::Contracted,
        State::Cancelled,
        State::Failed,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            State::Draft => "draft",
            State::Published => "published",
            State::Closed => "closed",
            State::Opened => "opened",
            State::Evaluating => "evaluating",
            State::Evaluated => "evaluated",
            State::AwardProposed => "award_proposed",
            State::Publicity => "publicity",
            State::Challenge => "challenge",
            State::Awarded => "awarded",
            State::Contracted => "contracted",
            State::Cancelled => "cancelled",
            State::Failed => "failed",
        }
    }
    pub fn parse(s: &str) -> Option<State> {
        State::ALL.into_iter().find(|x| x.as_str() == s)
    }
    pub fn label(self, zh: bool) -> &'static str {
        let (z, e) = match self {
            State::Draft => ("草稿", "Draft"),
            State::Published => ("公告中", "Published"),
            State::Closed => ("投标截止", "Bidding closed"),
            State::Opened => ("已开标", "Opened"),
            State::Evaluating => ("评审中", "Evaluating"),
            State::Evaluated => ("评审完成", "Evaluated"),
            State::AwardProposed => ("拟中标", "Award proposed"),
            State::Publicity => ("结果公示", "Publicity"),
            State::Challenge => ("质疑期", "Challenge window"),
            // 定标: the award is final. Not 已中标, which on a supplier's own list reads as "we won".
            State::Awarded => ("已定标", "Awarded"),
            State::Contracted => ("已签约", "Contracted"),
            State::Cancelled => ("已取消", "Cancelled"),
            State::Failed => ("流标", "Failed"),
        };
        if zh { z } else { e }
    }
    /// Whether bids may still be read only by their bidders.
    pub fn sealed(self) -> bool {
        self < State::Opened || (self == State::Cancelled)
    }
    /// Between the opening and the final award: bids are open and may still be lost (withdrawn with a
    /// reason, or disqualified), which passes the award on.
    pub fn opened_not_final(self) -> bool {
        matches!(
            self,
            State::Opened
                | State::Evaluating
                | State::Evaluated
                | State::AwardProposed
                | State::Publicity
                | State::Challenge
        )
    }
    /// Whether a winner's refusal to sign may be recorded (实施条例 Art 43; 87号令 Art 68; 政府采购法 Art 46):
    /// once the result is published (the award letter is out) and until the tender is contracted. The
    /// service also refuses it once a contract is recorded.
    pub fn award_refusable(self) -> bool {
        matches!(self, State::Publicity | State::Challenge | State::Awarded)
    }
    /// Whether the public may see the tender at all.
    pub fn public(self) -> bool {
        self != State::Draft
    }
    /// Still open to cancellation (before the award is final).
    pub fn cancellable(self) -> bool {
        self < State::Awarded
    }
    /// Whether an active bid may be withdrawn now (`before_deadline`: the bid deadline has not passed):
    /// freely while bidding is open, with a reason between the opening and the final award, never else.
    pub fn withdrawal(self, before_deadline: bool) -> Withdrawal {
        if self == State::Published && before_deadline {
            Withdrawal::Free
        } else if self.opened_not_final() {
            Withdrawal::WithReason
        } else {
            Withdrawal::NotNow
        }
    }
    pub fn terminal(self) -> bool {
        matches!(
            self,
            State::Awarded | State::Contracted | State::Cancelled | State::Failed
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The one withdrawal rule the API and the pages share: free before the deadline, with a reason from
    /// the opening until the award is final, never in between or after.
    #[test]
    fn withdrawal_free_before_the_deadline_with_a_reason_after_opening() {
        use Withdrawal::*;
        let expect = [
            (State::Draft, NotNow, NotNow),
            (State::Published, Free, NotNow),
            (State::Closed, NotNow, NotNow),
            (State::Opened, WithReason, WithReason),
            (State::Evaluating, WithReason, WithReason),
            (State::Evaluated, WithReason, WithReason),
            (State::AwardProposed, WithReason, WithReason),
            (State::Publicity, WithReason, WithReason),
            (State::Challenge, WithReason, WithReason),
            (State::Awarded, NotNow, NotNow),
            (State::Contracted, NotNow, NotNow),
            (State::Cancelled, NotNow, NotNow),
            (State::Failed, NotNow, NotNow),
        ];
        assert_eq!(expect.len(), State::ALL.len());
        for (s, before, after) in expect {
            assert_eq!(s.withdrawal(true), before, "{s:?} before the deadline");
            assert_eq!(s.withdrawal(false), after, "{s:?} after the deadline");
            assert_eq!(s.opened_not_final(), after == WithReason, "{s:?}");
        }
    }

    /// 实施条例 Art 43: a winner that refuses to sign passes the award on only after its result notice and
    /// award letter are out (publicity, challenge window, final award), never before and never once
    /// contracted or ended.
    #[test]
    fn art43_refusal_to_sign_only_between_result_and_contract() {
        for s in State::ALL {
            let want = matches!(s, State::Publicity | State::Challenge | State::Awarded);
            assert_eq!(s.award_refusable(), want, "{s:?}");
        }
    }
}

//! Procurement methods and their numbers: response times, the configurable rules, minimum bids, panels.

use super::*;

/// Procurement methods (采购方式).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// 公开招标
    Open,
    /// 邀请招标
    Invited,
    /// 竞争性磋商
    Consultation,
    /// 竞争性谈判
    Negotiation,
    /// 单一来源
    SingleSource,
}

impl Method {
    pub const ALL: [Method; 5] = [
        Method::Open,
        Method::Invited,
        Method::Consultation,
        Method::Negotiation,
        Method::SingleSource,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Open => "open",
            Method::Invited => "invited",
            Method::Consultation => "consultation",
            Method::Negotiation => "negotiation",
            Method::SingleSource => "single_source",
        }
    }
    pub fn parse(s: &str) -> Option<Method> {
        Method::ALL.into_iter().find(|m| m.as_str() == s)
    }
    pub fn label(self, zh: bool) -> &'static str {
        match (self, zh) {
            (Method::Open, true) => "公开招标",
            (Method::Open, false) => "Open tender",
            (Method::Invited, true) => "邀请招标",
            (Method::Invited, false) => "Invited tender",
            (Method::Consultation, true) => "竞争性磋商",
            (Method::Consultation, false) => "Competitive consultation",
            (Method::Negotiation, true) => "竞争性谈判",
            (Method::Negotiation, false) => "Competitive negotiation",
            (Method::SingleSource, true) => "单一来源",
            (Method::SingleSource, false) => "Single source",
        }
    }
    /// Response time from the notice to the bid deadline: tenders 20 days (法 Art 35), 磋商 10 days (214号
    /// Art 10), 谈判 3 working days (74号令 Art 29), single source 5 working days (its 公示, 实施条例 Art 38).
    pub fn min_response(self) -> ResponseTime {
        match self {
            Method::Open | Method::Invited => ResponseTime::Days(20),
            Method::Consultation => ResponseTime::Days(10),
            Method::Negotiation => ResponseTime::WorkingDays(3),
            Method::SingleSource => ResponseTime::WorkingDays(5),
        }
    }
    /// How long before the bid deadline a clarification must come, else the deadline moves: tenders 15 days
    /// (87号令 Art 27), 磋商 5 days (214号 Art 10), 谈判 and single source 3 working days (74号令 Art 29).
    pub fn clarification_notice(self) -> ResponseTime {
        match self {
            Method::Open | Method::Invited => ResponseTime::Days(15),
            Method::Consultation => ResponseTime::Days(5),
            Method::Negotiation | Method::SingleSource => ResponseTime::WorkingDays(3),
        }
    }
    fn is_tender(self) -> bool {
        matches!(self, Method::Open | Method::Invited)
    }
    /// The award letter's name: 中标通知书 after a tender (政府采购法 Art 46), 成交通知书 after the other
    /// methods (74号令 Art 18).
    pub fn award_letter(self, zh: bool) -> &'static str {
        match (self.is_tender(), zh) {
            (true, true) => "中标通知书",
            (true, false) => "Letter of award",
            (false, true) => "成交通知书",
            (false, false) => "Letter of acceptance",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResponseTime {
    Days(u32),
    WorkingDays(u32),
}

impl ResponseTime {
    /// "15 日" / "15 days", "3 个工作日" / "3 working days".
    pub fn label(self, zh: bool) -> String {
        match (self, zh) {
            (ResponseTime::Days(n), true) => format!("{n} 日"),
            (ResponseTime::Days(n), false) => format!("{n} days"),
            (ResponseTime::WorkingDays(n), true) => format!("{n} 个工作日"),
            (ResponseTime::WorkingDays(n), false) => format!("{n} working days"),
        }
    }
}

/// The configurable tender numbers (DOMAIN.md defaults).
#[derive(Clone, Debug)]
pub struct TenderRules {
    /// Minimum valid bids per method; fewer at opening → failed (流标). A negotiation moved here after a
    /// failed open tender goes on with 2 ([`min_bids_for`], 74号令 Art 27).
    pub min_bids_open: u32,
    pub min_bids_invited: u32,
    pub min_bids_consultation: u32,
    pub min_bids_negotiation: u32,
    /// At or above this budget (fen) only an open tender is allowed.
    pub open_tender_threshold_fen: i64,
    pub price_weight_min: Decimal,
    pub price_weight_max: Decimal,
    pub publicity_working_days: u32,
    pub challenge_working_days: u32,
    pub answer_working_days: u32,
    /// The programme's shares of the price per budget line (none nationally: [`LineShare`]).
    pub line_shares: Vec<LineShare>,
    /// Enquiries one organisation may ask about one tender per Beijing day.
    pub enquiries_per_day: u32,
}

impl Default for TenderRules {
    fn default() -> Self {
        TenderRules {
            min_bids_open: 3,
            min_bids_invited: 3,
            min_bids_consultation: 2,
            min_bids_negotiation: 3,
            open_tender_threshold_fen: 200_000_000,
            price_weight_min: Decimal::from(10),
            price_weight_max: Decimal::from(30),
            publicity_working_days: 1,
            challenge_working_days: 7,
            answer_working_days: 7,
            line_shares: Vec::new(),
            enquiries_per_day: 20,
        }
    }
}

impl TenderRules {
    pub fn min_bids(&self, m: Method) -> u32 {
        match m {
            Method::Open => self.min_bids_open,
            Method::Invited => self.min_bids_invited,
            Method::Consultation => self.min_bids_consultation,
            Method::Negotiation => self.min_bids_negotiation,
            Method::SingleSource => 1,
        }
    }
}

/// From this budget on a tender's panel has at least 7 members: ¥10 million or more (87号令 Art 47).
pub const LARGE_PANEL_FROM: Fen = Fen::new(1_000_000_000);

/// The smallest panel for a method and budget: tenders 5 (7 from ¥10 million), the others 3; always odd.
/// The budget is a [`Fen`] or fen as stored.
pub fn min_panel(m: Method, budget: impl Into<Fen>) -> usize {
    if m.is_tender() {
        if budget.into() >= LARGE_PANEL_FROM {
            7
        } else {
            5
        }
    } else {
        3
    }
}

/// Whether a panel of `n` is allowed.
pub fn panel_ok(m: Method, budget: impl Into<Fen>, n: usize) -> bool {
    n >= min_panel(m, budget) && n % 2 == 1
}

/// Whether an organisation may take part in a tender of this method: in an invited tender only the
/// invited (政府采购法 Art 34), in single source only the named supplier (政府采购法 Art 39); in the other
/// methods anyone (standing and eligibility are separate rules).
pub fn may_take_part(m: Method, invited: &[i64], org_id: i64) -> bool {
    !matches!(m, Method::Invited | Method::SingleSource) || invited.contains(&org_id)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 政府采购法 Art 34, 39: an invited tender and single source are for the invited only.
    #[test]
    fn art34_39_only_the_invited_take_part() {
        assert!(may_take_part(Method::Open, &[], 7));
        assert!(may_take_part(Method::Consultation, &[1], 7));
        assert!(!may_take_part(Method::Invited, &[1, 2], 7));
        assert!(may_take_part(Method::Invited, &[1, 7], 7));
        assert!(!may_take_part(Method::SingleSource, &[], 7));
        assert!(may_take_part(Method::SingleSource, &[7], 7));
    }

    /// 87号令 Art 47: an open or invited tender's panel has at least 5 members, an odd number, and at least 7
    /// when the budget is ¥10 million or more (the amount itself included); 磋商 and 谈判 at least 3, odd.
    #[test]
    fn art47_panels_and_min_bids() {
        assert!(!panel_ok(Method::Open, 15_000_000, 3));
        assert!(!panel_ok(Method::Open, 15_000_000, 6));
        assert!(panel_ok(Method::Open, 15_000_000, 5));
        assert!(panel_ok(Method::Open, Fen::new(15_000_000), 5));
        assert_eq!(min_panel(Method::Open, Fen::new(999_999_999)), 5);
        assert_eq!(min_panel(Method::Open, LARGE_PANEL_FROM), 7);
        assert_eq!(min_panel(Method::Invited, LARGE_PANEL_FROM), 7);
        assert_eq!(min_panel(Method::Open, Fen::new(1_000_000_001)), 7);
        assert_eq!(min_panel(Method::Consultation, LARGE_PANEL_FROM), 3);
        assert!(!panel_ok(Method::Open, 2_000_000_000, 5));
        assert!(panel_ok(Method::Consultation, 15_000_000, 3));
        assert!(!panel_ok(Method::Consultation, 15_000_000, 4));
        let r = TenderRules::default();
        assert_eq!(r.min_bids(Method::Open), 3);
        assert_eq!(r.min_bids(Method::Consultation), 2);
    }
}

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
    /// Response time from the notice to the bid deadline: calendar days, or working days for single source.
    pub fn min_response(self) -> ResponseTime {
        match self {
            Method::Open | Method::Invited => ResponseTime::Days(20),
            Method::Consultation | Method::Negotiation => ResponseTime::Days(10),
            Method::SingleSource => ResponseTime::WorkingDays(5),
        }
    }
    fn is_tender(self) -> bool {
        matches!(self, Method::Open | Method::Invited)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResponseTime {
    Days(u32),
    WorkingDays(u32),
}

/// The configurable tender numbers (DOMAIN.md defaults).
#[derive(Clone, Debug)]
pub struct TenderRules {
    /// Minimum valid bids per method; fewer at opening → failed (流标).
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
    /// 管理费 at most this share of the price (percent).
    pub management_fee_cap_pct: Decimal,
    /// 人员经费 at most this share of the price (percent).
    pub staff_cost_cap_pct: Decimal,
    /// Enquiries one organisation may ask about one tender per Beijing day.
    pub enquiries_per_day: u32,
}

impl Default for TenderRules {
    fn default() -> Self {
        TenderRules {
            min_bids_open: 3,
            min_bids_invited: 3,
            min_bids_consultation: 2,
            min_bids_negotiation: 2,
            open_tender_threshold_fen: 200_000_000,
            price_weight_min: Decimal::from(10),
            price_weight_max: Decimal::from(30),
            publicity_working_days: 1,
            challenge_working_days: 7,
            answer_working_days: 7,
            management_fee_cap_pct: Decimal::from(10),
            staff_cost_cap_pct: Decimal::from(50),
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

/// Above this budget a tender's panel has 7 members: ¥10 million.
pub const LARGE_PANEL_ABOVE: Fen = Fen::new(1_000_000_000);

/// The smallest panel for a method and budget: tenders 5 (7 above ¥10 million), the others 3; always odd.
/// The budget is a [`Fen`] or fen as stored.
pub fn min_panel(m: Method, budget: impl Into<Fen>) -> usize {
    if m.is_tender() {
        if budget.into() > LARGE_PANEL_ABOVE {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn panels_and_min_bids() {
        assert!(!panel_ok(Method::Open, 15_000_000, 3));
        assert!(!panel_ok(Method::Open, 15_000_000, 6));
        assert!(panel_ok(Method::Open, 15_000_000, 5));
        assert!(panel_ok(Method::Open, Fen::new(15_000_000), 5));
        assert_eq!(min_panel(Method::Open, LARGE_PANEL_ABOVE), 5);
        assert_eq!(min_panel(Method::Open, Fen::new(1_000_000_001)), 7);
        assert!(!panel_ok(Method::Open, 2_000_000_000, 5));
        assert!(panel_ok(Method::Consultation, 15_000_000, 3));
        assert!(!panel_ok(Method::Consultation, 15_000_000, 4));
        let r = TenderRules::default();
        assert_eq!(r.min_bids(Method::Open), 3);
        assert_eq!(r.min_bids(Method::Consultation), 2);
    }
}

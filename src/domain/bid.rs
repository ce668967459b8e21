//! A bid's status, stored as text in `bids.status` (the column's CHECK lists the same four strings).

use serde::{Deserialize, Serialize};

/// Where a bid stands. At most one bid per organisation and tender is `Active`.
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
pub enum BidStatus {
    /// The organisation's current bid.
    Active,
    /// Superseded by a later bid of the same organisation before the deadline.
    Replaced,
    /// Withdrawn by the organisation.
    Withdrawn,
    /// Set aside: unreadable at opening, or by the panel or the award check, with a reason.
    Disqualified,
}

impl BidStatus {
    pub const ALL: [BidStatus; 4] = [
        BidStatus::Active,
        BidStatus::Replaced,
        BidStatus::Withdrawn,
        BidStatus::Disqualified,
    ];

    /// The stored text.
    pub fn as_str(self) -> &'static str {
        match self {
            BidStatus::Active => "active",
            BidStatus::Replaced => "replaced",
            BidStatus::Withdrawn => "withdrawn",
            BidStatus::Disqualified => "disqualified",
        }
    }

    pub fn parse(s: &str) -> Option<BidStatus> {
        BidStatus::ALL.into_iter().find(|x| x.as_str() == s)
    }

    pub fn label(self, zh: bool) -> &'static str {
        let (z, e) = match self {
            BidStatus::Active => ("有效", "Active"),
            BidStatus::Replaced => ("已替换", "Replaced"),
            BidStatus::Withdrawn => ("已撤回", "Withdrawn"),
            BidStatus::Disqualified => ("已取消资格", "Disqualified"),
        };
        if zh { z } else { e }
    }
}

impl std::fmt::Display for BidStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_round_trip_as_the_stored_text() {
        for s in BidStatus::ALL {
            assert_eq!(BidStatus::parse(s.as_str()), Some(s));
            assert_eq!(
                serde_json::to_string(&s).unwrap(),
                format!("\"{}\"", s.as_str())
            );
            assert!(!s.label(true).is_empty() && !s.label(false).is_empty());
        }
        assert_eq!(BidStatus::parse("Active"), None);
        assert_eq!(BidStatus::Disqualified.label(true), "已取消资格");
    }
}

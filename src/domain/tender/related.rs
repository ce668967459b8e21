//! Related suppliers (政府采购法实施条例 Art 18): "单位负责人为同一人或者存在直接控股、管理关系的不同供应商，
//! 不得参加同一合同项下的政府采购活动".

use serde::{Deserialize, Serialize};

/// How two organisations are related.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum LinkKind {
    /// 单位负责人为同一人.
    SameResponsiblePerson,
    /// 直接控股或管理关系.
    Control,
}

impl LinkKind {
    pub const ALL: [LinkKind; 2] = [LinkKind::SameResponsiblePerson, LinkKind::Control];

    /// The stored text.
    pub fn as_str(self) -> &'static str {
        match self {
            LinkKind::SameResponsiblePerson => "same_responsible_person",
            LinkKind::Control => "control",
        }
    }

    pub fn parse(s: &str) -> Option<LinkKind> {
        LinkKind::ALL.into_iter().find(|k| k.as_str() == s.trim())
    }

    pub fn label(self, zh: bool) -> &'static str {
        match (self, zh) {
            (LinkKind::SameResponsiblePerson, true) => "单位负责人为同一人",
            (LinkKind::SameResponsiblePerson, false) => "the same responsible person",
            (LinkKind::Control, true) => "存在直接控股或管理关系",
            (LinkKind::Control, false) => "a direct controlling or management relationship",
        }
    }
}

/// A recorded link between two organisations (either order).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Link {
    pub a: i64,
    pub b: i64,
    pub kind: LinkKind,
}

impl Link {
    /// The other end of the link when `org` is one end.
    pub fn other(&self, org: i64) -> Option<i64> {
        if self.a == org {
            Some(self.b)
        } else if self.b == org {
            Some(self.a)
        } else {
            None
        }
    }
}

/// The pair in the order it is stored (smaller id first), or `None` for a link to itself.
pub fn canonical_pair(x: i64, y: i64) -> Option<(i64, i64)> {
    match x.cmp(&y) {
        std::cmp::Ordering::Less => Some((x, y)),
        std::cmp::Ordering::Greater => Some((y, x)),
        std::cmp::Ordering::Equal => None,
    }
}

/// Which organisation already bidding bars `bidder` from the same tender (实施条例 Art 18): the first of
/// `bidding` (the organisations with an active bid, in the order they bid) linked to it, with the link's
/// kind. The bidder's own earlier bid never bars it (it replaces it).
pub fn related_bidder(bidder: i64, bidding: &[i64], links: &[Link]) -> Option<(i64, LinkKind)> {
    bidding.iter().filter(|o| **o != bidder).find_map(|o| {
        links
            .iter()
            .find(|l| l.other(bidder) == Some(*o))
            .map(|l| (*o, l.kind))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 实施条例 Art 18: of two organisations under one responsible person, or one controlling the other, the
    /// second to bid is barred by the first; unlinked organisations and the bidder's own bid are not.
    #[test]
    fn art18_related_suppliers_may_not_both_bid() {
        let links = [
            Link {
                a: 1,
                b: 2,
                kind: LinkKind::SameResponsiblePerson,
            },
            Link {
                a: 3,
                b: 5,
                kind: LinkKind::Control,
            },
        ];
        assert_eq!(
            related_bidder(2, &[1], &links),
            Some((1, LinkKind::SameResponsiblePerson))
        );
        // The link works either way round.
        assert_eq!(
            related_bidder(1, &[4, 2], &links),
            Some((2, LinkKind::SameResponsiblePerson))
        );
        assert_eq!(
            related_bidder(3, &[4, 5], &links),
            Some((5, LinkKind::Control))
        );
        assert_eq!(related_bidder(4, &[1, 2, 3, 5], &links), None);
        assert_eq!(related_bidder(2, &[2], &links), None);
        assert_eq!(related_bidder(2, &[], &links), None);
    }

    #[test]
    fn pairs_are_stored_smaller_first_and_never_with_itself() {
        assert_eq!(canonical_pair(7, 3), Some((3, 7)));
        assert_eq!(canonical_pair(3, 7), Some((3, 7)));
        assert_eq!(canonical_pair(3, 3), None);
        for k in LinkKind::ALL {
            assert_eq!(LinkKind::parse(k.as_str()), Some(k));
        }
    }
}

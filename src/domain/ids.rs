//! Typed ids, so an organisation's id cannot be passed where a tender's is expected. Rows keep `i64`
//! columns; convert at the edge with `From<i64>` and [`OrgId::get`] (and likewise for the others). Each
//! serialises as the bare integer.
//!
//! While callers move over, service functions take `impl Into<OrgId>` (and so on): a typed id is checked,
//! and callers still holding a stored `i64` compile unchanged.

use std::fmt;

use serde::{Deserialize, Serialize};

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(i64);

        impl $name {
            pub const fn new(id: i64) -> $name {
                $name(id)
            }
            /// The id as stored.
            pub const fn get(self) -> i64 {
                self.0
            }
        }

        impl From<i64> for $name {
            fn from(id: i64) -> $name {
                $name(id)
            }
        }

        impl From<$name> for i64 {
            fn from(id: $name) -> i64 {
                id.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }
    };
}

id_type!(
    /// A social organisation (`organisations.id`).
    OrgId
);
id_type!(
    /// A user account (`users.id`).
    UserId
);
id_type!(
    /// A tender (`tenders.id`).
    TenderId
);
id_type!(
    /// A bid, which is also its receipt sequence number (`bids.id`).
    BidId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_convert_display_and_serialise_bare() {
        let t = TenderId::from(42);
        assert_eq!(t.get(), 42);
        assert_eq!(i64::from(t), 42);
        assert_eq!(t.to_string(), "42");
        assert_eq!(serde_json::to_string(&OrgId::new(7)).unwrap(), "7");
        assert_eq!(serde_json::from_str::<BidId>("9").unwrap(), BidId::new(9));
        assert!(UserId::new(1) < UserId::new(2));
    }
}

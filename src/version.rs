//! Versions of the records people edit, for optimistic concurrency: a read gives the record's version
//! (`ETag` on the API, a hidden field in a page's form), and a write that names a version that is no longer
//! the current one is refused with 412 `stale_version`, carrying what is there now, instead of silently
//! overwriting someone else's change.
//!
//! A version is derived from the record's editable state (the same value a write compares), not stored:
//! nothing has to remember to bump it, and a change that is undone gives the old version back, which is
//! right, since nothing the reader saw is lost. The comparison happens inside the write transaction, after
//! the row lock (`db::lock_row`), so it sees what the write will overwrite.

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::error::AppError;

/// The version of an editable state: the first 16 hex digits of the SHA-256 of its JSON.
pub fn of<T: Serialize + ?Sized>(state: &T) -> String {
    let bytes = serde_json::to_vec(state).unwrap_or_default();
    hex::encode(&Sha256::digest(&bytes)[..8])
}

/// The `ETag` header value of a version (a strong validator: quoted).
pub fn etag(version: &str) -> String {
    format!("\"{version}\"")
}

/// A version as sent in `If-Match` or a form field: quotes and a weak prefix removed. `*`, blank or absent
/// means "whatever is there" (no check).
pub fn parse(raw: Option<&str>) -> Option<String> {
    let t = raw?.trim();
    let t = t.strip_prefix("W/").unwrap_or(t).trim_matches('"').trim();
    (!t.is_empty() && t != "*").then(|| t.to_string())
}

/// Refuse the write when the caller expected another version than the current state's.
pub fn check<T: Serialize + ?Sized>(expected: Option<&str>, current: &T) -> Result<(), AppError> {
    let Some(expected) = expected else {
        return Ok(());
    };
    let version = of(current);
    if expected == version {
        return Ok(());
    }
    Err(AppError::Stale {
        version,
        current: serde_json::to_value(current).unwrap_or_default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_changed_state_refuses_the_old_version() {
        let before = json!({"contact_phone": "13800000000", "volunteer_count": 3});
        let v = of(&before);
        assert_eq!(v.len(), 16);
        assert!(check(Some(&v), &before).is_ok());
        assert!(check(None, &before).is_ok(), "no version: no check");
        let after = json!({"contact_phone": "13800000000", "volunteer_count": 4});
        match check(Some(&v), &after) {
            Err(AppError::Stale { version, current }) => {
                assert_eq!(version, of(&after));
                assert_eq!(current, after);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn if_match_forms() {
        assert_eq!(parse(Some("\"abc\"")).as_deref(), Some("abc"));
        assert_eq!(parse(Some("W/\"abc\"")).as_deref(), Some("abc"));
        assert_eq!(parse(Some(" abc ")).as_deref(), Some("abc"));
        assert_eq!(parse(Some("*")), None);
        assert_eq!(parse(Some("")), None);
        assert_eq!(parse(None), None);
        assert_eq!(etag("abc"), "\"abc\"");
    }
}

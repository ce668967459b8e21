//! Idempotent writes: a client-chosen key, a hash of the canonical request, and the first result.
//!
//! A retry with the same key and the same request gets the first result back ([`Decision::Replay`]); the
//! same key with a different request is refused with 409 `idempotency_key_reused` ([`Decision::Conflict`]);
//! a key not seen before goes ahead ([`Decision::New`]). Storage stays with the thing created (bids keep
//! `idem_key` and `request_hash` in their own row, unique per organisation); this module holds the rules.

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::error::AppError;

/// Longest key accepted, in bytes after trimming.
pub const MAX_KEY_LEN: usize = 100;

/// The key, trimmed: 1 to [`MAX_KEY_LEN`] bytes. Anything else is refused as a field error on
/// `idempotency_key`.
pub fn check_key(raw: &str) -> Result<&str, AppError> {
    let key = raw.trim();
    if key.is_empty() || key.len() > MAX_KEY_LEN {
        return Err(AppError::field(
            "idempotency_key",
            "required",
            "请提供幂等键（1–100 个字符）。",
            "Give an idempotency key (1–100 characters).",
        ));
    }
    Ok(key)
}

/// SHA-256 (hex) of the request as compact JSON, without the named top-level fields (the key itself, so
/// the same content under the same key hashes the same).
pub fn request_hash<T: Serialize>(request: &T, without: &[&str]) -> String {
    let mut v = serde_json::to_value(request).expect("plain values serialise");
    if let Some(o) = v.as_object_mut() {
        for k in without {
            o.remove(*k);
        }
    }
    hex::encode(Sha256::digest(v.to_string().as_bytes()))
}

/// What to do with a keyed request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision<R> {
    /// The key is new: do the work and store the key with the request's fingerprint.
    New,
    /// The same request came before: answer with its first result.
    Replay(R),
    /// The key was used for a different request.
    Conflict,
}

/// Decide from what is stored under the key: the first request's fingerprint (its request hash and
/// whatever else must match, such as the target) and its result.
pub fn decide<F: PartialEq, R>(stored: Option<(F, R)>, incoming: &F) -> Decision<R> {
    match stored {
        None => Decision::New,
        Some((f, r)) if f == *incoming => Decision::Replay(r),
        Some(_) => Decision::Conflict,
    }
}

/// The 409 for a key reused with different content.
pub fn conflict(what_zh: &str, what_en: &str) -> AppError {
    AppError::conflict(
        "idempotency_key_reused",
        format!("该幂等键已用于另一份内容不同的{what_zh}。"),
        format!("This idempotency key was already used for a different {what_en}."),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_trimmed_and_bounded() {
        assert_eq!(check_key("  k-1 ").unwrap(), "k-1");
        assert_eq!(check_key(&"a".repeat(100)).unwrap().len(), 100);
        assert!(check_key("").is_err());
        assert!(check_key("   ").is_err());
        assert!(check_key(&"a".repeat(101)).is_err());
        // The bound is in bytes: 34 three-byte characters are 102 bytes.
        assert!(check_key(&"键".repeat(34)).is_err());
        assert!(check_key(&"键".repeat(33)).is_ok());
        match check_key("") {
            Err(AppError::Validation(v)) => {
                assert_eq!(
                    (v[0].field.as_str(), v[0].rule.as_str()),
                    ("idempotency_key", "required")
                )
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_decision() {
        let fp = |t: i64, h: &str| (t, h.to_string());
        assert_eq!(decide::<_, &str>(None, &fp(1, "h")), Decision::New);
        assert_eq!(
            decide(Some((fp(1, "h"), "first")), &fp(1, "h")),
            Decision::Replay("first")
        );
        assert_eq!(
            decide(Some((fp(1, "h"), "first")), &fp(1, "other")),
            Decision::Conflict
        );
        assert_eq!(
            decide(Some((fp(1, "h"), "first")), &fp(2, "h")),
            Decision::Conflict,
            "same content for another target"
        );
    }

    #[test]
    fn the_request_hash_ignores_the_key_only() {
        #[derive(Serialize)]
        struct Req<'a> {
            idempotency_key: &'a str,
            price: &'a str,
        }
        let a = request_hash(
            &Req {
                idempotency_key: "k1",
                price: "10",
            },
            &["idempotency_key"],
        );
        let b = request_hash(
            &Req {
                idempotency_key: "k2",
                price: "10",
            },
            &["idempotency_key"],
        );
        let c = request_hash(
            &Req {
                idempotency_key: "k1",
                price: "11",
            },
            &["idempotency_key"],
        );
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_eq!(a.len(), 64);
        assert_eq!(
            a,
            hex::encode(Sha256::digest(br#"{"price":"10"}"#)),
            "compact JSON, keys as serialised"
        );
    }
}

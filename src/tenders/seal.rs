//! Sealing bids until opening, and the commitments anyone can check afterwards.
//!
//! A bid's content is encrypted with AES-256-GCM under a key derived (HKDF-SHA256) from the server's seal
//! secret; the associated data binds the ciphertext to its tender and organisation, so a sealed bid cannot
//! be moved to another tender. A random 32-byte commitment nonce is sealed with the content: the
//! field-wise commitment (`domain::commitment`) salts each field from it, so before opening the
//! commitment reveals nothing. [`commitment`] is the whole-bid hash of bids sealed before that (scheme 1).
//! `ring` is already in the tree (through lettre's TLS), so this adds no new dependency to build.

use crate::domain::ids::{OrgId, TenderId};
use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::hkdf;
use ring::rand::{SecureRandom, SystemRandom};
use sha2::{Digest, Sha256};

pub struct Sealer {
    key: LessSafeKey,
    rng: SystemRandom,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sealer(…)")
    }
}

/// The associated data of a sealed audit event (`audit::SEALED`).
const AUDIT_AAD: &str = "sanshe-audit/v1";

impl crate::audit::Sealing for Sealer {
    fn seal(&self, plain: &[u8]) -> String {
        use base64::Engine;
        let (ct, nonce) = Sealer::seal(self, AUDIT_AAD, plain);
        base64::engine::general_purpose::STANDARD.encode([nonce, ct].concat())
    }
    fn open(&self, sealed: &str) -> Option<Vec<u8>> {
        use base64::Engine;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(sealed)
            .ok()?;
        (bytes.len() > NONCE_LEN)
            .then(|| Sealer::open(self, AUDIT_AAD, &bytes[NONCE_LEN..], &bytes[..NONCE_LEN]))?
    }
}

/// The associated data of a sealed bid: its tender and organisation (typed ids, or `i64` as stored).
pub fn aad(tender: impl Into<TenderId>, organisation: impl Into<OrgId>) -> String {
    let (tender_id, organisation_id) = (tender.into(), organisation.into());
    format!("sanshe-bid/v1/tender/{tender_id}/org/{organisation_id}")
}

impl Sealer {
    pub fn new(secret: &str) -> Sealer {
        let salt = hkdf::Salt::new(hkdf::HKDF_SHA256, b"sanshe bid seal");
        let prk = salt.extract(secret.as_bytes());
        let okm = prk
            .expand(&[b"aes-256-gcm v1"], &AES_256_GCM)
            .expect("32-byte output is within HKDF's limit");
        let key: UnboundKey = okm.into();
        Sealer {
            key: LessSafeKey::new(key),
            rng: SystemRandom::new(),
        }
    }

    /// Encrypt; returns (ciphertext with tag, nonce).
    pub fn seal(&self, aad: &str, plain: &[u8]) -> (Vec<u8>, Vec<u8>) {
        let mut nonce = [0u8; NONCE_LEN];
        self.rng.fill(&mut nonce).expect("system randomness");
        let mut buf = plain.to_vec();
        self.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(aad.as_bytes()),
                &mut buf,
            )
            .expect("AES-GCM sealing of an in-memory buffer");
        (buf, nonce.to_vec())
    }

    /// Decrypt; `None` when the ciphertext, nonce or associated data do not match (altered or misplaced).
    pub fn open(&self, aad: &str, sealed: &[u8], nonce: &[u8]) -> Option<Vec<u8>> {
        let nonce: [u8; NONCE_LEN] = nonce.try_into().ok()?;
        let mut buf = sealed.to_vec();
        let plain = self
            .key
            .open_in_place(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(aad.as_bytes()),
                &mut buf,
            )
            .ok()?;
        Some(plain.to_vec())
    }

    /// A fresh commitment nonce, hex.
    pub fn commitment_nonce(&self) -> String {
        let mut n = [0u8; 32];
        self.rng.fill(&mut n).expect("system randomness");
        hex::encode(n)
    }
}

/// SHA-256(canonical bytes ‖ nonce bytes), hex. `None` when the nonce is not hex.
pub fn commitment(canonical: &[u8], nonce_hex: &str) -> Option<String> {
    let nonce = hex::decode(nonce_hex).ok()?;
    let mut h = Sha256::new();
    h.update(canonical);
    h.update(&nonce);
    Some(hex::encode(h.finalize()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seals_opens_and_refuses_tampering() {
        let s = Sealer::new("a-test-secret-of-some-length-000000");
        let (ct, nonce) = s.seal(&aad(1, 2), b"price 98000");
        assert!(
            !ct.windows(5).any(|w| w == b"98000"),
            "ciphertext hides the price"
        );
        assert_eq!(s.open(&aad(1, 2), &ct, &nonce).unwrap(), b"price 98000");
        assert!(
            s.open(&aad(1, 3), &ct, &nonce).is_none(),
            "bound to its organisation"
        );
        let mut bad = ct.clone();
        bad[0] ^= 1;
        assert!(
            s.open(&aad(1, 2), &bad, &nonce).is_none(),
            "altered ciphertext"
        );
        let other = Sealer::new("another-secret-of-some-length-00000");
        assert!(other.open(&aad(1, 2), &ct, &nonce).is_none(), "other key");
        assert_eq!(
            aad(TenderId::new(1), OrgId::new(2)),
            "sanshe-bid/v1/tender/1/org/2"
        );
        let (ct2, nonce2) = s.seal(&aad(1, 2), b"price 98000");
        assert_ne!((ct2, nonce2), (ct, nonce), "fresh nonce per seal");
    }

    #[test]
    fn commitment_is_sha256_of_bytes_and_nonce() {
        // sha256("abc" ‖ 0x00) computed independently: printf 'abc\0' | sha256sum
        assert_eq!(
            commitment(b"abc", "00").unwrap(),
            "dc1114cd074914bd872cc1f9a23ec910ea2203bc79779ab2e17da25782a624fc"
        );
        assert_ne!(commitment(b"abc", "00"), commitment(b"abd", "00"));
        assert_ne!(commitment(b"abc", "00"), commitment(b"abc", "01"));
        assert!(commitment(b"abc", "zz").is_none());
    }
}

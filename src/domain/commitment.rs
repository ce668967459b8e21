//! Field-wise bid commitments: one salted hash per field under one root, so that after opening the public
//! can check a bid's bidder and price against the commitment its bidder received at submission while the
//! other fields (plan, budget, staff with social workers' names, targets, attachments) stay disclosed only
//! to the purchaser and the declared panel. 87号令 Art 41 publishes at the opening the bidder and price
//! (开标记录); it publishes no bid's plan, and 个人信息保护法 Art 6 keeps personal data to what the purpose needs.
//!
//! Scheme 2 (the current one), for a bid with a secret 32-byte nonce `N`, fields `f` in their fixed order
//! with values `v_f` (the field's compact JSON, UTF-8):
//!
//! ```text
//! salt_f = SHA-256("sanshe-bid-salt/2" ‖ 0x00 ‖ N ‖ f)
//! leaf_f = SHA-256("sanshe-bid-field/2" ‖ 0x00 ‖ f ‖ 0x00 ‖ v_f ‖ 0x00 ‖ salt_f)
//! root   = SHA-256("sanshe-bid/2" ‖ 0x00 ‖ leaf_1 ‖ … ‖ leaf_n)            (leaves as 32 raw bytes)
//! ```
//!
//! Disclosing a field means giving `v_f` and `salt_f`; anyone recomputes its leaf. An undisclosed field is
//! given by its leaf only: its salt comes from the secret nonce, so a guessable value (a name) cannot be
//! confirmed by trying candidates. Scheme 1 (bids sealed before field-wise commitments) is
//! SHA-256(canonical bytes ‖ N) over the whole bid and can only be checked by whoever holds the whole bid.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The scheme of a whole-bid commitment (kept to check bids sealed under it).
pub const WHOLE: i32 = 1;
/// The current, field-wise scheme.
pub const FIELDWISE: i32 = 2;

/// The fields disclosed to everyone after opening (87号令 Art 41: the bidder and its price are read out).
pub const PUBLIC_FIELDS: [&str; 3] = ["tender_id", "organisation_id", "price_fen"];

/// Who reads a commitment: everyone, or a reader entitled to the whole bid.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Disclosure {
    Public,
    Full,
}

impl Disclosure {
    pub fn discloses(self, field: &str) -> bool {
        self == Disclosure::Full || PUBLIC_FIELDS.contains(&field)
    }
}

/// One field as a reader sees it: always its leaf; its value (compact JSON) and salt when disclosed.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq, utoipa::ToSchema)]
pub struct FieldProof {
    pub name: String,
    /// SHA-256 leaf, hex.
    pub hash: String,
    /// The field's compact JSON, when disclosed to this reader.
    pub value: Option<String>,
    /// The field's salt, hex, when disclosed.
    pub salt: Option<String>,
}

fn sha(parts: &[&[u8]]) -> [u8; 32] {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p);
    }
    h.finalize().into()
}

/// The salt of one field, from the bid's secret nonce.
pub fn salt(nonce: &[u8], field: &str) -> [u8; 32] {
    sha(&[b"sanshe-bid-salt/2\0", nonce, field.as_bytes()])
}

/// The leaf of one field.
pub fn leaf(field: &str, value: &str, salt: &[u8]) -> [u8; 32] {
    sha(&[
        b"sanshe-bid-field/2\0",
        field.as_bytes(),
        b"\0",
        value.as_bytes(),
        b"\0",
        salt,
    ])
}

/// The root over the leaves in field order, hex.
pub fn root<'a>(leaves: impl IntoIterator<Item = &'a [u8; 32]>) -> String {
    let mut h = Sha256::new();
    h.update(b"sanshe-bid/2\0");
    for l in leaves {
        h.update(l);
    }
    hex::encode(h.finalize())
}

/// Commit to `fields` (name, compact JSON) under `nonce` (hex): the root and every field's proof as
/// `reader` may see it. `None` when the nonce is not hex.
pub fn commit(
    fields: &[(&str, String)],
    nonce_hex: &str,
    reader: Disclosure,
) -> Option<(String, Vec<FieldProof>)> {
    let nonce = hex::decode(nonce_hex).ok()?;
    let proofs: Vec<(FieldProof, [u8; 32])> = fields
        .iter()
        .map(|(name, value)| {
            let s = salt(&nonce, name);
            let l = leaf(name, value, &s);
            let shown = reader.discloses(name);
            let proof = FieldProof {
                name: name.to_string(),
                hash: hex::encode(l),
                value: shown.then(|| value.clone()),
                salt: shown.then(|| hex::encode(s)),
            };
            (proof, l)
        })
        .collect();
    let r = root(proofs.iter().map(|(_, l)| l));
    Some((r, proofs.into_iter().map(|(p, _)| p).collect()))
}

/// What a reader recomputes from proofs alone: each disclosed field's leaf from its value and salt (which
/// must then equal the stated hash), the stated hash of the others, and the root over them. `None` when a
/// proof is malformed or a disclosed field does not hash to its stated leaf.
pub fn recompute(proofs: &[FieldProof]) -> Option<String> {
    let mut leaves = Vec::with_capacity(proofs.len());
    for p in proofs {
        let stated: [u8; 32] = hex::decode(&p.hash).ok()?.try_into().ok()?;
        if let (Some(v), Some(s)) = (&p.value, &p.salt)
            && leaf(&p.name, v, &hex::decode(s).ok()?) != stated
        {
            return None;
        }
        leaves.push(stated);
    }
    Some(root(leaves.iter()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const NONCE: &str = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

    fn fields() -> Vec<(&'static str, String)> {
        vec![
            ("tender_id", "7".into()),
            ("organisation_id", "12".into()),
            ("price_fen", "9800000".into()),
            (
                "staff",
                r#"[{"worker_id":3,"name":"李华","level":"assistant"}]"#.into(),
            ),
        ]
    }

    /// 87号令 Art 41: the public sees bidder and price, and recomputes the root without the other fields.
    #[test]
    fn art41_public_proofs_disclose_bidder_and_price_and_still_recompute_the_root() {
        let (full_root, full) = commit(&fields(), NONCE, Disclosure::Full).unwrap();
        let (public_root, public) = commit(&fields(), NONCE, Disclosure::Public).unwrap();
        assert_eq!(full_root, public_root);
        assert_eq!(recompute(&full).as_deref(), Some(full_root.as_str()));
        assert_eq!(recompute(&public).as_deref(), Some(full_root.as_str()));
        let staff = public.iter().find(|p| p.name == "staff").unwrap();
        assert_eq!(
            (staff.value.as_deref(), staff.salt.as_deref()),
            (None, None)
        );
        let price = public.iter().find(|p| p.name == "price_fen").unwrap();
        assert_eq!(price.value.as_deref(), Some("9800000"));
        // Leaves are the same for every reader: only values and salts are withheld.
        let hashes = |ps: &[FieldProof]| ps.iter().map(|p| p.hash.clone()).collect::<Vec<_>>();
        assert_eq!(hashes(&full), hashes(&public));
    }

    #[test]
    fn any_change_of_value_order_or_nonce_changes_the_root_or_fails_the_proof() {
        let (r, full) = commit(&fields(), NONCE, Disclosure::Full).unwrap();
        let mut f = fields();
        f[2].1 = "9800001".into();
        assert_ne!(commit(&f, NONCE, Disclosure::Full).unwrap().0, r);
        let mut f = fields();
        f.swap(0, 1);
        assert_ne!(commit(&f, NONCE, Disclosure::Full).unwrap().0, r);
        let other = "ff".repeat(32);
        assert_ne!(commit(&fields(), &other, Disclosure::Full).unwrap().0, r);
        // A disclosed value altered without its leaf fails the proof.
        let mut forged = full.clone();
        forged[2].value = Some("1".into());
        assert_eq!(recompute(&forged), None);
        // A leaf altered changes the root.
        let mut forged = full;
        forged[3].hash = "00".repeat(32);
        forged[3].value = None;
        assert_ne!(recompute(&forged).unwrap(), r);
        assert_eq!(commit(&fields(), "not hex", Disclosure::Full), None);
    }

    #[test]
    fn salts_differ_per_field_and_per_nonce() {
        let n = hex::decode(NONCE).unwrap();
        assert_ne!(salt(&n, "plan"), salt(&n, "staff"));
        assert_ne!(salt(&n, "plan"), salt(&[0u8; 32], "plan"));
    }
}

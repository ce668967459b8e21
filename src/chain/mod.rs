//! Hash chains: append-only sequences of entries where each entry's hash covers the previous entry's hash and
//! the entry's canonical bytes, so any edit, gap or reordering of history is detected.
//!
//! The audit trail (`crate::audit`) is the first chain; the fund ledger (DESIGN.md, "The ledger") will be the
//! second and uses this module the same way: its own [`Chain`] (name and lock key), [`Canonical`] for its
//! entries' bytes, [`next_hash`] on append and [`Verifier`] / [`verify`] to recompute the chain.
//!
//! The canonical bytes are a compact JSON array of the entry's fields in a fixed order, followed by the
//! previous entry's hash as the last element. JSON strings are quoted and escaped, so the encoding is
//! unambiguous: `("ab", "c")` and `("a", "bc")` give different bytes. This is byte for byte what the audit
//! trail has always hashed (`serde_json::to_vec` of a tuple), so existing rows keep verifying.
//!
//! Appending needs a lock per chain so two writers cannot both take the same head: SQLite already holds the
//! database write lock inside a write transaction, PostgreSQL takes a transaction-scoped advisory lock keyed
//! by the chain ([`Chain::lock`]).
//!
//! A hash chain alone does not stop someone who can write to the database: they can rewrite an entry and
//! recompute every later hash, or cut the tail. [`checkpoint`] signs the chain head (name, sequence number,
//! hash, time) with an Ed25519 key kept outside the database, publishes and mails the signatures, and
//! checks the chain against them: every chain gets this through [`checkpoint::Source`].

pub mod checkpoint;

use diesel::QueryResult;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::db::DbConn;

/// The `prev_hash` of a chain's first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One chain: a name for messages and its own lock.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Chain {
    pub name: &'static str,
    /// Key of the transaction-scoped advisory lock on PostgreSQL.
    pub lock_key: i64,
}

/// The audit trail.
pub const AUDIT: Chain = Chain {
    name: "audit",
    lock_key: 0x5a4e_5348_0001,
};

/// The fund ledger (reserved; the ledger tables come with the ledger feature).
pub const LEDGER: Chain = Chain {
    name: "ledger",
    lock_key: 0x5a4e_5348_0002,
};

impl Chain {
    /// Serialise appends to this chain until the transaction ends. Call inside a write transaction, before
    /// reading the head.
    pub fn lock(&self, conn: &mut DbConn) -> QueryResult<()> {
        crate::db::lock_chain(conn, self.lock_key)
    }
}

/// The sequence number and `prev_hash` of the entry that follows `head` (the last entry's seq and hash, or
/// `None` for an empty chain).
pub fn successor(head: Option<(i64, String)>) -> (i64, String) {
    match head {
        Some((seq, hash)) => (seq + 1, hash),
        None => (1, GENESIS.to_string()),
    }
}

/// An entry's fields in canonical form: a compact JSON array, still open for the link.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Canonical {
    buf: Vec<u8>,
    fields: usize,
}

impl Default for Canonical {
    fn default() -> Self {
        Canonical::new()
    }
}

impl Canonical {
    pub fn new() -> Canonical {
        Canonical {
            buf: vec![b'['],
            fields: 0,
        }
    }

    /// Append one field (any plain serialisable value: numbers, strings, options, nested arrays).
    pub fn push<T: Serialize + ?Sized>(&mut self, v: &T) -> &mut Canonical {
        if self.fields > 0 {
            self.buf.push(b',');
        }
        serde_json::to_writer(&mut self.buf, v).expect("plain values serialise");
        self.fields += 1;
        self
    }

    /// Builder form of [`Canonical::push`].
    pub fn with<T: Serialize + ?Sized>(mut self, v: &T) -> Canonical {
        self.push(v);
        self
    }

    /// The fields alone as one closed JSON array (what a checkpoint signs).
    pub fn bytes(&self) -> Vec<u8> {
        let mut b = self.buf.clone();
        b.push(b']');
        b
    }

    /// The bytes an entry's hash covers: its fields, then the previous entry's hash, as one JSON array.
    pub fn linked(&self, prev_hash: &str) -> Vec<u8> {
        let mut c = self.clone();
        c.push(prev_hash);
        c.buf.push(b']');
        c.buf
    }

    /// SHA-256 of [`Canonical::linked`], fed in parts (verification hashes a million entries: no copy).
    fn linked_digest(&self, prev_hash: &str) -> [u8; 32] {
        let mut tail = Canonical {
            buf: Vec::with_capacity(prev_hash.len() + 4),
            fields: self.fields,
        };
        tail.push(prev_hash);
        tail.buf.push(b']');
        let mut h = Sha256::new();
        h.update(&self.buf);
        h.update(&tail.buf);
        h.finalize().into()
    }
}

/// The hash of an entry: SHA-256, hex, over its canonical fields linked to the previous entry's hash.
pub fn next_hash(prev_hash: &str, entry: &Canonical) -> String {
    hex::encode(entry.linked_digest(prev_hash))
}

/// Is `hash` (hex, as stored) [`next_hash`] of the entry? Compared without making a string.
pub fn hash_matches(prev_hash: &str, entry: &Canonical, hash: &str) -> bool {
    let mut hex_buf = [0u8; 64];
    hex::encode_to_slice(entry.linked_digest(prev_hash), &mut hex_buf).is_ok()
        && hash.as_bytes() == hex_buf.as_slice()
}

/// What a chain entry offers for verification.
pub trait Entry {
    fn seq(&self) -> i64;
    fn prev_hash(&self) -> &str;
    fn hash(&self) -> &str;
    /// The entry's own fields, without the link.
    fn canonical(&self) -> Canonical;
}

/// Why a chain is broken, at the first entry that fails.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Break {
    /// Entry `expected` is missing: the next one found has `found` (a gap or a reordering).
    Missing { expected: i64, found: i64 },
    /// Entry `seq` does not carry the hash of the entry before it.
    Unlinked { seq: i64 },
    /// Entry `seq`'s hash does not match its content.
    Altered { seq: i64 },
}

impl Break {
    /// The sequence number where the chain breaks.
    pub fn seq(&self) -> i64 {
        match self {
            Break::Missing { expected, .. } => *expected,
            Break::Unlinked { seq } | Break::Altered { seq } => *seq,
        }
    }
}

/// Checks entries one by one, in the order read; stops at the first break.
#[derive(Clone, Debug)]
pub struct Verifier {
    /// Entries that verified.
    pub count: i64,
    /// Sequence number and hash of the last entry that verified (0 and [`GENESIS`] before any).
    pub head_seq: i64,
    pub head_hash: String,
    pub broken: Option<Break>,
}

impl Default for Verifier {
    fn default() -> Self {
        Verifier::new()
    }
}

impl Verifier {
    pub fn new() -> Verifier {
        Verifier {
            count: 0,
            head_seq: 0,
            head_hash: GENESIS.to_string(),
            broken: None,
        }
    }

    /// A verifier that trusts the chain up to entry `seq` with hash `hash` (a signed checkpoint) and checks
    /// the entries after it.
    pub fn after(seq: i64, hash: &str) -> Verifier {
        Verifier {
            count: 0,
            head_seq: seq,
            head_hash: hash.to_string(),
            broken: None,
        }
    }

    /// The sequence number the next entry must have.
    pub fn expected_seq(&self) -> i64 {
        self.head_seq + 1
    }

    /// Check the next entry. Returns false once the chain is broken (here or earlier).
    pub fn push<E: Entry + ?Sized>(&mut self, e: &E) -> bool {
        if self.broken.is_some() {
            return false;
        }
        let expected = self.expected_seq();
        let problem = if e.seq() != expected {
            Some(Break::Missing {
                expected,
                found: e.seq(),
            })
        } else if e.prev_hash() != self.head_hash {
            Some(Break::Unlinked { seq: e.seq() })
        } else if !hash_matches(e.prev_hash(), &e.canonical(), e.hash()) {
            Some(Break::Altered { seq: e.seq() })
        } else {
            None
        };
        if let Some(b) = problem {
            self.broken = Some(b);
            return false;
        }
        self.count += 1;
        self.head_seq = e.seq();
        // Reuses the buffer: a million entries, no allocation each.
        self.head_hash.clear();
        self.head_hash.push_str(e.hash());
        true
    }
}

/// Verify a whole chain from its first entry.
pub fn verify<E: Entry>(entries: impl IntoIterator<Item = E>) -> Verifier {
    let mut v = Verifier::new();
    for e in entries {
        if !v.push(&e) {
            break;
        }
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, Debug)]
    struct E {
        seq: i64,
        body: String,
        prev_hash: String,
        hash: String,
    }

    impl Entry for E {
        fn seq(&self) -> i64 {
            self.seq
        }
        fn prev_hash(&self) -> &str {
            &self.prev_hash
        }
        fn hash(&self) -> &str {
            &self.hash
        }
        fn canonical(&self) -> Canonical {
            Canonical::new().with(&self.seq).with(&self.body)
        }
    }

    fn chain(bodies: &[&str]) -> Vec<E> {
        let mut out: Vec<E> = Vec::new();
        for b in bodies {
            let head = out.last().map(|e| (e.seq, e.hash.clone()));
            let (seq, prev_hash) = successor(head);
            let mut e = E {
                seq,
                body: b.to_string(),
                prev_hash,
                hash: String::new(),
            };
            e.hash = next_hash(&e.prev_hash, &e.canonical());
            out.push(e);
        }
        out
    }

    #[test]
    fn a_three_entry_chain_verifies() {
        let c = chain(&["one", "two", "three"]);
        assert_eq!(c[0].prev_hash, GENESIS);
        let v = verify(c.clone());
        assert_eq!(v.broken, None);
        assert_eq!((v.count, v.head_seq), (3, 3));
        assert_eq!(v.head_hash, c[2].hash);
        assert_eq!(verify(Vec::<E>::new()).head_hash, GENESIS);
    }

    /// Flip one byte of a string, keeping it valid UTF-8 (ASCII in, ASCII out).
    fn flip(s: &str, i: usize) -> String {
        let mut b = s.as_bytes().to_vec();
        b[i] = if b[i] == b'x' { b'y' } else { b'x' };
        String::from_utf8(b).unwrap()
    }

    #[test]
    fn editing_any_byte_of_entry_2_is_reported_at_2() {
        let c = chain(&["one", "two", "three"]);
        let e2 = &c[1];
        let mut cases: Vec<E> = Vec::new();
        for i in 0..e2.body.len() {
            cases.push(E {
                body: flip(&e2.body, i),
                ..e2.clone()
            });
        }
        for i in 0..e2.hash.len() {
            cases.push(E {
                hash: flip(&e2.hash, i),
                ..e2.clone()
            });
        }
        for i in 0..e2.prev_hash.len() {
            cases.push(E {
                prev_hash: flip(&e2.prev_hash, i),
                ..e2.clone()
            });
        }
        // Each byte of the bytes the hash covers, including the link, changes the hash.
        let bytes = e2.canonical().linked(&e2.prev_hash);
        for i in 0..bytes.len() {
            let mut b = bytes.clone();
            b[i] ^= 0x01;
            assert_ne!(hex::encode(Sha256::digest(&b)), e2.hash, "byte {i}");
        }
        assert!(!cases.is_empty());
        for bad in cases {
            let mut edited = c.clone();
            edited[1] = bad;
            let v = verify(edited);
            assert_eq!(v.broken.as_ref().map(Break::seq), Some(2), "{v:?}");
            assert_eq!((v.count, v.head_seq), (1, 1));
        }
        let mut seq_edit = c.clone();
        seq_edit[1].seq = 7;
        assert_eq!(
            verify(seq_edit).broken,
            Some(Break::Missing {
                expected: 2,
                found: 7
            })
        );
    }

    #[test]
    fn a_reordered_or_dropped_entry_is_caught() {
        let c = chain(&["one", "two", "three"]);
        let reordered = vec![c[0].clone(), c[2].clone(), c[1].clone()];
        assert_eq!(
            verify(reordered).broken,
            Some(Break::Missing {
                expected: 2,
                found: 3
            })
        );
        // Swapping the bodies but keeping the numbering breaks the hashes instead.
        let mut swapped = c.clone();
        swapped[1].body = c[2].body.clone();
        swapped[2].body = c[1].body.clone();
        assert_eq!(verify(swapped).broken, Some(Break::Altered { seq: 2 }));
        // Renumbered and rehashed on its own, entry 3 still does not link to entry 1.
        let mut rewired = vec![c[0].clone(), c[2].clone()];
        rewired[1].seq = 2;
        rewired[1].hash = next_hash(&rewired[1].prev_hash, &rewired[1].canonical());
        assert_eq!(verify(rewired).broken, Some(Break::Unlinked { seq: 2 }));
    }

    #[test]
    fn the_encoding_is_unambiguous() {
        let a = Canonical::new().with("ab").with("c");
        let b = Canonical::new().with("a").with("bc");
        assert_ne!(a.linked(GENESIS), b.linked(GENESIS));
        assert_ne!(next_hash(GENESIS, &a), next_hash(GENESIS, &b));
        // Quotes and separators inside a value are escaped, not confused with the structure.
        let c = Canonical::new().with("a\",\"b");
        let d = Canonical::new().with("a").with("b");
        assert_ne!(c.linked(GENESIS), d.linked(GENESIS));
        let e = Canonical::new().with(&None::<String>);
        let f = Canonical::new().with("null");
        assert_ne!(e.linked(GENESIS), f.linked(GENESIS));
    }

    #[test]
    fn the_encoding_is_serde_json_of_a_tuple() {
        let c = Canonical::new()
            .with(&7i64)
            .with("x")
            .with(&Some(3i64))
            .with(&None::<String>);
        assert_eq!(
            c.linked("h"),
            serde_json::to_vec(&(7i64, "x", Some(3i64), None::<String>, "h")).unwrap()
        );
        assert_eq!(Canonical::new().linked("h"), b"[\"h\"]".to_vec());
        assert_eq!(
            Canonical::new().with(&1i64).with("a").bytes(),
            b"[1,\"a\"]".to_vec()
        );
        assert_eq!(Canonical::new().bytes(), b"[]".to_vec());
    }

    #[test]
    fn a_verifier_can_start_after_a_checkpoint() {
        let c = chain(&["one", "two", "three"]);
        let mut v = Verifier::after(1, &c[0].hash);
        assert!(v.push(&c[1]) && v.push(&c[2]));
        assert_eq!((v.count, v.head_seq, v.broken.clone()), (2, 3, None));
        // Starting from another hash at 1, entry 2 does not link.
        let mut w = Verifier::after(1, GENESIS);
        assert!(!w.push(&c[1]));
        assert_eq!(w.broken, Some(Break::Unlinked { seq: 2 }));
    }

    #[test]
    fn chains_have_their_own_locks() {
        assert_ne!(AUDIT.lock_key, LEDGER.lock_key);
        assert_ne!(AUDIT.name, LEDGER.name);
        assert_eq!(successor(None), (1, GENESIS.to_string()));
        assert_eq!(successor(Some((4, "h".into()))), (5, "h".to_string()));
    }
}

//! Signed checkpoints: a chain's head (chain name, sequence number, hash, time) signed with an Ed25519 key
//! that lives outside the database (`DATA_DIR/secrets/checkpoint.key` or `SANSHE_CHECKPOINT_KEY`).
//!
//! Someone who can write to the database can rewrite an old entry and recompute every later hash, or cut the
//! tail: the chain still verifies. They cannot sign. A checkpoint says "entry `seq` of chain `chain` had hash
//! `hash` at `signed_at`", so [`check`] finds both attacks: a chain whose head is now below a signed `seq`
//! was cut, and a chain whose hash at a signed `seq` differs was rewritten. Checkpoints are stored
//! (append-only), published (page and API, with the public key, so anyone can check them offline) and mailed
//! to the auditors, so a copy outside the database survives even if the stored ones are deleted too
//! (`sanshe verify --checkpoint FILE`).
//!
//! The signed bytes are the compact JSON array `["sanshe-checkpoint/1", chain, seq, hash, signed_at]`
//! ([`message`]), with `signed_at` in UTC as `YYYY-MM-DDTHH:MM:SS.ffffffZ`, exactly the string published.
//!
//! Every chain takes part through [`Source`] (the audit trail now, the ledger next): [`sign`] signs its head
//! after checking that the chain holds from the previous checkpoint, [`sign_if_due`] does so at intervals for
//! the scheduler, [`verify_stored`] and [`check`] check signatures against the chain.
//!
//! A checkpoint is not itself an audit event: recording it in the trail would move the head it has just
//! signed. The row names who asked for it (`signed_by`), and its table refuses UPDATE and DELETE.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};

use super::{Chain, Verifier};
use crate::db::schema::chain_checkpoints as cp;
use crate::db::{DbConn, Paged, Paging};
use crate::error::AppError;

/// The first element of every signed message: what the bytes are, and their version.
pub const FORMAT: &str = "sanshe-checkpoint/1";
/// How `signed_at` is written, in the message and wherever a checkpoint is published.
pub const TIME_FORMAT: &str = "%Y-%m-%dT%H:%M:%S%.6fZ";
/// The signature algorithm, as published.
pub const ALGORITHM: &str = "Ed25519";

/// The key that signs checkpoints. Its `Debug` shows the public half only.
#[derive(Clone)]
pub struct Key(SigningKey);

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "checkpoint::Key(public {})", self.public_hex())
    }
}

impl Key {
    /// The key whose secret half is these 32 bytes (any 32 random bytes make a key).
    pub fn from_seed(seed: &[u8; 32]) -> Key {
        Key(SigningKey::from_bytes(seed))
    }

    /// A key written as 64 hexadecimal characters.
    pub fn from_hex(s: &str) -> Result<Key, String> {
        let bytes = hex::decode(s.trim()).map_err(|_| "not hexadecimal".to_string())?;
        let seed: [u8; 32] = bytes
            .try_into()
            .map_err(|_| "must be 32 bytes (64 hexadecimal characters)".to_string())?;
        Ok(Key::from_seed(&seed))
    }

    pub fn public(&self) -> VerifyingKey {
        self.0.verifying_key()
    }

    /// The public key, hex (32 bytes).
    pub fn public_hex(&self) -> String {
        hex::encode(self.public().as_bytes())
    }

    fn sign(&self, message: &[u8]) -> String {
        hex::encode(self.0.sign(message).to_bytes())
    }
}

/// A public key written as 64 hexadecimal characters.
pub fn parse_public_key(s: &str) -> Result<VerifyingKey, String> {
    let bytes = hex::decode(s.trim()).map_err(|_| "not hexadecimal".to_string())?;
    let b: [u8; 32] = bytes
        .try_into()
        .map_err(|_| "must be 32 bytes (64 hexadecimal characters)".to_string())?;
    VerifyingKey::from_bytes(&b).map_err(|_| "not an Ed25519 public key".to_string())
}

/// What checkpoints need from the configuration.
#[derive(Clone, Debug)]
pub struct Settings {
    pub key: Key,
    /// Earlier public keys whose checkpoints still count (after a key change); the current key always does.
    pub earlier_keys: Vec<VerifyingKey>,
    /// Addresses that receive every new checkpoint by e-mail (none: no mail).
    pub auditors: Vec<String>,
    /// The scheduler signs once the chain has grown by this many entries since the last checkpoint (0: never
    /// for this reason).
    pub every_events: u32,
    /// The scheduler signs once the last checkpoint is this many minutes old and the chain has grown since
    /// (0: never for this reason).
    pub every_minutes: u32,
    /// For links in the mails.
    pub public_url: String,
}

impl Settings {
    /// The keys a checkpoint may be signed with.
    pub fn trusted(&self) -> Vec<VerifyingKey> {
        let mut v = vec![self.key.public()];
        v.extend(self.earlier_keys.iter().copied());
        v
    }
}

/// The bytes a checkpoint's signature covers.
pub fn message(chain: &str, seq: i64, hash: &str, signed_at: &str) -> Vec<u8> {
    super::Canonical::new()
        .with(FORMAT)
        .with(chain)
        .with(&seq)
        .with(hash)
        .with(signed_at)
        .bytes()
}

/// A signed checkpoint, as stored, published, mailed and read back from a copy. `id` and `signed_by` are
/// informative and not signed; a copy may leave them out.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Checkpoint {
    #[serde(default)]
    pub id: i64,
    /// The chain, e.g. `audit`.
    pub chain: String,
    /// The sequence number of the chain's head when signed.
    pub seq: i64,
    /// The hash of that entry (hex SHA-256).
    pub hash: String,
    /// When it was signed, UTC, `YYYY-MM-DDTHH:MM:SS.ffffffZ`, exactly as signed.
    pub signed_at: String,
    /// Who asked: a user name, `scheduler` or `cli`.
    #[serde(default)]
    pub signed_by: String,
    /// The Ed25519 public key (hex, 32 bytes).
    pub public_key: String,
    /// The Ed25519 signature (hex, 64 bytes) over `["sanshe-checkpoint/1", chain, seq, hash, signed_at]`
    /// as compact JSON.
    pub signature: String,
}

impl Checkpoint {
    /// The bytes its signature covers.
    pub fn message(&self) -> Vec<u8> {
        message(&self.chain, self.seq, &self.hash, &self.signed_at)
    }

    /// When it was signed (None if the text is not in [`TIME_FORMAT`]).
    pub fn time(&self) -> Option<NaiveDateTime> {
        NaiveDateTime::parse_from_str(&self.signed_at, TIME_FORMAT).ok()
    }

    /// How messages name it: chain, sequence number and time.
    pub fn label(&self) -> String {
        format!(
            "checkpoint {} #{} signed {}",
            self.chain, self.seq, self.signed_at
        )
    }
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = cp)]
struct Row {
    id: i64,
    chain: String,
    seq: i64,
    hash: String,
    signed_at: NaiveDateTime,
    signed_by: String,
    public_key: String,
    signature: String,
}

impl From<Row> for Checkpoint {
    fn from(r: Row) -> Checkpoint {
        Checkpoint {
            id: r.id,
            chain: r.chain,
            seq: r.seq,
            hash: r.hash,
            signed_at: r.signed_at.format(TIME_FORMAT).to_string(),
            signed_by: r.signed_by,
            public_key: r.public_key,
            signature: r.signature,
        }
    }
}

/// Why a checkpoint does not hold.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fault {
    /// No chain of that name.
    UnknownChain,
    /// The public key is not an Ed25519 key.
    BadKey,
    /// A valid key, but not this service's (nor an earlier trusted one).
    UntrustedKey,
    /// The signature does not verify: the checkpoint was forged or altered.
    BadSignature,
    /// The chain now ends at `head`, before the signed entry: its tail was cut.
    Cut { head: i64 },
    /// The signed entry is gone from the middle of the chain.
    Missing,
    /// The chain's hash at the signed entry is now `now`: history was rewritten.
    Rewritten { now: String },
}

impl Fault {
    pub fn describe(&self, c: &Checkpoint) -> String {
        match self {
            Fault::UnknownChain => format!("there is no chain named {:?}", c.chain),
            Fault::BadKey => "its public key is not an Ed25519 key".into(),
            Fault::UntrustedKey => format!(
                "it is signed with key {}, which this service does not trust",
                c.public_key
            ),
            Fault::BadSignature => "its signature does not verify (forged or altered)".into(),
            Fault::Cut { head } => format!(
                "the {} chain now ends at {head}, below the signed entry {} (its tail was cut)",
                c.chain, c.seq
            ),
            Fault::Missing => format!(
                "entry {} of the {} chain is gone (deleted from the middle)",
                c.seq, c.chain
            ),
            Fault::Rewritten { now } => format!(
                "entry {} of the {} chain now has hash {now}, not the signed {} (history rewritten)",
                c.seq, c.chain, c.hash
            ),
        }
    }
}

/// Is the signature good, by a trusted key?
pub fn check_signature(c: &Checkpoint, trusted: &[VerifyingKey]) -> Result<(), Fault> {
    let key = parse_public_key(&c.public_key).map_err(|_| Fault::BadKey)?;
    if !trusted.contains(&key) {
        return Err(Fault::UntrustedKey);
    }
    let sig: [u8; 64] = hex::decode(c.signature.trim())
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or(Fault::BadSignature)?;
    key.verify_strict(&c.message(), &Signature::from_bytes(&sig))
        .map_err(|_| Fault::BadSignature)
}

/// Does the chain, whose head is now `head_seq` and whose entry at the checkpoint's `seq` has `hash_at`,
/// still hold what the checkpoint signed?
pub fn check_against(c: &Checkpoint, head_seq: i64, hash_at: Option<&str>) -> Result<(), Fault> {
    if head_seq < c.seq {
        return Err(Fault::Cut { head: head_seq });
    }
    match hash_at {
        None => Err(Fault::Missing),
        Some(h) if h != c.hash => Err(Fault::Rewritten { now: h.to_string() }),
        Some(_) => Ok(()),
    }
}

/// What a chain offers to be checkpointed.
pub trait Source: Sync {
    fn chain(&self) -> Chain;
    /// The last entry's sequence number and hash (None for an empty chain).
    fn head(&self, conn: &mut DbConn) -> QueryResult<Option<(i64, String)>>;
    /// The hash of entry `seq`, if there is one.
    fn hash_at(&self, conn: &mut DbConn, seq: i64) -> QueryResult<Option<String>>;
    /// Check the entries after the verifier's head, up to the chain's head.
    fn verify_from(&self, conn: &mut DbConn, from: Verifier) -> QueryResult<Verifier>;
}

/// Every checkpointed chain: the audit trail and the fund ledger.
pub fn sources() -> Vec<&'static dyn Source> {
    vec![&crate::audit::TRAIL, &crate::ledger::JOURNAL]
}

/// The chain of this name.
pub fn source(name: &str) -> Option<&'static dyn Source> {
    sources().into_iter().find(|s| s.chain().name == name)
}

/// Check one checkpoint: its signature, then the chain against it.
pub fn check(
    conn: &mut DbConn,
    c: &Checkpoint,
    trusted: &[VerifyingKey],
) -> QueryResult<Result<(), Fault>> {
    let Some(src) = source(&c.chain) else {
        return Ok(Err(Fault::UnknownChain));
    };
    if let Err(f) = check_signature(c, trusted) {
        return Ok(Err(f));
    }
    let head = src.head(conn)?.map_or(0, |h| h.0);
    let at = src.hash_at(conn, c.seq)?;
    Ok(check_against(c, head, at.as_deref()))
}

/// One checkpoint and what checking it found.
#[derive(Clone, Debug)]
pub struct Finding {
    pub checkpoint: Checkpoint,
    pub fault: Option<Fault>,
}

impl Finding {
    pub fn ok(&self) -> bool {
        self.fault.is_none()
    }

    pub fn describe(&self) -> String {
        match &self.fault {
            None => format!("{}: ok", self.checkpoint.label()),
            Some(f) => format!(
                "{}: FAILED: {}",
                self.checkpoint.label(),
                f.describe(&self.checkpoint)
            ),
        }
    }
}

/// Check each of these checkpoints (stored ones, or copies kept elsewhere).
pub fn check_all(
    conn: &mut DbConn,
    checkpoints: Vec<Checkpoint>,
    trusted: &[VerifyingKey],
) -> QueryResult<Vec<Finding>> {
    let mut out = Vec::with_capacity(checkpoints.len());
    for c in checkpoints {
        let fault = check(conn, &c, trusted)?.err();
        out.push(Finding {
            checkpoint: c,
            fault,
        });
    }
    Ok(out)
}

/// Check every stored checkpoint, oldest first.
pub fn verify_stored(conn: &mut DbConn, trusted: &[VerifyingKey]) -> QueryResult<Vec<Finding>> {
    let rows: Vec<Checkpoint> = cp::table
        .order(cp::id.asc())
        .select(Row::as_select())
        .load(conn)?
        .into_iter()
        .map(Checkpoint::from)
        .collect();
    check_all(conn, rows, trusted)
}

/// Checkpoints from a copy kept elsewhere: one checkpoint (as the API lists it or a mail carries it), a
/// list of them, or a page of the API's list (`{"items": [...]}`).
pub fn parse_copies(text: &str) -> Result<Vec<Checkpoint>, String> {
    let v: serde_json::Value = serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
    let items = match v {
        serde_json::Value::Array(a) => a,
        serde_json::Value::Object(mut o) => match o.remove("items") {
            Some(serde_json::Value::Array(a)) => a,
            Some(_) => return Err("\"items\" is not a list".into()),
            None => vec![serde_json::Value::Object(o)],
        },
        _ => return Err("expected a checkpoint, a list of them, or {\"items\": [...]}".into()),
    };
    let out = items
        .into_iter()
        .enumerate()
        .map(|(i, v)| {
            serde_json::from_value::<Checkpoint>(v)
                .map_err(|e| format!("checkpoint {}: {e}", i + 1))
        })
        .collect::<Result<Vec<_>, _>>()?;
    if out.is_empty() {
        return Err("no checkpoint in it".into());
    }
    Ok(out)
}

/// The last checkpoint of a chain.
pub fn latest(conn: &mut DbConn, chain: &str) -> QueryResult<Option<Checkpoint>> {
    Ok(cp::table
        .filter(cp::chain.eq(chain))
        .order(cp::seq.desc())
        .select(Row::as_select())
        .first(conn)
        .optional()?
        .map(Checkpoint::from))
}

/// The result of a request to sign.
#[derive(Clone, Debug)]
pub enum Signed {
    /// A new checkpoint of the head.
    New(Checkpoint),
    /// The head was already signed: that checkpoint.
    Existing(Checkpoint),
}

impl Signed {
    pub fn checkpoint(&self) -> &Checkpoint {
        match self {
            Signed::New(c) | Signed::Existing(c) => c,
        }
    }
}

fn broken(zh: String, en: String) -> AppError {
    AppError::conflict("chain_broken", zh, en)
}

/// Sign the head of a chain, after checking that the chain holds from the last checkpoint (or from its
/// start) up to the head, so a checkpoint never vouches for a tampered chain. Stores it and queues a mail to
/// each auditor in the same transaction. A head already signed is answered with its checkpoint.
pub fn sign(
    conn: &mut DbConn,
    src: &dyn Source,
    s: &Settings,
    now: DateTime<Utc>,
    signed_by: &str,
) -> Result<Signed, AppError> {
    let chain = src.chain();
    // The long part of the check runs before the write lock: every entry up to the head seen now, which an
    // append-only chain cannot change under us. Inside the lock only what was appended since is checked,
    // so a checkpoint over thousands of new entries does not hold every writer up meanwhile.
    let start = match latest(conn, chain.name)? {
        None => Verifier::new(),
        Some(l) => Verifier::after(l.seq, &l.hash),
    };
    let checked = Some(src.verify_from(conn, start)?).filter(|v| v.broken.is_none() && v.count > 0);
    crate::db::write_tx(conn, |c| {
        chain.lock(c)?;
        let Some((head_seq, head_hash)) = src.head(c)? else {
            return Err(AppError::conflict(
                "chain_empty",
                format!("{} 链尚无记录，无可签名。", chain.name),
                format!(
                    "The {} chain has no entries yet: nothing to sign.",
                    chain.name
                ),
            ));
        };
        let last = latest(c, chain.name)?;
        let start = match &last {
            None => Verifier::new(),
            Some(l) => {
                if let Err(f) = check(c, l, &s.trusted())? {
                    return Err(broken(
                        format!(
                            "上一个检查点（{} #{}）不成立：{}",
                            l.chain,
                            l.seq,
                            f.describe(l)
                        ),
                        format!("The last checkpoint does not hold: {}", f.describe(l)),
                    ));
                }
                if l.seq == head_seq {
                    return Ok(Signed::Existing(l.clone()));
                }
                Verifier::after(l.seq, &l.hash)
            }
        };
        let start = match checked {
            Some(v) if v.head_seq > start.head_seq && v.head_seq <= head_seq => {
                Verifier::after(v.head_seq, &v.head_hash)
            }
            _ => start,
        };
        let v = src.verify_from(c, start)?;
        if let Some(b) = &v.broken {
            return Err(broken(
                format!("{} 链在第 {} 条处断裂，不予签名。", chain.name, b.seq()),
                format!(
                    "The {} chain is broken at entry {}: not signed.",
                    chain.name,
                    b.seq()
                ),
            ));
        }
        if v.head_seq != head_seq || v.head_hash != head_hash {
            return Err(broken(
                format!("{} 链的最新记录无法验证，不予签名。", chain.name),
                format!(
                    "The head of the {} chain does not verify: not signed.",
                    chain.name
                ),
            ));
        }
        let at = crate::db::now_micros(now);
        let signed_at = at.format(TIME_FORMAT).to_string();
        let signature = s
            .key
            .sign(&message(chain.name, head_seq, &head_hash, &signed_at));
        let id: i64 = diesel::insert_into(cp::table)
            .values((
                cp::chain.eq(chain.name),
                cp::seq.eq(head_seq),
                cp::hash.eq(&head_hash),
                cp::signed_at.eq(at),
                cp::signed_by.eq(signed_by),
                cp::public_key.eq(s.key.public_hex()),
                cp::signature.eq(&signature),
            ))
            .returning(cp::id)
            .get_result(c)?;
        let new = Checkpoint {
            id,
            chain: chain.name.to_string(),
            seq: head_seq,
            hash: head_hash,
            signed_at,
            signed_by: signed_by.to_string(),
            public_key: s.key.public_hex(),
            signature,
        };
        if !s.auditors.is_empty() {
            let mail = crate::mail::templates::CheckpointSigned::new(&new, at, &s.public_url);
            for to in &s.auditors {
                crate::mail::enqueue(c, now, to, &mail)?;
            }
        }
        Ok(Signed::New(new))
    })
}

/// [`sign`] the chain of this name (422 on `chain` for an unknown one).
pub fn sign_chain(
    conn: &mut DbConn,
    name: &str,
    s: &Settings,
    now: DateTime<Utc>,
    signed_by: &str,
) -> Result<Signed, AppError> {
    let src = source(name.trim()).ok_or_else(|| unknown_chain(name))?;
    sign(conn, src, s, now, signed_by)
}

/// Is a scheduled checkpoint due: has the chain grown by `every_events` since the last one, or is the last
/// one `every_minutes` old with entries after it (or is there none yet)?
pub fn due(
    conn: &mut DbConn,
    src: &dyn Source,
    s: &Settings,
    now: DateTime<Utc>,
) -> QueryResult<bool> {
    if s.every_events == 0 && s.every_minutes == 0 {
        return Ok(false);
    }
    let Some((head, _)) = src.head(conn)? else {
        return Ok(false);
    };
    let (last_seq, last_at) = match latest(conn, src.chain().name)? {
        Some(l) => (l.seq, l.time()),
        None => (0, None),
    };
    if head <= last_seq {
        return Ok(false);
    }
    let by_count = s.every_events > 0 && head - last_seq >= i64::from(s.every_events);
    let by_time = s.every_minutes > 0
        && last_at.is_none_or(|t| {
            now.naive_utc() - t >= chrono::Duration::minutes(i64::from(s.every_minutes))
        });
    Ok(by_count || by_time)
}

/// The scheduler's step for one chain: sign its head when due.
pub fn sign_if_due(
    conn: &mut DbConn,
    src: &dyn Source,
    s: &Settings,
    now: DateTime<Utc>,
) -> Result<Option<Checkpoint>, AppError> {
    if !due(conn, src, s, now)? {
        return Ok(None);
    }
    match sign(conn, src, s, now, "scheduler")? {
        Signed::New(c) => Ok(Some(c)),
        Signed::Existing(_) => Ok(None),
    }
}

/// Filters of the published list.
#[derive(Debug, Default, Clone, Deserialize, utoipa::IntoParams)]
// An unknown parameter is refused (400 naming it), not silently ignored.
#[serde(deny_unknown_fields)]
pub struct CheckpointFilter {
    /// Only this chain, e.g. `audit`.
    pub chain: Option<String>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

/// The published checkpoints: everything needed to check them offline.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Published {
    /// `Ed25519`.
    pub algorithm: &'static str,
    /// The public key new checkpoints are signed with (hex, 32 bytes).
    pub public_key: String,
    /// Earlier public keys whose checkpoints still count.
    pub earlier_keys: Vec<String>,
    /// How the signed bytes are made from a checkpoint's fields.
    pub signed_message: &'static str,
    /// Newest first.
    pub items: Vec<Checkpoint>,
    pub total: i64,
    pub page: i64,
    pub per_page: i64,
}

/// How the signed bytes are made, as published.
pub const SIGNED_MESSAGE: &str = "UTF-8 bytes of the compact JSON array [\"sanshe-checkpoint/1\", chain, seq, hash, signed_at] (no spaces; strings JSON-escaped)";

/// A page of checkpoints, newest first, with the keys.
pub fn published(
    conn: &mut DbConn,
    s: &Settings,
    f: &CheckpointFilter,
) -> Result<Published, AppError> {
    let paging = Paging::new(f.page, f.per_page);
    let chain = f.chain.as_deref().map(str::trim).filter(|c| !c.is_empty());
    if let Some(name) = chain
        && source(name).is_none()
    {
        return Err(unknown_chain(name));
    }
    let build = || {
        let mut q = cp::table.into_boxed();
        if let Some(name) = chain {
            q = q.filter(cp::chain.eq(name.to_string()));
        }
        q
    };
    let total: i64 = build().count().get_result(conn)?;
    let items = build()
        .order(cp::id.desc())
        .offset(paging.offset())
        .limit(paging.limit())
        .select(Row::as_select())
        .load(conn)?
        .into_iter()
        .map(Checkpoint::from)
        .collect();
    let Paged {
        items,
        total,
        page,
        per_page,
    } = paging.of(items, total);
    Ok(Published {
        algorithm: ALGORITHM,
        public_key: s.key.public_hex(),
        earlier_keys: s
            .earlier_keys
            .iter()
            .map(|k| hex::encode(k.as_bytes()))
            .collect(),
        signed_message: SIGNED_MESSAGE,
        items,
        total,
        page,
        per_page,
    })
}

/// 422 on the `chain` field.
pub fn unknown_chain(name: &str) -> AppError {
    let names: Vec<&str> = sources().iter().map(|s| s.chain().name).collect();
    AppError::field(
        "chain",
        "one_of",
        format!("没有名为 {name:?} 的链；可选：{}。", names.join("、")),
        format!("No chain named {name:?}; one of: {}.", names.join(", ")),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> Key {
        Key::from_seed(&[7u8; 32])
    }

    fn signed(k: &Key, seq: i64, hash: &str) -> Checkpoint {
        let signed_at = "2026-12-02T08:00:00.000000Z".to_string();
        Checkpoint {
            id: 1,
            chain: "audit".into(),
            seq,
            hash: hash.into(),
            signature: k.sign(&message("audit", seq, hash, &signed_at)),
            signed_at,
            signed_by: "cli".into(),
            public_key: k.public_hex(),
        }
    }

    #[test]
    fn the_message_is_a_compact_json_array() {
        assert_eq!(
            message("audit", 70, "ab", "2026-12-02T08:00:00.000000Z"),
            br#"["sanshe-checkpoint/1","audit",70,"ab","2026-12-02T08:00:00.000000Z"]"#.to_vec()
        );
    }

    #[test]
    fn a_signature_verifies_and_any_change_breaks_it() {
        let k = key();
        let c = signed(&k, 70, "ab");
        let trusted = [k.public()];
        assert_eq!(check_signature(&c, &trusted), Ok(()));
        for bad in [
            Checkpoint {
                seq: 71,
                ..c.clone()
            },
            Checkpoint {
                hash: "ac".into(),
                ..c.clone()
            },
            Checkpoint {
                chain: "ledger".into(),
                ..c.clone()
            },
            Checkpoint {
                signed_at: "2026-12-02T08:00:01.000000Z".into(),
                ..c.clone()
            },
            Checkpoint {
                signature: format!("{}00", &c.signature[..126]),
                ..c.clone()
            },
            Checkpoint {
                signature: "zz".into(),
                ..c.clone()
            },
        ] {
            assert_eq!(check_signature(&bad, &trusted), Err(Fault::BadSignature));
        }
        // Not signed fields may change.
        let relabelled = Checkpoint {
            id: 9,
            signed_by: "x".into(),
            ..c.clone()
        };
        assert_eq!(check_signature(&relabelled, &trusted), Ok(()));
        // Another key signing the same head is not trusted, however good its signature.
        let other = Key::from_seed(&[8u8; 32]);
        let forged = signed(&other, 70, "ab");
        assert_eq!(check_signature(&forged, &trusted), Err(Fault::UntrustedKey));
        assert_eq!(check_signature(&forged, &[other.public()]), Ok(()));
        let bad_key = Checkpoint {
            public_key: "00".into(),
            ..c
        };
        assert_eq!(check_signature(&bad_key, &trusted), Err(Fault::BadKey));
    }

    #[test]
    fn the_chain_is_checked_against_the_checkpoint() {
        let c = signed(&key(), 70, "ab");
        assert_eq!(check_against(&c, 70, Some("ab")), Ok(()));
        assert_eq!(check_against(&c, 90, Some("ab")), Ok(()));
        assert_eq!(check_against(&c, 69, None), Err(Fault::Cut { head: 69 }));
        assert_eq!(
            check_against(&c, 90, Some("cd")),
            Err(Fault::Rewritten { now: "cd".into() })
        );
        assert_eq!(check_against(&c, 90, None), Err(Fault::Missing));
        let f = Finding {
            checkpoint: c.clone(),
            fault: Some(Fault::Cut { head: 69 }),
        };
        assert!(f.describe().contains("#70") && f.describe().contains("2026-12-02T08:00:00"));
    }

    #[test]
    fn keys_parse_from_hex_and_never_print_their_secret() {
        let k = Key::from_hex(&"07".repeat(32)).unwrap();
        assert_eq!(k.public_hex(), key().public_hex());
        assert!(!format!("{k:?}").contains(&"07".repeat(32)));
        assert!(Key::from_hex("abcd").is_err());
        assert!(Key::from_hex(&"zz".repeat(32)).is_err());
        assert_eq!(parse_public_key(&k.public_hex()).unwrap(), k.public());
        assert!(parse_public_key("ab").is_err());
    }

    #[test]
    fn copies_are_read_in_every_published_shape() {
        let c = signed(&key(), 70, "ab");
        let one = serde_json::to_string(&c).unwrap();
        assert_eq!(parse_copies(&one).unwrap(), vec![c.clone()]);
        let list = format!("[{one},{one}]");
        assert_eq!(parse_copies(&list).unwrap().len(), 2);
        let page = format!("{{\"public_key\":\"x\",\"items\":[{one}]}}");
        assert_eq!(parse_copies(&page).unwrap(), vec![c.clone()]);
        // id and signed_by may be left out.
        let bare = serde_json::json!({"chain": "audit", "seq": 70, "hash": "ab", "signed_at": c.signed_at, "public_key": c.public_key, "signature": c.signature});
        assert_eq!(parse_copies(&bare.to_string()).unwrap()[0].seq, 70);
        assert!(parse_copies("[]").is_err());
        assert!(parse_copies("{").is_err());
        assert!(parse_copies("{\"seq\": 1}").is_err());
    }
}

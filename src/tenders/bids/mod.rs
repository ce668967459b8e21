//! Sealed bids: submission (eligibility, idempotency, the server's deadline), replacement and withdrawal,
//! opening, and the commitments anyone can check afterwards.
//!
//! Before opening the only readable columns of a bid are its tender, organisation, status, time, receipt
//! sequence and commitment; price, plan, budget, staff, targets and attachments exist only inside the AEAD
//! ciphertext. Only the bidder's own requests decrypt it, to show the bidder its own bid.
//!
//! By subject: `submit` (the input checked, submission and replacement, withdrawal), `eligibility` (what
//! the registry says about a bidder, every reason it may not bid), `opening` (open every bid, the opened
//! bids, commitments and their check, a bid's status after opening), `reading` (a bidder's own bids, one
//! bid or attachment, the sealed refusal); this module holds the rows, the content and receipt types and
//! the sealed payload, and re-exports the rest.

use base64::Engine;
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

// With the tenders helpers the submodules call as `super::…`.
use super::{
    Ctx, TenderRow, advance, broken_errors, contacts, evaluation, log_event, move_state,
    push_broken, seal, tender_url, today, visible_row, wrong_state,
};
use crate::audit::{self, Actor};
use crate::clock::Clock;
use crate::db::schema::{bids, organisation_ratings, organisations, social_workers, tenders};
use crate::db::{DbConn, write_tx};
use crate::domain::bid::BidStatus;
use crate::domain::commitment::{self, Disclosure};
use crate::domain::ids::{BidId, OrgId, TenderId, UserId};
use crate::domain::money::Fen;
use crate::domain::standing::Status;
use crate::domain::tender::{self as rules, BudgetLine, State, Targets, Withdrawal};
use crate::error::{AppError, Checks, FieldError};
use crate::idempotency::{self, Decision};
use crate::mail::templates as mails;

mod eligibility;
mod files;
mod opening;
mod reading;
mod submit;

pub use eligibility::*;
pub use files::*;
pub use opening::*;
pub use reading::*;
pub use submit::*;

/// Largest attachment, before base64.
pub const MAX_ATTACHMENT: usize = 128 * 1024;
pub const MAX_ATTACHMENTS: usize = 5;

#[derive(Deserialize, Serialize, Debug, Clone, utoipa::ToSchema)]
pub struct BudgetLineInput {
    /// `staff`, `activities`, `supervision`, `publicity`, `office`, `management`, `taxes` or `other`.
    pub line: String,
    /// Yuan, e.g. `"45000"`.
    pub amount: String,
}

#[derive(Deserialize, Serialize, Debug, Clone, utoipa::ToSchema)]
pub struct AttachmentInput {
    pub name: String,
    /// The file, base64.
    pub content_base64: String,
}

/// A bid as submitted. A retry with the same `idempotency_key` returns the first receipt; the same key with
/// different content is refused.
#[derive(Deserialize, Serialize, Debug, Clone, utoipa::ToSchema)]
pub struct BidInput {
    pub idempotency_key: String,
    /// Yuan, at most the budget ceiling.
    pub price: String,
    pub plan: String,
    pub budget: Vec<BudgetLineInput>,
    /// Ids of the organisation's social workers proposed for the service.
    #[serde(default)]
    pub staff: Vec<i64>,
    pub targets: Targets,
    /// Small files inline (at most five of 128 KiB); larger ones are sent as `multipart/form-data` parts.
    #[serde(default)]
    pub attachments: Vec<AttachmentInput>,
    /// When replacing a bid: which of the current bid's files (by index) the new bid keeps, so they need
    /// not be sent again.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub keep_files: Vec<usize>,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq, utoipa::ToSchema)]
pub struct StaffEntry {
    pub worker_id: i64,
    pub name: String,
    pub level: String,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq, utoipa::ToSchema)]
pub struct AttachmentMeta {
    pub name: String,
    pub size: usize,
    pub sha256: String,
}

/// The content a commitment covers. Its canonical bytes are this struct as compact JSON, fields in this
/// order, UTF-8: exactly what `opened_json` holds after opening.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq, utoipa::ToSchema)]
pub struct BidContent {
    pub tender_id: i64,
    pub organisation_id: i64,
    pub price_fen: i64,
    pub plan: String,
    pub budget: Vec<BudgetLine>,
    pub staff: Vec<StaffEntry>,
    pub targets: Targets,
    pub attachments: Vec<AttachmentMeta>,
}

impl BidContent {
    /// The price, grouped yuan (`12,345.00`).
    pub fn price(&self) -> String {
        self.price_amount().yuan_grouped()
    }
    pub fn price_amount(&self) -> Fen {
        Fen::new(self.price_fen)
    }
    /// The committed fields in order, each as its compact JSON (`domain::commitment`): exactly the members
    /// of the canonical bytes.
    pub fn fields(&self) -> Vec<(&'static str, String)> {
        fn j<T: Serialize + ?Sized>(v: &T) -> String {
            serde_json::to_string(v).expect("plain values serialise")
        }
        vec![
            ("tender_id", j(&self.tender_id)),
            ("organisation_id", j(&self.organisation_id)),
            ("price_fen", j(&self.price_fen)),
            ("plan", j(&self.plan)),
            ("budget", j(&self.budget)),
            ("staff", j(&self.staff)),
            ("targets", j(&self.targets)),
            ("attachments", j(&self.attachments)),
        ]
    }
    pub fn line_label(&self, key: &str, zh: bool) -> &'static str {
        rules::BUDGET_LINES
            .iter()
            .find(|(k, _, _)| *k == key)
            .map(|(_, z, e)| if zh { *z } else { *e })
            .unwrap_or("")
    }
}

/// The commitment of a bid's canonical content and nonce under its scheme (`domain::commitment`); `None`
/// when either is malformed or the scheme unknown.
pub fn commitment_of(scheme: i32, canonical: &str, nonce: &str) -> Option<String> {
    match scheme {
        commitment::WHOLE => seal::commitment(canonical.as_bytes(), nonce),
        commitment::FIELDWISE => {
            let c: BidContent = serde_json::from_str(canonical).ok()?;
            commitment::commit(&c.fields(), nonce, Disclosure::Full).map(|(root, _)| root)
        }
        _ => None,
    }
}

/// What is sealed: the canonical content, the commitment nonce, and for each attachment either its body
/// (base64, until it is moved into the file store) or its sealed object there (`objects`; empty while the
/// body is here, and absent in payloads from before the store).
#[derive(Serialize, Deserialize)]
struct Payload {
    content: String,
    nonce: String,
    files: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    objects: Vec<String>,
}

/// A submission receipt.
#[derive(Serialize, Debug, Clone, utoipa::ToSchema)]
pub struct Receipt {
    /// The receipt sequence number (increasing across all bids).
    pub seq: i64,
    pub tender_id: i64,
    pub tender_code: String,
    /// SHA-256 over the bid's canonical bytes and a secret nonce, hex; check it after opening.
    pub commitment: String,
    /// Server time of acceptance.
    #[schema(value_type = String)]
    pub submitted_at: NaiveDateTime,
    /// `active`, `replaced`, `withdrawn` or `disqualified` ([`BidStatus`] as stored).
    pub status: String,
    /// The receipt this bid replaced, if any.
    pub replaced: Option<i64>,
}

impl Receipt {
    pub fn bid_status(&self) -> Option<BidStatus> {
        BidStatus::parse(&self.status)
    }
}

#[derive(Queryable, Selectable, Debug, Clone)]
#[diesel(table_name = bids)]
pub struct BidRow {
    pub id: i64,
    pub tender_id: i64,
    pub organisation_id: i64,
    pub submitted_by: i64,
    pub status: String,
    pub submitted_at: NaiveDateTime,
    pub idem_key: String,
    pub request_hash: String,
    pub sealed: Vec<u8>,
    pub seal_nonce: Vec<u8>,
    pub commitment: String,
    pub opened_json: Option<String>,
    pub commit_nonce: Option<String>,
    pub price_fen: Option<i64>,
    pub status_reason: Option<String>,
    /// `domain::commitment::WHOLE` or `FIELDWISE`.
    pub commit_scheme: i32,
}

impl BidRow {
    pub fn bid(&self) -> BidId {
        BidId::new(self.id)
    }
    pub fn tender(&self) -> TenderId {
        TenderId::new(self.tender_id)
    }
    pub fn organisation(&self) -> OrgId {
        OrgId::new(self.organisation_id)
    }
    /// The status; `None` only for text the column's CHECK would refuse.
    pub fn bid_status(&self) -> Option<BidStatus> {
        BidStatus::parse(&self.status)
    }
}

fn receipt(conn: &mut DbConn, b: &BidRow, replaced: Option<i64>) -> QueryResult<Receipt> {
    let code: String = tenders::table
        .find(b.tender_id)
        .select(tenders::code)
        .first(conn)?;
    Ok(Receipt {
        seq: b.id,
        tender_id: b.tender_id,
        tender_code: code,
        commitment: b.commitment.clone(),
        submitted_at: b.submitted_at,
        status: b.status.clone(),
        replaced,
    })
}

/// Advisory-lock key serialising bids on one tender on PostgreSQL (SQLite already holds the write lock).
pub(crate) fn tender_lock(tender: impl Into<TenderId>) -> i64 {
    // Wrapping: any id may be asked for (a key shared by two absurd ids only makes them wait for each other).
    0x5a4e_5348_1000_0000_i64.wrapping_add(tender.into().get())
}

/// The lock key of an organisation's bidding (its idempotency keys span its tenders).
pub(crate) fn org_lock(org: impl Into<OrgId>) -> i64 {
    0x5a4e_5348_2000_0000_i64.wrapping_add(org.into().get())
}

fn open_payload(ctx: &Ctx, b: &BidRow) -> Option<Payload> {
    let plain = ctx.sealer.open(
        &seal::aad(b.tender(), b.organisation()),
        &b.sealed,
        &b.seal_nonce,
    )?;
    serde_json::from_slice(&plain).ok()
}

/// A new bid's receipt number (its id): random, not the next of a sequence, so two receipts tell a bidder
/// nothing about how many bids arrived in between. Within the integers JSON readers keep exactly.
pub(crate) fn receipt_number(conn: &mut DbConn) -> QueryResult<i64> {
    use rand::Rng;
    loop {
        let n = rand::thread_rng().gen_range(1_000_000_000_i64..9_000_000_000_000);
        let taken = bids::table
            .find(n)
            .select(bids::id)
            .first::<i64>(conn)
            .optional()?;
        if taken.is_none() {
            return Ok(n);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal::Decimal;

    /// The committed fields are the canonical bytes' members, in order: a field added to the content is
    /// committed, or this fails.
    #[test]
    fn committed_fields_are_the_canonical_members_in_order() {
        let c = BidContent {
            tender_id: 7,
            organisation_id: 12,
            price_fen: 9_800_000,
            plan: "每周上门探访 \"引号\"".into(),
            budget: vec![BudgetLine {
                line: "staff".into(),
                amount_fen: 9_800_000,
            }],
            staff: vec![StaffEntry {
                worker_id: 3,
                name: "李华".into(),
                level: "assistant".into(),
            }],
            targets: Targets {
                visits: 10,
                people: 5,
                sessions: 2,
                satisfaction_pct: Decimal::new(925, 1),
            },
            attachments: vec![],
        };
        let joined: Vec<String> = c
            .fields()
            .iter()
            .map(|(k, v)| format!("\"{k}\":{v}"))
            .collect();
        let canonical = serde_json::to_string(&c).unwrap();
        assert_eq!(format!("{{{}}}", joined.join(",")), canonical);
        let nonce = "ab".repeat(32);
        let root = commitment_of(commitment::FIELDWISE, &canonical, &nonce).unwrap();
        let whole = commitment_of(commitment::WHOLE, &canonical, &nonce).unwrap();
        assert_ne!(root, whole);
        assert_eq!(
            whole,
            seal::commitment(canonical.as_bytes(), &nonce).unwrap()
        );
        assert_eq!(commitment_of(3, &canonical, &nonce), None);
    }
}

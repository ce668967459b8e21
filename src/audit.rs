//! The append-only, hash-chained audit trail.
//!
//! Every state change calls [`record`] inside its own write transaction, so the event and the change commit
//! or fail together. Each event's hash covers the previous event's hash and the event's canonical bytes;
//! the database refuses UPDATE and DELETE on the table (triggers), and [`verify`] recomputes the chain. The
//! chain mechanics (canonical bytes, hashing, the lock, verification) live in `crate::chain`, shared with
//! the ledger.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use crate::chain::{self, Canonical};
use crate::db::DbConn;
use crate::db::schema::audit_events;

pub use crate::chain::GENESIS;

/// Who acts, and in which request.
#[derive(Clone, Debug)]
pub struct Actor {
    pub id: Option<i64>,
    pub name: String,
    pub request_id: Option<String>,
}

impl Actor {
    /// The service itself or an operator at the command line.
    pub fn system(name: &str) -> Actor {
        Actor {
            id: None,
            name: name.into(),
            request_id: None,
        }
    }
}

#[derive(Queryable, Selectable, Debug, Clone, Serialize, utoipa::ToSchema)]
#[diesel(table_name = audit_events)]
pub struct AuditEvent {
    pub seq: i64,
    #[schema(value_type = String)]
    pub occurred_at: NaiveDateTime,
    pub actor_id: Option<i64>,
    pub actor_name: String,
    pub action: String,
    pub entity_type: String,
    pub entity_id: Option<String>,
    pub before_json: Option<String>,
    pub after_json: Option<String>,
    pub request_id: Option<String>,
    pub prev_hash: String,
    pub hash: String,
}

impl AuditEvent {
    /// The event's fields in their fixed order; the chain links them to the previous hash. The bytes are
    /// what the trail has always hashed: a JSON array of these fields and then `prev_hash`.
    fn fields(&self) -> Canonical {
        Canonical::new()
            .with(&self.seq)
            .with(
                &self
                    .occurred_at
                    .format("%Y-%m-%dT%H:%M:%S%.6fZ")
                    .to_string(),
            )
            .with(&self.actor_id)
            .with(&self.actor_name)
            .with(&self.action)
            .with(&self.entity_type)
            .with(&self.entity_id)
            .with(&self.before_json)
            .with(&self.after_json)
            .with(&self.request_id)
    }
}

impl chain::Entry for AuditEvent {
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
        self.fields()
    }
}

pub fn compute_hash(e: &AuditEvent) -> String {
    chain::next_hash(&e.prev_hash, &e.fields())
}

/// Append an event. Must run inside a write transaction (see `db::write_tx`).
#[expect(
    clippy::too_many_arguments,
    reason = "one audit event: each argument is a column of it"
)]
pub fn record(
    conn: &mut DbConn,
    actor: &Actor,
    now: chrono::DateTime<chrono::Utc>,
    action: &str,
    entity_type: &str,
    entity_id: Option<String>,
    before: Option<serde_json::Value>,
    after: Option<serde_json::Value>,
) -> QueryResult<AuditEvent> {
    append(
        conn,
        now,
        Fields {
            actor_id: actor.id,
            actor_name: actor.name.clone(),
            action: action.into(),
            entity_type: entity_type.into(),
            entity_id,
            before_json: before.map(|v| v.to_string()),
            after_json: after.map(|v| v.to_string()),
            request_id: actor.request_id.clone(),
        },
    )
}

/// The `action` of an event sealed until a later moment (a bid before its tender's opening). Such an event
/// is stored with no actor, entity id or content in clear: they are encrypted in `after_json` as
/// `{"sealed": …}`, so the trail shows only that something sealed happened, and when. The chain covers the
/// row as stored, so sealing takes nothing from the chain's guarantee.
pub const SEALED: &str = "sealed";

/// Encryption of sealed events (implemented by the tenders' sealer, the same key as the bids).
pub trait Sealing {
    fn seal(&self, plain: &[u8]) -> String;
    fn open(&self, sealed: &str) -> Option<Vec<u8>>;
}

/// What a sealed event holds: the fields stored in clear for any other event, and the record whose state
/// decides when it may be read (for a bid, its tender).
#[derive(Debug, Clone, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct Unsealed {
    pub actor_id: Option<i64>,
    pub actor_name: String,
    pub action: String,
    pub entity_id: Option<String>,
    pub before_json: Option<String>,
    pub after_json: Option<String>,
    pub request_id: Option<String>,
    pub scope: i64,
}

/// Append an event sealed until `scope` allows it to be read (see [`SEALED`]). Inside a write transaction.
#[expect(
    clippy::too_many_arguments,
    reason = "one audit event: each argument is a column of it"
)]
pub fn record_sealed(
    conn: &mut DbConn,
    actor: &Actor,
    now: chrono::DateTime<chrono::Utc>,
    sealing: &dyn Sealing,
    scope: i64,
    action: &str,
    entity_type: &str,
    entity_id: Option<String>,
    before: Option<serde_json::Value>,
    after: Option<serde_json::Value>,
) -> QueryResult<AuditEvent> {
    let inner = Unsealed {
        actor_id: actor.id,
        actor_name: actor.name.clone(),
        action: action.into(),
        entity_id,
        before_json: before.map(|v| v.to_string()),
        after_json: after.map(|v| v.to_string()),
        request_id: actor.request_id.clone(),
        scope,
    };
    let plain = serde_json::to_vec(&inner).expect("plain values serialise");
    append(
        conn,
        now,
        Fields {
            actor_id: None,
            actor_name: "—".into(),
            action: SEALED.into(),
            entity_type: entity_type.into(),
            entity_id: None,
            before_json: None,
            after_json: Some(serde_json::json!({ "sealed": sealing.seal(&plain) }).to_string()),
            request_id: None,
        },
    )
}

/// The content of a sealed event, when `sealing` opens it.
pub fn unseal(e: &AuditEvent, sealing: &dyn Sealing) -> Option<Unsealed> {
    if e.action != SEALED {
        return None;
    }
    let after: serde_json::Value = serde_json::from_str(e.after_json.as_deref()?).ok()?;
    let plain = sealing.open(after["sealed"].as_str()?)?;
    serde_json::from_slice(&plain).ok()
}

/// An event as shown: as stored (what the chain covers), and for a sealed event whose moment has come (or
/// shown to its own actor) its content.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AuditView {
    #[serde(flatten)]
    pub event: AuditEvent,
    /// For `action` = "sealed": the content, once it may be read; absent while sealed.
    pub unsealed: Option<Unsealed>,
}

impl AuditView {
    pub fn plain(event: AuditEvent) -> AuditView {
        AuditView {
            event,
            unsealed: None,
        }
    }
    pub fn actor(&self) -> &str {
        self.unsealed
            .as_ref()
            .map_or(&self.event.actor_name, |u| &u.actor_name)
    }
    pub fn action(&self) -> &str {
        self.unsealed
            .as_ref()
            .map_or(&self.event.action, |u| &u.action)
    }
    /// The action in the reader's words (`domain::vocab::audit_action`).
    pub fn action_label(&self, zh: bool) -> String {
        crate::domain::vocab::audit_action(self.action(), zh)
    }
    pub fn entity_label(&self, zh: bool) -> String {
        crate::domain::vocab::label(
            crate::domain::vocab::AUDIT_ENTITIES,
            &self.event.entity_type,
            zh,
        )
    }
    pub fn entity_id(&self) -> Option<&str> {
        match &self.unsealed {
            Some(u) => u.entity_id.as_deref(),
            None => self.event.entity_id.as_deref(),
        }
    }
    pub fn before_json(&self) -> Option<&str> {
        match &self.unsealed {
            Some(u) => u.before_json.as_deref(),
            None => self.event.before_json.as_deref(),
        }
    }
    pub fn after_json(&self) -> Option<&str> {
        match &self.unsealed {
            Some(u) => u.after_json.as_deref(),
            None => self.event.after_json.as_deref(),
        }
    }
    /// Sealed and not (yet) to be read.
    pub fn still_sealed(&self) -> bool {
        self.event.action == SEALED && self.unsealed.is_none()
    }
}

/// The columns of an event that its writer chooses.
struct Fields {
    actor_id: Option<i64>,
    actor_name: String,
    action: String,
    entity_type: String,
    entity_id: Option<String>,
    before_json: Option<String>,
    after_json: Option<String>,
    request_id: Option<String>,
}

fn append(
    conn: &mut DbConn,
    now: chrono::DateTime<chrono::Utc>,
    f: Fields,
) -> QueryResult<AuditEvent> {
    chain::AUDIT.lock(conn)?;
    let head: Option<(i64, String)> = audit_events::table
        .select((audit_events::seq, audit_events::hash))
        .order(audit_events::seq.desc())
        .first(conn)
        .optional()?;
    let (seq, prev_hash) = chain::successor(head);
    let mut e = AuditEvent {
        seq,
        occurred_at: crate::db::now_micros(now),
        actor_id: f.actor_id,
        actor_name: f.actor_name,
        action: f.action,
        entity_type: f.entity_type,
        entity_id: f.entity_id,
        before_json: f.before_json,
        after_json: f.after_json,
        request_id: f.request_id,
        prev_hash,
        hash: String::new(),
    };
    e.hash = compute_hash(&e);
    diesel::insert_into(audit_events::table)
        .values((
            audit_events::seq.eq(e.seq),
            audit_events::occurred_at.eq(e.occurred_at),
            audit_events::actor_id.eq(e.actor_id),
            audit_events::actor_name.eq(&e.actor_name),
            audit_events::action.eq(&e.action),
            audit_events::entity_type.eq(&e.entity_type),
            audit_events::entity_id.eq(&e.entity_id),
            audit_events::before_json.eq(&e.before_json),
            audit_events::after_json.eq(&e.after_json),
            audit_events::request_id.eq(&e.request_id),
            audit_events::prev_hash.eq(&e.prev_hash),
            audit_events::hash.eq(&e.hash),
        ))
        .execute(conn)?;
    Ok(e)
}

/// The result of checking the whole chain.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ChainReport {
    pub ok: bool,
    pub events: i64,
    pub head_seq: i64,
    pub head_hash: String,
    /// The first problem found, if any.
    pub error: Option<String>,
}

/// Check the events after the verifier's head, in pages, up to the first break.
fn verify_from(conn: &mut DbConn, mut v: chain::Verifier) -> QueryResult<chain::Verifier> {
    loop {
        let page: Vec<AuditEvent> = audit_events::table
            .filter(audit_events::seq.ge(v.expected_seq()))
            .order(audit_events::seq.asc())
            .limit(1000)
            .select(AuditEvent::as_select())
            .load(conn)?;
        if page.is_empty() || !page.iter().all(|e| v.push(e)) {
            break;
        }
    }
    Ok(v)
}

/// The audit trail as a checkpointed chain (`chain::checkpoint`).
pub struct Trail;

/// The audit trail's checkpoint source.
pub static TRAIL: Trail = Trail;

impl chain::checkpoint::Source for Trail {
    fn chain(&self) -> chain::Chain {
        chain::AUDIT
    }

    fn head(&self, conn: &mut DbConn) -> QueryResult<Option<(i64, String)>> {
        audit_events::table
            .select((audit_events::seq, audit_events::hash))
            .order(audit_events::seq.desc())
            .first(conn)
            .optional()
    }

    fn hash_at(&self, conn: &mut DbConn, seq: i64) -> QueryResult<Option<String>> {
        audit_events::table
            .find(seq)
            .select(audit_events::hash)
            .first(conn)
            .optional()
    }

    fn verify_from(
        &self,
        conn: &mut DbConn,
        from: chain::Verifier,
    ) -> QueryResult<chain::Verifier> {
        verify_from(conn, from)
    }
}

/// Recompute every hash from the start, in pages, and report the first break.
pub fn verify(conn: &mut DbConn) -> QueryResult<ChainReport> {
    let v = verify_from(conn, chain::Verifier::new())?;
    let error = v.broken.as_ref().map(|b| match b {
        chain::Break::Missing { expected, found } => {
            format!("event {expected} missing (found {found} next)")
        }
        chain::Break::Unlinked { seq } => {
            format!("event {seq} does not link to the hash of event {}", seq - 1)
        }
        chain::Break::Altered { seq } => {
            format!("event {seq} was altered: its hash does not match its content")
        }
    });
    Ok(ChainReport {
        ok: error.is_none(),
        events: v.count,
        head_seq: v.head_seq,
        head_hash: v.head_hash,
        error,
    })
}

/// Filters for browsing the trail.
#[derive(Debug, Default, Clone, serde::Deserialize, utoipa::IntoParams)]
// An unknown parameter is refused (400 naming it), not silently ignored.
#[serde(deny_unknown_fields)]
pub struct AuditFilter {
    /// Entity type, e.g. `user`.
    pub entity_type: Option<String>,
    pub entity_id: Option<String>,
    /// Action, e.g. `user.create`.
    pub action: Option<String>,
    /// Actor's username (exact).
    pub actor: Option<String>,
    /// From this date (YYYY-MM-DD, Beijing time), inclusive.
    pub from: Option<String>,
    /// To this date (YYYY-MM-DD, Beijing time), inclusive.
    pub to: Option<String>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

fn day_start_utc(d: &str, field: &str) -> Result<NaiveDateTime, crate::error::AppError> {
    let date = crate::domain::dates::parse_date(d).ok_or_else(|| {
        crate::error::AppError::field(
            field,
            "date",
            "日期格式应为 YYYY-MM-DD。",
            "Dates are written YYYY-MM-DD.",
        )
    })?;
    let local = date.and_hms_opt(0, 0, 0).expect("midnight exists");
    Ok(local - chrono::Duration::hours(8))
}

/// A page of events, newest first, and the total matching.
pub fn list(
    conn: &mut DbConn,
    f: &AuditFilter,
) -> Result<crate::db::Paged<AuditEvent>, crate::error::AppError> {
    let paging = crate::db::Paging::new(f.page, f.per_page);
    let from = f
        .from
        .as_deref()
        .filter(|s| !s.is_empty())
        .map(|d| day_start_utc(d, "from"))
        .transpose()?;
    let to =
        f.to.as_deref()
            .filter(|s| !s.is_empty())
            .map(|d| day_start_utc(d, "to").map(|t| t + chrono::Duration::days(1)))
            .transpose()?;
    let build = || {
        let mut q = audit_events::table.into_boxed();
        if let Some(v) = f.entity_type.as_deref().filter(|s| !s.is_empty()) {
            q = q.filter(audit_events::entity_type.eq(v.to_string()));
        }
        if let Some(v) = f.entity_id.as_deref().filter(|s| !s.is_empty()) {
            q = q.filter(audit_events::entity_id.eq(v.to_string()));
        }
        if let Some(v) = f.action.as_deref().filter(|s| !s.is_empty()) {
            q = q.filter(audit_events::action.eq(v.to_string()));
        }
        if let Some(v) = f.actor.as_deref().filter(|s| !s.is_empty()) {
            q = q.filter(audit_events::actor_name.eq(v.to_string()));
        }
        if let Some(t) = from {
            q = q.filter(audit_events::occurred_at.ge(t));
        }
        if let Some(t) = to {
            q = q.filter(audit_events::occurred_at.lt(t));
        }
        q
    };
    let total: i64 = build().count().get_result(conn)?;
    let rows = build()
        .order(audit_events::seq.desc())
        .offset(paging.offset())
        .limit(paging.limit())
        .select(AuditEvent::as_select())
        .load(conn)?;
    Ok(paging.of(rows, total))
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::{Digest, Sha256};

    fn event(prev_hash: &str) -> AuditEvent {
        AuditEvent {
            seq: 42,
            occurred_at: chrono::NaiveDate::from_ymd_opt(2026, 3, 1)
                .unwrap()
                .and_hms_micro_opt(8, 30, 5, 123_456)
                .unwrap(),
            actor_id: Some(7),
            actor_name: "bureau \"王\"".into(),
            action: "bid.submit".into(),
            entity_type: "bid".into(),
            entity_id: Some("12".into()),
            before_json: None,
            after_json: Some(r#"{"a":1}"#.into()),
            request_id: None,
            prev_hash: prev_hash.into(),
            hash: String::new(),
        }
    }

    /// The bytes the trail hashed before the chain module existed; existing rows must keep verifying.
    fn old_canonical(e: &AuditEvent) -> Vec<u8> {
        serde_json::to_vec(&(
            e.seq,
            e.occurred_at.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string(),
            e.actor_id,
            &e.actor_name,
            &e.action,
            &e.entity_type,
            &e.entity_id,
            &e.before_json,
            &e.after_json,
            &e.request_id,
            &e.prev_hash,
        ))
        .unwrap()
    }

    #[test]
    fn hashes_are_byte_identical_to_the_old_encoding() {
        for prev in [GENESIS, "ab12"] {
            let e = event(prev);
            assert_eq!(e.fields().linked(&e.prev_hash), old_canonical(&e));
            assert_eq!(
                compute_hash(&e),
                hex::encode(Sha256::digest(old_canonical(&e)))
            );
        }
    }
}

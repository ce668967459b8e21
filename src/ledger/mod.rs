//! The fund ledger: a double-entry journal in fen, hash-chained, append-only (docs/LEDGER.md).
//!
//! Every entry goes through [`post`]: it checks the entry against the rules of `domain::ledger` (balance,
//! the chart of accounts, the shape of its kind, no account on the wrong side of zero, the available budget
//! never below zero), takes the ledger's chain lock, links the entry's hash to the previous one through
//! `crate::chain` (SHA-256 over the previous hash and the entry's canonical bytes, postings included), and
//! writes the entry, its postings and the account balances in one transaction, so the trial balance is a
//! read. A refusal is a 422 (or 409) naming the rule, and nothing is written. [`verify`] recomputes every
//! hash, balance and rule from the first entry; [`JOURNAL`] gives the ledger signed checkpoints.
//!
//! Here: posting, reading entries, verification and the trial balance; `appropriations` (the budget),
//! `execution` (budget execution by budget, street, month and field), `export` (the journal for ledger-cli
//! and hledger, and the CSV of the trial balance), `tenders` (a tender's reservation and releases).

pub mod appropriations;
pub mod execution;
pub mod export;
pub mod import;
pub mod synthetic;
pub mod tenders;
mod verification;

use std::collections::HashMap;

pub use import::{ImportReport, import};
pub(crate) use verification::load_stored;
pub use verification::{LedgerReport, extends, verify};

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;

use crate::audit::Actor;
use crate::chain::{self, Canonical};
use crate::db::DbConn;
use crate::db::schema::{ledger_balances as lb, ledger_entries as le, ledger_postings as lp};
use crate::domain::ledger::{self as rules, Fund, Kind, Line, Refs, Refusal};
use crate::error::{AppError, FieldError};

/// What the ledger needs from the configuration: the fund sources.
#[derive(Clone, Debug)]
pub struct Settings {
    pub funds: Vec<Fund>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            funds: rules::parse_funds(rules::DEFAULT_FUNDS).expect("the default funds parse"),
        }
    }
}

impl Settings {
    pub fn fund(&self, code: &str) -> Option<&Fund> {
        self.funds.iter().find(|f| f.code == code)
    }
}

/// A refusal of the rules as an answer: 409 naming the rule for a conflict, else 422 naming field and rule.
pub fn refusal(r: Refusal) -> AppError {
    if r.conflict {
        AppError::conflict(r.rule, r.zh, r.en)
    } else {
        AppError::Validation(vec![FieldError::new(&r.field, r.rule, r.zh, r.en)])
    }
}

/// An entry to post.
#[derive(Clone, Debug)]
pub struct NewEntry {
    pub date: NaiveDate,
    pub kind: Kind,
    pub memo: String,
    pub refs: Refs,
    /// Unique in the ledger: a retry with the same key and content gets the first entry back.
    pub idem_key: String,
    pub lines: Vec<Line>,
}

/// A stored entry with its postings.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Entry {
    pub seq: i64,
    #[schema(value_type = String)]
    pub entry_date: NaiveDate,
    #[schema(value_type = String)]
    pub posted_at: NaiveDateTime,
    pub kind: String,
    pub memo: String,
    pub appropriation_id: Option<i64>,
    pub tender_id: Option<i64>,
    pub contract_id: Option<i64>,
    pub instalment_id: Option<i64>,
    pub reverses_seq: Option<i64>,
    pub idem_key: String,
    pub request_hash: String,
    pub author_id: Option<i64>,
    pub author_name: String,
    pub prev_hash: String,
    pub hash: String,
    pub postings: Vec<Posting>,
}

/// One posting: an account and a signed amount (debit positive).
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Posting {
    pub account: String,
    pub amount_fen: i64,
    /// The amount in yuan, two decimals.
    pub amount: String,
}

type EntryRow = (
    i64,
    NaiveDate,
    NaiveDateTime,
    String,
    String,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    String,
    String,
    Option<i64>,
    String,
    String,
    String,
);

/// The columns of an entry row, in [`EntryRow`]'s order.
type EntryColumns = (
    le::seq,
    le::entry_date,
    le::posted_at,
    le::kind,
    le::memo,
    le::appropriation_id,
    le::tender_id,
    le::contract_id,
    le::instalment_id,
    le::reverses_seq,
    le::idem_key,
    le::request_hash,
    le::author_id,
    le::author_name,
    le::prev_hash,
    le::hash,
);

fn entry_columns() -> EntryColumns {
    (
        le::seq,
        le::entry_date,
        le::posted_at,
        le::kind,
        le::memo,
        le::appropriation_id,
        le::tender_id,
        le::contract_id,
        le::instalment_id,
        le::reverses_seq,
        le::idem_key,
        le::request_hash,
        le::author_id,
        le::author_name,
        le::prev_hash,
        le::hash,
    )
}

fn from_row(r: EntryRow, postings: Vec<Posting>) -> Entry {
    Entry {
        seq: r.0,
        entry_date: r.1,
        posted_at: r.2,
        kind: r.3,
        memo: r.4,
        appropriation_id: r.5,
        tender_id: r.6,
        contract_id: r.7,
        instalment_id: r.8,
        reverses_seq: r.9,
        idem_key: r.10,
        request_hash: r.11,
        author_id: r.12,
        author_name: r.13,
        prev_hash: r.14,
        hash: r.15,
        postings,
    }
}

fn posting(account: String, amount_fen: i64) -> Posting {
    Posting {
        amount: crate::money::yuan(amount_fen),
        account,
        amount_fen,
    }
}

impl Entry {
    pub fn lines(&self) -> Vec<Line> {
        self.postings
            .iter()
            .map(|p| Line {
                account: p.account.clone(),
                amount: p.amount_fen,
            })
            .collect()
    }

    pub fn refs(&self) -> Refs {
        Refs {
            appropriation: self.appropriation_id,
            tender: self.tender_id,
            contract: self.contract_id,
            instalment: self.instalment_id,
            reverses: self.reverses_seq,
        }
    }

    /// The entry's fields in their fixed order, postings last as `[[account, fen], …]`; the chain links
    /// them to the previous hash.
    fn fields(&self) -> Canonical {
        let postings: Vec<(&str, i64)> = self
            .postings
            .iter()
            .map(|p| (p.account.as_str(), p.amount_fen))
            .collect();
        self.fields_with(&postings)
    }

    /// [`Entry::fields`] with the postings given apart (as [`Stored`] keeps them).
    fn fields_with(&self, postings: &[(&str, i64)]) -> Canonical {
        let mut date = String::with_capacity(10);
        let mut at = String::with_capacity(27);
        write_date(&mut date, self.entry_date);
        write_timestamp(&mut at, self.posted_at);
        Canonical::new()
            .with("sanshe-ledger/1")
            .with(&self.seq)
            .with(&date)
            .with(&at)
            .with(&self.kind)
            .with(&self.memo)
            .with(&self.appropriation_id)
            .with(&self.tender_id)
            .with(&self.contract_id)
            .with(&self.instalment_id)
            .with(&self.reverses_seq)
            .with(&self.idem_key)
            .with(&self.request_hash)
            .with(&self.author_id)
            .with(&self.author_name)
            .with(postings)
    }
}

/// `%Y-%m-%d`, written without chrono's format machinery (verification writes a million of them).
fn write_date(out: &mut String, d: NaiveDate) {
    use chrono::Datelike;
    use std::fmt::Write;
    if (0..=9999).contains(&d.year()) {
        let _ = write!(out, "{:04}-{:02}-{:02}", d.year(), d.month(), d.day());
    } else {
        let _ = write!(out, "{}", d.format("%Y-%m-%d"));
    }
}

/// `%Y-%m-%dT%H:%M:%S%.6fZ` (microseconds, truncated), as [`write_date`].
fn write_timestamp(out: &mut String, t: NaiveDateTime) {
    use chrono::Timelike;
    use std::fmt::Write;
    let ns = t.nanosecond();
    if ns >= 1_000_000_000 || !(0..=9999).contains(&chrono::Datelike::year(&t)) {
        let _ = write!(out, "{}", t.format("%Y-%m-%dT%H:%M:%S%.6fZ"));
        return;
    }
    write_date(out, t.date());
    let _ = write!(
        out,
        "T{:02}:{:02}:{:02}.{:06}Z",
        t.hour(),
        t.minute(),
        t.second(),
        ns / 1000
    );
}

impl chain::Entry for Entry {
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

/// The hash an entry must carry.
pub fn compute_hash(e: &Entry) -> String {
    chain::next_hash(&e.prev_hash, &e.fields())
}

/// The fingerprint of an entry's content for its idempotency key: kind, memo, references and postings.
fn request_hash(e: &NewEntry) -> String {
    let lines: Vec<(&str, i64)> = e
        .lines
        .iter()
        .map(|l| (l.account.as_str(), l.amount))
        .collect();
    let r = &e.refs;
    crate::idempotency::request_hash(
        &(
            e.kind.as_str(),
            &e.memo,
            (
                r.appropriation,
                r.tender,
                r.contract,
                r.instalment,
                r.reverses,
            ),
            lines,
        ),
        &[],
    )
}

/// The result of [`post`].
#[derive(Clone, Debug)]
pub struct Posted {
    pub entry: Entry,
    /// True when the key had been used for the same content: this is the first entry, nothing was written.
    pub replayed: bool,
}

/// Load entries with seq in `from..=to` (at most `limit`), with their postings, in order.
fn load_range(conn: &mut DbConn, from: i64, limit: i64) -> QueryResult<Vec<Entry>> {
    let rows: Vec<EntryRow> = le::table
        .filter(le::seq.ge(from))
        .order(le::seq.asc())
        .limit(limit)
        .select(entry_columns())
        .load(conn)?;
    let (Some(first), Some(last)) = (rows.first().map(|r| r.0), rows.last().map(|r| r.0)) else {
        return Ok(Vec::new());
    };
    let lines: Vec<(i64, String, i64)> = lp::table
        .filter(lp::entry_seq.ge(first).and(lp::entry_seq.le(last)))
        .order((lp::entry_seq.asc(), lp::line.asc()))
        .select((lp::entry_seq, lp::account, lp::amount_fen))
        .load(conn)?;
    let mut by_seq: HashMap<i64, Vec<Posting>> = HashMap::new();
    for (seq, account, amount) in lines {
        by_seq
            .entry(seq)
            .or_default()
            .push(posting(account, amount));
    }
    Ok(rows
        .into_iter()
        .map(|r| {
            let p = by_seq.remove(&r.0).unwrap_or_default();
            from_row(r, p)
        })
        .collect())
}

/// One entry with its postings.
pub fn entry(conn: &mut DbConn, seq: i64) -> Result<Entry, AppError> {
    load_range(conn, seq, 1)?
        .into_iter()
        .find(|e| e.seq == seq)
        .ok_or(AppError::NotFound)
}

/// The last entry's sequence number and hash (None for an empty ledger).
pub fn head(conn: &mut DbConn) -> QueryResult<Option<(i64, String)>> {
    le::table
        .select((le::seq, le::hash))
        .order(le::seq.desc())
        .first(conn)
        .optional()
}

/// The ledger digest: the head's sequence number and hash (0 and the genesis hash when empty), printed on
/// every finance page and report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Digest {
    pub seq: i64,
    pub hash: String,
}

impl Digest {
    /// `SEQ:HASH`, as `sanshe verify --digest` takes it.
    pub fn text(&self) -> String {
        format!("{}:{}", self.seq, self.hash)
    }

    /// Parse `SEQ:HASH`.
    pub fn parse(s: &str) -> Option<Digest> {
        let (seq, hash) = s.trim().split_once(':')?;
        let seq: i64 = seq.parse().ok().filter(|n| *n >= 0)?;
        let ok = crate::domain::text::is_sha256_hex(hash);
        ok.then(|| Digest {
            seq,
            hash: hash.to_ascii_lowercase(),
        })
    }
}

pub fn digest(conn: &mut DbConn) -> Result<Digest, AppError> {
    let (seq, hash) = head(conn)?.unwrap_or((0, chain::GENESIS.to_string()));
    Ok(Digest { seq, hash })
}

/// Post one entry: the rules, then the chain, then entry, postings and balances, in one write transaction
/// (a savepoint inside the caller's). Nothing is written when a rule refuses it. The checking, numbering
/// and hashing are [`Pending::append`], shared with the bulk [`import`].
pub fn post(
    conn: &mut DbConn,
    actor: &Actor,
    now: DateTime<Utc>,
    new: &NewEntry,
) -> Result<Posted, AppError> {
    let key = crate::idempotency::check_key(&new.idem_key)?.to_string();
    let rhash = request_hash(new);
    crate::db::write_tx(conn, |c| {
        // Writers that audit take the audit chain's lock before the ledger's, always in this order, so a
        // tender's move (audited, then posted) and an appropriation never wait on each other in a circle.
        chain::AUDIT.lock(c)?;
        chain::LEDGER.lock(c)?;
        // The same key again: the first entry, or 409 when the content differs.
        let existing: Option<(i64, String)> = le::table
            .filter(le::idem_key.eq(&key))
            .select((le::seq, le::request_hash))
            .first(c)
            .optional()?;
        if let Some((seq, h)) = existing {
            return match crate::idempotency::decide(Some((h, seq)), &rhash) {
                crate::idempotency::Decision::Replay(seq) => Ok(Posted {
                    entry: entry(c, seq)?,
                    replayed: true,
                }),
                _ => Err(crate::idempotency::conflict("记账分录", "ledger entry")),
            };
        }
        let mut pending = Pending::begin(c)?;
        pending.append(c, actor, now, new, key.clone(), rhash.clone())?;
        let entry = pending.write(c)?.pop().expect("one entry appended");
        Ok(Posted {
            entry,
            replayed: false,
        })
    })
}

/// An account's balance as a write transaction sees it.
#[derive(Clone, Copy, Debug)]
struct Bal {
    fen: i64,
    postings: i64,
    /// Its row is already in `ledger_balances` (else it is inserted).
    stored: bool,
    /// The last entry appended here that changed it (None: unchanged, nothing to write).
    last_seq: Option<i64>,
}

/// Rows per multi-row INSERT: under SQLite's 32,766 bound variables (and PostgreSQL's 65,535).
const MAX_BINDS: usize = 32_000;

/// Run the same diesel statement on whichever backend the connection is (a multi-row INSERT goes
/// straight to the backend's own connection).
macro_rules! on_backend {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            DbConn::Sqlite($c) => $body,
            DbConn::Pg($c) => $body,
        }
    };
}

/// The ledger as one write transaction appends to it: the head, the balances it has read or changed, and
/// the entries appended but not yet written. [`post`] (one entry) and [`import::import`] (a batch of
/// thousands) both go through [`Pending::append`], the one place where an entry is checked against the
/// rules, its balances kept on their sides of zero, numbered and hashed into the chain; [`Pending::write`]
/// then writes the entries, their postings and the balances with multi-row statements. Call with the
/// ledger's chain lock held, inside the write transaction.
pub(crate) struct Pending {
    /// Sequence number and hash of the last entry (appended here or already stored).
    head_seq: i64,
    head_hash: String,
    /// The first sequence number appended here.
    first: i64,
    balances: HashMap<String, Bal>,
    entries: Vec<Entry>,
    /// The idempotency keys appended here.
    keys: HashMap<String, i64>,
    /// Entries reversed by a reversal appended here: reversed seq → the reversal's seq.
    reversed: HashMap<i64, i64>,
}

impl Pending {
    /// Start after the ledger's current head.
    pub(crate) fn begin(c: &mut DbConn) -> QueryResult<Pending> {
        let (first, head_hash) = chain::successor(head(c)?);
        Ok(Pending {
            head_seq: first - 1,
            head_hash,
            first,
            balances: HashMap::new(),
            entries: Vec::new(),
            keys: HashMap::new(),
            reversed: HashMap::new(),
        })
    }

    fn appended(&self, seq: i64) -> Option<&Entry> {
        let i = usize::try_from(seq.checked_sub(self.first)?).ok()?;
        self.entries.get(i)
    }

    /// The lines of the entry a reversal negates, once the reversal rules hold: it exists, it was not
    /// reversed before, and it is not itself a reversal.
    fn reversed_lines(&mut self, c: &mut DbConn, r: i64) -> Result<Vec<Line>, AppError> {
        let (kind, lines) = match self.appended(r) {
            Some(e) => (e.kind.clone(), e.lines()),
            None => match entry(c, r) {
                Ok(e) => (e.kind.clone(), e.lines()),
                Err(AppError::NotFound) => {
                    return Err(refusal(Refusal {
                        field: "refs.reverses".into(),
                        rule: "reference_required",
                        zh: format!("第 {r} 号分录不存在。"),
                        en: format!("There is no entry {r}."),
                        conflict: false,
                    }));
                }
                Err(e) => return Err(e),
            },
        };
        let again = match self.reversed.get(&r) {
            Some(by) => Some(*by),
            None => le::table
                .filter(le::reverses_seq.eq(r))
                .select(le::seq)
                .first(c)
                .optional()?,
        };
        if let Some(by) = again {
            return Err(refusal(Refusal {
                field: "refs.reverses".into(),
                rule: "reversed_once",
                zh: format!("第 {r} 号分录已被第 {by} 号分录冲销，不能再次冲销。"),
                en: format!("Entry {r} was already reversed by entry {by}."),
                conflict: true,
            }));
        }
        if kind == Kind::Reversal.as_str() {
            return Err(refusal(Refusal {
                field: "refs.reverses".into(),
                rule: "reversal_of_reversal",
                zh: "冲销分录不能再被冲销；请另行记账。".into(),
                en: "A reversal cannot itself be reversed; post a new entry instead.".into(),
                conflict: true,
            }));
        }
        Ok(lines)
    }

    /// An account's balance now: as changed here, else as stored.
    fn balance(&mut self, c: &mut DbConn, account: &str) -> QueryResult<Bal> {
        if let Some(b) = self.balances.get(account) {
            return Ok(*b);
        }
        let cur: Option<(i64, i64)> = lb::table
            .find(account)
            .select((lb::balance_fen, lb::postings))
            .first(c)
            .optional()?;
        let b = Bal {
            fen: cur.map_or(0, |x| x.0),
            postings: cur.map_or(0, |x| x.1),
            stored: cur.is_some(),
            last_seq: None,
        };
        self.balances.insert(account.to_string(), b);
        Ok(b)
    }

    /// Check one entry and append it: its key not used by an entry appended here (the caller checks the
    /// stored ones), a reversal's target, `domain::ledger::check_entry`, every balance after it on its side
    /// of zero (`check_side`: the available budget never below zero), then its sequence number and hash
    /// linked to the head. A refusal leaves the entries appended before it as they were (the caller rolls
    /// back). `key` is the checked idempotency key and `rhash` the entry's request hash.
    pub(crate) fn append(
        &mut self,
        c: &mut DbConn,
        actor: &Actor,
        now: DateTime<Utc>,
        new: &NewEntry,
        key: String,
        rhash: String,
    ) -> Result<&Entry, AppError> {
        if let Some(seq) = self.keys.get(&key) {
            return Err(duplicate_key(&key, *seq));
        }
        let reversed = match new.refs.reverses {
            Some(r) if new.kind == Kind::Reversal => Some((r, self.reversed_lines(c, r)?)),
            _ => None,
        };
        rules::check_entry(
            new.kind,
            &new.memo,
            &new.refs,
            &new.lines,
            reversed.as_ref().map(|(_, l)| l.as_slice()),
        )
        .map_err(refusal)?;
        let seq = self.head_seq + 1;
        // The balances after the entry, each on its normal side (the available budget never below zero).
        let mut after: Vec<Bal> = Vec::with_capacity(new.lines.len());
        for (i, l) in new.lines.iter().enumerate() {
            let b = self.balance(c, &l.account)?;
            let fen = b.fen.checked_add(l.amount).ok_or_else(|| {
                refusal(Refusal {
                    field: format!("postings[{i}].amount"),
                    rule: "overflow",
                    zh: "余额溢出。".into(),
                    en: "The balance would overflow.".into(),
                    conflict: false,
                })
            })?;
            rules::check_side(&l.account, fen, i).map_err(refusal)?;
            after.push(Bal {
                fen,
                postings: b.postings + 1,
                last_seq: Some(seq),
                ..b
            });
        }
        for (l, b) in new.lines.iter().zip(after) {
            self.balances.insert(l.account.clone(), b);
        }
        if let Some((r, _)) = reversed {
            self.reversed.insert(r, seq);
        }
        let mut e = Entry {
            seq,
            entry_date: new.date,
            posted_at: crate::db::now_micros(now),
            kind: new.kind.as_str().into(),
            memo: new.memo.trim().to_string(),
            appropriation_id: new.refs.appropriation,
            tender_id: new.refs.tender,
            contract_id: new.refs.contract,
            instalment_id: new.refs.instalment,
            reverses_seq: new.refs.reverses,
            idem_key: key,
            request_hash: rhash,
            author_id: actor.id,
            author_name: actor.name.clone(),
            prev_hash: std::mem::take(&mut self.head_hash),
            hash: String::new(),
            postings: new
                .lines
                .iter()
                .map(|l| posting(l.account.clone(), l.amount))
                .collect(),
        };
        e.hash = compute_hash(&e);
        self.head_seq = seq;
        self.head_hash = e.hash.clone();
        self.keys.insert(e.idem_key.clone(), seq);
        self.entries.push(e);
        Ok(self.entries.last().expect("just appended"))
    }

    /// Write what was appended: the entries and their postings with multi-row INSERTs, then each changed
    /// balance once (an UPDATE of a stored one, a multi-row INSERT of the new ones). Returns the entries.
    pub(crate) fn write(self, c: &mut DbConn) -> QueryResult<Vec<Entry>> {
        for chunk in self.entries.chunks(MAX_BINDS / 16) {
            let rows: Vec<_> = chunk
                .iter()
                .map(|e| {
                    (
                        le::seq.eq(e.seq),
                        le::entry_date.eq(e.entry_date),
                        le::posted_at.eq(e.posted_at),
                        le::kind.eq(&e.kind),
                        le::memo.eq(&e.memo),
                        le::appropriation_id.eq(e.appropriation_id),
                        le::tender_id.eq(e.tender_id),
                        le::contract_id.eq(e.contract_id),
                        le::instalment_id.eq(e.instalment_id),
                        le::reverses_seq.eq(e.reverses_seq),
                        le::idem_key.eq(&e.idem_key),
                        le::request_hash.eq(&e.request_hash),
                        le::author_id.eq(e.author_id),
                        le::author_name.eq(&e.author_name),
                        le::prev_hash.eq(&e.prev_hash),
                        le::hash.eq(&e.hash),
                    )
                })
                .collect();
            on_backend!(c, |c| diesel::insert_into(le::table)
                .values(rows)
                .execute(c))?;
        }
        let postings: Vec<_> = self
            .entries
            .iter()
            .flat_map(|e| {
                e.postings.iter().enumerate().map(|(i, p)| {
                    (
                        lp::entry_seq.eq(e.seq),
                        lp::line.eq(i as i32),
                        lp::account.eq(&p.account),
                        lp::amount_fen.eq(p.amount_fen),
                    )
                })
            })
            .collect();
        for chunk in postings.chunks(MAX_BINDS / 4) {
            on_backend!(c, |c| diesel::insert_into(lp::table)
                .values(chunk.to_vec())
                .execute(c))?;
        }
        let mut new_rows = Vec::new();
        let mut changed: Vec<(&String, &Bal)> = self
            .balances
            .iter()
            .filter(|(_, b)| b.last_seq.is_some())
            .collect();
        // In account order, so two writers never update the same rows in a different order.
        changed.sort_by(|a, b| a.0.cmp(b.0));
        for (account, b) in changed {
            let last = b.last_seq.expect("changed");
            if b.stored {
                diesel::update(lb::table.find(account))
                    .set((
                        lb::balance_fen.eq(b.fen),
                        lb::postings.eq(b.postings),
                        lb::last_seq.eq(last),
                    ))
                    .execute(c)?;
            } else {
                new_rows.push((
                    lb::account.eq(account),
                    lb::balance_fen.eq(b.fen),
                    lb::postings.eq(b.postings),
                    lb::last_seq.eq(last),
                ));
            }
        }
        for chunk in new_rows.chunks(MAX_BINDS / 4) {
            on_backend!(c, |c| diesel::insert_into(lb::table)
                .values(chunk.to_vec())
                .execute(c))?;
        }
        Ok(self.entries)
    }
}

/// 409 for an idempotency key already used by entry `seq` (a bulk import does not replay).
pub(crate) fn duplicate_key(key: &str, seq: i64) -> AppError {
    AppError::conflict(
        "idempotency_key_reused",
        format!("幂等键 {key:?} 已用于第 {seq} 号分录。"),
        format!("The idempotency key {key:?} is already used by entry {seq}."),
    )
}

/// Reverse an entry (the only correction): a new entry with every posting negated, dated `date`, at most
/// once per entry. Audited in the same transaction.
pub fn reverse(
    conn: &mut DbConn,
    actor: &Actor,
    now: DateTime<Utc>,
    seq: i64,
    memo: &str,
    idem_key: &str,
) -> Result<Posted, AppError> {
    crate::db::write_tx(conn, |c| {
        chain::AUDIT.lock(c)?;
        chain::LEDGER.lock(c)?;
        let orig = entry(c, seq)?;
        let new = NewEntry {
            date: crate::clock::beijing_date(now),
            kind: Kind::Reversal,
            memo: memo.to_string(),
            refs: Refs {
                reverses: Some(seq),
                ..orig.refs()
            },
            idem_key: idem_key.to_string(),
            lines: orig
                .lines()
                .into_iter()
                .map(|l| Line {
                    account: l.account,
                    amount: -l.amount,
                })
                .collect(),
        };
        let p = post(c, actor, now, &new)?;
        if !p.replayed {
            crate::audit::record(
                c,
                actor,
                now,
                "ledger.reverse",
                "ledger_entry",
                Some(p.entry.seq.to_string()),
                None,
                Some(serde_json::json!({"reverses": seq, "memo": p.entry.memo})),
            )?;
        }
        Ok(p)
    })
}

/// A page of entries, newest first.
pub fn list(
    conn: &mut DbConn,
    paging: crate::db::Paging,
) -> Result<crate::db::Paged<Entry>, AppError> {
    let total: i64 = le::table.count().get_result(conn)?;
    let top = total - paging.offset();
    if top < 1 {
        return Ok(paging.of(Vec::new(), total));
    }
    let from = (top - paging.limit() + 1).max(1);
    let mut items = load_range(conn, from, top - from + 1)?;
    items.retain(|e| e.seq <= top);
    items.reverse();
    Ok(paging.of(items, total))
}

/// One row of the trial balance: an account's balance as debit or credit.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct BalanceRow {
    pub account: String,
    /// Signed fen: debit positive, credit negative.
    pub balance_fen: i64,
    /// Yuan, two decimals; empty when the balance is a credit or zero.
    pub debit: String,
    /// Yuan, two decimals; empty when the balance is a debit or zero.
    pub credit: String,
    pub postings: i64,
}

/// Every account's balance: a read of the balances kept with each entry.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct TrialBalance {
    pub rows: Vec<BalanceRow>,
    pub total_debit_fen: i64,
    pub total_credit_fen: i64,
    pub total_debit: String,
    pub total_credit: String,
    /// The ledger digest the balance was read at.
    pub digest: Digest,
}

pub fn trial_balance(conn: &mut DbConn) -> Result<TrialBalance, AppError> {
    conn.transaction::<_, AppError, _>(|c| {
        let rows: Vec<(String, i64, i64)> = lb::table
            .order(lb::account.asc())
            .select((lb::account, lb::balance_fen, lb::postings))
            .load(c)?;
        let digest = digest(c)?;
        let (mut dr, mut cr) = (0i64, 0i64);
        let rows = rows
            .into_iter()
            .map(|(account, b, n)| {
                if b > 0 {
                    dr = dr.saturating_add(b);
                } else {
                    cr = cr.saturating_add(-b);
                }
                BalanceRow {
                    debit: if b > 0 {
                        crate::money::yuan(b)
                    } else {
                        String::new()
                    },
                    credit: if b < 0 {
                        crate::money::yuan(-b)
                    } else {
                        String::new()
                    },
                    account,
                    balance_fen: b,
                    postings: n,
                }
            })
            .collect();
        Ok(TrialBalance {
            rows,
            total_debit_fen: dr,
            total_credit_fen: cr,
            total_debit: crate::money::yuan(dr),
            total_credit: crate::money::yuan(cr),
            digest,
        })
    })
}

/// The ledger as a checkpointed chain (`chain::checkpoint`).
pub struct Journal;

/// The ledger's checkpoint source.
pub static JOURNAL: Journal = Journal;

impl chain::checkpoint::Source for Journal {
    fn chain(&self) -> chain::Chain {
        chain::LEDGER
    }

    fn head(&self, conn: &mut DbConn) -> QueryResult<Option<(i64, String)>> {
        head(conn)
    }

    fn hash_at(&self, conn: &mut DbConn, seq: i64) -> QueryResult<Option<String>> {
        le::table.find(seq).select(le::hash).first(conn).optional()
    }

    fn verify_from(
        &self,
        conn: &mut DbConn,
        mut v: chain::Verifier,
    ) -> QueryResult<chain::Verifier> {
        loop {
            let page = load_range(conn, v.expected_seq(), 1000)?;
            if page.is_empty() || !page.iter().all(|e| v.push(e)) {
                break;
            }
        }
        Ok(v)
    }
}

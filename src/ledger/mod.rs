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
pub mod tenders;

use std::collections::HashMap;

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
        Canonical::new()
            .with("sanshe-ledger/1")
            .with(&self.seq)
            .with(&self.entry_date.format("%Y-%m-%d").to_string())
            .with(&self.posted_at.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string())
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
            .with(&postings)
    }
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
        let ok = hash.len() == 64 && hash.chars().all(|c| c.is_ascii_hexdigit());
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
/// (a savepoint inside the caller's). Nothing is written when a rule refuses it.
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
        let reversed = match new.refs.reverses {
            Some(r) if new.kind == Kind::Reversal => {
                let orig = match entry(c, r) {
                    Ok(e) => e,
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
                };
                let again: Option<i64> = le::table
                    .filter(le::reverses_seq.eq(r))
                    .select(le::seq)
                    .first(c)
                    .optional()?;
                if let Some(by) = again {
                    return Err(refusal(Refusal {
                        field: "refs.reverses".into(),
                        rule: "reversed_once",
                        zh: format!("第 {r} 号分录已被第 {by} 号分录冲销，不能再次冲销。"),
                        en: format!("Entry {r} was already reversed by entry {by}."),
                        conflict: true,
                    }));
                }
                if orig.kind == Kind::Reversal.as_str() {
                    return Err(refusal(Refusal {
                        field: "refs.reverses".into(),
                        rule: "reversal_of_reversal",
                        zh: "冲销分录不能再被冲销；请另行记账。".into(),
                        en: "A reversal cannot itself be reversed; post a new entry instead."
                            .into(),
                        conflict: true,
                    }));
                }
                Some(orig.lines())
            }
            _ => None,
        };
        rules::check_entry(
            new.kind,
            &new.memo,
            &new.refs,
            &new.lines,
            reversed.as_deref(),
        )
        .map_err(refusal)?;
        // The balances after the entry, each on its normal side (the available budget never below zero).
        let mut after: Vec<(String, i64, i64, bool)> = Vec::with_capacity(new.lines.len());
        for (i, l) in new.lines.iter().enumerate() {
            let cur: Option<(i64, i64)> = lb::table
                .find(&l.account)
                .select((lb::balance_fen, lb::postings))
                .first(c)
                .optional()?;
            let (bal, n) = cur.unwrap_or((0, 0));
            let new_bal = bal.checked_add(l.amount).ok_or_else(|| {
                refusal(Refusal {
                    field: format!("postings[{i}].amount"),
                    rule: "overflow",
                    zh: "余额溢出。".into(),
                    en: "The balance would overflow.".into(),
                    conflict: false,
                })
            })?;
            rules::check_side(&l.account, new_bal, i).map_err(refusal)?;
            after.push((l.account.clone(), new_bal, n + 1, cur.is_some()));
        }
        let (seq, prev_hash) = chain::successor(head(c)?);
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
            idem_key: key.clone(),
            request_hash: rhash.clone(),
            author_id: actor.id,
            author_name: actor.name.clone(),
            prev_hash,
            hash: String::new(),
            postings: new
                .lines
                .iter()
                .map(|l| posting(l.account.clone(), l.amount))
                .collect(),
        };
        e.hash = compute_hash(&e);
        diesel::insert_into(le::table)
            .values((
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
            ))
            .execute(c)?;
        for (i, p) in e.postings.iter().enumerate() {
            diesel::insert_into(lp::table)
                .values((
                    lp::entry_seq.eq(e.seq),
                    lp::line.eq(i as i32),
                    lp::account.eq(&p.account),
                    lp::amount_fen.eq(p.amount_fen),
                ))
                .execute(c)?;
        }
        for (account, bal, n, exists) in after {
            if exists {
                diesel::update(lb::table.find(&account))
                    .set((
                        lb::balance_fen.eq(bal),
                        lb::postings.eq(n),
                        lb::last_seq.eq(e.seq),
                    ))
                    .execute(c)?;
            } else {
                diesel::insert_into(lb::table)
                    .values((
                        lb::account.eq(&account),
                        lb::balance_fen.eq(bal),
                        lb::postings.eq(n),
                        lb::last_seq.eq(e.seq),
                    ))
                    .execute(c)?;
            }
        }
        Ok(Posted {
            entry: e,
            replayed: false,
        })
    })
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

/// What `verify` found.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct LedgerReport {
    pub ok: bool,
    /// Entries checked and found good.
    pub entries: i64,
    pub head_seq: i64,
    pub head_hash: String,
    /// Accounts whose stored balance was compared with the sum of their postings.
    pub accounts: i64,
    /// The first sequence number where something is wrong.
    pub bad_seq: Option<i64>,
    /// What is wrong there (English).
    pub error: Option<String>,
}

/// Recompute the whole ledger from its first entry: every hash and link, no gap in the sequence numbers,
/// every entry balanced and of its kind's shape, every account on its side of zero after every entry, the
/// available budget of each bucket = appropriated − reserved − committed + released ≥ 0, and the stored
/// balances equal to the sums of the postings. Stops at the first bad entry and names it.
pub fn verify(conn: &mut DbConn) -> Result<LedgerReport, AppError> {
    let mut v = chain::Verifier::new();
    let mut sums: HashMap<String, i64> = HashMap::new();
    let mut flows: HashMap<String, rules::Flows> = HashMap::new();
    let mut bad: Option<(i64, String)> = None;
    'pages: loop {
        let page = load_range(conn, v.expected_seq(), 1000)?;
        if page.is_empty() {
            break;
        }
        for e in &page {
            let before = (v.head_seq, v.head_hash.clone());
            if !v.push(e) {
                let b = v.broken.clone().expect("broken");
                let what = match b {
                    chain::Break::Missing { expected, found } => {
                        format!("entry {expected} missing (found {found} next)")
                    }
                    chain::Break::Unlinked { seq } => {
                        format!("entry {seq} does not link to the hash of entry {}", seq - 1)
                    }
                    chain::Break::Altered { seq } => format!(
                        "entry {seq} was altered: its hash does not match its content and postings"
                    ),
                };
                bad = Some((b.seq(), what));
                break 'pages;
            }
            if let Err(what) = check_stored(conn, e, &mut sums, &mut flows)? {
                bad = Some((e.seq, what));
                // The entry's hash held, but it breaks a rule: it is not counted as good.
                v.count -= 1;
                (v.head_seq, v.head_hash) = before;
                break 'pages;
            }
        }
    }
    let mut accounts = 0;
    if bad.is_none() {
        let stored: Vec<(String, i64, i64)> = lb::table
            .order(lb::account.asc())
            .select((lb::account, lb::balance_fen, lb::last_seq))
            .load(conn)?;
        accounts = stored.len() as i64;
        for (account, bal, last) in &stored {
            let sum = sums.remove(account).unwrap_or(0);
            if sum != *bal {
                bad = Some((
                    *last,
                    format!(
                        "the stored balance of {account} is {} but its postings sum to {}",
                        crate::money::yuan(*bal),
                        crate::money::yuan(sum)
                    ),
                ));
                break;
            }
        }
        if bad.is_none()
            && let Some((account, _)) = sums.into_iter().find(|(_, s)| *s != 0)
        {
            bad = Some((
                v.head_seq,
                format!("{account} has postings but no stored balance"),
            ));
        }
    }
    Ok(LedgerReport {
        ok: bad.is_none(),
        entries: v.count,
        head_seq: v.head_seq,
        head_hash: v.head_hash,
        accounts,
        bad_seq: bad.as_ref().map(|b| b.0),
        error: bad.map(|(seq, what)| format!("at entry {seq}: {what}")),
    })
}

/// The rules of one stored entry, carrying the running sums and budget flows; `Ok(Err(what))` when it
/// breaks one.
fn check_stored(
    conn: &mut DbConn,
    e: &Entry,
    sums: &mut HashMap<String, i64>,
    flows: &mut HashMap<String, rules::Flows>,
) -> Result<Result<(), String>, AppError> {
    let Some(kind) = Kind::parse(&e.kind) else {
        return Ok(Err(format!("unknown kind {:?}", e.kind)));
    };
    // A reversal is checked against the entry it negates, and counts against that entry's flows.
    let (reversed, flow_kind) = match (kind, e.reverses_seq) {
        (Kind::Reversal, Some(r)) if r < e.seq => {
            let orig = entry(conn, r)?;
            let k = Kind::parse(&orig.kind).unwrap_or(Kind::Reversal);
            (Some(orig.lines()), k)
        }
        _ => (None, kind),
    };
    let lines = e.lines();
    if let Err(r) = rules::check_entry(kind, &e.memo, &e.refs(), &lines, reversed.as_deref()) {
        return Ok(Err(format!("{} ({})", r.en, r.rule)));
    }
    for (i, l) in lines.iter().enumerate() {
        let s = sums.entry(l.account.clone()).or_insert(0);
        *s = s.saturating_add(l.amount);
        if let Err(r) = rules::check_side(&l.account, *s, i) {
            return Ok(Err(format!("{} ({})", r.en, r.rule)));
        }
        if rules::Account::parse(&l.account).is_some_and(|a| a.is_available()) {
            let f = flows.entry(l.account.clone()).or_default();
            rules::add_flow(f, flow_kind, l.amount);
            if rules::available(*f) != Some(*s) {
                return Ok(Err(format!(
                    "the available budget {} breaks appropriated − reserved − committed + released ≥ 0 (available_non_negative)",
                    l.account
                )));
            }
        }
    }
    Ok(Ok(()))
}

/// Does today's ledger still extend a digest printed earlier: does it have entry `d.seq` with hash
/// `d.hash`? (Together with [`verify`], which recomputes every hash up to the head from the start.)
pub fn extends(conn: &mut DbConn, d: &Digest) -> Result<Result<(), String>, AppError> {
    if d.seq == 0 {
        return Ok(if d.hash == chain::GENESIS {
            Ok(())
        } else {
            Err("entry 0 is the empty ledger; its hash is the genesis hash".into())
        });
    }
    let at: Option<String> = le::table
        .find(d.seq)
        .select(le::hash)
        .first(conn)
        .optional()?;
    Ok(match at {
        None => {
            let head = head(conn)?.map_or(0, |h| h.0);
            Err(format!(
                "there is no entry {} (the head is {head}): the ledger was cut",
                d.seq
            ))
        }
        Some(h) if h != d.hash => Err(format!(
            "entry {} now has hash {h}, not {}: history was rewritten",
            d.seq, d.hash
        )),
        Some(_) => Ok(()),
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

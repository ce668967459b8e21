//! Verification: the whole ledger recomputed from its first entry (hashes and links, every entry's rules,
//! balances, budgets, contracts), and whether today's ledger still extends a digest printed earlier.

use std::collections::{HashMap, HashSet};
use std::sync::mpsc::SyncSender;

use diesel::prelude::*;
use serde::Serialize;

use super::{Digest, Entry, EntryRow, entry_columns, from_row, head, load_range};
use crate::chain;
use crate::chain::Canonical;
use crate::db::DbConn;
use crate::db::schema::{ledger_balances as lb, ledger_entries as le, ledger_postings as lp};
use crate::domain::ledger::{self as rules, Kind, Line};
use crate::error::AppError;

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

/// An entry as [`verify`] reads it: the row (with `postings` left empty: no yuan text is made) and its
/// lines in order.
pub(crate) struct Stored {
    pub e: Entry,
    pub lines: Vec<Line>,
    /// For a reversal of an entry not known to be reversed when verification began (written since): that
    /// entry's kind and lines, read by the reader thread.
    reversed: Option<(String, Vec<Line>)>,
}

impl chain::Entry for Stored {
    fn seq(&self) -> i64 {
        self.e.seq
    }
    fn prev_hash(&self) -> &str {
        &self.e.prev_hash
    }
    fn hash(&self) -> &str {
        &self.e.hash
    }
    fn canonical(&self) -> Canonical {
        let postings: Vec<(&str, i64)> = self
            .lines
            .iter()
            .map(|l| (l.account.as_str(), l.amount))
            .collect();
        self.e.fields_with(&postings)
    }
}

/// Entries read per page by [`verify`] (with about 2.5 times as many postings).
const VERIFY_PAGE: i64 = 20_000;

/// Up to `limit` stored entries from seq `from` on, in order, with their lines: two range reads merged.
pub(crate) fn load_stored(conn: &mut DbConn, from: i64, limit: i64) -> QueryResult<Vec<Stored>> {
    let rows = load_rows(conn, from, limit)?;
    let (Some(first), Some(last)) = (rows.first().map(|r| r.0), rows.last().map(|r| r.0)) else {
        return Ok(Vec::new());
    };
    let lines: Vec<(i64, String, i64)> = lp::table
        .filter(lp::entry_seq.ge(first).and(lp::entry_seq.le(last)))
        .order((lp::entry_seq.asc(), lp::line.asc()))
        .select((lp::entry_seq, lp::account, lp::amount_fen))
        .load(conn)?;
    let mut lines = lines.into_iter().peekable();
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let seq = r.0;
        // Postings of no entry read (an entry deleted under them) are skipped; the chain reports the gap.
        while lines.next_if(|l| l.0 < seq).is_some() {}
        let mut own = Vec::with_capacity(4);
        while let Some((_, account, amount)) = lines.next_if(|l| l.0 == seq) {
            own.push(Line { account, amount });
        }
        out.push(Stored {
            e: from_row(r, Vec::new()),
            lines: own,
            reversed: None,
        });
    }
    Ok(out)
}

/// An entry row with its date and time as SQLite keeps them (text).
type TextRow = (
    i64,
    String,
    String,
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

/// Up to `limit` entry rows from seq `from` on. On SQLite the date and time are read as the text diesel
/// wrote (`%F` and `%F %T%.f`, UTC) and parsed by `domain::dates`' strict reader: diesel's general reader
/// tries format after format through chrono's parser, a few per cent of a million-entry verify.
/// PostgreSQL sends them typed.
fn load_rows(conn: &mut DbConn, from: i64, limit: i64) -> QueryResult<Vec<EntryRow>> {
    use diesel::dsl::sql;
    use diesel::sql_types::Text;
    let DbConn::Sqlite(c) = conn else {
        return le::table
            .filter(le::seq.ge(from))
            .order(le::seq.asc())
            .limit(limit)
            .select(entry_columns())
            .load(conn);
    };
    let rows: Vec<TextRow> = le::table
        .filter(le::seq.ge(from))
        .order(le::seq.asc())
        .limit(limit)
        .select((
            le::seq,
            sql::<Text>("entry_date"),
            sql::<Text>("posted_at"),
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
        ))
        .load(c)?;
    let bad = |what: &str, v: &str| {
        diesel::result::Error::DeserializationError(format!("ledger entry {what} {v:?}").into())
    };
    let utc = chrono::FixedOffset::east_opt(0).expect("UTC");
    rows.into_iter()
        .map(|r| {
            let date = crate::domain::dates::parse_date(&r.1).ok_or_else(|| bad("date", &r.1))?;
            let at = crate::domain::dates::parse_instant(&r.2, utc)
                .map(|t| t.naive_utc())
                .ok_or_else(|| bad("time", &r.2))?;
            Ok((
                r.0, date, at, r.3, r.4, r.5, r.6, r.7, r.8, r.9, r.10, r.11, r.12, r.13, r.14,
                r.15,
            ))
        })
        .collect()
}

/// What [`check_stored`] carries from one entry to the next.
#[derive(Default)]
pub(crate) struct Running {
    /// Each account's sum of postings so far.
    sums: HashMap<String, i64>,
    /// Each account name met, parsed once (`None`: not of the chart).
    chart: HashMap<String, Option<rules::Account>>,
    /// Each available budget's flows so far.
    flows: HashMap<String, rules::Flows>,
    /// Entries that a later reversal names (kind and lines), kept until it is checked.
    kept: HashMap<i64, (String, Vec<Line>)>,
    /// Each contract's money so far, and the entry that last moved it.
    contracts: HashMap<i64, (crate::domain::contract::Progress, i64)>,
    /// Each instalment's disbursements less their reversals.
    paid: HashMap<i64, i64>,
}

/// Recompute the whole ledger from its first entry: every hash and link, no gap in the sequence numbers,
/// every entry balanced and of its kind's shape, every account on its side of zero after every entry, the
/// available budget of each bucket = appropriated − reserved − committed + released ≥ 0, for each
/// contract paid ≤ accrued ≤ committed ≤ its amount and each instalment paid at most once, and the stored
/// balances equal to the sums of the postings. Stops at the first bad entry and names it.
///
/// One pass in pages of [`VERIFY_PAGE`] entries; the entries a reversal names are found first (one read of
/// the unique index on `reverses_seq`) and kept in memory until their reversal comes, so a reversal costs
/// no query. The per-entry rules are all in [`check_stored`].
pub fn verify(conn: &mut DbConn) -> Result<LedgerReport, AppError> {
    let mut v = chain::Verifier::new();
    let mut run = Running::default();
    let targets: HashSet<i64> = le::table
        .filter(le::reverses_seq.is_not_null())
        .select(le::reverses_seq.assume_not_null())
        .load::<i64>(conn)?
        .into_iter()
        .collect();
    let first = v.expected_seq();
    // One thread reads and decodes pages while this one hashes and checks them: the two halves of the work
    // are of about the same size, and a server has a second core.
    let bad = std::thread::scope(|scope| -> Result<Option<(i64, String)>, AppError> {
        let (tx, rx) = std::sync::mpsc::sync_channel::<QueryResult<Vec<Stored>>>(2);
        let (reader_conn, targets) = (&mut *conn, &targets);
        scope.spawn(move || read_pages(reader_conn, targets, first, tx));
        for page in rx {
            for s in page? {
                let before = (v.head_seq, v.head_hash.clone());
                if !v.push(&s) {
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
                    return Ok(Some((b.seq(), what)));
                }
                if let Err(what) = check_stored(&s, &mut run) {
                    // The entry's hash held, but it breaks a rule: it is not counted as good.
                    v.count -= 1;
                    (v.head_seq, v.head_hash) = before;
                    return Ok(Some((s.e.seq, what)));
                }
                if targets.contains(&s.e.seq) {
                    run.kept.insert(s.e.seq, (s.e.kind, s.lines));
                }
            }
        }
        Ok(None)
    })?;
    let mut bad = bad;
    let mut sums = run.sums;
    let mut accounts = 0;
    if bad.is_none() {
        // Each contract's commitment within its amount.
        let ids: Vec<i64> = run.contracts.keys().copied().collect();
        for chunk in ids.chunks(500) {
            let amounts: Vec<(i64, i64)> = crate::db::schema::contracts::table
                .filter(crate::db::schema::contracts::id.eq_any(chunk))
                .select((
                    crate::db::schema::contracts::id,
                    crate::db::schema::contracts::amount_fen,
                ))
                .load(conn)?;
            if let Some((cid, amount)) = amounts
                .into_iter()
                .find(|(cid, amount)| run.contracts[cid].0.committed > *amount)
            {
                let (p, last) = run.contracts[&cid];
                bad = Some((
                    last,
                    format!(
                        "contract {cid} has {} committed, more than its amount {} (paid_le_accrued_le_committed_le_amount)",
                        crate::money::yuan(p.committed),
                        crate::money::yuan(amount)
                    ),
                ));
                break;
            }
        }
    }
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

/// The rules of one stored entry, in order, carrying the running sums and budget flows: the one place
/// where `verify` checks an entry; `Err(what)` when it breaks a rule.
fn check_stored(s: &Stored, run: &mut Running) -> Result<(), String> {
    let e = &s.e;
    let Some(kind) = Kind::parse(&e.kind) else {
        return Err(format!("unknown kind {:?}", e.kind));
    };
    // A reversal is checked against the entry it negates, and counts against that entry's flows.
    let (reversed, flow_kind) = match (kind, e.reverses_seq) {
        (Kind::Reversal, Some(r)) if r < e.seq => {
            let Some((k, lines)) = run.kept.remove(&r).or_else(|| s.reversed.clone()) else {
                return Err(format!(
                    "entry {r}, which it reverses, was reversed before (reversed_once)"
                ));
            };
            (Some(lines), Kind::parse(&k).unwrap_or(Kind::Reversal))
        }
        _ => (None, kind),
    };
    let lines = &s.lines;
    for l in lines {
        if !run.chart.contains_key(l.account.as_str()) {
            run.chart
                .insert(l.account.clone(), rules::Account::parse(&l.account));
        }
    }
    let parsed: Vec<Option<&rules::Account>> = lines
        .iter()
        .map(|l| run.chart.get(l.account.as_str()).and_then(Option::as_ref))
        .collect();
    if let Err(r) = rules::check_entry_parsed(
        kind,
        &e.memo,
        &e.refs(),
        lines,
        &parsed,
        reversed.as_deref(),
    ) {
        return Err(format!("{} ({})", r.en, r.rule));
    }
    for (i, (l, a)) in lines.iter().zip(&parsed).enumerate() {
        let sum = match run.sums.get_mut(l.account.as_str()) {
            Some(x) => x,
            None => run.sums.entry(l.account.clone()).or_insert(0),
        };
        *sum = sum.saturating_add(l.amount);
        let sum = *sum;
        // Every account is of the chart here: check_entry_parsed refused any other.
        let Some(a) = a else { continue };
        if let Err(r) = rules::check_side_parsed(&l.account, a, sum, i) {
            return Err(format!("{} ({})", r.en, r.rule));
        }
        if a.is_available() {
            let f = match run.flows.get_mut(l.account.as_str()) {
                Some(f) => f,
                None => run.flows.entry(l.account.clone()).or_default(),
            };
            rules::add_flow(f, flow_kind, l.amount);
            if rules::available(*f) != Some(sum) {
                return Err(format!(
                    "the available budget {} breaks appropriated − reserved − committed + released ≥ 0 (available_non_negative)",
                    l.account
                ));
            }
        }
    }
    // Per contract: paid ≤ accrued ≤ committed, each instalment paid at most once (the contract amount is
    // compared at the end, from the contracts table).
    if let Some(cid) = e.contract_id {
        let (p, last) = run.contracts.entry(cid).or_default();
        *last = e.seq;
        for (l, a) in lines.iter().zip(&parsed) {
            if let Some(a) = a {
                p.add_posting(a, l.amount);
            }
        }
        let ok = 0 <= p.paid && p.paid <= p.accrued && p.accrued <= p.committed;
        if !ok {
            return Err(format!(
                "contract {cid} breaks paid ≤ accrued ≤ committed (paid {}, accrued {}, committed {}; paid_le_accrued_le_committed_le_amount)",
                crate::money::yuan(p.paid),
                crate::money::yuan(p.accrued),
                crate::money::yuan(p.committed)
            ));
        }
    }
    if flow_kind == Kind::Disbursement
        && let Some(i) = e.instalment_id
    {
        let n = run.paid.entry(i).or_insert(0);
        *n += if kind == Kind::Reversal { -1 } else { 1 };
        if *n > 1 {
            return Err(format!("instalment {i} is paid twice (paid_once)"));
        }
    }
    Ok(())
}

/// The reader half of [`verify`]: pages of entries from `from` on, in order, until the end, an error, or
/// the checker hanging up. A reversal of an entry not in `targets` (the reversed entries when verification
/// began) brings that entry along.
fn read_pages(
    conn: &mut DbConn,
    targets: &HashSet<i64>,
    mut from: i64,
    tx: SyncSender<QueryResult<Vec<Stored>>>,
) {
    loop {
        let page = load_stored(conn, from, VERIFY_PAGE).and_then(|mut page| {
            for s in &mut page {
                if let Some(r) = s.e.reverses_seq.filter(|r| !targets.contains(r)) {
                    s.reversed = load_range(conn, r, 1)?
                        .into_iter()
                        .find(|o| o.seq == r)
                        .map(|o| (o.kind.clone(), o.lines()));
                }
            }
            Ok(page)
        });
        let next = match &page {
            Ok(p) => p.last().map(|s| s.e.seq + 1),
            Err(_) => None,
        };
        if tx.send(page).is_err() {
            return;
        }
        match next {
            Some(n) => from = n,
            None => return,
        }
    }
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

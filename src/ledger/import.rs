//! Bulk import: many entries through the same checks, balances and chain as [`super::post`], a batch per
//! write transaction (docs/LEDGER.md, "Bulk import and speed").
//!
//! Each batch takes the chain locks once, refuses a key already in the ledger (one query per few thousand
//! keys), then appends its entries one by one through [`Pending::append`], the function `post` uses: the
//! same `domain::ledger::check_entry`, the same balances on their sides of zero (the available budget never
//! below zero), the same sequence numbers and hashes, with the head and the touched balances kept in
//! memory. It then writes the entries and postings with multi-row INSERTs and each touched balance once.
//! An entry refused refuses its whole batch: nothing of the batch is written, earlier batches stay, and the
//! error names the entry (`entries[i]`, its index in the whole import, and its key) and the rule.

use chrono::{DateTime, Utc};
use diesel::connection::SimpleConnection;
use diesel::prelude::*;

use super::{NewEntry, Pending, duplicate_key, request_hash};
use crate::audit::Actor;
use crate::chain;
use crate::db::DbConn;
use crate::db::schema::ledger_entries as le;
use crate::error::{AppError, FieldError, Msg};

/// What [`import`] wrote.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImportReport {
    /// Entries written.
    pub entries: u64,
    /// Write transactions committed.
    pub batches: u64,
    /// The ledger's head after the import.
    pub head: super::Digest,
}

/// The page cache of an importing SQLite connection (KiB, negative as SQLite takes it), and the default.
const BIG_CACHE: &str = "PRAGMA cache_size = -262144;";
const DEFAULT_CACHE: &str = "PRAGMA cache_size = -2000;";
/// Fresh statistics for PostgreSQL's planner after a bulk import.
const ANALYZE: &str = "ANALYZE ledger_entries, ledger_postings, ledger_balances;";

/// Keys looked up per query (bound variables).
const KEYS_PER_QUERY: usize = 5_000;

/// Import `entries` in write transactions of `batch` entries each (at least 1), as [`super::post`] would
/// post them one by one: the same rules, balances, sequence numbers and hashes. An idempotency key used
/// before (in the ledger or earlier in the import) is refused, not replayed. Stops at the first batch
/// refused; the batches before it are written.
pub fn import(
    conn: &mut DbConn,
    actor: &Actor,
    now: DateTime<Utc>,
    entries: impl IntoIterator<Item = NewEntry>,
    batch: usize,
) -> Result<ImportReport, AppError> {
    let batch = batch.max(1);
    let mut it = entries.into_iter();
    let (mut done, mut batches) = (0u64, 0u64);
    // SQLite: the entries' key and reference indexes take their inserts all over their trees; with the
    // default 2 MiB page cache a large import spills and re-reads them. A bigger cache for this connection while it
    // imports, the default again after.
    let sqlite = matches!(conn, DbConn::Sqlite(_));
    if sqlite {
        conn.batch_execute(BIG_CACHE)?;
    }
    let mut run = || -> Result<(), AppError> {
        loop {
            let chunk: Vec<NewEntry> = it.by_ref().take(batch).collect();
            if chunk.is_empty() {
                return Ok(());
            }
            import_batch(conn, actor, now, &chunk, done)?;
            done += chunk.len() as u64;
            batches += 1;
        }
    };
    let r = run();
    if sqlite {
        conn.batch_execute(DEFAULT_CACHE)?;
    } else if done > 0 {
        // PostgreSQL plans from statistics that autovacuum refreshes only later: until then a contract's
        // postings (a join through ledger_entries_contract) were read by a scan of every posting, some
        // 90 ms a payment at a million entries instead of 0.05 ms.
        conn.batch_execute(ANALYZE)?;
    }
    r?;
    Ok(ImportReport {
        entries: done,
        batches,
        head: super::digest(conn)?,
    })
}

/// One batch in one write transaction; `offset` is the index of its first entry in the import.
fn import_batch(
    conn: &mut DbConn,
    actor: &Actor,
    now: DateTime<Utc>,
    chunk: &[NewEntry],
    offset: u64,
) -> Result<(), AppError> {
    let mut keyed = Vec::with_capacity(chunk.len());
    for (i, n) in chunk.iter().enumerate() {
        let key = crate::idempotency::check_key(&n.idem_key)
            .map_err(|e| at(offset + i as u64, n, e))?
            .to_string();
        keyed.push((key, request_hash(n)));
    }
    crate::db::write_tx(conn, |c| {
        // The locks of `post`, in its order.
        chain::AUDIT.lock(c)?;
        chain::LEDGER.lock(c)?;
        let mut used: Vec<(String, i64)> = Vec::new();
        for keys in keyed.chunks(KEYS_PER_QUERY) {
            let keys: Vec<&str> = keys.iter().map(|(k, _)| k.as_str()).collect();
            used.extend(
                le::table
                    .filter(le::idem_key.eq_any(keys))
                    .select((le::idem_key, le::seq))
                    .load::<(String, i64)>(c)?,
            );
        }
        if !used.is_empty() {
            let (i, (key, _)) = keyed
                .iter()
                .enumerate()
                .find(|(_, (k, _))| used.iter().any(|(u, _)| u == k))
                .expect("a key found is one of the batch's");
            let seq = used.iter().find(|(u, _)| u == key).map_or(0, |u| u.1);
            return Err(at(offset + i as u64, &chunk[i], duplicate_key(key, seq)));
        }
        let mut pending = Pending::begin(c)?;
        for (i, (n, (key, rhash))) in chunk.iter().zip(keyed).enumerate() {
            pending
                .append(c, actor, now, n, key, rhash)
                .map_err(|e| at(offset + i as u64, n, e))?;
        }
        pending.write(c)?;
        Ok(())
    })
}

/// A refusal of entry `i` of the import, naming it: its fields as `entries[i].…`, its index and key in
/// the message.
fn at(i: u64, n: &NewEntry, e: AppError) -> AppError {
    let (zh, en) = (
        format!("导入的第 {i} 笔分录（键 {:?}）：", n.idem_key),
        format!("Entry {i} of the import (key {:?}): ", n.idem_key),
    );
    match e {
        AppError::Validation(errs) => AppError::Validation(
            errs.into_iter()
                .map(|f| FieldError {
                    field: format!("entries[{i}].{}", f.field),
                    rule: f.rule,
                    message: Msg::new(zh.clone() + &f.message.zh, en.clone() + &f.message.en),
                })
                .collect(),
        ),
        AppError::Conflict { code, msg } => AppError::Conflict {
            code,
            msg: Msg::new(zh + &msg.zh, en + &msg.en),
        },
        other => other,
    }
}

//! The ledger for other tools: the journal that ledger-cli and hledger read with the same balances as the
//! trial balance (DESIGN.md, "Finance interoperability"), and the trial balance as CSV.
//!
//! Journal format: a header comment with the digest, `commodity CNY`, one `account` declaration per account
//! of the ledger (so `hledger check --strict` holds), then each entry as
//! `2026-01-05 * (L000001) memo` with its metadata on `; key: value` lines and postings indented by four
//! spaces, two spaces before `CNY 1500000.00` (negative `CNY -1500000.00`).

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use super::{Entry, TrialBalance};
use crate::db::DbConn;
use crate::db::schema::ledger_balances as lb;
use crate::error::AppError;

/// Text of a memo safe on one journal line: no line breaks, no `;` (which starts a comment), single spaces.
fn one_line(s: &str) -> String {
    s.replace(';', "；")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// `CNY 1500000.00` / `CNY -1500000.00`.
pub fn amount(fen: i64) -> String {
    format!("CNY {}", crate::money::yuan(fen))
}

/// Append one entry in journal form.
pub fn write_entry(out: &mut String, e: &Entry) {
    use std::fmt::Write;
    let _ = writeln!(
        out,
        "{} * (L{:06}) {}",
        e.entry_date.format("%Y-%m-%d"),
        e.seq,
        one_line(&e.memo)
    );
    let _ = writeln!(out, "    ; seq: {}", e.seq);
    let _ = writeln!(out, "    ; kind: {}", e.kind);
    for (k, v) in [
        ("appropriation", e.appropriation_id),
        ("tender", e.tender_id),
        ("contract", e.contract_id),
        ("instalment", e.instalment_id),
        ("reverses", e.reverses_seq),
    ] {
        if let Some(v) = v {
            let _ = writeln!(out, "    ; {k}: {v}");
        }
    }
    let _ = writeln!(out, "    ; author: {}", one_line(&e.author_name));
    let _ = writeln!(out, "    ; hash: {}", e.hash);
    for p in &e.postings {
        let _ = writeln!(out, "    {}  {}", p.account, amount(p.amount_fen));
    }
    out.push('\n');
}

/// The whole ledger as a journal, read in pages.
pub fn journal(conn: &mut DbConn, now: DateTime<Utc>) -> Result<String, AppError> {
    let digest = super::digest(conn)?;
    let accounts: Vec<String> = lb::table
        .order(lb::account.asc())
        .select(lb::account)
        .load(conn)?;
    let mut out = String::new();
    out.push_str("; 三社 Sanshe fund ledger journal (ledger-cli / hledger)\n");
    out.push_str(&format!(
        "; exported {} · digest {}\n; amounts in CNY; debit positive, credit negative; chart of accounts: docs/LEDGER.md\n\n",
        now.format("%Y-%m-%dT%H:%M:%SZ"),
        digest.text()
    ));
    out.push_str("commodity CNY\n\n");
    for a in &accounts {
        out.push_str(&format!("account {a}\n"));
    }
    out.push('\n');
    let mut next = 1;
    loop {
        let page = super::load_range(conn, next, 1000)?;
        let Some(last) = page.last() else { break };
        next = last.seq + 1;
        for e in &page {
            if e.seq > digest.seq {
                // Entries posted while exporting belong to a later digest.
                return Ok(out);
            }
            write_entry(&mut out, e);
        }
    }
    Ok(out)
}

/// The header of the trial balance CSV.
pub const TRIAL_BALANCE_HEADER: &[&str] = &[
    "科目 Account",
    "借方 Debit (CNY)",
    "贷方 Credit (CNY)",
    "笔数 Postings",
];

/// The trial balance as CSV (UTF-8 with BOM, CRLF; cells a spreadsheet would run are neutralised), with a
/// total row and the digest it was read at.
pub fn trial_balance_csv(tb: &TrialBalance) -> String {
    let rows = tb
        .rows
        .iter()
        .map(|r| {
            vec![
                r.account.clone(),
                r.debit.clone(),
                r.credit.clone(),
                r.postings.to_string(),
            ]
        })
        .chain([
            vec![
                "合计 Total".to_string(),
                tb.total_debit.clone(),
                tb.total_credit.clone(),
                String::new(),
            ],
            vec![
                format!("账本摘要 Ledger digest {}", tb.digest.text()),
                String::new(),
                String::new(),
                String::new(),
            ],
        ]);
    crate::registry::import::csv_document(TRIAL_BALANCE_HEADER, rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memo_and_amounts_fit_one_line() {
        assert_eq!(one_line("a;b\n  c"), "a；b c");
        assert_eq!(amount(150_000_050), "CNY 1500000.50");
        assert_eq!(amount(-5), "CNY -0.05");
    }
}

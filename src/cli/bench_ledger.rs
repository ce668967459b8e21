//! `sanshe bench-ledger` (hidden; driven by scripts/bench-ledger): on an empty database, seed the demo,
//! record a budget per year, fund and field, import a synthetic ledger ([`crate::ledger::synthetic`]) through
//! [`crate::ledger::import`], insert the same rows again with plain INSERT statements into bare copies of the tables
//! (the raw baseline), then time the trial balance, a full [`crate::ledger::verify`] and the journal export.
//! Prints one `name value` line per figure; the script makes the table, runs ledger-cli and hledger on the
//! journal and checks the targets.

use std::fmt::Write as _;
use std::io::Write;
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::prelude::*;

use crate::audit::Actor;
use crate::db::DbConn;
use crate::db::schema::{ledger_balances as lb, ledger_postings as lp, tenders, users};
use crate::domain::ledger::{Account, Bucket, Stage};
use crate::ledger::appropriations::{self, NewAppropriation, Yuan};
use crate::ledger::synthetic::{Budget, Synthetic};

/// What to run.
#[derive(Clone, Debug)]
pub struct Options {
    pub entries: u64,
    pub batch: usize,
    pub seed: u64,
    /// Where to write the exported journal (none: exported and timed, not kept).
    pub journal: Option<std::path::PathBuf>,
    /// Skip the raw-insert baseline.
    pub no_raw: bool,
}

/// The budget years of the synthetic ledger.
const YEARS: std::ops::RangeInclusive<i32> = 2022..=2026;
/// The service fields with a budget of their own (and one budget of any field per year and fund).
const FIELDS: &[&str] = &["elderly", "youth", "disability", "relief"];

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

/// Run the benchmark on `c`, printing figures to `out`. `seed_demo` loads the demo data set into the empty
/// database (the wiring in `cli` holds what that needs) and `live_contracts`, called once the budgets are
/// recorded, adds running contracts on them; `ledger` are the fund sources; `now` the clock.
pub fn run(
    c: &mut DbConn,
    ledger: &crate::ledger::Settings,
    now: chrono::DateTime<chrono::Utc>,
    seed_demo: impl FnOnce(&mut DbConn) -> Result<(), String>,
    live_contracts: impl FnOnce(&mut DbConn) -> Result<usize, String>,
    o: &Options,
    out: &mut dyn Write,
) -> Result<(), String> {
    let users_before: i64 = users::table.count().get_result(c).map_err(err)?;
    if users_before > 0 {
        return Err("bench-ledger needs an empty database (it seeds the demo data)".into());
    }
    let t = Instant::now();
    seed_demo(c)?;
    let finance: (i64, String) = users::table
        .filter(users::username.eq("finance"))
        .select((users::id, users::username))
        .first(c)
        .map_err(err)?;
    let actor = Actor {
        id: Some(finance.0),
        name: finance.1,
        request_id: None,
    };
    // A budget per year, fund and field, recorded as finance would (each posts its appropriation).
    let mut budgets = Vec::new();
    for year in YEARS {
        for fund in &ledger.funds {
            for field in FIELDS.iter().map(|f| Some(*f)).chain([None]) {
                appropriations::create(
                    c,
                    ledger,
                    &actor,
                    now,
                    &NewAppropriation {
                        year,
                        fund: fund.code.clone(),
                        field: field.map(str::to_string),
                        amount: Yuan::Text("2000000000.00".into()),
                        document_no: format!("BENCH〔{year}〕{}号", budgets.len() + 1),
                        note: Some("bench-ledger".into()),
                        date: Some(format!("{year}-01-05")),
                        idempotency_key: format!(
                            "bench-{year}-{}-{}",
                            fund.code,
                            field.unwrap_or("common")
                        ),
                    },
                )
                .map_err(err)?;
                let bucket = Bucket {
                    year,
                    fund: fund.code.clone(),
                    field: field.map(str::to_string),
                };
                let available: i64 = lb::table
                    .find(Account::Budget(Stage::Available, bucket.clone()).name())
                    .select(lb::balance_fen)
                    .first(c)
                    .map_err(err)?;
                budgets.push(Budget {
                    bucket,
                    available_fen: available,
                });
            }
        }
    }
    // Running contracts on those budgets, for the live payments that follow the import.
    let live = live_contracts(c)?;
    let tender_ids: Vec<i64> = tenders::table
        .select(tenders::id)
        .order(tenders::id)
        .load(c)
        .map_err(err)?;
    let head = crate::ledger::digest(c).map_err(err)?.seq;
    line(out, "setup_seconds", secs(t.elapsed()))?;
    line(out, "budgets", budgets.len())?;
    line(out, "tenders", tender_ids.len())?;
    line(out, "live_contracts", live)?;
    let synthetic = || {
        Synthetic::new(
            o.seed,
            budgets.clone(),
            tender_ids.clone(),
            head,
            o.entries,
            "bench",
        )
    };

    // Generating alone, to tell it apart from the import (which generates as it goes).
    let t = Instant::now();
    let generated = synthetic().count();
    line(out, "generate_rate", rate(generated as u64, t.elapsed()))?;

    let t = Instant::now();
    let report = crate::ledger::import(c, &actor, now, synthetic(), o.batch).map_err(err)?;
    let import_d = t.elapsed();
    let postings: i64 = lp::table
        .filter(lp::entry_seq.gt(head))
        .count()
        .get_result(c)
        .map_err(err)?;
    line(out, "entries", report.entries)?;
    line(out, "postings", postings)?;
    line(out, "batches", report.batches)?;
    line(out, "import_seconds", secs(import_d))?;
    line(out, "import_rate", rate(report.entries, import_d))?;

    if !o.no_raw {
        let (n, d) = raw_baseline(c, head, o.batch).map_err(err)?;
        line(out, "raw_seconds", secs(d))?;
        line(out, "raw_rate", rate(n, d))?;
    }

    // The trial balance: the median of 25 reads after one to warm up.
    crate::ledger::trial_balance(c).map_err(err)?;
    let mut times = Vec::new();
    let mut accounts = 0;
    for _ in 0..25 {
        let t = Instant::now();
        let tb = crate::ledger::trial_balance(c).map_err(err)?;
        times.push(t.elapsed());
        accounts = tb.rows.len();
    }
    times.sort();
    line(out, "accounts", accounts)?;
    line(out, "trial_balance_ms", ms(times[times.len() / 2]))?;

    for run in 1..=2 {
        let t = Instant::now();
        let r = crate::ledger::verify(c).map_err(err)?;
        let d = t.elapsed();
        if !r.ok {
            return Err(format!(
                "verify found the ledger broken: {}",
                r.error.unwrap_or_default()
            ));
        }
        line(out, &format!("verify_seconds_{run}"), secs(d))?;
        line(out, "verified_entries", r.entries)?;
    }

    let t = Instant::now();
    let journal = crate::ledger::export::journal(c, now).map_err(err)?;
    line(out, "export_seconds", secs(t.elapsed()))?;
    line(out, "journal_bytes", journal.len())?;
    if let Some(path) = &o.journal {
        std::fs::write(path, journal).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    Ok(())
}

/// Seconds with microseconds, from the clock's integer count (no float in between).
fn secs(d: Duration) -> String {
    format!("{}.{:06}", d.as_secs(), d.subsec_micros())
}

/// Milliseconds with microseconds.
fn ms(d: Duration) -> String {
    format!("{}.{:03}", d.as_millis(), d.subsec_micros() % 1000)
}

/// Per second, whole.
fn rate(n: u64, d: Duration) -> u128 {
    u128::from(n) * 1_000_000 / d.as_micros().max(1)
}

fn line(out: &mut dyn Write, name: &str, v: impl std::fmt::Display) -> Result<(), String> {
    writeln!(out, "{name} {v}").map_err(err)?;
    out.flush().map_err(err)
}

/// SQL text of a value.
fn lit_text(out: &mut String, s: &str) {
    out.push('\'');
    out.push_str(&s.replace('\'', "''"));
    out.push('\'');
}

fn lit_opt(out: &mut String, v: Option<i64>) {
    match v {
        Some(n) => {
            let _ = write!(out, "{n}");
        }
        None => out.push_str("NULL"),
    }
}

/// The raw baseline: the rows the import wrote (entries after `head`), inserted again as plain multi-row
/// INSERT statements, `batch` entries per transaction, into bare copies of the two tables with the same
/// keys and indexes (no triggers, no foreign keys). The statements are made before the clock starts.
/// Returns (entries, time taken).
fn raw_baseline(c: &mut DbConn, head: i64, batch: usize) -> Result<(u64, Duration), String> {
    c.batch_execute(
        "DROP TABLE IF EXISTS bench_raw_postings; DROP TABLE IF EXISTS bench_raw_entries;
         CREATE TABLE bench_raw_entries AS SELECT * FROM ledger_entries WHERE 1 = 0;
         CREATE TABLE bench_raw_postings AS SELECT * FROM ledger_postings WHERE 1 = 0;
         CREATE UNIQUE INDEX bench_raw_entries_seq ON bench_raw_entries (seq);
         CREATE UNIQUE INDEX bench_raw_entries_key ON bench_raw_entries (idem_key);
         CREATE UNIQUE INDEX bench_raw_entries_reverses ON bench_raw_entries (reverses_seq);
         CREATE INDEX bench_raw_entries_appropriation ON bench_raw_entries (appropriation_id);
         CREATE INDEX bench_raw_entries_tender ON bench_raw_entries (tender_id);
         CREATE INDEX bench_raw_entries_contract ON bench_raw_entries (contract_id);
         CREATE INDEX bench_raw_entries_author ON bench_raw_entries (author_id);
         CREATE UNIQUE INDEX bench_raw_postings_pk ON bench_raw_postings (entry_seq, line);",
    )
    .map_err(err)?;
    let mut statements: Vec<String> = Vec::new();
    let mut from = head + 1;
    let mut n = 0u64;
    loop {
        let page = crate::ledger::load_stored(c, from, batch.max(1) as i64).map_err(err)?;
        let Some(last) = page.last() else { break };
        from = last.e.seq + 1;
        n += page.len() as u64;
        let mut sql = String::from("BEGIN;\n");
        for rows in page.chunks(500) {
            sql.push_str("INSERT INTO bench_raw_entries (seq, entry_date, posted_at, kind, memo, appropriation_id, tender_id, contract_id, instalment_id, reverses_seq, idem_key, request_hash, author_id, author_name, prev_hash, hash) VALUES\n");
            for (i, s) in rows.iter().enumerate() {
                let e = &s.e;
                let _ = write!(
                    sql,
                    "{}({}, '{}', '{}', ",
                    if i > 0 { ",\n" } else { "" },
                    e.seq,
                    e.entry_date.format("%Y-%m-%d"),
                    e.posted_at.format("%Y-%m-%d %H:%M:%S%.6f")
                );
                lit_text(&mut sql, &e.kind);
                sql.push_str(", ");
                lit_text(&mut sql, &e.memo);
                for v in [
                    e.appropriation_id,
                    e.tender_id,
                    e.contract_id,
                    e.instalment_id,
                    e.reverses_seq,
                ] {
                    sql.push_str(", ");
                    lit_opt(&mut sql, v);
                }
                sql.push_str(", ");
                lit_text(&mut sql, &e.idem_key);
                sql.push_str(", ");
                lit_text(&mut sql, &e.request_hash);
                sql.push_str(", ");
                lit_opt(&mut sql, e.author_id);
                for t in [&e.author_name, &e.prev_hash, &e.hash] {
                    sql.push_str(", ");
                    lit_text(&mut sql, t);
                }
                sql.push(')');
            }
            sql.push_str(";\n");
        }
        let lines: Vec<(i64, usize, &crate::domain::ledger::Line)> = page
            .iter()
            .flat_map(|s| s.lines.iter().enumerate().map(|(i, l)| (s.e.seq, i, l)))
            .collect();
        for rows in lines.chunks(1000) {
            sql.push_str(
                "INSERT INTO bench_raw_postings (entry_seq, line, account, amount_fen) VALUES\n",
            );
            for (i, (seq, line, l)) in rows.iter().enumerate() {
                let _ = write!(sql, "{}({seq}, {line}, ", if i > 0 { ",\n" } else { "" });
                lit_text(&mut sql, &l.account);
                let _ = write!(sql, ", {})", l.amount);
            }
            sql.push_str(";\n");
        }
        sql.push_str("COMMIT;\n");
        statements.push(sql);
    }
    let t = Instant::now();
    for sql in &statements {
        c.batch_execute(sql).map_err(err)?;
    }
    let elapsed = t.elapsed();
    let copied: i64 = diesel::sql_query("SELECT COUNT(*) AS n FROM bench_raw_entries")
        .get_result::<Count>(c)
        .map_err(err)?
        .n;
    c.batch_execute("DROP TABLE bench_raw_postings; DROP TABLE bench_raw_entries;")
        .map_err(err)?;
    if copied as u64 != n {
        return Err(format!("the raw baseline wrote {copied} entries, not {n}"));
    }
    Ok((n, elapsed))
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

//! The command line: `serve` (default), `migrate`, `seed --demo`, `user create`, `verify`, `checkpoint`.

mod bench_ledger;
mod bench_people;

use std::io::{BufRead, IsTerminal};
use std::sync::Arc;

use clap::{Parser, Subcommand};

use crate::config::{Config, ConfigArgs};

#[derive(Parser, Debug)]
#[command(
    name = "sanshe",
    version,
    about = "三社 Sanshe: incubation-base registry, purchase-of-service tenders, fund ledger and reports for a district civil-affairs bureau",
    long_about = "三社 Sanshe serves a web UI and a JSON API for a district civil-affairs bureau.\n\
                  Every option can also be set in the environment (or in a .env file in the working directory);\n\
                  see .env.example. Without DATABASE_URL the database is SQLite in DATA_DIR/sanshe.db."
)]
pub struct Cli {
    #[command(flatten)]
    pub config: ConfigArgs,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand, Debug)]
pub enum ReportCommand {
    /// The district's 三社联动 report: a year (or a quarter of it), or months --from to --to; optionally one
    /// street. The bureau's text for sections 4 and 5 is the one saved for the same period on the web.
    ThreeSociety {
        #[arg(long)]
        year: Option<i32>,
        /// 1 to 4, with --year.
        #[arg(long)]
        quarter: Option<u32>,
        /// First month, YYYY-MM.
        #[arg(long)]
        from: Option<String>,
        /// Last month, YYYY-MM.
        #[arg(long)]
        to: Option<String>,
        /// A street's id.
        #[arg(long)]
        street: Option<i64>,
        /// Where to write the PDF.
        #[arg(long, value_name = "FILE")]
        out: std::path::PathBuf,
    },
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the web server (the default): applies migrations, starts the mail worker, listens on SANSHE_LISTEN.
    Serve {
        /// Seed the demo data set when the database has no users yet, and print the demo sign-ins.
        #[arg(long)]
        demo: bool,
    },
    /// Apply pending database migrations and exit.
    Migrate,
    /// Load a data set into an empty database.
    Seed {
        /// The demo data set (accounts admin, bureau, finance, evaluator1–5).
        #[arg(long, required = true)]
        demo: bool,
    },
    /// Generate a report as a PDF file.
    Report {
        #[command(subcommand)]
        report: ReportCommand,
    },
    /// Manage user accounts.
    User {
        #[command(subcommand)]
        action: UserCommand,
    },
    /// Check the integrity of the audit chain, the fund ledger (every hash from the first entry, no gap in
    /// the sequence numbers, every entry balanced and of its kind's shape, the available budget never below
    /// zero, stored balances equal to the sums of the postings), every signed checkpoint (its signature, and
    /// that the chain still has the signed entry with the signed hash), every opened bid against its
    /// commitment and every stored file against its hash (each sealed bid file opened); exits 1 when
    /// anything is broken, naming the first bad sequence number or the bad file.
    Verify {
        /// Also check the checkpoints in this file, a copy kept outside the database (one checkpoint as the
        /// API or an auditor's e-mail gives it, a list of them, or a page of GET /api/v1/checkpoints).
        /// May be given more than once.
        #[arg(long = "checkpoint", value_name = "FILE")]
        checkpoints: Vec<std::path::PathBuf>,
        /// Also say whether today's ledger still extends this digest printed earlier (SEQ:HASH, as on
        /// every finance page and report): it must still hold entry SEQ with hash HASH. May be repeated.
        #[arg(long = "digest", value_name = "SEQ:HASH")]
        digests: Vec<String>,
    },
    /// Sign the head of a hash chain now (a checkpoint), store it, mail it to SANSHE_AUDITOR_EMAILS, and
    /// print it as JSON (keep a copy: `sanshe verify --checkpoint FILE` checks the chain against it).
    Checkpoint {
        /// The chain to sign: audit or ledger.
        #[arg(long, default_value = "audit")]
        chain: String,
    },
    /// Benchmark of the fund ledger on an empty database (scripts/bench-ledger): seeds the demo, imports a
    /// synthetic ledger through the live rules, times the raw baseline, the trial balance, verify and the
    /// journal export, and prints `name value` lines.
    #[command(hide = true)]
    BenchLedger {
        /// Journal entries to import.
        #[arg(long, default_value_t = 1_000_000)]
        entries: u64,
        /// Entries per write transaction.
        #[arg(long, default_value_t = 10_000)]
        batch: usize,
        /// Seed of the synthetic ledger.
        #[arg(long, default_value_t = 2026)]
        seed: u64,
        /// Write the exported journal here.
        #[arg(long, value_name = "FILE")]
        journal: Option<std::path::PathBuf>,
        /// Skip the raw-insert baseline.
        #[arg(long)]
        no_raw: bool,
        /// Awarded projects added to the demo, with running contracts, so the live payments have
        /// hundreds of instalments to pay.
        #[arg(long, default_value_t = 250)]
        live: usize,
    },
    /// Benchmark of people served on an empty database (scripts/bench-people): seeds the demo without its
    /// people, generates people and participations under its most recent signed contracts, times the
    /// district overview, activity saves and an attendance import, and prints `name value` lines.
    #[command(hide = true)]
    BenchPeople {
        #[arg(long, default_value_t = 100)]
        contracts: usize,
        #[arg(long, default_value_t = 60_000)]
        people: u64,
        #[arg(long, default_value_t = 1_000_000)]
        participations: u64,
        #[arg(long, default_value_t = 20)]
        overview_runs: usize,
        #[arg(long, default_value_t = 500)]
        saves: usize,
        #[arg(long, default_value_t = 100_000)]
        import_rows: usize,
        #[arg(long, default_value_t = 2026)]
        seed: u64,
    },
}

#[derive(Subcommand, Debug)]
pub enum UserCommand {
    /// Create a user. The password is read from SANSHE_NEW_PASSWORD, else from standard input (one line);
    /// on a terminal with neither, a random password is generated and printed once.
    Create {
        #[arg(long)]
        username: String,
        /// admin, bureau, evaluator, finance or org.
        #[arg(long)]
        role: String,
        /// The organisation id (required for role org).
        #[arg(long)]
        org: Option<i64>,
        /// Display name (default: the username).
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        email: Option<String>,
    },
}

pub fn init_logging() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env("SANSHE_LOG")
        .or_else(|_| EnvFilter::try_from_default_env())
        .unwrap_or_else(|_| EnvFilter::new("info,actix_server=warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .try_init();
}

/// Parse the command line and run; returns the process exit code.
pub fn main() -> i32 {
    // A .env file in the working directory is optional; real environment variables win over it.
    let _ = dotenvy::dotenv();
    let cli = Cli::parse();
    init_logging();
    let config = match cli.config.resolve() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("sanshe: configuration error: {e}");
            return 2;
        }
    };
    match run(
        config,
        cli.command.unwrap_or(Command::Serve { demo: false }),
    ) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("sanshe: {e}");
            1
        }
    }
}

fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())
}

fn run(config: Config, command: Command) -> Result<i32, String> {
    let clock: Arc<dyn crate::clock::Clock> = Arc::new(crate::clock::SystemClock);
    match command {
        Command::Serve { demo } => serve(config, clock, demo),
        Command::Migrate => {
            let pool = crate::db::connect(&config.database, 1)?;
            let mut c = pool.get().map_err(|e| e.to_string())?;
            let applied = crate::db::migrate(&mut c)?;
            crate::people::reach::after_migrations(&mut c, &applied)?;
            println!(
                "{} migration(s) applied on {}",
                applied.len(),
                config.database.redacted()
            );
            for v in applied {
                println!("  {v}");
            }
            Ok(0)
        }
        Command::Report {
            report:
                ReportCommand::ThreeSociety {
                    year,
                    quarter,
                    from,
                    to,
                    street,
                    out,
                },
        } => {
            let pool = crate::app::open_database(&config)?;
            let mut c = pool.get().map_err(|e| e.to_string())?;
            let f = crate::reports::three_society::ReportFilter {
                year,
                quarter,
                from,
                to,
                street,
            };
            let started = std::time::Instant::now();
            let (r, pdf) = crate::reports::three_society(&mut c, &config, &f, clock.now())
                .map_err(|e| e.to_string())?;
            std::fs::write(&out, &pdf).map_err(|e| format!("{}: {e}", out.display()))?;
            println!(
                "{}: the 三社联动 report, {}, {} bytes in {} ms; ledger digest {}",
                out.display(),
                r.filters,
                pdf.len(),
                started.elapsed().as_millis(),
                r.digest.text()
            );
            Ok(0)
        }
        Command::Seed { demo: _ } => {
            let pool = crate::app::open_database(&config)?;
            let state = crate::app::AppState::new(config, pool, clock);
            seed_and_print(&state)?;
            Ok(0)
        }
        Command::User {
            action:
                UserCommand::Create {
                    username,
                    role,
                    org,
                    name,
                    email,
                },
        } => {
            let pool = crate::app::open_database(&config)?;
            let state = crate::app::AppState::new(config, pool, clock);
            let (password, generated) = match std::env::var("SANSHE_NEW_PASSWORD") {
                Ok(p) => (p, false),
                Err(_) if !std::io::stdin().is_terminal() => {
                    let mut line = String::new();
                    std::io::stdin()
                        .lock()
                        .read_line(&mut line)
                        .map_err(|e| e.to_string())?;
                    (line.trim_end_matches(['\r', '\n']).to_string(), false)
                }
                Err(_) => (crate::auth::password::generate(), true),
            };
            let new = crate::users::NewUser {
                display_name: name.unwrap_or_else(|| username.clone()),
                username,
                email,
                role,
                org_id: org,
                password: password.clone(),
            };
            let mut c = state.pool.get().map_err(|e| e.to_string())?;
            let actor = crate::audit::Actor::system("cli");
            match crate::users::create(&mut c, &actor, state.clock.now(), &state.mail, &new) {
                Ok(u) => {
                    println!("created user {} (id {}, role {})", u.username, u.id, u.role);
                    if generated {
                        println!("password (shown once): {password}");
                    }
                    Ok(0)
                }
                Err(crate::error::AppError::Validation(errs)) => {
                    for e in errs {
                        eprintln!(
                            "{}: {} ({}) / {}",
                            e.field, e.message.en, e.rule, e.message.zh
                        );
                    }
                    Ok(2)
                }
                Err(e) => Err(e.to_string()),
            }
        }
        Command::Checkpoint { chain } => {
            let Some(src) = crate::chain::checkpoint::source(&chain) else {
                if let crate::error::AppError::Validation(errs) =
                    crate::chain::checkpoint::unknown_chain(&chain)
                {
                    for e in errs {
                        eprintln!("sanshe: {}: {}", e.field, e.message.en);
                    }
                }
                return Ok(2);
            };
            let pool = crate::app::open_database(&config)?;
            let mut c = pool.get().map_err(|e| e.to_string())?;
            let signed = crate::chain::checkpoint::sign(
                &mut c,
                src,
                &config.checkpoints,
                clock.now(),
                "cli",
            )
            .map_err(|e| match e {
                crate::error::AppError::Conflict { msg, .. } => msg.en,
                other => other.to_string(),
            })?;
            let cp = signed.checkpoint();
            let what = match signed {
                crate::chain::checkpoint::Signed::New(_) => "signed",
                crate::chain::checkpoint::Signed::Existing(_) => "already signed",
            };
            eprintln!("{}: {what}", cp.label());
            println!(
                "{}",
                serde_json::to_string_pretty(cp).map_err(|e| e.to_string())?
            );
            Ok(0)
        }
        Command::BenchLedger {
            entries,
            batch,
            seed,
            journal,
            no_raw,
            live,
        } => {
            let pool = crate::app::open_database(&config)?;
            let state = crate::app::AppState::new(config, pool, clock);
            let o = bench_ledger::Options {
                entries,
                batch,
                seed,
                journal,
                no_raw,
            };
            let mut c = state.pool.get().map_err(|e| e.to_string())?;
            let now = state.clock.now();
            bench_ledger::run(
                &mut c,
                &state.config.ledger,
                now,
                |c| {
                    crate::seed::seed_demo(
                        c,
                        &state.mail,
                        now,
                        None,
                        state.config.beneficiary_secret.expose(),
                        &state.tenders,
                        &state.contracts,
                    )
                    .map(|_| ())
                    .map_err(|e| e.to_string())
                },
                |c| {
                    crate::seed::tenders::seed_more_awarded(c, &state.tenders, now, live)
                        .and_then(|_| {
                            crate::seed::contracts::sign_awarded(c, &state.contracts, now)
                        })
                        .map(|s| s.contracts)
                        .map_err(|e| e.to_string())
                },
                &o,
                &mut std::io::stdout(),
            )?;
            Ok(0)
        }
        Command::BenchPeople {
            contracts,
            people,
            participations,
            overview_runs,
            saves,
            import_rows,
            seed,
        } => {
            let pool = crate::app::open_database(&config)?;
            let state = crate::app::AppState::new(config, pool, clock);
            let o = bench_people::Options {
                contracts,
                people,
                participations,
                overview_runs,
                saves,
                import_rows,
                seed,
            };
            let ctx = crate::people::Ctx::from_config(&state.config);
            // As the server runs: SQLite's WAL checkpoints off the write path, every half second.
            if crate::db::wal_checkpoints::take_over(&state.pool)? {
                let pool = state.pool.clone();
                std::thread::spawn(move || {
                    loop {
                        std::thread::sleep(std::time::Duration::from_millis(500));
                        if let Ok(mut c) = pool.get() {
                            let _ = crate::db::wal_checkpoints::checkpoint(&mut c);
                        }
                    }
                });
            }
            let mut c = state.pool.get().map_err(|e| e.to_string())?;
            let now = state.clock.now();
            bench_people::run(
                &mut c,
                &ctx,
                now,
                |c| {
                    crate::seed::seed_demo_with(
                        c,
                        &state.mail,
                        now,
                        None,
                        state.config.beneficiary_secret.expose(),
                        &state.tenders,
                        &state.contracts,
                        false,
                    )
                    .map(|_| ())
                    .map_err(|e| e.to_string())
                },
                &o,
                &mut std::io::stdout(),
            )?;
            Ok(0)
        }
        Command::Verify {
            checkpoints,
            digests,
        } => {
            let digests = digests
                .iter()
                .map(|d| {
                    crate::ledger::Digest::parse(d).ok_or_else(|| {
                        format!(
                            "--digest {d:?}: expected SEQ:HASH (a number, a colon, 64 hex digits)"
                        )
                    })
                })
                .collect::<Result<Vec<_>, _>>()?;
            // Read the copies first: a file that cannot be read stops here, before any database work.
            let mut copies = Vec::new();
            for path in &checkpoints {
                let text = std::fs::read_to_string(path)
                    .map_err(|e| format!("--checkpoint {}: {e}", path.display()))?;
                let list = crate::chain::checkpoint::parse_copies(&text)
                    .map_err(|e| format!("--checkpoint {}: {e}", path.display()))?;
                copies.push((path.clone(), list));
            }
            let pool = crate::db::connect(&config.database, 1)?;
            let mut c = pool.get().map_err(|e| e.to_string())?;
            // Each hash chain (`crate::chain`) is recomputed from its first entry.
            let chain = crate::chain::AUDIT.name;
            let r = crate::audit::verify(&mut c).map_err(|e| e.to_string())?;
            let mut code = 0;
            if r.ok {
                println!(
                    "{chain} chain: ok, {} events, head {} {}",
                    r.events, r.head_seq, r.head_hash
                );
            } else {
                println!(
                    "{chain} chain: BROKEN after {} good events: {}",
                    r.events,
                    r.error.unwrap_or_default()
                );
                code = 1;
            }
            code |= verify_ledger(&mut c, &digests)?;
            // Every stored checkpoint, then every copy: signed by a trusted key, and the chain still has the
            // signed entry with the signed hash (a cut tail or a rewritten history fails here even when every
            // later hash was recomputed).
            let trusted = config.checkpoints.trusted();
            let stored = crate::chain::checkpoint::verify_stored(&mut c, &trusted)
                .map_err(|e| e.to_string())?;
            code |= report_checkpoints("stored checkpoints", &stored);
            for (path, list) in copies {
                let found = crate::chain::checkpoint::check_all(&mut c, list, &trusted)
                    .map_err(|e| e.to_string())?;
                code |= report_checkpoints(&format!("checkpoints in {}", path.display()), &found);
            }
            let (tallies, differ) =
                crate::people::reach::verify(&mut c).map_err(|e| e.to_string())?;
            if differ == 0 {
                println!("people served tallies: ok, {tallies} tallies");
            } else {
                println!(
                    "people served tallies: {differ} DIFFER from the participations (of {tallies})"
                );
                code = 1;
            }
            let ctx = crate::tenders::Ctx::from_config(&config);
            let (checked, bad) =
                crate::tenders::bids::verify_all(&mut c, &ctx).map_err(|e| e.to_string())?;
            if bad.is_empty() {
                println!("bid commitments: ok, {checked} opened bids");
            } else {
                println!(
                    "bid commitments: {} of {checked} opened bids do NOT match: receipts {:?}",
                    bad.len(),
                    bad
                );
                code = 1;
            }
            code |= verify_files(&mut c, &config, &ctx)?;
            Ok(code)
        }
    }
}

/// Read every stored file back and compare it with its hash; list unfinished uploads. 1 if any file is
/// missing or altered.
fn verify_files(
    c: &mut crate::db::DbConn,
    config: &Config,
    ctx: &crate::tenders::Ctx,
) -> Result<i32, String> {
    let stored = crate::files::stored(c).map_err(|e| e.to_string())?;
    let waiting = crate::files::evidence::waiting(c).map_err(|e| e.to_string())?;
    let crate::tenders::bids::BidFiles {
        sealed,
        inline,
        unopened,
    } = crate::tenders::bids::sealed_files(c, ctx).map_err(|e| e.to_string())?;
    let store = crate::files::Store::open(config.files.clone())?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    rt.block_on(async {
        let (mut bad, mut missing) = (Vec::new(), Vec::new());
        for s @ (sha, size, _) in &stored {
            let health = store
                .check(sha, *size as u64)
                .await
                .map_err(|e| e.to_string())?;
            if health != crate::files::Health::Intact {
                bad.push(format!("{sha} {health:?}").to_lowercase());
            }
            if health == crate::files::Health::Missing {
                missing.push(s.clone());
            }
        }
        let rows: i64 = stored.iter().map(|s| s.2).sum();
        if bad.is_empty() {
            println!(
                "files: ok, {} stored files for {rows} records",
                stored.len()
            );
        } else {
            println!(
                "files: {} of {} stored files are missing or altered:",
                bad.len(),
                stored.len()
            );
            for b in &bad {
                println!("  {b}");
            }
        }
        // Declared and not uploaded yet is a record's normal state until its file comes, not a fault.
        if !waiting.is_empty() {
            let each: Vec<String> = waiting
                .iter()
                .map(|(p, n)| format!("{} {n}", p.as_str()))
                .collect();
            println!(
                "evidence: {} records declare a file not uploaded yet ({})",
                waiting.iter().map(|w| w.1).sum::<i64>(),
                each.join(", ")
            );
        }
        // A bid's files, sealed: each opened with its bid's binding and compared with the committed hash.
        let mut bad_sealed = Vec::new();
        for f in &sealed {
            let health = store
                .check_sealed(
                    &f.object,
                    &ctx.file_sealer,
                    &f.binding,
                    &f.meta.sha256,
                    f.meta.size as u64,
                )
                .await
                .map_err(|e| e.to_string())?;
            if health != crate::files::Health::Intact {
                bad_sealed.push(format!("receipt {} {} {health:?}", f.bid, f.object).to_lowercase());
            }
        }
        if !unopened.is_empty() {
            println!(
                "bid files: {} bids do NOT open with this SANSHE_SEAL_SECRET (their files were not checked): receipts {unopened:?}",
                unopened.len()
            );
        }
        if bad_sealed.is_empty() {
            println!(
                "bid files: ok, {} sealed files{}",
                sealed.len(),
                if inline > 0 {
                    format!(", {inline} still inside their bids (moved at the next start)")
                } else {
                    String::new()
                }
            );
        } else {
            println!(
                "bid files: {} of {} sealed files are missing or altered:",
                bad_sealed.len(),
                sealed.len()
            );
            for b in &bad_sealed {
                println!("  {b}");
            }
        }
        let named: std::collections::HashSet<&str> =
            sealed.iter().map(|f| f.object.as_str()).collect();
        let unused: Vec<String> = store
            .sealed_objects()
            .await
            .map_err(|e| e.to_string())?
            .into_iter()
            .filter(|o| !named.contains(o.as_str()))
            .collect();
        // While some bids do not open, their files would look unused.
        if !unused.is_empty() && unopened.is_empty() {
            println!(
                "bid files: {} sealed uploads no bid names (a refused bid whose files could not be deleted; safe to delete): {}",
                unused.len(),
                unused.join(", ")
            );
        }
        let (caught, left): (Vec<_>, Vec<_>) = store
            .leftovers()
            .await
            .map_err(|e| e.to_string())?
            .into_iter()
            .partition(|l| l.names_one_of(&missing));
        if !caught.is_empty() {
            println!(
                "files: {} uploads whose records were written wait in tmp/ (a crash came before they were kept; the next start keeps them): {}",
                caught.len(),
                caught.iter().map(|l| format!("{} {}", l.object, l.sha256)).collect::<Vec<_>>().join(", ")
            );
        }
        if !left.is_empty() {
            println!(
                "files: {} unfinished uploads left behind (safe to delete): {}",
                left.len(),
                left.iter().map(|l| l.object.as_str()).collect::<Vec<_>>().join(", ")
            );
        }
        Ok(i32::from(
            !bad.is_empty() || !bad_sealed.is_empty() || !unopened.is_empty(),
        ))
    })
}

/// Recompute the ledger and check the digests against it; 1 if anything is wrong.
fn verify_ledger(
    c: &mut crate::db::DbConn,
    digests: &[crate::ledger::Digest],
) -> Result<i32, String> {
    let r = crate::ledger::verify(c).map_err(|e| e.to_string())?;
    let mut code = 0;
    if r.ok {
        println!(
            "ledger: ok, {} entries, {} accounts balance, head {} {}",
            r.entries, r.accounts, r.head_seq, r.head_hash
        );
    } else {
        println!(
            "ledger: BROKEN at entry {} after {} good entries: {}",
            r.bad_seq.unwrap_or_default(),
            r.entries,
            r.error.unwrap_or_default()
        );
        code = 1;
    }
    for d in digests {
        match crate::ledger::extends(c, d).map_err(|e| e.to_string())? {
            Ok(()) if r.ok => println!(
                "ledger digest {}: ok, today's ledger extends it (head {})",
                d.text(),
                r.head_seq
            ),
            Ok(()) => {
                println!(
                    "ledger digest {}: entry {} still has that hash, but the ledger does not verify (above)",
                    d.text(),
                    d.seq
                );
                code = 1;
            }
            Err(why) => {
                println!("ledger digest {}: NOT extended: {why}", d.text());
                code = 1;
            }
        }
    }
    Ok(code)
}

/// Print what checking some checkpoints found; 1 if any failed.
fn report_checkpoints(what: &str, found: &[crate::chain::checkpoint::Finding]) -> i32 {
    let bad: Vec<_> = found.iter().filter(|f| !f.ok()).collect();
    if bad.is_empty() {
        match found.last() {
            Some(last) => println!(
                "{what}: ok, {} hold (latest {})",
                found.len(),
                last.checkpoint.label()
            ),
            None => println!("{what}: none yet"),
        }
        return 0;
    }
    println!("{what}: {} of {} do NOT hold", bad.len(), found.len());
    for f in bad {
        println!("  {}", f.describe());
    }
    1
}

fn seed_and_print(state: &crate::app::AppState) -> Result<bool, String> {
    let mut c = state.pool.get().map_err(|e| e.to_string())?;
    let pw = state
        .config
        .demo_password
        .as_ref()
        .map(|s| s.expose().to_string());
    let cfg = &state.config;
    let out = crate::seed::seed_demo(
        &mut c,
        &state.mail,
        state.clock.now(),
        pw.as_deref(),
        cfg.beneficiary_secret.expose(),
        &state.tenders,
        &state.contracts,
    )
    .map_err(|e| e.to_string())?;
    if !out.seeded {
        println!("The database already has users; demo data not loaded.");
        println!(
            "Demo sign-ins (if this database was seeded): admin, bureau, finance, evaluator1 … evaluator5,"
        );
        println!(
            "with the password printed when it was seeded, or SANSHE_DEMO_PASSWORD if that was set."
        );
        return Ok(false);
    }
    // The evidence the demo declares (milestone reports, credit listings) goes into the file store.
    let stored = crate::seed::evidence::store_files(&state.pool, &state.files, state.clock.now());
    let stored = match tokio::runtime::Handle::try_current() {
        Ok(rt) => rt.block_on(stored),
        Err(_) => runtime()?.block_on(stored),
    }
    .map_err(|e| e.to_string())?;
    tracing::info!(files = stored, "demo evidence files stored");
    let accounts: Vec<&str> = crate::seed::DEMO_ACCOUNTS.iter().map(|a| a.0).collect();
    println!(
        "Demo data loaded. Sign in as any of: {}",
        accounts.join(", ")
    );
    let orgs: i64 = {
        use diesel::prelude::*;
        crate::db::schema::users::table
            .filter(crate::db::schema::users::role.eq("org"))
            .count()
            .get_result(&mut c)
            .map_err(|e| e.to_string())?
    };
    if orgs > 0 {
        println!("and, one per registered organisation (role org): org001 … org{orgs:03}");
    }
    match out.generated_password {
        Some(p) => println!("Password for every demo account (shown only this once): {p}"),
        None => println!("Password for every demo account: the value of SANSHE_DEMO_PASSWORD"),
    }
    Ok(true)
}

fn serve(
    mut config: Config,
    clock: Arc<dyn crate::clock::Clock>,
    demo: bool,
) -> Result<i32, String> {
    if demo && !config.line_shares_set {
        // The demo keeps a programme with a management-fee cap, so the rule and its audit flag show.
        config.tender_rules.line_shares = crate::domain::tender::demo_line_shares();
    }
    let rt = runtime()?;
    rt.block_on(async move {
        let cfg = config.clone();
        let pool = tokio::task::spawn_blocking(move || crate::app::open_database(&cfg))
            .await
            .map_err(|e| e.to_string())??;
        let state = crate::app::AppState::new(config, pool, clock);
        let has_users = {
            let p = state.pool.clone();
            tokio::task::spawn_blocking(move || {
                let mut c = p.get().map_err(|e| e.to_string())?;
                crate::users::any_exist(&mut c).map_err(|e| e.to_string())
            })
            .await
            .map_err(|e| e.to_string())??
        };
        if demo {
            let s = state.clone();
            tokio::task::spawn_blocking(move || seed_and_print(&s))
                .await
                .map_err(|e| e.to_string())??;
        } else if !has_users {
            println!(
                "No users yet. Create one with: sanshe user create --username admin --role admin"
            );
            println!("(or start with `sanshe serve --demo` for the demo data set)");
        }
        let running = crate::app::start(state, true).await?;
        let cfg = &running.state.config;
        println!(
            "Sanshe is running on {} ({}).",
            cfg.database.redacted(),
            cfg.database.backend_name()
        );
        println!(
            "Open http://{}/ in a browser; API docs at http://{}/api/docs/",
            running.addr, running.addr
        );
        if cfg.smtp_url.is_none() {
            println!(
                "E-mail: no SMTP_URL set; messages are written to {}",
                cfg.data_dir.join("outbox").display()
            );
        }
        running.wait().await.map_err(|e| e.to_string())?;
        Ok(0)
    })
}

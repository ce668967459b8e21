//! Typed configuration, read once at start from flags, the environment and an optional `.env` file.
//!
//! Every setting is a `serve` flag and an environment variable (see `.env.example`). Values are validated
//! when parsed, so a bad value stops the program with a message naming the variable. Secrets are wrapped in
//! [`Secret`], whose `Debug` never shows the value.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Args;

use crate::db::DbTarget;

/// A secret value that never prints.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Secret {
        Secret(s.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// Settings as given on the command line or in the environment.
#[derive(Args, Debug, Clone)]
pub struct ConfigArgs {
    /// Address and port to listen on.
    #[arg(
        long,
        env = "SANSHE_LISTEN",
        default_value = "127.0.0.1:8080",
        global = true
    )]
    pub listen: SocketAddr,
    /// Database: sqlite://PATH (default: DATA_DIR/sanshe.db) or postgres://USER@HOST:PORT/DB.
    #[arg(long, env = "DATABASE_URL", global = true, hide_env_values = true)]
    pub database_url: Option<String>,
    /// Directory for the SQLite file, generated secrets and outgoing .eml files.
    #[arg(long, env = "SANSHE_DATA_DIR", default_value = "./data", global = true)]
    pub data_dir: PathBuf,
    /// Password for the demo accounts; when unset, a random one is generated at seeding and printed once.
    #[arg(
        long,
        env = "SANSHE_DEMO_PASSWORD",
        global = true,
        hide_env_values = true
    )]
    pub demo_password: Option<String>,
    /// SMTP server: smtp://HOST:PORT (plain, for a local relay), smtp://USER:PASS@HOST:587?tls=required,
    /// or smtps://HOST:465. When unset, mail is written as .eml files under DATA_DIR/outbox/.
    #[arg(long, env = "SMTP_URL", global = true, hide_env_values = true)]
    pub smtp_url: Option<String>,
    /// Sender of notifications.
    #[arg(
        long,
        env = "SANSHE_MAIL_FROM",
        default_value = "三社 Sanshe <noreply@sanshe.local>",
        global = true
    )]
    pub mail_from: String,
    /// Public address of this service, used in links inside e-mails (default: http://LISTEN).
    #[arg(long, env = "SANSHE_PUBLIC_URL", global = true)]
    pub public_url: Option<String>,
    /// JWT signing secret (at least 32 characters). When unset, one is generated into DATA_DIR/secrets/.
    #[arg(long, env = "SANSHE_JWT_SECRET", global = true, hide_env_values = true)]
    pub jwt_secret: Option<String>,
    /// Secret for the keyed hash of beneficiary identity numbers. When unset, generated into DATA_DIR/secrets/.
    #[arg(
        long,
        env = "SANSHE_BENEFICIARY_SECRET",
        global = true,
        hide_env_values = true
    )]
    pub beneficiary_secret: Option<String>,
    /// Secret from which the key sealing bids until opening is derived (HKDF-SHA256, AES-256-GCM). When
    /// unset, generated into DATA_DIR/secrets/. Losing it makes sealed bids unreadable: back it up.
    #[arg(
        long,
        env = "SANSHE_SEAL_SECRET",
        global = true,
        hide_env_values = true
    )]
    pub seal_secret: Option<String>,
    /// Ed25519 key signing the chain checkpoints: its 32 secret bytes as 64 hexadecimal characters. When
    /// unset, generated into DATA_DIR/secrets/checkpoint.key. Keep it outside the database (that is its point)
    /// and back it up; its public key is published on /checkpoints.
    #[arg(
        long,
        env = "SANSHE_CHECKPOINT_KEY",
        global = true,
        hide_env_values = true
    )]
    pub checkpoint_key: Option<String>,
    /// Earlier checkpoint public keys (hex, comma-separated) whose checkpoints still count after a key change.
    #[arg(long, env = "SANSHE_CHECKPOINT_EARLIER_KEYS", global = true)]
    pub checkpoint_earlier_keys: Option<String>,
    /// The scheduler signs a chain's head once the chain has grown by this many entries since its last
    /// checkpoint (0: not by count).
    #[arg(
        long,
        env = "SANSHE_CHECKPOINT_EVERY",
        default_value_t = 100,
        global = true
    )]
    pub checkpoint_every: u32,
    /// The scheduler also signs a chain's head once its last checkpoint is this many minutes old and the
    /// chain has grown since (0: not by time).
    #[arg(
        long,
        env = "SANSHE_CHECKPOINT_MINUTES",
        default_value_t = 60,
        global = true
    )]
    pub checkpoint_minutes: u32,
    /// Addresses (comma-separated) that receive every new checkpoint by e-mail; unset: none is mailed.
    #[arg(long, env = "SANSHE_AUDITOR_EMAILS", global = true)]
    pub auditor_emails: Option<String>,
    /// Lifetime of a sign-in token, in minutes.
    #[arg(long, env = "SANSHE_TOKEN_TTL_MINUTES", default_value_t = 120, value_parser = clap::value_parser!(u32).range(1..=1440), global = true)]
    pub token_ttl_minutes: u32,
    /// Failed sign-ins to one account from one client address before that pair is locked for a while (the
    /// lock doubles on each further failure, up to an hour). The same count slows the account from every
    /// address by a short delay (at most SANSHE_LOGIN_ACCOUNT_DELAY_MAX_MS), never a lock.
    #[arg(long, env = "SANSHE_LOGIN_MAX_FAILURES", default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..), global = true)]
    pub login_max_failures: u32,
    /// Failed sign-ins from one client address (to any accounts) before that address must wait
    /// SANSHE_LOGIN_LOCK_SECONDS after each further failure.
    #[arg(long, env = "SANSHE_LOGIN_MAX_FAILURES_PER_ADDR", default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..), global = true)]
    pub login_max_failures_per_addr: u32,
    /// First lock of an (account, address) pair, and the wait of an address over its limit, in seconds.
    #[arg(long, env = "SANSHE_LOGIN_LOCK_SECONDS", default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..), global = true)]
    pub login_lock_seconds: u64,
    /// Longest delay, in milliseconds, added to every sign-in to an account that failed too often recently
    /// (from any address). It grows with the failures and stops here: the owner can always sign in.
    #[arg(long, env = "SANSHE_LOGIN_ACCOUNT_DELAY_MAX_MS", default_value_t = 2000, value_parser = clap::value_parser!(u64).range(0..=30_000), global = true)]
    pub login_account_delay_max_ms: u64,
    /// Reverse proxies whose X-Forwarded-For names the client (comma-separated IP addresses). Unset: the
    /// client is the peer address of the connection and X-Forwarded-For is ignored.
    #[arg(long, env = "SANSHE_TRUSTED_PROXIES", global = true)]
    pub trusted_proxies: Option<String>,
    /// First retry delay of a failed e-mail, in milliseconds (doubles per attempt, at most one hour).
    #[arg(long, env = "SANSHE_MAIL_RETRY_MS", default_value_t = 5000, value_parser = clap::value_parser!(u64).range(1..), global = true)]
    pub mail_retry_ms: u64,
    /// How often the mail worker looks for due messages, in milliseconds.
    #[arg(long, env = "SANSHE_MAIL_POLL_MS", default_value_t = 2000, value_parser = clap::value_parser!(u64).range(10..), global = true)]
    pub mail_poll_ms: u64,
    /// Mark the session cookie Secure (set when served over HTTPS).
    #[arg(
        long,
        env = "SANSHE_COOKIE_SECURE",
        default_value_t = false,
        global = true
    )]
    pub cookie_secure: bool,
    /// HTTP worker threads (default: number of cores).
    #[arg(long, env = "SANSHE_WORKERS", global = true)]
    pub workers: Option<usize>,
    /// Whether the abnormal-activity list (活动异常名录) bars an organisation (true) or only flags it (false).
    #[arg(
        long,
        env = "SANSHE_ABNORMAL_LIST_BARS",
        default_value_t = false,
        global = true
    )]
    pub abnormal_list_bars: bool,
    /// The day (MM-DD) by which a 社会团体's or 民办非企业单位's annual report for last year is due; until then
    /// its missing report does not flag.
    #[arg(long, env = "SANSHE_ANNUAL_REPORT_DUE", default_value = "05-31", value_parser = due_day, global = true)]
    pub annual_report_due: (u32, u32),
    /// The same for a 基金会.
    #[arg(long, env = "SANSHE_FOUNDATION_REPORT_DUE", default_value = "03-31", value_parser = due_day, global = true)]
    pub foundation_report_due: (u32, u32),
    /// Planned length of an incubation, in years.
    #[arg(long, env = "SANSHE_INCUBATION_YEARS", default_value_t = 2, value_parser = clap::value_parser!(u32).range(1..=10), global = true)]
    pub incubation_years: u32,
    /// A holiday calendar file (date,kind,name,source) replacing the built-in 2024–2026 days.
    #[arg(long, env = "SANSHE_CALENDAR_FILE", global = true)]
    pub calendar_file: Option<PathBuf>,
    /// Minimum valid bids for an open tender (fewer at opening → failed, 流标).
    #[arg(long, env = "SANSHE_MIN_BIDS_OPEN", default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=20), global = true)]
    pub min_bids_open: u32,
    /// Minimum valid bids for an invited tender.
    #[arg(long, env = "SANSHE_MIN_BIDS_INVITED", default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=20), global = true)]
    pub min_bids_invited: u32,
    /// Minimum valid bids for a competitive consultation (purchased services may go on with 2).
    #[arg(long, env = "SANSHE_MIN_BIDS_CONSULTATION", default_value_t = 2, value_parser = clap::value_parser!(u32).range(1..=20), global = true)]
    pub min_bids_consultation: u32,
    /// Minimum valid bids for a competitive negotiation (74号令 Art 27: 3; one moved here after a failed
    /// open tender goes on with 2).
    #[arg(long, env = "SANSHE_MIN_BIDS_NEGOTIATION", default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=20), global = true)]
    pub min_bids_negotiation: u32,
    /// Budget in yuan at or above which only an open tender is allowed.
    #[arg(long, env = "SANSHE_OPEN_TENDER_THRESHOLD_YUAN", default_value_t = 2_000_000, value_parser = clap::value_parser!(u64).range(1..=10_000_000_000), global = true)]
    pub open_tender_threshold_yuan: u64,
    /// Publicity period of a tender result, in working days.
    #[arg(long, env = "SANSHE_PUBLICITY_WORKING_DAYS", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=30), global = true)]
    pub publicity_working_days: u32,
    /// The programme's shares of the price per budget line, e.g. `management<=10,staff>=70` (none by
    /// default: national rules cap no line; `serve --demo` uses `management<=10` when this is unset).
    #[arg(long, env = "SANSHE_LINE_SHARES", global = true)]
    pub line_shares: Option<String>,
    /// Enquiries one organisation may ask about one tender per day (Beijing date); past it 429.
    #[arg(long, env = "SANSHE_ENQUIRIES_PER_DAY", default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..=10_000), global = true)]
    pub enquiries_per_day: u32,
    /// How often the tender scheduler looks for due deadlines, in milliseconds.
    #[arg(long, env = "SANSHE_SCHEDULER_MS", default_value_t = 15000, value_parser = clap::value_parser!(u64).range(10..), global = true)]
    pub scheduler_ms: u64,
    /// SQLite: queue this process's writers (one write transaction at a time, in arrival order) instead of
    /// letting them wait in SQLite's busy-retry sleeps. `0` turns it off (to measure; scripts/bench-writes).
    #[arg(long, env = "SANSHE_SQLITE_WRITE_QUEUE", default_value = "true", value_parser = clap::builder::BoolishValueParser::new(), action = clap::ArgAction::Set, global = true)]
    pub sqlite_write_queue: bool,
    /// Fund sources of budget appropriations: `code=中文名|English name`, comma-separated; the code (lower-case
    /// ASCII) names the ledger's accounts, so keep it once used.
    #[arg(long, env = "SANSHE_FUND_SOURCES", default_value = crate::domain::ledger::DEFAULT_FUNDS, global = true)]
    pub fund_sources: String,
    /// Days after a milestone's acceptance within which its instalment is to be paid; a later payment is
    /// flagged (DOMAIN.md: 30).
    #[arg(long, env = "SANSHE_PAYMENT_DUE_DAYS", default_value_t = 30, value_parser = clap::value_parser!(u32).range(1..=365), global = true)]
    pub payment_due_days: u32,
    /// Working days within which the bureau reviews what an organisation submitted (a change of its record,
    /// a social worker's certificate) and finance a spending item: the service standard behind the due dates
    /// of the task queues. No regulation sets it.
    #[arg(long, env = "SANSHE_REVIEW_WORKING_DAYS", default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=60), global = true)]
    pub review_working_days: u32,
    /// Where uploaded files are kept: a directory (default DATA_DIR/files) or s3://BUCKET/PREFIX for an
    /// S3-compatible store, reached with the usual AWS_* variables (AWS_ACCESS_KEY_ID,
    /// AWS_SECRET_ACCESS_KEY, AWS_REGION, AWS_ENDPOINT_URL, AWS_ALLOW_HTTP).
    #[arg(long, env = "SANSHE_FILES_URL", global = true)]
    pub files_url: Option<String>,
    /// Largest uploaded file, MiB.
    #[arg(long, env = "SANSHE_FILE_MAX_MB", default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..=2048), global = true)]
    pub file_max_mb: u32,
    /// Largest total of one bid's files, MiB.
    #[arg(long, env = "SANSHE_BID_FILES_MAX_MB", default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..=10240), global = true)]
    pub bid_files_max_mb: u32,
    /// Kinds of file accepted, judged by content: any of pdf, jpeg, png, ofd, docx, xlsx, comma-separated.
    #[arg(
        long,
        env = "SANSHE_FILE_KINDS",
        default_value = "pdf,jpeg,png,ofd,docx,xlsx",
        global = true
    )]
    pub file_kinds: String,
    /// Labour and volunteer subsidies (the staff line's spending) at most this percent of the contract
    /// amount, where the programme says so (the central demonstration programme: 50); unset: no such flag.
    #[arg(long, env = "SANSHE_LABOUR_CAP_PCT", value_parser = clap::value_parser!(u32).range(0..=100), global = true)]
    pub labour_cap_pct: Option<u32>,
    /// Words in a spending item's description or payee that flag forbidden spending (premises, vehicles,
    /// fines, debt, investment, cash or gifts to beneficiaries), comma-separated.
    #[arg(long, env = "SANSHE_FORBIDDEN_KEYWORDS", default_value = crate::domain::flags::DEFAULT_FORBIDDEN_KEYWORDS, global = true)]
    pub forbidden_keywords: String,
    /// Activity types of people served: `code=中文名|English name`, comma-separated (keep a code once used).
    #[arg(long, env = "SANSHE_ACTIVITY_KINDS", default_value = crate::domain::people::DEFAULT_KINDS, global = true)]
    pub activity_kinds: String,
    /// Groups of people served: `code=中文名|English name`, comma-separated; `elderly` and `other` are the
    /// groups a registration from an identity number falls in by age, so keep them.
    #[arg(long, env = "SANSHE_BENEFICIARY_GROUPS", default_value = crate::domain::people::DEFAULT_GROUPS, global = true)]
    pub beneficiary_groups: String,
    /// A person's 人次 under one contract is flagged above this multiple of the contract's norm (target 人次 per
    /// target 人数), and above at least `SANSHE_VISITS_NORM_FLOOR`.
    #[arg(long, env = "SANSHE_VISITS_NORM_FACTOR", default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=100), global = true)]
    pub visits_norm_factor: u32,
    #[arg(long, env = "SANSHE_VISITS_NORM_FLOOR", default_value_t = 12, value_parser = clap::value_parser!(u32).range(1..=10_000), global = true)]
    pub visits_norm_floor: u32,
    /// Weights of a milestone's performance evaluation (DOMAIN.md, Performance): output, effect,
    /// satisfaction and budget execution, in points summing to 100.
    #[arg(long, env = "SANSHE_PERFORMANCE_WEIGHTS", default_value = crate::domain::performance::DEFAULT_WEIGHTS, global = true)]
    pub performance_weights: String,
    /// The font of the PDF reports: a TrueType/OpenType file with Chinese, Latin and digits (`#N` after the
    /// path for face N of a .ttc); empty for the embedded WenQuanYi Micro Hei.
    #[arg(long, env = "SANSHE_PDF_FONT", global = true)]
    pub pdf_font: Option<String>,
    /// Who issues the reports (their author and cover), e.g. 官渡区民政局.
    #[arg(long, env = "SANSHE_ISSUER", default_value = "区民政局", global = true)]
    pub issuer: String,
    /// The site footer: the issuer's (主办单位) address and its contact (telephone, e-mail).
    #[arg(long, env = "SANSHE_SITE_ADDRESS", default_value = "", global = true)]
    pub site_address: String,
    #[arg(long, env = "SANSHE_SITE_CONTACT", default_value = "", global = true)]
    pub site_contact: String,
    /// The site's ICP filing number (ICP备案号) and public-security filing number (公安备案号); the footer
    /// says "not yet filed" until they are given.
    #[arg(long, env = "SANSHE_ICP_NUMBER", default_value = "", global = true)]
    pub icp_number: String,
    #[arg(long, env = "SANSHE_PSB_NUMBER", default_value = "", global = true)]
    pub psb_number: String,
    /// Database connections in the pool.
    #[arg(long, env = "SANSHE_DB_POOL", default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..=256), global = true)]
    pub db_pool: u32,
}

/// The validated configuration the program runs with.
#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    pub database: DbTarget,
    pub data_dir: PathBuf,
    pub demo_password: Option<Secret>,
    pub smtp_url: Option<Secret>,
    pub mail_from: String,
    pub public_url: String,
    pub jwt_secret: Secret,
    pub beneficiary_secret: Secret,
    pub seal_secret: Secret,
    pub token_ttl: Duration,
    pub jwt_issuer: String,
    pub jwt_audience: String,
    pub login_max_failures: u32,
    pub login_max_failures_per_addr: u32,
    pub login_lock: Duration,
    pub login_account_delay_max: Duration,
    pub trusted_proxies: Vec<std::net::IpAddr>,
    pub mail_retry: Duration,
    pub mail_poll: Duration,
    pub cookie_secure: bool,
    pub workers: usize,
    pub db_pool: u32,
    /// SQLite: writers of this process queue for the write lock (`db::write_queue`).
    pub sqlite_write_queue: bool,
    pub abnormal_list_bars: bool,
    /// (month, day) the annual reports are due: 社会团体 and 民办非企业单位, 基金会.
    pub annual_report_due: (u32, u32),
    pub foundation_report_due: (u32, u32),
    pub incubation_years: u32,
    pub calendar: std::sync::Arc<crate::domain::calendar::BusinessCalendar>,
    pub tender_rules: crate::domain::tender::TenderRules,
    /// `SANSHE_LINE_SHARES` was given (else `serve --demo` runs the demo's programme).
    pub line_shares_set: bool,
    pub scheduler_every: Duration,
    /// Signed checkpoints of the hash chains: key, auditors, intervals.
    pub checkpoints: crate::chain::checkpoint::Settings,
    /// The fund ledger: fund sources.
    pub ledger: crate::ledger::Settings,
    /// Days within which an accepted instalment is due (`SANSHE_PAYMENT_DUE_DAYS`).
    pub payment_due_days: i64,
    /// Working days of the review service standard (`SANSHE_REVIEW_WORKING_DAYS`).
    pub review_working_days: u32,
    /// The file store and its limits (`SANSHE_FILES_URL`, `SANSHE_FILE_MAX_MB`, …).
    pub files: crate::files::Settings,
    /// Audit flags that vary by programme (`SANSHE_LABOUR_CAP_PCT`, `SANSHE_FORBIDDEN_KEYWORDS`).
    pub flags: crate::domain::flags::Settings,
    /// People served: activity types, groups, the visits norm of the flags.
    pub people: crate::domain::people::Settings,
    /// Weights of an acceptance's performance evaluation (`SANSHE_PERFORMANCE_WEIGHTS`).
    pub performance_weights: crate::domain::performance::Weights,
    /// The reports' font, parsed once (`SANSHE_PDF_FONT`).
    pub report_font: std::sync::Arc<crate::pdf::ReportFont>,
    /// Who issues the reports (`SANSHE_ISSUER`).
    pub issuer: String,
    /// What every page's footer says of the site.
    pub site: std::sync::Arc<Site>,
}

/// The site's sponsor and filings, for every page's footer (a government site in China shows its 主办单位
/// with address and contact, and its ICP and public-security filing numbers). Empty settings are `None`.
#[derive(Debug, Clone, Default)]
pub struct Site {
    /// 主办单位: the issuer (`SANSHE_ISSUER`).
    pub sponsor: String,
    pub address: Option<String>,
    pub contact: Option<String>,
    pub icp: Option<String>,
    pub psb: Option<String>,
}

impl Site {
    pub fn new(sponsor: &str, address: &str, contact: &str, icp: &str, psb: &str) -> Site {
        let given = |s: &str| Some(s.trim().to_string()).filter(|s| !s.is_empty());
        Site {
            sponsor: sponsor.to_string(),
            address: given(address),
            contact: given(contact),
            icp: given(icp),
            psb: given(psb),
        }
    }
}

pub const JWT_ISSUER: &str = "sanshe";
pub const JWT_AUDIENCE: &str = "sanshe-api";

impl ConfigArgs {
    /// Validate and complete the settings; creates the data directory and any generated secret.
    pub fn resolve(self) -> Result<Config, String> {
        // Owner-only: it holds the database, the secrets and the mail files.
        create_private_dir(&self.data_dir).map_err(|e| format!("SANSHE_DATA_DIR: {e}"))?;
        let database = match &self.database_url {
            Some(url) => DbTarget::parse(url)?,
            None => DbTarget::Sqlite(self.data_dir.join("sanshe.db")),
        };
        if let Some(url) = &self.smtp_url {
            crate::mail::validate_smtp_url(url).map_err(|e| format!("SMTP_URL: {e}"))?;
        }
        if let Some(p) = &self.demo_password {
            crate::auth::password::check_policy(p)
                .map_err(|e| format!("SANSHE_DEMO_PASSWORD: {}", e.en))?;
        }
        let from = self.mail_from.trim();
        if from.parse::<lettre::message::Mailbox>().is_err() {
            return Err(format!("SANSHE_MAIL_FROM: not a mailbox: {from:?}"));
        }
        let public_url = self
            .public_url
            .clone()
            .unwrap_or_else(|| format!("http://{}", self.listen));
        url::Url::parse(&public_url).map_err(|e| format!("SANSHE_PUBLIC_URL: {e}"))?;
        let jwt_secret = secret_or_file(
            self.jwt_secret.as_deref(),
            &self.data_dir,
            "jwt.key",
            "SANSHE_JWT_SECRET",
        )?;
        let beneficiary_secret = secret_or_file(
            self.beneficiary_secret.as_deref(),
            &self.data_dir,
            "beneficiary.key",
            "SANSHE_BENEFICIARY_SECRET",
        )?;
        let seal_secret = secret_or_file(
            self.seal_secret.as_deref(),
            &self.data_dir,
            "seal.key",
            "SANSHE_SEAL_SECRET",
        )?;
        let key = checkpoint_key(self.checkpoint_key.as_deref(), &self.data_dir)?;
        let earlier_keys = split_list(self.checkpoint_earlier_keys.as_deref())
            .map(|k| {
                crate::chain::checkpoint::parse_public_key(k)
                    .map_err(|e| format!("SANSHE_CHECKPOINT_EARLIER_KEYS: {k:?}: {e}"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let auditors = split_list(self.auditor_emails.as_deref())
            .map(|a| match a.parse::<lettre::Address>() {
                Ok(_) => Ok(a.to_string()),
                Err(e) => Err(format!("SANSHE_AUDITOR_EMAILS: {a:?}: {e}")),
            })
            .collect::<Result<Vec<_>, _>>()?;
        let checkpoints = crate::chain::checkpoint::Settings {
            key,
            earlier_keys,
            auditors,
            every_events: self.checkpoint_every,
            every_minutes: self.checkpoint_minutes,
            public_url: public_url.trim_end_matches('/').to_string(),
        };
        let trusted_proxies = parse_trusted_proxies(self.trusted_proxies.as_deref())?;
        let tender_rules = crate::domain::tender::TenderRules {
            min_bids_open: self.min_bids_open,
            min_bids_invited: self.min_bids_invited,
            min_bids_consultation: self.min_bids_consultation,
            min_bids_negotiation: self.min_bids_negotiation,
            open_tender_threshold_fen: self.open_tender_threshold_yuan as i64 * 100,
            publicity_working_days: self.publicity_working_days,
            line_shares: crate::domain::tender::parse_line_shares(
                self.line_shares.as_deref().unwrap_or_default(),
            )
            .map_err(|e| format!("SANSHE_LINE_SHARES: {e}"))?,
            enquiries_per_day: self.enquiries_per_day,
            ..Default::default()
        };
        let ledger = crate::ledger::Settings {
            funds: crate::domain::ledger::parse_funds(&self.fund_sources)
                .map_err(|e| format!("SANSHE_FUND_SOURCES: {e}"))?,
        };
        let forbidden_keywords = crate::domain::flags::parse_keywords(&self.forbidden_keywords);
        if forbidden_keywords.is_empty() {
            return Err("SANSHE_FORBIDDEN_KEYWORDS: give at least one keyword".into());
        }
        let flags = crate::domain::flags::Settings {
            labour_cap_pct: self.labour_cap_pct.map(rust_decimal::Decimal::from),
            forbidden_keywords,
        };
        let people = crate::domain::people::Settings {
            kinds: crate::domain::vocab::parse_terms(&self.activity_kinds, "activity type")
                .map_err(|e| format!("SANSHE_ACTIVITY_KINDS: {e}"))?,
            groups: crate::domain::vocab::parse_terms(&self.beneficiary_groups, "group")
                .map_err(|e| format!("SANSHE_BENEFICIARY_GROUPS: {e}"))?,
            norm_factor: i64::from(self.visits_norm_factor),
            norm_floor: i64::from(self.visits_norm_floor),
        };
        let performance_weights =
            crate::domain::performance::Weights::parse(&self.performance_weights)
                .map_err(|e| format!("SANSHE_PERFORMANCE_WEIGHTS: {e}"))?;
        let report_font = crate::pdf::ReportFont::load(self.pdf_font.as_deref())?;
        let issuer = self.issuer.trim().to_string();
        if issuer.is_empty() || issuer.chars().count() > 60 {
            return Err("SANSHE_ISSUER: 1 to 60 characters (e.g. 官渡区民政局)".into());
        }
        let files = crate::files::Settings {
            location: match self.files_url.as_deref().map(str::trim) {
                None | Some("") => crate::files::Location::Local(self.data_dir.join("files")),
                Some(u) if u.starts_with("s3://") => crate::files::Location::S3 {
                    url: u.to_string(),
                    options: std::env::vars()
                        .filter(|(k, _)| k.starts_with("AWS_"))
                        .map(|(k, v)| (k.to_ascii_lowercase(), v))
                        .collect(),
                },
                Some(dir) => crate::files::Location::Local(PathBuf::from(dir)),
            },
            file_max: u64::from(self.file_max_mb) * 1024 * 1024,
            bid_max: u64::from(self.bid_files_max_mb) * 1024 * 1024,
            kinds: crate::domain::files::parse_kinds(&self.file_kinds)
                .map_err(|e| format!("SANSHE_FILE_KINDS: {e}"))?,
        };
        // Opened once here so a bad location stops the program with its reason (the server opens it again).
        crate::files::Store::open(files.clone())?;
        let site = std::sync::Arc::new(Site::new(
            &issuer,
            &self.site_address,
            &self.site_contact,
            &self.icp_number,
            &self.psb_number,
        ));
        Ok(Config {
            issuer,
            site,
            report_font,
            flags,
            people,
            performance_weights,
            ledger,
            payment_due_days: i64::from(self.payment_due_days),
            review_working_days: self.review_working_days,
            files,
            checkpoints,
            tender_rules,
            line_shares_set: self.line_shares.is_some(),
            scheduler_every: Duration::from_millis(self.scheduler_ms),
            seal_secret,
            listen: self.listen,
            database,
            data_dir: self.data_dir,
            demo_password: self.demo_password.map(Secret),
            smtp_url: self.smtp_url.map(Secret),
            mail_from: from.to_string(),
            public_url: public_url.trim_end_matches('/').to_string(),
            jwt_secret,
            beneficiary_secret,
            token_ttl: Duration::from_secs(u64::from(self.token_ttl_minutes) * 60),
            jwt_issuer: JWT_ISSUER.into(),
            jwt_audience: JWT_AUDIENCE.into(),
            login_max_failures: self.login_max_failures,
            login_max_failures_per_addr: self.login_max_failures_per_addr,
            login_lock: Duration::from_secs(self.login_lock_seconds),
            login_account_delay_max: Duration::from_millis(self.login_account_delay_max_ms),
            trusted_proxies,
            mail_retry: Duration::from_millis(self.mail_retry_ms),
            mail_poll: Duration::from_millis(self.mail_poll_ms),
            cookie_secure: self.cookie_secure,
            workers: self.workers.unwrap_or_else(|| {
                std::thread::available_parallelism()
                    .map(|n| n.get())
                    .unwrap_or(2)
            }),
            db_pool: self.db_pool,
            sqlite_write_queue: self.sqlite_write_queue,
            abnormal_list_bars: self.abnormal_list_bars,
            annual_report_due: self.annual_report_due,
            foundation_report_due: self.foundation_report_due,
            incubation_years: self.incubation_years,
            calendar: std::sync::Arc::new(match &self.calendar_file {
                Some(p) => {
                    let text = std::fs::read_to_string(p).map_err(|e| {
                        format!("SANSHE_CALENDAR_FILE: cannot read {}: {e}", p.display())
                    })?;
                    crate::domain::calendar::BusinessCalendar::parse(&text)
                        .map_err(|e| format!("SANSHE_CALENDAR_FILE: {e}"))?
                }
                None => crate::domain::calendar::BusinessCalendar::builtin(),
            }),
        })
    }
}

/// The checkpoint signing key: given (64 hex characters), or generated once into
/// `DATA_DIR/secrets/checkpoint.key` (owner-only, like the other secrets) from 32 random bytes.
pub fn checkpoint_key(
    given: Option<&str>,
    data_dir: &Path,
) -> Result<crate::chain::checkpoint::Key, String> {
    const VAR: &str = "SANSHE_CHECKPOINT_KEY";
    let s = secret_or_file(given, data_dir, "checkpoint.key", VAR)?;
    crate::chain::checkpoint::Key::from_hex(s.expose()).map_err(|e| {
        format!("{VAR}: {e} (the Ed25519 secret key, 32 bytes as 64 hexadecimal characters)")
    })
}

/// The non-empty items of a comma-separated setting.
fn split_list(s: Option<&str>) -> impl Iterator<Item = &str> {
    s.unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|x| !x.is_empty())
}

/// `SANSHE_TRUSTED_PROXIES`: IP addresses separated by commas or spaces.
fn parse_trusted_proxies(s: Option<&str>) -> Result<Vec<std::net::IpAddr>, String> {
    s.unwrap_or("")
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|p| !p.is_empty())
        .map(|p| {
            p.parse()
                .map_err(|_| format!("SANSHE_TRUSTED_PROXIES: not an IP address: {p:?}"))
        })
        .collect()
}

/// A configured secret, or one generated once into `DATA_DIR/secrets/NAME` with owner-only permissions.
fn secret_or_file(
    given: Option<&str>,
    data_dir: &Path,
    name: &str,
    var: &str,
) -> Result<Secret, String> {
    if let Some(s) = given {
        if s.len() < 32 {
            return Err(format!("{var}: must be at least 32 characters"));
        }
        return Ok(Secret::new(s));
    }
    let dir = data_dir.join("secrets");
    let path = dir.join(name);
    if path.exists() {
        let s = std::fs::read_to_string(&path)
            .map_err(|e| format!("{var}: cannot read {}: {e}", path.display()))?;
        let s = s.trim().to_string();
        if s.len() < 32 {
            return Err(format!(
                "{var}: {} is shorter than 32 characters",
                path.display()
            ));
        }
        return Ok(Secret(s));
    }
    create_private_dir(&dir)?;
    let mut bytes = [0u8; 32];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut bytes);
    let value = hex::encode(bytes);
    write_private_file(&path, &value)
        .map_err(|e| format!("{var}: cannot write {}: {e}", path.display()))?;
    tracing::info!(file = %path.display(), "generated a new secret");
    Ok(Secret(value))
}

fn create_private_dir(dir: &Path) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
            .map_err(|e| format!("cannot restrict {}: {e}", dir.display()))?;
    }
    Ok(())
}

fn write_private_file(path: &Path, value: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path)?;
    f.write_all(value.as_bytes())?;
    f.sync_all()
}

/// A due day `MM-DD` for clap (`domain::standing::parse_due`).
fn due_day(s: &str) -> Result<(u32, u32), String> {
    crate::domain::standing::parse_due(s)
        .ok_or_else(|| format!("{s:?} is not a day of every year as MM-DD (e.g. 05-31)"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_never_prints() {
        let s = Secret::new("top-secret-value");
        assert!(!format!("{s:?}").contains("top-secret"));
    }

    #[test]
    fn trusted_proxies_parse() {
        assert!(parse_trusted_proxies(None).unwrap().is_empty());
        assert_eq!(
            parse_trusted_proxies(Some("10.0.0.1, ::1")).unwrap(),
            vec![
                "10.0.0.1".parse::<std::net::IpAddr>().unwrap(),
                "::1".parse().unwrap()
            ]
        );
        assert!(
            parse_trusted_proxies(Some("10.0.0.0/8"))
                .unwrap_err()
                .contains("SANSHE_TRUSTED_PROXIES")
        );
    }

    #[test]
    fn generated_secret_is_private_and_stable() {
        let dir = std::env::temp_dir().join(format!("sanshe-cfg-{}", uuid::Uuid::new_v4()));
        let a = secret_or_file(None, &dir, "jwt.key", "X").unwrap();
        let b = secret_or_file(None, &dir, "jwt.key", "X").unwrap();
        assert_eq!(a.expose(), b.expose());
        assert_eq!(a.expose().len(), 64);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.join("secrets/jwt.key"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert!(
            secret_or_file(Some("short"), &dir, "jwt.key", "X")
                .unwrap_err()
                .contains("32")
        );
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn the_checkpoint_key_is_generated_once_and_checked() {
        let dir = std::env::temp_dir().join(format!("sanshe-cfg-{}", uuid::Uuid::new_v4()));
        let a = checkpoint_key(None, &dir).unwrap();
        let b = checkpoint_key(None, &dir).unwrap();
        assert_eq!(a.public_hex(), b.public_hex());
        let given = checkpoint_key(Some(&"ab".repeat(32)), &dir).unwrap();
        assert_ne!(given.public_hex(), a.public_hex());
        let e = checkpoint_key(Some(&"xy".repeat(32)), &dir).unwrap_err();
        assert!(e.contains("SANSHE_CHECKPOINT_KEY"), "{e}");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.join("secrets/checkpoint.key"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        std::fs::remove_dir_all(dir).unwrap();
    }
}

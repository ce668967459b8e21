//! The test harness: a real Sanshe started in-process on a fresh database per test (an SQLite file in its
//! own directory, or a PostgreSQL schema of its own), so tests run in parallel.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use sanshe::app::{AppState, Running};
use sanshe::config::{Config, Secret};
use sanshe::db::{DbConn, DbTarget};

pub const PASSWORD: &str = "test-password-123";
pub const JWT_SECRET: &str = "test-jwt-secret-test-jwt-secret-0123456789";
pub const BENEFICIARY_SECRET: &str = "test-beneficiary-secret-0123456789abcdef";
pub const SEAL_SECRET: &str = "test-seal-secret-0123456789abcdef0123";

/// Which database a test runs on.
#[derive(Clone, Debug)]
pub enum Backend {
    Sqlite,
    Postgres(String),
}

impl Backend {
    /// PostgreSQL from `SANSHE_TEST_PG_URL`; `None` (and a note) when unset, unless `SANSHE_REQUIRE_PG` is
    /// set, in which case a missing or unreachable server fails the test.
    pub fn postgres() -> Option<Backend> {
        let required = std::env::var("SANSHE_REQUIRE_PG").is_ok_and(|v| !v.is_empty() && v != "0");
        match std::env::var("SANSHE_TEST_PG_URL") {
            Ok(url) if !url.is_empty() => {
                if let Err(e) = PgConnection::establish(&url) {
                    panic!("SANSHE_TEST_PG_URL is set but PostgreSQL is unreachable: {e}");
                }
                Some(Backend::Postgres(url))
            }
            _ if required => panic!("SANSHE_REQUIRE_PG is set but SANSHE_TEST_PG_URL is not"),
            _ => {
                eprintln!("PostgreSQL suite not run: SANSHE_TEST_PG_URL is not set");
                None
            }
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres(_) => "postgres",
        }
    }
}

/// Runs an `async fn(Backend)` as two tests, `sqlite` and `postgres`.
#[macro_export]
macro_rules! both_backends {
    ($($name:ident),+ $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$name($crate::helpers::Backend::Sqlite).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if let Some(b) = $crate::helpers::Backend::postgres() {
                    super::$name(b).await
                }
            }
        }
    )+};
}

/// A fresh database of its own.
#[derive(Debug)]
pub struct TestDb {
    pub dir: PathBuf,
    pub target: DbTarget,
    /// PostgreSQL: (server URL, schema), dropped with the TestDb.
    pg: Option<(String, String)>,
    /// PostgreSQL: (server URL, database) of a copy of the demo, dropped with the TestDb.
    pg_database: Option<(String, String)>,
}

impl TestDb {
    pub fn new(backend: &Backend) -> TestDb {
        let id = uuid::Uuid::new_v4().simple().to_string();
        let dir = std::env::temp_dir().join(format!("sanshe-test-{id}"));
        std::fs::create_dir_all(&dir).unwrap();
        match backend {
            Backend::Sqlite => TestDb {
                target: DbTarget::Sqlite(dir.join("sanshe.db")),
                dir,
                pg: None,
                pg_database: None,
            },
            Backend::Postgres(url) => {
                let schema = format!("t_{id}");
                let mut c = PgConnection::establish(url).expect("PostgreSQL reachable");
                c.batch_execute(&format!("CREATE SCHEMA \"{schema}\""))
                    .unwrap();
                TestDb {
                    target: DbTarget::Postgres {
                        url: url.clone(),
                        schema: Some(schema.clone()),
                    },
                    dir,
                    pg: Some((url.clone(), schema)),
                    pg_database: None,
                }
            }
        }
    }

    /// A DATABASE_URL for the command line that reaches the same database.
    pub fn url(&self) -> String {
        match &self.target {
            DbTarget::Sqlite(p) => format!("sqlite://{}", p.display()),
            DbTarget::Postgres { url, schema: None } => url.clone(),
            DbTarget::Postgres {
                url,
                schema: Some(schema),
            } => {
                let sep = if url.contains('?') { '&' } else { '?' };
                format!("{url}{sep}options=-csearch_path%3D{schema}")
            }
        }
    }

    pub fn conn(&self) -> DbConn {
        let pool = sanshe::db::connect(&self.target, 1).unwrap();
        // r2d2 gives pooled connections; tests want a plain one they can keep.
        drop(pool);
        match &self.target {
            DbTarget::Sqlite(p) => {
                let mut c = SqliteConnection::establish(&p.to_string_lossy()).unwrap();
                c.batch_execute("PRAGMA busy_timeout = 10000; PRAGMA foreign_keys = ON;")
                    .unwrap();
                DbConn::Sqlite(c)
            }
            DbTarget::Postgres { url, schema } => {
                let mut c = PgConnection::establish(url).unwrap();
                c.batch_execute(&format!(
                    "SET search_path TO \"{}\"",
                    schema.as_deref().unwrap_or("public")
                ))
                .unwrap();
                DbConn::Pg(c)
            }
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some((url, schema)) = &self.pg
            && let Ok(mut c) = PgConnection::establish(url)
        {
            let _ = c.batch_execute(&format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE"));
        }
        if let Some((url, name)) = &self.pg_database
            && let Ok(mut c) = PgConnection::establish(url)
        {
            let _ = c.batch_execute(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"));
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The whole demo as `sanshe seed --demo` makes it (registry, tenders, contracts, ledger, some 50,000
/// people served), with this harness's secrets and password: seeded once per backend and test run, then
/// copied for each test that reads it. Seeding takes 10–40 s; a copy (the SQLite file, or PostgreSQL's
/// `CREATE DATABASE … TEMPLATE`) well under one.
pub struct DemoSeed {
    /// What the seeding command printed: standard output and the log.
    pub out: String,
    pub err: String,
    dir: PathBuf,
    /// PostgreSQL: (server URL, template database).
    pg: Option<(String, String)>,
}

static DEMO_SQLITE: std::sync::OnceLock<DemoSeed> = std::sync::OnceLock::new();
static DEMO_PG: std::sync::OnceLock<DemoSeed> = std::sync::OnceLock::new();
/// PostgreSQL copies one database from the template at a time.
static DEMO_COPY: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// The URL of another database on the same PostgreSQL server.
fn pg_database_url(server: &str, name: &str) -> String {
    let mut u = url::Url::parse(server).expect("a PostgreSQL URL");
    u.set_path(&format!("/{name}"));
    u.to_string()
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dest = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &dest);
        } else {
            std::fs::copy(e.path(), dest).unwrap();
        }
    }
}

/// A test run's demo names its process; what an earlier, ended run left is removed.
fn is_stale(name: &str, prefix: &str) -> bool {
    name.strip_prefix(prefix)
        .and_then(|rest| rest.split('_').next()?.parse::<u32>().ok())
        .is_some_and(|pid| !std::path::Path::new(&format!("/proc/{pid}")).exists())
}

impl DemoSeed {
    fn new(b: &Backend) -> DemoSeed {
        let pid = std::process::id();
        let tmp = std::env::temp_dir();
        for e in std::fs::read_dir(&tmp).into_iter().flatten().flatten() {
            if is_stale(&e.file_name().to_string_lossy(), "sanshe-test-demo-") {
                let _ = std::fs::remove_dir_all(e.path());
            }
        }
        let dir = tmp.join(format!("sanshe-test-demo-{pid}_{}", b.name()));
        let _ = std::fs::remove_dir_all(&dir);
        // The harness's secrets as the program's own secret files, so every command and server run on a
        // copy uses them.
        std::fs::create_dir_all(dir.join("secrets")).unwrap();
        for (file, value) in [
            ("jwt.key", JWT_SECRET),
            ("beneficiary.key", BENEFICIARY_SECRET),
            ("seal.key", SEAL_SECRET),
        ] {
            std::fs::write(dir.join("secrets").join(file), value).unwrap();
        }
        let (url, pg) = match b {
            Backend::Sqlite => (
                format!("sqlite://{}", dir.join("sanshe.db").display()),
                None,
            ),
            Backend::Postgres(server) => {
                let mut c = PgConnection::establish(server).expect("PostgreSQL reachable");
                #[derive(QueryableByName)]
                struct Database {
                    #[diesel(sql_type = diesel::sql_types::Text)]
                    datname: String,
                }
                let names: Vec<Database> = diesel::sql_query(
                    "SELECT datname FROM pg_database WHERE datname LIKE 'sanshe_demo_%'",
                )
                .load(&mut c)
                .unwrap();
                let names = names.into_iter().map(|d| d.datname);
                for n in names.filter(|n| is_stale(n, "sanshe_demo_")) {
                    let _ =
                        c.batch_execute(&format!("DROP DATABASE IF EXISTS \"{n}\" WITH (FORCE)"));
                }
                let name = format!("sanshe_demo_{pid}");
                c.batch_execute(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                    .unwrap();
                c.batch_execute(&format!("CREATE DATABASE \"{name}\""))
                    .unwrap();
                (pg_database_url(server, &name), Some((server.clone(), name)))
            }
        };
        let o = std::process::Command::new(env!("CARGO_BIN_EXE_sanshe"))
            .args(["seed", "--demo"])
            .env("DATABASE_URL", &url)
            .env("SANSHE_DATA_DIR", &dir)
            .env("SANSHE_LOG", "info")
            .env("SANSHE_DEMO_PASSWORD", PASSWORD)
            .env_remove("SANSHE_JWT_SECRET")
            .env_remove("SANSHE_BENEFICIARY_SECRET")
            .env_remove("SANSHE_SEAL_SECRET")
            .env_remove("SANSHE_NEW_PASSWORD")
            .env_remove("SMTP_URL")
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap();
        let (out, err) = (
            String::from_utf8_lossy(&o.stdout).into_owned(),
            String::from_utf8_lossy(&o.stderr).into_owned(),
        );
        assert!(
            o.status.success(),
            "sanshe seed --demo failed:\n{out}\n{err}"
        );
        DemoSeed { out, err, dir, pg }
    }

    /// A database of its own with the demo in it (and the data directory's generated keys).
    fn copy(&self) -> TestDb {
        let id = uuid::Uuid::new_v4().simple().to_string();
        let dir = std::env::temp_dir().join(format!("sanshe-test-{id}"));
        copy_dir(&self.dir, &dir);
        match &self.pg {
            None => TestDb {
                target: DbTarget::Sqlite(dir.join("sanshe.db")),
                dir,
                pg: None,
                pg_database: None,
            },
            Some((server, template)) => {
                let name = format!("t_{id}");
                let mut c = PgConnection::establish(server).expect("PostgreSQL reachable");
                {
                    let _one = DEMO_COPY.lock().unwrap_or_else(|e| e.into_inner());
                    c.batch_execute(&format!(
                        "CREATE DATABASE \"{name}\" TEMPLATE \"{template}\""
                    ))
                    .unwrap();
                }
                TestDb {
                    target: DbTarget::Postgres {
                        url: pg_database_url(server, &name),
                        schema: None,
                    },
                    dir,
                    pg: None,
                    pg_database: Some((server.clone(), name)),
                }
            }
        }
    }
}

impl TestDb {
    /// A database of its own holding a copy of the demo, and what seeding it printed.
    pub async fn demo(backend: &Backend) -> (TestDb, &'static DemoSeed) {
        let b = backend.clone();
        tokio::task::spawn_blocking(move || {
            let cell = match b {
                Backend::Sqlite => &DEMO_SQLITE,
                Backend::Postgres(_) => &DEMO_PG,
            };
            let seed = cell.get_or_init(|| DemoSeed::new(&b));
            (seed.copy(), seed)
        })
        .await
        .unwrap()
    }
}

/// Settings a test may change.
#[derive(Clone, Debug)]
pub struct Options {
    pub smtp_url: Option<String>,
    pub login_max_failures: u32,
    pub login_max_failures_per_addr: u32,
    /// The cap of the account-wide sign-in delay.
    pub login_account_delay_max: Duration,
    /// `SANSHE_TRUSTED_PROXIES`: tests that play several client addresses trust loopback and send
    /// `X-Forwarded-For`.
    pub trusted_proxies: Vec<std::net::IpAddr>,
    pub mail_retry: Duration,
    pub mail_poll: Duration,
    pub seed: bool,
    /// Also load the registry of the demo district (streets, organisations, bases, incubations).
    pub registry_demo: bool,
    /// A clock the test moves; the system clock when `None`.
    pub clock: Option<sanshe::clock::ManualClock>,
    /// How often the tender scheduler runs (its first pass comes one period after start).
    pub scheduler_every: Duration,
    /// Who receives each new checkpoint by e-mail.
    pub auditor_emails: Vec<String>,
    /// The scheduler's checkpoint intervals (events, minutes); both 0 (no scheduled checkpoints) by default.
    pub checkpoint_every: (u32, u32),
    /// `SANSHE_ENQUIRIES_PER_DAY`: enquiries per organisation, tender and Beijing day.
    pub enquiries_per_day: u32,
    /// The file store; `None`: a directory beside the database.
    pub files: Option<sanshe::files::Settings>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            smtp_url: None,
            login_max_failures: 5,
            login_max_failures_per_addr: 50,
            login_account_delay_max: Duration::from_millis(300),
            trusted_proxies: Vec::new(),
            mail_retry: Duration::from_millis(200),
            mail_poll: Duration::from_millis(100),
            seed: true,
            registry_demo: false,
            clock: None,
            scheduler_every: Duration::from_secs(3600),
            auditor_emails: Vec::new(),
            checkpoint_every: (0, 0),
            enquiries_per_day: 20,
            files: None,
        }
    }
}

pub fn config(db: &TestDb, o: &Options) -> Config {
    Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        database: db.target.clone(),
        data_dir: db.dir.clone(),
        demo_password: Some(Secret::new(PASSWORD)),
        smtp_url: o.smtp_url.clone().map(Secret::new),
        mail_from: "三社 Sanshe <noreply@sanshe.test>".into(),
        public_url: "http://sanshe.test".into(),
        jwt_secret: Secret::new(JWT_SECRET),
        beneficiary_secret: Secret::new(BENEFICIARY_SECRET),
        token_ttl: Duration::from_secs(3600),
        jwt_issuer: sanshe::config::JWT_ISSUER.into(),
        jwt_audience: sanshe::config::JWT_AUDIENCE.into(),
        login_max_failures: o.login_max_failures,
        login_max_failures_per_addr: o.login_max_failures_per_addr,
        login_lock: Duration::from_secs(60),
        login_account_delay_max: o.login_account_delay_max,
        trusted_proxies: o.trusted_proxies.clone(),
        mail_retry: o.mail_retry,
        mail_poll: o.mail_poll,
        cookie_secure: false,
        workers: 2,
        db_pool: 4,
        sqlite_write_queue: true,
        abnormal_list_bars: false,
        annual_report_due: (5, 31),
        foundation_report_due: (3, 31),
        incubation_years: 2,
        calendar: Arc::new(sanshe::domain::calendar::BusinessCalendar::builtin()),
        seal_secret: Secret::new(SEAL_SECRET),
        // The demo's programme (a management fee of at most 10 %), so its rule and flag show.
        tender_rules: sanshe::domain::tender::TenderRules {
            enquiries_per_day: o.enquiries_per_day,
            line_shares: sanshe::domain::tender::demo_line_shares(),
            ..Default::default()
        },
        line_shares_set: true,
        // Tests drive time through the injected clock, and every access advances tenders; a background pass
        // racing a test's own set-up would only make results depend on timing.
        scheduler_every: o.scheduler_every,
        // The key is generated into the data directory, as the program does, so `sanshe verify` run with
        // the same SANSHE_DATA_DIR trusts the same key.
        checkpoints: sanshe::chain::checkpoint::Settings {
            key: sanshe::config::checkpoint_key(None, &db.dir).unwrap(),
            earlier_keys: Vec::new(),
            auditors: o.auditor_emails.clone(),
            every_events: o.checkpoint_every.0,
            every_minutes: o.checkpoint_every.1,
            public_url: "http://sanshe.test".into(),
        },
        ledger: sanshe::ledger::Settings::default(),
        flags: sanshe::domain::flags::Settings::default(),
        people: sanshe::domain::people::Settings::default(),
        performance_weights: sanshe::domain::performance::Weights::default(),
        report_font: sanshe::pdf::ReportFont::load(None).unwrap(),
        issuer: "区民政局".into(),
        site: Arc::new(sanshe::config::Site::new(
            "区民政局",
            "幸福路 1 号",
            "0871-12345678",
            "",
            "",
        )),
        payment_due_days: 30,
        review_working_days: 5,
        files: o
            .files
            .clone()
            .unwrap_or_else(|| sanshe::files::Settings::local(db.dir.join("files"))),
    }
}

pub struct TestApp {
    pub base: String,
    running: Option<Running>,
    pub db: Arc<TestDb>,
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .cookie_store(true)
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

impl TestApp {
    pub async fn spawn(backend: &Backend) -> TestApp {
        Self::spawn_with(backend, Options::default()).await
    }

    pub async fn spawn_with(backend: &Backend, o: Options) -> TestApp {
        let db = Arc::new(TestDb::new(backend));
        Self::start_on(db, o).await
    }

    /// On a copy of the whole demo (`TestDb::demo`), seeded once per backend and test run.
    pub async fn demo(backend: &Backend) -> TestApp {
        let (db, _) = TestDb::demo(backend).await;
        Self::start_on(Arc::new(db), Options::default()).await
    }

    /// With the registry of the demo district (streets, organisations, bases, incubations).
    pub async fn registry_demo(backend: &Backend) -> TestApp {
        Self::spawn_with(
            backend,
            Options {
                registry_demo: true,
                ..Default::default()
            },
        )
        .await
    }

    /// Start (again) on an existing database, as after a restart.
    pub async fn start_on(db: Arc<TestDb>, o: Options) -> TestApp {
        let cfg = config(&db, &o);
        let c2 = cfg.clone();
        let pool = tokio::task::spawn_blocking(move || sanshe::app::open_database(&c2))
            .await
            .unwrap()
            .unwrap();
        let clock: Arc<dyn sanshe::clock::Clock> = match &o.clock {
            Some(c) => Arc::new(c.clone()),
            None => Arc::new(sanshe::clock::SystemClock),
        };
        let state = AppState::new(cfg, pool, clock);
        if o.seed {
            let s = state.clone();
            let registry_demo = o.registry_demo;
            tokio::task::spawn_blocking(move || {
                let mut c = s.pool.get().unwrap();
                sanshe::seed::seed_staff(&mut c, &s.mail, s.clock.now(), Some(PASSWORD)).unwrap();
                if registry_demo {
                    let cfg = &s.config;
                    sanshe::seed::seed_registry(
                        &mut c,
                        s.clock.now(),
                        PASSWORD,
                        cfg.beneficiary_secret.expose(),
                        &cfg.calendar,
                    )
                    .unwrap();
                }
            })
            .await
            .unwrap();
        }
        let running = sanshe::app::start(state, false).await.unwrap();
        TestApp {
            base: format!("http://{}", running.addr),
            running: Some(running),
            db,
        }
    }

    pub async fn stop(mut self) -> Arc<TestDb> {
        if let Some(r) = self.running.take() {
            r.stop().await;
        }
        self.db.clone()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// The running server's own connection pool.
    pub fn server_pool(&self) -> sanshe::db::Pool {
        self.running.as_ref().expect("running").state.pool.clone()
    }

    /// One more pass of the mail sender, as the worker makes: how many messages it sent.
    pub async fn mail_pass(&self) -> usize {
        let s = &self.running.as_ref().expect("running").state;
        sanshe::mail::send_due(&s.pool, &s.clock, &s.mail)
            .await
            .unwrap()
    }

    /// Sign in through the API and return the bearer token.
    pub async fn token(&self, username: &str) -> String {
        self.token_with(username, PASSWORD).await
    }

    pub async fn token_with(&self, username: &str, password: &str) -> String {
        let r = client()
            .post(self.url("/api/v1/auth/login"))
            .json(&serde_json::json!({"username": username, "password": password}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "login of {username} failed");
        let v: serde_json::Value = r.json().await.unwrap();
        v["token"].as_str().unwrap().to_string()
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> reqwest::Response {
        let mut r = client().get(self.url(path));
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        r.send().await.unwrap()
    }

    pub async fn send_json(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: &serde_json::Value,
    ) -> reqwest::Response {
        let mut r = client()
            .request(method.parse().unwrap(), self.url(path))
            .json(body);
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        r.send().await.unwrap()
    }

    /// An org user (organisations arrive with the registry; the id is a plain number until then).
    pub async fn create_user(
        &self,
        username: &str,
        role: &str,
        org_id: Option<i64>,
        email: Option<&str>,
    ) -> i64 {
        let admin = self.token("admin").await;
        let r = self
            .send_json(
                "POST",
                "/api/v1/users",
                Some(&admin),
                &serde_json::json!({"username": username, "display_name": format!("测试 {username}"), "role": role, "org_id": org_id, "email": email, "password": PASSWORD}),
            )
            .await;
        assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
        let v: serde_json::Value = r.json().await.unwrap();
        v["id"].as_i64().unwrap()
    }

    pub fn conn(&self) -> DbConn {
        self.db.conn()
    }

    /// Every row of every table, in a fixed order: equal snapshots mean nothing changed.
    pub fn snapshot(&self) -> String {
        snapshot(&mut self.conn())
    }
}

pub fn snapshot(c: &mut DbConn) -> String {
    use sanshe::db::schema::{audit_events as a, chain_checkpoints as k, outbox as o, users as u};
    let users: Vec<(
        i64,
        String,
        String,
        Option<String>,
        String,
        Option<i64>,
        String,
        bool,
        i64,
    )> = u::table
        .order(u::id)
        .select((
            u::id,
            u::username,
            u::display_name,
            u::email,
            u::role,
            u::org_id,
            u::password_hash,
            u::active,
            u::token_version,
        ))
        .load(c)
        .unwrap();
    let audit: Vec<(i64, String)> = a::table
        .order(a::seq)
        .select((a::seq, a::hash))
        .load(c)
        .unwrap();
    // Not the delivery status: the mail worker changes it in the background.
    let outbox: Vec<(i64, String, String)> = o::table
        .order(o::id)
        .select((o::id, o::to_addr, o::subject))
        .load(c)
        .unwrap();
    let checkpoints: Vec<(i64, String, i64, String, String)> = k::table
        .order(k::id)
        .select((k::id, k::chain, k::seq, k::hash, k::signature))
        .load(c)
        .unwrap();
    let files: Vec<(i64, String, String)> = sanshe::db::schema::files::table
        .order(sanshe::db::schema::files::id)
        .select((
            sanshe::db::schema::files::id,
            sanshe::db::schema::files::sha256,
            sanshe::db::schema::files::name,
        ))
        .load(c)
        .unwrap();
    format!("{users:?}\n{audit:?}\n{outbox:?}\n{checkpoints:?}\n{files:?}")
}

/// Wait until `f` holds, polling; panics with `what` after `secs`.
pub async fn wait_for<F: FnMut() -> bool>(secs: u64, what: &str, mut f: F) {
    let deadline = std::time::Instant::now() + Duration::from_secs(secs);
    while !f() {
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A free TCP port on loopback.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Assert a problem+json answer with this status and code, and return its body.
/// The (field, rule) pairs of a problem+json's errors, in order.
pub fn rules_of(p: &serde_json::Value) -> Vec<(String, String)> {
    p["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["field"].as_str().unwrap().to_string(),
                e["rule"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

pub async fn problem(r: reqwest::Response, status: u16, code: &str) -> serde_json::Value {
    assert_eq!(r.status().as_u16(), status, "status");
    let ct = r
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    assert!(
        ct.starts_with("application/problem+json"),
        "content type {ct}"
    );
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["code"], code, "{v}");
    assert_eq!(v["status"], status);
    assert!(
        v["message"]["zh-CN"]
            .as_str()
            .is_some_and(|s| !s.is_empty()),
        "{v}"
    );
    assert!(
        v["message"]["en"].as_str().is_some_and(|s| !s.is_empty()),
        "{v}"
    );
    v
}

/// The CSRF token embedded in a page's forms.
pub fn csrf_of(html: &str) -> String {
    let i = html
        .find("name=\"csrf\" value=\"")
        .expect("a form with a csrf field");
    let rest = &html[i + 19..];
    rest[..rest.find('"').unwrap()].to_string()
}

/// A page as the client (signed in with [`sign_in`]) sees it: status and HTML.
pub async fn page_as(app: &TestApp, c: &reqwest::Client, path: &str) -> (u16, String) {
    let r = c.get(app.url(path)).send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

/// Sign in through the form like a browser; returns the client holding the session cookie.
pub async fn sign_in(app: &TestApp, user: &str) -> reqwest::Client {
    let c = client();
    let html = c
        .get(app.url("/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let r = c
        .post(app.url("/login"))
        .form(&[
            ("csrf", csrf_of(&html).as_str()),
            ("username", user),
            ("password", PASSWORD),
            ("next", "/dashboard"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
    assert_eq!(r.headers()["location"], "/dashboard");
    let cookie = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|c| c.starts_with("sanshe_session="));
    let cookie = cookie.expect("session cookie");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    c
}

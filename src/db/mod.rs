//! Database access: backend choice from the URL, the r2d2 pool, embedded migrations, transactions.
//!
//! One code path serves SQLite and PostgreSQL through diesel's `MultiConnection`. The backend is chosen from
//! the URL scheme here (never by trial connection, which hides the real error of a bad PostgreSQL URL).

pub mod schema;

use std::path::PathBuf;
use std::time::Duration;

use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::sqlite::SqliteConnection;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use crate::error::AppError;

pub const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
pub const PG_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

#[derive(diesel::MultiConnection)]
pub enum DbConn {
    Pg(PgConnection),
    Sqlite(SqliteConnection),
}

pub type Pool = r2d2::Pool<Manager>;
pub type PooledConn = r2d2::PooledConnection<Manager>;

/// Which database a URL names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DbTarget {
    Sqlite(PathBuf),
    Postgres {
        url: String,
        /// Optional schema put first on the search path of every connection (tests use one per test).
        schema: Option<String>,
    },
}

impl DbTarget {
    /// `sqlite://PATH`, `sqlite:PATH` or `postgres://…` / `postgresql://…`.
    pub fn parse(url: &str) -> Result<DbTarget, String> {
        let url = url.trim();
        if let Some(rest) = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
        {
            if rest.is_empty() {
                return Err(
                    "DATABASE_URL: sqlite URL has no file path (expected sqlite://PATH)".into(),
                );
            }
            return Ok(DbTarget::Sqlite(PathBuf::from(rest)));
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let parsed = url::Url::parse(url)
                .map_err(|e| format!("DATABASE_URL: not a valid PostgreSQL URL ({e})"))?;
            if parsed.host_str().unwrap_or("").is_empty() && !url.contains("host=") {
                return Err("DATABASE_URL: PostgreSQL URL has no host".into());
            }
            return Ok(DbTarget::Postgres {
                url: url.to_string(),
                schema: None,
            });
        }
        let scheme = url.split("://").next().unwrap_or(url);
        Err(format!(
            "DATABASE_URL: unsupported scheme in {scheme:?}; use sqlite://PATH or postgres://USER@HOST/DB"
        ))
    }

    pub fn backend_name(&self) -> &'static str {
        match self {
            DbTarget::Sqlite(_) => "sqlite",
            DbTarget::Postgres { .. } => "postgres",
        }
    }

    /// A description safe for logs: no password.
    pub fn redacted(&self) -> String {
        match self {
            DbTarget::Sqlite(p) => format!("sqlite://{}", p.display()),
            DbTarget::Postgres { url, .. } => match url::Url::parse(url) {
                Ok(mut u) => {
                    if u.password().is_some() {
                        let _ = u.set_password(Some("***"));
                    }
                    u.to_string()
                }
                Err(_) => "postgres://(unparsable)".into(),
            },
        }
    }
}

/// r2d2 manager that opens the backend the URL names and applies per-connection settings.
#[derive(Debug)]
pub struct Manager {
    target: DbTarget,
}

impl Manager {
    pub fn new(target: DbTarget) -> Self {
        Manager { target }
    }

    fn open(&self) -> ConnectionResult<DbConn> {
        match &self.target {
            DbTarget::Sqlite(path) => {
                let mut c = SqliteConnection::establish(&path.to_string_lossy())?;
                // busy_timeout first, so the other pragmas wait for a busy writer instead of failing.
                c.batch_execute(
                    "PRAGMA busy_timeout = 10000; PRAGMA foreign_keys = ON; PRAGMA synchronous = FULL;",
                )
                .map_err(|e| ConnectionError::BadConnection(e.to_string()))?;
                if wal_checkpoints::in_background() {
                    c.batch_execute(wal_checkpoints::OFF_THE_WRITE_PATH)
                        .map_err(|e| ConnectionError::BadConnection(e.to_string()))?;
                }
                write_queue::watch(&mut c);
                Ok(DbConn::Sqlite(c))
            }
            DbTarget::Postgres { url, schema } => {
                let mut c = PgConnection::establish(url)?;
                if let Some(s) = schema {
                    c.batch_execute(&format!("SET search_path TO \"{s}\""))
                        .map_err(|e| ConnectionError::BadConnection(e.to_string()))?;
                }
                Ok(DbConn::Pg(c))
            }
        }
    }
}

#[derive(Debug)]
pub struct ManagerError(pub String);
impl std::fmt::Display for ManagerError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}
impl std::error::Error for ManagerError {}

impl r2d2::ManageConnection for Manager {
    type Connection = DbConn;
    type Error = ManagerError;

    fn connect(&self) -> Result<DbConn, ManagerError> {
        self.open().map_err(|e| ManagerError(e.to_string()))
    }

    fn is_valid(&self, conn: &mut DbConn) -> Result<(), ManagerError> {
        conn.batch_execute("SELECT 1")
            .map_err(|e| ManagerError(e.to_string()))
    }

    /// A connection given back inside a transaction (its user panicked between BEGIN and COMMIT) would hold
    /// the SQLite write lock, or a PostgreSQL row lock, for ever: it is thrown away (closing rolls back).
    fn has_broken(&self, conn: &mut DbConn) -> bool {
        !matches!(
            <DbConn as Connection>::TransactionManager::transaction_manager_status_mut(conn)
                .transaction_depth(),
            Ok(None)
        )
    }
}

/// Open the pool. On SQLite the file's directory is created and WAL mode is set once (it persists in the file).
pub fn connect(target: &DbTarget, max_size: u32) -> Result<Pool, String> {
    if let DbTarget::Sqlite(path) = target {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| format!("cannot create database directory {}: {e}", dir.display()))?;
        }
        restrict_sqlite_files(path)
            .map_err(|e| format!("cannot restrict {}: {e}", path.display()))?;
        let mut c = SqliteConnection::establish(&path.to_string_lossy())
            .map_err(|e| format!("cannot open SQLite database {}: {e}", path.display()))?;
        c.batch_execute("PRAGMA journal_mode = WAL;")
            .map_err(|e| format!("cannot set WAL mode on {}: {e}", path.display()))?;
    }
    let manager = Manager::new(target.clone());
    // Fail fast with the backend's own message instead of r2d2's generic time-out.
    manager
        .open()
        .map_err(|e| format!("cannot connect to {}: {e}", target.redacted()))?;
    r2d2::Pool::builder()
        .max_size(max_size)
        .connection_timeout(Duration::from_secs(15))
        .build(manager)
        .map_err(|e| format!("cannot open database pool: {e}"))
}

/// The database file owner-only (0600), created so before SQLite opens it: SQLite gives its WAL and shared
/// memory files the database file's mode, so they are owner-only too.
fn restrict_sqlite_files(path: &std::path::Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        if path.as_os_str() == ":memory:" {
            return Ok(());
        }
        if !path.exists() {
            std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(path)?;
        }
        for suffix in ["", "-wal", "-shm"] {
            let mut p = path.as_os_str().to_owned();
            p.push(suffix);
            let p = std::path::PathBuf::from(p);
            if p.exists() {
                std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600))?;
            }
        }
    }
    Ok(())
}

/// Apply pending migrations; returns the versions applied.
pub fn migrate(conn: &mut DbConn) -> Result<Vec<String>, String> {
    let applied = match conn {
        DbConn::Sqlite(c) => c.run_pending_migrations(SQLITE_MIGRATIONS),
        DbConn::Pg(c) => c.run_pending_migrations(PG_MIGRATIONS),
    }
    .map_err(|e| format!("migration failed: {e}"))?;
    Ok(applied.iter().map(|v| v.to_string()).collect())
}

/// Revert every applied migration (used by the migration test and by operators rolling back).
pub fn revert_all(conn: &mut DbConn) -> Result<usize, String> {
    let reverted = match conn {
        DbConn::Sqlite(c) => c.revert_all_migrations(SQLITE_MIGRATIONS),
        DbConn::Pg(c) => c.revert_all_migrations(PG_MIGRATIONS),
    }
    .map_err(|e| format!("revert failed: {e}"))?;
    Ok(reverted.len())
}

/// Revert the newest applied migration; returns its version (operators undoing the last upgrade).
pub fn revert_last(conn: &mut DbConn) -> Result<String, String> {
    match conn {
        DbConn::Sqlite(c) => c.revert_last_migration(SQLITE_MIGRATIONS),
        DbConn::Pg(c) => c.revert_last_migration(PG_MIGRATIONS),
    }
    .map(|v| v.to_string())
    .map_err(|e| format!("revert failed: {e}"))
}

/// True when every embedded migration has been applied.
pub fn migrations_current(conn: &mut DbConn) -> Result<bool, String> {
    match conn {
        DbConn::Sqlite(c) => c.has_pending_migration(SQLITE_MIGRATIONS),
        DbConn::Pg(c) => c.has_pending_migration(PG_MIGRATIONS),
    }
    .map(|pending| !pending)
    .map_err(|e| e.to_string())
}

/// The process's queue of SQLite writers: one write transaction at a time, in arrival order (a ticket
/// lock). Without it, concurrent `BEGIN IMMEDIATE`s wait in SQLite's busy handler, which sleeps and retries
/// (1, 2, 5, 10 … 100 ms): a writer that arrives while another commits may sleep far longer than the write
/// it waits for, and latecomers overtake it. Queued here, a writer waits exactly until the one before it
/// commits. SQLite's `busy_timeout` stays the fallback for writers of other processes (the command line).
///
/// One queue serves every SQLite database the process opens (one, outside the tests). A thread that
/// already holds it (a write transaction on a second connection from inside another) is not queued again.
/// WAL checkpoints off the write path. SQLite's automatic checkpoint runs inside the COMMIT that fills
/// the WAL past 1,000 pages, so every hundredth write or so also copies the WAL into the database and
/// fsyncs it, and every writer queued behind it waits (the spikes in the write p99 of scripts/bench-writes).
/// A running server turns that off on its connections and checkpoints from a task of its own instead;
/// PASSIVE never blocks a writer or a reader.
pub mod wal_checkpoints {
    use std::sync::atomic::{AtomicBool, Ordering};

    use diesel::connection::SimpleConnection;

    use super::{DbConn, Pool};

    static BACKGROUND: AtomicBool = AtomicBool::new(false);

    pub(super) const OFF_THE_WRITE_PATH: &str = "PRAGMA wal_autocheckpoint = 0;";

    pub fn in_background() -> bool {
        BACKGROUND.load(Ordering::Relaxed)
    }

    /// From now on connections leave checkpoints to [`checkpoint`]: those opened later at once, those of
    /// `pool` now (call it before the pool is shared, so every connection is idle). Whether the caller
    /// must now checkpoint: false on PostgreSQL, which has nothing to do here.
    pub fn take_over(pool: &Pool) -> Result<bool, String> {
        let mut conns = Vec::new();
        for _ in 0..pool.max_size() {
            conns.push(pool.get().map_err(|e| format!("database pool: {e}"))?);
        }
        if !matches!(*conns[0], DbConn::Sqlite(_)) {
            return Ok(false);
        }
        BACKGROUND.store(true, Ordering::Relaxed);
        for c in &mut conns {
            c.batch_execute(OFF_THE_WRITE_PATH)
                .map_err(|e| format!("database: {e}"))?;
        }
        Ok(true)
    }

    /// One PASSIVE checkpoint: as much of the WAL as no reader still needs goes into the database file.
    pub fn checkpoint(conn: &mut DbConn) -> diesel::QueryResult<()> {
        match conn {
            DbConn::Sqlite(c) => c.batch_execute("PRAGMA wal_checkpoint(PASSIVE);"),
            DbConn::Pg(_) => Ok(()),
        }
    }
}

pub mod write_queue {
    use std::cell::Cell;
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
    use std::sync::{Condvar, Mutex};

    static ENABLED: AtomicBool = AtomicBool::new(true);

    /// `SANSHE_SQLITE_WRITE_QUEUE=0` turns the queue off (to measure what it saves): writers then wait in
    /// SQLite's busy handler as before.
    pub fn set_enabled(on: bool) {
        ENABLED.store(on, Ordering::Relaxed);
    }

    pub fn enabled() -> bool {
        ENABLED.load(Ordering::Relaxed)
    }

    /// The process's queue.
    pub static QUEUE: Queue = Queue::new();

    thread_local! {
        /// Turns this thread holds (a second one inside the first is not queued).
        static HELD: Cell<u32> = const { Cell::new(0) };
    }

    static STRAYS: AtomicU64 = AtomicU64::new(0);
    static LAST_STRAY: Mutex<String> = Mutex::new(String::new());

    /// Debug builds watch every SQLite connection for writes made outside a write transaction
    /// ([`super::write_tx`]): such a write takes SQLite's lock without a turn, and a queued writer's
    /// `BEGIN IMMEDIATE` then waits in the busy handler's sleeps (5, 10, 15 … ms: the payment p99 of
    /// scripts/bench-ledger before the mail worker's updates were queued). Release builds do not look.
    pub(super) fn watch(c: &mut diesel::SqliteConnection) {
        use diesel::Connection;
        use diesel::connection::InstrumentationEvent;
        if cfg!(debug_assertions) {
            c.set_instrumentation(|ev: InstrumentationEvent<'_>| {
                if let InstrumentationEvent::StartQuery { query, .. } = ev
                    && HELD.with(Cell::get) == 0
                {
                    let sql = query.to_string();
                    let head = sql.trim_start().get(..6).unwrap_or("").to_ascii_uppercase();
                    // diesel's migration harness records each migration in its own transaction.
                    if matches!(head.as_str(), "INSERT" | "UPDATE" | "DELETE")
                        && !sql.contains("__diesel_schema_migrations")
                    {
                        STRAYS.fetch_add(1, Ordering::Relaxed);
                        let mut last = LAST_STRAY.lock().unwrap_or_else(|p| p.into_inner());
                        *last = sql.chars().take(300).collect();
                    }
                }
            });
        }
    }

    /// How many SQLite writes ran outside a write transaction in this process (debug builds), and the
    /// last one's SQL.
    pub fn strays() -> (u64, String) {
        let last = LAST_STRAY.lock().unwrap_or_else(|p| p.into_inner()).clone();
        (STRAYS.load(Ordering::Relaxed), last)
    }

    struct Tickets {
        /// The next ticket to hand out.
        next: u64,
        /// The ticket whose holder may write now.
        serving: u64,
    }

    /// A ticket lock: turns are given in the order they were asked for.
    pub struct Queue {
        tickets: Mutex<Tickets>,
        turn: Condvar,
    }

    impl Default for Queue {
        fn default() -> Self {
            Queue::new()
        }
    }

    impl Queue {
        pub const fn new() -> Queue {
            Queue {
                tickets: Mutex::new(Tickets {
                    next: 0,
                    serving: 0,
                }),
                turn: Condvar::new(),
            }
        }

        /// Wait for the caller's turn; the next in line goes when the [`Turn`] is dropped.
        pub fn wait_turn(&self) -> Turn<'_> {
            let mut t = self.tickets.lock().unwrap_or_else(|p| p.into_inner());
            let ticket = t.next;
            t.next += 1;
            while t.serving != ticket {
                t = self.turn.wait(t).unwrap_or_else(|p| p.into_inner());
            }
            Turn {
                queue: Some(self),
                ticket,
            }
        }

        /// Turns asked for and not yet given back (the holder and those waiting).
        pub fn len(&self) -> u64 {
            let t = self.tickets.lock().unwrap_or_else(|p| p.into_inner());
            t.next - t.serving
        }

        pub fn is_empty(&self) -> bool {
            self.len() == 0
        }
    }

    /// A turn to write; dropping it lets the next in line go.
    pub struct Turn<'a> {
        queue: Option<&'a Queue>,
        ticket: u64,
    }

    impl Drop for Turn<'_> {
        fn drop(&mut self) {
            if let Some(q) = self.queue {
                let mut t = q.tickets.lock().unwrap_or_else(|p| p.into_inner());
                t.serving = self.ticket + 1;
                drop(t);
                // Every waiter checks whether it is next; only one is.
                q.turn.notify_all();
            }
        }
    }

    /// This thread's turn in the process's queue, until the guard is dropped: at once when the queue is
    /// off, or when the thread already holds a turn (a write transaction opened inside another).
    pub fn wait_turn() -> impl Drop {
        struct Held {
            _turn: Option<Turn<'static>>,
        }
        impl Drop for Held {
            fn drop(&mut self) {
                HELD.with(|h| h.set(h.get().saturating_sub(1)));
            }
        }
        let turn = (enabled() && HELD.with(Cell::get) == 0).then(|| QUEUE.wait_turn());
        HELD.with(|h| h.set(h.get() + 1));
        Held { _turn: turn }
    }

    #[cfg(test)]
    mod tests {
        use super::*;
        use std::sync::Arc;

        /// Writers get their turns in the order they asked, whatever order the threads are woken in.
        #[test]
        fn turns_in_arrival_order() {
            let q = Arc::new(Queue::new());
            let order = Arc::new(Mutex::new(Vec::new()));
            let first = q.wait_turn();
            let mut threads = Vec::new();
            for i in 0..8u64 {
                let (q2, order2) = (q.clone(), order.clone());
                threads.push(std::thread::spawn(move || {
                    let _t = q2.wait_turn();
                    order2.lock().unwrap().push(i);
                }));
                // The next writer arrives only once this one is in line.
                while q.len() < i + 2 {
                    std::thread::yield_now();
                }
            }
            assert_eq!(q.len(), 9);
            drop(first);
            for t in threads {
                t.join().unwrap();
            }
            assert_eq!(*order.lock().unwrap(), (0..8).collect::<Vec<_>>());
            assert!(q.is_empty());
        }

        /// A turn taken inside another on the same thread does not wait for itself.
        #[test]
        fn nested_turn_does_not_wait() {
            let outer = wait_turn();
            let inner = wait_turn();
            drop(inner);
            drop(outer);
        }
    }
}

/// Run `f` in a write transaction that takes the write lock up front: `BEGIN IMMEDIATE` on SQLite (so two
/// writers never deadlock upgrading a read lock), after waiting for this process's earlier writers in
/// [`write_queue`]; a plain transaction on PostgreSQL, where serial writers take their own row or advisory
/// locks.
pub fn write_tx<T, E>(
    conn: &mut DbConn,
    f: impl FnOnce(&mut DbConn) -> Result<T, E>,
) -> Result<T, E>
where
    E: From<diesel::result::Error>,
{
    let nested = <DbConn as Connection>::TransactionManager::transaction_manager_status_mut(conn)
        .transaction_depth()?
        .is_some();
    if nested {
        // Already inside a write transaction (whose lock is held): a savepoint is enough.
        return conn.transaction(f);
    }
    // Held until the transaction has committed or rolled back (dropped on return).
    let _turn = match conn {
        DbConn::Sqlite(c) => {
            let turn = write_queue::wait_turn();
            AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE")?;
            Some(turn)
        }
        DbConn::Pg(c) => {
            AnsiTransactionManager::begin_transaction(c)?;
            None
        }
    };
    match f(conn) {
        Ok(v) => {
            <DbConn as Connection>::TransactionManager::commit_transaction(conn)?;
            Ok(v)
        }
        Err(e) => {
            // The original error matters more than a failed rollback, which leaves the connection broken
            // and r2d2 discards it.
            let _ = <DbConn as Connection>::TransactionManager::rollback_transaction(conn);
            Err(e)
        }
    }
}

/// Run blocking database work on the blocking thread pool with a pooled connection.
pub async fn run<T, F>(pool: &Pool, f: F) -> Result<T, AppError>
where
    T: Send + 'static,
    F: FnOnce(&mut DbConn) -> Result<T, AppError> + Send + 'static,
{
    let pool = pool.clone();
    tokio::task::spawn_blocking(move || {
        let mut conn = pool
            .get()
            .map_err(|e| AppError::internal(format!("database pool: {e}")))?;
        f(&mut conn)
    })
    .await
    .map_err(|e| AppError::internal(format!("blocking task failed: {e}")))?
}

/// Take the lock that serialises appends to a hash chain. SQLite already holds the database write lock
/// (`BEGIN IMMEDIATE`); PostgreSQL takes a transaction-scoped advisory lock keyed by the chain and the
/// schema. Advisory locks are database-wide while the chains live in a schema, so without the schema in the
/// key every schema's writers would wait on each other (the test suite runs one schema per test and saw
/// 30-second stalls).
pub fn lock_chain(conn: &mut DbConn, key: i64) -> QueryResult<()> {
    match conn {
        DbConn::Sqlite(_) => Ok(()),
        DbConn::Pg(c) => diesel::sql_query(
            "SELECT pg_advisory_xact_lock($1 # hashtextextended(current_schema(), 0))",
        )
        .bind::<diesel::sql_types::BigInt, _>(key)
        .execute(c)
        .map(|_| ()),
    }
}

/// Lock one row for the rest of the write transaction, so a read-modify-write reads what is really there:
/// on PostgreSQL (READ COMMITTED) `SELECT … FOR UPDATE` makes a second writer wait for the first to commit;
/// SQLite's `BEGIN IMMEDIATE` already holds the database write lock. Call inside [`write_tx`], before the
/// read. `table` is always a name from our own code, never input.
pub fn lock_row(conn: &mut DbConn, table: &'static str, id: i64) -> QueryResult<()> {
    match conn {
        DbConn::Sqlite(_) => Ok(()),
        DbConn::Pg(c) => {
            diesel::sql_query(format!("SELECT 1 FROM {table} WHERE id = $1 FOR UPDATE"))
                .bind::<diesel::sql_types::BigInt, _>(id)
                .execute(c)
                .map(|_| ())
        }
    }
}

diesel::define_sql_function! {
    /// `lower()`, so searches match the same way on both backends (SQLite's LIKE ignores ASCII case,
    /// PostgreSQL's does not).
    fn lower(x: diesel::sql_types::Text) -> diesel::sql_types::Text;
}

/// A `%…%` LIKE pattern for a search term, lower-cased, with `\` escaping the wildcards.
pub fn like_pattern(term: &str) -> String {
    let t = term
        .trim()
        .to_lowercase()
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{t}%")
}

/// Current UTC time truncated to microseconds, the precision both backends store.
pub fn now_micros(now: chrono::DateTime<chrono::Utc>) -> chrono::NaiveDateTime {
    use chrono::Timelike;
    let n = now.naive_utc();
    n.with_nanosecond(n.nanosecond() / 1000 * 1000).unwrap_or(n)
}

/// Which page of a list to load, from the query's `page` and `per_page`: page ≥ 1, size 1–200 (default
/// 20). Every list, in the API and on the pages, pages through this and answers a [`Paged`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Paging {
    pub page: i64,
    pub per_page: i64,
}

impl Paging {
    pub fn new(page: Option<i64>, per_page: Option<i64>) -> Paging {
        Paging {
            page: page.unwrap_or(1).max(1),
            per_page: per_page.unwrap_or(20).clamp(1, 200),
        }
    }
    /// Rows to skip: the SQL `OFFSET`.
    pub fn offset(self) -> i64 {
        (self.page - 1).saturating_mul(self.per_page)
    }
    /// Rows to load: the SQL `LIMIT`.
    pub fn limit(self) -> i64 {
        self.per_page
    }
    /// This page of a list computed whole in memory (rules that SQL cannot filter by).
    pub fn slice<T>(self, all: Vec<T>) -> Paged<T> {
        let total = all.len() as i64;
        let items = all
            .into_iter()
            .skip(self.offset() as usize)
            .take(self.limit() as usize)
            .collect();
        self.of(items, total)
    }
    /// This page's rows and the count of the whole filtered list.
    pub fn of<T>(self, items: Vec<T>, total: i64) -> Paged<T> {
        Paged {
            items,
            total,
            page: self.page,
            per_page: self.per_page,
        }
    }
}

/// One page of a list, and how many rows the whole filtered list has.
#[derive(Clone, Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Paged<T> {
    pub items: Vec<T>,
    pub total: i64,
    pub page: i64,
    pub per_page: i64,
}

impl<T> Paged<T> {
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Paged<U> {
        Paged {
            items: self.items.into_iter().map(f).collect(),
            total: self.total,
            page: self.page,
            per_page: self.per_page,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paging_bounds_and_offsets() {
        assert_eq!(
            Paging::new(None, None),
            Paging {
                page: 1,
                per_page: 20
            }
        );
        assert_eq!(
            Paging::new(Some(0), Some(0)),
            Paging {
                page: 1,
                per_page: 1
            }
        );
        assert_eq!(
            Paging::new(Some(-5), Some(10_000)),
            Paging {
                page: 1,
                per_page: 200
            }
        );
        let p = Paging::new(Some(3), Some(25));
        assert_eq!((p.offset(), p.limit()), (50, 25));
        assert_eq!(Paging::new(Some(i64::MAX), Some(200)).offset(), i64::MAX);
        let list = p.of(vec![1, 2], 52).map(|x| x * 10);
        assert_eq!(
            (list.items, list.total, list.page, list.per_page),
            (vec![10, 20], 52, 3, 25)
        );
    }

    #[test]
    fn backend_from_scheme() {
        assert_eq!(
            DbTarget::parse("sqlite://data/s.db").unwrap(),
            DbTarget::Sqlite("data/s.db".into())
        );
        assert_eq!(
            DbTarget::parse("postgres://root@127.0.0.1/test")
                .unwrap()
                .backend_name(),
            "postgres"
        );
        let e = DbTarget::parse("mysql://x@y/z").unwrap_err();
        assert!(e.contains("unsupported scheme"), "{e}");
        assert!(DbTarget::parse("sqlite://").is_err());
        assert!(DbTarget::parse("postgres://:5432/x").is_err());
    }

    #[test]
    fn redacts_password() {
        let t = DbTarget::parse("postgres://u:secret@h/db").unwrap();
        assert!(!t.redacted().contains("secret"));
    }

    /// A write that panics half way leaves no transaction (and so no lock) behind: its connection is not
    /// given back to the pool as it is.
    #[test]
    fn a_panicking_write_leaves_no_lock_behind() {
        let dir =
            std::env::temp_dir().join(format!("sanshe-panic-{}", uuid::Uuid::new_v4().simple()));
        let pool = connect(&DbTarget::Sqlite(dir.join("t.db")), 1).unwrap();
        {
            let mut c = pool.get().unwrap();
            c.batch_execute("CREATE TABLE t (x INTEGER)").unwrap();
        }
        let p2 = pool.clone();
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || {
            let mut c = p2.get().unwrap();
            let _: Result<(), diesel::result::Error> = write_tx(&mut c, |c| {
                c.batch_execute("INSERT INTO t VALUES (1)")?;
                panic!("a bug half way through a write");
            });
        }));
        assert!(r.is_err());
        let mut c = pool.get().unwrap();
        let depth =
            <DbConn as Connection>::TransactionManager::transaction_manager_status_mut(&mut c)
                .transaction_depth()
                .unwrap();
        assert_eq!(
            depth, None,
            "the pool gave back a connection inside a transaction"
        );
        write_tx(&mut c, |c| c.batch_execute("INSERT INTO t VALUES (2)")).unwrap();
        let n: i64 = diesel::select(diesel::dsl::sql::<diesel::sql_types::BigInt>(
            "(SELECT COUNT(*) FROM t)",
        ))
        .get_result(&mut c)
        .unwrap();
        assert_eq!(n, 1, "the half-done write was rolled back");
        drop(c);
        let _ = std::fs::remove_dir_all(dir);
    }
}

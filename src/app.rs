//! Application state and the actix wiring: API scope (collected into OpenAPI), pages, static files,
//! extractor error handlers, body limits, middleware; and the running server with its mail worker.

use std::net::SocketAddr;
use std::sync::Arc;

use actix_web::{App, HttpServer, middleware::from_fn, web};
use chrono::{DateTime, Utc};
use tokio::sync::Notify;
use utoipa::OpenApi;
use utoipa_actix_web::AppExt;
use utoipa_swagger_ui::SwaggerUi;

use crate::auth::throttle::Throttle;
use crate::clock::Clock;
use crate::config::Config;
use crate::db::DbConn;
use crate::db::Pool;
use crate::error::{AppError, extractors};
use crate::{api, mail};

/// Largest JSON body accepted.
pub const JSON_LIMIT: usize = 256 * 1024;
/// Where the OpenAPI document is served (the API browser reads it from here).
pub const OPENAPI_URL: &str = "/api/v1/openapi.json";
/// Largest form body accepted.
pub const FORM_LIMIT: usize = 64 * 1024;

#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub pool: Pool,
    pub clock: Arc<dyn Clock>,
    pub throttle: Arc<Throttle>,
    /// The gate for password hashing on request paths (one at a time per core, off the database).
    pub passwords: Arc<crate::auth::password::Hasher>,
    pub mail: mail::Settings,
    /// Wakes the mail worker after a transaction queued mail.
    pub mail_wake: Arc<Notify>,
    /// Tender rules, calendar and the bid sealer.
    pub tenders: Arc<crate::tenders::Ctx>,
    /// Contract rules: calendar, funds, payment terms.
    pub contracts: Arc<crate::contracts::Ctx>,
    /// What the task queues' due dates depend on.
    pub tasks: Arc<crate::tasks::Settings>,
    /// The gate of PDF reports: fewer at once than there are cores, so pages keep a core.
    pub reports: Arc<tokio::sync::Semaphore>,
    /// Uploaded files (src/files).
    pub files: Arc<crate::files::Store>,
}

impl AppState {
    pub fn new(config: Config, pool: Pool, clock: Arc<dyn Clock>) -> AppState {
        let mail = mail::Settings {
            from: config.mail_from.clone(),
            public_url: config.public_url.clone(),
            smtp_url: config.smtp_url.clone(),
            data_dir: config.data_dir.clone(),
            retry: config.mail_retry,
            poll: config.mail_poll,
        };
        AppState {
            tenders: Arc::new(crate::tenders::Ctx::from_config(&config)),
            contracts: Arc::new(crate::contracts::Ctx::from_config(&config)),
            tasks: Arc::new(crate::tasks::Settings::from_config(&config)),
            files: Arc::new(
                crate::files::Store::open(config.files.clone())
                    .expect("the file store was checked when the settings were read"),
            ),
            config: Arc::new(config),
            pool,
            clock,
            throttle: Arc::new(Throttle::default()),
            passwords: crate::auth::password::Hasher::per_core(),
            mail,
            mail_wake: Arc::new(Notify::new()),
            reports: Arc::new(tokio::sync::Semaphore::new(
                std::thread::available_parallelism()
                    .map_or(1, |n| n.get().saturating_sub(1))
                    .max(1),
            )),
        }
    }
}

impl AppState {
    /// Run service work on the blocking pool, then wake the mail worker. API and page handlers reach the
    /// database only through here, so no write path forgets the mail it queued (reads may write too: every
    /// access to a tender advances it by the clock). A wake with nothing queued costs the worker one query.
    pub async fn run<T, F>(&self, f: F) -> Result<T, AppError>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConn) -> Result<T, AppError> + Send + 'static,
    {
        let r = crate::db::run(&self.pool, f).await;
        self.mail_wake.notify_one();
        r
    }

    /// Like [`AppState::run`], with the contract context and the time.
    pub async fn run_contracts<T, F>(&self, f: F) -> Result<T, AppError>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConn, &crate::contracts::Ctx, DateTime<Utc>) -> Result<T, AppError>
            + Send
            + 'static,
    {
        let ctx = self.contracts.clone();
        let now = self.clock.now();
        self.run(move |c| f(c, &ctx, now)).await
    }

    /// Like [`AppState::run`], with the tender context and the time.
    pub async fn run_tenders<T, F>(&self, f: F) -> Result<T, AppError>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConn, &crate::tenders::Ctx, DateTime<Utc>) -> Result<T, AppError>
            + Send
            + 'static,
    {
        let ctx = self.tenders.clone();
        let now = self.clock.now();
        self.run(move |c| f(c, &ctx, now)).await
    }

    /// The standing rules from the configuration.
    pub fn standing_rules(&self) -> crate::domain::standing::Rules {
        self.tenders.standing
    }

    /// Today's date in Beijing by the service's clock.
    pub fn today(&self) -> chrono::NaiveDate {
        crate::clock::beijing_date(self.clock.now())
    }
}

/// The background scheduler: advance due tenders every `every`, until the server stops.
/// Checkpoint the SQLite WAL every half second (`db::wal_checkpoints`): off the write path, so no write
/// waits for one.
async fn wal_checkpoint_loop(pool: Pool) {
    let every = std::time::Duration::from_millis(500);
    let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if let Err(e) =
            crate::db::run(&pool, |c| Ok(crate::db::wal_checkpoints::checkpoint(c)?)).await
        {
            tracing::warn!(error = %e, "WAL checkpoint failed");
        }
    }
}

pub async fn scheduler_loop(state: AppState) {
    // The first pass comes one period after start: every access advances what it touches anyway.
    let every = state.config.scheduler_every;
    let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let now = state.clock.now();
        let (ctx, today, rules) = (state.tenders.clone(), state.today(), state.standing_rules());
        let config = state.config.clone();
        let r = crate::db::run(&state.pool, move |c| {
            let tenders = crate::tenders::advance_due(c, &ctx, now)?;
            // The day's standing changes (a rating expiring, a listing ending) before anyone asks.
            let orgs = crate::registry::orgs::redecide_stale(c, today, rules)?;
            crate::registry::orgs::fold_counts(c)?;
            // Each chain's head is signed when due; a chain that does not verify is not signed (and says so).
            let mut signed = Vec::new();
            for src in crate::chain::checkpoint::sources() {
                match crate::chain::checkpoint::sign_if_due(c, src, &config.checkpoints, now) {
                    Ok(Some(cp)) => signed.push(cp),
                    Ok(None) => {}
                    Err(e) => {
                        tracing::error!(chain = src.chain().name, error = %e, "checkpoint not signed")
                    }
                }
            }
            // Revocations of tokens that have expired anyway.
            crate::auth::revocation::sweep(c, now)?;
            Ok((tenders, orgs, signed))
        })
        .await;
        match r {
            Ok((tenders, orgs, signed)) => {
                for cp in &signed {
                    tracing::info!(chain = %cp.chain, seq = cp.seq, "scheduler signed a checkpoint");
                }
                if !signed.is_empty() {
                    state.mail_wake.notify_one();
                }
                if tenders > 0 {
                    state.mail_wake.notify_one();
                    tracing::info!(tenders, "scheduler advanced tenders");
                }
                if orgs > 0 {
                    tracing::info!(organisations = orgs, "scheduler re-decided standings");
                }
            }
            Err(e) => tracing::warn!(error = %e, "scheduler pass failed"),
        }
    }
}

/// The OpenAPI document, generated from the handlers registered in the API scope.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let (_, mut api) = App::new()
        .into_utoipa_app()
        .openapi(api::ApiDoc::openapi())
        .service(api::api_scope())
        .service(api::health::healthz)
        .service(api::health::readyz)
        .split_for_parts();
    api::declare_problems(&mut api);
    api
}

/// Open the database and apply migrations (blocking).
pub fn open_database(config: &Config) -> Result<Pool, String> {
    crate::db::write_queue::set_enabled(config.sqlite_write_queue);
    let pool = crate::db::connect(&config.database, config.db_pool)?;
    let mut conn = pool.get().map_err(|e| format!("database: {e}"))?;
    let applied = crate::db::migrate(&mut conn)?;
    crate::people::reach::after_migrations(&mut conn, &applied)?;
    if !applied.is_empty() {
        tracing::info!(count = applied.len(), "applied migrations");
    }
    Ok(pool)
}

/// A started server and its background work.
pub struct Running {
    pub addr: SocketAddr,
    pub state: AppState,
    server: actix_web::dev::ServerHandle,
    server_task: tokio::task::JoinHandle<std::io::Result<()>>,
    stop_worker: Arc<Notify>,
    worker: tokio::task::JoinHandle<()>,
    scheduler: tokio::task::JoinHandle<()>,
    /// SQLite's WAL checkpoints (`db::wal_checkpoints`); none on PostgreSQL.
    checkpointer: Option<tokio::task::JoinHandle<()>>,
}

impl Running {
    /// Stop accepting requests, finish those in flight, stop the mail worker.
    pub async fn stop(self) {
        self.server.stop(true).await;
        let _ = self.server_task.await;
        self.scheduler.abort();
        if let Some(c) = self.checkpointer {
            c.abort();
        }
        self.stop_worker.notify_one();
        let _ = self.worker.await;
    }

    /// Wait until the server ends (Ctrl-C or SIGTERM), then stop the worker.
    pub async fn wait(self) -> std::io::Result<()> {
        let r = self.server_task.await.map_err(std::io::Error::other)?;
        self.stop_worker.notify_one();
        let _ = self.worker.await;
        r
    }
}

/// Start the HTTP server and the mail worker on an opened database.
pub async fn start(state: AppState, handle_signals: bool) -> Result<Running, String> {
    let listener = std::net::TcpListener::bind(state.config.listen).map_err(|e| {
        format!(
            "SANSHE_LISTEN: cannot listen on {}: {e}",
            state.config.listen
        )
    })?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let pool = state.pool.clone();
    let checkpoints =
        tokio::task::spawn_blocking(move || crate::db::wal_checkpoints::take_over(&pool))
            .await
            .map_err(|e| e.to_string())??;
    // Bid attachments sent inline (or kept inside bids before the file store) move into it, sealed.
    match crate::tenders::bids::move_all_inline(&state.pool, &state.tenders, &state.files).await {
        Ok(0) => {}
        Ok(n) => tracing::info!(files = n, "bid attachments moved into the file store"),
        Err(e) => tracing::error!("bid attachments stay inside their bids for now: {e}"),
    }
    // Files whose records were written but which a crash caught before they were kept under their hash.
    let recovered = match crate::db::run(&state.pool, crate::files::stored).await {
        Ok(stored) => state.files.recover(&stored).await,
        Err(e) => Err(e),
    };
    match recovered {
        Ok(kept) if kept.is_empty() => {}
        Ok(kept) => {
            tracing::warn!(files = ?kept, "uploads caught by a crash kept under their hash")
        }
        Err(e) => tracing::error!("uploads caught by a crash stay in tmp/ for now: {e}"),
    }
    let data = web::Data::new(state.clone());
    // Generated once; the viewer and the JSON are registered before the API scope, which would otherwise
    // answer 404 for every path under /api/v1 it does not know.
    let api = openapi();
    let methods = web::Data::new(crate::http::Methods::of(&api));
    // Serialised once for every worker: the viewer reads it by URL, so no worker keeps its own copy of the
    // document (each copy cost ~10 MiB resident).
    let api_json = web::Bytes::from(api.to_json().map_err(|e| e.to_string())?);
    let mut server = HttpServer::new(move || {
        App::new()
            .into_utoipa_app()
            .app_data(data.clone())
            .app_data(methods.clone())
            .app_data(
                web::JsonConfig::default()
                    .limit(JSON_LIMIT)
                    .error_handler(extractors::json),
            )
            .app_data(
                web::FormConfig::default()
                    .limit(FORM_LIMIT)
                    .error_handler(extractors::form),
            )
            .app_data(web::QueryConfig::default().error_handler(extractors::query))
            .app_data(web::PathConfig::default().error_handler(extractors::path))
            .app_data(web::PayloadConfig::default().limit(JSON_LIMIT))
            .map(|app| {
                let json = api_json.clone();
                app.route(
                    OPENAPI_URL,
                    web::get().to(move || {
                        let json = json.clone();
                        async move {
                            actix_web::HttpResponse::Ok()
                                .content_type("application/json")
                                .body(json)
                        }
                    }),
                )
                .service(
                    SwaggerUi::new("/api/docs/{_:.*}")
                        .config(utoipa_swagger_ui::Config::from(OPENAPI_URL)),
                )
            })
            .service(api::api_scope())
            .service(api::health::healthz)
            .service(api::health::readyz)
            .into_app()
            .route("/static/{file}", web::get().to(crate::pages::static_file))
            .configure(crate::pages::common::configure)
            .default_service(web::to(crate::pages::not_found))
            .wrap(from_fn(crate::http::middleware))
    })
    .workers(state.config.workers)
    // actix's default of 5 s to receive a request head answered 408 to clients of a busy two-core server
    // (100 payments at once beside a demo being seeded); 30 s still bounds a client that never finishes.
    .client_request_timeout(std::time::Duration::from_secs(30))
    .shutdown_timeout(10)
    .listen(listener)
    .map_err(|e| e.to_string())?;
    if !handle_signals {
        server = server.disable_signals();
    }
    let server = server.run();
    let handle = server.handle();
    let server_task = tokio::spawn(server);
    let stop_worker = Arc::new(Notify::new());
    let worker = tokio::spawn(mail::worker(
        state.pool.clone(),
        state.clock.clone(),
        state.mail.clone(),
        state.mail_wake.clone(),
        stop_worker.clone(),
    ));
    let scheduler = tokio::spawn(scheduler_loop(state.clone()));
    let checkpointer = checkpoints.then(|| tokio::spawn(wal_checkpoint_loop(state.pool.clone())));
    Ok(Running {
        scheduler,
        checkpointer,
        addr,
        state,
        server: handle,
        server_task,
        stop_worker,
        worker,
    })
}

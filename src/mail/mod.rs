//! E-mail through an outbox: [`enqueue`] writes the rendered message in the caller's transaction; the
//! [`worker`] sends due messages with lettre over SMTP, retrying with back-off, or, without SMTP, writes
//! them as `.eml` files under `DATA_DIR/outbox/`. A message is claimed with a lease before sending and marked
//! sent once; its Message-ID is fixed at enqueue time, so a re-send after a crash mid-send can be recognised.

pub mod templates;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use lettre::message::{Mailbox, MultiPart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use tokio::sync::Notify;

use crate::clock::Clock;
use crate::db::schema::outbox;
use crate::db::{DbConn, Pool};

/// What enqueueing and sending need to know.
#[derive(Clone, Debug)]
pub struct Settings {
    pub from: String,
    pub public_url: String,
    pub smtp_url: Option<crate::config::Secret>,
    pub data_dir: PathBuf,
    pub retry: Duration,
    pub poll: Duration,
}

/// A rendered e-mail.
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// An e-mail template: `templates/email/<NAME>/{subject.txt, body.txt, body.html}`.
pub trait Email {
    const NAME: &'static str;
    fn render(&self) -> Result<Rendered, askama::Error>;
}

pub fn validate_smtp_url(url: &str) -> Result<(), String> {
    let u = url::Url::parse(url).map_err(|e| format!("not a URL ({e})"))?;
    if !matches!(u.scheme(), "smtp" | "smtps") {
        return Err(format!(
            "scheme must be smtp or smtps, not {:?}",
            u.scheme()
        ));
    }
    if u.host_str().unwrap_or("").is_empty() {
        return Err("no host".into());
    }
    AsyncSmtpTransport::<Tokio1Executor>::from_url(url).map_err(|e| format!("{e}"))?;
    Ok(())
}

/// Queue a message in the current transaction.
pub fn enqueue<E: Email>(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    to: &str,
    email: &E,
) -> QueryResult<i64> {
    let r = email.render().map_err(|e| {
        diesel::result::Error::QueryBuilderError(format!("email template {}: {e}", E::NAME).into())
    })?;
    let ts = crate::db::now_micros(now);
    let message_id = format!("{}.{}@sanshe", E::NAME, uuid::Uuid::new_v4().simple());
    diesel::insert_into(outbox::table)
        .values((
            outbox::created_at.eq(ts),
            outbox::template.eq(E::NAME),
            outbox::to_addr.eq(to),
            outbox::subject.eq(&r.subject),
            outbox::body_text.eq(&r.text),
            outbox::body_html.eq(&r.html),
            outbox::message_id.eq(&message_id),
            outbox::status.eq("pending"),
            outbox::attempts.eq(0),
            outbox::next_attempt_at.eq(ts),
        ))
        .returning(outbox::id)
        .get_result(conn)
}

#[derive(Queryable, Selectable, Debug, Clone, serde::Serialize)]
#[diesel(table_name = outbox)]
pub struct OutboxRow {
    pub id: i64,
    pub template: String,
    pub to_addr: String,
    pub subject: String,
    pub body_text: String,
    pub body_html: String,
    pub message_id: String,
    pub status: String,
    pub attempts: i32,
}

/// Counts by status for dashboards: (pending, sent). Bid receipts and withdrawals are left out: their
/// number would tell how many sealed bids arrived or left.
pub fn counts(conn: &mut DbConn) -> QueryResult<(i64, i64)> {
    let rows: Vec<(String, i64)> = outbox::table
        .filter(
            outbox::template.ne_all([templates::BidReceipt::NAME, templates::BidWithdrawn::NAME]),
        )
        .group_by(outbox::status)
        .select((outbox::status, diesel::dsl::count_star()))
        .load(conn)?;
    let get = |s: &str| {
        rows.iter()
            .find(|(k, _)| k == s)
            .map(|(_, n)| *n)
            .unwrap_or(0)
    };
    Ok((get("pending"), get("sent")))
}

/// How long a claimed message stays reserved for the sender that claimed it.
const LEASE: chrono::Duration = chrono::Duration::minutes(5);

/// Claim up to `limit` due messages for sending.
fn claim_due(conn: &mut DbConn, now: DateTime<Utc>, limit: i64) -> QueryResult<Vec<OutboxRow>> {
    let ts = crate::db::now_micros(now);
    let ids: Vec<i64> = outbox::table
        .filter(outbox::status.eq("pending"))
        .filter(outbox::next_attempt_at.le(ts))
        .filter(
            outbox::locked_until
                .is_null()
                .or(outbox::locked_until.lt(ts)),
        )
        .order(outbox::id.asc())
        .limit(limit)
        .select(outbox::id)
        .load(conn)?;
    let mut claimed = Vec::new();
    for id in ids {
        // The conditional update is the claim: only one sender can win it.
        let n = diesel::update(
            outbox::table
                .find(id)
                .filter(outbox::status.eq("pending"))
                .filter(
                    outbox::locked_until
                        .is_null()
                        .or(outbox::locked_until.lt(ts)),
                ),
        )
        .set(outbox::locked_until.eq(ts + LEASE))
        .execute(conn)?;
        if n == 1 {
            claimed.push(
                outbox::table
                    .find(id)
                    .select(OutboxRow::as_select())
                    .first(conn)?,
            );
        }
    }
    Ok(claimed)
}

fn mark_sent(conn: &mut DbConn, id: i64, now: DateTime<Utc>) -> QueryResult<usize> {
    let ts = crate::db::now_micros(now);
    diesel::update(outbox::table.find(id).filter(outbox::status.eq("pending")))
        .set((
            outbox::status.eq("sent"),
            outbox::sent_at.eq(ts),
            outbox::attempts.eq(outbox::attempts + 1),
            outbox::locked_until.eq(None::<chrono::NaiveDateTime>),
            outbox::last_error.eq(None::<String>),
        ))
        .execute(conn)
}

fn mark_failed(
    conn: &mut DbConn,
    row: &OutboxRow,
    now: DateTime<Utc>,
    retry: Duration,
    error: &str,
) -> QueryResult<usize> {
    let ts = crate::db::now_micros(now);
    let doublings = row.attempts.clamp(0, 20) as u32;
    let delay = retry
        .saturating_mul(1u32 << doublings)
        .min(Duration::from_secs(3600));
    let next = ts + chrono::Duration::from_std(delay).unwrap_or(chrono::Duration::hours(1));
    diesel::update(
        outbox::table
            .find(row.id)
            .filter(outbox::status.eq("pending")),
    )
    .set((
        outbox::attempts.eq(outbox::attempts + 1),
        outbox::next_attempt_at.eq(next),
        outbox::locked_until.eq(None::<chrono::NaiveDateTime>),
        outbox::last_error.eq(error.chars().take(500).collect::<String>()),
    ))
    .execute(conn)
}

fn build_message(settings: &Settings, row: &OutboxRow) -> Result<Message, String> {
    let from: Mailbox = settings
        .from
        .parse()
        .map_err(|e| format!("from address: {e}"))?;
    let to: Mailbox = row
        .to_addr
        .parse()
        .map_err(|e| format!("to address: {e}"))?;
    Message::builder()
        .from(from)
        .to(to)
        .subject(row.subject.clone())
        .message_id(Some(format!("<{}>", row.message_id)))
        .multipart(MultiPart::alternative_plain_html(
            row.body_text.clone(),
            row.body_html.clone(),
        ))
        .map_err(|e| format!("building message: {e}"))
}

enum Transport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    Files(PathBuf),
}

impl Transport {
    fn from_settings(s: &Settings) -> Result<Transport, String> {
        match &s.smtp_url {
            Some(url) => Ok(Transport::Smtp(
                AsyncSmtpTransport::<Tokio1Executor>::from_url(url.expose())
                    .map_err(|e| format!("SMTP_URL: {e}"))?
                    .timeout(Some(Duration::from_secs(20)))
                    .build(),
            )),
            None => Ok(Transport::Files(s.data_dir.join("outbox"))),
        }
    }

    async fn send(&self, msg: Message, row: &OutboxRow) -> Result<(), String> {
        match self {
            Transport::Smtp(t) => t
                .send(msg)
                .await
                .map(|_| ())
                .map_err(|e| format!("SMTP: {e}")),
            Transport::Files(dir) => {
                let dir = dir.clone();
                let name = format!("{:08}-{}.eml", row.id, row.template);
                let bytes = msg.formatted();
                tokio::task::spawn_blocking(move || write_private(&dir, &name, &bytes))
                    .await
                    .map_err(|e| e.to_string())?
                    .map_err(|e| format!("writing .eml: {e}"))
            }
        }
    }
}

/// Send what is due once; returns how many were sent.
pub async fn send_due(
    pool: &Pool,
    clock: &Arc<dyn Clock>,
    settings: &Settings,
) -> Result<usize, String> {
    let transport = Transport::from_settings(settings)?;
    let now = clock.now();
    let p = pool.clone();
    let rows = tokio::task::spawn_blocking(move || {
        let mut c = p.get().map_err(|e| e.to_string())?;
        crate::db::write_tx(&mut c, |c| claim_due(c, now, 20)).map_err(|e| e.to_string())
    })
    .await
    .map_err(|e| e.to_string())??;
    let mut sent = 0;
    for row in rows {
        let result = match build_message(settings, &row) {
            Ok(msg) => transport.send(msg, &row).await,
            Err(e) => Err(e),
        };
        let now = clock.now();
        let p = pool.clone();
        let settings_retry = settings.retry;
        let ok = result.is_ok();
        if let Err(e) = &result {
            tracing::warn!(outbox_id = row.id, attempt = row.attempts + 1, error = %e, "mail not sent; will retry");
        }
        tokio::task::spawn_blocking(move || {
            let mut c = p.get().map_err(|e| e.to_string())?;
            // In the write queue like every write: an autocommit UPDATE beside it would make a queued
            // writer's BEGIN IMMEDIATE wait in SQLite's sleeping busy handler (5, 10, 15 … ms).
            crate::db::write_tx(&mut c, |c| match result {
                Ok(()) => mark_sent(c, row.id, now),
                Err(e) => mark_failed(c, &row, now, settings_retry, &e),
            })
            .map_err(|e| e.to_string())
        })
        .await
        .map_err(|e| e.to_string())??;
        if ok {
            sent += 1;
        }
    }
    Ok(sent)
}

/// The background sender: runs until `stop` is notified.
pub async fn worker(
    pool: Pool,
    clock: Arc<dyn Clock>,
    settings: Settings,
    wake: Arc<Notify>,
    stop: Arc<Notify>,
) {
    loop {
        match send_due(&pool, &clock, &settings).await {
            Ok(n) if n > 0 => tracing::info!(sent = n, "mail sent"),
            Ok(_) => {}
            Err(e) => tracing::error!(error = %e, "mail worker"),
        }
        tokio::select! {
            _ = tokio::time::sleep(settings.poll) => {}
            _ = wake.notified() => {}
            _ = stop.notified() => return,
        }
    }
}

/// Write a mail file owner-only (0600, in a 0700 directory): it carries names and addresses. Written under
/// a temporary name and renamed, so a reader never sees half a message.
fn write_private(dir: &std::path::Path, name: &str, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    std::fs::create_dir_all(dir)?;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
        opts.mode(0o600);
    }
    let tmp = dir.join(format!(".{name}.tmp"));
    opts.open(&tmp)?.write_all(bytes)?;
    std::fs::rename(tmp, dir.join(name))
}

//! E-mail end to end: the outbox written as `.eml` files without SMTP, delivery to a real SMTP server
//! (aiosmtpd writing a maildir), and a message queued while the server is down that is delivered exactly once
//! after a restart. Messages are decoded with Python's `email` package, an independent MIME parser.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use diesel::prelude::*;
use sanshe::db::schema::outbox as o;
use serde_json::{Value, json};

use crate::both_backends;
use crate::helpers::*;

const FROM_NAME: &str = "三社 Sanshe";
const FROM_ADDR: &str = "noreply@sanshe.test";

/// Decodes each file named on the command line and prints a JSON array (ASCII only, so no locale matters).
const DECODE_PY: &str = r#"
import sys, json, email, email.policy
out = []
for path in sys.argv[1:]:
    with open(path, 'rb') as f:
        m = email.message_from_bytes(f.read(), policy=email.policy.default)
    def addrs(name):
        h = m[name]
        return None if h is None else [[a.display_name, a.addr_spec] for a in h.addresses]
    def opt(name):
        h = m[name]
        return None if h is None else str(h)
    text = m.get_body(preferencelist=('plain',))
    html = m.get_body(preferencelist=('html',))
    out.append({
        'path': path,
        'subject': opt('Subject'),
        'from': addrs('From'),
        'to': addrs('To'),
        'message_id': opt('Message-ID'),
        'x_mailfrom': opt('X-MailFrom'),
        'x_rcptto': opt('X-RcptTo'),
        'content_type': m.get_content_type(),
        'text': None if text is None else text.get_content(),
        'html': None if html is None else html.get_content(),
        'defects': [type(d).__name__ for part in m.walk() for d in part.defects],
    })
print(json.dumps(out))
"#;

/// Every file in `paths`, decoded by Python.
fn decode(paths: &[PathBuf]) -> Vec<Value> {
    if paths.is_empty() {
        return Vec::new();
    }
    let out = Command::new("python3")
        .arg("-c")
        .arg(DECODE_PY)
        .args(paths)
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "decoding with python3 failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Vec<Value> = serde_json::from_slice(&out.stdout).expect("python3 printed JSON");
    assert_eq!(v.len(), paths.len());
    v
}

/// The regular files of a directory (none when it does not exist yet).
fn files_in(dir: &Path) -> Vec<PathBuf> {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut v: Vec<PathBuf> = rd
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .collect();
    v.sort();
    v
}

/// Decoded messages whose To is exactly `addr`.
fn addressed_to(messages: Vec<Value>, addr: &str) -> Vec<Value> {
    messages
        .into_iter()
        .filter(|m| m["to"] == json!([["", addr]]))
        .collect()
}

fn expected_subject(display_name: &str) -> String {
    format!("【三社】欢迎使用三社联动服务平台 / Welcome to Sanshe, {display_name}")
}

/// Create a user with an address through the API as admin; returns the user's id.
async fn create_user(app: &TestApp, username: &str, display_name: &str, email: &str) -> i64 {
    let admin = app.token("admin").await;
    let r = app
        .send_json(
            "POST",
            "/api/v1/users",
            Some(&admin),
            &json!({
                "username": username, "display_name": display_name, "role": "bureau", "email": email,
                "password": PASSWORD,
            }),
        )
        .await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    r.json::<Value>().await.unwrap()["id"].as_i64().unwrap()
}

/// The outbox row of the one message to `addr`.
#[derive(Debug)]
struct Row {
    id: i64,
    template: String,
    status: String,
    attempts: i32,
    message_id: String,
    last_error: Option<String>,
    sent: bool,
}

fn row_for(db: &TestDb, addr: &str) -> Row {
    let rows: Vec<(
        i64,
        String,
        String,
        i32,
        String,
        Option<String>,
        Option<chrono::NaiveDateTime>,
    )> = o::table
        .filter(o::to_addr.eq(addr))
        .select((
            o::id,
            o::template,
            o::status,
            o::attempts,
            o::message_id,
            o::last_error,
            o::sent_at,
        ))
        .load(&mut db.conn())
        .unwrap();
    assert_eq!(rows.len(), 1, "exactly one outbox row for {addr}: {rows:?}");
    let (id, template, status, attempts, message_id, last_error, sent_at) =
        rows.into_iter().next().unwrap();
    Row {
        id,
        template,
        status,
        attempts,
        message_id,
        last_error,
        sent: sent_at.is_some(),
    }
}

/// The decoded welcome mail says who the user is, in both languages, with Chinese intact.
fn assert_welcome(m: &Value, username: &str, display_name: &str) {
    assert_eq!(m["subject"], expected_subject(display_name), "{m:#}");
    assert_eq!(m["from"], json!([[FROM_NAME, FROM_ADDR]]), "{m:#}");
    assert_eq!(m["content_type"], "multipart/alternative", "{m:#}");
    assert_eq!(m["defects"], json!([]), "{m:#}");
    let text = m["text"]
        .as_str()
        .unwrap_or_else(|| panic!("no text/plain part: {m:#}"));
    assert!(text.contains(&format!("{display_name}，您好：")), "{text}");
    assert!(text.contains(&format!("用户名：{username}")), "{text}");
    assert!(text.contains(&format!("Hello {display_name},")), "{text}");
    assert!(text.contains(&format!("Username: {username}")), "{text}");
    assert!(text.contains("http://sanshe.test/login"), "{text}");
    assert!(!text.contains(PASSWORD), "the password is never mailed");
    let html = m["html"]
        .as_str()
        .unwrap_or_else(|| panic!("no text/html part: {m:#}"));
    assert!(html.contains(&format!("{display_name}，您好")), "{html}");
    assert!(html.contains(&format!("<b>{username}</b>")), "{html}");
}

/// Fails (never skips) when aiosmtpd is missing.
fn require_aiosmtpd() {
    let out = Command::new("python3")
        .args(["-c", "import aiosmtpd"])
        .output();
    match out {
        Ok(o) if o.status.success() => {}
        Ok(o) => panic!(
            "the SMTP tests need aiosmtpd: `python3 -c \"import aiosmtpd\"` failed ({}); run scripts/setup-test-deps \
             (pip install aiosmtpd)",
            String::from_utf8_lossy(&o.stderr).trim()
        ),
        Err(e) => {
            panic!("the SMTP tests need python3 with aiosmtpd ({e}); run scripts/setup-test-deps")
        }
    }
}

/// A real SMTP server (aiosmtpd) delivering into a maildir of its own; killed when dropped.
struct SmtpServer {
    child: Child,
    root: PathBuf,
}

impl SmtpServer {
    fn start(port: u16) -> SmtpServer {
        require_aiosmtpd();
        let root =
            std::env::temp_dir().join(format!("sanshe-smtp-{}", uuid::Uuid::new_v4().simple()));
        for sub in ["tmp", "new", "cur"] {
            std::fs::create_dir_all(root.join("maildir").join(sub)).unwrap();
        }
        let log = std::fs::File::create(root.join("aiosmtpd.log")).unwrap();
        let child = Command::new("python3")
            .args([
                "-m",
                "aiosmtpd",
                "-n",
                "-l",
                &format!("127.0.0.1:{port}"),
                "-c",
                "aiosmtpd.handlers.Mailbox",
            ])
            .arg(root.join("maildir"))
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("python3 starts");
        let mut s = SmtpServer { child, root };
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = s.child.try_wait().unwrap() {
                panic!("aiosmtpd on port {port} exited ({status}): {}", s.log());
            }
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return s;
            }
            assert!(
                Instant::now() < deadline,
                "aiosmtpd did not listen on port {port}: {}",
                s.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.root.join("aiosmtpd.log")).unwrap_or_default()
    }

    /// Every message delivered so far, decoded.
    fn messages(&self) -> Vec<Value> {
        let md = self.root.join("maildir");
        let mut paths = files_in(&md.join("new"));
        paths.extend(files_in(&md.join("cur")));
        decode(&paths)
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

async fn eml_files_without_smtp(b: Backend) {
    let app = TestApp::spawn(&b).await;
    let (username, display_name, addr) = (
        "ouyang",
        "欧阳测试员·张三丰（城东街道社工站）",
        "ouyang@example.org",
    );
    create_user(&app, username, display_name, addr).await;
    let row = row_for(&app.db, addr);
    assert_eq!(row.template, "welcome");

    let dir = app.db.dir.join("outbox");
    let file = dir.join(format!("{:08}-welcome.eml", row.id));
    wait_for(20, "the .eml file", || file.is_file()).await;
    wait_for(10, "the row marked sent", || {
        row_for(&app.db, addr).status == "sent"
    })
    .await;

    let m = decode(std::slice::from_ref(&file)).remove(0);
    assert_eq!(m["to"], json!([["", addr]]), "{m:#}");
    assert_eq!(m["message_id"], format!("<{}>", row.message_id), "{m:#}");
    assert_welcome(&m, username, display_name);

    // Written once, under its own name, with nothing half-written left behind; the row says sent once, and a
    // further pass of the sender finds nothing left to send.
    assert_eq!(app.mail_pass().await, 0, "a second pass sent again");
    let files = files_in(&dir);
    assert!(
        files
            .iter()
            .all(|p| p.extension().is_some_and(|e| e == "eml")),
        "{files:?}"
    );
    assert!(
        !files
            .iter()
            .any(|p| p.file_name().unwrap().to_string_lossy().starts_with('.')),
        "{files:?}"
    );
    let mine = addressed_to(decode(&files), addr);
    assert_eq!(mine.len(), 1, "one file for {addr}: {mine:#?}");
    let after = row_for(&app.db, addr);
    assert_eq!(
        (
            after.status.as_str(),
            after.attempts,
            after.sent,
            after.last_error
        ),
        ("sent", 1, true, None)
    );
    app.stop().await;
}

async fn smtp_delivery_decodes_exactly(b: Backend) {
    require_aiosmtpd();
    let port = free_port();
    let smtp = SmtpServer::start(port);
    let app = TestApp::spawn_with(
        &b,
        Options {
            smtp_url: Some(format!("smtp://127.0.0.1:{port}")),
            ..Default::default()
        },
    )
    .await;
    let (username, display_name, addr) = (
        "lihua",
        "李华（测试）·社会工作服务中心主任",
        "lihua@example.org",
    );
    create_user(&app, username, display_name, addr).await;

    wait_for(20, "delivery to the SMTP server", || {
        !addressed_to(smtp.messages(), addr).is_empty()
    })
    .await;
    wait_for(10, "the row marked sent", || {
        row_for(&app.db, addr).status == "sent"
    })
    .await;
    let row = row_for(&app.db, addr);
    assert_eq!(
        (row.attempts, row.sent, row.last_error.as_deref()),
        (1, true, None),
        "{row:?}"
    );

    let mine = addressed_to(smtp.messages(), addr);
    assert_eq!(mine.len(), 1, "{mine:#?}");
    let m = &mine[0];
    assert_welcome(m, username, display_name);
    assert_eq!(m["message_id"], format!("<{}>", row.message_id), "{m:#}");
    // The SMTP envelope matches the headers.
    assert_eq!(m["x_mailfrom"], FROM_ADDR, "{m:#}");
    assert_eq!(m["x_rcptto"], addr, "{m:#}");
    app.stop().await;
    drop(smtp);
}

async fn queued_while_smtp_down_then_delivered_after_restart(b: Backend) {
    require_aiosmtpd();
    let port = free_port();
    let smtp_url = format!("smtp://127.0.0.1:{port}");
    let app = TestApp::spawn_with(
        &b,
        Options {
            smtp_url: Some(smtp_url.clone()),
            ..Default::default()
        },
    )
    .await;
    let (username, display_name, addr) = ("wangwu", "王五（重启测试）", "wangwu@example.org");
    create_user(&app, username, display_name, addr).await;

    // Nothing listens: the message is tried, fails, and stays queued.
    wait_for(20, "a failed attempt", || {
        let r = row_for(&app.db, addr);
        r.attempts >= 1 && r.status == "pending"
    })
    .await;
    let db = app.stop().await;
    // Read once the worker has stopped, so no attempt is missed.
    let before = row_for(&db, addr);
    assert_eq!(before.status, "pending", "{before:?}");
    assert!(before.attempts >= 1 && !before.sent, "{before:?}");
    assert!(
        before
            .last_error
            .as_deref()
            .is_some_and(|e| e.starts_with("SMTP")),
        "{before:?}"
    );

    // The server comes up; the restarted app delivers the queued message, once.
    let smtp = SmtpServer::start(port);
    let app = TestApp::start_on(
        db,
        Options {
            smtp_url: Some(smtp_url),
            seed: false,
            ..Default::default()
        },
    )
    .await;
    wait_for(30, "delivery after the restart", || {
        row_for(&app.db, addr).status == "sent"
    })
    .await;
    wait_for(10, "the message in the maildir", || {
        !addressed_to(smtp.messages(), addr).is_empty()
    })
    .await;
    // A further pass of the sender finds nothing due: delivered once, not again.
    assert_eq!(app.mail_pass().await, 0, "a second pass sent again");

    let mine = addressed_to(smtp.messages(), addr);
    assert_eq!(mine.len(), 1, "exactly one delivery: {mine:#?}");
    assert_welcome(&mine[0], username, display_name);
    assert_eq!(
        mine[0]["message_id"],
        format!("<{}>", before.message_id),
        "the Message-ID fixed at enqueue time"
    );
    let after = row_for(&app.db, addr);
    assert_eq!(after.id, before.id);
    assert_eq!(after.status, "sent");
    assert_eq!(
        after.attempts,
        before.attempts + 1,
        "one more attempt, which succeeded: {after:?}"
    );
    assert!(after.sent && after.last_error.is_none(), "{after:?}");
    app.stop().await;
    drop(smtp);
}

both_backends!(
    eml_files_without_smtp,
    smtp_delivery_decodes_exactly,
    queued_while_smtp_down_then_delivered_after_restart
);

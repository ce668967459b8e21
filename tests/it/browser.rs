//! One journey in a real browser (Debian's headless Chromium through chromedriver): sign in as the bureau,
//! see the Chinese dashboard, switch to English, sign out, and find the dashboard closed again.
//!
//! The WebDriver commands go over plain HTTP with reqwest. fantoccini 0.22 with its default features off
//! cannot be used here: its `ClientBuilder<C>` needs a `hyper_util` connector type, which this crate cannot
//! name without a `hyper-util` dev-dependency or one of fantoccini's TLS features.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::both_backends;
use crate::helpers::*;

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";
/// The W3C WebDriver key of an element reference.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// chromedriver on a port of its own, with a fresh browser profile; ends its session and stops when dropped.
pub(crate) struct Driver {
    child: Child,
    port: u16,
    root: PathBuf,
    session: Option<String>,
}

impl Driver {
    pub(crate) fn start() -> Driver {
        for (path, what) in [(CHROMEDRIVER, "chromedriver"), (CHROMIUM, "chromium")] {
            assert!(
                Path::new(path).is_file(),
                "the browser test needs {what} at {path}: run scripts/setup-test-deps (apt-get install chromium \
                 chromium-driver)"
            );
        }
        let port = free_port();
        let root =
            std::env::temp_dir().join(format!("sanshe-browser-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(root.join("profile")).unwrap();
        let log = std::fs::File::create(root.join("chromedriver.log")).unwrap();
        let child = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot start {CHROMEDRIVER} ({e}): run scripts/setup-test-deps")
            });
        Driver {
            child,
            port,
            root,
            session: None,
        }
    }

    /// Where the browser saves downloads.
    pub(crate) fn downloads(&self) -> PathBuf {
        self.root.join("downloads")
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.root.join("chromedriver.log")).unwrap_or_default()
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// Wait until chromedriver answers and is ready, then open a session.
    pub(crate) async fn connect(&mut self) -> Browser {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!("chromedriver exited ({status}): {}", self.log());
            }
            if let Ok(r) = http.get(self.url("/status")).send().await
                && let Ok(v) = r.json::<Value>().await
                && v["value"]["ready"] == true
            {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "chromedriver did not become ready: {}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let profile = self.root.join("profile");
        let downloads = self.downloads();
        std::fs::create_dir_all(&downloads).unwrap();
        let caps = json!({"capabilities": {"alwaysMatch": {"goog:chromeOptions": {
            "binary": CHROMIUM,
            "prefs": {
                "download.default_directory": downloads.display().to_string(),
                "download.prompt_for_download": false,
            },
            "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
                "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
                format!("--user-data-dir={}", profile.display()), "--window-size=1280,900",
            ],
        }}}});
        let r = http
            .post(self.url("/session"))
            .json(&caps)
            .send()
            .await
            .expect("chromedriver answers");
        let status = r.status();
        let v: Value = r.json().await.unwrap();
        assert!(
            status.is_success(),
            "no browser session ({status}): {v}\n{}",
            self.log()
        );
        let id = v["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no sessionId in {v}"))
            .to_string();
        self.session = Some(id.clone());
        Browser {
            http,
            base: self.url(&format!("/session/{id}")),
        }
    }

    /// A plain HTTP request to chromedriver from `drop`, where nothing async can run.
    fn raw(&self, method: &str, path: &str) {
        let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", self.port)) else {
            return;
        };
        let _ = s.set_read_timeout(Some(Duration::from_secs(10)));
        let req = format!(
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            self.port
        );
        if s.write_all(req.as_bytes()).is_ok() {
            let _ = s.read_to_end(&mut Vec::new());
        }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        // Quit the browser first (after a failed assertion the session is still open), then chromedriver.
        if let Some(id) = self.session.take() {
            self.raw("DELETE", &format!("/session/{id}"));
        }
        self.raw("GET", "/shutdown");
        let deadline = Instant::now() + Duration::from_secs(5);
        while matches!(self.child.try_wait(), Ok(None)) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

/// A WebDriver session.
pub(crate) struct Browser {
    http: reqwest::Client,
    base: String,
}

impl Browser {
    /// One command; the `value` of the answer, or the WebDriver error.
    pub(crate) async fn cmd(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value, String> {
        let mut r = self.http.request(method, format!("{}{path}", self.base));
        if let Some(b) = body {
            r = r.json(&b);
        }
        let r = r.send().await.map_err(|e| e.to_string())?;
        let status = r.status();
        let v: Value = r.json().await.map_err(|e| e.to_string())?;
        if status.is_success() {
            Ok(v["value"].clone())
        } else {
            Err(format!(
                "{status}: {} {}",
                v["value"]["error"], v["value"]["message"]
            ))
        }
    }

    pub(crate) async fn goto(&self, url: &str) {
        self.cmd(reqwest::Method::POST, "/url", Some(json!({"url": url})))
            .await
            .unwrap();
    }

    /// Sign in through the form as `user` (the demo password), landing on `next`.
    pub(crate) async fn sign_in(&self, app: &TestApp, user: &str, next: &str) {
        let q: String = url::form_urlencoded::byte_serialize(next.as_bytes()).collect();
        self.goto(&app.url(&format!("/login?next={q}"))).await;
        self.wait_page("the sign-in page", |p| p.path == "/login")
            .await;
        self.type_into("#username", user).await;
        self.type_into("#password", PASSWORD).await;
        self.click("#login-submit").await;
        let path = next.split('?').next().unwrap_or(next).to_string();
        self.wait_page(next, |p| p.path == path).await;
    }

    pub(crate) async fn find(&self, css: &str) -> Result<String, String> {
        let v = self
            .cmd(
                reqwest::Method::POST,
                "/element",
                Some(json!({"using": "css selector", "value": css})),
            )
            .await?;
        v[ELEMENT]
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| format!("no element reference in {v}"))
    }

    pub(crate) async fn element(&self, css: &str) -> String {
        self.find(css)
            .await
            .unwrap_or_else(|e| panic!("{css}: {e}"))
    }

    pub(crate) async fn type_into(&self, css: &str, text: &str) {
        let el = self.element(css).await;
        self.cmd(
            reqwest::Method::POST,
            &format!("/element/{el}/value"),
            Some(json!({"text": text})),
        )
        .await
        .unwrap();
    }

    pub(crate) async fn click(&self, css: &str) {
        let el = self.element(css).await;
        self.cmd(
            reqwest::Method::POST,
            &format!("/element/{el}/click"),
            Some(json!({})),
        )
        .await
        .unwrap();
    }

    pub(crate) async fn attr(&self, css: &str, name: &str) -> Option<String> {
        let el = self.element(css).await;
        let v = self
            .cmd(
                reqwest::Method::GET,
                &format!("/element/{el}/attribute/{name}"),
                None,
            )
            .await
            .unwrap();
        v.as_str().map(str::to_string)
    }

    /// What the test looks at: path, query, document language and the visible text.
    pub(crate) async fn page(&self) -> Result<Page, String> {
        let script = "return {path: location.pathname, query: location.search, lang: document.documentElement.lang, \
                      ready: document.readyState, text: document.body ? document.body.innerText : ''};";
        let v = self
            .cmd(
                reqwest::Method::POST,
                "/execute/sync",
                Some(json!({"script": script, "args": []})),
            )
            .await?;
        let s = |k: &str| v[k].as_str().unwrap_or_default().to_string();
        Ok(Page {
            path: s("path"),
            query: s("query"),
            lang: s("lang"),
            ready: s("ready") == "complete",
            text: s("text"),
        })
    }

    /// Wait until the loaded page satisfies `ok`; returns it.
    pub(crate) async fn wait_page(&self, what: &str, ok: impl Fn(&Page) -> bool) -> Page {
        let deadline = Instant::now() + Duration::from_secs(20);
        let mut last: Result<Page, String> = Err("nothing yet".to_string());
        loop {
            if let Ok(p) = &last
                && p.ready
                && ok(p)
            {
                return last.unwrap();
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}; last page: {last:#?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
            last = self.page().await;
        }
    }

    /// Run a script in the page; its return value.
    pub(crate) async fn script(&self, js: &str) -> Value {
        self.cmd(
            reqwest::Method::POST,
            "/execute/sync",
            Some(json!({"script": js, "args": []})),
        )
        .await
        .unwrap_or_else(|e| panic!("{js}: {e}"))
    }

    /// Resize the window (390 is a phone).
    pub(crate) async fn resize(&self, width: u32, height: u32) {
        self.cmd(
            reqwest::Method::POST,
            "/window/rect",
            Some(json!({"width": width, "height": height})),
        )
        .await
        .unwrap();
    }

    /// The page is no wider than the window (nothing scrolls sideways): (window, page) widths.
    pub(crate) async fn assert_no_sideways_scroll(&self, what: &str) {
        let w = self
            .script("return [window.innerWidth, document.documentElement.scrollWidth]")
            .await;
        let (window, page) = (w[0].as_i64().unwrap(), w[1].as_i64().unwrap());
        if page <= window {
            return;
        }
        // Name the widest elements that stick out, so the failure says where to look.
        let out = self
            .script(
                "const w = window.innerWidth;
                 return [...document.body.querySelectorAll('*')]
                   .map(e => [e, e.getBoundingClientRect().right])
                   .filter(([e, r]) => r > w && !e.parentElement.closest('.table-wrap'))
                   .sort((a, b) => b[1] - a[1]).slice(0, 5)
                   .map(([e, r]) => e.tagName + (e.id ? '#' + e.id : '') + (e.className ? '.' + e.className : '') + ' ' + Math.round(r));",
            )
            .await;
        panic!("{what}: the page is {page} px wide in a {window} px window: {out}");
    }

    pub(crate) async fn screenshot(&self, to: &Path) {
        use base64::Engine;
        let v = self
            .cmd(reqwest::Method::GET, "/screenshot", None)
            .await
            .unwrap();
        let png = base64::engine::general_purpose::STANDARD
            .decode(v.as_str().expect("base64 PNG"))
            .unwrap();
        assert!(
            png.starts_with(b"\x89PNG\r\n\x1a\n") && png.len() > 1000,
            "not a PNG screenshot"
        );
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::write(to, png).unwrap();
    }

    pub(crate) async fn close(self) {
        self.cmd(reqwest::Method::DELETE, "", None).await.unwrap();
    }
}

#[derive(Debug)]
pub(crate) struct Page {
    pub(crate) path: String,
    pub(crate) query: String,
    pub(crate) lang: String,
    pub(crate) ready: bool,
    pub(crate) text: String,
}

async fn bureau_signs_in_switches_language_and_signs_out(b: Backend) {
    let app = TestApp::spawn(&b).await;
    let mut driver = Driver::start();
    let browser = driver.connect().await;

    browser.goto(&app.url("/login")).await;
    let p = browser
        .wait_page("the sign-in page", |p| p.path == "/login")
        .await;
    assert_eq!(p.lang, "zh-CN", "Chinese by default: {p:#?}");
    browser.type_into("#username", "bureau").await;
    browser.type_into("#password", PASSWORD).await;
    browser.click("#login-submit").await;

    let p = browser
        .wait_page("the dashboard", |p| p.path == "/dashboard")
        .await;
    assert_eq!(
        browser
            .attr("h1#dashboard-title", "data-role")
            .await
            .as_deref(),
        Some("bureau")
    );
    assert!(p.text.contains("工作台"), "{p:#?}");
    assert_eq!(p.lang, "zh-CN", "{p:#?}");
    assert!(
        browser.find("button#logout").await.is_ok(),
        "signed in: a sign-out button"
    );
    let shot = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("target")
        .join(format!("browser-dashboard-{}.png", b.name()));
    browser.screenshot(&shot).await;

    browser.click("a#lang-switch").await;
    let p = browser
        .wait_page("the English dashboard", |p| p.lang == "en")
        .await;
    assert_eq!(p.path, "/dashboard", "{p:#?}");
    assert!(p.text.contains("Dashboard"), "{p:#?}");
    assert!(!p.text.contains("工作台"), "{p:#?}");
    assert_eq!(
        browser
            .attr("h1#dashboard-title", "data-role")
            .await
            .as_deref(),
        Some("bureau")
    );

    browser.click("button#logout").await;
    let p = browser
        .wait_page("the sign-in page after signing out", |p| p.path == "/login")
        .await;
    assert!(
        browser.find("form#login-form").await.is_ok(),
        "the sign-in form: {p:#?}"
    );
    assert!(
        browser.find("#username").await.is_ok() && browser.find("#password").await.is_ok(),
        "{p:#?}"
    );
    assert!(
        browser.find("button#logout").await.is_err(),
        "signed out: no sign-out button: {p:#?}"
    );
    assert!(
        p.text.contains("Sign in") && p.text.contains("You have signed out."),
        "in English: {p:#?}"
    );

    // The session is gone: the dashboard sends the browser back to sign in.
    browser.goto(&app.url("/dashboard")).await;
    let p = browser
        .wait_page("the redirect to sign in", |p| p.path == "/login")
        .await;
    assert!(
        p.query.contains("next=%2Fdashboard") || p.query.contains("next=/dashboard"),
        "{p:#?}"
    );
    assert!(browser.find("form#login-form").await.is_ok(), "{p:#?}");
    assert!(browser.find("h1#dashboard-title").await.is_err(), "{p:#?}");

    // The API browser works under its content security policy: Swagger UI draws the operations.
    browser.goto(&app.url("/api/docs/")).await;
    let p = browser
        .wait_page("the API browser", |p| {
            p.path == "/api/docs/" && p.text.contains("/api/v1/organisations")
        })
        .await;
    assert!(
        p.text.contains("Sanshe") || p.text.contains("三社"),
        "{p:#?}"
    );

    browser.close().await;
    driver.session = None;
    drop(driver);
    app.stop().await;
}

both_backends!(bureau_signs_in_switches_language_and_signs_out);

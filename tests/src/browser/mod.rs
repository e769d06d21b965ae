//! Browsers for end-to-end tests, driven through WebDriver: headless
//! Chromium (the full suite), and Firefox ESR and WebKitGTK for the
//! cross-engine journeys ([`engine`]).
//!
//! Each [`Browser`] is a separate profile (its own user-data directory), so two
//! of them are two devices.

pub mod engine;

pub use engine::Engine;

use fantoccini::{Client, ClientBuilder};
use std::net::TcpListener;
use std::process::Child;
use std::time::Duration;
use tempfile::TempDir;

/// How long one WebDriver command may take. No driver bounds its own
/// commands, and a page that stopped answering (seen in WebKitGTK) must
/// fail its test with a reason, never stall the run.
pub const COMMAND_LIMIT: Duration = Duration::from_secs(30);

/// `command`'s outcome, or an error naming `what` if the browser did not
/// answer within `limit`.
pub async fn within<T>(
    limit: Duration,
    what: &str,
    command: impl std::future::Future<Output = Result<T, fantoccini::error::CmdError>>,
) -> Result<T, String> {
    match tokio::time::timeout(limit, command).await {
        Ok(outcome) => outcome.map_err(|err| err.to_string()),
        Err(_) => Err(format!(
            "{what}: the browser did not answer within {limit:?}"
        )),
    }
}

/// A WebDriver server and one browser session with a fresh profile.
pub struct Browser {
    /// The WebDriver client.
    pub client: Client,
    /// The engine it runs.
    pub engine: Engine,
    driver: Child,
    _profile: TempDir,
    // Dropped after the driver (fields drop in order): the display the
    // browser draws on, for WebKitGTK.
    _display: Option<engine::Display>,
}

/// Whether this run can start a browser: `CHROMEDRIVER` names the driver.
/// Skips (or fails, under strict mode) when it is not set.
pub fn available() -> Option<String> {
    Engine::Chromium.driver()
}

impl Browser {
    /// Starts ChromeDriver on a free port and opens a headless Chromium.
    pub async fn start(chromedriver: &str) -> Self {
        Self::launch(Engine::Chromium, chromedriver).await
    }

    /// Starts `engine`'s WebDriver server (`driver`) on a free port and
    /// opens a session in a fresh profile (on an Xvfb display of its own
    /// for WebKitGTK).
    pub async fn launch(engine: Engine, driver: &str) -> Self {
        let profile = tempfile::tempdir().expect("profile dir");
        Self::launch_in(engine, driver, profile, &[]).await
    }

    /// Opens Chromium on the profile directory `profile` (a copy of another
    /// browser's, say: see [`Browser::close_keeping_profile`]).
    pub async fn start_in(chromedriver: &str, profile: TempDir) -> Self {
        Self::launch_in(Engine::Chromium, chromedriver, profile, &[]).await
    }

    /// Starts Chromium with `args` beside the usual ones (a file for the
    /// fake microphone, say).
    pub async fn start_with(chromedriver: &str, args: &[String]) -> Self {
        let profile = tempfile::tempdir().expect("profile dir");
        Self::launch_in(Engine::Chromium, chromedriver, profile, args).await
    }

    /// [`Browser::launch`] on `profile`, with `args` added to Chromium's.
    async fn launch_in(engine: Engine, driver: &str, profile: TempDir, args: &[String]) -> Self {
        let display = engine.needs_display().then(engine::Display::start);
        let port = free_port();
        let mut driver =
            engine.spawn_driver(driver, port, display.as_ref().map(|d| d.name.as_str()));
        let url = format!("http://127.0.0.1:{port}");
        let mut caps = match engine.capabilities(profile.path()) {
            serde_json::Value::Object(map) => map,
            _ => unreachable!("built as an object"),
        };
        if let Some(list) = caps
            .get_mut("goog:chromeOptions")
            .and_then(|o| o.get_mut("args"))
            .and_then(|a| a.as_array_mut())
        {
            list.extend(args.iter().map(|a| serde_json::Value::from(a.as_str())));
        }
        let mut last_error = String::new();
        // Firefox and WebKitGTK take a few seconds to start on a busy machine.
        for _ in 0..300 {
            match ClientBuilder::native()
                .capabilities(caps.clone())
                .connect(&url)
                .await
            {
                Ok(client) => {
                    return Self {
                        client,
                        engine,
                        driver,
                        _profile: profile,
                        _display: display,
                    };
                }
                Err(err) => last_error = err.to_string(),
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let _ = driver.kill();
        panic!("cannot start a {} session: {last_error}", engine.name());
    }

    /// Waits (at most `seconds`) for an element matching `css`; its text.
    /// An element the page re-rendered between finding and reading it is
    /// looked up again, as is one a driver failed to describe while the
    /// page replaced it (WebKitGTK's driver then answers "Could not parse
    /// element info" or "Node … not found"); a browser that stops
    /// answering ends the wait at once.
    pub async fn text_of(&self, css: &str, seconds: u64) -> Result<String, String> {
        let deadline = std::time::Instant::now() + Duration::from_secs(seconds);
        loop {
            let read = within(COMMAND_LIMIT, "finding an element", async {
                self.client
                    .find(fantoccini::Locator::Css(css))
                    .await?
                    .text()
                    .await
            })
            .await;
            let err = match read {
                Ok(text) => return Ok(text),
                Err(err) if err.contains("did not answer") => return Err(err),
                Err(err) => err,
            };
            if std::time::Instant::now() > deadline {
                return Err(format!("no {css} within {seconds} s: {err}"));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Types `text` into the element matching `css`.
    /// Retries when the page re-rendered the element in between (the old
    /// element is then stale, or, while it is being replaced, not
    /// interactable).
    pub async fn fill(&self, css: &str, text: &str) -> Result<(), String> {
        self.text_of(css, 30).await?;
        let mut last = String::new();
        for _ in 0..10 {
            let typed = within(COMMAND_LIMIT, "typing", async {
                self.client
                    .find(fantoccini::Locator::Css(css))
                    .await?
                    .send_keys(text)
                    .await
            })
            .await;
            // Anything but a browser that stopped answering is the element
            // being re-rendered (stale, not interactable, or a driver that
            // could not describe it): look it up again.
            match typed {
                Ok(()) => return Ok(()),
                Err(err) if err.contains("did not answer") => return Err(err),
                Err(err) => last = format!("cannot type into {css}: {err}"),
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Err(last)
    }

    /// Clicks the element matching `css` (again if the page re-rendered it
    /// in between).
    pub async fn click(&self, css: &str) -> Result<(), String> {
        let mut last_error = String::new();
        for _ in 0..5 {
            self.text_of(css, 30).await?;
            let clicked = within(COMMAND_LIMIT, "a click", async {
                self.client
                    .find(fantoccini::Locator::Css(css))
                    .await?
                    .click()
                    .await
            })
            .await;
            match clicked {
                Ok(()) => return Ok(()),
                Err(err) => last_error = format!("cannot click {css}: {err}"),
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Err(last_error)
    }

    /// Waits (at most `seconds`) until exactly `count` elements match `css`.
    pub async fn wait_count(&self, css: &str, count: usize, seconds: u64) -> Result<(), String> {
        let deadline = std::time::Instant::now() + Duration::from_secs(seconds);
        loop {
            let script = "return document.querySelectorAll(arguments[0]).length;";
            let found = within(
                COMMAND_LIMIT,
                "counting elements",
                self.client.execute(script, vec![css.into()]),
            )
            .await?
            .as_u64()
            .unwrap_or_default() as usize;
            if found == count {
                return Ok(());
            }
            if std::time::Instant::now() > deadline {
                return Err(format!("{found} elements match {css}, expected {count}"));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Ends the browser session and the driver.
    pub async fn close(mut self) {
        let _ = within(TEARDOWN_LIMIT, "closing", self.client.clone().close()).await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

impl Browser {
    /// Ends the session and the driver, waits until the browser has let go
    /// of its profile directory (Chromium deletes its `SingletonLock` on
    /// the way out) and gives the directory back, with everything the
    /// browser wrote to disk.
    pub async fn close_keeping_profile(mut self) -> TempDir {
        let profile = std::mem::replace(
            &mut self._profile,
            tempfile::tempdir().expect("profile dir"),
        );
        self.close().await;
        let lock = profile.path().join("SingletonLock");
        for _ in 0..100 {
            if std::fs::symlink_metadata(&lock).is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        profile
    }
}

/// JavaScript that defines `openVault()`: a promise of the page's vault
/// database, wherever it lives (the highest `courier-vault-N` storage
/// bucket, else the default IndexedDB). Put it before a script that uses it.
pub const OPEN_VAULT: &str = r#"
async function openVault() {
  let factory = indexedDB;
  if (navigator.storageBuckets) {
    const numbers = (await navigator.storageBuckets.keys())
      .filter((name) => name.startsWith("courier-vault-"))
      .map((name) => Number(name.slice("courier-vault-".length)))
      .sort((a, b) => b - a);
    if (numbers.length > 0) {
      factory = (await navigator.storageBuckets.open(`courier-vault-${numbers[0]}`)).indexedDB;
    }
  }
  return new Promise((resolve, reject) => {
    const open = factory.open("courier");
    open.onsuccess = () => resolve(open.result);
    open.onerror = () => reject(open.error);
  });
}
"#;

/// `script` with [`OPEN_VAULT`] before it.
pub fn with_vault(script: &str) -> String {
    format!("{OPEN_VAULT}{script}")
}

/// A copy of the profile directory `from` (every file, as `cp -a` makes
/// it), as someone who got hold of the files would have it.
pub fn copy_profile(from: &std::path::Path) -> TempDir {
    let to = tempfile::tempdir().expect("profile dir");
    let status = std::process::Command::new("cp")
        .arg("-a")
        .arg(format!("{}/.", from.display()))
        .arg(to.path())
        .status()
        .expect("cp runs");
    assert!(status.success(), "cp -a {} failed", from.display());
    // The browser that wrote it is gone: its lock files would only make
    // the next one hesitate.
    for name in ["SingletonLock", "SingletonCookie", "SingletonSocket"] {
        let _ = std::fs::remove_file(to.path().join(name));
    }
    to
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
    }
}

/// A Chrome DevTools Protocol command, sent through ChromeDriver.
#[derive(Debug)]
struct Cdp {
    cmd: String,
    params: serde_json::Value,
}

impl fantoccini::wd::WebDriverCompatibleCommand for Cdp {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!(
            "session/{}/goog/cdp/execute",
            session_id.unwrap_or_default()
        ))
    }

    fn method_and_body(&self, _request_url: &url::Url) -> (http::Method, Option<String>) {
        let body = serde_json::json!({ "cmd": self.cmd, "params": self.params });
        (http::Method::POST, Some(body.to_string()))
    }
}

impl Browser {
    /// Opens `url` in the current tab.
    pub async fn goto(&self, url: &str) -> Result<(), String> {
        within(COMMAND_LIMIT, "opening a page", self.client.goto(url)).await
    }

    /// Reloads the page as its reload button does, and waits for the new
    /// document. (WebDriver's Refresh is not used: geckodriver's skips the
    /// service worker, as a forced reload does, so an offline reload in
    /// Firefox would show its network error page.)
    pub async fn reload(&self) -> Result<(), String> {
        self.js("window.courierBeforeReload = true; setTimeout(() => location.reload(), 0); return true;")
            .await?;
        let loaded = "return window.courierBeforeReload === undefined \
                      && document.readyState === 'complete';";
        for _ in 0..300 {
            // While the page unloads, a script may fail: that is a retry.
            if self.js(loaded).await.ok().and_then(|v| v.as_bool()) == Some(true) {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Err("the page did not reload within 30 s".into())
    }

    /// Runs `script` in the page and returns its result.
    pub async fn js(&self, script: &str) -> Result<serde_json::Value, String> {
        within(
            COMMAND_LIMIT,
            "a script",
            self.client.execute(script, vec![]),
        )
        .await
    }

    /// Polls `script` (which returns a boolean) until it is true, for up to
    /// 30 s; `what` names the wait in the error.
    pub async fn wait_js(&self, script: &str, what: &str) -> Result<(), String> {
        for _ in 0..300 {
            if self.js(script).await?.as_bool() == Some(true) {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Err(format!("no {what} within 30 s"))
    }

    /// Runs a DevTools Protocol command (CPU or network throttling, say)
    /// and returns its result.
    pub async fn cdp(
        &self,
        cmd: &str,
        params: serde_json::Value,
    ) -> Result<serde_json::Value, String> {
        let command = Cdp {
            cmd: cmd.to_owned(),
            params,
        };
        self.client
            .issue_cmd(command)
            .await
            .map_err(|err| format!("{cmd}: {err}"))
    }

    /// Registers `username` on a fresh page at `url`.
    pub async fn register(&self, url: &str, username: &str) -> Result<(), String> {
        self.goto(url).await?;
        self.fill("#register-name", username).await?;
        self.click("#register").await?;
        self.until_ready(30).await
    }

    /// Waits (at most `seconds`) for the signed-in page; the error tells
    /// what the page went through meanwhile (phase, core, connection, the
    /// typed name and the notice, with the time of each change), which is
    /// what a slow or stuck sign-up or link needs.
    async fn until_ready(&self, seconds: u64) -> Result<(), String> {
        let started = std::time::Instant::now();
        let probe = "const m = document.querySelector('main');\
                     const n = document.querySelector('[data-notice]');\
                     const c = document.querySelector('[data-connection]');\
                     const i = document.querySelector('input[autocomplete=username]');\
                     return m ? [m.dataset.phase, m.dataset.core, c && c.dataset.connection,\
                     i ? i.value : '-',\
                     n ? n.textContent : '',\
                     !!document.querySelector(\"[data-phase='ready'] .chat-list\")].join('|') : 'no page';";
        let mut timeline = Vec::new();
        while started.elapsed() < Duration::from_secs(seconds) {
            // While the page navigates, a script may fail: that is a retry.
            let seen = self
                .js(probe)
                .await
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned));
            if let Some(seen) = seen {
                if seen.ends_with("|true") {
                    return Ok(());
                }
                if timeline.last().is_none_or(|(_, last)| *last != seen) {
                    timeline.push((started.elapsed(), seen));
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let timeline: Vec<String> = timeline
            .iter()
            .map(|(at, seen)| format!("{:.1} s: {seen}", at.as_secs_f64()))
            .collect();
        Err(format!(
            "not signed in within {seconds} s (phase|core|connection|typed name|notice: {})",
            timeline.join("; ")
        ))
    }

    /// Links this fresh page at `url` as a new device of `first`'s account,
    /// by the code `first` shows on its devices panel (left open there).
    pub async fn link_from(&self, first: &Browser, url: &str) -> Result<(), String> {
        first.tab("#devices-tab").await?;
        first.click("#show-link").await?;
        let code = first.text_of("[data-link-code]", 30).await?;
        self.goto(url).await?;
        self.fill("#link-code", &code).await?;
        self.click("#link").await?;
        self.until_ready(60).await
    }

    /// Starts a chat with `username` and waits for it to open.
    pub async fn start_chat(&self, username: &str) -> Result<(), String> {
        self.fill("#new-chat-name", username).await?;
        self.click("#new-chat").await?;
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        loop {
            if self.text_of("[data-peer-name]", 30).await? == username {
                return Ok(());
            }
            if std::time::Instant::now() > deadline {
                return Err(format!("the chat with {username} did not open"));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Types `text` into the open conversation and sends it.
    pub async fn send(&self, text: &str) -> Result<(), String> {
        self.fill("#composer-text", text).await?;
        self.click("#send").await
    }

    /// Sends `count` messages `prefix 0`, `prefix 1`, … into the open
    /// conversation from the page itself, 20 ms apart (fast, for history
    /// longer than a page).
    pub async fn send_many(&self, prefix: &str, count: usize) -> Result<(), String> {
        self.js(&format!(
            "(async () => {{ for (let i = 0; i < {count}; i++) {{\
               const t = document.getElementById('composer-text'); t.value = {prefix:?} + ' ' + i;\
               t.dispatchEvent(new Event('input', {{bubbles: true}}));\
               document.getElementById('send').click(); await new Promise((r) => setTimeout(r, 20)); }} }})();\
             return true;"
        ))
        .await
        .map(|_| ())
    }

    /// Switches to the tab `css` (a button with `aria-pressed`), clicking
    /// again if the page was re-rendering when the first click landed.
    pub async fn tab(&self, css: &str) -> Result<(), String> {
        let pressed = format!("{css}[aria-pressed='true']");
        for _ in 0..20 {
            self.click(css).await?;
            if self.text_of(&pressed, 1).await.is_ok() {
                return Ok(());
            }
        }
        Err(format!("{css} does not open"))
    }

    /// The mark on the last outgoing bubble.
    pub async fn last_mark(&self) -> Result<String, String> {
        let script = "const all = document.querySelectorAll(\"li[data-outgoing='true']\");\
                      const last = all[all.length - 1];\
                      return last ? last.getAttribute('data-mark') : null;";
        let mark = within(
            COMMAND_LIMIT,
            "reading a mark",
            self.client.execute(script, vec![]),
        )
        .await?;
        mark.as_str()
            .map(str::to_owned)
            .ok_or_else(|| "no outgoing message with a mark".into())
    }

    /// Waits until the last outgoing bubble shows `mark`.
    pub async fn wait_mark(&self, mark: &str) -> Result<(), String> {
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        loop {
            // The list re-renders as marks change: a stale read just retries.
            let now = self.last_mark().await.unwrap_or_default();
            if now == mark {
                return Ok(());
            }
            if std::time::Instant::now() > deadline {
                return Err(format!("the last mark is {now:?}, expected {mark:?}"));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Opens the chat with `name` from the chat list and sends `text`.
    /// Clicks again if the list was re-rendering when the click landed
    /// (WebKitGTK then loses it) and no conversation opened.
    pub async fn send_from_list(&self, name: &str, text: &str) -> Result<(), String> {
        self.wait_text("button[data-chat]", name, 30).await?;
        for _ in 0..20 {
            self.click("button[data-chat]").await?;
            if self.text_of("#composer-text", 1).await.is_ok() {
                break;
            }
        }
        self.send(text).await
    }

    /// Whether an element matching `css` has text containing `text` (read
    /// in the page, so that re-rendered elements never go stale on us).
    pub async fn has_text(&self, css: &str, text: &str) -> Result<bool, String> {
        let script = "return [...document.querySelectorAll(arguments[0])]\
                      .some((e) => e.textContent.includes(arguments[1]));";
        let found = self
            .client
            .execute(script, vec![css.into(), text.into()])
            .await
            .map_err(|err| err.to_string())?;
        Ok(found.as_bool() == Some(true))
    }

    /// Waits until an element matching `css` has text containing `text`.
    pub async fn wait_text(&self, css: &str, text: &str, seconds: u64) -> Result<(), String> {
        let deadline = std::time::Instant::now() + Duration::from_secs(seconds);
        while !self.has_text(css, text).await? {
            if std::time::Instant::now() > deadline {
                return Err(format!("no {css} with text {text:?} within {seconds} s"));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Ok(())
    }

    /// Waits until `css` matches nothing with text containing `text`.
    pub async fn wait_no_text(&self, css: &str, text: &str, seconds: u64) -> Result<(), String> {
        let deadline = std::time::Instant::now() + Duration::from_secs(seconds);
        while self.has_text(css, text).await? {
            if std::time::Instant::now() > deadline {
                return Err(format!("{css} still shows {text:?} after {seconds} s"));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Ok(())
    }

    /// Saves a 1200×760 screenshot of the page as PNG at `path`.
    pub async fn screenshot(&self, path: &std::path::Path) -> Result<(), String> {
        self.client
            .set_window_size(1200, 760)
            .await
            .map_err(|e| e.to_string())?;
        tokio::time::sleep(Duration::from_millis(300)).await;
        let png = self.client.screenshot().await.map_err(|e| e.to_string())?;
        // Relative to the workspace root (tests run in the crate's folder).
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        std::fs::write(root.join(path), png).map_err(|e| format!("{}: {e}", path.display()))
    }
}

/// A Courier web server (embedded defaults), its URL and `N` fresh
/// Chromium profiles: the opening of most browser tests. `None` where the
/// built client or the browser is missing (see
/// [`crate::process::browser_setup`]).
pub async fn chromium_pages<const N: usize>()
-> Option<(crate::process::WebServer, String, [Browser; N])> {
    let (bin, dist, driver) = crate::process::browser_setup()?;
    let courier = crate::process::WebServer::start(&bin, &dist).await;
    let url = courier.url();
    let mut pages = Vec::with_capacity(N);
    for _ in 0..N {
        pages.push(Browser::start(&driver).await);
    }
    let pages: [Browser; N] = pages.try_into().ok()?;
    Some((courier, url, pages))
}

/// Closes `pages`; if the test `failed`, first prints each page's `<main>`
/// so that the log shows what the pages showed.
pub async fn close_all<const N: usize>(pages: [(&str, Browser); N], failed: bool) {
    for (name, page) in pages {
        if failed
            && let Ok(body) = within(TEARDOWN_LIMIT, "the page source", page.client.source()).await
        {
            let main = body.find("<main").map_or("", |at| &body[at..]);
            eprintln!("{name}'s page at failure: {main}");
        }
        page.close().await;
    }
}

/// How long a failed test waits for a page's source, or for its session
/// to close, before it kills the driver.
const TEARDOWN_LIMIT: Duration = Duration::from_secs(10);

/// A TCP port that was free a moment ago.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .expect("a free port")
}

//! Headless Chromium for end-to-end tests, driven through ChromeDriver.
//!
//! Each [`Browser`] is a separate profile (its own user-data directory), so two
//! of them are two devices.

use fantoccini::{Client, ClientBuilder};
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use tempfile::TempDir;

/// A ChromeDriver process and one Chromium session with a fresh profile.
pub struct Browser {
    /// The WebDriver client.
    pub client: Client,
    driver: Child,
    _profile: TempDir,
}

/// Whether this run can start a browser: `CHROMEDRIVER` names the driver.
/// Skips (or fails, under strict mode) when it is not set.
pub fn available() -> Option<String> {
    crate::env::optional("CHROMEDRIVER", "browser tests")
}

impl Browser {
    /// Starts ChromeDriver on a free port and opens a headless Chromium.
    pub async fn start(chromedriver: &str) -> Self {
        let port = free_port();
        let mut driver = Command::new(chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let url = format!("http://127.0.0.1:{port}");
        let profile = tempfile::tempdir().expect("profile dir");
        let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
        let caps = serde_json::json!({
            "goog:chromeOptions": {
                "binary": chromium,
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
                    "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
                    format!("--user-data-dir={}", profile.path().display()),
                ]
            }
        });
        let caps = match caps {
            serde_json::Value::Object(map) => map,
            _ => unreachable!("built as an object"),
        };
        let mut last_error = String::new();
        for _ in 0..100 {
            match ClientBuilder::native()
                .capabilities(caps.clone())
                .connect(&url)
                .await
            {
                Ok(client) => {
                    return Self {
                        client,
                        driver,
                        _profile: profile,
                    };
                }
                Err(err) => last_error = err.to_string(),
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let _ = driver.kill();
        panic!("cannot start a Chromium session: {last_error}");
    }

    /// Waits (at most `seconds`) for an element matching `css`; its text.
    pub async fn text_of(&self, css: &str, seconds: u64) -> Result<String, String> {
        let element = self
            .client
            .wait()
            .at_most(Duration::from_secs(seconds))
            .for_element(fantoccini::Locator::Css(css))
            .await
            .map_err(|err| format!("no {css} within {seconds} s: {err}"))?;
        element.text().await.map_err(|err| err.to_string())
    }

    /// Types `text` into the element matching `css`.
    pub async fn fill(&self, css: &str, text: &str) -> Result<(), String> {
        self.text_of(css, 30).await?;
        let element = self
            .client
            .find(fantoccini::Locator::Css(css))
            .await
            .map_err(|err| format!("no {css}: {err}"))?;
        element.send_keys(text).await.map_err(|err| err.to_string())
    }

    /// Clicks the element matching `css`.
    pub async fn click(&self, css: &str) -> Result<(), String> {
        self.text_of(css, 30).await?;
        let element = self
            .client
            .find(fantoccini::Locator::Css(css))
            .await
            .map_err(|err| format!("no {css}: {err}"))?;
        element.click().await.map_err(|err| err.to_string())
    }

    /// Waits (at most `seconds`) until exactly `count` elements match `css`.
    pub async fn wait_count(&self, css: &str, count: usize, seconds: u64) -> Result<(), String> {
        let deadline = std::time::Instant::now() + Duration::from_secs(seconds);
        loop {
            let found = self
                .client
                .find_all(fantoccini::Locator::Css(css))
                .await
                .map_err(|err| err.to_string())?
                .len();
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
        let _ = self.client.clone().close().await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
    }
}

/// A TCP port that was free a moment ago.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .expect("a free port")
}

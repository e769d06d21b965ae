//! The three browser engines the tests drive, each through its own
//! WebDriver server: Chromium (ChromeDriver), Firefox ESR (geckodriver) and
//! WebKitGTK (WebKitWebDriver, which runs MiniBrowser). Inputs: the
//! driver's path from `CHROMEDRIVER`, `GECKODRIVER` or `WEBKITDRIVER`, and
//! the browser binaries from `CHROMIUM`, `FIREFOX` or `MINIBROWSER` (Debian's
//! paths by default). Output: the capabilities that open a fresh profile
//! with a fake microphone and camera allowed without a prompt, and, for
//! WebKitGTK (which has no headless mode), an Xvfb display of its own.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

/// A browser engine, with the WebDriver server that drives it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engine {
    /// Chromium through ChromeDriver.
    Chromium,
    /// Firefox ESR through geckodriver.
    Firefox,
    /// WebKitGTK's MiniBrowser through WebKitWebDriver.
    WebKit,
}

impl Engine {
    /// The engine's name, as the tests and the README say it.
    pub fn name(self) -> &'static str {
        match self {
            Self::Chromium => "Chromium",
            Self::Firefox => "Firefox",
            Self::WebKit => "WebKitGTK",
        }
    }

    /// The variable naming this engine's WebDriver server.
    pub fn driver_variable(self) -> &'static str {
        match self {
            Self::Chromium => "CHROMEDRIVER",
            Self::Firefox => "GECKODRIVER",
            Self::WebKit => "WEBKITDRIVER",
        }
    }

    /// The driver's path, or `None` (with a notice, or a failure under
    /// strict mode) when its variable is not set.
    pub fn driver(self) -> Option<String> {
        let what = format!("browser tests in {}", self.name());
        crate::env::optional(self.driver_variable(), &what)
    }

    /// Whether the engine needs an X display (WebKitGTK has no headless
    /// mode: it runs on an Xvfb display of its own).
    pub fn needs_display(self) -> bool {
        self == Self::WebKit
    }

    /// Starts the driver `path` listening on `port`.
    pub fn spawn_driver(self, path: &str, port: u16, display: Option<&str>) -> Child {
        let mut command = Command::new(path);
        command
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        if let Some(display) = display {
            command.env("DISPLAY", display);
        }
        if self == Self::WebKit {
            // No sound card or PulseAudio server here: WebKitGTK's GStreamer
            // plays into its fake audio sink, which consumes the samples in
            // real time as a device would. (Left to look for a PulseAudio
            // server, its playback of a WebM voice note hung the page about
            // one run in ten.)
            command.env("GST_PLUGIN_FEATURE_RANK", "fakeaudiosink:MAX");
        }
        command
            .spawn()
            .unwrap_or_else(|err| panic!("{} ({path}) does not start: {err}", self.name()))
    }

    /// The capabilities of a session in a fresh profile at `profile`.
    pub fn capabilities(self, profile: &std::path::Path) -> serde_json::Value {
        let profile = profile.display().to_string();
        match self {
            Self::Chromium => serde_json::json!({
                "goog:chromeOptions": {
                    "binary": binary("CHROMIUM", "/usr/bin/chromium"),
                    "args": [
                        "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
                        "--no-first-run", "--disable-background-networking",
                        "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
                        // A fake camera and microphone, allowed without a prompt.
                        "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
                        "--autoplay-policy=no-user-gesture-required",
                        format!("--user-data-dir={profile}"),
                    ]
                }
            }),
            Self::Firefox => serde_json::json!({
                "browserName": "firefox",
                "moz:firefoxOptions": {
                    "binary": binary("FIREFOX", "/usr/bin/firefox-esr"),
                    "args": ["-headless", "-profile", profile],
                    "prefs": {
                        // A fake microphone (a tone) and camera, no prompt.
                        "media.navigator.streams.fake": true,
                        "media.navigator.permission.disabled": true,
                        // Media may play without a click, as in Chromium.
                        "media.autoplay.default": 0,
                        "media.autoplay.blocking_policy": 0,
                        "browser.shell.checkDefaultBrowser": false,
                        "app.update.enabled": false,
                        "datareporting.policy.dataSubmissionEnabled": false,
                    }
                }
            }),
            // MiniBrowser takes WebKitSettings as flags: capture enabled,
            // with WebKit's mock microphone and camera (allowed without a
            // prompt under automation). Each session is a
            // new MiniBrowser process with its own (ephemeral) data.
            Self::WebKit => serde_json::json!({
                "webkitgtk:browserOptions": {
                    "binary": binary(
                        "MINIBROWSER",
                        "/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser",
                    ),
                    "args": [
                        "--automation",
                        "--enable-media-stream=true",
                        "--enable-mock-capture-devices=true",
                        // Media may play without a click, as in Chromium.
                        "--autoplay-policy=allow",
                    ]
                }
            }),
        }
    }
}

/// The path in `variable`, else `default`.
fn binary(variable: &str, default: &str) -> String {
    std::env::var(variable).unwrap_or_else(|_| default.to_owned())
}

/// An Xvfb server on a display number it picked itself (`-displayfd`).
pub struct Display {
    server: Child,
    /// `:N`, for `DISPLAY`.
    pub name: String,
}

impl Display {
    /// Starts Xvfb (`XVFB`, else `/usr/bin/Xvfb`) and waits until it names
    /// its display.
    pub fn start() -> Self {
        let xvfb = binary("XVFB", "/usr/bin/Xvfb");
        let mut server = Command::new(&xvfb)
            .args([
                "-displayfd",
                "1",
                "-screen",
                "0",
                "1280x800x24",
                "-nolisten",
                "tcp",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|err| panic!("Xvfb ({xvfb}) does not start: {err}"));
        let mut line = String::new();
        if let Some(out) = server.stdout.take() {
            let _ = BufReader::new(out).read_line(&mut line);
        }
        let number = line.trim();
        if number.is_empty() {
            let _ = server.kill();
            panic!("Xvfb named no display");
        }
        Self {
            name: format!(":{number}"),
            server,
        }
    }
}

impl Drop for Display {
    fn drop(&mut self) {
        let _ = self.server.kill();
        let _ = self.server.wait();
    }
}

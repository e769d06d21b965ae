//! Installing what the build and the tests need, idempotently: each tool is
//! checked first and installed only when missing or at the wrong version.

use crate::exec::{cargo, cargo_bin_dir, command, output, run_step};
use std::path::{Path, PathBuf};

/// The trunk release that builds with this machine's rustc (only
/// `cargo xtask serve` needs it).
const TRUNK_VERSION: &str = "0.21.14";
/// The s3s-fs release that builds with this machine's rustc.
const S3S_FS_VERSION: &str = "0.14.1";
/// The cargo-fuzz release used for the fuzz run.
const CARGO_FUZZ_VERSION: &str = "0.13.2";
/// The wasm-opt release the build uses (and Trunk.toml names), from npm's
/// binaryen.
const WASM_OPT_VERSION: &str = "version 132";
/// The geckodriver release that builds with this machine's rustc (Firefox
/// ESR's WebDriver server).
const GECKODRIVER_VERSION: &str = "0.36.0";
/// Debian's ChromeDriver.
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// Debian's nginx, the load balancer of the multi-node tests.
pub const NGINX: &str = "/usr/sbin/nginx";
/// Debian's Chromium.
pub const CHROMIUM: &str = "/usr/bin/chromium";
/// Debian's Firefox ESR.
pub const FIREFOX: &str = "/usr/bin/firefox-esr";
/// Debian's WebKitGTK WebDriver server (it runs WebKitGTK's MiniBrowser).
pub const WEBKITDRIVER: &str = "/usr/bin/WebKitWebDriver";
/// The X server WebKitGTK draws on (it has no headless mode).
pub const XVFB: &str = "/usr/bin/Xvfb";
/// coturn's TURN server (Debian's `coturn`), for the call tests.
pub const TURNSERVER: &str = "/usr/bin/turnserver";
/// GStreamer's Opus parser, from `gstreamer1.0-plugins-bad`: without
/// that package WebKitGTK's MediaRecorder says "unsupported on this
/// platform" and its `<audio>` cannot play Opus in MP4.
const GST_PLUGINS_BAD: &str = "/usr/lib/x86_64-linux-gnu/gstreamer-1.0/libgstopusparse.so";
/// GStreamer's MP4 and WebM muxers and demuxers (`gstreamer1.0-plugins-good`).
const GST_PLUGINS_GOOD: &str = "/usr/lib/x86_64-linux-gnu/gstreamer-1.0/libgstisomp4.so";

/// geckodriver, where `cargo install` puts it.
pub fn geckodriver() -> PathBuf {
    cargo_bin_dir().join("geckodriver")
}

/// The wasm32 target, wasm-bindgen-cli (at the Cargo.lock version), and from
/// npm wasm-opt, esbuild and zopfli: everything the release client's build
/// needs (no trunk).
pub fn ensure_web_build_tools(root: &Path) -> Result<(), String> {
    let targets = output(command(root, "rustup").args(["target", "list", "--installed"]));
    if !targets.is_some_and(|t| t.lines().any(|l| l == "wasm32-unknown-unknown")) {
        run_step(
            "install the wasm32 target",
            command(root, "rustup").args(["target", "add", "wasm32-unknown-unknown"]),
        )?;
    }

    let bindgen = locked_version(root, "wasm-bindgen")?;
    let want = format!("wasm-bindgen {bindgen}");
    let have = output(command(root, "wasm-bindgen").arg("--version"));
    let runner = cargo_bin_dir().join("wasm-bindgen-test-runner");
    if have.as_deref() != Some(want.as_str()) || !runner.is_file() {
        install_wasm_bindgen_cli(root, &bindgen)?;
    }

    let wasm_opt = output(command(root, wasm_opt_path(root)).arg("--version"));
    let finishers = ["esbuild", "@gfx/zopfli"]
        .iter()
        .all(|package| root.join("tools/node_modules").join(package).is_dir());
    if !wasm_opt.is_some_and(|v| v.contains(WASM_OPT_VERSION)) || !finishers {
        run_step(
            "install wasm-opt, esbuild and zopfli (npm)",
            command(root, "npm").args(["ci", "--prefix", "tools", "--no-audit", "--no-fund"]),
        )?;
    }
    Ok(())
}

/// trunk, for `cargo xtask serve` only (the release build needs none).
pub fn ensure_trunk(root: &Path) -> Result<(), String> {
    if output(command(root, "trunk").arg("--version")) != Some(format!("trunk {TRUNK_VERSION}")) {
        run_step(
            "install trunk (first use of `cargo xtask serve`; about 7 minutes)",
            cargo(root).args(["install", "--locked", &format!("trunk@{TRUNK_VERSION}")]),
        )?;
    }
    Ok(())
}

/// npm's wasm-opt (`tools/node_modules`), called by its path: never
/// Debian's binaryen 108, which builds a page that is blank at run time.
pub fn wasm_opt_path(root: &Path) -> PathBuf {
    root.join("tools")
        .join("node_modules")
        .join(".bin")
        .join("wasm-opt")
}

/// Chromium, ChromeDriver, Firefox ESR, WebKitGTK's WebDriver, Xvfb,
/// GStreamer's codecs, Postgres, nginx, coturn and docker-compose (Debian packages),
/// geckodriver, cargo-fuzz and s3s-fs.
pub fn ensure_test_tools(root: &Path) -> Result<(), String> {
    let mut packages = Vec::new();
    if !Path::new(CHROMIUM).is_file() {
        packages.push("chromium");
    }
    if !Path::new(CHROMEDRIVER).is_file() {
        packages.push("chromium-driver");
    }
    for (path, package) in [
        (FIREFOX, "firefox-esr"),
        (WEBKITDRIVER, "webkit2gtk-driver"),
        (XVFB, "xvfb"),
        (TURNSERVER, "coturn"),
        (GST_PLUGINS_GOOD, "gstreamer1.0-plugins-good"),
        (GST_PLUGINS_BAD, "gstreamer1.0-plugins-bad"),
    ] {
        if !Path::new(path).is_file() {
            packages.push(package);
        }
    }
    if crate::services::postgres_bin("pg_ctl").is_none() {
        packages.push("postgresql");
    }
    if !Path::new(NGINX).is_file() {
        packages.push("nginx");
    }
    if output(command(root, "docker-compose").arg("version")).is_none() {
        packages.push("docker-compose");
    }
    if !packages.is_empty() {
        run_step(
            "apt-get update",
            command(root, "apt-get").args(["update", "-qq"]),
        )?;
        run_step(
            "install browser and database packages",
            command(root, "apt-get")
                .args(["install", "-y", "-qq", "--no-install-recommends"])
                .args(&packages)
                .env("DEBIAN_FRONTEND", "noninteractive"),
        )?;
    }
    let gecko = output(command(root, geckodriver()).arg("--version"));
    if !gecko.is_some_and(|v| v.starts_with(&format!("geckodriver {GECKODRIVER_VERSION}"))) {
        run_step(
            "install geckodriver",
            cargo(root).args([
                "install",
                "--locked",
                &format!("geckodriver@{GECKODRIVER_VERSION}"),
            ]),
        )?;
    }
    let fuzz = output(cargo(root).args(["fuzz", "--version"]));
    if !fuzz.is_some_and(|v| v.contains(CARGO_FUZZ_VERSION)) {
        run_step(
            "install cargo-fuzz",
            cargo(root).args([
                "install",
                "--locked",
                &format!("cargo-fuzz@{CARGO_FUZZ_VERSION}"),
            ]),
        )?;
    }
    let s3s = output(command(root, "s3s-fs").arg("--version"));
    if !s3s.is_some_and(|v| v.contains(S3S_FS_VERSION)) {
        run_step(
            "install s3s-fs",
            cargo(root).args([
                "install",
                "--locked",
                "--features",
                "binary",
                &format!("s3s-fs@{S3S_FS_VERSION}"),
            ]),
        )?;
    }
    Ok(())
}

/// The version of `package` recorded in Cargo.lock.
pub fn locked_version(root: &Path, package: &str) -> Result<String, String> {
    let lock = std::fs::read_to_string(root.join("Cargo.lock"))
        .map_err(|err| format!("cannot read Cargo.lock: {err}"))?;
    let marker = format!("name = \"{package}\"\nversion = \"");
    let start = lock
        .find(&marker)
        .ok_or_else(|| format!("{package} is not in Cargo.lock"))?
        + marker.len();
    let end = lock[start..]
        .find('"')
        .ok_or_else(|| "Cargo.lock is malformed".to_owned())?;
    Ok(lock[start..start + end].to_owned())
}

/// The cargo target directory in use.
pub fn target_dir(root: &Path) -> Result<PathBuf, String> {
    if let Some(dir) = std::env::var_os("CARGO_TARGET_DIR") {
        let dir = PathBuf::from(dir);
        return Ok(if dir.is_absolute() {
            dir
        } else {
            root.join(dir)
        });
    }
    let metadata = output(cargo(root).args(["metadata", "--format-version", "1", "--no-deps"]))
        .ok_or("cargo metadata failed")?;
    let key = "\"target_directory\":\"";
    let start = metadata.find(key).ok_or("no target_directory")? + key.len();
    let end = metadata[start..].find('"').ok_or("bad metadata")?;
    Ok(PathBuf::from(&metadata[start..start + end]))
}

/// Installs wasm-bindgen-cli at `version` from its crates.io source. Its own
/// lockfile pins a webpki-roots release the registry here lacks, so that one
/// crate is re-locked to the previous release before installing.
fn install_wasm_bindgen_cli(root: &Path, version: &str) -> Result<(), String> {
    let spec = format!("wasm-bindgen-cli@{version}");
    run_step(
        "fetch the wasm-bindgen-cli source",
        cargo(root)
            .args(["info", &spec])
            .stdout(std::process::Stdio::null()),
    )?;
    let registry = cargo_bin_dir()
        .parent()
        .map(|home| home.join("registry").join("src"))
        .ok_or("no cargo home")?;
    let source = std::fs::read_dir(&registry)
        .map_err(|err| format!("cannot read {}: {err}", registry.display()))?
        .filter_map(Result::ok)
        .map(|entry| entry.path().join(format!("wasm-bindgen-cli-{version}")))
        .find(|path| path.is_dir())
        .ok_or_else(|| format!("wasm-bindgen-cli-{version} source not found"))?;
    let work = std::env::temp_dir().join(format!("courier-wasm-bindgen-cli-{version}"));
    let _ = std::fs::remove_dir_all(&work);
    run_step(
        "copy the wasm-bindgen-cli source",
        command(root, "cp").arg("-r").arg(&source).arg(&work),
    )?;
    let lock = std::fs::read_to_string(work.join("Cargo.lock")).unwrap_or_default();
    if lock.contains("name = \"webpki-roots\"\nversion = \"1.0.11\"") {
        run_step(
            "re-lock webpki-roots",
            cargo(&work).args(["update", "-p", "webpki-roots", "--precise", "1.0.10"]),
        )?;
    }
    run_step(
        "install wasm-bindgen-cli",
        cargo(root)
            .args(["install", "--locked", "--force", "--path"])
            .arg(&work),
    )
}

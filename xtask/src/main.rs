//! `cargo xtask run` and `cargo xtask test`: the README's two commands (and
//! `dist`, the Docker build, and `serve`, the front-end development loop).
//!
//! - `run` installs what the web client's build needs, builds the client
//!   (its own release pipeline, no trunk) and the server, and starts
//!   `courier` on its embedded defaults (SQLite and a local media
//!   directory), which prints the URL to open.
//! - `test` installs every tool the tests need, starts a throwaway Postgres and
//!   an S3-compatible server on free loopback ports, then runs formatting,
//!   clippy, the native tests (every store test against SQLite and Postgres),
//!   the in-browser wasm tests and the browser end-to-end tests (the full
//!   suite in Chromium; the core journeys also in Firefox ESR and WebKitGTK),
//!   and prints one summary line.
//!
//! - `serve` runs the server beside `trunk serve` (installing trunk on
//!   first use); `client` builds only the release web client.
//!
//! Modules: [`tools`] (idempotent installs), [`web`] (the release build of
//! the web client), [`serve`], [`services`] (Postgres, s3s-fs), [`exec`]
//! (running commands and counting test results).

mod exec;
mod serve;
mod services;
mod tools;
mod web;

use exec::{Summary, cargo, run_step};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let root = workspace_root();
    let result = match args.first().map(String::as_str) {
        Some("run") => run(&root, &args[1..]),
        Some("dist") => dist(&root),
        Some("test") => test(&root),
        Some("serve") => serve::serve(&root, &args[1..]),
        Some("client") => tools::ensure_web_build_tools(&root).and_then(|()| client(&root)),
        _ => {
            eprintln!(
                "usage: cargo xtask run [-- COURIER_FLAGS…]   build everything and start Courier\n       \
                 cargo xtask test                      run every check CI runs\n       \
                 cargo xtask dist                      build target/release/courier and frontend/dist\n       \
                 cargo xtask client                    build only the web client (frontend/dist)\n       \
                 cargo xtask serve [-- COURIER_FLAGS…] the server beside `trunk serve` (front-end work)"
            );
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            if !err.is_empty() {
                eprintln!("xtask: {err}");
            }
            ExitCode::FAILURE
        }
    }
}

/// The workspace root: the parent of this crate's directory.
///
/// Read from the environment `cargo run` sets, not only the one the binary
/// was compiled in: cargo reuses a build across checkouts of the same
/// workspace, so a compile-time path can name another (even deleted) clone.
fn workspace_root() -> PathBuf {
    let manifest = std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from);
    manifest
        .parent()
        .map_or(manifest.clone(), Path::to_path_buf)
}

/// Builds the release web client; a module over its size budget is
/// reported, not fatal (`cargo xtask test` fails on it).
fn client(root: &Path) -> Result<(), String> {
    if let Some(problem) = web::build_client(root)? {
        eprintln!("xtask: warning: {problem}");
    }
    Ok(())
}

/// Builds the release server and the web client (what the Dockerfile ships).
fn dist(root: &Path) -> Result<(), String> {
    tools::ensure_web_build_tools(root)?;
    client(root)?;
    run_step(
        "build the server",
        cargo(root).args([
            "build",
            "--release",
            "-p",
            "courier-backend",
            "--bin",
            "courier",
        ]),
    )
}

/// Builds the client and the server, then runs the server in the foreground.
fn run(root: &Path, courier_args: &[String]) -> Result<(), String> {
    dist(root)?;
    let bin = tools::target_dir(root)?.join("release").join("courier");
    let dist = root.join("frontend").join("dist");
    let mut command = std::process::Command::new(bin);
    command.current_dir(root).arg("--web-dir").arg(&dist);
    command.args(courier_args.iter().filter(|a| a.as_str() != "--"));
    run_step("run courier", &mut command)
}

/// A short run of the frame-decoder fuzz target, from the seed corpus, with
/// new inputs kept in a temporary directory. Fails on any crash.
fn fuzz(root: &Path, target: &Path) -> Result<(), String> {
    let scratch = std::env::temp_dir().join(format!("courier-fuzz-{}", std::process::id()));
    std::fs::create_dir_all(&scratch).map_err(|e| format!("fuzz corpus dir: {e}"))?;
    let mut command = cargo(&root.join("fuzz"));
    command
        .args(["fuzz", "run", "decode_frames", "-s", "none"])
        .arg(&scratch)
        .arg("corpus/decode_frames")
        .args(["--", "-max_total_time=30", "-rss_limit_mb=2048"])
        .env("CARGO_TARGET_DIR", target.join("fuzz"));
    let result = run_step("fuzz the frame decoders (30 s)", &mut command);
    let _ = std::fs::remove_dir_all(&scratch);
    result
}

/// A small run of every load-generator scenario on SQLite and Postgres, so
/// that the load generator keeps working. No figure is judged.
fn loadgen_smoke(root: &Path, target: &Path, postgres: &str) -> Result<(), String> {
    let courier = target.join("debug").join("courier");
    for database in ["sqlite", postgres] {
        let mut command = cargo(root);
        command
            .args(["run", "-q", "-p", "courier-loadgen", "--", "--server"])
            .arg(&courier)
            .args(["--database", database, "smoke"]);
        run_step("load generator smoke run", &mut command)?;
    }
    Ok(())
}

/// `cargo test` of the end-to-end tests whose names start with `filter`,
/// printing their output (further test flags may be added).
fn e2e_alone(root: &Path, filter: &str) -> std::process::Command {
    let mut command = cargo(root);
    command.args([
        "test",
        "-p",
        "courier-tests",
        "--test",
        "e2e",
        "--",
        filter,
        "--nocapture",
    ]);
    command
}

/// Everything CI runs.
fn test(root: &Path) -> Result<(), String> {
    let started = std::time::Instant::now();
    tools::ensure_web_build_tools(root)?;
    tools::ensure_test_tools(root)?;

    run_step(
        "cargo fmt --check",
        cargo(root).args(["fmt", "--all", "--check"]),
    )?;
    run_step(
        "clippy (native)",
        cargo(root).args([
            "clippy",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ]),
    )?;
    run_step(
        "clippy (wasm32)",
        cargo(root).args([
            "clippy",
            "-p",
            "courier-frontend",
            "-p",
            "courier-shared",
            "--all-targets",
            "--target",
            "wasm32-unknown-unknown",
            "--",
            "-D",
            "warnings",
        ]),
    )?;
    run_step(
        "clippy (wasm32, split release build)",
        cargo(root).args([
            "clippy",
            "-p",
            "courier-frontend",
            "--target",
            "wasm32-unknown-unknown",
            "--features",
            "split",
            "--",
            "-D",
            "warnings",
        ]),
    )?;
    run_step(
        "validate compose.yaml",
        exec::command(root, "docker-compose").args(["-f", "compose.yaml", "config", "-q"]),
    )?;
    let over_budget = web::build_client(root)?;
    let next_dist = web::build_next(root)?;
    run_step(
        "build the courier binary",
        cargo(root).args(["build", "-p", "courier-backend", "--bin", "courier"]),
    )?;

    let postgres = services::Postgres::start()?;
    let s3 = services::S3Server::start()?;
    let coturn = services::Coturn::start()?;
    let target = tools::target_dir(root)?;
    let mut summary = Summary::default();
    summary.check("web client size budgets", over_budget);

    let e2e_env = |command: &mut std::process::Command| {
        command
            .env("COURIER_TEST_STRICT", "1")
            .env("TEST_DATABASE_URL", &postgres.url)
            .env("TEST_POSTGRES_RESTART", postgres.restart_command())
            .env("TEST_S3_ENDPOINT", &s3.endpoint)
            .env("TEST_S3_BUCKET", services::S3Server::BUCKET)
            .env("TEST_S3_ACCESS_KEY", services::S3Server::ACCESS_KEY)
            .env("TEST_S3_SECRET_KEY", services::S3Server::SECRET_KEY)
            .env("TEST_S3_DIR", s3.dir())
            .env("TEST_TURN_URL", &coturn.url)
            .env("TEST_TURN_SECRET", services::Coturn::SECRET)
            .env("COURIER_WEB_DIST", root.join("frontend").join("dist"))
            .env("COURIER_WEB_DIST_NEXT", &next_dist)
            .env("COURIER_BIN", target.join("debug").join("courier"))
            .env("CHROMEDRIVER", tools::CHROMEDRIVER)
            .env("GECKODRIVER", tools::geckodriver())
            .env("WEBKITDRIVER", tools::WEBKITDRIVER)
            .env("NGINX", tools::NGINX);
    };
    let mut native = cargo(root);
    native.args([
        "test",
        "--workspace",
        "--exclude",
        "courier-frontend",
        "--no-fail-fast",
        "--",
        "--skip",
        "chaos::",
        "--skip",
        "first_load::",
        "--skip",
        "engines::",
    ]);
    e2e_env(&mut native);
    let native_result = summary.run_tests("native and browser end-to-end tests", &mut native);
    // Alone, because it restarts the Postgres server the other tests use.
    let mut chaos = e2e_alone(root, "chaos::");
    e2e_env(&mut chaos);
    let chaos_result = summary.run_tests("chaos test (node kill, Postgres restart)", &mut chaos);
    // Alone and one at a time, because they time the page on an emulated
    // slow phone, which other tests sharing the two cores would slow.
    let mut timing = e2e_alone(root, "first_load::");
    timing.arg("--test-threads=1");
    e2e_env(&mut timing);
    let timing_result =
        summary.run_tests("first-load timings on an emulated slow phone", &mut timing);
    // One at a time: each opens two Firefox or WebKitGTK profiles beside a
    // Chromium one.
    let mut engines = e2e_alone(root, "engines::");
    engines.arg("--test-threads=1");
    e2e_env(&mut engines);
    let engines_result = summary.run_tests(
        "core journeys in Firefox ESR and WebKitGTK, with Chromium",
        &mut engines,
    );

    let mut wasm = cargo(root);
    wasm.args([
        "test",
        "-p",
        "courier-shared",
        "--tests",
        "--target",
        "wasm32-unknown-unknown",
    ])
    .env(
        "CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER",
        "wasm-bindgen-test-runner",
    )
    .env("CHROMEDRIVER", tools::CHROMEDRIVER)
    .env("WASM_BINDGEN_TEST_TIMEOUT", "120");
    let wasm_result = summary.run_tests("in-browser wasm tests", &mut wasm);
    let fuzz_result = fuzz(root, &target);
    let smoke_result = loadgen_smoke(root, &target, &postgres.url);

    drop(s3);
    drop(postgres);
    let outcome = native_result
        .and(chaos_result)
        .and(timing_result)
        .and(engines_result)
        .and(wasm_result)
        .and(fuzz_result)
        .and(smoke_result)
        .and_then(|()| {
            if summary.failed > 0 {
                Err(format!("{} checks failed", summary.failed))
            } else if summary.passed == 0 {
                Err("no test ran".to_owned())
            } else {
                Ok(())
            }
        });
    if let Err(err) = &outcome {
        eprintln!("xtask: {err}");
    }
    if !summary.failure_report().is_empty() {
        println!("\n==> what failed (repeated from above)");
        for line in summary.failure_report() {
            println!("{line}");
        }
    }
    println!("\nxtask test finished in {:.0?}", started.elapsed());
    // The summary line is the last thing printed, for whoever reads the log.
    println!("{}", summary.line());
    outcome.map_err(|_| String::new())
}

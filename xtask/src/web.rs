//! The web client's release build, without trunk: cargo builds the
//! WebAssembly, wasm-bindgen writes its JavaScript glue, npm's wasm-opt
//! shrinks the module, and `tools/finish-dist.mjs` assembles
//! `frontend/dist` (content-hashed names, the page from
//! `frontend/index.html`, integrity hashes, `public/`), minifies the script,
//! names the service worker's cache after the build and precompresses every
//! asset. `trunk serve` stays the development loop (see [`crate::serve`]).

use crate::exec::{cargo, command, run_step};
use crate::tools::{self, wasm_opt_path};
use std::path::{Path, PathBuf};

/// The first load's budget as sent gzipped (MISSION.md: under 400 KB),
/// enforced by `cargo xtask test`.
const FIRST_LOAD_BUDGET: &str = "400000";
/// The client's binary (and package) name.
const CLIENT: &str = "courier-frontend";
/// The cargo profile of the release client (`Cargo.toml`).
const PROFILE: &str = "wasm-release";

/// Builds the release web client into `frontend/dist`; with
/// `enforce_budget`, a first load over the budget fails the build.
pub fn build_client(root: &Path, enforce_budget: bool) -> Result<(), String> {
    let target = tools::target_dir(root)?;
    run_step(
        "build the web client (cargo, wasm32)",
        cargo(root).args([
            "build",
            "-p",
            CLIENT,
            "--bin",
            CLIENT,
            "--target",
            "wasm32-unknown-unknown",
            "--profile",
            PROFILE,
        ]),
    )?;
    let wasm = target
        .join("wasm32-unknown-unknown")
        .join(PROFILE)
        .join(format!("{CLIENT}.wasm"));
    let staging = fresh_dir(&target.join("courier-web"))?;
    run_step(
        "generate the JavaScript bindings (wasm-bindgen)",
        command(root, "wasm-bindgen")
            .args(["--target", "web", "--no-typescript", "--out-dir"])
            .arg(&staging)
            .arg(&wasm),
    )?;
    let module = staging.join(format!("{CLIENT}_bg.wasm"));
    run_step(
        "optimise the WebAssembly (wasm-opt -Oz)",
        command(root, wasm_opt_path(root))
            .arg("-Oz")
            .args(WASM_OPT_FEATURES)
            .arg(&module)
            .arg("-o")
            .arg(&module),
    )?;
    let mut finish = command(root, "node");
    finish
        .arg("tools/finish-dist.mjs")
        .arg(&staging)
        .arg(root.join("frontend").join("dist"));
    if enforce_budget {
        finish.args(["--budget", FIRST_LOAD_BUDGET]);
    }
    run_step(
        "assemble, minify and precompress the web client",
        &mut finish,
    )
}

/// The WebAssembly features rustc 1.95 emits for wasm32 by default, which
/// wasm-opt must accept (and may keep using).
const WASM_OPT_FEATURES: &[&str] = &[
    "--enable-bulk-memory",
    "--enable-nontrapping-float-to-int",
    "--enable-sign-ext",
    "--enable-mutable-globals",
    "--enable-reference-types",
    "--enable-multivalue",
];

/// `dir`, emptied (created if missing).
fn fresh_dir(dir: &Path) -> Result<PathBuf, String> {
    if dir.exists() {
        std::fs::remove_dir_all(dir)
            .map_err(|err| format!("cannot clear {}: {err}", dir.display()))?;
    }
    std::fs::create_dir_all(dir)
        .map_err(|err| format!("cannot create {}: {err}", dir.display()))?;
    Ok(dir.to_path_buf())
}

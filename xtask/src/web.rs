//! The web client's release build, without trunk: cargo builds the
//! WebAssembly (with the `split` feature and its relocations), the splitter
//! (`tools/wasm-split`) cuts each lazily loaded feature into a module of
//! its own, wasm-bindgen writes the first module's JavaScript glue, npm's
//! wasm-opt shrinks every module, and `tools/finish-dist.mjs` assembles
//! `frontend/dist` (content-hashed names, the page from
//! `frontend/index.html`, integrity hashes, `public/`'s files), bundles and
//! minifies the script, gives the service worker the build's file list,
//! precompresses every asset and checks each module against its budget
//! (`frontend/budgets.json`). `trunk serve` stays the unsplit development
//! loop (see [`crate::serve`]).

use crate::exec::{cargo, command, run_step};
use crate::tools::{self, wasm_opt_path};
use std::path::{Path, PathBuf};

/// The client's binary (and package) name.
const CLIENT: &str = "courier-frontend";
/// The cargo profile of the release client (`Cargo.toml`).
const PROFILE: &str = "wasm-release";

/// Builds the release web client into `frontend/dist` and prints its size
/// table. Returns what is over its budget (`frontend/budgets.json`), if
/// anything: `cargo xtask test` counts that as a failed check.
pub fn build_client(root: &Path) -> Result<Option<String>, String> {
    let target = tools::target_dir(root)?;
    // The first module's relocations stay in the output (`--emit-relocs`),
    // which the splitter needs to cut the lazily loaded features out; only
    // the final link gets the flag, so the dependencies build as always.
    run_step(
        "build the web client (cargo, wasm32, split)",
        cargo(root).args([
            "rustc",
            "-p",
            CLIENT,
            "--bin",
            CLIENT,
            "--target",
            "wasm32-unknown-unknown",
            "--profile",
            PROFILE,
            "--features",
            "split",
            "--",
            "-Clink-args=--emit-relocs",
        ]),
    )?;
    let wasm = target
        .join("wasm32-unknown-unknown")
        .join(PROFILE)
        .join(format!("{CLIENT}.wasm"));
    let staging = fresh_dir(&target.join("courier-web"))?;
    run_step(
        "split off the lazily loaded features (tools/wasm-split)",
        cargo(root)
            .args(["run", "-q", "-p", "courier-wasm-split", "--"])
            .arg(&wasm)
            .arg(&staging)
            .arg(CLIENT),
    )?;
    run_step(
        "generate the JavaScript bindings (wasm-bindgen)",
        command(root, "wasm-bindgen")
            .args(["--target", "web", "--no-typescript"])
            // The split-off modules link against the first one's exports.
            .args(["--keep-lld-exports", "--no-demangle"])
            .args(["--out-name", CLIENT, "--out-dir"])
            .arg(&staging)
            .arg(staging.join(format!("{CLIENT}_split.wasm"))),
    )?;
    std::fs::remove_file(staging.join(format!("{CLIENT}_split.wasm")))
        .map_err(|err| format!("cannot remove the unbound first module: {err}"))?;
    for module in wasm_files(&staging)? {
        run_step(
            &format!(
                "optimise {} (wasm-opt -Oz)",
                module.file_name().unwrap_or_default().to_string_lossy()
            ),
            command(root, wasm_opt_path(root))
                .arg("-Oz")
                .args(WASM_OPT_FEATURES)
                .arg(&module)
                .arg("-o")
                .arg(&module),
        )?;
    }
    let dist = root.join("frontend").join("dist");
    let finish = command(root, "node")
        .arg("tools/finish-dist.mjs")
        .arg(&staging)
        .arg(&dist)
        .arg("--enforce")
        .status();
    println!("==> assemble, minify and precompress the web client");
    match finish
        .map_err(|err| format!("cannot start node: {err}"))?
        .code()
    {
        Some(0) => Ok(None),
        Some(OVER_BUDGET) => Ok(Some(
            "the web client is over its size budget (see the table above)".into(),
        )),
        _ => Err("tools/finish-dist.mjs failed".into()),
    }
}

/// `tools/finish-dist.mjs`'s exit status when everything was built but a
/// module is over its budget.
const OVER_BUDGET: i32 = 3;

/// Writes `frontend/dist-next` from the last build: the same code as
/// `frontend/dist` but a distinct build (every module renamed), which the
/// deployment test puts in place while a page of the first is open.
pub fn build_next(root: &Path) -> Result<PathBuf, String> {
    let staging = tools::target_dir(root)?.join("courier-web");
    let next = root.join("frontend").join("dist-next");
    run_step(
        "assemble a second build for the deployment test",
        command(root, "node")
            .arg("tools/finish-dist.mjs")
            .arg(&staging)
            .arg(&next)
            .args(["--salt", "next"]),
    )?;
    Ok(next)
}

/// The WebAssembly modules in `dir`, in name order.
fn wasm_files(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|err| format!("cannot read {}: {err}", dir.display()))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "wasm"))
        .collect();
    files.sort();
    Ok(files)
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

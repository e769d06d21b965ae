//! `courier-wasm-split INPUT DIR NAME`: splits the client's WebAssembly
//! (`INPUT`, linked with `--emit-relocs`) at its `wasm_split` boundaries.
//!
//! Writes into `DIR`: `NAME_split.wasm`, the first module (for
//! wasm-bindgen); `split_<feature>.wasm` for each lazily loaded feature and
//! `chunk_<n>.wasm` for code that several features share; `__wasm_split.js`,
//! the loader the first module imports (it imports `./NAME.js`, the
//! wasm-bindgen glue); and `__wasm_split.json`, which files each feature
//! needs (`{"feature": ["chunk_3", "split_feature"]}`), for the build's
//! size table and the service worker's precache.

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [input, dir, name] = args.as_slice() else {
        eprintln!("usage: courier-wasm-split INPUT.wasm OUT_DIR NAME");
        return ExitCode::from(2);
    };
    match split(&PathBuf::from(input), &PathBuf::from(dir), name) {
        Ok(features) => {
            println!("split into the first module and {features} lazily loaded features");
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("courier-wasm-split: {err:#}");
            ExitCode::FAILURE
        }
    }
}

/// Splits `input` into `dir`; returns how many features were split off.
fn split(input: &std::path::Path, dir: &std::path::Path, name: &str) -> Result<usize, String> {
    let wasm = std::fs::read(input).map_err(|e| format!("{}: {e}", input.display()))?;
    let main_out = dir.join(format!("{name}_split.wasm"));
    let main_module = format!("./{name}.js");
    let mut options = wasm_split_cli_support::Options::new(&wasm);
    options.output_dir = dir;
    options.main_out_path = &main_out;
    options.main_module = &main_module;
    options.link_name = "./__wasm_split.js";
    let split = wasm_split_cli_support::transform(options).map_err(|e| format!("{e:#}"))?;
    let mut features: Vec<_> = split.prefetch_map.into_iter().collect();
    features.sort();
    let json = features
        .iter()
        .map(|(feature, files)| {
            let files: Vec<String> = files.iter().map(|f| format!("{f:?}")).collect();
            format!("  {feature:?}: [{}]", files.join(", "))
        })
        .collect::<Vec<_>>()
        .join(",\n");
    let manifest = dir.join("__wasm_split.json");
    std::fs::write(&manifest, format!("{{\n{json}\n}}\n"))
        .map_err(|e| format!("{}: {e}", manifest.display()))?;
    Ok(features.len())
}

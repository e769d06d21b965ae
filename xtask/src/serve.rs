//! `cargo xtask serve`: the development loop, unsplit and unoptimised.
//! It builds and starts the server on its defaults (127.0.0.1:8080, data in
//! `./courier-data`), then runs `trunk serve` (Trunk.toml: the client on
//! http://127.0.0.1:8081/ with live reload, proxying `/ws` and `/readyz` to
//! the server) until Ctrl-C. trunk is installed on first use only: the
//! release build ([`crate::web`]) does not need it.

use crate::exec::{cargo, command, run_step};
use crate::tools;
use std::path::Path;

/// Runs the server and `trunk serve` side by side; flags go to the server.
pub fn serve(root: &Path, courier_args: &[String]) -> Result<(), String> {
    tools::ensure_web_build_tools(root)?;
    tools::ensure_trunk(root)?;
    run_step(
        "build the server (debug)",
        cargo(root).args(["build", "-p", "courier-backend", "--bin", "courier"]),
    )?;
    let bin = tools::target_dir(root)?.join("debug").join("courier");
    println!("==> start courier on 127.0.0.1:8080");
    let mut server = std::process::Command::new(&bin)
        .current_dir(root)
        .args(courier_args.iter().filter(|a| a.as_str() != "--"))
        .spawn()
        .map_err(|err| format!("cannot start {}: {err}", bin.display()))?;
    let result = run_step(
        "trunk serve (open http://127.0.0.1:8081/)",
        command(root, "trunk").arg("serve"),
    );
    let _ = server.kill();
    let _ = server.wait();
    result
}

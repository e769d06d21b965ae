//! The results file: one JSON document, a run per (scenario, backend, label).

use serde_json::{Value, json};
use std::path::Path;

/// One scenario's figures.
#[derive(Debug)]
pub struct Figures {
    /// The scenario's name.
    pub scenario: &'static str,
    /// What tells runs of one scenario apart (`rate=5000`, say); empty if
    /// one run per label is enough.
    pub variant: String,
    /// Its measured values and parameters.
    pub values: Value,
}

/// Adds (or replaces) the run of `figures` under `label` (and its variant)
/// in `path`.
pub fn merge(
    path: &Path,
    label: &str,
    database: &str,
    command: &str,
    figures: Figures,
) -> anyhow::Result<()> {
    let mut doc: Value = std::fs::read_to_string(path)
        .ok()
        .and_then(|text| serde_json::from_str(&text).ok())
        .unwrap_or_else(|| json!({ "runs": [] }));
    let backend = if database.starts_with("postgres") {
        "postgres"
    } else {
        "sqlite"
    };
    doc["machine"] = machine();
    let run = json!({
        "scenario": figures.scenario,
        "variant": figures.variant,
        "backend": backend,
        "label": label,
        "command": command,
        "date": chrono::Utc::now().to_rfc3339(),
        "figures": figures.values,
    });
    let runs = doc["runs"]
        .as_array_mut()
        .ok_or_else(|| anyhow::anyhow!("bad results file"))?;
    let variant = |r: &Value| r["variant"].as_str().unwrap_or_default().to_owned();
    runs.retain(|r| {
        !(r["scenario"] == figures.scenario
            && r["backend"] == backend
            && r["label"] == label
            && variant(r) == figures.variant)
    });
    runs.push(run);
    runs.sort_by_key(|r| {
        (
            r["scenario"].as_str().unwrap_or_default().to_owned(),
            r["backend"].as_str().unwrap_or_default().to_owned(),
            r["label"].as_str().unwrap_or_default().to_owned(),
            variant(r),
        )
    });
    std::fs::write(path, serde_json::to_string_pretty(&doc)? + "\n")?;
    Ok(())
}

/// What machine the figures come from.
fn machine() -> Value {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|s| s.trim().to_owned())
        })
        .unwrap_or_default();
    let memory_kib = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|l| l.starts_with("MemTotal"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|n| n.parse::<u64>().ok())
        })
        .unwrap_or_default();
    json!({
        "cpu": cpu,
        "cores": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
        "memory_gib": memory_kib / (1024 * 1024),
        "note": "server and load generator share the machine",
    })
}

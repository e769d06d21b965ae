//! Running commands: one step at a time, with clear failures, and counting
//! the test results that cargo and wasm-bindgen-test print.

use std::ffi::OsString;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The directories prepended to `PATH` for every command: the npm build tools
/// and cargo's install directory.
pub fn tool_path(root: &Path) -> OsString {
    let mut dirs = vec![
        root.join("tools").join("node_modules").join(".bin"),
        cargo_bin_dir(),
    ];
    if let Some(path) = std::env::var_os("PATH") {
        dirs.extend(std::env::split_paths(&path));
    }
    std::env::join_paths(dirs).unwrap_or_default()
}

/// Where `cargo install` puts binaries.
pub fn cargo_bin_dir() -> PathBuf {
    let home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
        .unwrap_or_else(|| PathBuf::from("/root/.cargo"));
    home.join("bin")
}

/// A command for `program` in the workspace root with the tool `PATH`.
pub fn command(root: &Path, program: impl AsRef<std::ffi::OsStr>) -> Command {
    let mut command = Command::new(program);
    command
        .current_dir(root)
        .env("PATH", tool_path(root))
        .env("TRUNK_SKIP_VERSION_CHECK", "true");
    command
}

/// A `cargo` command in the workspace root.
pub fn cargo(root: &Path) -> Command {
    command(root, "cargo")
}

/// Runs `command` with inherited output; fails with `name` if it fails.
pub fn run_step(name: &str, command: &mut Command) -> Result<(), String> {
    println!("==> {name}");
    let status = command
        .status()
        .map_err(|err| format!("{name}: cannot start {:?}: {err}", command.get_program()))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{name} failed ({status})"))
    }
}

/// Runs `command` and returns its trimmed standard output, if it succeeds.
pub fn output(command: &mut Command) -> Option<String> {
    let output = command.stderr(Stdio::null()).output().ok()?;
    output
        .status
        .success()
        .then(|| String::from_utf8_lossy(&output.stdout).trim().to_owned())
}

/// Lines of a panic's message kept for the end of the log (tests that do
/// not capture their output print it to standard error).
const PANIC_LINES: usize = 3;
/// The longest panic line kept (a test may print a whole page).
const PANIC_LINE_CHARS: usize = 600;

/// Echoes `stderr` and returns each panic's first lines, shortened.
fn echo_panics(stderr: impl std::io::Read) -> Vec<String> {
    let mut kept = Vec::new();
    let mut left = 0;
    for line in BufReader::new(stderr).lines().map_while(Result::ok) {
        eprintln!("{line}");
        if line.contains("panicked at") {
            left = PANIC_LINES;
        }
        if left > 0 && kept.len() < Summary::MAX_FAILURE_LINES {
            left -= 1;
            kept.push(line.chars().take(PANIC_LINE_CHARS).collect());
        }
    }
    kept
}

/// Test counts summed over every test run.
#[derive(Debug, Default)]
pub struct Summary {
    /// Tests that passed.
    pub passed: u64,
    /// Tests that failed.
    pub failed: u64,
    /// Tests that were ignored.
    pub skipped: u64,
    /// The `failures:` reports of failed test binaries, repeated at the end
    /// so that whoever reads the tail of a CI log sees what failed and why.
    failures: Vec<String>,
    /// Whether the lines being read belong to a `failures:` report.
    in_failures: bool,
}

impl Summary {
    /// Runs a test command, echoing its output and adding up the
    /// `test result:` lines it prints.
    pub fn run_tests(&mut self, name: &str, command: &mut Command) -> Result<(), String> {
        println!("==> {name}");
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|err| format!("{name}: cannot start: {err}"))?;
        let panics = child
            .stderr
            .take()
            .map(|stderr| std::thread::spawn(move || echo_panics(stderr)));
        if let Some(stdout) = child.stdout.take() {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                println!("{line}");
                self.add(&line);
            }
        }
        let status = child.wait().map_err(|err| format!("{name}: {err}"))?;
        if let Some(panics) = panics.and_then(|thread| thread.join().ok())
            && !panics.is_empty()
        {
            self.failures.push(format!("panics in {name}:"));
            self.failures.extend(panics);
        }
        if status.success() {
            Ok(())
        } else {
            Err(format!("{name} failed ({status})"))
        }
    }

    fn add(&mut self, line: &str) {
        if line == "failures:" {
            self.in_failures = true;
        }
        if self.in_failures && self.failures.len() < Self::MAX_FAILURE_LINES {
            self.failures.push(line.to_owned());
        }
        let Some(rest) = line.trim().strip_prefix("test result: ") else {
            return;
        };
        self.in_failures = false;
        for part in rest.split([';', '.']) {
            let mut words = part.split_whitespace();
            if let (Some(count), Some(kind)) = (words.next(), words.next())
                && let Ok(count) = count.parse::<u64>()
            {
                match kind {
                    "passed" => self.passed += count,
                    "failed" => self.failed += count,
                    "ignored" => self.skipped += count,
                    _ => {}
                }
            }
        }
    }

    /// Counts a check that is not a test (a size budget, say) as one test
    /// that passed, or failed with `problem` (kept for the end).
    pub fn check(&mut self, name: &str, problem: Option<String>) {
        match problem {
            None => self.passed += 1,
            Some(problem) => {
                self.failed += 1;
                self.failures.push(format!("{name}: {problem}"));
            }
        }
    }

    /// At most this many lines of failure reports are kept for the end.
    const MAX_FAILURE_LINES: usize = 400;

    /// The failure reports seen so far, one line each (empty if none failed).
    pub fn failure_report(&self) -> &[String] {
        &self.failures
    }

    /// The closing line: `tests: N passed, N failed, N skipped`.
    pub fn line(&self) -> String {
        format!(
            "tests: {} passed, {} failed, {} skipped",
            self.passed, self.failed, self.skipped
        )
    }
}

#[cfg(test)]
mod tests {
    use super::Summary;

    #[test]
    fn counts_cargo_and_wasm_bindgen_result_lines() {
        let mut summary = Summary::default();
        summary.add("test result: ok. 14 passed; 0 failed; 1 ignored; 0 measured; 0 filtered out; finished in 0.00s");
        summary.add(
            "test result: FAILED. 2 passed; 3 failed; 0 ignored; 0 filtered out; finished in 0.01s",
        );
        summary.add("running 3 tests");
        assert_eq!(
            (summary.passed, summary.failed, summary.skipped),
            (16, 3, 1)
        );
        assert!(summary.failure_report().is_empty());
        assert_eq!(summary.line(), "tests: 16 passed, 3 failed, 1 skipped");
    }

    #[test]
    fn keeps_failure_reports_for_the_end() {
        let mut summary = Summary::default();
        for line in [
            "test a ... ok",
            "failures:",
            "---- b stdout ----",
            "panicked at tests/b.rs:3:5",
            "failures:",
            "    b",
            "test result: FAILED. 1 passed; 1 failed; 0 ignored",
            "test c ... ok",
        ] {
            summary.add(line);
        }
        assert_eq!(summary.failure_report().len(), 6);
        assert_eq!(summary.failure_report()[2], "panicked at tests/b.rs:3:5");
    }

    #[test]
    fn keeps_the_start_of_each_panic_printed_to_standard_error() {
        let long = "x".repeat(2_000);
        let stderr = format!(
            "noise\nthread 't' panicked at tests/a.rs:1:2:\nit broke: {long}\nmore\nafter\n"
        );
        let kept = super::echo_panics(stderr.as_bytes());
        assert_eq!(kept.len(), 3);
        assert_eq!(kept[0], "thread 't' panicked at tests/a.rs:1:2:");
        assert!(kept[1].starts_with("it broke: x") && kept[1].chars().count() == 600);
        assert_eq!(kept[2], "more");
    }
}

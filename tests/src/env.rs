//! Reading the test environment, strictly when `COURIER_TEST_STRICT=1`.

/// Whether a missing service must fail the run instead of skipping a test.
pub fn strict() -> bool {
    std::env::var("COURIER_TEST_STRICT").is_ok_and(|v| v == "1")
}

/// The variable's value, or `None` with a notice that `what` is skipped.
/// Under [`strict`], a missing variable is a failure.
pub fn optional(name: &str, what: &str) -> Option<String> {
    match std::env::var(name) {
        Ok(value) if !value.is_empty() => Some(value),
        _ if strict() => panic!("{name} is not set, so {what} cannot run (COURIER_TEST_STRICT=1)"),
        _ => {
            eprintln!("SKIPPED {what}: {name} is not set (run `cargo xtask test` to set it up)");
            None
        }
    }
}

/// The variable's value; panics if it is missing.
pub fn required(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("{name} must be set"))
}

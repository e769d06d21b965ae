//! Wall-clock time in Unix milliseconds, the unit of every stored timestamp.

/// Now, in Unix milliseconds.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// Now, in Unix milliseconds, as the wire's unsigned number.
pub fn now_unix_ms() -> u64 {
    u64::try_from(now_ms()).unwrap_or_default()
}

//! Times and days as people read them, in the browser's locale and zone.

/// "14:05" for a Unix time in milliseconds.
pub fn clock(unix_ms: u64) -> String {
    let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(unix_ms as f64));
    format!("{:02}:{:02}", date.get_hours(), date.get_minutes())
}

/// "Today", "Yesterday" or "28 November 2026".
pub fn day(unix_ms: u64) -> String {
    let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(unix_ms as f64));
    let now = js_sys::Date::new_0();
    let key = |d: &js_sys::Date| (d.get_full_year(), d.get_month(), d.get_date());
    let yesterday = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(
        now.get_time() - 86_400_000.0,
    ));
    if key(&date) == key(&now) {
        "Today".into()
    } else if key(&date) == key(&yesterday) {
        "Yesterday".into()
    } else {
        const MONTHS: [&str; 12] = [
            "January",
            "February",
            "March",
            "April",
            "May",
            "June",
            "July",
            "August",
            "September",
            "October",
            "November",
            "December",
        ];
        let month = MONTHS
            .get(date.get_month() as usize)
            .copied()
            .unwrap_or_default();
        format!("{} {month} {}", date.get_date(), date.get_full_year())
    }
}

/// When a chat last moved, as the chat list shows it: the time today,
/// else the day ("Yesterday", "3 March 2026").
pub fn when(unix_ms: u64) -> String {
    match day(unix_ms) {
        today if today == "Today" => clock(unix_ms),
        other => other,
    }
}

/// "online", "typing…", "last seen today at 14:05", or "".
pub fn presence(online: bool, last_seen: u64) -> String {
    if online {
        "online".into()
    } else if last_seen == 0 {
        String::new()
    } else {
        format!(
            "last seen {} at {}",
            day(last_seen).to_ascii_lowercase(),
            clock(last_seen)
        )
    }
}

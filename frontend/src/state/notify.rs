//! The page's edges with the rest of the browser: visibility, the tab title,
//! and Web Notifications for messages that arrive while the tab is hidden.

use super::Job;
use futures_channel::mpsc::UnboundedSender;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{Notification, NotificationOptions, NotificationPermission};

/// Whether the page is visible now.
pub fn visible() -> bool {
    web_sys::window()
        .and_then(|w| w.document())
        .is_none_or(|d| !d.hidden())
}

/// Tells the worker whenever the page is shown or hidden.
pub fn watch_visibility(jobs: UnboundedSender<Job>) {
    let Some(document) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    let changed = Closure::<dyn FnMut()>::new(move || {
        let _ = jobs.unbounded_send(Job::Visible);
    });
    let _ = document
        .add_event_listener_with_callback("visibilitychange", changed.as_ref().unchecked_ref());
    // Listens for the life of the page.
    changed.forget();
}

/// Shows `unread` in the tab title ("(3) Courier"), or just "Courier".
pub fn set_title(unread: u32) {
    if let Some(document) = web_sys::window().and_then(|w| w.document()) {
        if unread == 0 {
            document.set_title("Courier");
        } else {
            document.set_title(&format!("({unread}) Courier"));
        }
    }
}

/// Asks once for permission to notify. Browsers only prompt during a user
/// gesture, so the page calls this from the click or key handler itself
/// (the worker runs later, outside the gesture).
pub fn ask_permission() {
    if Notification::permission() == NotificationPermission::Default {
        let _ = Notification::request_permission();
    }
}

/// Notifies of a message from `from` if the tab is hidden and allowed.
pub fn message(from: &str, text: &str) {
    if visible() || Notification::permission() != NotificationPermission::Granted {
        return;
    }
    let options = NotificationOptions::new();
    options.set_body(text);
    options.set_tag(from);
    let _ = Notification::new_with_options(from, &options);
}

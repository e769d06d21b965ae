//! Installs the service worker that caches the app shell (`public/sw.js`).

/// Registers `/sw.js` where the browser supports service workers (secure
/// contexts only); without one the app still works, online.
pub fn register_service_worker() {
    let Some(window) = web_sys::window() else {
        return;
    };
    let navigator = window.navigator();
    let supported = js_sys::Reflect::has(&navigator, &"serviceWorker".into()).unwrap_or(false);
    if supported {
        let _ = navigator.service_worker().register("/sw.js");
    }
}

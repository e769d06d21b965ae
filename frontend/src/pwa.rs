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

/// How long after one update reload another is not tried (so that a server
/// that refuses even the newest build cannot make the page reload forever).
const RELOAD_GUARD_MS: f64 = 60_000.0;
/// Where the time of the last update reload is kept (`sessionStorage`).
const RELOAD_KEY: &str = "courier-update-reload";

/// The server no longer speaks this build's protocol: drop the cached app
/// shell and reload, so that the page comes back as the server's current
/// build. Tried at most once a minute.
pub fn reload_into_new_build() {
    let Some(window) = web_sys::window() else {
        return;
    };
    let now = js_sys::Date::now();
    let storage = window.session_storage().ok().flatten();
    let last = storage
        .as_ref()
        .and_then(|s| s.get_item(RELOAD_KEY).ok().flatten())
        .and_then(|v| v.parse::<f64>().ok());
    if last.is_some_and(|last| now - last < RELOAD_GUARD_MS) {
        return;
    }
    if let Some(storage) = &storage {
        let _ = storage.set_item(RELOAD_KEY, &now.to_string());
    }
    wasm_bindgen_futures::spawn_local(async move {
        let _ = drop_caches(&window).await;
        let _ = window.location().reload();
    });
}

/// Deletes every cache of this origin (the service worker's app shell).
async fn drop_caches(window: &web_sys::Window) -> Result<(), wasm_bindgen::JsValue> {
    use wasm_bindgen::JsCast;
    let caches = js_sys::Reflect::get(window, &"caches".into())?;
    if caches.is_undefined() {
        return Ok(());
    }
    let call = |name: &str,
                args: &js_sys::Array|
     -> Result<js_sys::Promise, wasm_bindgen::JsValue> {
        let method: js_sys::Function = js_sys::Reflect::get(&caches, &name.into())?.dyn_into()?;
        method.apply(&caches, args)?.dyn_into()
    };
    let keys = wasm_bindgen_futures::JsFuture::from(call("keys", &js_sys::Array::new())?).await?;
    for key in js_sys::Array::from(&keys).iter() {
        let deleted = call("delete", &js_sys::Array::of1(&key))?;
        wasm_bindgen_futures::JsFuture::from(deleted).await?;
    }
    Ok(())
}

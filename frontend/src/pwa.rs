//! The service worker (`public/sw.js`): installs it, tells the page when
//! a newer build of Courier is ready (the worker caches it, then waits), and
//! switches to it when asked; checks whether the server has moved on to
//! another build ([`server_has_another_build`]); and, when the server no
//! longer speaks this build's protocol, starts over from the server's
//! current build ([`reload_into_new_build`]).

use leptos::prelude::*;
use wasm_bindgen::prelude::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// Registers `/sw.js` where the browser supports service workers (secure
/// contexts only); without one the app still works, online. `update` is
/// set when a newer build has been cached and waits to take over; one that
/// was already waiting when this page started takes over at once (the
/// page has nothing to lose yet).
pub fn register_service_worker(update: RwSignal<bool>) {
    let Some(container) = container() else {
        return;
    };
    let watch = Closure::<dyn FnMut(JsValue)>::new(move |registration: JsValue| {
        watch_updates(registration.unchecked_into(), update);
    });
    let _ = container.register("/sw.js").then(&watch);
    watch.forget();
}

/// The page's service-worker container, where there is one.
fn container() -> Option<web_sys::ServiceWorkerContainer> {
    let navigator = web_sys::window()?.navigator();
    js_sys::Reflect::has(&navigator, &"serviceWorker".into())
        .unwrap_or(false)
        .then(|| navigator.service_worker())
}

/// Sets `update` whenever `registration` has a newer build waiting while
/// this page is served by an older one.
fn watch_updates(registration: web_sys::ServiceWorkerRegistration, update: RwSignal<bool>) {
    let controlled = move || container().is_some_and(|c| c.controller().is_some());
    if registration.waiting().is_some() && controlled() {
        switch_to_new_build();
        return;
    }
    let found = registration.clone();
    let on_found = Closure::<dyn FnMut()>::new(move || {
        let Some(installing) = found.installing() else {
            return;
        };
        let worker = installing.clone();
        let on_state = Closure::<dyn FnMut()>::new(move || {
            if worker.state() == web_sys::ServiceWorkerState::Installed && controlled() {
                update.set(true);
            }
        });
        installing.set_onstatechange(Some(on_state.as_ref().unchecked_ref()));
        on_state.forget();
    });
    registration.set_onupdatefound(Some(on_found.as_ref().unchecked_ref()));
    on_found.forget();
}

/// Asks the waiting build's worker to take over, and reloads the page into
/// that build once it has.
pub fn switch_to_new_build() {
    let Some(container) = container() else {
        return;
    };
    let reload = Closure::<dyn FnMut()>::new(|| {
        if let Some(window) = web_sys::window() {
            let _ = window.location().reload();
        }
    });
    container.set_oncontrollerchange(Some(reload.as_ref().unchecked_ref()));
    reload.forget();
    let ask = Closure::<dyn FnMut(JsValue)>::new(|registration: JsValue| {
        let registration: web_sys::ServiceWorkerRegistration = registration.unchecked_into();
        if let Some(waiting) = registration.waiting() {
            let _ = waiting.post_message(&"take-over".into());
        }
    });
    let _ = container.ready().map(|ready| ready.then(&ask));
    ask.forget();
}

/// Whether the server's page names another script than this page's: a new
/// build was deployed, and this build's modules may be gone from it. Asks
/// the network (`no-store` passes the service worker by).
pub async fn server_has_another_build() -> bool {
    let Some(window) = web_sys::window() else {
        return false;
    };
    let Some(ours) = window
        .document()
        .and_then(|d| d.query_selector("script[type=module]").ok().flatten())
        .and_then(|s| s.get_attribute("src"))
    else {
        return false;
    };
    let init = web_sys::RequestInit::new();
    init.set_cache(web_sys::RequestCache::NoStore);
    let Ok(response) = JsFuture::from(window.fetch_with_str_and_init("/index.html", &init)).await
    else {
        return false;
    };
    let response: web_sys::Response = response.unchecked_into();
    if !response.ok() {
        return false;
    }
    let Ok(text) = response.text() else {
        return false;
    };
    JsFuture::from(text)
        .await
        .ok()
        .and_then(|page| page.as_string())
        .is_some_and(|page| !page.contains(&ours))
}

/// "A new version is ready", with the button that switches to it.
#[component]
pub fn UpdateNotice(update: RwSignal<bool>) -> impl IntoView {
    view! {
        <Show when=move || update.get()>
            <p class="notice update" role="status" data-update-ready>
                "A new version of Courier is ready. "
                <button id="update-now" on:click=|_| switch_to_new_build()>"Reload"</button>
            </p>
        </Show>
    }
}

/// How long after one update reload another is not tried (so that a server
/// that refuses even the newest build cannot make the page reload forever).
const RELOAD_GUARD_MS: f64 = 60_000.0;
/// Where the time of the last update reload is kept (`sessionStorage`).
const RELOAD_KEY: &str = "courier-update-reload";

/// The server no longer speaks this build's protocol: drop the cached app
/// shell and this build's service worker, and reload, so that the page
/// comes back as the server's current build (whose worker then installs
/// afresh). Tried at most once a minute.
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
        let _ = unregister().await;
        let _ = window.location().reload();
    });
}

/// Unregisters this page's service worker, so that the next load comes
/// from the server and installs that build's worker.
async fn unregister() -> Result<(), JsValue> {
    let Some(container) = container() else {
        return Ok(());
    };
    let registration = JsFuture::from(container.get_registration()).await?;
    if let Some(registration) = registration.dyn_ref::<web_sys::ServiceWorkerRegistration>() {
        JsFuture::from(registration.unregister()?).await?;
    }
    Ok(())
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

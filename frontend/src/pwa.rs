//! The service worker (`public/sw.js`): installs it, tells the page when
//! a newer build of Courier is ready (the worker caches it, then waits), and
//! switches to it when asked; and checks whether the server has moved on to
//! another build ([`server_has_another_build`]).

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

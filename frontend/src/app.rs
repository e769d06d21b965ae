//! The root component: the header with the connection state, and the page
//! for where the device stands.

use crate::components::connection_badge::ConnectionBadge;
use crate::pages::{home::Home, welcome::Welcome};
use crate::pwa::UpdateNotice;
use crate::state::{Account, Phase};
use leptos::prelude::*;

/// The whole application.
#[component]
pub fn App() -> impl IntoView {
    // The service worker, a newer build waiting in it, and (#15) the
    // lazily loaded features, fetched once the page is usable.
    let update = RwSignal::new(false);
    let account = Account::start();
    let ui = account.ui;
    // The service worker registers once the messenger core has loaded (or
    // the page failed): its precache of every module would otherwise share
    // a slow network with the core's fetch, delaying the first send. It
    // then finds the modules in the HTTP cache.
    Effect::new(move |registered: Option<bool>| {
        let now = ui.core.get() || matches!(ui.phase.get(), Phase::Failed(_));
        if now && registered != Some(true) {
            crate::pwa::register_service_worker(update);
        }
        now || registered == Some(true)
    });
    Effect::new(move |preloading: Option<bool>| {
        let usable = preloading == Some(true) || ui.phase.get() != Phase::Starting;
        if usable && preloading != Some(true) {
            crate::lazy::preload_after_first_paint(crate::lazy::all_features());
        }
        usable
    });
    let server_error = move || ui.status.get().last_error;
    let phase = move || ui.phase.get();
    // The connection is shown once the page has connected: a welcome page
    // connects only to sign up or link.
    let active = move || ui.status.get().active;
    let offline = move || ui.status.get().state != courier_shared::client::ConnectionState::Online;
    view! {
        <header class="app-header">
            <h1>"Courier"</h1>
            <Show when=active>
                <ConnectionBadge status=ui.status.read_only() />
            </Show>
        </header>
        <UpdateNotice update />
        <Show when=move || active() && offline()>
            <p class="offline-banner" role="status">
                "Connecting… Messages you write now are kept and sent when you are back online."
            </p>
        </Show>
        <main class="app-main" data-phase=move || phase().label()
            data-core=move || ui.core.get().to_string()>
            <Show when=move || server_error().is_some()>
                <p class="server-error" role="alert">{move || server_error().unwrap_or_default()}</p>
            </Show>
            {move || ui.notice.get().map(|n| view! { <p class="notice" role="status" data-notice>{n}</p> })}
            {
                // Lazily loaded: the calls module draws the call screen.
                let account = account.clone();
                move || ui.call.get().then(|| {
                    let account = account.clone();
                    crate::lazy::lazy_view(crate::calls::FEATURE, move || crate::calls::screen(account.clone()))
                })
            }
            {move || {
                let account = account.clone();
                match phase() {
                    Phase::Starting => view! { <p>"Opening your keys…"</p> }.into_any(),
                    Phase::OtherTab => view! {
                        <p>"Courier is open in another tab. Close it to use Courier here."</p>
                    }.into_any(),
                    // Lazily loaded: the app lock's module.
                    Phase::Locked => crate::lazy::lazy_view(crate::applock::FEATURE, move || {
                        crate::applock::unlock_page(account.clone())
                    }).into_any(),
                    Phase::Welcome => view! { <Welcome account /> }.into_any(),
                    Phase::Joining => view! {
                        <p>"Linked. Waiting for your other device to approve this one…"</p>
                    }.into_any(),
                    Phase::Ready => view! { <Home account /> }.into_any(),
                    Phase::Failed(reason) => view! {
                        <p class="server-error" role="alert">{reason}</p>
                    }.into_any(),
                }
            }}
            <p class="footnote">
                "End-to-end encrypted: your keys and your history stay on this device; "
                "the server only relays what it cannot read."
            </p>
        </main>
    }
}

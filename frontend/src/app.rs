//! The root component: the header with the connection state, and the page body.

use crate::components::connection_badge::ConnectionBadge;
use crate::net::socket::{Socket, SocketStatus};
use leptos::prelude::*;

/// The whole application.
#[component]
pub fn App() -> impl IntoView {
    let status = RwSignal::new(SocketStatus::default());
    Socket::start(status.write_only());
    let server_error = move || status.get().last_error;

    view! {
        <header class="app-header">
            <h1>"Courier"</h1>
            <ConnectionBadge status=status.read_only() />
        </header>
        <main class="app-main">
            <p>
                "End-to-end encrypted messaging. Your keys and your history stay on this device; "
                "the server only relays what it cannot read."
            </p>
            <Show when=move || server_error().is_some()>
                <p class="server-error" role="alert">{move || server_error().unwrap_or_default()}</p>
            </Show>
        </main>
    }
}

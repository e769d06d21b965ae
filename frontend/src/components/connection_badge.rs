//! Shows whether this device is connected to its server.

use crate::net::socket::SocketStatus;
use courier_shared::client::ConnectionState;
use leptos::prelude::*;

/// "online", "connecting…" or "reconnecting…", announced to screen readers.
/// `data-connection` carries the bare state for styles and tests.
#[component]
pub fn ConnectionBadge(status: ReadSignal<SocketStatus>) -> impl IntoView {
    let state = move || status.get().state;
    view! {
        <span
            class="connection"
            role="status"
            aria-live="polite"
            data-connection=move || state().label()
        >
            {move || match state() {
                ConnectionState::Online => "online",
                ConnectionState::Connecting => "connecting…",
                ConnectionState::Reconnecting { .. } => "reconnecting…",
            }}
        </span>
    }
}

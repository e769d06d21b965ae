//! The Courier web client's entry point: mounts [`app::App`] on the page.
//!
//! Layout: `net/` (the only code that touches bytes), `crypto/` (private
//! state at rest in IndexedDB), `media/` (photos and voice notes), `calls/` (voice and video calls), `state/` (the device worker and what the
//! pages show), `pages/` and `components/`; `applock/` is the optional app
//! lock (passkey or passphrase); `lazy` marks the features that
//! load on first use, `pwa` the service worker.

mod app;
mod applock;
mod calls;
mod components;
mod crypto;
mod lazy;
mod media;
mod net;
mod pages;
mod profile;
mod pwa;
mod search;
mod state;

fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(app::App);
}

//! The Courier web client's entry point: mounts [`app::App`] on the page.

mod app;
mod components;
mod net;

fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(app::App);
}

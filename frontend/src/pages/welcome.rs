//! First visit: create an account on this browser, or link it to an
//! existing account with the code another device shows.

use crate::state::{Account, Job};
use leptos::prelude::*;

/// The onboarding page.
#[component]
pub fn Welcome(account: Account) -> impl IntoView {
    let name = RwSignal::new(String::new());
    let code = RwSignal::new(scanned_code().unwrap_or_default());
    let create = account.clone();
    let register = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        create.run(Job::Register(name.get_untracked()));
    };
    let register_link = account.clone();
    let link = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        register_link.run(Job::Join(code.get_untracked()));
    };
    view! {
        <section class="card" aria-labelledby="create-title">
            <h2 id="create-title">"Create an account"</h2>
            <p>"Your keys are made on this device and never leave it."</p>
            <form on:submit=register>
                <label for="register-name">"Username"</label>
                <input id="register-name" autocomplete="username" required
                    minlength="3" maxlength="32"
                    bind:value=name />
                <button id="register" type="submit">"Create account"</button>
            </form>
        </section>
        <section class="card" aria-labelledby="link-title">
            <h2 id="link-title">"Link to your account"</h2>
            <p>"On a device already signed in, choose “Link a new device”, then type the code it \
                shows here, or scan its QR code with this phone's camera."</p>
            <form on:submit=link>
                <label for="link-code">"Link code"</label>
                <input id="link-code" autocomplete="off" required bind:value=code
                    placeholder="ABCDE-FGHIJ-…" />
                <button id="link" type="submit">"Link this browser"</button>
            </form>
        </section>
    }
}

/// The link code in this page's address when a QR code was scanned
/// (`…/#link=CODE`), taken out of the address bar and the history at once.
fn scanned_code() -> Option<String> {
    let window = web_sys::window()?;
    let hash = window.location().hash().ok()?;
    let code = hash.strip_prefix(courier_shared::crypto::link::LINK_FRAGMENT)?;
    let path = window.location().pathname().ok()?;
    let _ = window.history().ok()?.replace_state_with_url(
        &wasm_bindgen::JsValue::NULL,
        "",
        Some(&path),
    );
    Some(code.to_owned())
}

//! The devices panel: the account and its devices (link a new one with a
//! code and QR code, remove one), safety numbers, and this browser's media
//! setting. A lazily loaded feature (`devices`, see [`crate::lazy`]): the
//! home page shows it through [`panel`].

use crate::state::{Account, Job};
use leptos::prelude::*;

crate::lazy! { devices, preload_devices:
    /// The devices panel, from the devices module.
    pub fn panel(account: Account) -> AnyView {
        view! { <Devices account /> }.into_any()
    }
}

/// What the progress line calls this feature.
pub const FEATURE: crate::lazy::Feature = crate::lazy::Feature {
    id: "devices",
    label: "your devices",
};

/// The devices panel.
#[component]
fn Devices(account: Account) -> impl IntoView {
    let ui = account.ui;
    let show_link = account.clone();
    let verifier = account.clone();
    let verify_name = RwSignal::new(String::new());
    let verify = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        verifier.run(Job::Verify(verify_name.get_untracked()));
    };
    let remover = account.clone();
    let marker = account.clone();
    view! {
        <section class="card" aria-labelledby="devices-title">
            <h2 id="devices-title">"Your devices"</h2>
            <p>"Signed in as " <strong data-username>{move || ui.username.get()}</strong></p>
            <ul class="devices">
                <For each=move || ui.devices.get() key=|d| d.0 let:device>
                    {
                        let remover = remover.clone();
                        let (id, this) = device;
                        view! {
                            <li data-device=id.0>
                                {format!("Device {}", id.0)}
                                {this.then_some(" (this device)")}
                                {(!this).then(|| view! {
                                    <button data-remove=id.0 aria-label=format!("Remove device {}", id.0)
                                        on:click=move |_| remover.run(Job::Remove(id))>"Remove"</button>
                                })}
                            </li>
                        }
                    }
                </For>
            </ul>
            <button id="show-link" on:click=move |_| show_link.run(Job::ShowLink)>"Link a new device"</button>
            {move || ui.link.get().map(|link| view! {
                <div class="link-code">
                    <p>"On the new device, choose “Link to your account” and type this code, or scan it:"</p>
                    <code data-link-code>{link.code}</code>
                    <div class="qr" role="img" aria-label="Link code as a QR code" inner_html=courier_shared::crypto::safety::qr_svg(&link.qr).unwrap_or_default()></div>
                    <p>"The code works once, for ten minutes."</p>
                </div>
            })}
        </section>
        <section class="card" aria-labelledby="media-title">
            <h2 id="media-title">"Media"</h2>
            <label>
                <input type="checkbox" id="auto-download"
                    prop:checked=move || ui.auto_download.get()
                    on:change=move |ev| ui.set_auto_download(event_target_checked(&ev)) />
                " Download small photos and voice notes as they arrive"
            </label>
        </section>
        <section class="card" aria-labelledby="verify-title">
            <h2 id="verify-title">"Verify a contact"</h2>
            <form on:submit=verify>
                <label for="verify-name">"Username"</label>
                <input id="verify-name" required bind:value=verify_name />
                <button id="verify" type="submit">"Show safety number"</button>
            </form>
            {move || ui.safety.get().map(|safety| view! {
                <div class="safety">
                    {safety.warning.map(|w| view! { <p class="warning" role="alert">{w}</p> })}
                    <p>"Compare with " {safety.username.clone()} "’s screen, or scan their code:"</p>
                    <code data-safety-number>{safety.number}</code>
                    <div class="qr" role="img" aria-label="Safety number as a QR code" inner_html=courier_shared::crypto::safety::qr_svg(&safety.qr).unwrap_or_default()></div>
                    {if safety.verified {
                        view! { <p class="verified" data-verified>"✓ Verified: you compared this number."</p> }.into_any()
                    } else {
                        let (name, marker) = (safety.username.clone(), marker.clone());
                        view! {
                            <button id="mark-verified" type="button"
                                on:click=move |_| marker.run(Job::MarkVerified(name.clone()))>
                                "Mark as verified"
                            </button>
                        }.into_any()
                    }}
                </div>
            })}
        </section>
    }
}

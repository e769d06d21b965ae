//! The app lock, a lazily loaded feature (`lock`, see [`crate::lazy`]):
//! without it the vault key is stored in IndexedDB, where a copy of the
//! browser profile's files holds it (non-extractable only limits the
//! JavaScript API); with it, only a copy wrapped under the user's passkey
//! (WebAuthn PRF, [`passkey`]) or passphrase (Argon2id, [`passphrase`]) is
//! stored ([`record`]), and the page asks for one each time it opens.
//!
//! The first module only checks whether the lock is on (`crypto::vault`)
//! and then shows [`unlock_page`]; the devices panel shows [`settings`].
//! Turning the lock on or off runs as a [`VaultJob`], between the worker's
//! other jobs, so no record is written under the old key meanwhile.

mod passkey;
mod passphrase;
mod record;

use crate::crypto::vault::{self, Vault};
use crate::lazy::{Feature, Work};
use crate::state::{Account, Job, VaultJob};
use leptos::prelude::*;
use record::{LockRecord, Method};
use std::rc::Rc;
use wasm_bindgen::JsValue;

/// A change to the vault, run by the worker with the vault to itself.
type Change = Box<dyn FnOnce(Rc<Vault>) -> Work<Result<(), JsValue>> + Send>;

crate::lazy! { lock, preload_lock:
    /// The lock screen: asks for the passkey or the passphrase, then hands
    /// the vault key to the worker.
    pub fn unlock_page(account: Account) -> AnyView {
        view! { <Unlock account /> }.into_any()
    }
}

crate::lazy! { lock, preload_lock_settings:
    /// The app lock's section of the devices panel: turn it on (passkey or
    /// passphrase) or off.
    pub fn settings(account: Account) -> AnyView {
        view! { <Settings account /> }.into_any()
    }
}

/// What the progress line calls this feature.
pub const FEATURE: Feature = Feature {
    id: "lock",
    label: "the app lock",
};

/// Resolves once the page has painted (two animation frames).
async fn next_frame() {
    for _ in 0..2 {
        let frame = js_sys::Promise::new(&mut |resolve, _| {
            request_animation_frame(move || {
                let _ = resolve.call0(&wasm_bindgen::JsValue::NULL);
            });
        });
        let _ = wasm_bindgen_futures::JsFuture::from(frame).await;
    }
}

/// The lock record in the store, if the lock is on.
async fn current() -> Result<Option<LockRecord>, String> {
    let db = vault::database().await.map_err(|e| record::js_text(&e))?;
    record::stored(&db).await.map_err(|e| record::js_text(&e))
}

/// The lock screen.
#[component]
fn Unlock(account: Account) -> impl IntoView {
    let lock = RwSignal::new(None::<LockRecord>);
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let passphrase = RwSignal::new(String::new());
    leptos::task::spawn_local(async move {
        match current().await {
            Ok(Some(found)) => lock.set(Some(found)),
            Ok(None) => error.set(Some("The lock record is gone: reload the page.".into())),
            Err(err) => error.set(Some(err)),
        }
    });
    let attempt = move || {
        let Some(found) = lock.get_untracked() else {
            return;
        };
        busy.set(true);
        error.set(None);
        let account = account.clone();
        leptos::task::spawn_local(async move {
            let outcome = open(&found, &passphrase.get_untracked()).await;
            busy.set(false);
            match outcome {
                Ok(key) => account.run(Job::Unlock(key)),
                Err(err) => error.set(Some(err)),
            }
        });
    };
    let by_passkey = attempt.clone();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        attempt();
    };
    view! {
        <section class="card" aria-labelledby="locked-title" data-lock-screen>
            <h2 id="locked-title">"Courier is locked"</h2>
            {move || match lock.with(|l| l.as_ref().map(|l| matches!(l.method, Method::Passkey { .. }))) {
                None => ().into_any(),
                Some(true) => {
                    let by_passkey = by_passkey.clone();
                    view! {
                        <p>"Use the passkey you locked Courier with on this device."</p>
                        <button id="unlock-passkey" disabled=move || busy.get()
                            on:click=move |_| by_passkey()>"Unlock with your passkey"</button>
                    }.into_any()
                }
                Some(false) => view! {
                    <form on:submit=submit.clone()>
                        <label for="unlock-passphrase">"Passphrase"</label>
                        <input id="unlock-passphrase" type="password" autocomplete="current-password"
                            required bind:value=passphrase />
                        <button id="unlock" type="submit" disabled=move || busy.get()>"Unlock"</button>
                    </form>
                }.into_any(),
            }}
            <Show when=move || busy.get()>
                <p role="status" data-lock-busy>"Unlocking…"</p>
            </Show>
            {move || error.get().map(|e| view! { <p class="warning" role="alert" data-lock-error>{e}</p> })}
        </section>
    }
}

/// The vault key from `lock`, with the user's passkey or `passphrase`.
async fn open(lock: &LockRecord, passphrase: &str) -> Result<web_sys::CryptoKey, String> {
    let (kek, refused) = match &lock.method {
        Method::Passkey { credential, salt } => (
            passkey::unlock(credential, salt).await?,
            "This passkey does not open Courier's keys on this device.",
        ),
        Method::Passphrase {
            salt,
            memory_kib,
            passes,
            lanes,
        } => (
            passphrase::derive(passphrase, salt, *memory_kib, *passes, *lanes).await?,
            "Wrong passphrase. Nothing was changed: try again.",
        ),
    };
    record::unwrap(lock, &kek).await.map_err(|_| refused.into())
}

/// Whether the lock is on, and how.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Loading,
    Off,
    Passkey,
    Passphrase,
}

fn state_of(lock: Option<&LockRecord>) -> State {
    match lock.map(|l| &l.method) {
        None => State::Off,
        Some(Method::Passkey { .. }) => State::Passkey,
        Some(Method::Passphrase { .. }) => State::Passphrase,
    }
}

/// The app lock's settings.
#[component]
fn Settings(account: Account) -> impl IntoView {
    let state = RwSignal::new(State::Loading);
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(None::<&'static str>);
    let (first, again) = (RwSignal::new(String::new()), RwSignal::new(String::new()));
    let refresh = move || {
        leptos::task::spawn_local(async move {
            match current().await {
                Ok(lock) => state.set(state_of(lock.as_ref())),
                Err(err) => error.set(Some(err)),
            }
        });
    };
    refresh();
    let ui = account.ui;
    // Runs `change` with the vault to itself, then shows the outcome.
    let in_worker = move |change: Change| {
        account.run(Job::Vault(VaultJob(Box::new(
            move |vault: Rc<Vault>| -> Work<()> {
                Box::pin(async move {
                    if let Err(err) = change(vault).await {
                        error.set(Some(record::js_text(&err)));
                    }
                    busy.set(None);
                    refresh();
                })
            },
        ))));
    };
    let turn_off = in_worker.clone();
    let lock_with = move |passkey: bool| {
        let in_worker = in_worker.clone();
        if !passkey && first.get_untracked() != again.get_untracked() {
            error.set(Some("The two passphrases differ.".into()));
            return;
        }
        error.set(None);
        busy.set(Some("Turning the lock on…"));
        leptos::task::spawn_local(async move {
            let made = if passkey {
                passkey::create(&ui.username.get_untracked()).await
            } else {
                passphrase::create(&first.get_untracked()).await
            };
            match made {
                Ok((kek, method)) => in_worker(Box::new(
                    move |vault: Rc<Vault>| -> Work<Result<(), JsValue>> {
                        Box::pin(async move { record::turn_on(&vault, &kek, method).await })
                    },
                )),
                Err(err) => {
                    busy.set(None);
                    error.set(Some(err));
                }
            }
        });
    };
    let with_passkey = lock_with.clone();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        lock_with(false);
    };
    let off = move |_| {
        error.set(None);
        busy.set(Some("Turning the lock off…"));
        turn_off(Box::new(|vault: Rc<Vault>| -> Work<Result<(), JsValue>> {
            Box::pin(async move { record::turn_off(&vault).await })
        }));
    };
    let label = move || match state.get() {
        State::Loading => "loading",
        State::Off => "off",
        State::Passkey => "passkey",
        State::Passphrase => "passphrase",
    };
    view! {
        <section class="card" aria-labelledby="lock-title" data-app-lock=label>
            <h2 id="lock-title">"App lock"</h2>
            <Show when=move || state.get() == State::Off>
                <p>"Without the lock, anyone with a copy of this browser's files can open your keys and chats. "
                   "With it, Courier asks for your passkey or passphrase each time it opens; without them, "
                   "nobody can open them, not even you."</p>
                <button id="lock-passkey" disabled=move || busy.get().is_some()
                    on:click={
                        let with_passkey = with_passkey.clone();
                        move |_| with_passkey(true)
                    }>"Lock with a passkey"</button>
                <form on:submit=submit.clone()>
                    <label for="lock-passphrase">"Or a passphrase"</label>
                    <input id="lock-passphrase" type="password" autocomplete="new-password" required
                        minlength=passphrase::MIN_CHARS.to_string() bind:value=first />
                    <label for="lock-passphrase-again">"Again"</label>
                    <input id="lock-passphrase-again" type="password" autocomplete="new-password" required
                        bind:value=again />
                    <button id="lock-with-passphrase" type="submit" disabled=move || busy.get().is_some()>
                        "Lock with a passphrase"</button>
                </form>
            </Show>
            <Show when=move || matches!(state.get(), State::Passkey | State::Passphrase)>
                <p data-lock-on>{move || if state.get() == State::Passkey {
                    "The app lock is on: Courier opens with your passkey."
                } else {
                    "The app lock is on: Courier opens with your passphrase."
                }}</p>
                <button id="lock-off" disabled=move || busy.get().is_some() on:click=off.clone()>
                    "Turn the lock off"</button>
            </Show>
            {move || busy.get().map(|b| view! { <p role="status" data-lock-busy>{b}</p> })}
            {move || error.get().map(|e| view! { <p class="warning" role="alert" data-lock-error>{e}</p> })}
        </section>
    }
}

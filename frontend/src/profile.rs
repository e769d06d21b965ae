//! The profile editor: this user's display name, about line and photo,
//! which the people they chat with see (sealed end to end, see
//! `courier_shared::crypto::profile`). A lazily loaded feature
//! (`profile`): its module is fetched the first time the editor opens.

use crate::lazy::Feature;
use crate::state::{Account, Job};
use courier_shared::client::messenger::PhotoChange;
use courier_shared::crypto::profile::{MAX_ABOUT_CHARS, MAX_NAME_CHARS};
use leptos::prelude::*;

/// The profile editor's module.
pub const FEATURE: Feature = Feature {
    id: "profile",
    label: "profile",
};

crate::lazy! { profile, preload_profile:
    /// The profile editor; `close` takes it down.
    pub fn profile_panel(account: Account, close: Callback<()>) -> AnyView {
        view! { <ProfilePanel account close /> }.into_any()
    }
}

/// The profile editor (see [`profile_panel`]), its module loaded first if
/// need be.
pub fn lazy_panel(account: Account, close: Callback<()>) -> AnyView {
    crate::lazy::lazy_view(FEATURE, move || profile_panel(account.clone(), close)).into_any()
}

#[component]
fn ProfilePanel(account: Account, close: Callback<()>) -> impl IntoView {
    let ui = account.ui;
    let name = RwSignal::new(String::new());
    let about = RwSignal::new(String::new());
    let preview = RwSignal::new(None::<String>);
    let photo = RwSignal::new(PhotoChange::Keep);
    let status = RwSignal::new(String::new());
    // Filled once with the saved profile, as soon as it is known (right
    // after a reload the core may still be loading it).
    Effect::new(move |filled: Option<bool>| {
        if filled == Some(true) {
            return true;
        }
        let Some(me) = ui.me.get() else {
            return false;
        };
        let Some(saved) = ui.profiles.with(|p| p.get(&me).cloned()) else {
            return false;
        };
        name.set(saved.name);
        about.set(saved.about);
        preview.set(ui.chat_photo(courier_shared::client::chat::ChatId::User(me)));
        true
    });
    let pick = move |ev: leptos::ev::Event| {
        status.set("Preparing the photo…".into());
        crate::media::image::on_avatar_picked(&ev, move |made| match made {
            Ok(jpeg) => {
                preview.set(Some(crate::media::jpeg_data_url(&jpeg)));
                photo.set(PhotoChange::Set(jpeg));
                status.set(String::new());
            }
            Err(err) => status.set(err),
        });
    };
    let remove = move |_| {
        preview.set(None);
        photo.set(PhotoChange::Remove);
    };
    let saver = account.clone();
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let change = photo.get_untracked();
        saver.run(Job::SetProfile(
            name.get_untracked(),
            about.get_untracked(),
            change,
        ));
        close.run(());
    };
    let initials = move || crate::components::chat_list::initials(&name.get());
    view! {
        <form id="profile" class="profile-editor" aria-label="Your profile" on:submit=save>
            <header>
                <h2>"Your profile"</h2>
                <button type="button" aria-label="Close profile" on:click=move |_| close.run(())>"×"</button>
            </header>
            <p class="hint">"Only the people you chat with can see it: it is end-to-end encrypted."</p>
            <div class="profile-photo">
                <span class="avatar large" aria-hidden="true">
                    {move || match preview.get() {
                        Some(url) => view! { <img class="avatar-photo" src=url alt="" /> }.into_any(),
                        None => initials().into_any(),
                    }}
                </span>
                <label class="button">
                    "Choose photo"
                    <input id="profile-photo" class="visually-hidden" type="file" accept="image/*" on:change=pick />
                </label>
                <Show when=move || preview.with(Option::is_some)>
                    <button id="profile-photo-remove" type="button" on:click=remove>"Remove photo"</button>
                </Show>
            </div>
            <label for="profile-name">"Name"</label>
            <input id="profile-name" maxlength=MAX_NAME_CHARS placeholder="Your name" bind:value=name />
            <label for="profile-about">"About"</label>
            <input id="profile-about" maxlength=MAX_ABOUT_CHARS placeholder="Hey there! I am using Courier." bind:value=about />
            <p class="profile-status" role="status" data-profile-status>{move || status.get()}</p>
            <button id="profile-save" type="submit"
                disabled=move || status.with(|s| s.starts_with("Preparing"))>"Save"</button>
        </form>
    }
}

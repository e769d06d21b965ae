//! A group's info panel: its members with their admin badges; admins add,
//! remove and promote members; any member may rename or describe the group,
//! or leave. And the form that creates
//! a group. Both are a lazily loaded feature (`groups`, see
//! [`crate::lazy`]), shown through [`members_panel`] and [`new_group_form`].

use crate::state::chat::Chat;
use crate::state::{Account, GroupAction, Job, Ui};
use courier_shared::client::messenger::MAX_DESCRIPTION_CHARS;
use leptos::prelude::*;

crate::lazy! { groups, preload_groups:
    /// The open group's members panel, from the groups module.
    pub fn members_panel(account: Account) -> AnyView {
        view! { <GroupInfo account /> }.into_any()
    }
}

crate::lazy! { groups, preload_groups_form:
    /// The form that creates a group, from the groups module.
    pub fn new_group_form(account: Account) -> AnyView {
        view! { <NewGroup account /> }.into_any()
    }
}

/// What the progress line calls this feature.
pub const FEATURE: crate::lazy::Feature = crate::lazy::Feature {
    id: "groups",
    label: "groups",
};

/// A group's name and members (usernames), and the button that creates it.
#[component]
fn NewGroup(account: Account) -> impl IntoView {
    let group_name = RwSignal::new(String::new());
    let group_members = RwSignal::new(String::new());
    let create = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        account.run(Job::CreateGroup(
            group_name.get_untracked(),
            group_members.get_untracked(),
        ));
        group_name.set(String::new());
        group_members.set(String::new());
    };
    view! {
        <form on:submit=create>
            <label for="new-group-name">"Group name"</label>
            <input id="new-group-name" required maxlength="100" bind:value=group_name />
            <label for="new-group-members">"Members (usernames)"</label>
            <input id="new-group-members" required placeholder="ben, cyra" bind:value=group_members />
            <button id="new-group" type="submit">"Create group"</button>
        </form>
    }
}

/// What `part` says of the open chat (its default when none is open).
fn of_open<T: Default>(ui: Ui, part: impl Fn(&Chat) -> T) -> T {
    let open = ui.open.get();
    ui.chats.with(|chats| {
        chats
            .iter()
            .find(|c| Some(c.chat) == open)
            .map(part)
            .unwrap_or_default()
    })
}

/// The open group's members and the changes this user may make.
#[component]
fn GroupInfo(account: Account) -> impl IntoView {
    let ui = account.ui;
    let members = move || of_open(ui, |c| c.members.clone());
    let me = move || ui.me.get();
    let i_am_admin = move || {
        members()
            .iter()
            .any(|(u, admin)| Some(*u) == me() && *admin)
    };
    let inviter = account.clone();
    let run = Callback::new(move |action: GroupAction| account.run(Job::Group(action)));
    let link = move || {
        let open = ui.open.get();
        ui.invite
            .get()
            .filter(|(chat, _)| Some(*chat) == open)
            .map(|(_, url)| url)
    };
    let i_am_member = move || members().iter().any(|(u, _)| Some(*u) == me());
    let renaming = RwSignal::new(String::new());
    let rename = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        run.run(GroupAction::Rename(renaming.get_untracked()));
        renaming.set(String::new());
    };
    let description = move || of_open(ui, |c| c.description.text.clone());
    let describing = RwSignal::new(String::new());
    let describe = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        run.run(GroupAction::Describe(describing.get_untracked()));
        describing.set(String::new());
    };
    let photo_status = RwSignal::new(String::new());
    let has_photo = move || {
        ui.open
            .get()
            .is_some_and(|chat| ui.chat_photo(chat).is_some())
    };
    let pick_photo = move |ev: leptos::ev::Event| {
        photo_status.set("Preparing the photo…".into());
        crate::media::image::on_avatar_picked(&ev, move |made| match made {
            Ok(jpeg) => {
                photo_status.set(String::new());
                run.run(GroupAction::Photo(jpeg));
            }
            Err(err) => photo_status.set(err),
        });
    };
    let adding = RwSignal::new(String::new());
    let add = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        run.run(GroupAction::Add(adding.get_untracked()));
        adding.set(String::new());
    };
    view! {
        <section id="group-info" class="group-info" aria-label="Group info">
            {move || {
                let text = description();
                (!text.is_empty()).then(|| view! { <p class="description" data-description>{text}</p> })
            }}
            <h3>{move || format!("{} members", members().len())}</h3>
            <ul>
                <For each=members key=|m| *m let:member>
                    {
                        let (user, admin) = member;
                        let name = move || {
                            if Some(user) == me() {
                                "You".to_owned()
                            } else {
                                ui.display_name(user).or_else(|| ui.names.with(|n| n.get(&user).cloned()))
                                    .unwrap_or_else(|| format!("user {}", user.0))
                            }
                        };
                        let manage = move || i_am_admin() && Some(user) != me();
                        view! {
                            <li data-member=name data-admin=admin.to_string()>
                                <span>{name}</span>
                                {admin.then(|| view! { <span class="badge">"admin"</span> })}
                                <Show when=manage>
                                    <button class="make-admin" on:click=move |_| run.run(GroupAction::Admin(user, !admin))>
                                        {if admin { "Dismiss as admin" } else { "Make admin" }}
                                    </button>
                                    <button class="remove-member" on:click=move |_| run.run(GroupAction::Remove(user))>
                                        "Remove"
                                    </button>
                                </Show>
                            </li>
                        }
                    }
                </For>
            </ul>
            <Show when=i_am_admin>
                <form class="add-member" on:submit=add>
                    <label for="add-member-name" class="visually-hidden">"Add a member (username)"</label>
                    <input id="add-member-name" placeholder="Add member: username" required bind:value=adding />
                    <button id="add-member" type="submit">"Add"</button>
                </form>
            </Show>
            <Show when=i_am_admin>
                <div class="invite">
                    <button id="invite-make" on:click={
                        let inviter = inviter.clone();
                        move |_| inviter.run(Job::Invite(true))
                    }>{move || if link().is_some() { "New invite link" } else { "Invite link" }}</button>
                    {
                        let inviter = inviter.clone();
                        move || link().map(|url| {
                            let inviter = inviter.clone();
                            view! {
                                <label for="invite-link" class="visually-hidden">"Invite link"</label>
                                <input id="invite-link" readonly prop:value=url
                                    on:focus=move |ev| {
                                        use wasm_bindgen::JsCast;
                                        if let Some(input) = ev.target().and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok()) {
                                            input.select();
                                        }
                                    } />
                                <button id="invite-revoke" class="danger" on:click=move |_| inviter.run(Job::Invite(false))>
                                    "Revoke link"
                                </button>
                                <p class="hint">"Anyone with this link can join. Revoke it to stop that; the last link stops working when you make a new one."</p>
                            }
                        })
                    }
                </div>
            </Show>
            <Show when=i_am_member>
                <form class="rename-group" on:submit=rename>
                    <label for="rename-group-name" class="visually-hidden">"New group name"</label>
                    <input id="rename-group-name" placeholder="Rename the group" required maxlength="100" bind:value=renaming />
                    <button id="rename-group" type="submit">"Rename"</button>
                </form>
            </Show>
            <Show when=i_am_member>
                <form class="describe-group" on:submit=describe>
                    <label for="group-description" class="visually-hidden">"Group description"</label>
                    <textarea id="group-description" rows="2" maxlength=MAX_DESCRIPTION_CHARS.to_string()
                        placeholder="Describe the group (empty: none)"
                        prop:value=move || describing.get()
                        on:input=move |ev| describing.set(event_target_value(&ev))></textarea>
                    <button id="describe-group" type="submit">"Save description"</button>
                </form>
            </Show>
            <Show when=i_am_member>
                <div class="group-photo">
                    <label class="button">
                        "Change group photo"
                        <input id="group-photo" class="visually-hidden" type="file" accept="image/*" on:change=pick_photo />
                    </label>
                    <Show when=has_photo>
                        <button id="group-photo-remove" type="button"
                            on:click=move |_| run.run(GroupAction::Photo(Vec::new()))>"Remove group photo"</button>
                    </Show>
                    <span class="profile-status" role="status" data-group-photo-status>{move || photo_status.get()}</span>
                </div>
            </Show>
            <Show when=i_am_member>
                <button id="leave-group" class="danger" on:click=move |_| run.run(GroupAction::Leave)>
                    "Leave group"
                </button>
            </Show>
        </section>
    }
}

//! A group's info panel: its members with their admin badges; admins add,
//! remove and promote members; anyone may leave.

use crate::state::{Account, GroupAction, Job};
use leptos::prelude::*;

/// The open group's members and the changes this user may make.
#[component]
pub fn GroupInfo(account: Account) -> impl IntoView {
    let ui = account.ui;
    let members = move || {
        let open = ui.open.get();
        ui.chats.with(|chats| {
            chats
                .iter()
                .find(|c| Some(c.chat) == open)
                .map(|c| c.members.clone())
                .unwrap_or_default()
        })
    };
    let me = move || ui.me.get();
    let i_am_admin = move || {
        members()
            .iter()
            .any(|(u, admin)| Some(*u) == me() && *admin)
    };
    let run = Callback::new(move |action: GroupAction| account.run(Job::Group(action)));
    let adding = RwSignal::new(String::new());
    let add = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        run.run(GroupAction::Add(adding.get_untracked()));
        adding.set(String::new());
    };
    view! {
        <section id="group-info" class="group-info" aria-label="Group info">
            <h3>{move || format!("{} members", members().len())}</h3>
            <ul>
                <For each=members key=|m| *m let:member>
                    {
                        let (user, admin) = member;
                        let name = move || {
                            if Some(user) == me() {
                                "You".to_owned()
                            } else {
                                ui.names.with(|n| n.get(&user).cloned().unwrap_or_else(|| format!("user {}", user.0)))
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
            <Show when=move || members().iter().any(|(u, _)| Some(*u) == me())>
                <button id="leave-group" class="danger" on:click=move |_| run.run(GroupAction::Leave)>
                    "Leave group"
                </button>
            </Show>
        </section>
    }
}

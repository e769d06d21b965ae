//! A message's reactions and its tools: the reaction picker, edit, delete
//! for everyone and delete for me.

use super::conversation::who;
use super::emoji_picker;
use crate::lazy::lazy_view;
use crate::state::chat::Message;
use crate::state::{Change, Job, Ui};
use courier_shared::crypto::content::{DELETE_WINDOW_MS, EDIT_WINDOW_MS};
use courier_shared::ids::{MessageId, UserId};
use leptos::prelude::*;

/// The reactions offered under every message.
const REACTIONS: [&str; 6] = ["👍", "❤️", "😂", "😮", "😢", "🙏"];

/// What a bubble's buttons change: the reply or edit under way, the draft.
#[derive(Clone, Copy)]
pub(super) struct Actions {
    /// The message being replied to, with its text.
    pub replying: RwSignal<Option<(MessageId, String)>>,
    /// This user's message being edited in the composer.
    pub editing: RwSignal<Option<MessageId>>,
    /// The composer's text.
    pub draft: RwSignal<String>,
    /// Hands a job to the device.
    pub run: Callback<Job>,
}

/// The reactions under a bubble: each emoji with its count and who chose
/// it; a click on this user's own takes it back.
pub(super) fn reactions(
    message: &Message,
    ui: Ui,
    run: Callback<Job>,
) -> Option<impl IntoView + use<>> {
    let mut counted: Vec<(String, Vec<UserId>)> = Vec::new();
    for reaction in message.reactions.iter().filter(|r| !r.emoji.is_empty()) {
        match counted
            .iter_mut()
            .find(|(emoji, _)| *emoji == reaction.emoji)
        {
            Some((_, users)) => users.push(reaction.user),
            None => counted.push((reaction.emoji.clone(), vec![reaction.user])),
        }
    }
    if counted.is_empty() {
        return None;
    }
    let id = message.id;
    let me = ui.me.get_untracked();
    let chips = counted.into_iter().map(|(emoji, users)| {
        let mine = users.iter().any(|u| Some(*u) == me);
        let names: Vec<String> = users.iter().map(|u| who(ui, *u)).collect();
        let label = format!("{emoji} {}", users.len());
        let undo = mine.then_some(String::new());
        view! {
            <li data-reaction=emoji.clone() data-mine=mine.to_string() title=names.join(", ")>
                <button disabled=!mine aria-label=format!("{label}: {}", names.join(", "))
                    on:click=move |_| if let Some(undo) = undo.clone() {
                        run.run(Job::Change(id, Change::React(undo)));
                    }>{label.clone()}</button>
            </li>
        }
    });
    Some(view! { <ul class="reactions" data-reactions>{chips.collect_view()}</ul> })
}

/// A bubble's reaction picker and its menu: edit (own texts, for 15
/// minutes), delete for everyone (own messages, for a day), delete for me.
pub(super) fn tools(message: &Message, actions: Actions, ui: Ui) -> impl IntoView + use<> {
    let Actions {
        editing,
        draft,
        run,
        ..
    } = actions;
    let id = message.id;
    let age = (js_sys::Date::now() as u64).saturating_sub(message.sent_at());
    let own = message.outgoing && !message.system;
    let editable = own && message.content.is_none() && age < EDIT_WINDOW_MS;
    let deletable = own && age < DELETE_WINDOW_MS;
    let text = message.text.clone().unwrap_or_default();
    let mine = message
        .reactions
        .iter()
        .find(|r| Some(r.user) == ui.me.get_untracked())
        .map(|r| r.emoji.clone())
        .unwrap_or_default();
    let picker = REACTIONS.map(|emoji| {
        // Choosing the reaction one already has takes it back.
        let choice = if mine == emoji { String::new() } else { emoji.to_owned() };
        view! {
            <button class="emoji" data-react=emoji aria-pressed=(mine == emoji).to_string()
                on:click=move |_| run.run(Job::Change(id, Change::React(choice.clone())))>{emoji}</button>
        }
    });
    // The full set, a lazily loaded module, opened on demand.
    let full = RwSignal::new(false);
    let pick = Callback::new(move |emoji: String| {
        full.set(false);
        let choice = if mine == emoji { String::new() } else { emoji };
        run.run(Job::Change(id, Change::React(choice)));
    });
    view! {
        <details class="react">
            <summary aria-label="React">"☺"</summary>
            <div class="picker">
                {picker.into_iter().collect_view()}
                <button class="emoji" data-react-more aria-label="More emoji"
                    aria-expanded=move || full.get().to_string()
                    on:click=move |_| full.update(|f| *f = !*f)>"+"</button>
            </div>
            {move || full.get().then(|| lazy_view(emoji_picker::FEATURE, move || emoji_picker::full_set(pick)))}
        </details>
        <details class="more">
            <summary aria-label="More">"⋯"</summary>
            <div class="menu">
                {editable.then(|| view! {
                    <button data-action="edit" on:click=move |_| {
                        editing.set(Some(id));
                        draft.set(text.clone());
                    }>"Edit"</button>
                })}
                {deletable.then(|| view! {
                    <button data-action="delete-everyone"
                        on:click=move |_| run.run(Job::Change(id, Change::DeleteForEveryone))>
                        "Delete for everyone"</button>
                })}
                <button data-action="delete-me"
                    on:click=move |_| run.run(Job::Change(id, Change::DeleteForMe))>"Delete for me"</button>
            </div>
        </details>
    }
}

//! The open conversation: a header with the other person's presence or
//! typing (a group's members, and its info panel), message bubbles with day
//! separators, senders in groups, times and check marks (with who read
//! when, in groups), group event lines, replies, older history on demand,
//! the shared-media panel, and the composer.

use super::message_tools::{Actions, reactions, tools};
use super::{gallery, group_info, media_view, time};
use crate::lazy::lazy_view;
use crate::state::chat::{ChatId, Mark, Message};
use crate::state::{Account, Change, Job, Ui};
use courier_shared::client::messenger::timer_label;
use courier_shared::crypto::content::TIMER_CHOICES;
use courier_shared::ids::{MessageId, UserId};
use leptos::prelude::*;

/// How often, at most, "typing" is sent while the user types (ms).
const TYPING_EVERY_MS: f64 = 3_000.0;
/// The conversation pane.
#[component]
pub fn Conversation(account: Account) -> impl IntoView {
    let ui = account.ui;
    let draft = RwSignal::new(String::new());
    let replying = RwSignal::new(None::<(MessageId, String)>);
    let editing = RwSignal::new(None::<MessageId>);
    let last_typing = StoredValue::new(0.0_f64);
    let show_info = RwSignal::new(false);
    let show_media = RwSignal::new(false);
    let searching = RwSignal::new(false);
    Effect::new(move |_| {
        ui.open.track();
        show_media.set(false);
        searching.set(false);
    });
    reveal_when_asked(ui);
    let open_chat = move || {
        let open = ui.open.get()?;
        ui.chats
            .with(|chats| chats.iter().find(|c| c.chat == open).cloned())
    };
    let name = move || open_chat().map(|c| ui.chat_name(&c));
    let about = move || {
        let user = ui.open.get()?.user()?;
        let about = ui
            .profiles
            .with(|p| p.get(&user).map(|p| p.about.clone()))?;
        (!about.is_empty()).then_some(about)
    };
    let is_group = move || ui.open.get().is_some_and(|c| c.group().is_some());
    let member = move || {
        open_chat().is_none_or(|c| {
            c.chat.user().is_some() || c.members.iter().any(|(u, _)| Some(*u) == ui.me.get())
        })
    };
    let status = move || {
        let peer = match ui.open.get()? {
            ChatId::User(peer) => peer,
            ChatId::Group(_) => {
                let members = open_chat()?.members;
                let names: Vec<String> = members.iter().map(|(u, _)| who(ui, *u)).collect();
                return Some(names.join(", "));
            }
        };
        if ui.typing.with(|t| t.contains_key(&peer)) {
            return Some("typing…".to_owned());
        }
        ui.presence.with(|p| {
            p.get(&peer)
                .map(|(online, seen)| time::presence(*online, *seen))
        })
    };
    let info_account = account.clone();
    let run = Callback::new(move |job: Job| account.run(job));
    let send = move || {
        let body = draft.get_untracked();
        if body.trim().is_empty() {
            return;
        }
        crate::state::ask_notification_permission();
        match editing.get_untracked() {
            Some(id) => run.run(Job::Change(id, Change::Edit(body))),
            None => run.run(Job::Send(body, replying.get_untracked().map(|r| r.0))),
        }
        editing.set(None);
        draft.set(String::new());
        replying.set(None);
        last_typing.set_value(0.0);
    };
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        send();
    };
    let on_key = move |ev: leptos::ev::KeyboardEvent| {
        if ev.key() == "Enter" && !ev.shift_key() {
            ev.prevent_default();
            send();
        }
    };
    let on_input = move |ev: leptos::ev::Event| {
        draft.set(event_target_value(&ev));
        let now = js_sys::Date::now();
        if now - last_typing.get_value() > TYPING_EVERY_MS {
            last_typing.set_value(now);
            run.run(Job::Typing(true));
        }
    };
    let on_blur = move |_| {
        if last_typing.get_value() > 0.0 {
            last_typing.set_value(0.0);
            run.run(Job::Typing(false));
        }
    };
    let on_file = move |ev: leptos::ev::Event| {
        let input = event_target::<web_sys::HtmlInputElement>(&ev);
        if let Some(file) = input.files().and_then(|files| files.get(0)) {
            run.run(Job::Attach(file));
        }
        input.set_value("");
    };
    let recording = RwSignal::new(false);
    let recorder = StoredValue::new_local(VoiceHolder::default());
    let start_recording = move |_| {
        if recording.get_untracked() {
            return;
        }
        recording.set(true);
        leptos::task::spawn_local(async move {
            match crate::media::voice::start().await {
                Ok(started) => recorder.with_value(|h| h.started(started, run, ui.notice)),
                Err(err) => {
                    recording.set(false);
                    // A release that came first is forgotten with it.
                    recorder.with_value(|h| h.0.borrow_mut().1 = false);
                    ui.notice.set(Some(cannot_record(&err)));
                }
            }
        });
    };
    let stop_recording = move |_| {
        if recording.get_untracked() {
            recording.set(false);
            recorder.with_value(|h| h.release(run, ui.notice));
        }
    };
    // The newest message comes into view when it arrives or the chat opens;
    // loading older history or a changed check mark leaves the view where
    // it is.
    let list: NodeRef<leptos::html::Ol> = NodeRef::new();
    Effect::new(move |shown_newest: Option<Option<MessageId>>| {
        let newest = ui.messages.with(|m| m.last().map(|m| m.id));
        if newest.is_some()
            && shown_newest.flatten() != newest
            && let Some(list) = list.get()
        {
            request_animation_frame(move || {
                if let Some(last) = list.last_element_child() {
                    last.scroll_into_view_with_bool(false);
                }
            });
        }
        newest
    });
    let on_scroll = move |ev: leptos::ev::Event| {
        let top = event_target::<web_sys::HtmlElement>(&ev).scroll_top();
        if top == 0 && ui.has_older.get_untracked() {
            run.run(Job::Older);
        }
    };
    let actions = Actions {
        replying,
        editing,
        draft,
        run,
    };
    view! {
        <section class="conversation" aria-label="Conversation">
            <Show when=move || ui.open.get().is_some()
                fallback=|| view! { <p class="empty pick">"Pick a chat, or start one."</p> }>
                <header class="conversation-header">
                    <button class="back" aria-label="Back to chats"
                        on:click=move |_| run.run(Job::Open(None))>"‹"</button>
                    {move || open_chat().map(|c| super::chat_list::avatar(ui, &c, || false))}
                    <div>
                        <h2 data-peer-name>{name}</h2>
                        {move || about().map(|about| view! { <p class="about" data-peer-about>{about}</p> })}
                        <p class="status" data-status aria-live="polite">{status}</p>
                    </div>
                    {move || open_chat().and_then(|c| Some((c.chat.user()?, c.contact))).map(|(peer, contact)| view! {
                        <button id="contact-toggle" class="contact-toggle" data-contact=contact.to_string()
                            title="A contact sees when you are online and typing"
                            on:click=move |_| run.run(Job::SetContact(peer, !contact))>
                            {if contact { "Remove contact" } else { "Add contact" }}
                        </button>
                    })}
                    {move || open_chat().map(|c| timer_choice(c.chat, c.timer.seconds, run))}
                    <button id="search-chat" aria-label="Search in this chat"
                        aria-pressed=move || searching.get().to_string()
                        on:click=move |_| searching.update(|s| *s = !*s)>"🔍"</button>
                    <button id="gallery-toggle" aria-label="Media, files and voice notes"
                        aria-pressed=move || show_media.get().to_string()
                        on:click=move |_| show_media.update(|s| *s = !*s)>"🖼"</button>
                    {
                        let account = info_account.clone();
                        // Rendered again only when another chat opens, not
                        // with every change to the chat list.
                        move || ui.open.get().and_then(ChatId::user).map(|peer| view! {
                            <CallButton account=account.clone() peer video=false />
                            <CallButton account=account.clone() peer video=true />
                        })
                    }
                    <Show when=is_group>
                        <button id="group-info-toggle" aria-label="Group info"
                            aria-pressed=move || show_info.get().to_string()
                            on:click=move |_| show_info.update(|s| *s = !*s)>"Info"</button>
                    </Show>
                </header>
                {
                    // Lazily loaded (#15): the groups module.
                    let account = info_account.clone();
                    move || (show_info.get() && is_group()).then(|| {
                        let account = account.clone();
                        lazy_view(group_info::FEATURE, move || group_info::members_panel(account.clone()))
                    })
                }
                {
                    // Lazily loaded: the search module.
                    let account = info_account.clone();
                    move || searching.get().then(|| ui.open.get()).flatten().map(|chat| {
                        let close = Callback::new(move |()| searching.set(false));
                        crate::search::lazy_panel(account.clone(), Some(chat), close)
                    })
                }
                {move || show_media.get().then(|| {
                    // Lazily loaded (#15): the media module.
                    let close = Callback::new(move |()| show_media.set(false));
                    lazy_view(media_view::FEATURE, move || gallery::gallery_panel(ui, run, close))
                })}
                <ol class="messages" aria-label="Messages" aria-live="polite" on:scroll=on_scroll node_ref=list>
                    <Show when=move || ui.has_older.get()>
                        <li class="older">
                            <button id="older" on:click=move |_| run.run(Job::Older)>
                                "Load older messages"
                            </button>
                        </li>
                    </Show>
                    <For each=move || with_days(ui.messages.get()) key=|item| item.key() let:item>
                        {match item {
                            Item::Day(day) => view! { <li class="day" role="separator">{day}</li> }.into_any(),
                            Item::Message(message) => bubble(*message, actions, ui).into_any(),
                        }}
                    </For>
                </ol>
                {move || editing.get().map(|_| view! {
                    <div class="replying" data-editing>
                        <span>"Editing your message"</span>
                        <button aria-label="Cancel the edit"
                            on:click=move |_| { editing.set(None); draft.set(String::new()); }>"×"</button>
                    </div>
                })}
                {move || replying.get().map(|(_, quoted)| view! {
                    <div class="replying">
                        <span>"Replying to: " {quoted}</span>
                        <button aria-label="Cancel reply" on:click=move |_| replying.set(None)>"×"</button>
                    </div>
                })}
                <Show when=member fallback=|| view! {
                    <p id="left-group" class="empty">"You are no longer in this group."</p>
                }>
                <form class="composer" on:submit=on_submit>
                    <label for="composer-text" class="visually-hidden">"Message"</label>
                    <label class="attach" for="attach-file" aria-label="Attach a photo or file">"📎"</label>
                    <input type="file" id="attach-file" class="visually-hidden" on:change=on_file />
                    <button type="button" id="record" class="record"
                        aria-label="Hold to record a voice note" aria-pressed=move || recording.get().to_string()
                        on:pointerdown=start_recording on:pointerup=stop_recording
                        on:pointerleave=stop_recording>"🎤"</button>
                    <textarea id="composer-text" rows="1" placeholder="Message"
                        prop:value=move || draft.get()
                        on:input=on_input on:keydown=on_key on:blur=on_blur></textarea>
                    <button id="send" type="submit" aria-label="Send">"➤"</button>
                </form>
                </Show>
            </Show>
        </section>
    }
}

/// The recording under way, and whether the button was let go before the
/// microphone opened.
#[derive(Clone, Default)]
struct VoiceHolder(std::rc::Rc<std::cell::RefCell<(Option<crate::media::voice::Recorder>, bool)>>);

impl VoiceHolder {
    /// The microphone opened: keep recording, or stop at once if the
    /// button was already let go.
    fn started(&self, recorder: crate::media::voice::Recorder, run: Callback<Job>, notice: Notice) {
        let released = std::mem::take(&mut self.0.borrow_mut().1);
        if released {
            finish(recorder, run, notice);
        } else {
            self.0.borrow_mut().0 = Some(recorder);
        }
    }

    /// The button was let go: send what was recorded.
    fn release(&self, run: Callback<Job>, notice: Notice) {
        let taken = self.0.borrow_mut().0.take();
        match taken {
            Some(recorder) => finish(recorder, run, notice),
            None => self.0.borrow_mut().1 = true,
        }
    }
}

/// What the user is told when the microphone or the recorder cannot start
/// (no MediaRecorder, no microphone, permission refused).
fn cannot_record(err: &wasm_bindgen::JsValue) -> String {
    let why = js_sys::Reflect::get(err, &"message".into())
        .ok()
        .and_then(|m| m.as_string())
        .or_else(|| err.as_string())
        .unwrap_or_else(|| "the browser refused".into());
    format!("Voice notes cannot be recorded in this browser: {why}")
}

/// Where the page tells the user what went wrong.
type Notice = RwSignal<Option<String>>;

fn finish(recorder: crate::media::voice::Recorder, run: Callback<Job>, notice: Notice) {
    leptos::task::spawn_local(async move {
        match recorder.stop().await {
            Ok(note) if note.duration_ms >= 300 => run.run(Job::Voice(note)),
            Ok(_) => {}
            Err(err) => notice.set(Some(cannot_record(&err))),
        }
    });
}

/// A row of the message list.
#[derive(Clone)]
enum Item {
    Day(String),
    Message(Box<Message>),
}

impl Item {
    fn key(&self) -> String {
        match self {
            Self::Day(day) => format!("day {day}"),
            Self::Message(m) => format!(
                "{:?} {:?} {:?} {} {:?} {} {:?} {}",
                m.id,
                m.expires_at,
                m.mark,
                m.seen,
                m.edit,
                m.deleted,
                m.reactions.iter().map(|r| &r.emoji).collect::<Vec<_>>(),
                m.marks
                    .as_ref()
                    .map_or(0, |k| k.info().filter(|i| i.2.is_some()).count())
            ),
        }
    }
}

/// The messages with a separator before each new day.
fn with_days(messages: Vec<Message>) -> Vec<Item> {
    let mut items = Vec::with_capacity(messages.len() + 4);
    let mut last_day = String::new();
    // A message whose time is up is gone even before the core's sweep.
    let now = js_sys::Date::now() as u64;
    let shown = |m: &Message| !m.hidden && m.expires_at.is_none_or(|at| at > now);
    for message in messages.into_iter().filter(shown) {
        let day = time::day(message.sent_at());
        if day != last_day {
            items.push(Item::Day(day.clone()));
            last_day = day;
        }
        items.push(Item::Message(Box::new(message)));
    }
    items
}

/// `user`'s name as this user knows it ("you" for this user).
pub(super) fn who(ui: Ui, user: UserId) -> String {
    if Some(user) == ui.me.get_untracked() {
        return "you".into();
    }
    let direct = ChatId::User(user);
    ui.display_name(user)
        .or_else(|| ui.names.with(|n| n.get(&user).cloned()))
        .or_else(|| {
            ui.chats.with(|chats| {
                chats
                    .iter()
                    .find(|c| c.chat == direct)
                    .map(|c| c.name.clone())
            })
        })
        .unwrap_or_else(|| format!("user {}", user.0))
}

fn bubble(message: Message, actions: Actions, ui: Ui) -> impl IntoView {
    let Actions { replying, run, .. } = actions;
    if message.system {
        let line = message.text.unwrap_or_default();
        return view! { <li class="system" data-system role="note">{line}</li> }.into_any();
    }
    let sender = message
        .from
        .filter(|_| !message.outgoing)
        .map(|u| who(ui, u));
    let info = message.marks.clone().map(|marks| {
        let rows: Vec<String> = marks
            .info()
            .map(|(user, delivered, read)| match (delivered, read) {
                (_, Some(at)) => format!("{}: read {}", who(ui, user), time::clock(at)),
                (Some(at), None) => format!("{}: delivered {}", who(ui, user), time::clock(at)),
                (None, None) => format!("{}: not yet delivered", who(ui, user)),
            })
            .collect();
        view! {
            <details class="info">
                <summary>"Info"</summary>
                <ul>{rows.into_iter().map(|row| view! { <li data-info-row>{row}</li> }).collect_view()}</ul>
            </details>
        }
    });
    let class = if message.outgoing {
        "bubble outgoing"
    } else {
        "bubble incoming"
    };
    let mark = message.mark;
    let id = message.id;
    let quotable = message.text.clone().unwrap_or_default();
    let sent_at = message.sent_at();
    let outgoing = message.outgoing;
    let undecryptable = message.text.is_none();
    let send_problem = if outgoing && !undecryptable {
        message.problem.clone()
    } else {
        None
    };
    let problem = message.problem.clone().unwrap_or_default();
    let deleted = message.deleted;
    let edited = message.edit.is_some() && !deleted;
    let expires = message.expires_at.map(|at| {
        let when = format!("Disappears {} {}", time::day(at), time::clock(at));
        view! { <span class="expires" data-expires=at.to_string() title=when.clone() aria-label=when>"⏱"</span> }
    });
    let reactions = (!deleted).then(|| reactions(&message, ui, run));
    let tools = (!deleted).then(|| tools(&message, actions, ui));
    // Lazily loaded (#15): the media viewer's module.
    let is_media = courier_shared::client::messenger::carries_media(&message);
    let media = is_media.then(|| {
        let message = message.clone();
        lazy_view(media_view::FEATURE, move || {
            media_view::block(message.clone(), ui, run)
        })
    });
    view! {
        <li class=class id=anchor(id) data-message data-outgoing=outgoing.to_string()
            data-mark=outgoing.then(|| mark.label())
            data-undecryptable=undecryptable.then_some("true")>
            {sender.map(|name| view! { <p class="sender" data-sender=name.clone()>{name.clone()}</p> })}
            {message.reply_to.map(|(_, quoted)| view! { <blockquote class="quote">{quoted}</blockquote> })}
            {media}
            {match message.text {
                Some(text) if deleted => view! { <p class="text deleted" data-deleted>{text}</p> }.into_any(),
                Some(_) if is_media => ().into_any(),
                Some(text) => view! { <p class="text">{text}</p> }.into_any(),
                None => view! {
                    <p class="text warning" role="alert">
                        "This message could not be decrypted. " {problem}
                    </p>
                }.into_any(),
            }}
            {send_problem.map(|problem| view! { <p class="warning">{problem}</p> })}
            <footer>
                {edited.then(|| view! { <span class="edited" data-edited>"edited"</span> })}
                {expires}
                <time>{time::clock(sent_at)}</time>
                {outgoing.then(|| view! {
                    <span class="mark" data-mark=mark.label() aria-label=mark.describe()>
                        {match mark {
                            Mark::Pending => "🕓",
                            Mark::Sent => "✓",
                            Mark::Delivered | Mark::Read => "✓✓",
                            Mark::Failed => "!",
                        }}
                    </span>
                })}
                {(!deleted).then(|| view! {
                    <button class="reply" aria-label="Reply"
                        on:click=move |_| replying.set(Some((id, quotable.clone())))>"↩"</button>
                })}
                {tools}
            </footer>
            {reactions}
            {info}
        </li>
    }
    .into_any()
}

/// The element id of message `id`'s bubble.
fn anchor(id: MessageId) -> String {
    format!("m-{}", courier_shared::text_encoding::hex(id.as_bytes()))
}

/// Brings the message [`Ui::reveal`] names into view, marked for a moment
/// (`data-revealed`), once the worker loaded the history back to it.
fn reveal_when_asked(ui: Ui) {
    Effect::new(move |_| {
        let Some(id) = ui.reveal.get() else {
            return;
        };
        request_animation_frame(move || {
            ui.reveal.set(None);
            let Some(bubble) = document().get_element_by_id(&anchor(id)) else {
                return;
            };
            if let Ok(Some(before)) = document().query_selector("[data-revealed]") {
                let _ = before.remove_attribute("data-revealed");
            }
            let options = web_sys::ScrollIntoViewOptions::new();
            options.set_block(web_sys::ScrollLogicalPosition::Center);
            bubble.scroll_into_view_with_scroll_into_view_options(&options);
            let _ = bubble.set_attribute("data-revealed", "");
        });
    });
}

/// Calls the chat's person, with the camera on if `video`. If the calls
/// module cannot be loaded, says why beside the button (and reloads into a
/// newer build if the server has one).
#[component]
fn CallButton(account: Account, peer: UserId, video: bool) -> impl IntoView {
    let failed = RwSignal::new(None::<String>);
    let (action, label, icon) = if video {
        ("video-call", "Video call", "🎥")
    } else {
        ("call", "Voice call", "📞")
    };
    let call = move |_| {
        let account = account.clone();
        leptos::task::spawn_local(async move {
            // The button may be gone by now (the chat closed): `try_set`
            // then does nothing, where `set` would end the page.
            match crate::calls::start(account, peer, video).await {
                Ok(_) => {
                    failed.try_set(None);
                }
                Err(err) => {
                    crate::lazy::recover();
                    failed.try_set(Some(format!("Calls: {err}")));
                }
            }
        });
    };
    view! {
        <button data-action=action aria-label=label title=label on:click=call>{icon}</button>
        {move || failed.get().map(|why| view! {
            <span class="warning" role="alert" data-load-failed="calls">{why}</span>
        })}
    }
}

/// The chat's disappearing-message timer, for everyone in it.
fn timer_choice(chat: ChatId, seconds: u32, run: Callback<Job>) -> impl IntoView {
    let choices = TIMER_CHOICES.map(|choice| {
        view! {
            <option value=choice.to_string() selected=choice == seconds>{timer_label(choice)}</option>
        }
    });
    let on_change = move |ev: leptos::ev::Event| {
        if let Ok(choice) = event_target_value(&ev).parse() {
            run.run(Job::SetTimer(chat, choice));
        }
    };
    view! {
        <label class="timer" title="Disappearing messages">
            <span aria-hidden="true">"⏱"</span>
            <select id="disappearing" aria-label="Disappearing messages" data-timer=seconds.to_string()
                on:change=on_change>
                {choices.into_iter().collect_view()}
            </select>
        </label>
    }
}

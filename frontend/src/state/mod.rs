//! The application state: [`Account`] is the UI's handle on this browser's
//! device; [`Ui`] is what the pages show, [`Job`] what they ask for. The
//! work happens in order: first in [`worker`] (in the first module: the
//! vault, the chat list and history from the store, the page's phase),
//! then, once its module has loaded after the first paint, in [`core`]:
//! the shared messenger core (chats, outbox, crypto) over the socket
//! ([`crate::net`]).

pub mod chat;
mod core;
mod notify;
mod worker;

pub use core::preload_core;
pub use notify::ask_permission as ask_notification_permission;
pub use notify::message as notify_message;
pub use worker::{js_text, sleep};

use crate::net::socket::SocketStatus;
use chat::{Chat, ChatId, Message};
use courier_shared::client::Event;
pub use courier_shared::client::messenger::GroupAction;
use courier_shared::client::messenger::SharedMedia;
use courier_shared::ids::{DeviceId, MediaId, MessageId, UserId};
use futures_channel::mpsc;
use leptos::prelude::*;
use std::collections::HashMap;

/// Where the device stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Phase {
    /// Opening the saved state.
    Starting,
    /// Another tab has Courier open; this one waits for it to close.
    OtherTab,
    /// The app lock is on: waiting for the passkey or passphrase.
    Locked,
    /// No account on this browser yet: create one or link to one.
    Welcome,
    /// Linked to an account; waiting for the other device's approval.
    Joining,
    /// Signed in with an approved device.
    Ready,
    /// Something this page cannot recover from.
    Failed(String),
}

impl Phase {
    /// The phase's name, for `data-phase` (styles and tests).
    pub fn label(&self) -> &'static str {
        match self {
            Self::Starting => "starting",
            Self::OtherTab => "other-tab",
            Self::Locked => "locked",
            Self::Welcome => "welcome",
            Self::Joining => "joining",
            Self::Ready => "ready",
            Self::Failed(_) => "failed",
        }
    }
}

/// A link code on screen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkView {
    /// The code to type.
    pub code: String,
    /// What its QR code encodes (a URL that opens Courier with the code).
    pub qr: String,
}

/// A contact's safety number on screen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SafetyView {
    /// Whose.
    pub username: String,
    /// Sixty digits in twelve groups.
    pub number: String,
    /// What its QR code encodes.
    pub qr: String,
    /// A change to warn about (new identity, new or removed devices).
    pub warning: Option<String>,
    /// The user marked this account key verified.
    pub verified: bool,
}

/// Which panel the signed-in page shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Panel {
    /// The chat list and the open conversation.
    Chats,
    /// Devices, linking and safety numbers.
    Devices,
}

/// What the pages show.
#[derive(Clone, Copy)]
pub struct Ui {
    /// The connection.
    pub status: RwSignal<SocketStatus>,
    /// Where the device stands.
    pub phase: RwSignal<Phase>,
    /// The messenger core's module has loaded and taken the job queue over:
    /// sends and sign-ups go out from now on (until then they wait).
    pub core: RwSignal<bool>,
    /// The account's name.
    pub username: RwSignal<String>,
    /// The account's user id, once signed in.
    pub me: RwSignal<Option<UserId>>,
    /// The account's approved devices (this one marked).
    pub devices: RwSignal<Vec<(DeviceId, bool)>>,
    /// The link code on screen, if any.
    pub link: RwSignal<Option<LinkView>>,
    /// The safety number on screen, if any.
    pub safety: RwSignal<Option<SafetyView>>,
    /// The last thing to tell the user.
    pub notice: RwSignal<Option<String>>,
    /// The conversations, most recent first.
    pub chats: RwSignal<Vec<Chat>>,
    /// The open conversation.
    pub open: RwSignal<Option<ChatId>>,
    /// Usernames of group members, for senders and member lists.
    pub names: RwSignal<HashMap<UserId, String>>,
    /// The open conversation's loaded messages, oldest first.
    pub messages: RwSignal<Vec<Message>>,
    /// Whether older messages wait in local history.
    pub has_older: RwSignal<bool>,
    /// Contacts' presence: online, last seen (Unix ms).
    pub presence: RwSignal<HashMap<UserId, (bool, u64)>>,
    /// Contacts typing now, until when (Unix ms).
    pub typing: RwSignal<HashMap<UserId, f64>>,
    /// The panel on screen.
    pub panel: RwSignal<Panel>,
    /// Media uploads under way: progress 0–1 by message.
    pub uploads: RwSignal<HashMap<MessageId, f64>>,
    /// Media downloads and what they gave, by media object.
    pub media: RwSignal<HashMap<MediaId, MediaView>>,
    /// Whether small photos and voice notes download as they arrive (a
    /// setting kept in this browser).
    pub auto_download: RwSignal<bool>,
    /// The call screen is up (the calls module fills it).
    pub call: RwSignal<bool>,
    /// The open chat's shared media, once loaded for its panel.
    pub gallery: RwSignal<Option<SharedMedia>>,
    /// The message to bring into view (loaded back to it), once.
    pub reveal: RwSignal<Option<MessageId>>,
    /// People's profiles as their owners set them (this user's too).
    pub profiles: RwSignal<HashMap<UserId, ProfileView>>,
    /// Photos of people (their profile photo) and groups, as `data:` URLs.
    pub photos: RwSignal<HashMap<ChatId, String>>,
    /// The invite link made for a group, to show its admin.
    pub invite: RwSignal<Option<(ChatId, String)>>,
    /// An invite link opened on this page: its code and the group's name,
    /// waiting for the user to join or not.
    pub joining: RwSignal<Option<(String, String)>>,
}

/// One person's profile as the page shows it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProfileView {
    /// The display name (empty: none, the username is shown).
    pub name: String,
    /// The about line.
    pub about: String,
}

impl Ui {
    /// What the chat list and the header call `chat`: the person's display
    /// name, if they set one, else their username (or the group's name).
    pub fn chat_name(&self, chat: &Chat) -> String {
        chat.chat
            .user()
            .and_then(|user| self.display_name(user))
            .unwrap_or_else(|| chat.name.clone())
    }

    /// `user`'s display name, if they set one.
    pub fn display_name(&self, user: UserId) -> Option<String> {
        self.profiles.with(|p| {
            p.get(&user)
                .filter(|p| !p.name.is_empty())
                .map(|p| p.name.clone())
        })
    }

    /// The photo to show for `chat`, if its person or group has one.
    pub fn chat_photo(&self, chat: ChatId) -> Option<String> {
        self.photos.with(|p| p.get(&chat).cloned())
    }
}

/// Where the auto-download setting is kept (`localStorage`).
const AUTO_DOWNLOAD_KEY: &str = "courier-auto-download";

fn local_storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok()?
}

impl Ui {
    /// Turns downloading small media on arrival on or off, and remembers it.
    pub fn set_auto_download(&self, on: bool) {
        self.auto_download.set(on);
        if let Some(storage) = local_storage() {
            let _ = storage.set_item(AUTO_DOWNLOAD_KEY, if on { "on" } else { "off" });
        }
    }
}

/// A media object as the page can show it.
#[derive(Debug, Clone, PartialEq)]
pub enum MediaView {
    /// Downloading: progress 0–1.
    Loading(f64),
    /// Decrypted: a `blob:` URL of the plaintext.
    Ready(String),
    /// Why it cannot be shown.
    Failed(String),
}

/// What to do to a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// React with this emoji (empty: take the reaction back).
    React(String),
    /// Replace this user's text with this one.
    Edit(String),
    /// Delete this user's message on every device of everyone.
    DeleteForEveryone,
    /// Delete the message on this device only.
    DeleteForMe,
}

/// Something for the worker to do.
#[derive(Debug)]
pub enum Job {
    /// Create an account named so on this device.
    Register(String),
    /// Join the account whose device shows this code.
    Join(String),
    /// Show a link code for a new device.
    ShowLink,
    /// Remove a device from the account.
    Remove(DeviceId),
    /// Show the safety number shared with this user.
    Verify(String),
    /// Mark this user's safety number as compared.
    MarkVerified(String),
    /// Make this user a contact (they see presence and typing) or not.
    SetContact(UserId, bool),
    /// Start (or open) a chat with the user of this name.
    StartChat(String),
    /// Open a conversation (or none).
    Open(Option<ChatId>),
    /// Create a group with this name and these members (usernames
    /// separated by commas or spaces).
    CreateGroup(String, String),
    /// Change the open group.
    Group(GroupAction),
    /// Send this file (a photo is compressed first) to the open chat.
    Attach(web_sys::File),
    /// Send this voice note to the open chat.
    Voice(crate::media::voice::Note),
    /// A media upload ended (for the message, in the chat): sent, or why not.
    Uploaded(MessageId, ChatId, Result<(), String>),
    /// Stop the upload of this message's media.
    CancelUpload(MessageId),
    /// Download and open this media message (of the open chat).
    Fetch(MessageId),
    /// Send this media message (of the open chat) to another chat, without
    /// uploading it again.
    Forward(MessageId, ChatId),
    /// Load older messages of the open conversation.
    Older,
    /// Show the newest this many media messages of the open chat in its
    /// shared-media panel.
    Gallery(usize),
    /// Load the open conversation back to this message and bring it into
    /// view.
    Reveal(MessageId),
    /// Send a text to the open conversation, maybe replying to a message.
    Send(String, Option<MessageId>),
    /// Keep this chat so: pinned, muted, archived, marked unread.
    Organise(ChatId, courier_shared::client::chat::ChatSettings),
    /// Set this chat's disappearing-message timer (seconds, 0: off) for
    /// everyone in it.
    SetTimer(ChatId, u32),
    /// React to, edit or delete this message of the open conversation.
    Change(MessageId, Change),
    /// This user started or stopped typing in the open conversation.
    Typing(bool),
    /// The page became visible or hidden (the worker asks the page which).
    Visible,
    /// Send what the outbox holds that is due (its retry time came).
    Flush,
    /// Download this media message that just arrived, if the setting
    /// allows.
    AutoFetch(Box<Message>),
    /// The connection reported this.
    Event(Event),
    /// The app lock opened: the vault key.
    Unlock(web_sys::CryptoKey),
    /// Work on the vault itself (turning the app lock on or off).
    Vault(VaultJob),
    /// Send this call signal (with this message id) to this person.
    CallSend(
        UserId,
        MessageId,
        Box<courier_shared::crypto::content::Content>,
    ),
    /// Store this call's line (under its id) in the chat with this person.
    CallLine(UserId, MessageId, String),
    /// Make a new invite link for the open group (`true`), or revoke its
    /// link (`false`).
    Invite(bool),
    /// Join the group of the invite link with this code.
    JoinGroup(String),
    /// Set this user's profile: display name, about line, photo.
    SetProfile(
        String,
        String,
        courier_shared::client::messenger::PhotoChange,
    ),
    /// Show what the core knows of this chat's person or group: profile,
    /// photo.
    ShowProfile(ChatId),
    /// The TURN servers and this device's credentials for them: `(urls,
    /// username, credential)` each.
    IceServers(futures_channel::oneshot::Sender<Vec<(Vec<String>, String, String)>>),
}

/// Work that needs the vault to itself: the worker runs it between two
/// jobs, so nothing reads or writes a record meanwhile.
#[allow(clippy::type_complexity)]
pub struct VaultJob(
    pub Box<dyn FnOnce(std::rc::Rc<crate::crypto::vault::Vault>) -> crate::lazy::Work<()> + Send>,
);

impl std::fmt::Debug for VaultJob {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("VaultJob")
    }
}

/// The UI's handle on the device.
#[derive(Clone)]
pub struct Account {
    jobs: mpsc::UnboundedSender<Job>,
    /// What the pages show.
    pub ui: Ui,
}

impl Account {
    /// Starts the worker for this page (it connects once the core has
    /// loaded).
    pub fn start() -> Self {
        let ui = Ui {
            status: RwSignal::new(SocketStatus::default()),
            phase: RwSignal::new(Phase::Starting),
            core: RwSignal::new(false),
            username: RwSignal::new(String::new()),
            me: RwSignal::new(None),
            devices: RwSignal::new(Vec::new()),
            link: RwSignal::new(None),
            safety: RwSignal::new(None),
            notice: RwSignal::new(None),
            chats: RwSignal::new(Vec::new()),
            open: RwSignal::new(None),
            names: RwSignal::new(HashMap::new()),
            messages: RwSignal::new(Vec::new()),
            has_older: RwSignal::new(false),
            presence: RwSignal::new(HashMap::new()),
            typing: RwSignal::new(HashMap::new()),
            panel: RwSignal::new(Panel::Chats),
            uploads: RwSignal::new(HashMap::new()),
            media: RwSignal::new(HashMap::new()),
            auto_download: RwSignal::new(
                local_storage()
                    .and_then(|s| s.get_item(AUTO_DOWNLOAD_KEY).ok().flatten())
                    .is_none_or(|v| v != "off"),
            ),
            call: RwSignal::new(false),
            gallery: RwSignal::new(None),
            reveal: RwSignal::new(None),
            profiles: RwSignal::new(HashMap::new()),
            photos: RwSignal::new(HashMap::new()),
            invite: RwSignal::new(None),
            joining: RwSignal::new(None),
        };
        let (jobs, queue) = mpsc::unbounded();
        leptos::task::spawn_local(worker::run(ui, (jobs.clone(), queue)));
        notify::watch_visibility(jobs.clone());
        // Looking at another panel is not reading the open chat: the worker
        // is told whenever the panel changes, as when the page is hidden.
        let panel = ui.panel;
        let looks = jobs.clone();
        Effect::new(move |_| {
            panel.track();
            let _ = looks.unbounded_send(Job::Visible);
        });
        Self { jobs, ui }
    }

    /// Queues `job` for the worker.
    pub fn run(&self, job: Job) {
        let _ = self.jobs.unbounded_send(job);
    }
}

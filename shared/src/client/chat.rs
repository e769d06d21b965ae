//! Conversations and messages as a device keeps them: [`Message`], [`Chat`]
//! and the [`Index`] of chats saved with them (which holds the outbox).
//! Only devices ever see these: they are stored sealed, never sent.

use super::GroupMarks;
use super::outbox::Outbox;
use crate::crypto::content::Content;
use crate::ids::{GroupId, MessageId, UserId};
use crate::proto::ReceiptKind;
use serde::{Deserialize, Serialize};

/// A conversation: with one person, or a group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum ChatId {
    /// With this user.
    User(UserId),
    /// In this group.
    Group(GroupId),
}

impl ChatId {
    /// A short text naming it, for storage keys and `data-chat`.
    pub fn tag(self) -> String {
        match self {
            Self::User(user) => format!("u{:016x}", user.0),
            Self::Group(group) => format!("g{:016x}", group.0),
        }
    }

    /// The user, for a one-to-one chat.
    pub fn user(self) -> Option<UserId> {
        match self {
            Self::User(user) => Some(user),
            Self::Group(_) => None,
        }
    }

    /// The group, for a group chat.
    pub fn group(self) -> Option<GroupId> {
        match self {
            Self::Group(group) => Some(group),
            Self::User(_) => None,
        }
    }
}

/// How far an outgoing message got: the check marks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Mark {
    /// Written, waiting for the server (offline, or being encrypted).
    Pending,
    /// The server queued it for every device: one grey check.
    Sent,
    /// A device of the recipient received it: two grey checks.
    Delivered,
    /// The recipient read it: two blue checks.
    Read,
    /// The server refused it for good.
    Failed,
}

impl Mark {
    /// The mark's name, for `data-mark` (styles and tests).
    pub fn label(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Sent => "sent",
            Self::Delivered => "delivered",
            Self::Read => "read",
            Self::Failed => "failed",
        }
    }

    /// What the mark says, for screen readers.
    pub fn describe(self) -> &'static str {
        match self {
            Self::Pending => "waiting to send",
            Self::Sent => "sent",
            Self::Delivered => "delivered",
            Self::Read => "read",
            Self::Failed => "not sent",
        }
    }
}

/// One message of a conversation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    /// Its id (a UUIDv7: when it was written is in it).
    pub id: MessageId,
    /// The conversation.
    pub chat: ChatId,
    /// Who wrote it, in a group (`None` in a one-to-one chat).
    pub from: Option<UserId>,
    /// Written by this user (on any of their devices).
    pub outgoing: bool,
    /// A line of its own (a group event, a key change) that `text` says.
    pub system: bool,
    /// What to send when it is not a plain text (a group event, media).
    pub content: Option<Content>,
    /// Each member's progress, for this user's group messages.
    pub marks: Option<GroupMarks>,
    /// The text; `None` if it could not be decrypted.
    pub text: Option<String>,
    /// Why it could not be decrypted or sent.
    pub problem: Option<String>,
    /// The message it replies to, with that message's text.
    pub reply_to: Option<(MessageId, String)>,
    /// The check marks, for outgoing messages.
    pub mark: Mark,
    /// Read by this user (incoming messages).
    pub seen: bool,
    /// Who reacted with what, one emoji per person (an empty emoji: taken
    /// back, kept so that an older reaction arriving late stays undone).
    #[serde(default)]
    pub reactions: Vec<Reaction>,
    /// The edit whose text `text` is, if the sender edited it (the newest
    /// by id wins, whatever order edits arrive in).
    #[serde(default)]
    pub edit: Option<MessageId>,
    /// Deleted for everyone by its sender: no text, no media, a line
    /// saying so.
    #[serde(default)]
    pub deleted: bool,
    /// Deleted for me: kept only so that a redelivery is not shown again.
    #[serde(default)]
    pub hidden: bool,
    /// When it disappears (Unix ms), if the chat's timer was on when it
    /// was written.
    #[serde(default)]
    pub expires_at: Option<u64>,
}

/// The media messages of one chat (photos, videos, voice notes, files),
/// for its shared-media list: kept as a record of its own, apart from the
/// chat index, so that a chat with thousands of photos costs the index
/// nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Gallery {
    /// Their ids, oldest first (some may since have been deleted).
    pub ids: Vec<MessageId>,
    /// The history stored before galleries were kept was looked through.
    pub scanned: bool,
}

/// One person's reaction to a message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reaction {
    /// Who reacted.
    pub user: UserId,
    /// With what.
    pub emoji: String,
    /// The reaction message's id: a newer one from the same person wins.
    pub id: MessageId,
}

/// What a message deleted for everyone shows.
pub const DELETED_TEXT: &str = "This message was deleted";

/// Whether `text` mentions `username` (`@ana`, in any case, not as part of
/// a longer name such as `@anabel` or `@ana.b`; a full stop after it ends
/// the sentence): a group message that does notifies even when the chat is
/// muted.
pub fn mentions(text: &str, username: &str) -> bool {
    // Usernames are ASCII: ASCII case folding suffices (and keeps Unicode's
    // case tables out of the web client's core module).
    let name = username.to_ascii_lowercase();
    let text = text.to_ascii_lowercase();
    let name_char = |c: char| c.is_ascii_alphanumeric() || c == '_';
    text.match_indices('@').any(|(at, _)| {
        let Some(after) = text[at + 1..].strip_prefix(name.as_str()) else {
            return false;
        };
        let mut next = after.chars();
        let longer = match next.next() {
            Some('.') => next.next().is_some_and(name_char),
            Some(c) => name_char(c),
            None => false,
        };
        !longer
    })
}

impl Message {
    /// When it was written (Unix ms).
    pub fn sent_at(&self) -> u64 {
        self.id.unix_ms()
    }

    /// A message of this user's to `chat`, not yet sent.
    pub fn outgoing(id: MessageId, chat: ChatId, text: String) -> Self {
        Self {
            id,
            chat,
            from: None,
            outgoing: true,
            system: false,
            content: None,
            marks: None,
            text: Some(text),
            problem: None,
            reply_to: None,
            mark: Mark::Pending,
            seen: true,
            reactions: Vec::new(),
            edit: None,
            deleted: false,
            hidden: false,
            expires_at: None,
        }
    }

    /// A message that arrived in `chat` (from `from`, in a group).
    pub fn incoming(
        id: MessageId,
        chat: ChatId,
        from: Option<UserId>,
        text: Option<String>,
    ) -> Self {
        Self {
            id,
            chat,
            from,
            outgoing: false,
            system: false,
            content: None,
            marks: None,
            text,
            problem: None,
            reply_to: None,
            mark: Mark::Sent,
            seen: false,
            reactions: Vec::new(),
            edit: None,
            deleted: false,
            hidden: false,
            expires_at: None,
        }
    }

    /// A line of its own in `chat` (a group event, a key change), already
    /// seen.
    pub fn line(id: MessageId, chat: ChatId, from: Option<UserId>, text: String) -> Self {
        Self {
            system: true,
            seen: true,
            ..Self::incoming(id, chat, from, Some(text))
        }
    }

    /// Whom a receipt for this message goes to: its sender.
    pub fn sender(&self) -> Option<UserId> {
        match self.chat {
            ChatId::User(user) => Some(user),
            ChatId::Group(_) => self.from,
        }
    }
}

/// A conversation in the chat list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Chat {
    /// The conversation.
    pub chat: ChatId,
    /// The other person's username, or the group's name.
    pub name: String,
    /// A group's members and whether each is an admin (empty once this
    /// user left it, and for one-to-one chats).
    pub members: Vec<(UserId, bool)>,
    /// The last message's text.
    pub preview: String,
    /// The last message's time (Unix ms).
    pub time: u64,
    /// Messages not yet read.
    pub unread: u32,
    /// One to one: the other person is a contact, so they see this user's
    /// presence and typing (on unless the user removed them).
    #[serde(default = "is_contact")]
    pub contact: bool,
    /// The unread messages, to tell their senders once read.
    #[serde(default)]
    pub unread_ids: Vec<MessageId>,
    /// How this user keeps the chat: pinned, muted, archived, marked
    /// unread (the same on each of their devices).
    #[serde(default)]
    pub settings: ChatSettings,
    /// The change that set `settings` (the newest wins).
    #[serde(default)]
    pub settings_change: Option<MessageId>,
    /// The disappearing-message timer (seconds, 0: off), the same for
    /// everyone in the chat.
    #[serde(default)]
    pub timer: Timer,
    /// A group's description, as its newest setting left it.
    #[serde(default)]
    pub description: Description,
    /// The change of this user's profile key last told to the chat (see
    /// [`KnownProfile::told_by`]); told again when it is not the newest.
    #[serde(default)]
    pub profile_told: Option<MessageId>,
    /// A group's photo: the change that set it (the newest wins) and
    /// whether there is one (the store keeps the bytes).
    #[serde(default)]
    pub photo: (Option<MessageId>, bool),
}

/// What this device knows of one person's profile (this user's own
/// included): the key they told, and what it opened.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct KnownProfile {
    /// Whose.
    pub user: UserId,
    /// The key of their profile (32 bytes), as their newest tell said.
    pub key: Vec<u8>,
    /// The message that told it: a newer tell replaces it.
    pub told_by: Option<MessageId>,
    /// Their display name (empty: none).
    pub name: String,
    /// Their about line.
    pub about: String,
    /// Their photo is saved (the store keeps the bytes).
    pub photo: bool,
    /// The profile sealed under `key` was fetched (or will never open).
    pub fetched: bool,
}

/// A group's description and the change that set it (the newest wins).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Description {
    /// What it says (empty: none).
    pub text: String,
    /// The change that set it.
    pub set_by: Option<MessageId>,
}

/// A chat's disappearing-message timer, as its newest setting left it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Timer {
    /// How long messages stay, in seconds (0: for good).
    pub seconds: u32,
    /// The change that set it: messages written after it follow it.
    pub set_by: Option<MessageId>,
    /// The timer before that change, for messages written before it that
    /// arrive after it.
    pub before: u32,
}

impl Timer {
    /// When message `id` disappears under this timer, if it does.
    pub fn expiry(&self, id: &MessageId) -> Option<u64> {
        let seconds = match self.set_by {
            Some(change) if *id < change => self.before,
            _ => self.seconds,
        };
        (seconds > 0).then(|| id.unix_ms() + u64::from(seconds) * 1000)
    }
}

/// How a user keeps one chat.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ChatSettings {
    /// At the top of the list (at most [`MAX_PINNED`] chats).
    pub pinned: bool,
    /// No notifications until then (Unix ms; [`MUTED_ALWAYS`]: for good).
    pub muted_until: u64,
    /// Out of the main list, under "Archived".
    pub archived: bool,
    /// Shown as unread until opened.
    pub marked_unread: bool,
}

/// Most chats pinned at once.
pub const MAX_PINNED: usize = 3;
/// A chat muted for good.
pub const MUTED_ALWAYS: u64 = u64::MAX;

impl ChatSettings {
    /// Whether the chat is muted at `now_ms`.
    pub fn muted(&self, now_ms: u64) -> bool {
        self.muted_until > now_ms
    }
}

/// Everyone a one-to-one chat is started with is a contact at first.
fn is_contact() -> bool {
    true
}

impl Chat {
    /// A new, empty chat.
    pub fn new(chat: ChatId, name: &str) -> Self {
        Self {
            chat,
            name: name.to_owned(),
            members: Vec::new(),
            preview: String::new(),
            time: 0,
            unread: 0,
            contact: is_contact(),
            unread_ids: Vec::new(),
            settings: ChatSettings::default(),
            settings_change: None,
            timer: Timer::default(),
            description: Description::default(),
            profile_told: None,
            photo: (None, false),
        }
    }

    /// The members' user ids.
    pub fn member_ids(&self) -> Vec<UserId> {
        self.members.iter().map(|(user, _)| *user).collect()
    }
}

/// Most message ids remembered for matching receipts to conversations.
pub const RECENT: usize = 2_000;

/// A durable send waiting in the outbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Outgoing {
    /// A message of this chat (encrypted anew for each attempt).
    Message(ChatId),
    /// A reaction, an edit, a delete or a timer of this user's in this
    /// chat: the content goes as it is (stored as a line at most).
    Change {
        /// The chat it belongs to.
        chat: ChatId,
        /// What it says.
        content: Box<Content>,
    },
    /// A receipt to `to` for `ids`.
    Receipt {
        /// The messages' sender.
        to: UserId,
        /// Delivered or read.
        kind: ReceiptKind,
        /// The messages.
        ids: Vec<MessageId>,
    },
}

/// What is saved besides the messages themselves.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Index {
    /// The conversations, most recent first.
    pub chats: Vec<Chat>,
    /// Recent message ids and their conversation, newest last.
    pub recent: Vec<(MessageId, ChatId)>,
    /// The outbox of an earlier build (pending messages by chat), taken
    /// into [`Index::outbox`] on load.
    #[serde(default, skip_serializing)]
    pub pending: Vec<(MessageId, ChatId)>,
    /// Usernames of the people in groups with this user.
    pub names: Vec<(UserId, String)>,
    /// Every durable send not yet accepted by the server.
    #[serde(default)]
    pub outbox: Outbox<Outgoing>,
    /// The messages that disappear, with when (Unix ms).
    #[serde(default)]
    pub expiring: Vec<(u64, MessageId, ChatId)>,
    /// The profiles of the people this user chats with, and their own.
    #[serde(default)]
    pub profiles: Vec<KnownProfile>,
}

impl Index {
    /// Takes in what an earlier build saved differently.
    pub fn upgrade(&mut self) {
        for (id, chat) in std::mem::take(&mut self.pending) {
            self.outbox.push(id, Outgoing::Message(chat));
        }
    }

    /// The conversation `id` belongs to, if recent.
    pub fn chat_of(&self, id: &MessageId) -> Option<ChatId> {
        self.recent
            .iter()
            .rev()
            .find(|(m, _)| m == id)
            .map(|(_, p)| *p)
    }

    /// Remembers that `id` belongs to `chat`.
    pub fn remember(&mut self, id: MessageId, chat: ChatId) {
        self.recent.push((id, chat));
        if self.recent.len() > RECENT {
            let extra = self.recent.len() - RECENT;
            self.recent.drain(..extra);
        }
    }

    /// The chat `id`, made if new, moved to the top.
    pub fn chat(&mut self, id: ChatId, name: &str) -> &mut Chat {
        let chat = match self.chats.iter().position(|c| c.chat == id) {
            Some(index) => self.chats.remove(index),
            None => Chat::new(id, name),
        };
        self.chats.insert(0, chat);
        &mut self.chats[0]
    }

    /// The chat `id`, if there is one.
    pub fn get(&self, id: ChatId) -> Option<&Chat> {
        self.chats.iter().find(|c| c.chat == id)
    }

    /// The chat `id` to change, if there is one.
    pub fn find(&mut self, id: ChatId) -> Option<&mut Chat> {
        self.chats.iter_mut().find(|c| c.chat == id)
    }

    /// The name of `user`, if known.
    pub fn name(&self, user: UserId) -> Option<&str> {
        self.names
            .iter()
            .find(|(u, _)| *u == user)
            .map(|(_, name)| name.as_str())
    }

    /// Remembers `user`'s name; `true` if it was new.
    pub fn learn_name(&mut self, user: UserId, name: &str) -> bool {
        if self.name(user).is_some() {
            return false;
        }
        self.names.push((user, name.to_owned()));
        true
    }

    /// Every message not yet accepted, with its chat.
    pub fn pending_messages(&self) -> Vec<(MessageId, ChatId)> {
        self.outbox
            .entries()
            .filter_map(|(id, item)| match item {
                Outgoing::Message(chat) => Some((*id, *chat)),
                Outgoing::Receipt { .. } | Outgoing::Change { .. } => None,
            })
            .collect()
    }
}

#[cfg(test)]
mod mention_tests {
    use super::mentions;

    #[test]
    fn a_mention_is_the_whole_name_after_an_at_sign_in_any_case() {
        assert!(mentions("@ben dinner?", "ben"));
        assert!(mentions("dinner, @Ben?", "ben"));
        assert!(mentions("ask @ben.", "ben"));
        assert!(!mentions("ben, dinner?", "ben"), "no @");
        assert!(!mentions("@benny dinner?", "ben"), "a longer name");
        assert!(
            !mentions("mail ben@example.org", "example"),
            "not after the @ of an address"
        );
    }
}

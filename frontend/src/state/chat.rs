//! Conversations and messages as the device keeps them: [`Message`],
//! [`Chat`] and the [`Index`] of chats saved with them.

use courier_shared::ids::{MessageId, UserId};
use serde::{Deserialize, Serialize};

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
    /// The other person of the conversation.
    pub peer: UserId,
    /// Written by this user (on any of their devices).
    pub outgoing: bool,
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
}

impl Message {
    /// When it was written (Unix ms).
    pub fn sent_at(&self) -> u64 {
        self.id.unix_ms()
    }
}

/// A conversation in the chat list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Chat {
    /// The other person.
    pub peer: UserId,
    /// Their username.
    pub name: String,
    /// The last message's text.
    pub preview: String,
    /// The last message's time (Unix ms).
    pub time: u64,
    /// Messages not yet read.
    pub unread: u32,
}

/// Most message ids remembered for matching receipts to conversations.
pub const RECENT: usize = 2_000;

/// What is saved besides the messages themselves.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Index {
    /// The conversations, most recent first.
    pub chats: Vec<Chat>,
    /// Recent message ids and their conversation, newest last.
    pub recent: Vec<(MessageId, UserId)>,
    /// Outgoing messages not yet accepted by the server (the outbox).
    pub pending: Vec<(MessageId, UserId)>,
}

impl Index {
    /// The conversation `id` belongs to, if recent.
    pub fn peer_of(&self, id: &MessageId) -> Option<UserId> {
        self.recent
            .iter()
            .rev()
            .find(|(m, _)| m == id)
            .map(|(_, p)| *p)
    }

    /// Remembers that `id` belongs to `peer`.
    pub fn remember(&mut self, id: MessageId, peer: UserId) {
        self.recent.push((id, peer));
        if self.recent.len() > RECENT {
            let extra = self.recent.len() - RECENT;
            self.recent.drain(..extra);
        }
    }

    /// The chat with `peer`, made if new, moved to the top.
    pub fn chat(&mut self, peer: UserId, name: &str) -> &mut Chat {
        let chat = match self.chats.iter().position(|c| c.peer == peer) {
            Some(index) => self.chats.remove(index),
            None => Chat {
                peer,
                name: name.to_owned(),
                preview: String::new(),
                time: 0,
                unread: 0,
            },
        };
        self.chats.insert(0, chat);
        &mut self.chats[0]
    }
}

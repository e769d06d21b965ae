//! People: looking users up, starting a chat, contacts (who sees this
//! user's presence and typing), names, and following presence.

use super::{Effect, Messenger, MessengerError, Result, Store};
use crate::client::api::{Api, Server};
use crate::client::chat::ChatId;
use crate::crypto::content::Content;
use crate::ids::{RequestId, UserId, Username};
use crate::proto::{ClientFrame, ServerFrame};
use crate::time::Env;

impl<S: Server, St: Store, E: Env> Messenger<S, St, E> {
    /// The id of the user named `name` (trimmed and validated), and the name.
    pub async fn lookup(&mut self, name: &str) -> Result<(UserId, Username)> {
        let username =
            Username::parse(name.trim()).map_err(|err| MessengerError::invalid(err.to_string()))?;
        let info = self.server.lookup_user(username).await?;
        Ok((info.user, info.username))
    }

    /// `user`'s username, from the server.
    pub(super) async fn name_of(&mut self, user: UserId) -> Result<String> {
        let info = self.server.lookup_user_id(user).await?;
        Ok(info.username.as_str().to_owned())
    }

    /// Starts (or opens) a chat with the user named `name`.
    pub async fn start_chat(&mut self, name: &str) -> Result<ChatId> {
        let (user, username) = self.lookup(name).await?;
        if self.my_user() == Some(user) {
            return Err(MessengerError::invalid(
                "That is you. Pick someone else to chat with.",
            ));
        }
        self.befriend(user).await?;
        let chat = ChatId::User(user);
        self.index.chat(chat, username.as_str());
        self.save_index().await?;
        Ok(chat)
    }

    /// Lets `peer` see this user's presence and typing, and follows theirs.
    pub(super) async fn befriend(&mut self, peer: UserId) -> Result<()> {
        self.server.set_contact(peer, true).await?;
        self.follow(vec![peer]).await;
        Ok(())
    }

    /// Adds `peer` to this user's contacts or removes them: a contact sees
    /// this user's presence and typing. Recorded once the server confirms.
    pub async fn set_contact(&mut self, peer: UserId, contact: bool) -> Result<()> {
        self.server.set_contact(peer, contact).await?;
        let was = self.index.find(ChatId::User(peer)).map(|chat| {
            let was = chat.contact;
            chat.contact = contact;
            was
        });
        self.save_index().await?;
        // Before any new profile key: another device of this user must
        // not tell it to someone this one removed.
        let id = self.env.message_id();
        let told = Content::Contact {
            user: peer,
            contact,
        };
        self.tell_my_devices(id, told).await?;
        if was == Some(true) && !contact {
            // What they saw of this user's profile is all they ever see.
            self.rotate_profile_key().await?;
        }
        Ok(())
    }

    /// Another device of this user made `peer` a contact or stopped.
    pub(super) async fn on_contact(&mut self, peer: UserId, contact: bool) -> Result<()> {
        if let Some(chat) = self.index.find(ChatId::User(peer)) {
            chat.contact = contact;
            self.show(Effect::Chats);
        }
        self.save_index().await
    }

    /// Follows the presence of everyone this user chats with one to one.
    /// The server forgets a connection's subscriptions when it closes, so
    /// this runs after every sign-in.
    pub(super) async fn subscribe_presence(&mut self) {
        let peers: Vec<UserId> = self
            .index
            .chats
            .iter()
            .filter_map(|c| c.chat.user())
            .collect();
        if !peers.is_empty() {
            self.follow(peers).await;
        }
    }

    /// Asks for `users`' presence; the answer (a `PresenceList`) arrives as
    /// an event, handled by [`Messenger::on_presence_list`].
    async fn follow(&mut self, users: Vec<UserId>) {
        for chunk in users.chunks(crate::proto::MAX_SUBSCRIBE) {
            self.server
                .post(ClientFrame::Subscribe {
                    request: RequestId::NONE,
                    users: chunk.to_vec(),
                })
                .await;
        }
    }

    /// The answer to a request no send waits for: a presence list, shown.
    pub(super) fn on_presence_list(&mut self, answer: &ServerFrame) {
        if let ServerFrame::PresenceList { users, .. } = answer {
            for (user, online, last_seen) in users {
                self.show(Effect::Presence {
                    user: *user,
                    online: *online,
                    last_seen: *last_seen,
                });
            }
        }
    }

    /// Tells the open one-to-one chat's contact that this user is typing
    /// (or stopped).
    pub async fn typing(&mut self, typing: bool) {
        if let Some(ChatId::User(to)) = self.open {
            self.server.notify(ClientFrame::Typing { to, typing }).await;
        }
    }

    /// Remembers `user`'s name, for senders and member lists.
    pub(super) fn learn_name(&mut self, user: UserId, name: &str) {
        if self.index.learn_name(user, name) {
            self.show(Effect::Names);
        }
    }
}

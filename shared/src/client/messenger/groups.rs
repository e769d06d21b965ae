//! Groups: create them, rename them and change their members (each change told to the
//! group as an encrypted event), send with sender keys (this device's key
//! shared with the member devices lacking it, then the message encrypted
//! once), and take in group messages, events and keys. The server's word on
//! membership counts; an event only says who did what.

use super::{Effect, Messenger, MessengerError, Result, Store};
use crate::client::api::{Api, Server};
use crate::client::chat::{ChatId, Message};
use crate::crypto::content::{Content, GroupEventKind, GroupName, Plaintext};
use crate::crypto::group::GroupPlaintext;
use crate::crypto::{flow, group_flow};
use crate::ids::{DeviceId, GroupId, MessageId, RequestId, UserId};
use crate::proto::{ClientFrame, ErrorCode, Text, device_set_digest};
use crate::time::Env;

/// Attempts at sharing the sender key while the server says the members or
/// their devices changed.
const SHARE_ATTEMPTS: usize = 3;

/// A change to a group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GroupAction {
    /// Add the user of this name (admins).
    Add(String),
    /// Remove this member (admins).
    Remove(UserId),
    /// Make this member an admin, or not (admins).
    Admin(UserId, bool),
    /// Leave the group.
    Leave,
    /// Give the group this name (any member, as WhatsApp allows by
    /// default); every member's chat shows it, with a line saying so.
    Rename(String),
    /// Give the group this description (any member; empty: none).
    Describe(String),
    /// Give the group this photo, a JPEG (any member; empty: none).
    Photo(Vec<u8>),
}

impl<S: Server, St: Store, E: Env> Messenger<S, St, E> {
    /// Creates a group named `name` with the users named in `members`
    /// (separated by commas or spaces) and tells them; the new chat.
    pub async fn create_group(&mut self, name: &str, members: &str) -> Result<ChatId> {
        let name = name.trim();
        if name.is_empty() {
            return Err(MessengerError::invalid("Give the group a name."));
        }
        let mut users = Vec::new();
        for username in members
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|s| !s.is_empty())
        {
            let (user, username) = self.lookup(username).await?;
            self.learn_name(user, username.as_str());
            users.push(user);
        }
        self.create_group_of(name, users).await
    }

    /// Creates a group named `name` with `users` and tells them; the new
    /// chat.
    pub async fn create_group_of(&mut self, name: &str, users: Vec<UserId>) -> Result<ChatId> {
        let answer = self.server.create_group(users).await?;
        let chat = ChatId::Group(answer.group);
        let everyone: Vec<UserId> = answer.members.iter().map(|(user, _)| *user).collect();
        self.index.chat(chat, name).members = answer.members;
        self.save_index().await?;
        self.announce(chat, GroupEventKind::Created, everyone)
            .await?;
        Ok(chat)
    }

    /// Carries out `action` on group `group`.
    pub async fn change_group(&mut self, group: GroupId, action: GroupAction) -> Result<()> {
        let chat = ChatId::Group(group);
        let me = self
            .my_user()
            .ok_or_else(|| MessengerError::invalid("not signed in"))?;
        let request = RequestId::NONE;
        let (frame, kind, users) = match action {
            GroupAction::Add(name) => {
                let (user, username) = self.lookup(&name).await?;
                self.learn_name(user, username.as_str());
                let users = vec![user];
                let frame = ClientFrame::AddMembers {
                    request,
                    group,
                    users: users.clone(),
                };
                (frame, GroupEventKind::Added, users)
            }
            GroupAction::Remove(user) => (
                ClientFrame::RemoveMember {
                    request,
                    group,
                    user,
                },
                GroupEventKind::Removed,
                vec![user],
            ),
            GroupAction::Admin(user, admin) => {
                let kind = if admin {
                    GroupEventKind::MadeAdmin
                } else {
                    GroupEventKind::DismissedAdmin
                };
                let frame = ClientFrame::SetAdmin {
                    request,
                    group,
                    user,
                    admin,
                };
                (frame, kind, vec![user])
            }
            GroupAction::Rename(name) => return self.rename_group(chat, &name).await,
            GroupAction::Describe(text) => return self.describe_group(chat, &text).await,
            GroupAction::Photo(photo) => return self.set_group_photo(chat, photo).await,
            GroupAction::Leave => {
                // Told while still a member, so the others can read it.
                self.announce(chat, GroupEventKind::Left, vec![me]).await?;
                let frame = ClientFrame::RemoveMember {
                    request,
                    group,
                    user: me,
                };
                self.server.group_request(frame).await?;
                self.crypto_state()?.groups().forget(group);
                self.save_account().await?;
                if let Some(entry) = self.index.find(chat) {
                    entry.members.clear();
                }
                return self.save_index().await;
            }
        };
        let answer = self.server.group_request(frame).await?;
        if let Some(entry) = self.index.find(chat) {
            entry.members = answer.members;
        }
        self.save_index().await?;
        if kind == GroupEventKind::Removed {
            for user in &users {
                self.tell_removed(*user, group).await?;
            }
        }
        self.announce(chat, kind, users).await
    }

    /// Renames group `chat` to `name` here and tells the members (the
    /// server never learns group names).
    async fn rename_group(&mut self, chat: ChatId, name: &str) -> Result<()> {
        let name = name.trim();
        if name.is_empty() {
            return Err(MessengerError::invalid("Give the group a name."));
        }
        let name = GroupName::truncating(name);
        let Some(entry) = self.index.find(chat) else {
            return Err(MessengerError::invalid("There is no such group."));
        };
        entry.name = name.as_str().to_owned();
        self.show(Effect::Chats);
        // The line's queueing saves the index, with the new name.
        self.announce(chat, GroupEventKind::Renamed, Vec::new())
            .await
    }

    /// Tells `user` (pairwise, kept in no chat) that they were removed from
    /// `group`; their client checks with the server. If it cannot be sent
    /// now, they learn it when their next group send is refused.
    async fn tell_removed(&mut self, user: UserId, group: GroupId) -> Result<()> {
        let id = self.env.message_id();
        let plain = Plaintext {
            id,
            to: user,
            content: Content::Removed { group },
        };
        let now = self.env.now_ms();
        let (crypto, mut directory) = self.crypto_parts()?;
        if let Ok(to) = flow::encrypt_for(crypto, &mut directory, &plain, now).await {
            let frame = ClientFrame::Send {
                request: RequestId::NONE,
                id,
                to,
            };
            self.server.post(frame).await;
        }
        self.save_account().await
    }

    /// Someone says this user was removed from `group`: if the server
    /// agrees, the chat says so and stops offering to write.
    pub(super) async fn on_removed(&mut self, id: MessageId, group: GroupId) -> Result<()> {
        let chat = ChatId::Group(group);
        if self.index.get(chat).is_none() {
            return Ok(());
        }
        match self.server.fetch_group(group).await {
            // Only the server's "no such group" counts (not a lost answer).
            Err(refusal) if refusal.code == ErrorCode::NotFound => {}
            _ => return Ok(()),
        }
        if let Some(entry) = self.index.find(chat) {
            entry.members.clear();
        }
        self.save_index().await?;
        let line = Message::line(id, chat, None, "You were removed from the group".into());
        self.arrived(line).await
    }

    /// Tells the group about a change this user made, as a line of its own.
    pub(super) async fn announce(
        &mut self,
        chat: ChatId,
        kind: GroupEventKind,
        users: Vec<UserId>,
    ) -> Result<()> {
        let name = self
            .index
            .get(chat)
            .map(|c| c.name.clone())
            .unwrap_or_default();
        let line = self.describe(None, kind, &users, &name);
        let mut message = self.outgoing(chat, line);
        message.system = true;
        message.content = Some(Content::GroupEvent {
            kind,
            users,
            name: Text::truncating(&name),
        });
        self.queue(message).await
    }

    /// The line shown for a group event by `actor` (`None`: this user).
    fn describe(
        &self,
        actor: Option<UserId>,
        kind: GroupEventKind,
        users: &[UserId],
        name: &str,
    ) -> String {
        let who = |user: UserId| {
            if Some(user) == self.my_user() {
                "you".to_owned()
            } else {
                self.index
                    .name(user)
                    .map_or_else(|| format!("user {}", user.0), str::to_owned)
            }
        };
        let actor = actor.map_or_else(|| "You".to_owned(), who);
        let users = users.iter().map(|u| who(*u)).collect::<Vec<_>>().join(", ");
        match kind {
            GroupEventKind::Created => format!("{actor} created the group \u{201c}{name}\u{201d}"),
            GroupEventKind::Added => format!("{actor} added {users}"),
            GroupEventKind::Removed => format!("{actor} removed {users}"),
            GroupEventKind::Left => format!("{actor} left"),
            GroupEventKind::MadeAdmin => format!("{actor} made {users} an admin"),
            GroupEventKind::DismissedAdmin => format!("{actor} dismissed {users} as admin"),
            GroupEventKind::Renamed => format!("{actor} renamed the group \u{201c}{name}\u{201d}"),
            GroupEventKind::Joined => format!("{actor} joined through the invite link"),
        }
    }

    /// Fetches the group's members (and the names of new ones) and every
    /// member's device list again.
    pub async fn refresh_group(&mut self, group: GroupId) -> Result<()> {
        let chat = ChatId::Group(group);
        let members = match self.server.fetch_group(group).await {
            Ok(answer) => answer.members,
            Err(err) => {
                if let Some(entry) = self.index.find(chat) {
                    entry.members.clear();
                }
                self.save_index().await?;
                return Err(MessengerError::invalid(format!(
                    "You are no longer in this group ({err})."
                )));
            }
        };
        for (user, _) in &members {
            if self.index.name(*user).is_none()
                && let Ok(name) = self.name_of(*user).await
            {
                self.learn_name(*user, &name);
            }
        }
        let users: Vec<UserId> = members.iter().map(|(user, _)| *user).collect();
        if let Some(entry) = self.index.find(chat) {
            entry.members = members;
        }
        self.save_index().await?;
        let (crypto, mut directory) = self.crypto_parts()?;
        for user in users {
            flow::refresh(crypto, &mut directory, user).await?;
        }
        self.save_account().await
    }

    /// Sends group message `id`: this device's sender key to the member
    /// devices lacking it, then the message, encrypted once; the request
    /// the message went as.
    pub(super) async fn transmit_group(
        &mut self,
        id: MessageId,
        group: GroupId,
        content: Content,
    ) -> Result<RequestId> {
        for _ in 0..SHARE_ATTEMPTS {
            let Some(devices) = self.share_key(group).await? else {
                self.stale_retries += 1;
                self.refresh_group(group).await?;
                continue;
            };
            let payload = group_flow::encrypt_group(self.crypto_state()?, group, id, content)?;
            self.save_account().await?;
            let frame = ClientFrame::SendGroup {
                request: RequestId::NONE,
                id,
                group,
                devices: device_set_digest(&devices),
                payload,
            };
            return Ok(self.server.post(frame).await);
        }
        Err(MessengerError::invalid(
            "The group's members keep changing; try again.",
        ))
    }

    /// Hands this device's sender key to every member device that lacks
    /// it; the member devices, or `None` if the server says they changed.
    async fn share_key(&mut self, group: GroupId) -> Result<Option<Vec<DeviceId>>> {
        let me = self.my_user();
        let chat = self
            .index
            .get(ChatId::Group(group))
            .ok_or_else(|| MessengerError::invalid("no such group"))?;
        let members = chat.member_ids();
        if !members.iter().any(|user| Some(*user) == me) {
            return Err(MessengerError::invalid(
                "You are not a member of this group.",
            ));
        }
        let name = Text::truncating(&chat.name);
        let now = self.env.now_ms();
        // One id per batch of shares; there is at most a batch per member.
        let mut ids: Vec<MessageId> = (0..=members.len()).map(|_| self.env.message_id()).collect();
        let (crypto, mut directory) = self.crypto_parts()?;
        let plan = group_flow::prepare_group_send(
            crypto,
            &mut directory,
            group,
            &name,
            &members,
            now,
            || ids.pop().unwrap_or_else(|| MessageId::v7(now, [7; 10])),
        )
        .await?;
        self.save_account().await?;
        for batch in plan.shares {
            let devices = batch.devices();
            let frame = ClientFrame::Send {
                request: RequestId::NONE,
                id: batch.id,
                to: batch.to,
            };
            match self.server.deliver(frame).await {
                Ok(()) => self.crypto_state()?.groups().shared(group, &devices),
                Err(refusal) if refusal.code == ErrorCode::StaleDevices => return Ok(None),
                Err(refusal) => return Err(refusal.into()),
            }
        }
        self.save_account().await?;
        Ok(Some(plan.devices))
    }

    /// A member's sender key arrived: a group new to this device shows up
    /// in the chat list with its members, if the server says both this
    /// user and the sender belong to it (a key from anyone else shows
    /// nothing: a stranger cannot put a group into the chat list).
    pub(super) async fn on_group_key(
        &mut self,
        group: GroupId,
        from: UserId,
        name: &str,
    ) -> Result<()> {
        let chat = ChatId::Group(group);
        if self.index.get(chat).is_some() {
            return Ok(());
        }
        let Ok(answer) = self.server.fetch_group(group).await else {
            return Ok(());
        };
        if !answer.members.iter().any(|(user, _)| *user == from) {
            return Ok(());
        }
        self.index.chat(chat, name);
        self.refresh_group(group).await
    }

    /// Whether `user` belongs to group `chat`: by the members this device
    /// knows, or else by the server's word, asked again (a member added
    /// since the last look).
    pub(super) async fn is_member(&mut self, chat: ChatId, user: UserId) -> bool {
        let listed = |this: &Self| this.members(chat).iter().any(|(u, _)| *u == user);
        if listed(self) {
            return true;
        }
        match chat.group() {
            Some(group) if self.index.get(chat).is_some() => {
                self.refresh_group(group).await.is_ok() && listed(self)
            }
            _ => false,
        }
    }

    /// A group message arrived: a text, media, or a change told as a line.
    pub(super) async fn on_group_message(
        &mut self,
        id: MessageId,
        from: UserId,
        plain: GroupPlaintext,
    ) -> Result<()> {
        let chat = ChatId::Group(plain.group);
        if !self.is_member(chat, from).await {
            // Not from a member: neither shown nor acted on (a forged
            // rename or a stranger's text), only acknowledged.
            return Ok(());
        }
        let outgoing = self.my_user() == Some(from);
        let mut message = match plain.content {
            Content::Text { text, reply_to } => {
                let mut message =
                    Message::incoming(id, chat, Some(from), Some(text.as_str().into()));
                message.reply_to = self.quote(chat, reply_to).await.ok().flatten();
                message
            }
            Content::GroupEvent { kind, users, name } => {
                // The server's word on membership, whatever the event says.
                let _ = self.refresh_group(plain.group).await;
                if let Some(entry) = self.index.find(chat) {
                    if matches!(kind, GroupEventKind::Created | GroupEventKind::Renamed) {
                        entry.name = name.as_str().to_owned();
                    }
                    if kind == GroupEventKind::Added {
                        // The new members learn this user's profile key
                        // with the next message to the group.
                        entry.profile_told = None;
                    }
                }
                let line = self.describe(Some(from), kind, &users, name.as_str());
                let mut message = Message::line(id, chat, Some(from), line);
                // What happened, for whoever reads the line's details.
                message.content = Some(Content::GroupEvent { kind, users, name });
                message
            }
            content @ Content::Media { .. } => {
                let mut message = Message::incoming(id, chat, Some(from), None);
                message.outgoing = outgoing;
                message.seen = outgoing;
                message.marks = outgoing.then(|| self.group_marks(chat)).flatten();
                return self.media_arrived(message, content).await;
            }
            change @ (Content::Reaction { .. }
            | Content::Edit { .. }
            | Content::Delete { .. }
            | Content::Timer { .. }
            | Content::Description { .. }
            | Content::GroupPhoto { .. }
            | Content::ProfileKey { .. }) => {
                return self.apply_change(chat, from, id, change).await;
            }
            _ => return Ok(()),
        };
        if outgoing {
            // A copy of what this user sent from another device.
            message.outgoing = true;
            message.seen = true;
            message.marks = self.group_marks(chat);
        }
        self.arrived(message).await
    }

    /// The members of group `chat`, each with whether they are an admin.
    pub fn members(&self, chat: ChatId) -> Vec<(UserId, bool)> {
        self.index
            .get(chat)
            .map(|c| c.members.clone())
            .unwrap_or_default()
    }
}

//! The worker's group half: create groups and change their members (each
//! change told to the group as an encrypted event), send with sender keys,
//! and take in group messages, events and keys.

use super::GroupAction;
use super::chat::ChatId;
use super::worker::{Device, message_id, now_ms, text};
use crate::crypto::history;
use courier_shared::client::Api;
use courier_shared::crypto::content::{Content, GroupEventKind, Plaintext};
use courier_shared::crypto::group::GroupPlaintext;
use courier_shared::crypto::{flow, group_flow};
use courier_shared::ids::{DeviceId, GroupId, MessageId, RequestId, UserId};
use courier_shared::proto::{ClientFrame, ErrorCode, Text, device_set_digest};
use leptos::prelude::*;

/// Attempts at a group send while the server says the members or their
/// devices changed.
const STALE_ATTEMPTS: usize = 3;

impl Device {
    /// Creates a group named `name` with the users named in `members`
    /// (separated by commas or spaces), opens it and tells the members.
    pub(super) async fn create_group(&mut self, name: &str, members: &str) -> Result<(), String> {
        let name = name.trim();
        if name.is_empty() {
            return Err("Give the group a name.".into());
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
        let frame = ClientFrame::CreateGroup {
            request: RequestId::NONE,
            members: users,
        };
        let (group, members) = self.group_request(frame).await?;
        let chat = ChatId::Group(group);
        let everyone: Vec<UserId> = members.iter().map(|(user, _)| *user).collect();
        self.index.chat(chat, name).members = members;
        self.save_index().await?;
        self.open_chat(Some(chat)).await?;
        self.announce(chat, GroupEventKind::Created, everyone).await
    }

    /// Carries out `action` on the open group.
    pub(super) async fn group_action(&mut self, action: GroupAction) -> Result<(), String> {
        let Some(chat @ ChatId::Group(group)) = self.ui.open.get_untracked() else {
            return Ok(());
        };
        let me = self.my_user().ok_or("not signed in")?;
        let (frame, kind, users) = match action {
            GroupAction::Add(name) => {
                let (user, username) = self.lookup(&name).await?;
                self.learn_name(user, username.as_str());
                let frame = ClientFrame::AddMembers {
                    request: RequestId::NONE,
                    group,
                    users: vec![user],
                };
                (frame, GroupEventKind::Added, vec![user])
            }
            GroupAction::Remove(user) => (
                ClientFrame::RemoveMember {
                    request: RequestId::NONE,
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
                (
                    ClientFrame::SetAdmin {
                        request: RequestId::NONE,
                        group,
                        user,
                        admin,
                    },
                    kind,
                    vec![user],
                )
            }
            GroupAction::Leave => {
                // Told while still a member, so the others can read it.
                self.announce(chat, GroupEventKind::Left, vec![me]).await?;
                let frame = ClientFrame::RemoveMember {
                    request: RequestId::NONE,
                    group,
                    user: me,
                };
                self.group_request(frame).await?;
                self.crypto()?.groups().forget(group);
                self.save().await?;
                if let Some(entry) = self.index.find(chat) {
                    entry.members.clear();
                }
                return self.save_index().await;
            }
        };
        let (_, members) = self.group_request(frame).await?;
        if let Some(entry) = self.index.find(chat) {
            entry.members = members;
        }
        self.save_index().await?;
        if kind == GroupEventKind::Removed {
            for user in &users {
                self.tell_removed(*user, group).await?;
            }
        }
        self.announce(chat, kind, users).await
    }

    /// Tells `user` (pairwise, not kept in any chat) that they were removed
    /// from `group`; their client checks with the server. If it cannot be
    /// sent now, they learn it when their next group send is refused.
    async fn tell_removed(&mut self, user: UserId, group: GroupId) -> Result<(), String> {
        let id = message_id()?;
        let plain = Plaintext(id, user, Content::Removed { group });
        let (crypto, mut directory) = self.keys()?;
        if let Ok(to) = flow::encrypt_for(crypto, &mut directory, &plain, now_ms()).await {
            self.socket.request(ClientFrame::Send {
                request: RequestId::NONE,
                id,
                to,
            });
        }
        self.save().await
    }

    /// Someone says this user was removed from `group`: if the server
    /// agrees, the chat says so and stops offering to write.
    pub(super) async fn on_removed(&mut self, id: MessageId, group: GroupId) -> Result<(), String> {
        let chat = ChatId::Group(group);
        if self.index.get(chat).is_none() {
            return Ok(());
        }
        match self.server().fetch_group(group).await {
            // Only the server's "no such group" counts (not a lost answer).
            Err(refusal) if refusal.code == ErrorCode::NotFound => {}
            _ => return Ok(()),
        }
        if let Some(entry) = self.index.find(chat) {
            entry.members.clear();
        }
        self.save_index().await?;
        let mut line = self.incoming(
            id,
            chat,
            None,
            Some("You were removed from the group".into()),
        );
        line.system = true;
        line.seen = true;
        self.arrived(line).await
    }

    /// Sends a group request; the group and its members after it.
    async fn group_request(
        &mut self,
        frame: ClientFrame,
    ) -> Result<(GroupId, Vec<(UserId, bool)>), String> {
        let answer = self.server().group_request(frame).await.map_err(text)?;
        Ok((answer.group, answer.members))
    }

    /// Tells the group about a change this user made, as a line of its own.
    async fn announce(
        &mut self,
        chat: ChatId,
        kind: GroupEventKind,
        users: Vec<UserId>,
    ) -> Result<(), String> {
        let name = self
            .index
            .get(chat)
            .map(|c| c.name.clone())
            .unwrap_or_default();
        let line = self.describe(None, kind, &users, &name);
        let mut message = self.outgoing(chat, line)?;
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
        }
    }

    /// Remembers `user`'s name, for senders and member lists.
    fn learn_name(&mut self, user: UserId, name: &str) {
        if self.index.name(user).is_none() {
            self.index.names.push((user, name.to_owned()));
            self.ui.names.update(|names| {
                names.insert(user, name.to_owned());
            });
        }
    }

    /// Fetches the group's members (and the names of new ones) and every
    /// member's device list again.
    pub(super) async fn refresh_group(&mut self, group: GroupId) -> Result<(), String> {
        let chat = ChatId::Group(group);
        let fetch = ClientFrame::FetchGroup {
            request: RequestId::NONE,
            group,
        };
        let members = match self.group_request(fetch).await {
            Ok((_, members)) => members,
            Err(err) => {
                if let Some(entry) = self.index.find(chat) {
                    entry.members.clear();
                }
                self.save_index().await?;
                return Err(format!("You are no longer in this group ({err})."));
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
        let (crypto, mut directory) = self.keys()?;
        for user in users {
            flow::refresh(crypto, &mut directory, user)
                .await
                .map_err(text)?;
        }
        self.save().await
    }

    /// Sends group message `id`: this device's sender key to the member
    /// devices lacking it, then the message, encrypted once.
    pub(super) async fn transmit_group(
        &mut self,
        id: MessageId,
        group: GroupId,
        content: Content,
    ) -> Result<(), String> {
        for _ in 0..STALE_ATTEMPTS {
            let Some(devices) = self.share_key(group).await? else {
                self.refresh_group(group).await?;
                continue;
            };
            let crypto = self.crypto()?;
            let payload = group_flow::encrypt_group(crypto, group, id, content).map_err(text)?;
            self.save().await?;
            let request = self.socket.request(ClientFrame::SendGroup {
                request: RequestId::NONE,
                id,
                group,
                devices: device_set_digest(&devices),
                payload,
            });
            self.in_flight.insert(request, id);
            return Ok(());
        }
        Err("The group's members keep changing; try again.".into())
    }

    /// Hands this device's sender key to every member device that lacks
    /// it; the member devices, or `None` if the server says they changed.
    async fn share_key(&mut self, group: GroupId) -> Result<Option<Vec<DeviceId>>, String> {
        let me = self.my_user();
        let chat = self
            .index
            .get(ChatId::Group(group))
            .ok_or("no such group")?;
        let members: Vec<UserId> = chat.members.iter().map(|(user, _)| *user).collect();
        if !members.iter().any(|user| Some(*user) == me) {
            return Err("You are not a member of this group.".into());
        }
        let name = Text::truncating(&chat.name);
        let (crypto, mut directory) = self.keys()?;
        let new_id = || message_id().unwrap_or_else(|_| MessageId::v7(now_ms(), [7; 10]));
        let plan = group_flow::prepare_group_send(
            crypto,
            &mut directory,
            group,
            &name,
            &members,
            now_ms(),
            new_id,
        )
        .await
        .map_err(text)?;
        self.save().await?;
        for batch in plan.shares {
            let devices = batch.devices();
            let frame = ClientFrame::Send {
                request: RequestId::NONE,
                id: batch.id,
                to: batch.to,
            };
            match self.server().deliver(frame).await {
                Ok(()) => self.crypto()?.groups().shared(group, &devices),
                Err(refusal) if refusal.code == ErrorCode::StaleDevices => return Ok(None),
                Err(refusal) => return Err(refusal.message),
            }
        }
        self.save().await?;
        Ok(Some(plan.devices))
    }

    /// A member's sender key arrived: a group new to this device shows up
    /// in the chat list with its members.
    pub(super) async fn on_group_key(&mut self, group: GroupId, name: &str) -> Result<(), String> {
        let chat = ChatId::Group(group);
        if self.index.get(chat).is_some() {
            return Ok(());
        }
        self.index.chat(chat, name);
        self.refresh_group(group).await
    }

    /// A group message arrived: a text, or a change told as a line.
    pub(super) async fn on_group_message(
        &mut self,
        id: MessageId,
        from: UserId,
        plain: GroupPlaintext,
    ) -> Result<(), String> {
        let chat = ChatId::Group(plain.1);
        let outgoing = self.my_user() == Some(from);
        let mut message = match plain.2 {
            Content::Text { text, reply_to } => {
                let mut message = self.incoming(id, chat, Some(from), Some(text.as_str().into()));
                message.reply_to = match reply_to {
                    Some(quoted) => history::message(&self.vault, chat, &quoted)
                        .await
                        .ok()
                        .flatten()
                        .map(|m| (quoted, m.text.unwrap_or_default())),
                    None => None,
                };
                message
            }
            Content::GroupEvent { kind, users, name } => {
                // The server's word on membership, whatever the event says.
                let _ = self.refresh_group(plain.1).await;
                if matches!(kind, GroupEventKind::Created | GroupEventKind::Renamed)
                    && let Some(entry) = self.index.find(chat)
                {
                    entry.name = name.as_str().to_owned();
                }
                let line = self.describe(Some(from), kind, &users, name.as_str());
                let mut message = self.incoming(id, chat, Some(from), Some(line));
                message.system = true;
                message.seen = true;
                message
            }
            content @ Content::Media { .. } => {
                let mut message = self.incoming(id, chat, Some(from), None);
                self.media_arrived(&mut message, content);
                message
            }
            _ => return Ok(()),
        };
        if outgoing {
            // A copy of what this user sent from another device.
            message.outgoing = true;
            message.seen = true;
            message.marks = self.group_marks(chat);
        }
        self.arrived(message.clone()).await?;
        self.auto_fetch(&message).await
    }
}

//! Group chats on a [`SecureDevice`]: the shipped core creates groups,
//! changes members, shares sender keys and sends; these helpers wait on what
//! it stored, and send raw group requests as probes.

use crate::secure::SecureDevice;
use courier_shared::client::Api;
use courier_shared::client::chat::{ChatId, Message};
use courier_shared::client::messenger::GroupAction;
use courier_shared::ids::{DeviceId, GroupId, MessageId, UserId};
use courier_shared::proto::{ClientFrame, ErrorCode};

/// A group as the server answered a request about it.
pub type GroupAnswer = (GroupId, u64, Vec<(UserId, bool)>);

/// A received group message: id, sender, and what the core stored.
pub type GroupReceived = (MessageId, (UserId, DeviceId), Message);

impl SecureDevice {
    /// Probe: sends a group request; the server's answer, or its refusal
    /// code.
    pub async fn group_request(&mut self, frame: ClientFrame) -> Result<GroupAnswer, ErrorCode> {
        match self.net().net.group_request(frame).await {
            Ok(answer) => Ok((answer.group, answer.version, answer.members)),
            Err(refusal) => Err(refusal.code),
        }
    }

    /// Creates a group named `name` with `members` and tells them.
    pub async fn create_group(&mut self, name: &str, members: &[UserId]) -> GroupId {
        let chat = self
            .core
            .create_group_of(name, members.to_vec())
            .await
            .expect("group created");
        let ChatId::Group(group) = chat else {
            panic!("a group chat");
        };
        self.settle_outbox().await;
        group
    }

    /// Applies a membership change (an admin's add, remove or promotion,
    /// or leaving) and tells the group, as the core does.
    pub async fn change_group(
        &mut self,
        group: GroupId,
        action: GroupAction,
    ) -> Result<(), String> {
        self.core
            .change_group(group, action)
            .await
            .map_err(|err| err.to_string())?;
        self.settle_outbox().await;
        Ok(())
    }

    /// Waits until everything in the outbox was accepted.
    async fn settle_outbox(&mut self) {
        self.until(|this| this.core.index().pending_messages().is_empty())
            .await;
    }

    /// The members of `group` as this device knows them.
    pub fn group_users(&self, group: GroupId) -> Vec<UserId> {
        self.core
            .members(ChatId::Group(group))
            .into_iter()
            .map(|(user, _)| user)
            .collect()
    }

    /// The name of `group` as this device knows it.
    pub fn group_name(&self, group: GroupId) -> String {
        self.core
            .chats()
            .iter()
            .find(|c| c.chat == ChatId::Group(group))
            .map(|c| c.name.clone())
            .unwrap_or_default()
    }

    /// Asks the server for `group`'s members and fetches every member's
    /// device list again.
    pub async fn refresh_group(&mut self, group: GroupId) {
        self.core
            .refresh_group(group)
            .await
            .expect("group refreshed");
    }

    /// Sends `text` to `group` through the core; the id once accepted.
    pub async fn send_group_text(&mut self, group: GroupId, text: &str) -> MessageId {
        self.send_to(ChatId::Group(group), text).await
    }

    /// The next group message the core took in (an event line or a text);
    /// panics on anything that does not decrypt.
    pub async fn next_group_message(&mut self) -> GroupReceived {
        loop {
            let (id, from, message) = self.next_message().await;
            let message = message.expect("decrypts");
            if message.chat.group().is_some() {
                return (id, from, message);
            }
        }
    }

    /// The next group text message: (id, sender, group, text). Event lines
    /// on the way are skipped.
    pub async fn next_group_text(&mut self) -> (MessageId, UserId, GroupId, String) {
        loop {
            let (id, from, message) = self.next_group_message().await;
            if let (false, Some(group)) = (message.system, message.chat.group()) {
                return (id, from.0, group, message.text.unwrap_or_default());
            }
        }
    }
}

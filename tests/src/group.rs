//! Group chats on a [`SecureDevice`]: membership requests, and sending and
//! receiving with sender keys through the shared [`group_flow`] — the same
//! steps the web client takes.

use crate::device::new_message_id;
use crate::secure::{Directory, GroupState, SecureDevice, unix_ms};
use courier_shared::client::Api;
use courier_shared::crypto::content::{Content, GroupEventKind, GroupName};
use courier_shared::crypto::group::GroupPlaintext;
use courier_shared::crypto::group_flow::{self, Incoming};
use courier_shared::crypto::{CryptoError, flow};
use courier_shared::ids::{DeviceId, GroupId, MessageId, RequestId, UserId};
use courier_shared::proto::{ClientFrame, ErrorCode, Text, device_set_digest};

/// A group as the server answered a request about it.
pub type GroupAnswer = (GroupId, u64, Vec<(UserId, bool)>);

/// A received group message.
pub type GroupReceived = (MessageId, (UserId, DeviceId), GroupPlaintext);

impl SecureDevice {
    /// Sends a group request; the server's answer, or its refusal code.
    pub async fn group_request(&mut self, frame: ClientFrame) -> Result<GroupAnswer, ErrorCode> {
        match self.net.net.group_request(frame).await {
            Ok(answer) => Ok((answer.group, answer.version, answer.members)),
            Err(refusal) => Err(refusal.code),
        }
    }

    /// Creates a group named `name` with `members` and tells them.
    pub async fn create_group(&mut self, name: &str, members: &[UserId]) -> GroupId {
        let frame = ClientFrame::CreateGroup {
            request: RequestId::NONE,
            members: members.to_vec(),
        };
        let (group, _, members) = self.group_request(frame).await.expect("group created");
        let name = Text::truncating(name);
        self.groups.insert(
            group,
            GroupState {
                name: name.clone(),
                members,
            },
        );
        let users = self.group_users(group);
        self.send_group(group, event(GroupEventKind::Created, users, &name))
            .await;
        group
    }

    /// Applies a membership change (an admin's add, remove or promotion, or
    /// leaving) and tells the group, as a member who made it would.
    pub async fn change_group(
        &mut self,
        group: GroupId,
        frame: ClientFrame,
        kind: GroupEventKind,
        users: Vec<UserId>,
    ) -> Result<(), ErrorCode> {
        let (_, _, members) = self.group_request(frame).await?;
        let state = self.groups.get_mut(&group).expect("known group");
        state.members = members;
        let name = state.name.clone();
        if kind != GroupEventKind::Left {
            self.send_group(group, event(kind, users, &name)).await;
        }
        Ok(())
    }

    /// The members of `group` as this device knows them.
    pub fn group_users(&self, group: GroupId) -> Vec<UserId> {
        self.groups
            .get(&group)
            .map(|g| g.members.iter().map(|(user, _)| *user).collect())
            .unwrap_or_default()
    }

    /// Asks the server for `group`'s members and fetches every member's
    /// device list again, as after a send refused as stale.
    pub async fn refresh_group(&mut self, group: GroupId) {
        let (_, _, members) = self
            .group_request(ClientFrame::FetchGroup {
                request: RequestId::NONE,
                group,
            })
            .await
            .expect("group fetched");
        self.groups.get_mut(&group).expect("known group").members = members;
        for user in self.group_users(group) {
            flow::refresh(&mut self.crypto, &mut Directory(&mut self.net), user)
                .await
                .expect("list refreshed");
        }
    }

    /// Sends `content` to `group`: key shares first where needed, then the
    /// message, encrypted once. Retries after refreshing when the server
    /// says the members or their devices changed.
    pub async fn send_group(&mut self, group: GroupId, content: Content) -> MessageId {
        let id = new_message_id();
        loop {
            let state = self.groups.get(&group).expect("known group").clone();
            let members = self.group_users(group);
            let plan = group_flow::prepare_group_send(
                &mut self.crypto,
                &mut Directory(&mut self.net),
                group,
                &state.name,
                &members,
                unix_ms(),
                new_message_id,
            )
            .await
            .expect("send planned");
            let mut refused = None;
            for batch in &plan.shares {
                let frame = ClientFrame::Send {
                    request: RequestId::NONE,
                    id: batch.id,
                    to: batch.to.clone(),
                };
                match self.outcome(batch.id, frame).await {
                    None => self.crypto.groups().shared(group, &batch.devices()),
                    Some(code) => {
                        refused = Some(code);
                        break;
                    }
                }
            }
            if refused.is_none() {
                let payload =
                    group_flow::encrypt_group(&mut self.crypto, group, id, content.clone())
                        .expect("encrypts");
                let frame = ClientFrame::SendGroup {
                    request: RequestId::NONE,
                    id,
                    group,
                    devices: device_set_digest(&plan.devices),
                    payload,
                };
                refused = self.outcome(id, frame).await;
            }
            match refused {
                None => return id,
                Some(ErrorCode::StaleDevices) => {
                    self.stale_retries += 1;
                    self.refresh_group(group).await;
                }
                Some(code) => panic!("group send refused: {code:?}"),
            }
        }
    }

    /// Sends `text` to `group`.
    pub async fn send_group_text(&mut self, group: GroupId, text: &str) -> MessageId {
        let content = Content::Text {
            text: Text::truncating(text),
            reply_to: None,
        };
        self.send_group(group, content).await
    }

    /// Sends `frame` (a send with id `id`); `None` once accepted, else the
    /// refusal code. Transient refusals are waited out and sent again.
    async fn outcome(&mut self, id: MessageId, frame: ClientFrame) -> Option<ErrorCode> {
        loop {
            self.net.send(frame.clone()).await;
            match self.net.outcome(id).await {
                Ok(()) => return None,
                Err(ErrorCode::RateLimited | ErrorCode::Internal) => {
                    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
                }
                Err(code) => return Some(code),
            }
        }
    }

    /// The next message, pairwise or group, decrypted (or why not). Sender
    /// keys are taken in, and groups learnt of, on the way.
    pub async fn next_incoming(
        &mut self,
    ) -> (MessageId, (UserId, DeviceId), Result<Incoming, CryptoError>) {
        let (id, from, _, payload) = self.next_raw().await;
        self.last_payload = Some(payload.clone());
        let incoming = group_flow::receive(
            &mut self.crypto,
            &mut Directory(&mut self.net),
            from,
            id,
            payload.as_bytes(),
            unix_ms(),
        )
        .await;
        if let Ok(Incoming::Direct(plain)) = &incoming
            && let Content::GroupKey { group, name, .. } = &plain.2
            && !self.groups.contains_key(group)
        {
            self.groups.insert(
                *group,
                GroupState {
                    name: name.clone(),
                    members: Vec::new(),
                },
            );
        }
        (id, from, incoming)
    }

    /// The next group message, skipping sender-key shares; panics on
    /// anything that does not decrypt.
    pub async fn next_group_message(&mut self) -> GroupReceived {
        loop {
            let (id, from, incoming) = self.next_incoming().await;
            match incoming.expect("decrypts") {
                Incoming::Group(plain) => return (id, from, plain),
                Incoming::Direct(plain) if matches!(plain.2, Content::GroupKey { .. }) => {}
                Incoming::Direct(other) => panic!("expected a group message, got {other:?}"),
            }
        }
    }

    /// The next group text message: (id, sender, group, text). Group events
    /// on the way are skipped.
    pub async fn next_group_text(&mut self) -> (MessageId, UserId, GroupId, String) {
        loop {
            let (id, from, plain) = self.next_group_message().await;
            if let Content::Text { text, .. } = plain.2 {
                return (id, from.0, plain.1, text.as_str().to_owned());
            }
        }
    }
}

/// A group event of `kind` about `users`.
pub fn event(kind: GroupEventKind, users: Vec<UserId>, name: &GroupName) -> Content {
    Content::GroupEvent {
        kind,
        users,
        name: name.clone(),
    }
}
